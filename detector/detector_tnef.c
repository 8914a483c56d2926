/*
 * detector_tnef - TNEF (winmail.dat), opened the way Outlook reads it
 *
 * Outlook in rich-text mode, and Exchange between its users, send a
 * message's body, properties and attachments as one application/ms-tnef
 * attachment, winmail.dat (MS-OXTNEF). Outlook shows what is inside as the
 * message itself; Thunderbird (LookOut), tnef(1) and ytnef show its files.
 * detector_tnef_scan() reads a TNEF stream (the dispatch sends content
 * that starts with the TNEF signature) and scans:
 *
 *	attSubject, attBody and every	text in the stream's code page
 *	other string attribute		(attOemCodepage; Windows-1252 when
 *					absent), with its raw bytes when they
 *					are not valid in it
 *	attMsgProps, attRecipTable	MAPI properties: strings (8-bit or
 *					UTF-16, multi-valued, named properties
 *					and their names) as text;
 *					PR_RTF_COMPRESSED decompressed and read
 *					as RTF (its objects go to the dispatch);
 *					PR_BODY_HTML as HTML; a binary property
 *					that is a document or an archive goes to
 *					the dispatch, the others give their strings
 *	attachments			from one attAttachRenddata to the next:
 *					every name a reader shows (PR_ATTACH_
 *					LONG_FILENAME, attAttachTitle, PR_ATTACH_
 *					FILENAME, PR_DISPLAY_NAME) is noted for
 *					attachment rules, and the bytes
 *					(attAttachData, PR_ATTACH_DATA_BIN,
 *					PR_ATTACH_DATA_OBJ past its interface id)
 *					go back to the dispatch: a document, an
 *					archive, or an attached message, which is
 *					TNEF again, read one level deeper
 *	other attributes		(dates, the sender, icons) their strings
 *
 * Where readers differ, each reading is scanned: an attachment with both
 * attAttachData (ytnef) and PR_ATTACH_DATA_BIN (tnef, Outlook) is read
 * both ways when they differ, and so is a PR_ATTACH_DATA_BIN that ytnef
 * reads past 16 bytes when what starts there is a document.
 *
 * Bounds: every length and count is checked against the bytes that are
 * left before it is used; nothing is copied but text conversions, which
 * their input bounds; attached messages count against
 * detector_depth_limit, attachments against detector_part_limit, and the
 * scan's deadline is checked per attribute and per property. A stream that
 * breaks off (a length past the end, more properties or values than its
 * bytes can hold, an unknown property type) is named in the reason
 * ("broken TNEF winmail.dat (...)") and the strings of what follows are
 * scanned.
 *
 * Checksums: every attribute carries the sum of its bytes. ytnef stops at
 * a wrong one, tnef(1) stops unless told --ignore-checksum, and then reads
 * on. The detector reads on, as a lenient reader does: what a strict reader
 * shows is a part of that, so the whole content is scanned either way and
 * a wrong checksum is no reason to mark the message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "detector.h"

#define TNEF_SIGNATURE 0x223e9f78u
#define TNEF_NAMES     8             /* different names of one attachment */
#define TNEF_CONTENTS  4             /* byte ranges of one attachment */
#define TNEF_TEXT_MAX  (1024 * 1024) /* text gathered before a scan */

/* attributes: type << 16 | id */
#define ATT_OEM_CODEPAGE    0x00069007u
#define ATT_MSG_PROPS       0x00069003u
#define ATT_RECIP_TABLE     0x00069004u
#define ATT_ATTACH_RENDDATA 0x00069002u
#define ATT_ATTACH_TITLE    0x00018010u
#define ATT_ATTACH_DATA     0x0006800fu
#define ATT_ATTACHMENT      0x00069005u
#define ATP_STRING          1
#define ATP_TEXT            2

/* MAPI property types */
#define PT_STRING8 0x001e
#define PT_UNICODE 0x001f
#define PT_BINARY  0x0102
#define PT_OBJECT  0x000d
#define PT_MV      0x1000

/* MAPI properties */
#define PR_RTF_COMPRESSED       0x1009
#define PR_BODY_HTML            0x1013
#define PR_ATTACH_DATA          0x3701
#define PR_ATTACH_FILENAME      0x3704
#define PR_ATTACH_METHOD        0x3705
#define PR_ATTACH_LONG_FILENAME 0x3707
#define PR_DISPLAY_NAME         0x3001
#define ATTACH_EMBEDDED_MSG     5

