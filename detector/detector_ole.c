/*
 * detector_ole - compound files (OLE2): Office 97-2003, Outlook, objects
 *
 * The reader (detector_ole.h): ole_open() checks the header, reads the
 * FAT through the header's and the DIFAT's sector lists, the mini FAT, the
 * directory and the mini stream, and links every directory entry to its
 * storage by walking the directory tree from the root once (each entry at
 * most once: a tree that points back into itself is cut, not followed).
 * Every sector number is checked against the file; a chain with more
 * links than the file has sectors is a loop, and its stream is broken.
 *
 * detector_ole_scan() is the dispatch's entry for a compound file:
 *
 *	encrypted Office documents (EncryptionInfo, EncryptedPackage: a
 *	password-protected docx or xlsx) cannot be read: unscannable
 *	Outlook messages			detector_msg_scan()
 *	Word, Excel, PowerPoint 97-2003		detector_legacy_scan() reads the
 *						document's text
 *	every other stream (objects, summary information, VBA projects,
 *	pictures, a package's native data): a container or a document
 *	(zip, OLE2, PDF, RTF...) goes back to the dispatch one level
 *	deeper; \001Ole10Native is unwrapped to the file it packages; VBA
 *	module source is decompressed; the rest yields its strings, 8-bit
 *	and UTF-16, which is what can be read of a binary.
 *
 * A stream that cannot be read whole (a broken chain, a loop) is named in
 * the reason, and what could be read is scanned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "detector.h"
#include "detector_ole.h"

#define OLE_MAGIC      "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#define OLE_DIRENT     128
#define OLE_MINI       64
#define OLE_STRING_MIN 4 /* the shortest run of characters kept */

/* le16, le32 - little-endian fields */
static unsigned le16(const unsigned char *p)
{
	return (unsigned) p[0] | (unsigned) p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
		| (uint32_t) p[3] << 24;
}

/* sector - the bytes of sector n, zero-padded at the end of the file; -1 if none */
static int sector(const struct ole *o, uint32_t n, unsigned char *out)
{
	size_t off = ((size_t) n + 1) * o->ssz;

	if (n >= o->nsect || off >= o->len)
		return -1;
	if (off + o->ssz <= o->len)
		memcpy(out, o->d + off, o->ssz);
	else {
		memcpy(out, o->d + off, o->len - off);
		memset(out + (o->len - off), 0, o->ssz - (o->len - off));
	}
	return 0;
}

/* chain - follow a FAT chain into out, up to limit bytes; -1 if broken */
static int chain(const struct ole *o, uint32_t s, struct buf *out, size_t limit)
{
	uint32_t steps = 0;

	buf_reserve(out, o->ssz);
	while (s != 0xfffffffeu && out->len < limit) { /* ENDOFCHAIN */
		if (s >= o->nfat || ++steps > o->nsect)
			return -1;
		buf_reserve(out, o->ssz);
		if (sector(o, s, (unsigned char *) out->data + out->len) < 0)
			return -1;
		out->len += o->ssz;
		s = o->fat[s];
	}
	if (out->len > limit)
		out->len = limit;
	out->data[out->len] = 0;
	return 0;
}

/* read_fat - the FAT, from the header's sector list and the DIFAT chain */
static int read_fat(struct ole *o, const unsigned char *h, char *err, size_t errlen)
{
	uint32_t nfatsect = le32(h + 0x2c), difat = le32(h + 0x44);
	uint32_t per = o->ssz / 4, got = 0, steps = 0;
	unsigned char *sec = xmalloc(o->ssz);

	if (nfatsect == 0 || nfatsect > o->nsect) {
		snprintf(err, errlen, "FAT of %u sectors in a file of %u", nfatsect, o->nsect);
		free(sec);
		return -1;
	}
	o->nfat = (size_t) nfatsect * per;
	o->fat = xmalloc(o->nfat * sizeof(uint32_t));
	/* the header holds the first 109 FAT sector numbers */
	for (unsigned i = 0; i < 109 && got < nfatsect; i++, got++) {
		if (sector(o, le32(h + 0x4c + 4 * i), sec) < 0)
			goto bad;
		for (uint32_t k = 0; k < per; k++)
			o->fat[(size_t) got * per + k] = le32(sec + 4 * k);
	}
	while (got < nfatsect) {
		unsigned char *list = xmalloc(o->ssz);

		if (++steps > o->nsect || sector(o, difat, list) < 0) {
			free(list);
			goto bad;
		}
		for (uint32_t i = 0; i + 1 < per && got < nfatsect; i++, got++) {
			if (sector(o, le32(list + 4 * i), sec) < 0) {
				free(list);
				goto bad;
			}
			for (uint32_t k = 0; k < per; k++)
				o->fat[(size_t) got * per + k] = le32(sec + 4 * k);
		}
		difat = le32(list + o->ssz - 4);
		free(list);
	}
	free(sec);
	return 0;
bad:
	snprintf(err, errlen, "FAT sector %u of %u unreadable", got, nfatsect);
	free(sec);
	return -1;
}

