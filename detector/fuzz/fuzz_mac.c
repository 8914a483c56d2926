/*
 * fuzz_mac - libFuzzer harness for Macintosh files: the input is read as
 * BinHex 4.0 text (an application/mac-binhex40 part) and as AppleSingle or
 * AppleDouble. Seeds: files written by macutils' binhex, and AppleSingle
 * and AppleDouble files as t/69 writes them.
 */
#include "fuzz_det.h"

static void fuzz_one(struct det_scan *sc, const char *data, size_t size)
{
	detector_binhex_scan(sc, data, size, 1, 1);
	detector_applefile_scan(sc, data, size, 1, "fuzz.as");
}