/* A name of an attachment, and how readers prefer it. */
struct tnef_name {
	int rank;   /* 0 long file name, 1 title, 2 short, 3 display */
	char *name; /* UTF-8 */
};

/* One attachment, gathered from its attributes. */
struct tnef_att {
	int open;
	struct tnef_name names[TNEF_NAMES];
	int nnames;
	struct {
		const char *p;
		size_t n;
		int binary; /* PR_ATTACH_DATA_BIN: ytnef reads it past 16 bytes */
	} contents[TNEF_CONTENTS];
	int ncontents;
	unsigned method; /* PR_ATTACH_METHOD */
};

/* One TNEF stream being read. */
struct tnef {
	struct det_scan *sc;
	const char *d;
	size_t len;
	unsigned where;
	int depth;
	const char *name; /* the file, for reasons */
	char cs[24];      /* 8-bit text: the stream's code page */
	struct buf text;  /* text gathered for one scan */
	struct tnef_att att;
	int stop; /* a limit was reached */
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

/* budget - decoded bytes left for this message */
static size_t budget(const struct det_scan *sc)
{
	size_t lim = (size_t) var_detector_decoded_size_limit;

	return sc->decoded >= lim ? 0 : lim - sc->decoded;
}

/* text_flush - scan the text gathered so far */
static void text_flush(struct tnef *t)
{
	if (t->text.len)
		detector_scan_unit(t->sc, t->where, NULL, t->text.data, t->text.len);
	buf_reset(&t->text);
}

/* text_line - end a line of gathered text, scanning when there is much */
static void text_line(struct tnef *t)
{
	buf_putc(&t->text, '\n');
	if (t->text.len > TNEF_TEXT_MAX)
		text_flush(t);
}

/* text8 - 8-bit text in the stream's code page (and its bytes where not valid) */
static void text8(struct tnef *t, const char *p, size_t n)
{
	while (n > 0 && p[n - 1] == 0)
		n--;
	if (n == 0)
		return;
	if (detector_charset_to_utf8(t->cs, p, n, &t->text, n) > 0) {
		buf_putc(&t->text, '\n');
		buf_append(&t->text, p, n);
	}
	text_line(t);
}

/* utf16 - UTF-16LE text to UTF-8, into out */
static void utf16(const char *p, size_t n, struct buf *out)
{
	n &= ~(size_t) 1;
	while (n >= 2 && p[n - 1] == 0 && p[n - 2] == 0)
		n -= 2;
	if (n)
		(void) detector_charset_to_utf8("UTF-16LE", p, n, out, n);
}

/* strings - the strings of bytes that are no text of their own */
static void strings(struct tnef *t, const char *p, size_t n)
{
	if (n == 0)
		return;
	detector_strings(p, n, &t->text);
	if (t->text.len > TNEF_TEXT_MAX)
		text_flush(t);
}

/* broken - the stream breaks off at p: the reason, and the strings of the rest */
static void broken(struct tnef *t, const char *p, const char *end, const char *why)
{
	detector_unscannable(t->sc, "broken TNEF %.60s (%s at byte %zu)", t->name, why,
			     (size_t) (p - t->d));
	if (end > p)
		strings(t, p, (size_t) (end - p));
}

/* codepage - attOemCodepage: the charset of 8-bit text */
static void codepage(struct tnef *t, uint32_t cp)
{
	if (cp == 0)
		return;
	if (cp == 65001)
		snprintf(t->cs, sizeof(t->cs), "UTF-8");
	else if (cp == 1200)
		snprintf(t->cs, sizeof(t->cs), "UTF-16LE");
	else if (cp == 20127)
		snprintf(t->cs, sizeof(t->cs), "US-ASCII");
	else
		snprintf(t->cs, sizeof(t->cs), "CP%u", cp);
	if (!detector_charset_known(t->cs)) {
		detector_unscannable(t->sc, "unknown code page %u in %.60s", cp, t->name);
		snprintf(t->cs, sizeof(t->cs), "windows-1252");
	}
}

/* is_document - content the dispatch opens, rather than read for strings */
static int is_document(const char *s)
{
	return detector_is_archive(s) || !strcmp(s, "ole") || !strcmp(s, "pdf")
		|| !strcmp(s, "rtf") || !strcmp(s, "html") || !strcmp(s, "text")
		|| !strcmp(s, "tnef");
}

/* content - bytes of a file to the dispatch, one level deeper */
static void content(struct tnef *t, const char *p, size_t n, const char *name)
{
	if (n == 0)
		return;
	text_flush(t); /* the dispatch scans; keep the order */
	t->sc->content_name = name;
	detector_content_scan(t->sc, p, n, "application/octet-stream", NULL, DET_W_ATTACH,
			      t->depth, detector_sniff(p, n));
	t->sc->content_name = NULL;
}

/* binary - a binary property: a document to the dispatch, or its strings */
static void binary(struct tnef *t, const char *p, size_t n)
{
	if (n > 0 && is_document(detector_sniff(p, n)))
		content(t, p, n, NULL);
	else
		strings(t, p, n);
}

/* ---- attachments -------------------------------------------------------- */

/* att_name - one more name of the attachment */
static void att_name(struct tnef *t, int rank, const char *utf8, size_t n)
{
	struct tnef_att *a = &t->att;
	struct buf clean;

	if (n == 0)
		return;
	buf_init(&clean, n + 8);
	detector_utf8_clean(utf8, n, &clean);
	for (int i = 0; i < a->nnames; i++)
		if (strcmp(a->names[i].name, clean.data) == 0) {
			buf_free(&clean);
			return;
		}
	if (a->nnames < TNEF_NAMES) {
		a->names[a->nnames].rank = rank;
		a->names[a->nnames++].name = xstrdup(clean.data);
	} else /* rules see the first ones; the matcher all */
		detector_scan_unit(t->sc, DET_W_ATTNAME, NULL, clean.data, clean.len);
	buf_free(&clean);
}

static void att_end(struct tnef *t);

/* att_content - one more byte range of the attachment */
static void att_content(struct tnef *t, const char *p, size_t n, int binary)
{
	struct tnef_att *a = &t->att;

	for (int i = 0; i < a->ncontents; i++)
		if (a->contents[i].n == n && memcmp(a->contents[i].p, p, n) == 0)
			return;              /* the same file twice */
	if (a->ncontents == TNEF_CONTENTS) { /* more: they make a new attachment */
		att_end(t);
		a->open = 1;
	}
	a->contents[a->ncontents].p = p;
	a->contents[a->ncontents].n = n;
	a->contents[a->ncontents++].binary = binary;
}

/* att_begin - an attachment starts (or goes on) */
static void att_begin(struct tnef *t)
{
	t->att.open = 1;
}

/* att_end - an attachment is complete: its names noted, its bytes scanned */
static void att_end(struct tnef *t)
{
	struct det_scan *sc = t->sc;
	struct tnef_att *a = &t->att;
	const char *saved = sc->label, *first;
	char lbl[200];

	if (!a->open)
		return;
	text_flush(t);
	/* the names in the order readers prefer them (a stable insertion sort) */
	for (int i = 1; i < a->nnames; i++)
		for (int k = i; k > 0 && a->names[k].rank < a->names[k - 1].rank; k--) {
			struct tnef_name tmp = a->names[k];

			a->names[k] = a->names[k - 1];
			a->names[k - 1] = tmp;
		}
	first = a->nnames ? a->names[0].name : "";
	if (++sc->parts > (unsigned) var_detector_part_limit) {
		detector_scan_limit(sc, "parts");
		t->stop = 1;
	} else {
		snprintf(lbl, sizeof(lbl), "attachment %.100s in %.60s", *first ? first : "-",
			 t->name);
		sc->label = lbl;
		for (int c = 0; c < (a->ncontents ? a->ncontents : 1); c++) {
			const char *p = a->ncontents ? a->contents[c].p : "";
			size_t n = a->ncontents ? a->contents[c].n : 0;
			const char *sniffed = n ? detector_sniff(p, n) : "empty";

			if (c == 0) {
				const char *type = a->method == ATTACH_EMBEDDED_MSG
						&& !strcmp(sniffed, "tnef")
					? "message"
					: sniffed;

				for (int i = 0; i < a->nnames; i++)
					detector_note_attachment(sc, a->names[i].name, type);
				if (a->nnames == 0)
					detector_note_attachment(sc, "", type);
			}
			content(t, p, n, first);
			/* ytnef takes PR_ATTACH_DATA_BIN past an interface id, as an object */
			if (n > 16 && a->contents[c].binary
			    && is_document(detector_sniff(p + 16, n - 16))
			    && strcmp(detector_sniff(p + 16, n - 16), sniffed) != 0)
				content(t, p + 16, n - 16, first);
		}
		sc->label = saved;
	}
	for (int i = 0; i < a->nnames; i++)
		free(a->names[i].name);
	memset(a, 0, sizeof(*a));
}

/* ---- MAPI properties ------------------------------------------------------ */

/* fixed_size - bytes of a fixed-size value as TNEF writes it; 0 variable, -1 unknown */
static int fixed_size(unsigned type)
{
	switch (type) {
	case 0x0002: /* PT_SHORT, padded */
	case 0x0003: /* PT_LONG */
	case 0x0004: /* PT_FLOAT */
	case 0x000a: /* PT_ERROR */
	case 0x000b: /* PT_BOOLEAN, padded */
		return 4;
	case 0x0005: /* PT_DOUBLE */
	case 0x0006: /* PT_CURRENCY */
	case 0x0007: /* PT_APPTIME */
	case 0x0014: /* PT_I8 */
	case 0x0040: /* PT_SYSTIME */
		return 8;
	case 0x0048: /* PT_CLSID */
		return 16;
	case PT_STRING8:
	case PT_UNICODE:
	case PT_BINARY:
	case PT_OBJECT:
		return 0;
	default:
		return -1;
	}
}

/* rtf_body - PR_RTF_COMPRESSED: decompressed, read as RTF */
static void rtf_body(struct tnef *t, const char *p, size_t n)
{
	struct det_scan *sc = t->sc;
	struct buf rtf, text;
	size_t left = budget(sc);

	buf_init(&rtf, n * 2 + 64);
	if (detector_rtf_decompress(p, n, &rtf, left) < 0) {
		detector_unscannable(sc, "broken compressed RTF in %.60s", t->name);
		strings(t, p, n);
	} else if (n >= 8 && le32(p + 4) > left)
		detector_scan_limit(sc, "decoded size");
	sc->decoded += rtf.len;
	buf_init(&text, rtf.len / 2 + 64);
	detector_rtf_text(sc, rtf.data, rtf.len, t->depth, t->name, &text);
	detector_scan_unit(sc, t->where, NULL, text.data, text.len);
	buf_free(&text);
	buf_free(&rtf);
}

/* html_body - PR_BODY_HTML, in whichever type it came */
static void html_body(struct tnef *t, unsigned type, const char *p, size_t n)
{
	struct buf u;

	text_flush(t);
	if (type != PT_UNICODE) {
		detector_content_scan(t->sc, p, n, "text/html",
				      type == PT_STRING8 ? t->cs : NULL, t->where, t->depth,
				      "html");
		return;
	}
	buf_init(&u, n + 16);
	utf16(p, n, &u);
	detector_content_scan(t->sc, u.data, u.len, "text/html", "utf-8", t->where, t->depth,
			      "html");
	buf_free(&u);
}

/* value - one value of a property */
static void value(struct tnef *t, struct tnef_att *att, unsigned id, unsigned type,
		  const char *p, size_t n)
{
	int rank = id == PR_ATTACH_LONG_FILENAME ? 0
		: id == PR_ATTACH_FILENAME       ? 2
		: id == PR_DISPLAY_NAME          ? 3
						 : -1;
	struct buf u;

	if (n == 0)
		return;
	if (id == PR_BODY_HTML && type != PT_OBJECT) {
		html_body(t, type, p, n);
	} else if (type == PT_STRING8 || type == PT_UNICODE) {
		if (att && rank >= 0) { /* a name: noted, scanned as one */
			buf_init(&u, n + 16);
			if (type == PT_UNICODE)
				utf16(p, n, &u);
			else {
				while (n > 0 && p[n - 1] == 0)
					n--;
				(void) detector_charset_to_utf8(t->cs, p, n, &u, n);
			}
			att_name(t, rank, u.data, u.len);
			buf_free(&u);
		} else if (type == PT_UNICODE) {
			utf16(p, n, &t->text);
			text_line(t);
		} else
			text8(t, p, n);
	} else if (id == PR_RTF_COMPRESSED && type == PT_BINARY) {
		rtf_body(t, p, n);
	} else if (id == PR_ATTACH_DATA) { /* the file, or an object past its IID */
		int bin = type == PT_BINARY;

		if (!bin && n >= 16) {
			p += 16;
			n -= 16;
		}
		if (att)
			att_content(t, p, n, bin);
		else
			content(t, p, n, NULL);
	} else if (type == PT_OBJECT) {
		binary(t, n >= 16 ? p + 16 : p, n >= 16 ? n - 16 : n);
	} else
		binary(t, p, n);
}

/* props - a MAPI property list (a count, then each property); the bytes it
 * took into *used, or -1 when it breaks off (noted) */
static int props(struct tnef *t, struct tnef_att *att, const char *p, size_t n, size_t *used)
{
	size_t i = 4;
	uint32_t count;
	char why[96];

	if (n < 4) {
		broken(t, p, p + n, "MAPI property list cut short");
		return -1;
	}
	count = le32(p);
	if (count > (n - 4) / 8) { /* a property takes 8 bytes at least */
		snprintf(why, sizeof(why), "%u MAPI properties in %zu bytes", count, n);
		broken(t, p, p + n, why);
		return -1;
	}
	for (uint32_t k = 0; k < count; k++) {
		unsigned type, id, base;
		uint32_t nval = 1;
		int fixed;

		if (detector_scan_expired(t->sc))
			return -1;
		if (n - i < 4)
			goto cut;
		type = le16(p + i);
		id = le16(p + i + 2);
		i += 4;
		if (id >= 0x8000) { /* named: a GUID, then an id or a name */
			uint32_t kind, nl;

			if (n - i < 24)
				goto cut;
			kind = le32(p + i + 16);
			nl = le32(p + i + 20);
			i += 24;
			if (kind == 1) {
				if (nl > n - i)
					goto cut;
				utf16(p + i, nl, &t->text);
				text_line(t);
				i += nl + (4 - nl % 4) % 4;
				if (i > n)
					i = n;
			} else if (kind != 0) {
				snprintf(why, sizeof(why), "named property kind %u", kind);
				broken(t, p + i - 24, p + n, why);
				return -1;
			}
		}
		base = type & ~(unsigned) PT_MV;
		if ((fixed = fixed_size(base)) < 0) {
			snprintf(why, sizeof(why), "MAPI property type 0x%04x", type);
			broken(t, p + i - 4, p + n, why);
			return -1;
		}
		if ((type & PT_MV) || fixed == 0) {
			if (n - i < 4)
				goto cut;
			nval = le32(p + i);
			i += 4;
			if (nval > (n - i) / 4) { /* a value takes 4 bytes at least */
				snprintf(why, sizeof(why),
					 "%u values of property 0x%04x in %zu bytes", nval, id,
					 n - i);
				broken(t, p + i - 4, p + n, why);
				return -1;
			}
		}
		for (uint32_t v = 0; v < nval; v++) {
			uint32_t vl;

			if (fixed > 0) {
				if (n - i < (size_t) fixed)
					goto cut;
				if (id == PR_ATTACH_METHOD && att && fixed == 4)
					att->method = le32(p + i);
				i += (size_t) fixed;
				continue;
			}
			if (n - i < 4)
				goto cut;
			vl = le32(p + i);
			i += 4;
			if (vl > n - i) {
				snprintf(why, sizeof(why), "value of %u bytes past the end",
					 vl);
				broken(t, p + i - 4, p + n, why);
				return -1;
			}
			value(t, att, id, base, p + i, vl);
			i += vl + (4 - vl % 4) % 4;
			if (i > n)
				i = n;
		}
	}
	*used = i;
	return 0;
cut:
	broken(t, p + i, p + n, "MAPI property cut short");
	return -1;
}

/* props_attr - an attribute that is one property list; what follows it is read too */
static void props_attr(struct tnef *t, struct tnef_att *att, const char *p, size_t n)
{
	size_t used;

	if (props(t, att, p, n, &used) == 0 && used < n)
		strings(t, p + used, n - used);
	text_flush(t);
}

/* recipients - attRecipTable: rows of property lists */
static void recipients(struct tnef *t, const char *p, size_t n)
{
	size_t i = 4, used;
	uint32_t rows;
	char why[64];

	if (n < 4 || (rows = le32(p)) > (n - 4) / 4) {
		snprintf(why, sizeof(why), "%u recipients in %zu bytes", n < 4 ? 0 : le32(p),
			 n);
		broken(t, p, p + n, why);
		return;
	}
	for (uint32_t r = 0; r < rows; r++) {
		if (props(t, NULL, p + i, n - i, &used) < 0)
			return;
		i += used;
	}
	if (i < n)
		strings(t, p + i, n - i);
	text_flush(t);
}

/* ---- the stream ------------------------------------------------------------ */

/* attribute - one attribute of the stream */
static void attribute(struct tnef *t, uint32_t id, const char *p, size_t n)
{
	struct buf u;

	switch (id) {
	case ATT_OEM_CODEPAGE:
		if (n >= 4)
			codepage(t, le32(p));
		return;
	case ATT_MSG_PROPS:
		props_attr(t, NULL, p, n);
		return;
	case ATT_RECIP_TABLE:
		recipients(t, p, n);
		return;
	case ATT_ATTACH_RENDDATA: /* the next attachment starts */
		att_end(t);
		att_begin(t);
		strings(t, p, n);
		return;
	case ATT_ATTACH_TITLE:
		att_begin(t);
		while (n > 0 && p[n - 1] == 0)
			n--;
		buf_init(&u, n * 3 + 16);
		(void) detector_charset_to_utf8(t->cs, p, n, &u, n);
		att_name(t, 1, u.data, u.len);
		buf_free(&u);
		return;
	case ATT_ATTACH_DATA:
		att_begin(t);
		att_content(t, p, n, 0);
		return;
	case ATT_ATTACHMENT:
		att_begin(t);
		props_attr(t, &t->att, p, n);
		return;
	}
	if (id >> 16 == ATP_STRING || id >> 16 == ATP_TEXT)
		text8(t, p, n);
	else
		strings(t, p, n);
}

/* stream - the attributes, one after the other */
static void stream(struct tnef *t)
{
	size_t pos = 6;
	char why[96];

	while (pos < t->len && !t->stop && !detector_scan_expired(t->sc)) {
		const char *a = t->d + pos;
		unsigned level;
		uint32_t id, n;

		if (t->len - pos < 11) {
			broken(t, a, t->d + t->len, "attribute cut short");
			return;
		}
		level = (unsigned char) a[0];
		id = le32(a + 1);
		n = le32(a + 5);
		if (level != 1 && level != 2) {
			snprintf(why, sizeof(why), "attribute level %u", level);
			broken(t, a, t->d + t->len, why);
			return;
		}
		if (n > t->len - pos - 11) {
			snprintf(why, sizeof(why), "attribute 0x%08x of %u bytes past the end",
				 id, n);
			broken(t, a, t->d + t->len, why);
			return;
		}
		attribute(t, id, a + 9, n);
		pos += 11 + (size_t) n;
	}
}

/* detector_tnef_scan - a TNEF stream: its text, properties and attachments */
void detector_tnef_scan(struct det_scan *sc, const char *data, size_t len, unsigned where,
			int depth, const char *name)
{
	struct tnef t;

	if (depth > var_detector_depth_limit) {
		detector_scan_limit(sc, "depth");
		return;
	}
	if (len < 6 || le32(data) != TNEF_SIGNATURE) {
		detector_unscannable(sc, "broken TNEF %.60s (no signature)", name);
		return;
	}
	memset(&t, 0, sizeof(t));
	t.sc = sc;
	t.d = data;
	t.len = len;
	t.where = where;
	t.depth = depth;
	t.name = name;
	snprintf(t.cs, sizeof(t.cs), "windows-1252");
	buf_init(&t.text, 4096);
	stream(&t);
	att_end(&t);
	text_flush(&t);
	buf_free(&t.text);
}
