/*
 * detector_mac - Macintosh files in mail: BinHex 4.0, AppleSingle and
 * AppleDouble
 *
 * detector_binhex_scan() finds BinHex 4.0 files in text (a line "(This
 * file must be converted with BinHex 4.0)", or any "(This file must be
 * converted..." line as other encoders write it, then the data between
 * two colons), as Thunderbird shows them: attachments. An
 * application/mac-binhex40 part is one such file, its header line
 * optional. Each is decoded (the 6-bit alphabet, then the run-length
 * encoding, 0x90), its header read (name, type, creator, fork lengths),
 * its name noted for attachment rules, its data fork given to the dispatch
 * and its resource fork read for strings. CRCs are not checked: a reader
 * that shows the file anyway shows what is scanned.
 *
 * detector_applefile_scan() reads AppleSingle (application/applefile
 * holding a whole file) and AppleDouble (its header file, the resource
 * fork and Finder data, beside the data fork in multipart/appledouble,
 * which the MIME walker reads as any multipart): the real name is noted,
 * the data fork goes to the dispatch, every other entry gives its strings.
 *
 * Bounds: the decoded bytes count against detector_decoded_size_limit
 * (a run-length encoding that grows past it is cut, and noted); fork
 * lengths and entries are checked against the bytes there are: a file that
 * breaks off is named in the reason ("broken BinHex file x (...)"), and
 * what it holds is scanned as far as it goes. At most MAC_BLOCKS BinHex
 * files are read in one text part.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "detector.h"

#define MAC_BLOCKS        100 /* BinHex files read in one text part */
#define BINHEX_TAG        "(This file must be converted"
#define APPLE_ENTRIES_MAX 1000 /* entries of an AppleSingle file */

static const char binhex_alpha[] =
	"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";

/* be16, be32 - big-endian fields */
static unsigned be16(const unsigned char *p)
{
	return (unsigned) p[0] << 8 | p[1];
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

/* budget - decoded bytes left for this message */
static size_t budget(const struct det_scan *sc)
{
	size_t lim = (size_t) var_detector_decoded_size_limit;

	return sc->decoded >= lim ? 0 : lim - sc->decoded;
}

/* put_run - one decoded byte through the run-length decoding (0x90 n) */
static int put_run(struct buf *out, unsigned char c, int *marker, size_t limit)
{
	if (*marker) {
		*marker = 0;
		if (c == 0)
			buf_putc(out, 0x90);
		else if (out->len > 0) {
			unsigned char last = (unsigned char) out->data[out->len - 1];

			for (unsigned k = 1; k < c; k++) {
				if (out->len >= limit)
					return -1;
				buf_putc(out, last);
			}
		}
	} else if (c == 0x90)
		*marker = 1;
	else
		buf_putc(out, c);
	return out->len > limit ? -1 : 0;
}

/* binhex_decode - the data between the colons into out, up to limit bytes;
 * the position past the closing colon (or the end); *cut when the limit
 * was reached, *closed when the closing colon was found */
static size_t binhex_decode(const char *in, size_t len, struct buf *out, size_t limit, int *cut,
			    int *closed)
{
	static signed char val[256];
	static int ready;
	uint32_t acc = 0;
	int bits = 0, marker = 0;
	size_t i;

	if (!ready) {
		memset(val, -1, sizeof(val));
		for (int k = 0; binhex_alpha[k]; k++)
			val[(unsigned char) binhex_alpha[k]] = (signed char) k;
		ready = 1;
	}
	*cut = *closed = 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char) in[i];

		if (c == ':') {
			*closed = 1;
			return i + 1;
		}
		if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
			continue;
		if (val[c] < 0)
			break; /* not BinHex: the file ends here */
		acc = acc << 6 | (uint32_t) val[c];
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (put_run(out, (unsigned char) (acc >> bits), &marker, limit) < 0) {
				*cut = 1;
				return len;
			}
		}
	}
	return i;
}

/* binhex_file - one decoded BinHex file: header, data fork, resource fork */
static void binhex_file(struct det_scan *sc, const unsigned char *d, size_t n, int depth,
			const char *where)
{
	char name[64];
	size_t h, dlen, rlen;
	const char *sniffed;
	struct buf text;

	if (n < 1 || n < (size_t) d[0] + 22) {
		detector_unscannable(sc, "broken BinHex file in %s (header cut short)", where);
		buf_init(&text, n + 16);
		detector_strings((const char *) d, n, &text);
		detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
		buf_free(&text);
		return;
	}
	snprintf(name, sizeof(name), "%.*s", (int) d[0], (const char *) d + 1);
	h = (size_t) d[0] + 1;
	/* version, type, creator, flags; then the fork lengths and the header CRC */
	dlen = be32(d + h + 11);
	rlen = be32(d + h + 15);
	h += 21;
	if (dlen > n - h) {
		detector_unscannable(sc, "broken BinHex file %s in %s (data fork cut)", name,
				     where);
		dlen = n - h;
	}
	sniffed = dlen ? detector_sniff((const char *) d + h, dlen) : "empty";
	detector_note_attachment(sc, name, sniffed);
	sc->content_name = name;
	detector_content_scan(sc, (const char *) d + h, dlen, "application/octet-stream", NULL,
			      DET_W_ATTACH, depth, sniffed);
	sc->content_name = NULL;
	h += dlen;
	h = n - h >= 2 ? h + 2 : n; /* the data fork's CRC */
	if (rlen > n - h) {
		if (rlen != 0)
			detector_unscannable(sc,
					     "broken BinHex file %s in %s (resource fork cut)",
					     name, where);
		rlen = n - h;
	}
	buf_init(&text, rlen + 16);
	detector_strings((const char *) d + h, rlen, &text);
	detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
	buf_free(&text);
}

