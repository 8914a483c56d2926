/*
 * detector_msg - documents inside documents: the dispatch's entry for
 * compound files, RTF and attached messages, and Outlook .msg files
 *
 * detector_document_scan() takes content that is a document rather than
 * plain text: an OLE2 compound file (detector_ole_scan), an RTF document
 * (detector_rtf_scan), or a message saved as a file (.eml in a zip,
 * message/rfc822 sent as octet-stream), which goes through the MIME walker
 * as an attached message. It returns 0 for anything else.
 *
 * detector_msg_scan() reads an Outlook message (MS-OXMSG) in a compound
 * file. Its properties are streams named __substg1.0_PPPPTTTT (property
 * PPPP, type TTTT), in the message's storage, its recipients' and its
 * attachments' storages, and attached messages' storages below those:
 *
 *	strings (001F UTF-16, 001E 8-bit)	subject, body, names, addresses,
 *						headers: all scanned as text; 8-bit
 *						ones in the message's code page
 *						(PR_MESSAGE_CODEPAGE, else
 *						PR_INTERNET_CPID, in the fixed-size
 *						properties of the message or of the
 *						attached message they belong to),
 *						Windows-1252 without one
 *	PR_RTF_COMPRESSED (1009)		decompressed, read as RTF
 *	PR_HTML (1013)				read as HTML
 *	PR_ATTACH_DATA_BIN (3701)		an attachment: its name (3707,
 *						3704, 3001) is noted and scanned,
 *						its content goes to the dispatch
 *	other binary properties			to the caller's generic pass
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "detector.h"
#include "detector_ole.h"

#define MSG_PREFIX          "__substg1.0_"
#define MSG_PROPS           "__properties_version1.0"
#define MSG_EMBEDDED        "__substg1.0_3701000D" /* an attached message's storage */
#define MSG_PROPS_MAX       (1024 * 1024)          /* fixed-size properties read at most */
#define PR_MESSAGE_CODEPAGE 0x3ffd0003u
#define PR_INTERNET_CPID    0x3fde0003u

/* prop_of - property id and type of a __substg1.0_ stream name; -1 if not one */
static int prop_of(const char *name, unsigned *prop, unsigned *type)
{
	char hex[9];
	unsigned long v;
	char *end;

	if (strncasecmp(name, MSG_PREFIX, sizeof(MSG_PREFIX) - 1) != 0
	    || strlen(name) < sizeof(MSG_PREFIX) - 1 + 8)
		return -1;
	memcpy(hex, name + sizeof(MSG_PREFIX) - 1, 8);
	hex[8] = 0;
	v = strtoul(hex, &end, 16);
	if (*end)
		return -1;
	*prop = (unsigned) (v >> 16);
	*type = (unsigned) (v & 0xffff);
	return 0;
}

/* utf16_text - UTF-16LE bytes as UTF-8 */
static void utf16_text(const char *d, size_t len, struct buf *out)
{
	detector_charset_to_utf8("UTF-16LE", d, len & ~(size_t) 1, out, len * 2 + 16);
}

/* le32 - a little-endian field */
static uint32_t le32(const char *p)
{
	const unsigned char *u = (const unsigned char *) p;

	return (uint32_t) u[0] | (uint32_t) u[1] << 8 | (uint32_t) u[2] << 16
		| (uint32_t) u[3] << 24;
}

/* props_codepage - PR_MESSAGE_CODEPAGE, else PR_INTERNET_CPID, of a message storage; 0 */
static unsigned props_codepage(struct ole *o, uint32_t storage, unsigned *cpid)
{
	uint32_t id = ole_child(o, storage, MSG_PROPS);
	size_t head = storage == 0 ? 32 : 24; /* the top message's header is longer */
	unsigned cp = 0;
	struct buf b;

	*cpid = 0;
	if (id == OLE_NONE || o->dir[id].type != OLE_STREAM)
		return 0;
	buf_init(&b, 1024);
	if (ole_read(o, id, &b, MSG_PROPS_MAX) == 0 || b.len > 0)
		for (size_t at = head; at + 16 <= b.len; at += 16) {
			uint32_t tag = le32(b.data + at), v = le32(b.data + at + 8);

			if (tag == PR_MESSAGE_CODEPAGE && v > 0 && v < 65536)
				cp = v;
			else if (tag == PR_INTERNET_CPID && v > 0 && v < 65536)
				*cpid = v;
		}
	buf_free(&b);
	return cp;
}

