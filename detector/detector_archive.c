/*
 * detector_archive - archives and Office documents, through libarchive
 *
 * detector_archive_scan() is the dispatch's entry for content that may be
 * an archive. It returns 0 when the content is not one (the caller scans
 * it some other way) and 1 when it took the content. An archive is found
 *
 *	by its magic at offset 0 (zip, 7z, rar, tar, gzip, bzip2, xz)
 *	by a zip's end-of-central-directory record in its last 64 KB, with
 *		anything in front of it (a self-extractor, a polyglot), the
 *		way unzip finds it
 *	by a zip local header, a 7z or rar signature in its first megabyte
 *	by the part's file name or Content-Type (x.zip, application/x-tar):
 *		then any format libarchive reads is tried (cpio, ISO 9660,
 *		cab, lha, ar, xar, a tar without magic)
 *
 * Bytes in front of an archive found past offset 0 are content too: they
 * go back to the dispatch (a PDF or an executable with a zip behind it).
 *
 * Every member is accounted for: its name is scanned (attachment_name)
 * and remembered for attachment rules; a regular member's content goes
 * to the dispatch one level deeper (text, HTML, documents, archives in
 * archives); a symbolic link's target is scanned; a member whose content
 * cannot be read is recorded with detector_unscannable() by name
 * ("encrypted zip member secret.xlsx", "device member dev/sda"), and so
 * are symbolic links, whose content is whatever the target names on the
 * recipient's machine. The zip comment and the members' comments are
 * scanned too.
 *
 * Office Open XML (docx, xlsx, pptx) and OpenDocument files are zips: an
 * XML member becomes the text its reader shows (detector_office_xml), any
 * other member (embedded workbooks, OLE objects, vbaProject.bin, media)
 * goes to the dispatch like a member of any zip, and the attachment's
 * type becomes "docx", "xlsx", "pptx" or "odf" for attachment rules.
 *
 * Bounds: each member counts against detector_part_limit, its bytes
 * against detector_decoded_size_limit (a zip bomb stops there), nesting
 * against detector_depth_limit, and the scan deadline is checked between
 * reads. Only formats that read from memory are enabled: never mtree,
 * which names local files, nor filters that run external programs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <archive.h>
#include <archive_entry.h>
#include <libdeflate.h>
#include <zlib.h>

#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "detector.h"

#define ARCHIVE_CHUNK 65536
#define ZIP_EOCD_LEN  22
#define ZIP_TAIL      (65535 + ZIP_EOCD_LEN) /* the longest comment, and the record */
#define ARCHIVE_PROBE (1024 * 1024)          /* signatures past offset 0 looked for here */

/* What the zip's own directory says, read before libarchive reads it. */
struct zipdir {
	size_t start;       /* where the zip begins (bytes in front: a stub) */
	size_t end;         /* past its end record and comment */
	const char *office; /* "docx", "xlsx", "pptx", "odf" or NULL */
	size_t cd, eocd;    /* the central directory, the end record */
	unsigned entries;
	int simple; /* stored and deflated members only: ours to read */
};

/* le16, le32 - little-endian fields */
static unsigned le16(const char *p)
{
	const unsigned char *u = (const unsigned char *) p;

	return (unsigned) u[0] | (unsigned) u[1] << 8;
}

static uint32_t le32(const char *p)
{
	const unsigned char *u = (const unsigned char *) p;

	return (uint32_t) u[0] | (uint32_t) u[1] << 8 | (uint32_t) u[2] << 16
		| (uint32_t) u[3] << 24;
}

/* ends_with - does s end with suffix (case-insensitive)? */
static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* zip_eocd - the end-of-central-directory record in the tail, or SIZE_MAX */
static size_t zip_eocd(const char *d, size_t len)
{
	size_t low = len > ZIP_TAIL ? len - ZIP_TAIL : 0;

	if (len < ZIP_EOCD_LEN)
		return SIZE_MAX;
	/* the last one that is consistent: a stored zip member has its own */
	for (size_t i = len - ZIP_EOCD_LEN + 1; i-- > low;) {
		const char *p = d + i;
		uint32_t cd_size, cd_off;

		if (p[0] != 'P' || memcmp(p, "PK\005\006", 4) != 0)
			continue;
		cd_size = le32(p + 12);
		cd_off = le32(p + 16);
		if (le16(p + 4) != 0 || le16(p + 6) != 0 || le16(p + 8) != le16(p + 10))
			continue;
		if (i + ZIP_EOCD_LEN + le16(p + 20) > len)
			continue;
		if (cd_size == 0xffffffffu || cd_off == 0xffffffffu)
			return i; /* zip64: libarchive knows */
		if ((size_t) cd_size > i)
			continue;
		if (cd_size > 0 && memcmp(d + i - cd_size, "PK\001\002", 4) != 0)
			continue;
		if ((size_t) cd_off > i - cd_size)
			continue;
		return i;
	}
	return SIZE_MAX;
}

