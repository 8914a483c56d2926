/*
 * detector_rtf - RTF documents, and Outlook's compressed RTF
 *
 * detector_rtf_scan() reads an RTF document the way a word processor
 * does and scans the text a reader sees:
 *
 *	text		plain characters, \'hh in the document's code page
 *			(\ansicpgN, Windows-1252 by default), \uN characters
 *			(with \ucN replacement characters skipped), \~ \_
 *	layout		\par \line \row \sect \page: line breaks; \tab \cell:
 *			tabs
 *	destinations	font and style tables, document information (title,
 *			author, keywords), field instructions (HYPERLINK
 *			"..."), bookmarks and unknown \* destinations are text,
 *			each on a line of its own
 *	hex data	\objdata (an embedded OLE object: its OLE1 header is
 *			read and the native data, a workbook, a package's
 *			file, goes back to the dispatch), \pict, \themedata,
 *			\datastore...: decoded and given to the dispatch
 *	\binN		N raw bytes, handled as the hex data around them
 *	\htmlrtf	in HTML encapsulated by Outlook, the RTF-only copy of
 *			the text is not read twice
 *
 * detector_rtf_decompress() undoes Outlook's compressed RTF (MS-OXRTFCP:
 * "LZFu", or "MELA" for stored) into a caller's buffer, bounded.
 *
 * Group nesting deeper than RTF_DEPTH keeps the state of the deepest
 * level; output is bounded by the decoded budget; nothing reads past the
 * input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "detector.h"

#define RTF_DEPTH 256
#define RTF_WORD  32

enum rtf_dest {
	RTF_TEXT, /* characters are text */
	RTF_HEX,  /* characters are hex digits of binary data */
};

struct rtf_group {
	enum rtf_dest dest;
	int uc;           /* replacement characters after \uN */
	int htmlrtf;      /* inside \htmlrtf ... \htmlrtf0 */
	char hexname[16]; /* what the hex data is: objdata, pict... */
	size_t hexstart;  /* where its bytes start in the hex buffer */
};

struct rtf {
	struct det_scan *sc;
	int depth; /* nesting, for the dispatch */
	const char *name;
	struct buf *out;
	struct buf bytes; /* 8-bit text not yet converted */
	struct buf hex;   /* decoded binary data of open hex groups */
	int hexhalf;      /* a hex digit waiting for its pair */
	int codepage;
	int skip; /* replacement characters still to skip */
	unsigned hi_surrogate;
	struct rtf_group st[RTF_DEPTH];
	int level;
	size_t limit;
	int cut; /* the limit left part of the document unread */
};

/* Windows-1252's 0x80-0x9f */
static const unsigned short rtf_cp1252[32] = {
	0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
	0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd, 0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
	0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178,
};

/* put_cp - a code point as UTF-8 */
static void put_cp(struct buf *out, unsigned long cp)
{
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
		cp = 0xfffd;
	if (cp < 0x80)
		buf_putc(out, (int) cp);
	else if (cp < 0x800) {
		buf_putc(out, 0xc0 | (int) (cp >> 6));
		buf_putc(out, 0x80 | (int) (cp & 0x3f));
	} else if (cp < 0x10000) {
		buf_putc(out, 0xe0 | (int) (cp >> 12));
		buf_putc(out, 0x80 | (int) (cp >> 6 & 0x3f));
		buf_putc(out, 0x80 | (int) (cp & 0x3f));
	} else {
		buf_putc(out, 0xf0 | (int) (cp >> 18));
		buf_putc(out, 0x80 | (int) (cp >> 12 & 0x3f));
		buf_putc(out, 0x80 | (int) (cp >> 6 & 0x3f));
		buf_putc(out, 0x80 | (int) (cp & 0x3f));
	}
}

