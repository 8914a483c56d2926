/*
 * fuzz_tnef - libFuzzer harness for TNEF (winmail.dat): attributes, MAPI
 * property lists, recipient tables, attachments, compressed RTF and HTML
 * bodies, attached messages (TNEF in TNEF)
 */
#include "fuzz_det.h"

static void fuzz_one(struct det_scan *sc, const char *data, size_t size)
{
	detector_tnef_scan(sc, data, size, DET_W_ATTACH, 1, "winmail.dat");
}