/* office_kind - "docx", "xlsx", "pptx", "odf" from a member name, or NULL */
static const char *office_kind(const char *name, size_t len)
{
	if (len > 5 && strncmp(name, "word/", 5) == 0)
		return "docx";
	if (len > 3 && strncmp(name, "xl/", 3) == 0)
		return "xlsx";
	if (len > 4 && strncmp(name, "ppt/", 4) == 0)
		return "pptx";
	return NULL;
}

/*
 * zip_directory - where the zip is and what it is, from its central
 * directory; the archive's and the members' comments are scanned here,
 * since libarchive does not report them. -1 if there is no directory.
 */
static int zip_directory(struct det_scan *sc, const char *d, size_t len, struct zipdir *z)
{
	size_t eocd = zip_eocd(d, len), cd, pos, clen;
	uint32_t cd_size, cd_off;
	unsigned n, entries;
	int ooxml = 0, odf_mime = 0, odf_content = 0;
	const char *kind = NULL;

	memset(z, 0, sizeof(*z));
	if (eocd == SIZE_MAX)
		return -1;
	cd_size = le32(d + eocd + 12);
	cd_off = le32(d + eocd + 16);
	entries = le16(d + eocd + 10);
	clen = le16(d + eocd + 20);
	z->end = eocd + ZIP_EOCD_LEN + clen;
	if (clen)
		detector_scan_unit(sc, DET_W_ATTACH, NULL, d + eocd + ZIP_EOCD_LEN, clen);
	if (cd_size == 0xffffffffu || cd_off == 0xffffffffu)
		return 0; /* zip64: no more from us */
	cd = eocd - cd_size;
	z->start = cd - cd_off;
	z->cd = cd;
	z->eocd = eocd;
	z->entries = entries;
	z->simple = 1;
	for (pos = cd, n = 0; n < entries && pos + 46 <= eocd; n++) {
		const char *e = d + pos;
		size_t nl, xl, cl;
		unsigned method = le16(e + 10);

		if (memcmp(e, "PK\001\002", 4) != 0)
			break;
		nl = le16(e + 28);
		xl = le16(e + 30);
		cl = le16(e + 32);
		if (pos + 46 + nl + xl + cl > eocd)
			break;
		if ((method != 0 && method != 8) || (le16(e + 8) & 1)
		    || le32(e + 20) == 0xffffffffu || le32(e + 24) == 0xffffffffu
		    || le32(e + 42) == 0xffffffffu || nl == 0 || memchr(e + 46, 0, nl) != NULL)
			z->simple = 0; /* encrypted, zip64, other methods: libarchive's */
		if (cl)
			detector_scan_unit(sc, DET_W_ATTACH, NULL, e + 46 + nl + xl, cl);
		if (nl == 19 && memcmp(e + 46, "[Content_Types].xml", 19) == 0)
			ooxml = 1;
		else if (nl == 8 && memcmp(e + 46, "mimetype", 8) == 0)
			odf_mime = 1;
		else if (nl == 11 && memcmp(e + 46, "content.xml", 11) == 0)
			odf_content = 1;
		else if (kind == NULL)
			kind = office_kind(e + 46, nl);
		pos += 46 + nl + xl + cl;
	}
	if (n != entries)
		z->simple = 0;
	if (ooxml)
		z->office = kind ? kind : "ooxml";
	else if (odf_mime && odf_content)
		z->office = "odf";
	return 0;
}

/* is_local_header - a plausible zip local file header at p? */
static int is_local_header(const char *p, size_t left)
{
	unsigned method;

	if (left < 30 || memcmp(p, "PK\003\004", 4) != 0)
		return 0;
	method = le16(p + 8);
	return le16(p + 4) <= 63
		&& (method == 0 || method == 8 || method == 9 || method == 12 || method == 14
		    || method == 93 || method == 95 || method == 98 || method == 99);
}

/* find_signature - the first archive signature past offset 0, in the probe */
static const char *find_signature(const char *d, size_t len, size_t *at)
{
	size_t end = len < ARCHIVE_PROBE ? len : ARCHIVE_PROBE;

	/* the signatures start with 'P', '7' or 'R' */
	for (size_t i = 1; i + 6 <= end; i++) {
		const char *p = d + i;

		if (*p == 'P' && is_local_header(p, len - i)) {
			*at = i;
			return "zip";
		}
		if (*p == '7' && memcmp(p, "7z\xbc\xaf\x27\x1c", 6) == 0) {
			*at = i;
			return "7z";
		}
		if (*p == 'R' && memcmp(p, "Rar!\x1a\x07", 6) == 0) {
			*at = i;
			return "rar";
		}
	}
	return NULL;
}