/* flush_bytes - 8-bit text in the document's code page, as UTF-8 */
static void flush_bytes(struct rtf *r)
{
	if (r->bytes.len == 0)
		return;
	if (r->codepage == 1252 || r->codepage == 0) {
		for (size_t i = 0; i < r->bytes.len; i++) {
			unsigned char c = (unsigned char) r->bytes.data[i];

			put_cp(r->out, c >= 0x80 && c < 0xa0 ? rtf_cp1252[c - 0x80] : c);
		}
	} else {
		char cs[24];

		snprintf(cs, sizeof(cs), "CP%d", r->codepage);
		detector_charset_to_utf8(cs, r->bytes.data, r->bytes.len, r->out,
					 r->bytes.len * 4 + 16);
	}
	buf_reset(&r->bytes);
}

/* cur - the innermost group's state */
static struct rtf_group *cur(struct rtf *r)
{
	return &r->st[r->level < RTF_DEPTH ? r->level : RTF_DEPTH - 1];
}

/* put_char - one 8-bit character of text (or a hex digit, in hex data) */
static void put_byte(struct rtf *r, unsigned char c)
{
	struct rtf_group *g = cur(r);

	if (r->skip > 0) {
		r->skip--;
		return;
	}
	if (g->dest == RTF_HEX) {
		int v = c >= '0' && c <= '9'                     ? c - '0'
			: (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
								 : -1;

		if (v < 0)
			return;
		if (r->hexhalf >= 0) {
			if (r->hex.len < r->limit)
				buf_putc(&r->hex, r->hexhalf << 4 | v);
			else
				r->cut = 1;
			r->hexhalf = -1;
		} else
			r->hexhalf = v;
		return;
	}
	if (g->htmlrtf || r->out->len >= r->limit)
		return;
	buf_putc(&r->bytes, c);
}

/* put_unicode - a \uN character */
static void put_unicode(struct rtf *r, long n)
{
	unsigned long c = n < 0 ? (unsigned long) (n + 65536) : (unsigned long) n;

	flush_bytes(r);
	r->skip = cur(r)->uc;
	if (cur(r)->dest != RTF_TEXT || cur(r)->htmlrtf)
		return;
	if (c >= 0xd800 && c < 0xdc00) {
		r->hi_surrogate = (unsigned) c;
		return;
	}
	if (c >= 0xdc00 && c < 0xe000 && r->hi_surrogate) {
		c = 0x10000 + ((r->hi_surrogate - 0xd800) << 10) + (c - 0xdc00);
		r->hi_surrogate = 0;
	}
	put_cp(r->out, c);
}

/* put_sep - a line break or tab into the text */
static void put_sep(struct rtf *r, char c)
{
	flush_bytes(r);
	if (cur(r)->dest == RTF_TEXT && !cur(r)->htmlrtf)
		buf_putc(r->out, c);
}

/* rd_u32 - a little-endian field of OLE1 data */
static uint32_t rd_u32(const unsigned char *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
		| (uint32_t) p[3] << 24;
}

/* objdata - an OLE1 embedded object: the native data to the dispatch */
static void objdata(struct rtf *r, const char *d, size_t len)
{
	const unsigned char *u = (const unsigned char *) d;
	size_t i = 8;
	char cls[64] = "";

	if (len < 8 || rd_u32(u + 4) != 2)
		goto raw;             /* not an embedded object: its bytes as they are */
	for (int k = 0; k < 3; k++) { /* class, topic and item names */
		uint32_t n;

		if (i + 4 > len)
			goto raw;
		n = rd_u32(u + i);
		i += 4;
		if (n > len - i)
			goto raw;
		if (k == 0)
			snprintf(cls, sizeof(cls), "%.*s", (int) (n > 0 ? n - 1 : 0), d + i);
		i += n;
	}
	if (i + 4 > len || rd_u32(u + i) > len - i - 4)
		goto raw;
	{
		size_t n = rd_u32(u + i);

		d += i + 4;
		len = n;
	}
	if (strcmp(cls, "Package") == 0) {
		detector_ole_package(r->sc, d, len, r->depth, r->name);
		return;
	}
raw:
	r->sc->content_name = r->name;
	detector_content_scan(r->sc, d, len, "application/octet-stream", NULL, DET_W_ATTACH,
			      r->depth, len ? detector_sniff(d, len) : "empty");
	r->sc->content_name = NULL;
}

/* group_end - close a group: its hex data, if it held any, is content */
static void group_end(struct rtf *r)
{
	struct rtf_group *g = cur(r);

	flush_bytes(r);
	if (r->level == 0)
		return;
	if (r->level >= RTF_DEPTH) { /* past the tracked depth */
		r->level--;
		return;
	}
	if (g->dest == RTF_HEX && r->st[r->level - 1].dest != RTF_HEX) {
		size_t start = g->hexstart < r->hex.len ? g->hexstart : r->hex.len;
		const char *d = r->hex.data + start;
		size_t n = r->hex.len - start;

		r->sc->decoded += n;
		if (n > 0 && strcmp(g->hexname, "objdata") == 0)
			objdata(r, d, n);
		else if (n > 0) {
			r->sc->content_name = r->name;
			detector_content_scan(r->sc, d, n, "application/octet-stream", NULL,
					      DET_W_ATTACH, r->depth, detector_sniff(d, n));
			r->sc->content_name = NULL;
		}
		r->hex.len = start;
		r->hexhalf = -1;
	} else if (g->dest == RTF_TEXT && g->hexname[0] == '*')
		buf_putc(r->out, '\n');
	r->level--;
}

/* control - act on one control word */
static void control(struct rtf *r, const char *w, int has_arg, long arg, int starred)
{
	static const char *const hexdest[] = {
		"objdata",   "pict",    "themedata", "colorschememapping",
		"datastore", "blipuid", NULL};
	struct rtf_group *g = cur(r);

	if (!strcmp(w, "par") || !strcmp(w, "line") || !strcmp(w, "row") || !strcmp(w, "sect")
	    || !strcmp(w, "page")) {
		put_sep(r, '\n');
		return;
	}
	if (!strcmp(w, "tab") || !strcmp(w, "cell")) {
		put_sep(r, '\t');
		return;
	}
	if (!strcmp(w, "u") && has_arg) {
		put_unicode(r, arg);
		return;
	}
	r->skip = 0;
	if (!strcmp(w, "uc") && has_arg && arg >= 0 && arg < 10) {
		g->uc = (int) arg;
		return;
	}
	if (!strcmp(w, "ansicpg") && has_arg && arg > 0 && arg < 100000) {
		flush_bytes(r);
		r->codepage = (int) arg;
		return;
	}
	if (!strcmp(w, "htmlrtf")) {
		flush_bytes(r);
		g->htmlrtf = !has_arg || arg != 0;
		return;
	}
	if (!strcmp(w, "emdash") || !strcmp(w, "endash")) {
		put_sep(r, '-');
		return;
	}
	for (int i = 0; hexdest[i]; i++)
		if (!strcmp(w, hexdest[i])) {
			flush_bytes(r);
			if (g->dest != RTF_HEX) {
				g->dest = RTF_HEX;
				g->hexstart = r->hex.len;
				r->hexhalf = -1;
			}
			snprintf(g->hexname, sizeof(g->hexname), "%s", w);
			return;
		}
	if (starred && g->dest == RTF_TEXT) {
		/* an ignorable destination we do not know: its text on a line */
		flush_bytes(r);
		if (r->out->len && r->out->data[r->out->len - 1] != '\n')
			buf_putc(r->out, '\n');
		g->hexname[0] = '*';
	}
}

/* rtf_parse - the whole document */
static void rtf_parse(struct rtf *r, const char *in, size_t len)
{
	size_t i = 0;
	int starred = 0;

	while (i < len && r->out->len < r->limit) {
		unsigned char c = (unsigned char) in[i];

		if ((i & 0xffff) == 0 && detector_scan_expired(r->sc))
			return;
		if (c == '{') {
			flush_bytes(r);
			if (r->level + 1 < RTF_DEPTH) {
				struct rtf_group *g = &r->st[r->level + 1];

				*g = *cur(r);
				if (g->dest != RTF_HEX)
					g->hexname[0] = 0;
			}
			r->level++;
			r->skip = 0;
			i++;
			continue;
		}
		if (c == '}') {
			group_end(r);
			r->skip = 0;
			i++;
			continue;
		}
		if (c == '\r' || c == '\n') {
			i++;
			continue;
		}
		if (c != '\\') {
			put_byte(r, c);
			i++;
			continue;
		}
		/* a control symbol or word */
		if (i + 1 >= len)
			break;
		c = (unsigned char) in[i + 1];
		if (c == '\'') {
			int hi, lo;

			if (i + 3 >= len)
				break;
			hi = in[i + 2];
			lo = in[i + 3];
			hi = hi >= '0' && hi <= '9' ? hi - '0'
				: (hi | 0x20) >= 'a' && (hi | 0x20) <= 'f'
				? (hi | 0x20) - 'a' + 10
				: -1;
			lo = lo >= '0' && lo <= '9' ? lo - '0'
				: (lo | 0x20) >= 'a' && (lo | 0x20) <= 'f'
				? (lo | 0x20) - 'a' + 10
				: -1;
			if (hi >= 0 && lo >= 0) {
				if (cur(r)->dest == RTF_HEX) {
					put_byte(r, (unsigned char) in[i + 2]);
					put_byte(r, (unsigned char) in[i + 3]);
				} else
					put_byte(r, (unsigned char) (hi << 4 | lo));
			}
			i += 4;
			continue;
		}
		if (c == '*') {
			starred = 1;
			i += 2;
			continue;
		}
		if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
			/* \\ \{ \} are characters; \~ a space; \_ a hyphen; \<newline> \par */
			if (c == '\\' || c == '{' || c == '}')
				put_byte(r, c);
			else if (c == '~')
				put_byte(r, ' ');
			else if (c == '_')
				put_byte(r, '-');
			else if (c == '\n' || c == '\r')
				put_sep(r, '\n');
			i += 2;
			continue;
		}
		{
			char word[RTF_WORD + 1];
			size_t j = i + 1, k = 0;
			long arg = 0;
			int has_arg = 0, neg = 0;

			while (j < len && ((in[j] | 0x20) >= 'a' && (in[j] | 0x20) <= 'z')) {
				if (k < RTF_WORD)
					word[k++] = in[j];
				j++;
			}
			word[k] = 0;
			if (j < len && in[j] == '-') {
				neg = 1;
				j++;
			}
			while (j < len && in[j] >= '0' && in[j] <= '9') {
				if (arg < 100000000)
					arg = arg * 10 + (in[j] - '0');
				has_arg = 1;
				j++;
			}
			if (neg)
				arg = -arg;
			if (j < len && in[j] == ' ')
				j++;
			i = j;
			if (!strcmp(word, "bin") && has_arg && arg > 0) {
				size_t n = (size_t) arg < len - i ? (size_t) arg : len - i;

				flush_bytes(r);
				if (cur(r)->dest == RTF_HEX) {
					if (r->hexhalf < 0 && r->hex.len + n <= r->limit)
						buf_append(&r->hex, in + i, n);
					else if (r->hexhalf < 0)
						r->cut = 1;
				} else if (n > 0) {
					r->sc->content_name = r->name;
					detector_content_scan(r->sc, in + i, n,
							      "application/octet-stream", NULL,
							      DET_W_ATTACH, r->depth,
							      detector_sniff(in + i, n));
					r->sc->content_name = NULL;
				}
				i += n;
				starred = 0;
				continue;
			}
			if (r->skip > 0) {
				r->skip--; /* a replacement character written as a word */
				starred = 0;
				continue;
			}
			control(r, word, has_arg, arg, starred);
			starred = 0;
		}
	}
	if (i < len)
		r->cut = 1;
	flush_bytes(r);
	while (r->level > 0)
		group_end(r);
	if (r->cut)
		detector_scan_limit(r->sc, "decoded size");
}

