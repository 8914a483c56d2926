/*
 * detector_text - decoders: how a person would read the bytes
 *
 * detector_b64_decode(), detector_qp_decode()
 *	content transfer encodings; garbage is skipped, never fatal.
 * detector_rfc2047_decode()
 *	encoded words of header values (subjects, file names) to UTF-8;
 *	whitespace between adjacent encoded words is dropped (RFC 2047 6.2).
 * detector_charset_to_utf8()
 *	any charset iconv knows, to UTF-8; invalid sequences become U+FFFD.
 *	Descriptors are cached (a small fixed table).
 * detector_html_to_text(), detector_xml_to_text()
 *	markup to the text a reader sees: tags dropped (block elements become
 *	line breaks, inline ones nothing, so "<b>4111</b>1111" stays one
 *	number), entities decoded, <script> and <style> skipped.
 * detector_sniff()
 *	the type of content by its first bytes, not by its name.
 * detector_subject_encode()
 *	a UTF-8 subject as header text: as is when ASCII, otherwise RFC 2047
 *	encoded words (B, UTF-8) cut on character boundaries.
 *
 * Every output goes to a struct buf with a caller's limit; nothing here
 * reads outside its input.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mem.h"
#include "detector.h"

#define B64_PAD		64
#define B64_SKIP	65

static unsigned char b64_table[256];
static int b64_ready;

/* b64_init - the decoding table */
static void b64_init(void)
{
	const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	memset(b64_table, B64_SKIP, sizeof(b64_table));
	for (int i = 0; i < 64; i++)
		b64_table[(unsigned char) alpha[i]] = (unsigned char) i;
	b64_table['='] = B64_PAD;
	b64_ready = 1;
}

/* detector_b64_decode - base64 to bytes, appended to out; bytes added */
size_t detector_b64_decode(const char *in, size_t len, struct buf *out,
			   unsigned *state, size_t limit)
{
	const unsigned char *p = (const unsigned char *) in;
	unsigned char *o;
	size_t  i = 0, start = out->len;
	uint32_t acc = 0;
	int     n = 0;

	(void) state;
	if (!b64_ready)
		b64_init();
	if (len / 4 * 3 + 3 > limit)
		len = limit / 3 * 4;
	buf_reserve(out, len / 4 * 3 + 4);
	o = (unsigned char *) out->data + out->len;
	while (i < len) {
		if (n == 0 && i + 4 <= len) {
			unsigned a = b64_table[p[i]], b = b64_table[p[i + 1]],
			        c = b64_table[p[i + 2]], d = b64_table[p[i + 3]];

			if ((a | b | c | d) < 64) {
				uint32_t v = a << 18 | b << 12 | c << 6 | d;

				*o++ = (unsigned char) (v >> 16);
				*o++ = (unsigned char) (v >> 8);
				*o++ = (unsigned char) v;
				i += 4;
				continue;
			}
		}
		unsigned v = b64_table[p[i++]];

		if (v < 64) {
			acc = acc << 6 | v;
			if (++n == 4) {
				*o++ = (unsigned char) (acc >> 16);
				*o++ = (unsigned char) (acc >> 8);
				*o++ = (unsigned char) acc;
				n = 0;
				acc = 0;
			}
		} else if (v == B64_PAD) {
			if (n == 2)
				*o++ = (unsigned char) (acc >> 4);
			else if (n == 3) {
				*o++ = (unsigned char) (acc >> 10);
				*o++ = (unsigned char) (acc >> 2);
			}
			n = 0;
			acc = 0;
		}
	}
	if (n == 2)
		*o++ = (unsigned char) (acc >> 4);
	else if (n == 3) {
		*o++ = (unsigned char) (acc >> 10);
		*o++ = (unsigned char) (acc >> 2);
	}
	out->len = (size_t) ((char *) o - out->data);
	out->data[out->len] = 0;
	return out->len - start;
}