/* named_archive - do a file name or a Content-Type say "archive"? */
static int named_archive(const char *name, const char *ctype)
{
	static const char *const ext[] = {
		".zip", ".jar", ".7z",   ".rar",  ".tar",  ".tgz",  ".tbz",  ".tbz2",
		".txz", ".gz",  ".bz2",  ".xz",   ".cpio", ".iso",  ".cab",  ".lha",
		".lzh", ".ar",  ".deb",  ".xar",  ".docx", ".xlsx", ".pptx", ".odt",
		".ods", ".odp", ".docm", ".xlsm", ".pptm", ".apk",  ".epub", NULL};
	static const char *const ct[] = {"application/zip",
					 "application/x-zip",
					 "application/x-zip-compressed",
					 "application/x-7z-compressed",
					 "application/x-rar",
					 "application/vnd.rar",
					 "application/x-rar-compressed",
					 "application/x-tar",
					 "application/gzip",
					 "application/x-gzip",
					 "application/x-bzip2",
					 "application/x-xz",
					 "application/x-cpio",
					 "application/x-iso9660-image",
					 "application/vnd.ms-cab-compressed",
					 "application/x-lzh-compressed",
					 "application/java-archive",
					 NULL};

	for (size_t i = 0; name && ext[i]; i++)
		if (ends_with(name, ext[i]))
			return 1;
	for (size_t i = 0; ctype && ct[i]; i++)
		if (strcasecmp(ctype, ct[i]) == 0)
			return 1;
	return ctype
		&& strncasecmp(ctype, "application/vnd.openxmlformats-officedocument.", 46)
		== 0;
}

/* add_filters - the decompressors that run in-process, no external programs */
static void add_filters(struct archive *a)
{
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_lzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_lz4(a);
	archive_read_support_filter_compress(a);
}

/* archive_open - a reader over memory with the safe formats only */
static struct archive *archive_open(const char *data, size_t len, int raw)
{
	struct archive *a = archive_read_new();