/* detector_rtf_text - an RTF document's text into out, objects to the dispatch */
void detector_rtf_text(struct det_scan *sc, const char *in, size_t len, int depth,
		       const char *name, struct buf *out)
{
	size_t lim = (size_t) var_detector_decoded_size_limit;
	struct rtf *r = xcalloc(1, sizeof(*r));

	r->sc = sc;
	r->depth = depth;
	r->name = name;
	r->out = out;
	r->codepage = 1252;
	r->hexhalf = -1;
	r->st[0].uc = 1;
	r->limit = sc->decoded >= lim ? 0 : lim - sc->decoded;
	if (r->limit > len + 4096)
		r->limit = len + 4096; /* text is never longer than its RTF */
	buf_init(&r->bytes, 256);
	buf_init(&r->hex, 256);
	rtf_parse(r, in, len);
	buf_free(&r->bytes);
	buf_free(&r->hex);
	free(r);
}

/* detector_rtf_scan - an RTF attachment */
void detector_rtf_scan(struct det_scan *sc, const char *in, size_t len, unsigned where,
		       int depth, const char *name)
{
	struct buf text;

	if (depth > var_detector_depth_limit) {
		detector_scan_limit(sc, "depth");
		return;
	}
	buf_init(&text, len / 2 + 64);
	detector_rtf_text(sc, in, len, depth, name, &text);
	detector_scan_unit(sc, where, NULL, text.data, text.len);
	buf_free(&text);
}