/* hexval - a hex digit's value, or -1 */
static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* detector_qp_decode - quoted-printable to bytes; bytes added */
size_t detector_qp_decode(const char *in, size_t len, struct buf *out, size_t limit)
{
	size_t  i = 0, start = out->len;
	char   *o;

	if (len > limit)
		len = limit;
	buf_reserve(out, len + 1);
	o = out->data + out->len;
	while (i < len) {
		const char *eq = memchr(in + i, '=', len - i);
		size_t  run = eq ? (size_t) (eq - (in + i)) : len - i;

		memcpy(o, in + i, run);
		o += run;
		i += run;
		if (i >= len)
			break;
		/* at '=' */
		if (i + 1 < len && in[i + 1] == '\n') {
			i += 2;
		} else if (i + 2 < len && in[i + 1] == '\r' && in[i + 2] == '\n') {
			i += 3;
		} else if (i + 2 < len && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
			*o++ = (char) (hexval(in[i + 1]) << 4 | hexval(in[i + 2]));
			i += 3;
		} else {
			/* soft break with trailing white space, or a stray '=' */
			size_t  j = i + 1;

			while (j < len && (in[j] == ' ' || in[j] == '\t'))
				j++;
			if (j < len && (in[j] == '\r' || in[j] == '\n')) {
				i = j + (in[j] == '\r' && j + 1 < len && in[j + 1] == '\n') + 1;
			} else {
				*o++ = '=';
				i++;
			}
		}
	}
	out->len = (size_t) (o - out->data);
	out->data[out->len] = 0;
	return out->len - start;
}

/* detector_is_ascii - only 7-bit bytes? */
int detector_is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) s[i] >= 0x80)
			return 0;
	return 1;
}

/* utf8_seq_len - length of a valid UTF-8 sequence at p, 0 if invalid */
static size_t utf8_seq_len(const unsigned char *p, size_t left)
{
	unsigned char c = p[0];
	size_t  n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if (c == 0xe0 && p[1] < 0xa0)
		return 0;
	if (c == 0xed && p[1] > 0x9f)
		return 0;
	if (c == 0xf0 && p[1] < 0x90)
		return 0;
	if (c == 0xf4 && p[1] > 0x8f)
		return 0;
	return n;
}

/* detector_utf8_clean - copy, replacing invalid UTF-8 and NULs */
void detector_utf8_clean(const char *in, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *) in;
	size_t  i = 0;

	buf_reserve(out, len + 1);
	while (i < len) {
		size_t  n = utf8_seq_len(p + i, len - i);

		if (n == 0 || p[i] == 0) {
			buf_append(out, "\xef\xbf\xbd", 3);
			i++;
		} else {
			buf_append(out, p + i, n);
			i += n;
		}
	}
}

/* detector_charset_is_utf8 - UTF-8, ASCII or no charset at all */
int detector_charset_is_utf8(const char *cs)
{
	return cs == NULL || *cs == 0 || strcasecmp(cs, "utf-8") == 0
		|| strcasecmp(cs, "utf8") == 0 || strcasecmp(cs, "us-ascii") == 0
		|| strcasecmp(cs, "ascii") == 0;
}

#define ICONV_CACHE	8

static struct {
	char    name[40];
	iconv_t cd;
}       iconv_cache[ICONV_CACHE];
static unsigned iconv_next;

/* charset_open - a cached descriptor to UTF-8, or (iconv_t) -1 */
static iconv_t charset_open(const char *cs)
{
	char    name[40];
	iconv_t cd;
	size_t  slot;

	if (strlen(cs) >= sizeof(name))
		return (iconv_t) - 1;
	for (size_t i = 0; cs[i]; i++)
		name[i] = (char) toupper((unsigned char) cs[i]);
	name[strlen(cs)] = 0;
	/* mail habit: ISO-8859-1 and US-ASCII text is often really windows-1252 */
	if (strcmp(name, "ISO-8859-1") == 0 || strcmp(name, "LATIN1") == 0)
		strcpy(name, "WINDOWS-1252");
	for (size_t i = 0; i < ICONV_CACHE; i++)
		if (iconv_cache[i].name[0] && strcmp(iconv_cache[i].name, name) == 0) {
			iconv(iconv_cache[i].cd, NULL, NULL, NULL, NULL);
			return iconv_cache[i].cd;
		}
	if ((cd = iconv_open("UTF-8", name)) == (iconv_t) - 1)
		return cd;
	slot = iconv_next++ % ICONV_CACHE;
	if (iconv_cache[slot].name[0])
		iconv_close(iconv_cache[slot].cd);
	strcpy(iconv_cache[slot].name, name);
	iconv_cache[slot].cd = cd;
	return cd;
}

