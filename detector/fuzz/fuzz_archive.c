/*
 * fuzz_archive - libFuzzer harness for archives: where a zip starts and
 * ends (its central directory, signatures past offset 0), every format
 * libarchive reads from memory, members through the whole dispatch
 */
#include "fuzz_det.h"

static void fuzz_one(struct det_scan *sc, const char *data, size_t size)
{
	sc->content_name = "fuzz.zip";
	if (!detector_archive_scan(sc, data, size, 1,
				   size ? detector_sniff(data, size) : "empty",
				   "application/zip"))
		detector_scan_unit(sc, DET_W_ATTACH, NULL, data, size);
}