/* msg_codepage - the code page of a storage's 8-bit strings: its message's; 0 if none */
static unsigned msg_codepage(struct ole *o, uint32_t storage, int internet)
{
	/* up to the message (or attached message) the storage belongs to */
	for (size_t hops = 0; storage != OLE_NONE && storage < o->ndir && hops < o->ndir;
	     hops++) {
		if (storage == 0 || strcasecmp(o->dir[storage].name, MSG_EMBEDDED) == 0) {
			unsigned cpid, cp = props_codepage(o, storage, &cpid);

			return internet ? (cpid ? cpid : cp) : (cp ? cp : cpid);
		}
		storage = o->dir[storage].parent;
	}
	return 0;
}

/* codepage_charset - a Windows code page's name for iconv; NULL if unknown */
static const char *codepage_charset(unsigned cp, char *buf, size_t len)
{
	static const struct {
		unsigned cp;
		const char *name;
	} names[] = {
		{1200, "UTF-16LE"},     {1201, "UTF-16BE"},     {65001, "UTF-8"},
		{65000, "UTF-7"},       {20127, "US-ASCII"},    {20866, "KOI8-R"},
		{21866, "KOI8-U"},      {10000, "MACINTOSH"},   {50220, "ISO-2022-JP"},
		{50221, "ISO-2022-JP"}, {50222, "ISO-2022-JP"}, {50225, "ISO-2022-KR"},
		{51932, "EUC-JP"},      {51936, "GB2312"},      {51949, "EUC-KR"},
		{52936, "HZ-GB-2312"},  {54936, "GB18030"},     {20932, "EUC-JP"},
	};

	if (cp == 0)
		return NULL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].cp == cp)
			return names[i].name;
	if (cp >= 28591 && cp <= 28605)
		snprintf(buf, len, "ISO-8859-%u", cp - 28590);
	else
		snprintf(buf, len, "CP%u", cp); /* 874, 932, 936, 949, 950, 125x, 866... */
	return detector_charset_known(buf) ? buf : NULL;
}

/* string8_text - an 8-bit string property in its message's code page */
static void string8_text(struct ole *o, uint32_t storage, const char *d, size_t len,
			 struct buf *out)
{
	char cs[32];
	const char *charset = codepage_charset(msg_codepage(o, storage, 0), cs, sizeof(cs));

	detector_charset_to_utf8(charset ? charset : "windows-1252", d, len, out, len * 4 + 16);
}

/* attach_name - an attachment's file name from its storage, or "" */
static void attach_name(struct det_scan *sc, struct ole *o, uint32_t storage, char *name,
			size_t len, const char *msgname)
{
	static const char *const props[] = {"__substg1.0_3707001F",
					    "__substg1.0_3704001F",
					    "__substg1.0_3001001F",
					    "__substg1.0_3707001E",
					    "__substg1.0_3704001E",
					    "__substg1.0_3001001E",
					    NULL};
	struct buf raw, utf;

	name[0] = 0;
	buf_init(&raw, 256);
	buf_init(&utf, 256);
	for (int i = 0; props[i] && !name[0]; i++) {
		uint32_t id = ole_child(o, storage, props[i]);

		if (id == OLE_NONE || ole_read(o, id, &raw, 1024) < 0)
			continue;
		buf_reset(&utf);
		if (props[i][strlen(props[i]) - 1] == 'E')
			string8_text(o, storage, raw.data, raw.len, &utf);
		else
			utf16_text(raw.data, raw.len, &utf);
		snprintf(name, len, "%s", utf.data);
	}
	(void) sc;
	(void) msgname;
	buf_free(&raw);
	buf_free(&utf);
}

/* msg_property - one property stream of an Outlook message; 1 if read */
static int msg_property(struct det_scan *sc, struct ole *o, uint32_t id, int depth,
			const char *name)
{
	unsigned prop, type;
	struct buf data, text;
	char fname[256];
	int done = 1;

	if (prop_of(o->dir[id].name, &prop, &type) < 0)
		return 0;
	type &= 0x0fff; /* multi-valued items read as single ones */
	if (type != 0x001f && type != 0x001e && type != 0x0102)
		return 0;
	if (type == 0x0102 && prop != 0x1009 && prop != 0x1013 && prop != 0x3701)
		return 0; /* other binaries: the generic pass */
	buf_init(&data, 1024);
	buf_init(&text, 1024);
	if (detector_ole_stream(sc, o, id, &data, name) < 0 && data.len == 0)
		goto out;
	if (type == 0x001f) {
		utf16_text(data.data, data.len, &text);
		detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
	} else if (type == 0x001e) {
		string8_text(o, o->dir[id].parent, data.data, data.len, &text);
		detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
	} else if (prop == 0x1009) { /* PR_RTF_COMPRESSED */
		struct buf rtf;
		size_t lim = (size_t) var_detector_decoded_size_limit;

		buf_init(&rtf, data.len * 2 + 64);
		if (detector_rtf_decompress(data.data, data.len, &rtf,
					    sc->decoded >= lim ? 0 : lim - sc->decoded)
		    < 0)
			detector_unscannable(sc, "broken compressed RTF in %s", name);
		sc->decoded += rtf.len;
		detector_rtf_text(sc, rtf.data, rtf.len, depth, name, &text);
		detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
		buf_free(&rtf);
	} else if (prop == 0x1013) { /* PR_HTML, in the body's code page */
		char cs[32];

		detector_content_scan(
			sc, data.data, data.len, "text/html",
			codepage_charset(msg_codepage(o, o->dir[id].parent, 1), cs, sizeof(cs)),
			DET_W_ATTACH, depth, "html");
	} else { /* PR_ATTACH_DATA_BIN */
		const char *sniffed = data.len ? detector_sniff(data.data, data.len) : "empty";

		attach_name(sc, o, o->dir[id].parent, fname, sizeof(fname), name);
		detector_note_attachment(sc, fname, sniffed);
		sc->content_name = fname;
		detector_content_scan(sc, data.data, data.len, "application/octet-stream", NULL,
				      DET_W_ATTACH, depth, sniffed);
		sc->content_name = NULL;
	}
out:
	buf_free(&data);
	buf_free(&text);
	return done;
}