/* detector_charset_to_utf8 - convert text to UTF-8, appended to out */
void detector_charset_to_utf8(const char *cs, const char *in, size_t len,
			      struct buf *out, size_t limit)
{
	iconv_t cd;
	char   *ip = (char *) in;
	size_t  il = len;

	if (len > limit)
		il = len = limit;
	if (detector_charset_is_utf8(cs) || (cd = charset_open(cs)) == (iconv_t) - 1) {
		buf_append(out, in, len);
		return;
	}
	while (il > 0) {
		size_t  room, before;
		char   *op;

		buf_reserve(out, il * 2 + 16);
		room = out->cap - out->len - 1;
		op = out->data + out->len;
		before = room;
		if (iconv(cd, &ip, &il, &op, &room) != (size_t) - 1) {
			out->len += before - room;
			break;
		}
		out->len += before - room;
		if (errno == E2BIG)
			continue;
		/* EILSEQ or EINVAL: one replacement character, skip a byte */
		buf_append(out, "\xef\xbf\xbd", 3);
		ip++;
		il--;
		if (out->len > limit * 4)
			break;
	}
	out->data[out->len] = 0;
}

/* rfc2047_word - decode one encoded word at p; its length, or 0 */
static size_t rfc2047_word(const char *p, size_t len, struct buf *out)
{
	const char *q1, *q2, *end;
	char    cs[64];
	size_t  cslen;
	struct buf raw;

	if (len < 8 || p[0] != '=' || p[1] != '?')
		return 0;
	if ((q1 = memchr(p + 2, '?', len - 2)) == NULL || (size_t) (q1 - p) + 3 > len
	    || q1[2] != '?')
		return 0;
	q2 = q1 + 3;
	for (end = q2; end + 1 < p + len; end++)
		if (end[0] == '?' && end[1] == '=')
			break;
	if (end + 1 >= p + len)
		return 0;
	cslen = (size_t) (q1 - (p + 2));
	if (cslen == 0 || cslen >= sizeof(cs))
		return 0;
	memcpy(cs, p + 2, cslen);
	cs[cslen] = 0;
	if (strchr(cs, '*'))		/* RFC 2231 language suffix */
		*strchr(cs, '*') = 0;
	buf_init(&raw, (size_t) (end - q2) + 4);
	if (q1[1] == 'B' || q1[1] == 'b') {
		detector_b64_decode(q2, (size_t) (end - q2), &raw, NULL, (size_t) (end - q2) + 4);
	} else if (q1[1] == 'Q' || q1[1] == 'q') {
		for (const char *s = q2; s < end; s++) {
			if (*s == '_')
				buf_putc(&raw, ' ');
			else if (*s == '=' && s + 2 < end && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
				buf_putc(&raw, hexval(s[1]) << 4 | hexval(s[2]));
				s += 2;
			} else
				buf_putc(&raw, *s);
		}
	} else {
		buf_free(&raw);
		return 0;
	}
	detector_charset_to_utf8(cs, raw.data, raw.len, out, raw.len + 16);
	buf_free(&raw);
	return (size_t) (end + 2 - p);
}

