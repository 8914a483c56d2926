/*
 * fuzz_office - libFuzzer harness for the text of Office Open XML and
 * OpenDocument parts (detector_office_xml: paragraphs, tables), and for
 * an xlsx worksheet over a table of shared strings (detector_sheet.c):
 * the input up to "</sst>" is a sharedStrings part, the rest a sheet.
 * Then the matcher over each text.
 */
#include "fuzz_det.h"

static void fuzz_one(struct det_scan *sc, const char *data, size_t size)
{
	struct buf text;
	struct det_sst sst;
	const char *cut = memmem(data, size, "</sst>", 6);
	size_t split = cut ? (size_t) (cut - data) + 6 : 0;

	buf_init(&text, 64);
	detector_office_xml(data, size, &text, size + 16);
	if (text.len > size + 16 || text.data[text.len] != 0)
		abort();
	detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
	/* the grid, its shared strings from the front of the input */
	buf_reset(&text);
	if (detector_sst_load(&sst, data, split) > split)
		abort();
	if (detector_xlsx_sheet(data + split, size - split, &sst, &text, 4 * size + 64) == 0
	    && text.len > 4 * size + 64)
		abort();
	if (text.data[text.len] != 0)
		abort();
	detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
	buf_reset(&text);
	detector_sst_unused(&sst, &text);
	detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
	detector_sst_free(&sst);
	buf_free(&text);
}