/* read_dir - the directory entries */
static int read_dir(struct ole *o, uint32_t first, int v3, char *err, size_t errlen)
{
	struct buf d;

	buf_init(&d, o->ssz);
	if (chain(o, first, &d, o->len) < 0 || d.len < OLE_DIRENT) {
		snprintf(err, errlen, "directory chain broken");
		buf_free(&d);
		return -1;
	}
	o->ndir = d.len / OLE_DIRENT;
	o->dir = xcalloc(o->ndir, sizeof(*o->dir));
	for (size_t i = 0; i < o->ndir; i++) {
		const unsigned char *e = (const unsigned char *) d.data + i * OLE_DIRENT;
		struct ole_entry *de = &o->dir[i];
		unsigned nlen = le16(e + 0x40);
		size_t j = 0;

		de->type = e[0x42];
		de->left = le32(e + 0x44);
		de->right = le32(e + 0x48);
		de->child = le32(e + 0x4c);
		de->start = le32(e + 0x74);
		de->size =
			(uint64_t) le32(e + 0x78) | (v3 ? 0 : (uint64_t) le32(e + 0x7c) << 32);
		de->parent = OLE_NONE;
		if (nlen > 64)
			nlen = 64;
		/* UTF-16LE; the names are short, and ASCII as a rule */
		for (unsigned k = 0; k + 1 < nlen && j + 4 < sizeof(de->name); k += 2) {
			unsigned c = le16(e + k);

			if (c == 0)
				break;
			if (c < 0x80)
				de->name[j++] = (char) c;
			else if (c < 0x800) {
				de->name[j++] = (char) (0xc0 | c >> 6);
				de->name[j++] = (char) (0x80 | (c & 0x3f));
			} else {
				de->name[j++] = (char) (0xe0 | c >> 12);
				de->name[j++] = (char) (0x80 | (c >> 6 & 0x3f));
				de->name[j++] = (char) (0x80 | (c & 0x3f));
			}
		}
		de->name[j] = 0;
	}
	buf_free(&d);
	if (o->dir[0].type != OLE_ROOT) {
		snprintf(err, errlen, "no root entry");
		return -1;
	}
	return 0;
}

/* link_tree - each entry's storage, walking from the root (each entry once) */
static void link_tree(struct ole *o)
{
	uint32_t *stack = xmalloc((o->ndir * 3 + 1) * sizeof(uint32_t));
	size_t n = 0;

	o->dir[0].used = 1;
	if (o->dir[0].child < o->ndir) {
		stack[n++] = o->dir[0].child;
		o->dir[o->dir[0].child].parent = 0;
	}
	while (n > 0) {
		uint32_t id = stack[--n];
		struct ole_entry *e = &o->dir[id];

		if (e->used || e->type == 0)
			continue;
		e->used = 1;
		/* siblings share the parent; children hang below a storage */
		if (e->left < o->ndir && !o->dir[e->left].used) {
			o->dir[e->left].parent = e->parent;
			stack[n++] = e->left;
		}
		if (e->right < o->ndir && !o->dir[e->right].used) {
			o->dir[e->right].parent = e->parent;
			stack[n++] = e->right;
		}
		if (e->type == OLE_STORAGE && e->child < o->ndir && !o->dir[e->child].used) {
			o->dir[e->child].parent = id;
			stack[n++] = e->child;
		}
		if (n + 3 > o->ndir * 3)
			break;
	}
	free(stack);
}

