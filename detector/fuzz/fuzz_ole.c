/*
 * fuzz_ole - libFuzzer harness for compound files: the OLE2 reader, Word,
 * Excel and PowerPoint 97-2003 text, Outlook messages, embedded objects
 */
#include "fuzz_det.h"

static void fuzz_one(struct det_scan *sc, const char *data, size_t size)
{
	detector_ole_scan(sc, data, size, 1, "fuzz.doc");
}
