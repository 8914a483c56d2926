/*
 * fuzz_office - libFuzzer harness for the text of Office Open XML and
 * OpenDocument parts (detector_office_xml), then the matcher over it
 */
#include "fuzz_det.h"

static void fuzz_one(struct det_scan *sc, const char *data, size_t size)
{
	struct buf text;

	buf_init(&text, 64);
	detector_office_xml(data, size, &text, size + 16);
	if (text.len > size + 16 || text.data[text.len] != 0)
		abort();
	detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
	buf_free(&text);
}