/* ole_open - read a compound file's structure; -1 with a reason */
int ole_open(struct ole *o, const char *d, size_t len, char *err, size_t errlen)
{
	const unsigned char *h = (const unsigned char *) d;
	unsigned shift;
	uint32_t mfirst, mcount;

	memset(o, 0, sizeof(*o));
	buf_init(&o->mini, 64);
	o->d = d;
	o->len = len;
	if (len < 512 || memcmp(d, OLE_MAGIC, 8) != 0) {
		snprintf(err, errlen, "not a compound file");
		return -1;
	}
	shift = le16(h + 0x1e);
	if ((shift != 9 && shift != 12) || le16(h + 0x20) != 6) {
		snprintf(err, errlen, "sector size 2^%u", shift);
		return -1;
	}
	o->ssz = 1u << shift;
	if (len <= o->ssz) {
		snprintf(err, errlen, "no sectors");
		return -1;
	}
	o->nsect = (uint32_t) ((len - o->ssz + o->ssz - 1) / o->ssz);
	o->cutoff = le32(h + 0x38);
	if (read_fat(o, h, err, errlen) < 0
	    || read_dir(o, le32(h + 0x30), le16(h + 0x1a) == 3, err, errlen) < 0)
		return -1;
	link_tree(o);
	/* the mini FAT and the mini stream (the root entry's data) */
	mfirst = le32(h + 0x3c);
	mcount = le32(h + 0x40);
	if (mcount > 0 && mcount <= o->nsect) {
		struct buf m;

		buf_init(&m, o->ssz);
		if (chain(o, mfirst, &m, (size_t) mcount * o->ssz) == 0) {
			o->nminifat = m.len / 4;
			o->minifat = xmalloc((o->nminifat + 1) * sizeof(uint32_t));
			for (size_t i = 0; i < o->nminifat; i++)
				o->minifat[i] = le32((const unsigned char *) m.data + 4 * i);
		}
		buf_free(&m);
		if (o->dir[0].size > 0)
			(void) chain(o, o->dir[0].start, &o->mini,
				     o->dir[0].size < len ? (size_t) o->dir[0].size : len);
	}
	return 0;
}

/* ole_close - let go of a compound file */
void ole_close(struct ole *o)
{
	free(o->fat);
	free(o->minifat);
	free(o->dir);
	buf_free(&o->mini);
	memset(o, 0, sizeof(*o));
}

/* ole_read - a stream's bytes, up to limit: 0 whole, 1 cut at limit, -1 broken */
int ole_read(struct ole *o, uint32_t id, struct buf *out, size_t limit)
{
	const struct ole_entry *e;
	size_t want;

	buf_reset(out);
	if (id >= o->ndir || o->dir[id].type != OLE_STREAM)
		return -1;
	e = &o->dir[id];
	want = e->size < limit ? (size_t) e->size : limit;
	if (e->size < o->cutoff) {
		uint32_t s = e->start, steps = 0, nmini = (uint32_t) (o->mini.len / OLE_MINI);

		buf_reserve(out, want + OLE_MINI);
		while (out->len < want) {
			if (s >= o->nminifat || s >= nmini || ++steps > nmini)
				return -1;
			buf_append(out, o->mini.data + (size_t) s * OLE_MINI, OLE_MINI);
			s = o->minifat[s];
		}
	} else if (chain(o, e->start, out, want) < 0)
		return -1;
	if (out->len < want)
		return -1;
	out->len = want;
	out->data[out->len] = 0;
	return e->size > limit ? 1 : 0;
}

/* ole_child - the entry of that name in a storage (0: the root), or OLE_NONE */
uint32_t ole_child(const struct ole *o, uint32_t storage, const char *name)
{
	for (uint32_t i = 1; i < o->ndir; i++)
		if (o->dir[i].used && o->dir[i].parent == storage
		    && strcasecmp(o->dir[i].name, name) == 0)
			return i;
	return OLE_NONE;
}

/* ---- what a compound file holds ---------------------------------------- */

/* put_utf8 - a BMP code point as UTF-8 */
static void put_utf8(struct buf *out, unsigned u)
{
	if (u < 0x80)
		buf_putc(out, (int) u);
	else if (u < 0x800) {
		buf_putc(out, 0xc0 | (int) (u >> 6));
		buf_putc(out, 0x80 | (int) (u & 0x3f));
	} else {
		buf_putc(out, 0xe0 | (int) (u >> 12));
		buf_putc(out, 0x80 | (int) (u >> 6 & 0x3f));
		buf_putc(out, 0x80 | (int) (u & 0x3f));
	}
}

/* text16 - a UTF-16 code unit that belongs in text (no controls, no surrogates) */
static int text16(unsigned c)
{
	return (c >= 0x20 && c < 0x7f) || c == '\t' || (c >= 0xa0 && c < 0xd800)
		|| (c >= 0xe000 && c < 0xfffe);
}