/* binhex_at - decode and scan the BinHex file whose data starts at d[at]
 * (its opening colon); the position past it */
static size_t binhex_at(struct det_scan *sc, const char *d, size_t n, size_t at, int depth,
			const char *where)
{
	struct buf dec;
	size_t left = budget(sc), end;
	int cut, closed;

	buf_init(&dec, 4096);
	end = at + 1 + binhex_decode(d + at + 1, n - at - 1, &dec, left, &cut, &closed);
	if (cut)
		detector_scan_limit(sc, "decoded size");
	else if (!closed)
		detector_unscannable(sc, "broken BinHex file in %s (no closing colon)", where);
	if (dec.len > left)
		dec.len = left;
	sc->decoded += dec.len;
	if (++sc->parts > (unsigned) var_detector_part_limit)
		detector_scan_limit(sc, "parts");
	else
		binhex_file(sc, (const unsigned char *) dec.data, dec.len, depth, where);
	buf_free(&dec);
	return end;
}

/* detector_binhex_scan - BinHex files in text (whole: the text is one, an
 * application/mac-binhex40 part, whose header line may be missing) */
void detector_binhex_scan(struct det_scan *sc, const char *d, size_t n, int depth, int whole)
{
	const char *where = sc->label ? sc->label : "the message";
	size_t pos = 0;

	for (int blocks = 0; blocks < MAC_BLOCKS && pos < n; blocks++) {
		const char *tag = memmem(d + pos, n - pos, BINHEX_TAG, sizeof(BINHEX_TAG) - 1);
		size_t at;

		if (tag == NULL && !(whole && blocks == 0))
			return;
		at = tag ? (size_t) (tag - d) : pos;
		/* the data starts with a colon at the start of a line */
		for (;;) {
			const char *colon = memchr(d + at, ':', n - at);

			if (colon == NULL)
				return;
			at = (size_t) (colon - d);
			if (at == 0 || d[at - 1] == '\n' || d[at - 1] == '\r')
				break;
			at++;
		}
		pos = binhex_at(sc, d, n, at, depth, where);
		if (detector_scan_expired(sc))
			return;
	}
	if (pos < n && memmem(d + pos, n - pos, BINHEX_TAG, sizeof(BINHEX_TAG) - 1))
		detector_unscannable(sc, "over %d BinHex files in %s", MAC_BLOCKS, where);
}

/* detector_applefile_scan - AppleSingle or AppleDouble: the data fork to the
 * dispatch, the real name noted, every other entry's strings */
void detector_applefile_scan(struct det_scan *sc, const char *data, size_t len, int depth,
			     const char *name)
{
	const unsigned char *d = (const unsigned char *) data;
	unsigned nent;
	char real[256] = "";
	struct buf text;

	if (depth > var_detector_depth_limit) {
		detector_scan_limit(sc, "depth");
		return;
	}
	if (len < 26 || (nent = be16(d + 24)) > (len - 26) / 12 || nent > APPLE_ENTRIES_MAX) {
		detector_unscannable(sc, "broken AppleSingle/AppleDouble file %s (%s)", name,
				     len < 26 ? "header cut short" : "more entries than bytes");
		buf_init(&text, len + 16);
		detector_strings(data, len, &text);
		detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
		buf_free(&text);
		return;
	}
	/* the real name first: it names the data fork */
	for (unsigned i = 0; i < nent; i++) {
		const unsigned char *e = d + 26 + 12 * i;
		uint32_t off = be32(e + 4), n = be32(e + 8);

		if (be32(e) == 3 && off <= len && n <= len - off)
			snprintf(real, sizeof(real), "%.*s", (int) n, data + off);
	}
	if (*real)
		detector_note_attachment(sc, real, "applefile");
	buf_init(&text, 1024);
	for (unsigned i = 0; i < nent && !detector_scan_expired(sc); i++) {
		const unsigned char *e = d + 26 + 12 * i;
		uint32_t id = be32(e), off = be32(e + 4), n = be32(e + 8);

		if (off > len || n > len - off) {
			detector_unscannable(sc,
					     "broken AppleSingle/AppleDouble file %s (entry %u "
					     "past the end)",
					     name, id);
			n = off > len ? 0 : (uint32_t) (len - off);
			off = off > len ? (uint32_t) len : off;
		}
		if (id == 1 && n > 0) { /* the data fork: the file itself */
			const char *sniffed = detector_sniff(data + off, n);

			detector_note_attachment(sc, *real ? real : "", sniffed);
			sc->content_name = *real ? real : name;
			detector_content_scan(sc, data + off, n, "application/octet-stream",
					      NULL, DET_W_ATTACH, depth, sniffed);
			sc->content_name = NULL;
		} else if (id != 3)
			detector_strings(data + off, n, &text);
	}
	detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
	buf_free(&text);
}
