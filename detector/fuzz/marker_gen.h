/*
 * marker_gen - messages with a marker word hidden in a random container tree
 *
 * marker_message() writes a whole message: a random tree of MIME
 * multiparts (mixed, alternative, related, digest; preambles, epilogues,
 * a missing closing delimiter now and then), attached messages (inline or
 * base64), transfer encodings (7bit, base64, quoted-printable), charsets
 * (UTF-8, ISO-8859-1, UTF-16 with a byte-order mark), HTML (the word split
 * by elements or character references, or in an attribute or a comment),
 * archives (zip, tar, tar.gz, 7z, gzip), Office and OpenDocument files
 * (docx with the word split over runs, xlsx shared strings, odt, a docx
 * with an embedded file), PDFs (plain or Flate content streams, the word
 * in one Tj, split in a TJ array, or in the document title) and .eml files
 * in archives. MARKER_WORD stands at one spot of that tree, chosen at
 * random; path describes where ("multipart/mixed > zip a.zip > ...").
 *
 * The choices come from a marker_rand: the bytes of a fuzzer's input
 * first, then a generator seeded from them, so that every input makes a
 * valid message and a mutation of the input changes the tree. The
 * detector's property (fuzz_marker.c, t/unit/unit_marker.c): the word is
 * found, or the message is marked unscannable.
 */
#ifndef DLP_MARKER_GEN_H
#define DLP_MARKER_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define MARKER_WORD     "quokkazest"
#define MARKER_PATH_MAX 512

struct marker_rand {
	const uint8_t *in; /* choices, while they last */
	size_t len, pos;
	uint64_t state; /* then a splitmix64 sequence */
};

void marker_rand_init(struct marker_rand *r, const uint8_t *in, size_t len, uint64_t seed);
unsigned marker_pick(struct marker_rand *r, unsigned n);
void marker_message(struct marker_rand *r, struct buf *msg, char *path, size_t pathlen);

struct det_policyset;
extern const char marker_policies[];
int marker_scan(const struct det_policyset *ps, const char *msg, size_t len, char *why,
		size_t whylen);

#endif