	if (a == NULL)
		return NULL;
	add_filters(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_ar(a);
	if (raw) {
		/* a compressed stream: tar and its kin read through it; any
		 * other file in it (a zip, a docx) comes out whole, and is
		 * scanned as what it is, with a zip's central directory */
		archive_read_support_format_raw(a);
	} else {
		archive_read_support_format_zip(a);
		archive_read_support_format_7zip(a);
		archive_read_support_format_rar(a);
		archive_read_support_format_rar5(a);
		archive_read_support_format_iso9660(a);
		archive_read_support_format_cab(a);
		archive_read_support_format_lha(a);
		archive_read_support_format_xar(a);
	}
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* read_member - a member's bytes, up to the decoded budget; -1 on error */
static int read_member(struct det_scan *sc, struct archive *a, struct archive_entry *ent,
		       struct buf *out)
{
	size_t lim = (size_t) var_detector_decoded_size_limit;
	size_t left = sc->decoded >= lim ? 0 : lim - sc->decoded;

	buf_reset(out);
	/* the announced size, as far as the budget goes: no growing copies */
	if (archive_entry_size_is_set(ent) && archive_entry_size(ent) > 0) {
		buf_reserve(out,
			    ((size_t) archive_entry_size(ent) < left
				     ? (size_t) archive_entry_size(ent)
				     : left)
				    + 1);
		detector_confine_buffer(sc, out);
	}
	for (;;) {
		ssize_t n;
		size_t want = left - out->len < ARCHIVE_CHUNK ? left - out->len : ARCHIVE_CHUNK;

		if (want == 0) {
			char probe;

			/* exactly at the budget is fine; one byte more is not */
			if (archive_read_data(a, &probe, 1) > 0)
				detector_scan_limit(sc, "decoded size");
			break;
		}
		buf_reserve(out, want + 1);
		n = archive_read_data(a, out->data + out->len, want);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		out->len += (size_t) n;
		if (detector_scan_expired(sc))
			break;
	}
	out->data[out->len] = 0;
	sc->decoded += out->len;
	return 0;
}

/* is_xml_member - an Office member to read as markup */
static int is_xml_member(const char *name)
{
	return ends_with(name, ".xml") || ends_with(name, ".rels") || ends_with(name, ".vml");
}

/* special_member - a member that is not a regular file: 1 if handled */
static int special_member(struct det_scan *sc, struct archive_entry *ent, const char *name,
			  const char *fmt)
{
	const char *target;

	switch (archive_entry_filetype(ent)) {
	case AE_IFREG:
		return 0;
	case AE_IFDIR:
		detector_note_attachment(sc, name, "directory");
		return 1;
	case AE_IFLNK:
		detector_note_attachment(sc, name, "symlink");
		if ((target = archive_entry_symlink_utf8(ent)) == NULL)
			target = archive_entry_symlink(ent);
		if (target && *target)
			detector_scan_unit(sc, DET_W_ATTACH, NULL, target, strlen(target));
		detector_unscannable(sc, "symlink %s member %s", fmt, name);
		return 1;
	default:
		detector_note_attachment(sc, name, "device");
		detector_unscannable(sc, "device %s member %s", fmt, name);
		return 1;
	}
}

/* is_sheet - an xlsx member that is a worksheet (a grid of cells) */
static int is_sheet(const char *office, const char *name)
{
	return office && strcmp(office, "xlsx") == 0 && ends_with(name, ".xml")
		&& (strncmp(name, "xl/worksheets/", 14) == 0
		    || strncmp(name, "xl/dialogsheets/", 16) == 0
		    || strncmp(name, "xl/macrosheets/", 15) == 0);
}

/* is_sst - the shared strings of an xlsx workbook */
static int is_sst(const char *office, const char *name, size_t len)
{
	return office && strcmp(office, "xlsx") == 0 && len == 20
		&& strncasecmp(name, "xl/sharedStrings.xml", 20) == 0;
}

/* sheet_text - a worksheet as rows of cells; text beyond its size costs budget */
static void sheet_text(struct det_scan *sc, const char *data, size_t len, struct det_sst *sst,
		       struct buf *text)
{
	size_t lim = (size_t) var_detector_decoded_size_limit;
	size_t left = sc->decoded >= lim ? 0 : lim - sc->decoded;

	if (detector_xlsx_sheet(data, len, sst, text, len + left + 16) < 0)
		detector_scan_limit(sc, "decoded size");
	if (text->len > len)
		sc->decoded += text->len - len;
}

/* member_content - a member's bytes: Office XML as text, the rest to the dispatch */
static void member_content(struct det_scan *sc, const char *name, const char *data, size_t len,
			   int depth, const char *office, const char *aname, struct buf *text,
			   struct det_sst *sst)
{
	const char *sniffed;

	if (office && strcmp(office, "odf") == 0 && strcmp(name, "META-INF/manifest.xml") == 0
	    && memmem(data, len, "encryption-data", 15) != NULL)
		detector_unscannable(sc, "encrypted OpenDocument %s", aname);
	if (office && is_xml_member(name)) {
		/* Office XML: the document's text, not its markup */
		struct buf utf8 = {0};
		size_t skip;
		/* XML may be UTF-16 or UTF-32 (XML 1.0, 4.3.3, appendix F): then
		 * its first two bytes hold a zero or a byte-order mark */
		const char *cs =
			len >= 2 && (!data[0] || !data[1] || (unsigned char) data[0] >= 0xfe)
			? detector_text_guess(data, len, &skip)
			: NULL;

		if (cs && strncmp(cs, "UTF-8", 5) != 0) {
			/* read as UTF-8 */
			buf_init(&utf8, len + 16);
			detector_charset_to_utf8(cs, data + skip, len - skip, &utf8, len);
			data = utf8.data;
			len = utf8.len;
		}
		buf_reset(text);
		buf_reserve(text, len / 2 + 16);
		detector_confine_buffer(sc, text);
		if (is_sheet(office, name))
			sheet_text(sc, data, len, sst, text);
		else
			detector_office_xml(data, len, text, len + 16);
		detector_scan_unit(sc, DET_W_ATTACH, NULL, text->data, text->len);
		if (utf8.data)
			buf_free(&utf8);
		return;
	}
	sniffed = len ? detector_sniff(data, len) : "empty";
	detector_note_attachment(sc, name, sniffed);
	sc->content_name = name;
	detector_content_scan(sc, data, len, "application/octet-stream", NULL, DET_W_ATTACH,
			      depth, sniffed);
	sc->content_name = NULL;
}

/* sst_take - shared strings read before the sheets; the part's unread rest is text */
static void sst_take(struct det_scan *sc, struct det_sst *sst, const char *data, size_t len,
		     struct buf *text)
{
	size_t done = detector_sst_load(sst, data, len);

	if (done < len) {
		buf_reset(text);
		detector_office_xml(data + done, len - done, text, len - done + 16);
		detector_scan_unit(sc, DET_W_ATTACH, NULL, text->data, text->len);
	}
}

/* sst_finish - the shared strings no cell showed, then the table goes */
static void sst_finish(struct det_scan *sc, struct det_sst *sst, struct buf *text)
{
	if (sst->off == NULL)
		return;
	buf_reset(text);
	detector_sst_unused(sst, text);
	detector_scan_unit(sc, DET_W_ATTACH, NULL, text->data, text->len);
	detector_sst_free(sst);
}

/* inflate_member - a deflated member, up to limit bytes; -1 if broken */
static int inflate_member(const char *in, size_t inlen, size_t usize, size_t limit,
			  struct det_scan *sc, struct buf *out)
{
	static struct libdeflate_decompressor *dc;
	z_stream zs;
	size_t got;
	int rc;

	buf_reset(out);
	if (limit == 0)
		return inlen > 0 ? 1 : 0;
	if (usize <= limit) {
		/* the announced size fits: all at once */
		if (dc == NULL && (dc = libdeflate_alloc_decompressor()) == NULL)
			return -1;
		if (out->cap < usize) {
			/* a fresh buffer: what it held is not copied */
			free(out->data);
			out->data = xmalloc(usize + 1);
			out->cap = usize;
		}
		detector_confine_buffer(sc, out);
		rc = libdeflate_deflate_decompress_ex(dc, in, inlen, out->data, usize, NULL,
						      &got);
		if (rc == LIBDEFLATE_SUCCESS) {
			out->len = got;
			out->data[got] = 0;
			return 0;
		}
		if (rc != LIBDEFLATE_INSUFFICIENT_SPACE)
			return -1;
		/* the directory understates the size: read on within the budget */
	}
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -15) != Z_OK)
		return -1;
	buf_reset(out);
	buf_reserve(out, (usize < limit ? usize : limit) + 1);
	zs.next_in = (Bytef *) in;
	zs.avail_in = (uInt) (inlen < UINT32_MAX ? inlen : UINT32_MAX);
	do {
		size_t room =
			limit - out->len < ARCHIVE_CHUNK ? limit - out->len : ARCHIVE_CHUNK;

		buf_reserve(out, room + 1);
		zs.next_out = (Bytef *) out->data + out->len;
		zs.avail_out = (uInt) room;
		rc = inflate(&zs, Z_NO_FLUSH);
		out->len += room - zs.avail_out;
	} while (rc == Z_OK && out->len < limit);
	inflateEnd(&zs);
	out->data[out->len] = 0;
	if (rc == Z_OK && out->len >= limit)
		return 1; /* more than the budget */
	return rc == Z_STREAM_END ? 0 : -1;
}