/* detector_rtf_decompress - Outlook's compressed RTF; -1 if it is not */
int detector_rtf_decompress(const char *in, size_t len, struct buf *out, size_t limit)
{
	static const char prefix[] =
		"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}"
		"{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbol"
		"ArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par "
		"\\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";
	const unsigned char *p = (const unsigned char *) in;
	unsigned char dict[4096];
	size_t wpos = sizeof(prefix) - 1, i = 16, raw, comp, end;
	uint32_t type;

	if (len < 16)
		return -1;
	comp = rd_u32(p);
	raw = rd_u32(p + 4);
	type = rd_u32(p + 8);
	end = comp + 4 < len ? comp + 4 : len;
	if (raw < limit)
		limit = raw;
	if (type == 0x414c454du) { /* "MELA": stored */
		size_t n = len - 16 < limit ? len - 16 : limit;

		buf_append(out, in + 16, n);
		return 0;
	}
	if (type != 0x75465a4cu) /* "LZFu" */
		return -1;
	memset(dict, 0, sizeof(dict));
	memcpy(dict, prefix, sizeof(prefix) - 1);
	while (i < end && out->len < limit) {
		unsigned flags = p[i++];

		for (int b = 0; b < 8 && i < end && out->len < limit; b++) {
			if (!(flags >> b & 1)) {
				dict[wpos] = p[i];
				wpos = (wpos + 1) & 4095;
				buf_putc(out, p[i++]);
				continue;
			}
			if (i + 2 > end)
				return 0;
			{
				unsigned ref = (unsigned) p[i] << 8 | p[i + 1];
				size_t off = ref >> 4, n = (ref & 15) + 2;

				i += 2;
				if (off == wpos)
					return 0; /* the end mark */
				for (size_t k = 0; k < n && out->len < limit; k++) {
					unsigned char c = dict[(off + k) & 4095];

					dict[wpos] = c;
					wpos = (wpos + 1) & 4095;
					buf_putc(out, c);
				}
			}
		}
	}
	return 0;
}