/* detector_strings - runs of 8-bit and UTF-16LE text in binary data, a line each */
void detector_strings(const char *data, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *) data;
	size_t run = 0;

	/* 8-bit: ASCII and Latin-1 letters (Windows-1252 text) */
	for (size_t i = 0; i <= len; i++) {
		if (i < len
		    && ((p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\t'
			|| (p[i] >= 0xc0 && p[i] < 0xff))) {
			run++;
			continue;
		}
		if (run >= OLE_STRING_MIN) {
			for (size_t k = i - run; k < i; k++)
				put_utf8(out, p[k]);
			buf_putc(out, '\n');
		}
		run = 0;
	}
	/* UTF-16LE, at both alignments */
	for (size_t a = 0; a < 2; a++) {
		run = 0;
		for (size_t i = a; i < len + 2; i += 2) {
			if (i + 1 < len && text16(le16(p + i))) {
				run++;
				continue;
			}
			if (run >= OLE_STRING_MIN) {
				size_t latin = 0;

				for (size_t k = i - 2 * run; k < i; k += 2)
					latin += p[k + 1] == 0;
				/* 8-bit text read as UTF-16 is all CJK: keep Latin text and long runs */
				if (latin * 2 >= run || run >= 16) {
					for (size_t k = i - 2 * run; k < i; k += 2)
						put_utf8(out, le16(p + k));
					buf_putc(out, '\n');
				}
			}
			run = 0;
		}
	}
	out->data[out->len] = 0;
}

/* ovba_bits - the offset bits of a copy token, by the chunk's position */
static unsigned ovba_bits(size_t d)
{
	unsigned n = 4;

	while (n < 12 && ((size_t) 1 << n) < d)
		n++;
	return n;
}

/* detector_ovba_decompress - a VBA compressed container (MS-OVBA 2.4.1); -1 if not */
int detector_ovba_decompress(const char *in, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *) in;
	size_t i = 1;

	if (len < 3 || p[0] != 1)
		return -1;
	while (i + 2 <= len) {
		unsigned hdr = le16(p + i);
		size_t csize = (hdr & 0x0fff) + 3, end = i + csize < len ? i + csize : len;
		size_t start = out->len;

		if (((hdr >> 12) & 7) != 3)
			return out->len ? 0 : -1;
		i += 2;
		if (!(hdr & 0x8000)) { /* stored: 4096 bytes as they are */
			size_t n = end - i < 4096 ? end - i : 4096;

			buf_append(out, p + i, n);
			i = end;
			continue;
		}
		while (i < end) {
			unsigned flags = p[i++];

			for (int t = 0; t < 8 && i < end; t++) {
				if (!(flags >> t & 1)) {
					buf_putc(out, p[i++]);
					continue;
				}
				if (i + 2 > end)
					return 0;
				{
					unsigned tok = le16(p + i),
						 bits = ovba_bits(out->len - start);
					unsigned lmask = 0xffffu >> bits;
					size_t length = (tok & lmask) + 3;
					size_t off =
						((tok & ~lmask & 0xffff) >> (16 - bits)) + 1;

					i += 2;
					if (off > out->len - start
					    || out->len - start + length > 4096)
						return 0;
					for (size_t k = 0; k < length; k++)
						buf_putc(out, out->data[out->len - off]);
				}
			}
		}
	}
	out->data[out->len] = 0;
	return 0;
}

/* cstr - a NUL-terminated string at p[*i], within len; NULL if none */
static const char *cstr(const char *p, size_t len, size_t *i)
{
	const char *s = p + *i, *nul = *i < len ? memchr(s, 0, len - *i) : NULL;

	if (nul == NULL)
		return NULL;
	*i = (size_t) (nul - p) + 1;
	return s;
}

/* detector_ole_package - an OLE1 Package: the file it wraps, by its name */
void detector_ole_package(struct det_scan *sc, const char *d, size_t len, int depth,
			  const char *name)
{
	size_t i = 2;
	const char *label, *path;
	uint32_t tlen, dlen;

	if (len < 2 || (label = cstr(d, len, &i)) == NULL || (path = cstr(d, len, &i)) == NULL
	    || i + 8 > len)
		goto raw;
	detector_scan_unit(sc, DET_W_ATTACH, NULL, path, strlen(path));
	tlen = le32((const unsigned char *) d + i + 4);
	i += 8;
	if (tlen > len - i || len - i - tlen < 4)
		goto raw;
	i += tlen;
	dlen = le32((const unsigned char *) d + i);
	i += 4;
	if (dlen > len - i)
		goto raw;
	detector_note_attachment(sc, label, dlen ? detector_sniff(d + i, dlen) : "empty");
	sc->content_name = label;
	detector_content_scan(sc, d + i, dlen, "application/octet-stream", NULL, DET_W_ATTACH,
			      depth, dlen ? detector_sniff(d + i, dlen) : "empty");
	sc->content_name = NULL;
	return;
raw:
	sc->content_name = name;
	detector_content_scan(sc, d, len, "application/octet-stream", NULL, DET_W_ATTACH, depth,
			      detector_sniff(d, len));
	sc->content_name = NULL;
}