/* detector_rfc2047_decode - a header value with encoded words, to UTF-8 */
void detector_rfc2047_decode(const char *in, size_t len, struct buf *out)
{
	size_t  i = 0, ws_start = (size_t) -1;
	int     last_was_word = 0;

	while (i < len) {
		size_t  n;

		if (in[i] == '=' && i + 1 < len && in[i + 1] == '?'
		    && (n = rfc2047_word(in + i, len - i, out)) > 0) {
			(void) ws_start;
			last_was_word = 1;
			i += n;
			continue;
		}
		if (in[i] == ' ' || in[i] == '\t') {
			size_t  j = i;

			while (j < len && (in[j] == ' ' || in[j] == '\t'))
				j++;
			/* white space between two encoded words is not text */
			if (last_was_word && j + 1 < len && in[j] == '=' && in[j + 1] == '?') {
				struct buf probe;

				buf_init(&probe, 64);
				n = rfc2047_word(in + j, len - j, &probe);
				buf_free(&probe);
				if (n > 0) {
					i = j;
					continue;
				}
			}
			buf_append(out, in + i, j - i);
			i = j;
			last_was_word = 0;
			continue;
		}
		buf_putc(out, in[i++]);
		last_was_word = 0;
	}
}

/* subject_b64 - append one encoded word for len bytes of UTF-8 */
static void subject_b64(struct buf *out, const unsigned char *p, size_t len)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t  i = 0;

	buf_puts(out, "=?UTF-8?B?");
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t) p[i] << 16 | (uint32_t) p[i + 1] << 8 | p[i + 2];

		buf_putc(out, alpha[v >> 18 & 63]);
		buf_putc(out, alpha[v >> 12 & 63]);
		buf_putc(out, alpha[v >> 6 & 63]);
		buf_putc(out, alpha[v & 63]);
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t) p[i] << 16;

		buf_putc(out, alpha[v >> 18 & 63]);
		buf_putc(out, alpha[v >> 12 & 63]);
		buf_puts(out, "==");
	} else if (len - i == 2) {
		uint32_t v = (uint32_t) p[i] << 16 | (uint32_t) p[i + 1] << 8;

		buf_putc(out, alpha[v >> 18 & 63]);
		buf_putc(out, alpha[v >> 12 & 63]);
		buf_putc(out, alpha[v >> 6 & 63]);
		buf_putc(out, '=');
	}
	buf_puts(out, "?=");
}

/* detector_subject_encode - UTF-8 text as a Subject value (one line) */
void detector_subject_encode(const char *utf8, struct buf *out)
{
	struct buf clean;
	const unsigned char *p;
	size_t  len, i = 0;

	buf_init(&clean, strlen(utf8) + 16);
	detector_utf8_clean(utf8, strlen(utf8), &clean);
	/* controls (tabs, folds) become spaces */
	for (size_t j = 0; j < clean.len; j++)
		if ((unsigned char) clean.data[j] < 0x20 || clean.data[j] == 0x7f)
			clean.data[j] = ' ';
	p = (const unsigned char *) clean.data;
	len = clean.len;
	if (detector_is_ascii(clean.data, len) && strstr(clean.data, "=?") == NULL) {
		buf_append(out, clean.data, len > 900 ? 900 : len);
		buf_free(&clean);
		return;
	}
	/* 45 bytes make 60 base64 characters: 72 with the wrapper, under 75 */
	while (i < len && out->len < 900) {
		size_t  n = len - i < 45 ? len - i : 45;

		while (n > 0 && i + n < len && (p[i + n] & 0xc0) == 0x80)
			n--;			/* never split a character */
		if (n == 0)
			n = 1;
		if (out->len)
			buf_putc(out, ' ');
		subject_b64(out, p + i, n);
		i += n;
	}
	buf_free(&clean);
}

