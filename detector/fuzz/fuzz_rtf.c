/*
 * fuzz_rtf - libFuzzer harness for RTF (text, \uN, \'hh, destinations,
 * embedded objects) and Outlook's compressed RTF: the input is read both
 * as RTF and as compressed RTF, whose output is read as RTF in turn
 */
#include "fuzz_det.h"

static void fuzz_one(struct det_scan *sc, const char *data, size_t size)
{
	struct buf rtf;

	detector_rtf_scan(sc, data, size, DET_W_ATTACH, 1, "fuzz.rtf");
	buf_init(&rtf, 64);
	if (detector_rtf_decompress(data, size, &rtf, 1 << 20) == 0) {
		if (rtf.len > 1 << 20)
			abort();
		detector_rtf_scan(sc, rtf.data, rtf.len, DET_W_ATTACH, 1, "fuzz.msg");
	}
	buf_free(&rtf);
}