/* budget - decoded bytes left for this message */
static size_t budget(const struct det_scan *sc)
{
	size_t lim = (size_t) var_detector_decoded_size_limit;

	return sc->decoded >= lim ? 0 : lim - sc->decoded;
}

/* detector_ole_stream - a stream's bytes within the budget; -1 noted as broken */
int detector_ole_stream(struct det_scan *sc, struct ole *o, uint32_t id, struct buf *out,
			const char *name)
{
	int rc = ole_read(o, id, out, budget(sc));

	if (rc < 0)
		detector_unscannable(sc, "broken stream %s in %s", o->dir[id].name, name);
	else if (rc > 0)
		detector_scan_limit(sc, "decoded size");
	sc->decoded += out->len;
	return rc;
}

/* is_container - content the dispatch opens rather than reads as strings */
static int is_container(const char *t)
{
	return detector_is_archive(t) || !strcmp(t, "ole") || !strcmp(t, "pdf")
		|| !strcmp(t, "rtf") || !strcmp(t, "html") || !strcmp(t, "text")
		|| !strcmp(t, "tnef");
}

/* vba_source - the compressed source of a VBA module, if the stream holds one */
static int vba_source(const char *d, size_t len, struct buf *out)
{
	/* a module's source starts "Attribut" right after its container's header */
	for (size_t i = 3; i + 9 <= len; i++) {
		const char *hit = memmem(d + i, len - i, "\0Attribut", 9);

		if (hit == NULL)
			return 0;
		i = (size_t) (hit - d);
		if (i >= 3 && d[i - 3] == 1)
			return detector_ovba_decompress(d + i - 3, len - (i - 3), out) == 0;
	}
	return 0;
}

/* detector_ole_generic - one stream that no document reader took */
void detector_ole_generic(struct det_scan *sc, struct ole *o, uint32_t id, int depth,
			  const char *name)
{
	struct buf data, text;
	const char *sniffed;

	buf_init(&data, 4096);
	if (detector_ole_stream(sc, o, id, &data, name) < 0 && data.len == 0) {
		buf_free(&data);
		return;
	}
	buf_init(&text, 256);
	if (strcmp(o->dir[id].name, "\001Ole10Native") == 0 && data.len > 4) {
		/* a packaged file: its size, then the OLE1 Package record */
		detector_ole_package(sc, data.data + 4, data.len - 4, depth, name);
	} else if (vba_source(data.data, data.len, &text)) {
		detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
	} else if (data.len && is_container(sniffed = detector_sniff(data.data, data.len))) {
		sc->content_name = o->dir[id].name;
		detector_content_scan(sc, data.data, data.len, "application/octet-stream", NULL,
				      DET_W_ATTACH, depth, sniffed);
		sc->content_name = NULL;
	} else {
		detector_strings(data.data, data.len, &text);
		detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
	}
	buf_free(&text);
	buf_free(&data);
}

/* detector_ole_scan - a compound file: its documents' text, every stream */
void detector_ole_scan(struct det_scan *sc, const char *data, size_t len, int depth,
		       const char *name)
{
	struct ole o;
	char err[128];
	unsigned char *done;

	if (depth > var_detector_depth_limit) {
		detector_scan_limit(sc, "depth");
		return;
	}
	if (ole_open(&o, data, len, err, sizeof(err)) < 0) {
		struct buf text;

		detector_unscannable(sc, "broken OLE2 file %s (%s)", name, err);
		buf_init(&text, 1024);
		detector_strings(data, len, &text);
		detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
		buf_free(&text);
		ole_close(&o);
		return;
	}
	if (ole_child(&o, 0, "EncryptedPackage") != OLE_NONE) {
		detector_unscannable(sc, "encrypted Office document %s", name);
		ole_close(&o);
		return;
	}
	done = xcalloc(o.ndir + 1, 1);
	if (ole_child(&o, 0, "__properties_version1.0") != OLE_NONE)
		detector_msg_scan(sc, &o, depth, name, done);
	else
		detector_legacy_scan(sc, &o, depth, name, done);
	for (uint32_t i = 1; i < o.ndir && !detector_scan_expired(sc); i++) {
		/* streams the directory tree does not reach are bytes of the file too */
		if (o.dir[i].type != OLE_STREAM || done[i])
			continue;
		if (++sc->parts > (unsigned) var_detector_part_limit) {
			detector_scan_limit(sc, "parts");
			break;
		}
		detector_ole_generic(sc, &o, i, depth, name);
	}
	free(done);
	ole_close(&o);
}