static int open_scan(struct det_scan *sc, const char *data, size_t len, int depth,
		     const char *fmt, const char *office, const char *aname, int sure);

/* A member's bytes in the zip: its local header to the end of its data. */
struct zip_span {
	size_t from, to;
};

/* span_cmp - by where they start */
static int span_cmp(const void *a, const void *b)
{
	const struct zip_span *x = a, *y = b;

	return x->from < y->from ? -1 : x->from > y->from;
}

/*
 * zip_hidden - local entries the central directory does not list: unzip
 * does not show them, a streaming reader (libarchive's, Java's) does, so
 * they are read as a zip of their own
 */
static void zip_hidden(struct det_scan *sc, const char *d, const struct zipdir *z,
		       struct zip_span *sp, size_t n, int depth, const char *aname)
{
	size_t at = z->start;

	qsort(sp, n, sizeof(*sp), span_cmp);
	for (size_t i = 0; i <= n && !sc->timed_out; i++) {
		size_t to = i < n ? sp[i].from : z->cd;
		const char *pk;

		if (to > at && (pk = memmem(d + at, to - at, "PK\003\004", 4)) != NULL
		    && is_local_header(pk, (size_t) (d + to - pk))) {
			struct buf gap;

			/* a streaming reader reads a descriptor's look-ahead past the
			 * data, and ends at the central directory: give it one */
			buf_init(&gap, (size_t) (d + to - pk) + 32);
			buf_append(&gap, pk, (size_t) (d + to - pk));
			buf_append(&gap, "PK\001\002", 4);
			buf_reserve(&gap, 28);
			memset(gap.data + gap.len, 0, 28);
			gap.len += 28;
			(void) open_scan(sc, gap.data, gap.len, depth, "zip", z->office, aname,
					 0);
			buf_free(&gap);
		}
		if (i < n && sp[i].to > at)
			at = sp[i].to;
	}
}

/* zip_locate - where a member's data is, from its local header; -1 if broken */
static int zip_locate(const char *d, const struct zipdir *z, const char *e, const char **data,
		      struct zip_span *sp)
{
	size_t csize = le32(e + 20), lho = z->start + le32(e + 42), hl;

	if (lho + 30 > z->cd || memcmp(d + lho, "PK\003\004", 4) != 0)
		return -1;
	hl = 30 + le16(d + lho + 26) + le16(d + lho + 28);
	if (lho + hl > z->cd || csize > z->cd - (lho + hl))
		return -1;
	*data = d + lho + hl;
	sp->from = lho;
	sp->to = lho + hl + csize;
	return 0;
}

/* zip_data - a located member's bytes within the budget; -1 if broken */
static int zip_data(struct det_scan *sc, const char *e, const char *raw, struct buf *member,
		    const char **data, size_t *dlen)
{
	size_t lim = (size_t) var_detector_decoded_size_limit, csize = le32(e + 20);
	size_t left = sc->decoded >= lim ? 0 : lim - sc->decoded;
	int rc;

	if (le16(e + 10) == 0) { /* stored: scanned in place */
		*data = raw;
		*dlen = csize < left ? csize : left;
		if (csize > left)
			detector_scan_limit(sc, "decoded size");
	} else {
		if ((rc = inflate_member(raw, csize, le32(e + 24), left, sc, member)) < 0)
			return -1;
		if (rc > 0)
			detector_scan_limit(sc, "decoded size");
		*data = member->data;
		*dlen = member->len;
	}
	sc->decoded += *dlen;
	return 0;
}