/* put_codepoint - UTF-8 for a code point (invalid ones as U+FFFD) */
static void put_codepoint(struct buf *out, unsigned long cp)
{
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
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

static const struct {
	const char *name;
	unsigned short cp;
}       entities[] = {
	{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''},
	{"nbsp", ' '}, {"copy", 0xa9}, {"reg", 0xae}, {"euro", 0x20ac},
	{"auml", 0xe4}, {"ouml", 0xf6}, {"uuml", 0xfc}, {"Auml", 0xc4},
	{"Ouml", 0xd6}, {"Uuml", 0xdc}, {"szlig", 0xdf}, {"eacute", 0xe9},
	{"egrave", 0xe8}, {"agrave", 0xe0}, {"ccedil", 0xe7}, {"ntilde", 0xf1},
	{"shy", 0}, {"zwnj", 0}, {"zwj", 0}, {"ndash", 0x2013}, {"mdash", 0x2014},
	{"hellip", 0x2026}, {"laquo", 0xab}, {"raquo", 0xbb}, {"middot", 0xb7},
};

/* entity - decode "&...;" at p; its length, or 0 if not an entity */
static size_t entity(const char *p, size_t len, struct buf *out)
{
	size_t  n = 1;
	unsigned long cp = 0;

	if (len < 3)
		return 0;
	if (p[1] == '#') {
		int     hex = len > 2 && (p[2] == 'x' || p[2] == 'X');

		n = hex ? 3 : 2;
		while (n < len && n < 12 && (hex ? hexval(p[n]) >= 0 : isdigit((unsigned char) p[n]))) {
			cp = cp * (hex ? 16 : 10) + (unsigned long) (hex ? hexval(p[n]) : p[n] - '0');
			n++;
		}
		if (n == (hex ? 3u : 2u))
			return 0;
		put_codepoint(out, cp);
		return n < len && p[n] == ';' ? n + 1 : n;
	}
	while (n < len && n < 10 && isalnum((unsigned char) p[n]))
		n++;
	for (size_t i = 0; i < sizeof(entities) / sizeof(entities[0]); i++)
		if (strlen(entities[i].name) == n - 1 && strncmp(p + 1, entities[i].name, n - 1) == 0) {
			if (entities[i].cp)
				put_codepoint(out, entities[i].cp);
			return n < len && p[n] == ';' ? n + 1 : n;
		}
	return 0;
}

/* tag_name - the lower-case name of the tag at p ("<name" or "</name") */
static void tag_name(const char *p, size_t len, char *name, size_t size)
{
	size_t  i = 1, j = 0;

	if (i < len && p[i] == '/')
		i++;
	while (i < len && j + 1 < size && (isalnum((unsigned char) p[i]) || p[i] == ':'))
		name[j++] = (char) tolower((unsigned char) p[i++]);
	name[j] = 0;
}

/* is_inline - an HTML element that does not break the text */
static int is_inline(const char *name)
{
	static const char *const inl[] = {"b", "i", "u", "s", "em", "strong", "span",
		"font", "a", "small", "big", "sub", "sup", "mark", "code", "abbr",
		"tt", "q", "cite", "del", "ins", "wbr", "o:p", NULL};

	for (size_t i = 0; inl[i]; i++)
		if (strcmp(name, inl[i]) == 0)
			return 1;
	return 0;
}

/* markup_to_text - tags out, entities decoded; html or Office XML rules */
static void markup_to_text(const char *in, size_t len, struct buf *out,
			   size_t limit, int html)
{
	size_t  i = 0;
	const char *skip_until = NULL;

	buf_reserve(out, (len < limit ? len : limit) + 1);
	while (i < len && out->len < limit) {
		const char *lt = memchr(in + i, '<', len - i);
		size_t  run = lt ? (size_t) (lt - (in + i)) : len - i;

		if (skip_until == NULL) {
			/* text, with entities */
			size_t  j = i;

			while (j < i + run) {
				const char *amp = memchr(in + j, '&', i + run - j);
				size_t  r = amp ? (size_t) (amp - (in + j)) : i + run - j, n;

				buf_append(out, in + j, r);
				j += r;
				if (j >= i + run)
					break;
				if ((n = entity(in + j, i + run - j, out)) > 0)
					j += n;
				else
					buf_putc(out, in[j++]);
			}
		}
		i += run;
		if (i >= len)
			break;
		/* a tag, comment or declaration */
		if (len - i >= 4 && memcmp(in + i, "<!--", 4) == 0) {
			const char *end = memmem(in + i + 4, len - i - 4, "-->", 3);

			i = end ? (size_t) (end - in) + 3 : len;
			continue;
		} else {
			char    name[24];
			const char *gt = memchr(in + i, '>', len - i);
			int     closing = i + 1 < len && in[i + 1] == '/';

			tag_name(in + i, len - i, name, sizeof(name));
			if (skip_until) {
				if (closing && strcmp(name, skip_until) == 0)
					skip_until = NULL;
			} else if (html && !closing && (strcmp(name, "script") == 0
							|| strcmp(name, "style") == 0)) {
				skip_until = strcmp(name, "script") == 0 ? "script" : "style";
			} else if (html) {
				if (name[0] && !is_inline(name))
					buf_putc(out, '\n');
			} else if (strcmp(name, "w:p") == 0 || strcmp(name, "a:p") == 0
				   || strcmp(name, "text:p") == 0 || strcmp(name, "si") == 0
				   || strcmp(name, "row") == 0 || strcmp(name, "w:br") == 0
				   || strcmp(name, "w:cr") == 0 || strcmp(name, "a:br") == 0
				   || strcmp(name, "text:line-break") == 0) {
				if (closing || strcmp(name + strlen(name) - 2, "br") == 0
				    || strcmp(name, "w:cr") == 0)
					buf_putc(out, '\n');
			} else if (strcmp(name, "c") == 0 || strcmp(name, "w:tab") == 0
				   || strcmp(name, "text:s") == 0 || strcmp(name, "text:tab") == 0
				   || strcmp(name, "w:tc") == 0 || strcmp(name, "table:table-cell") == 0) {
				buf_putc(out, ' ');
			}
			i = gt ? (size_t) (gt - in) + 1 : len;
		}
	}
	if (out->len > limit)
		out->len = limit;
	out->data[out->len] = 0;
}

/* detector_html_to_text - what a mail reader shows of an HTML part */
void detector_html_to_text(const char *in, size_t len, struct buf *out, size_t limit)
{
	markup_to_text(in, len, out, limit, 1);
}

/* detector_xml_to_text - the text of an Office XML member */
void detector_xml_to_text(const char *in, size_t len, struct buf *out, size_t limit)
{
	markup_to_text(in, len, out, limit, 0);
}

/* starts_ci - does data start with the prefix, ignoring case? */
static int starts_ci(const char *data, size_t len, const char *prefix)
{
	size_t  n = strlen(prefix);

	return len >= n && strncasecmp(data, prefix, n) == 0;
}

/* detector_sniff - content type by magic bytes */
const char *detector_sniff(const char *d, size_t len)
{
	static const struct {
		const char *magic;
		size_t  len;
		const char *type;
	}       magic[] = {
		{"MZ", 2, "exe"},
		{"\x7f" "ELF", 4, "elf"},
		{"PK\x03\x04", 4, "zip"},
		{"PK\x05\x06", 4, "zip"},
		{"%PDF-", 5, "pdf"},
		{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, "ole"},
		{"Rar!\x1a\x07", 6, "rar"},
		{"7z\xbc\xaf\x27\x1c", 6, "7z"},
		{"\x1f\x8b", 2, "gzip"},
		{"BZh", 3, "bzip2"},
		{"\xfd" "7zXZ", 5, "xz"},
		{"\x89PNG", 4, "png"},
		{"\xff\xd8\xff", 3, "jpeg"},
		{"GIF8", 4, "gif"},
		{"#!", 2, "script"},
		{"{\\rtf", 5, "rtf"},
	};
	size_t  i = 0, probe;

	for (size_t m = 0; m < sizeof(magic) / sizeof(magic[0]); m++)
		if (len >= magic[m].len && memcmp(d, magic[m].magic, magic[m].len) == 0)
			return magic[m].type;
	if (len >= 262 && memcmp(d + 257, "ustar", 5) == 0)
		return "tar";
	if (len >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && i < 512 && isspace((unsigned char) d[i]))
		i++;
	if (starts_ci(d + i, len - i, "<!doctype html") || starts_ci(d + i, len - i, "<html"))
		return "html";
	probe = len < 4096 ? len : 4096;
	if (memchr(d, 0, probe))
		return "binary";
	return "text";
}