/* detector_msg_scan - an Outlook message: every property, every attachment */
void detector_msg_scan(struct det_scan *sc, struct ole *o, int depth, const char *name,
		       unsigned char *done)
{
	for (uint32_t i = 1; i < o->ndir && !detector_scan_expired(sc); i++) {
		if (!o->dir[i].used || o->dir[i].type != OLE_STREAM)
			continue;
		if (msg_property(sc, o, i, depth, name))
			done[i] = 1;
	}
}

/* header_name - the length of a header field name at p, or 0 */
static size_t header_name(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && i < 76 && (isalnum((unsigned char) p[i]) || p[i] == '-'))
		i++;
	return i > 0 && i < len && p[i] == ':' ? i : 0;
}

/* looks_like_message - header fields of a mail message, then a blank line */
static int looks_like_message(const char *d, size_t len, int hinted)
{
	static const char *const known[] = {"From",
					    "To",
					    "Subject",
					    "Date",
					    "Received",
					    "Return-Path",
					    "Message-ID",
					    "MIME-Version",
					    "Content-Type",
					    "Delivered-To",
					    "Cc",
					    "Reply-To",
					    NULL};
	size_t pos = 0;
	int fields = 0, knowns = 0;

	while (pos < len && fields < 200) {
		const char *lf = memchr(d + pos, '\n', len - pos);
		size_t end = lf ? (size_t) (lf - d) : len, n = end - pos, h;

		if (n > 0 && d[end - 1] == '\r')
			n--;
		if (n == 0)
			return knowns >= (hinted ? 1 : 2);
		if (d[pos] != ' ' && d[pos] != '\t') {
			if ((h = header_name(d + pos, n)) == 0)
				return 0;
			fields++;
			for (int k = 0; known[k]; k++)
				if (strlen(known[k]) == h
				    && strncasecmp(d + pos, known[k], h) == 0)
					knowns++;
		}
		if (lf == NULL)
			break;
		pos = end + 1;
	}
	return 0;
}

/* ends_with - does s end with suffix (case-insensitive)? */
static int ends_with(const char *s, const char *suffix)
{
	size_t a = s ? strlen(s) : 0, b = strlen(suffix);

	return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* detector_document_scan - compound files, RTF, saved messages; 0 if none */
int detector_document_scan(struct det_scan *sc, const char *data, size_t len, unsigned where,
			   int depth, const char *sniffed, const char *ctype)
{
	char name[256];
	int hinted;

	snprintf(name, sizeof(name), "%s",
		 sc->content_name && *sc->content_name ? sc->content_name : "-");
	if (strcmp(sniffed, "ole") == 0) {
		detector_ole_scan(sc, data, len, depth, name);
		return 1;
	}
	if (strcmp(sniffed, "rtf") == 0) {
		detector_rtf_scan(sc, data, len, where, depth, name);
		return 1;
	}
	if (strcmp(sniffed, "tnef") == 0) {
		detector_tnef_scan(sc, data, len, where, depth, name);
		return 1;
	}
	if (strcmp(sniffed, "applefile") == 0) {
		detector_applefile_scan(sc, data, len, depth, name);
		return 1;
	}
	hinted = ends_with(name, ".eml") || (ctype && strcasecmp(ctype, "message/rfc822") == 0);
	if (strcmp(sniffed, "text") == 0 && (hinted || where == DET_W_ATTACH)
	    && looks_like_message(data, len, hinted)) {
		if (depth > var_detector_depth_limit) {
			detector_scan_limit(sc, "depth");
			detector_scan_unit(sc, DET_W_ATTACH, NULL, data, len);
		} else
			detector_message_scan(sc, data, len, depth);
		return 1;
	}
	return 0;
}