/* zip_sst - an xlsx's shared strings, read first wherever they are; its entry or NULL */
static const char *zip_sst(struct det_scan *sc, const char *d, const struct zipdir *z,
			   struct det_sst *sst, struct buf *member, struct buf *text)
{
	size_t pos = z->cd;
	struct zip_span sp;

	for (unsigned n = 0; n < z->entries && pos + 46 <= z->eocd; n++) {
		const char *e = d + pos, *raw, *data;
		size_t nl = le16(e + 28), dlen;

		pos += 46 + nl + le16(e + 30) + le16(e + 32);
		if (!is_sst("xlsx", e + 46, nl))
			continue;
		if (zip_locate(d, z, e, &raw, &sp) < 0
		    || zip_data(sc, e, raw, member, &data, &dlen) < 0)
			return NULL; /* the loop finds it broken */
		sst_take(sc, sst, data, dlen, text);
		return e;
	}
	return NULL;
}

/*
 * zip_members - a zip of stored and deflated members, read from its central
 * directory: the members libarchive's zip reader would give, without a copy
 * of stored ones, inflated at once by libdeflate. An xlsx's shared strings
 * are read before its sheets, wherever they are in the zip.
 */
static void zip_members(struct det_scan *sc, const char *d, size_t len, const struct zipdir *z,
			int depth, const char *fmt, const char *aname)
{
	size_t pos = z->cd, nspan = 0;
	struct zip_span *span = xmalloc((z->entries + 1) * sizeof(*span));
	struct buf member, text;
	struct det_sst sst = {0};
	const char *sst_entry = NULL;
	char name[1024];

	(void) len;
	buf_init(&member, ARCHIVE_CHUNK);
	buf_init(&text, 1024);
	if (z->office && strcmp(z->office, "xlsx") == 0)
		sst_entry = zip_sst(sc, d, z, &sst, &member, &text);
	for (unsigned n = 0; n < z->entries && pos + 46 <= z->eocd; n++) {
		const char *e = d + pos, *data, *raw;
		size_t nl = le16(e + 28), xl = le16(e + 30), cl = le16(e + 32), dlen;
		unsigned mode = (unsigned) (le32(e + 38) >> 16);

		pos += 46 + nl + xl + cl;
		snprintf(name, sizeof(name), "%.*s", (int) nl, e + 46);
		if (detector_scan_expired(sc))
			break;
		if (++sc->parts > (unsigned) var_detector_part_limit) {
			detector_scan_limit(sc, "parts");
			break;
		}
		if (name[strlen(name) - 1] == '/') {
			detector_note_attachment(sc, name, "directory");
			continue;
		}
		/* the local header says where the data starts */
		if (zip_locate(d, z, e, &raw, &span[nspan]) < 0) {
			detector_note_attachment(sc, name, "broken");
			detector_unscannable(sc, "broken %s member %s", fmt, name);
			continue;
		}
		nspan++;
		if (e == sst_entry)
			continue; /* read first, shown in the cells */
		if (zip_data(sc, e, raw, &member, &data, &dlen) < 0) {
			detector_note_attachment(sc, name, "broken");
			detector_unscannable(sc, "broken %s member %s", fmt, name);
			continue;
		}
		if ((le16(e + 4) >> 8) == 3 && (mode & 0170000) == 0120000) {
			detector_note_attachment(sc, name, "symlink");
			detector_scan_unit(sc, DET_W_ATTACH, NULL, data, dlen);
			detector_unscannable(sc, "symlink %s member %s", fmt, name);
			continue;
		}
		member_content(sc, name, data, dlen, depth, z->office, aname, &text,
			       sst_entry ? &sst : NULL);
	}
	sst_finish(sc, &sst, &text);
	buf_free(&member);
	buf_free(&text);
	if (!sc->timed_out && sc->parts <= (unsigned) var_detector_part_limit)
		zip_hidden(sc, d, z, span, nspan, depth, aname);
	free(span);
}

/* archive_sst - an xlsx's shared strings through libarchive, before its sheets */
static int archive_sst(struct det_scan *sc, const char *data, size_t len, struct det_sst *sst)
{
	struct archive *a = archive_open(data, len, 0);
	struct archive_entry *ent;
	struct buf member, text;
	int found = 0;

	if (a == NULL)
		return 0;
	while (!found && archive_read_next_header(a, &ent) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ent);

		if (name == NULL || !is_sst("xlsx", name, strlen(name))
		    || archive_entry_is_encrypted(ent))
			continue;
		buf_init(&member, ARCHIVE_CHUNK);
		buf_init(&text, 1024);
		if (read_member(sc, a, ent, &member) == 0) {
			sst_take(sc, sst, member.data, member.len, &text);
			found = 1;
		}
		buf_free(&member);
		buf_free(&text);
		break;
	}
	archive_read_free(a);
	return found;
}

/* scan_members - every member of an open archive; the last status */
static int scan_members(struct det_scan *sc, struct archive *a, int depth, const char *fmt,
			const char *office, const char *aname, struct det_sst *sst)
{
	struct archive_entry *ent;
	struct buf member, text;
	int rc;

	buf_init(&member, ARCHIVE_CHUNK);
	buf_init(&text, 1024);
	while ((rc = archive_read_next_header(a, &ent)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname_utf8(ent);

		if (name == NULL)
			name = archive_entry_pathname(ent);
		if (name == NULL)
			name = "";
		if (detector_scan_expired(sc))
			break;
		if (++sc->parts > (unsigned) var_detector_part_limit) {
			detector_scan_limit(sc, "parts");
			break;
		}
		if (special_member(sc, ent, name, fmt))
			continue;
		if (sst && sst->off && is_sst(office, name, strlen(name)))
			continue; /* read first, shown in the cells */
		if (archive_entry_is_encrypted(ent)) {
			detector_note_attachment(sc, name, "encrypted");
			detector_unscannable(sc, "encrypted %s member %s", fmt, name);
			continue;
		}
		if (read_member(sc, a, ent, &member) < 0) {
			detector_note_attachment(sc, name, "broken");
			if (archive_entry_is_encrypted(ent)
			    || archive_read_has_encrypted_entries(a) > 0)
				detector_unscannable(sc, "encrypted %s member %s", fmt, name);
			else
				detector_unscannable(sc, "broken %s member %s", fmt, name);
			break;
		}
		member_content(sc, name, member.data, member.len, depth, office, aname, &text,
			       sst && sst->off ? sst : NULL);
	}
	if (sst)
		sst_finish(sc, sst, &text);
	if (rc != ARCHIVE_EOF && rc != ARCHIVE_OK && rc != ARCHIVE_WARN && !sc->timed_out) {
		if (archive_read_has_encrypted_entries(a) > 0)
			detector_unscannable(sc, "encrypted %s archive %s", fmt, aname);
		else
			detector_unscannable(sc, "broken %s archive %s", fmt, aname);
	}
	buf_free(&member);
	buf_free(&text);
	return rc;
}

/* nonzero - does a run of bytes hold anything but NULs? */
static int nonzero(const char *p, size_t n)
{
	return n > 0 && (p[0] != 0 || memcmp(p, p + 1, n - 1) != 0);
}

/*
 * scan_trailer - what follows the archive's end marker (a tar's two zero
 * blocks, a cpio trailer) is content too: a tar.gz of a file that starts
 * with zeros would otherwise end at once. Compressed, the stream is read
 * again from the start as one raw member.
 */
static void scan_trailer(struct det_scan *sc, struct archive *done, const char *data,
			 size_t len, int depth)
{
	int64_t consumed = archive_filter_bytes(done, 0);
	struct archive *a;
	struct archive_entry *ent;
	struct buf rest;

	if (consumed < 0 || sc->timed_out)
		return;
	if (archive_filter_count(done) <= 1) {
		if ((size_t) consumed < len
		    && nonzero(data + consumed, len - (size_t) consumed))
			detector_content_scan(
				sc, data + consumed, len - (size_t) consumed,
				"application/octet-stream", NULL, DET_W_ATTACH, depth,
				detector_sniff(data + consumed, len - (size_t) consumed));
		return;
	}
	if ((a = archive_read_new()) == NULL)
		return;
	add_filters(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, data, len) == ARCHIVE_OK
	    && archive_read_next_header(a, &ent) == ARCHIVE_OK) {
		buf_init(&rest, ARCHIVE_CHUNK);
		if (read_member(sc, a, ent, &rest) == 0 && rest.len > (size_t) consumed
		    && nonzero(rest.data + consumed, rest.len - (size_t) consumed))
			detector_content_scan(
				sc, rest.data + consumed, rest.len - (size_t) consumed,
				"application/octet-stream", NULL, DET_W_ATTACH, depth,
				detector_sniff(rest.data + consumed,
					       rest.len - (size_t) consumed));
		buf_free(&rest);
	}
	archive_read_free(a);
}

/* open_scan - open data as an archive and scan it; 0 if no format took it */
static int open_scan(struct det_scan *sc, const char *data, size_t len, int depth,
		     const char *fmt, const char *office, const char *aname, int sure)
{
	struct archive *a;
	struct det_sst sst = {0};
	int raw = !strcmp(fmt, "gzip") || !strcmp(fmt, "bzip2") || !strcmp(fmt, "xz")
		|| !strcmp(fmt, "zstd") || !strcmp(fmt, "lz4") || !strcmp(fmt, "lzip")
		|| !strcmp(fmt, "lzma") || !strcmp(fmt, "compress");

	if ((a = archive_open(data, len, raw)) == NULL) {
		if (sure)
			detector_unscannable(sc, "broken %s archive %s", fmt, aname);
		return sure;
	}
	if (!sure) {
		struct archive_entry *ent;

		/* a guess: it is an archive only if its first member reads */
		if (archive_read_next_header(a, &ent) != ARCHIVE_OK) {
			archive_read_free(a);
			return 0;
		}
		archive_read_free(a);
		if ((a = archive_open(data, len, raw)) == NULL)
			return 0;
	}
	if (office && strcmp(office, "xlsx") == 0 && !raw)
		(void) archive_sst(sc, data, len, &sst);
	if (scan_members(sc, a, depth, fmt, office, aname, &sst) == ARCHIVE_EOF
	    && (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_ZIP
	    && (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_RAW)
		scan_trailer(sc, a, data, len, depth);
	archive_read_free(a);
	return 1;
}

/* mark_office - a zip that is really an Office document says so */
static void mark_office(struct det_scan *sc, size_t att_at, const char *office)
{
	if (office && strcmp(office, "ooxml") != 0 && att_at > 0
	    && strcmp(sc->att[att_at - 1].type, "zip") == 0)
		snprintf(sc->att[att_at - 1].type, sizeof(sc->att[0].type), "%s", office);
}

/* detector_container_probe - might this be an archive or a document? (cheap) */
int detector_container_probe(struct det_scan *sc, const char *data, size_t len,
			     const char *sniffed, const char *ctype)
{
	size_t at;

	if (detector_is_archive(sniffed) || !strcmp(sniffed, "ole") || !strcmp(sniffed, "rtf")
	    || !strcmp(sniffed, "tnef") || !strcmp(sniffed, "applefile"))
		return 1;
	if (!strcmp(sniffed, "html") || !strcmp(sniffed, "empty") || !strcmp(sniffed, "pdf"))
		return 0;
	if (zip_eocd(data, len) != SIZE_MAX)
		return 1;
	return strcmp(sniffed, "text") != 0
		&& (find_signature(data, len, &at) != NULL
		    || named_archive(sc->content_name, ctype));
}

/* detector_archive_scan - scan data as an archive if it is one; 0 if not */
int detector_archive_scan(struct det_scan *sc, const char *data, size_t len, int depth,
			  const char *sniffed, const char *ctype)
{
	const char *fmt = NULL;
	char name[256];
	struct zipdir z = {0};
	size_t att_at = sc->natt, at = 0, full = len;
	int sure = 1, done;

	snprintf(name, sizeof(name), "%s",
		 sc->content_name && *sc->content_name ? sc->content_name : "-");
	if (detector_is_archive(sniffed))
		fmt = sniffed;
	else if (!strcmp(sniffed, "html") || !strcmp(sniffed, "empty")
		 || !strcmp(sniffed, "ole") || !strcmp(sniffed, "pdf")
		 || !strcmp(sniffed, "rtf") || !strcmp(sniffed, "tnef")
		 || !strcmp(sniffed, "applefile"))
		return 0; /* documents: their readers find what they embed */
	if ((fmt == NULL || !strcmp(fmt, "zip")) && zip_directory(sc, data, len, &z) == 0) {
		/* a zip, wherever it starts: what is in front and behind is content */
		fmt = "zip";
		if (z.start > 0 && z.start < len)
			at = z.start;
		len = z.end > at && z.end <= len ? z.end : len;
	} else if (fmt == NULL && strcmp(sniffed, "text") != 0
		   && (fmt = find_signature(data, len, &at)) != NULL) {
		sure = 0;
	} else if (fmt == NULL && strcmp(sniffed, "text") != 0
		   && named_archive(sc->content_name, ctype)) {
		fmt = "archive";
		sure = 0;
	}
	if (fmt == NULL)
		return 0;
	if (depth > var_detector_depth_limit) {
		detector_scan_limit(sc, "depth");
		return 1;
	}
	if (z.simple && z.end <= full) {
		zip_members(sc, data, z.end, &z, depth, fmt, name);
		done = 1;
	} else
		done = open_scan(sc, data + at, len - at, depth, fmt, z.office, name, sure);
	if (!done)
		return 0;
	sc->content_name = NULL;
	if (at > 0)
		detector_content_scan(sc, data, at, "application/octet-stream", NULL,
				      DET_W_ATTACH, depth, detector_sniff(data, at));
	if (full > len && nonzero(data + len, full - len))
		detector_content_scan(sc, data + len, full - len, "application/octet-stream",
				      NULL, DET_W_ATTACH, depth,
				      detector_sniff(data + len, full - len));
	mark_office(sc, att_at, z.office);
	return 1;
}
