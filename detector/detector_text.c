/*
 * detector_text - decoders: how a person would read the bytes
 *
 * detector_b64_decode(), detector_qp_decode(), detector_uu_decode()
 *	content transfer encodings; garbage is skipped, never fatal. The
 *	limit bounds the bytes written: a caller that asks for one byte more
 *	than it will scan learns whether the input was cut.
 * detector_rfc2047_decode()
 *	encoded words of header values (subjects, file names) to UTF-8;
 *	whitespace between adjacent encoded words is dropped (RFC 2047 6.2).
 * detector_charset_to_utf8()
 *	any charset iconv knows (and the labels mail programs write for
 *	them), to UTF-8; invalid sequences become U+FFFD and are counted;
 *	an unknown charset says so. Descriptors are cached.
 * detector_text_guess(), detector_utf8_valid(), detector_utf16_strings()
 *	what text says about its own encoding: a byte-order mark, the zero
 *	bytes of UTF-16 and UTF-32; UTF-16 strings inside binary data.
 * detector_html_to_text(), detector_xml_to_text()
 *	markup to the text a reader sees: tags dropped (HTML block elements
 *	become line breaks, every other element flows inline, as browsers
 *	show unknown elements; a '<' that opens no tag is text), character
 *	references decoded (the whole HTML5 list), soft hyphens and
 *	zero-width characters dropped; text an HTML element shows right to
 *	left in reverse (<bdo dir="rtl">, unicode-bidi: bidi-override with
 *	direction rtl) between U+202E and U+202C, which detector_fold()
 *	reverses as a browser shows it. For HTML, what the markup holds
 *	unseen - attribute names and values, comments, scripts, styles,
 *	declarations - goes to a second output, to be scanned as well.
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

#define B64_PAD  64
#define B64_SKIP 65

static unsigned char b64_table[256];
static int b64_ready;
static int b64_avx2; /* the CPU decodes 32 characters a step */

/* b64_init - the decoding table */
static void b64_init(void)
{
	const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	memset(b64_table, B64_SKIP, sizeof(b64_table));
	for (int i = 0; i < 64; i++)
		b64_table[(unsigned char) alpha[i]] = (unsigned char) i;
	b64_table['='] = B64_PAD;
#if defined(__x86_64__)
	b64_avx2 = __builtin_cpu_supports("avx2") != 0;
#endif
	b64_ready = 1;
}

#if defined(__x86_64__)
#include <immintrin.h>

/*
 * b64_block_avx2 - 32 base64 characters at in to 24 bytes at out (which
 * has room for 32); 32, or where the first of them that is not of the
 * alphabet is (a line break, padding, garbage), having written nothing
 */
__attribute__((target("avx2"))) static int b64_block_avx2(const unsigned char *in,
							  unsigned char *out)
{
	__m256i c = _mm256_loadu_si256((const __m256i *) in);
	/* bytes of 0x80 and above are negative: in no range below */
	__m256i upper = _mm256_and_si256(_mm256_cmpgt_epi8(c, _mm256_set1_epi8('A' - 1)),
					 _mm256_cmpgt_epi8(_mm256_set1_epi8('Z' + 1), c));
	__m256i lower = _mm256_and_si256(_mm256_cmpgt_epi8(c, _mm256_set1_epi8('a' - 1)),
					 _mm256_cmpgt_epi8(_mm256_set1_epi8('z' + 1), c));
	__m256i digit = _mm256_and_si256(_mm256_cmpgt_epi8(c, _mm256_set1_epi8('0' - 1)),
					 _mm256_cmpgt_epi8(_mm256_set1_epi8('9' + 1), c));
	__m256i plus = _mm256_cmpeq_epi8(c, _mm256_set1_epi8('+'));
	__m256i slash = _mm256_cmpeq_epi8(c, _mm256_set1_epi8('/'));
	__m256i valid = _mm256_or_si256(_mm256_or_si256(upper, lower),
					_mm256_or_si256(digit, _mm256_or_si256(plus, slash)));
	unsigned bad = ~(unsigned) _mm256_movemask_epi8(valid);
	__m256i shift, v;

	if (bad != 0)
		return __builtin_ctz(bad);
	/* each character's value: A-Z 0-25, a-z 26-51, 0-9 52-61, + 62, / 63 */
	shift = _mm256_or_si256(
		_mm256_or_si256(_mm256_and_si256(upper, _mm256_set1_epi8(-'A')),
				_mm256_and_si256(lower, _mm256_set1_epi8(26 - 'a'))),
		_mm256_or_si256(
			_mm256_and_si256(digit, _mm256_set1_epi8(52 - '0')),
			_mm256_or_si256(_mm256_and_si256(plus, _mm256_set1_epi8(62 - '+')),
					_mm256_and_si256(slash, _mm256_set1_epi8(63 - '/')))));
	v = _mm256_add_epi8(c, shift);
	/* four 6-bit values a b c d to the 24 bits a<<18 | b<<12 | c<<6 | d */
	v = _mm256_maddubs_epi16(v, _mm256_set1_epi32(0x01400140));
	v = _mm256_madd_epi16(v, _mm256_set1_epi32(0x00011000));
	/* their three bytes, high first, 12 to a lane, then the lanes joined */
	v = _mm256_shuffle_epi8(v,
				_mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1,
						 -1, -1, 2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12,
						 -1, -1, -1, -1));
	v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7));
	_mm256_storeu_si256((__m256i *) out, v);
	return 32;
}
#endif

/* detector_b64_decode - base64 to at most limit bytes, appended to out; bytes added */
size_t detector_b64_decode(const char *in, size_t len, struct buf *out, unsigned *state,
			   size_t limit)
{
	const unsigned char *p = (const unsigned char *) in;
	unsigned char *o, *end;
	size_t i = 0, start = out->len, room = len / 4 * 3 + 3, simd_at = 0;
	uint32_t acc = 0;
	int n = 0;

	(void) state;
	if (!b64_ready)
		b64_init();
	if (room > limit)
		room = limit;
	buf_reserve(out, room + 1);
	o = (unsigned char *) out->data + out->len;
	end = o + room;
	/* a caller that wants to know whether all was decoded asks for one more */
#define B64_PUT(c) \
	do { \
		if (o == end) \
			goto full; \
		*o++ = (unsigned char) (c); \
	} while (0)
	while (i < len) {
#if defined(__x86_64__)
		/* 32 characters a step while there is no line break among them */
		if (b64_avx2 && n == 0 && i >= simd_at) {
			while (len - i >= 32 && end - o >= 32) {
				int k = b64_block_avx2(p + i, o);

				if (k < 32) {
					simd_at = i + (size_t) k + 1; /* past it first */
					break;
				}
				i += 32;
				o += 24;
			}
			if (i >= len)
				break;
		}
#endif
		if (n == 0 && i + 4 <= len && end - o >= 3) {
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
				B64_PUT(acc >> 16);
				B64_PUT(acc >> 8);
				B64_PUT(acc);
				n = 0;
				acc = 0;
			}
		} else if (v == B64_PAD) {
			if (n == 2)
				B64_PUT(acc >> 4);
			else if (n == 3) {
				B64_PUT(acc >> 10);
				B64_PUT(acc >> 2);
			}
			n = 0;
			acc = 0;
		}
	}
	if (n == 2)
		B64_PUT(acc >> 4);
	else if (n == 3) {
		B64_PUT(acc >> 10);
		B64_PUT(acc >> 2);
	}
#undef B64_PUT
full:
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

/* detector_qp_decode - quoted-printable to at most limit bytes; bytes added */
size_t detector_qp_decode(const char *in, size_t len, struct buf *out, size_t limit)
{
	size_t i = 0, start = out->len, room = len < limit ? len : limit;
	char *o, *end;

	buf_reserve(out, room + 1);
	o = out->data + out->len;
	end = o + room;
	while (i < len && o < end) {
		const char *eq = memchr(in + i, '=', len - i);
		size_t run = eq ? (size_t) (eq - (in + i)) : len - i;

		if (run > (size_t) (end - o))
			run = (size_t) (end - o);
		memcpy(o, in + i, run);
		o += run;
		i += run;
		if (i >= len || o == end)
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
			size_t j = i + 1;

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

/* uu_line - decode one uuencoded line into at most room bytes; bytes written */
static size_t uu_line(const unsigned char *p, size_t n, unsigned char *o, size_t room)
{
	size_t want = (size_t) ((p[0] - 0x20) & 0x3f), got = 0;

	for (size_t i = 1; got < want && got < room; i += 4) {
		unsigned v[4];

		for (int k = 0; k < 4; k++)
			v[k] = i + (size_t) k < n
				? (unsigned) ((p[i + (size_t) k] - 0x20) & 0x3f)
				: 0;
		unsigned char b[3] = {(unsigned char) (v[0] << 2 | v[1] >> 4),
				      (unsigned char) (v[1] << 4 | v[2] >> 2),
				      (unsigned char) (v[2] << 6 | v[3])};

		for (int k = 0; k < 3 && got < want && got < room; k++)
			o[got++] = b[k];
	}
	return got;
}

/* detector_uu_decode - uuencoded text to at most limit bytes; bytes added */
size_t detector_uu_decode(const char *in, size_t len, struct buf *out, size_t limit)
{
	size_t i = 0, start = out->len;

	buf_reserve(out, (len / 4 * 3 < limit ? len / 4 * 3 : limit) + 1);
	while (i < len && out->len - start < limit) {
		const char *lf = memchr(in + i, '\n', len - i);
		size_t e = lf ? (size_t) (lf - in) : len, n = e - i;
		const unsigned char *p = (const unsigned char *) in + i;

		while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
			n--;
		if (n >= 6 && memcmp(p, "begin", 5) == 0 && (p[5] == ' ' || p[5] == '-')) {
			/* the header line: "begin 644 name" */
		} else if (n == 3 && memcmp(p, "end", 3) == 0) {
			break;
		} else if (n > 1) {
			size_t room = limit - (out->len - start);

			buf_reserve(out, 64);
			out->len += uu_line(p, n, (unsigned char *) out->data + out->len,
					    room < 64 ? room : 64);
		}
		i = e + 1;
	}
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
	size_t n;

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
	size_t i = 0;

	buf_reserve(out, len + 1);
	while (i < len) {
		size_t n = utf8_seq_len(p + i, len - i);

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

#define ICONV_CACHE 8

static struct {
	char name[40];
	iconv_t cd;
} iconv_cache[ICONV_CACHE];
static unsigned iconv_next;

/* charset_alias - the name iconv knows for a label mail programs write */
static void charset_alias(char *name, size_t size)
{
	static const char *const alias[][2] = {
		{"KS_C_5601-1987", "CP949"},
		{"KS_C_5601", "CP949"},
		{"KSC5601", "CP949"},
		{"X-MAC-ROMAN", "MACINTOSH"},
		{"MAC", "MACINTOSH"},
		{"X-SJIS", "SHIFT_JIS"},
		{"SJIS", "SHIFT_JIS"},
		{"UNICODE-1-1-UTF-7", "UTF-7"},
		{"UNICODE", "UTF-16"},
		{"UCS-2", "UTF-16"},
		{"UTF16", "UTF-16"},
		{"UTF32", "UTF-32"},
		{"ISO-8859-8-I", "ISO-8859-8"},
		{"ISO-8859-6-I", "ISO-8859-6"},
		{"ISO-8859-8-E", "ISO-8859-8"},
		{"ISO-8859-6-E", "ISO-8859-6"},
		{"X-GBK", "GBK"},
		{"X-EUC-JP", "EUC-JP"},
		{"X-EUC-TW", "EUC-TW"},
		{"ANSI", "WINDOWS-1252"},
		{"X-USER-DEFINED", "WINDOWS-1252"},
		/* mail habit: ISO-8859-1 text is often really windows-1252 */
		{"ISO-8859-1", "WINDOWS-1252"},
		{"LATIN1", "WINDOWS-1252"},
		{"ISO8859-1", "WINDOWS-1252"},
		{"ISO_8859-1", "WINDOWS-1252"},
	};

	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (strcmp(name, alias[i][0]) == 0) {
			snprintf(name, size, "%s", alias[i][1]);
			return;
		}
	if (strncmp(name, "CP-", 3) == 0 || strncmp(name, "MS-", 3) == 0)
		memmove(name + 2, name + 3, strlen(name + 3) + 1); /* CP-850 */
}

/* charset_open - a cached descriptor to UTF-8, or (iconv_t) -1 */
static iconv_t charset_open(const char *cs)
{
	char name[40];
	iconv_t cd;
	size_t slot, n = 0;

	while (*cs == ' ' || *cs == '\t' || *cs == '"')
		cs++;
	for (; cs[n] && cs[n] != ' ' && cs[n] != '\t' && cs[n] != '"'; n++)
		if (n + 1 >= sizeof(name))
			return (iconv_t) -1;
	for (size_t i = 0; i < n; i++)
		name[i] = (char) toupper((unsigned char) cs[i]);
	name[n] = 0;
	charset_alias(name, sizeof(name));
	for (size_t i = 0; i < ICONV_CACHE; i++)
		if (iconv_cache[i].name[0] && strcmp(iconv_cache[i].name, name) == 0) {
			iconv(iconv_cache[i].cd, NULL, NULL, NULL, NULL);
			return iconv_cache[i].cd;
		}
	if ((cd = iconv_open("UTF-8", name)) == (iconv_t) -1 && strncmp(name, "X-", 2) == 0)
		cd = iconv_open("UTF-8", name + 2); /* x-koi8-r */
	if (cd == (iconv_t) -1)
		return cd;
	slot = iconv_next++ % ICONV_CACHE;
	if (iconv_cache[slot].name[0])
		iconv_close(iconv_cache[slot].cd);
	strcpy(iconv_cache[slot].name, name);
	iconv_cache[slot].cd = cd;
	return cd;
}

/* detector_charset_known - can text in this charset be converted? */
int detector_charset_known(const char *cs)
{
	return detector_charset_is_utf8(cs) || charset_open(cs) != (iconv_t) -1;
}

/* detector_charset_to_utf8 - convert text to UTF-8, appended to out; bytes
 * that were not valid in the charset, or -1: unknown charset, copied as is */
long detector_charset_to_utf8(const char *cs, const char *in, size_t len, struct buf *out,
			      size_t limit)
{
	iconv_t cd;
	char *ip = (char *) in;
	size_t il = len;
	long bad = 0;

	if (len > limit)
		il = len = limit;
	if (detector_charset_is_utf8(cs)) {
		buf_append(out, in, len);
		return 0;
	}
	if (strcasecmp(cs, "utf-16") == 0 || strcasecmp(cs, "utf-32") == 0
	    || strcasecmp(cs, "ucs-2") == 0 || strcasecmp(cs, "unicode") == 0) {
		/* no byte order in the name: the text's own, or big-endian
		 * (RFC 2781); iconv would keep the first document's byte-order
		 * mark in a descriptor that is reused */
		int wide = strcasecmp(cs, "utf-32") == 0;
		size_t skip;
		const char *g = detector_text_guess(in, len, &skip);

		if (g && strncmp(g, wide ? "UTF-32" : "UTF-16", 6) == 0) {
			cs = g;
			ip += skip;
			il -= skip;
		} else
			cs = wide ? "UTF-32BE" : "UTF-16BE";
	}
	if ((cd = charset_open(cs)) == (iconv_t) -1) {
		buf_append(out, in, len);
		return -1;
	}
	while (il > 0) {
		size_t room, before;
		char *op;

		buf_reserve(out, il * 2 + 16);
		room = out->cap - out->len - 1;
		op = out->data + out->len;
		before = room;
		if (iconv(cd, &ip, &il, &op, &room) != (size_t) -1) {
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
		bad++;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	/* the shift state of stateful charsets (ISO-2022-JP) ends here */
	{
		char *op;
		size_t room;

		buf_reserve(out, 16);
		op = out->data + out->len;
		room = out->cap - out->len - 1;
		if (iconv(cd, NULL, NULL, &op, &room) != (size_t) -1)
			out->len = (size_t) (op - out->data);
	}
	out->data[out->len] = 0;
	return bad;
}

/* detector_text_guess - the encoding text announces by itself (a byte-order
 * mark, or the zero bytes of UTF-16 and UTF-32 text), or NULL */
const char *detector_text_guess(const char *d, size_t len, size_t *skip)
{
	const unsigned char *p = (const unsigned char *) d;
	size_t n = len < 4096 ? len : 4096, z[4] = {0, 0, 0, 0};

	*skip = 0;
	if (len >= 4 && memcmp(p, "\xff\xfe\0\0", 4) == 0)
		return *skip = 4, "UTF-32LE";
	if (len >= 4 && memcmp(p, "\0\0\xfe\xff", 4) == 0)
		return *skip = 4, "UTF-32BE";
	if (len >= 2 && memcmp(p, "\xff\xfe", 2) == 0)
		return *skip = 2, "UTF-16LE";
	if (len >= 2 && memcmp(p, "\xfe\xff", 2) == 0)
		return *skip = 2, "UTF-16BE";
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		return *skip = 3, "UTF-8";
	if (n < 8)
		return NULL;
	n &= ~(size_t) 3;
	for (size_t i = 0; i < n; i++)
		z[i & 3] += p[i] == 0;
	/* Latin text: every other byte (UTF-16) or three of four (UTF-32) zero */
	if (z[1] + z[3] > n * 4 / 10 && z[0] + z[2] <= n / 40)
		return "UTF-16LE";
	if (z[0] + z[2] > n * 4 / 10 && z[1] + z[3] <= n / 40)
		return "UTF-16BE";
	if (z[1] + z[2] + z[3] > n * 7 / 10 && z[0] <= n / 80)
		return "UTF-32LE";
	if (z[0] + z[1] + z[2] > n * 7 / 10 && z[3] <= n / 80)
		return "UTF-32BE";
	return NULL;
}

/* detector_utf8_valid - is this valid UTF-8 (ASCII included)? */
int detector_utf8_valid(const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *) in;
	size_t i = 0;

	while (i < len) {
		size_t n;
		uint64_t w;

		/* ASCII eight bytes at a time */
		if (i + 8 <= len && (memcpy(&w, p + i, 8), (w & 0x8080808080808080ULL) == 0)) {
			i += 8;
			continue;
		}
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = utf8_seq_len(p + i, len - i)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

/* utf16_runs - printable runs of UTF-16LE code units from offset off */
static void utf16_runs(const unsigned char *p, size_t len, size_t off, struct buf *out,
		       size_t start, size_t limit)
{
	size_t run = 0, i;

	for (i = off; i + 1 < len && out->len - start < limit; i += 2) {
		if (p[i + 1] == 0 && ((p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\t')) {
			run++;
			continue;
		}
		if (run >= 6) {
			for (size_t k = i - run * 2; k < i; k += 2)
				buf_putc(out, p[k]);
			buf_putc(out, '\n');
		}
		run = 0;
	}
	if (run >= 6) {
		for (size_t k = i - run * 2; k < i; k += 2)
			buf_putc(out, p[k]);
		buf_putc(out, '\n');
	}
}

/* detector_utf16_strings - runs of 6 or more printable UTF-16LE characters
 * in binary data, one per line, as `strings -e l` finds them */
void detector_utf16_strings(const char *in, size_t len, struct buf *out, size_t limit)
{
	size_t start = out->len;

	buf_reserve(out, 1);
	utf16_runs((const unsigned char *) in, len, 0, out, start, limit);
	utf16_runs((const unsigned char *) in, len, 1, out, start, limit);
	out->data[out->len] = 0;
}

/* rfc2047_word - decode one encoded word at p; its length, or 0 */
static size_t rfc2047_word(const char *p, size_t len, struct buf *out)
{
	const char *q1, *q2, *end;
	char cs[64];
	size_t cslen;
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
	if (strchr(cs, '*')) /* RFC 2231 language suffix */
		*strchr(cs, '*') = 0;
	buf_init(&raw, (size_t) (end - q2) + 4);
	if (q1[1] == 'B' || q1[1] == 'b') {
		detector_b64_decode(q2, (size_t) (end - q2), &raw, NULL,
				    (size_t) (end - q2) + 4);
	} else if (q1[1] == 'Q' || q1[1] == 'q') {
		for (const char *s = q2; s < end; s++) {
			if (*s == '_')
				buf_putc(&raw, ' ');
			else if (*s == '=' && s + 2 < end && hexval(s[1]) >= 0
				 && hexval(s[2]) >= 0) {
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
	size_t i = 0, ws_start = (size_t) -1;
	int last_was_word = 0;

	while (i < len) {
		size_t n;

		if (in[i] == '=' && i + 1 < len && in[i + 1] == '?'
		    && (n = rfc2047_word(in + i, len - i, out)) > 0) {
			(void) ws_start;
			last_was_word = 1;
			i += n;
			continue;
		}
		if (in[i] == ' ' || in[i] == '\t') {
			size_t j = i;

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
	size_t i = 0;

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
	size_t len, i = 0;

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
		size_t n = len - i < 45 ? len - i : 45;

		while (n > 0 && i + n < len && (p[i + n] & 0xc0) == 0x80)
			n--; /* never split a character */
		if (n == 0)
			n = 1;
		if (out->len)
			buf_putc(out, ' ');
		subject_b64(out, p + i, n);
		i += n;
	}
	buf_free(&clean);
}

/* invisible - a format character that a reader does not see */
static int invisible(unsigned long cp)
{
	return cp == 0xad || (cp >= 0x200b && cp <= 0x200d) || cp == 0x2060 || cp == 0xfeff;
}

/* put_codepoint - UTF-8 for a code point (invalid ones as U+FFFD, invisible ones dropped) */
static void put_codepoint(struct buf *out, unsigned long cp)
{
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (invisible(cp))
		return;
	if (cp == 0xa0)
		cp = ' '; /* a no-break space reads as a space */
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

#include "detector_entities.h"

/* entity_cmp - bsearch order of entity names */
static int entity_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct html_entity *) elem)->name);
}

/* entity - decode "&...;" at p; its length, or 0 if not an entity */
static size_t entity(const char *p, size_t len, struct buf *out)
{
	size_t n = 1;
	unsigned long cp = 0;
	char name[40];
	const struct html_entity *e = NULL;

	if (len < 3)
		return 0;
	if (p[1] == '#') {
		int hex = p[2] == 'x' || p[2] == 'X';

		n = hex ? 3 : 2;
		while (n < len && (hex ? hexval(p[n]) >= 0 : isdigit((unsigned char) p[n]))) {
			if (cp <= 0x10ffff)
				cp = cp * (hex ? 16 : 10)
					+ (unsigned long) (hex ? hexval(p[n]) : p[n] - '0');
			n++;
		}
		if (n == (hex ? 3u : 2u))
			return 0;
		put_codepoint(out, cp);
		return n < len && p[n] == ';' ? n + 1 : n;
	}
	while (n < len && n < sizeof(name) && isalnum((unsigned char) p[n]))
		n++;
	if (n == 1 || n >= sizeof(name))
		return 0;
	/* the longest name that is an entity: "&notit;" is "&not" "it;" */
	for (size_t k = n; k > 1 && e == NULL; k--) {
		memcpy(name, p + 1, k - 1);
		name[k - 1] = 0;
		e = bsearch(name, html_entities,
			    sizeof(html_entities) / sizeof(html_entities[0]),
			    sizeof(html_entities[0]), entity_cmp);
		if (e && !(k < len && p[k] == ';') && !e->legacy)
			e = NULL;
		if (e)
			n = k;
	}
	if (e == NULL)
		return 0;
	put_codepoint(out, e->cp1);
	if (e->cp2)
		put_codepoint(out, e->cp2);
	return n < len && p[n] == ';' ? n + 1 : n;
}

/* text_run - text with entities decoded and invisible characters dropped */
static void text_run(const char *in, size_t len, struct buf *out)
{
	size_t j = 0;

	buf_reserve(out, len + 1);
	while (j < len) {
		size_t r = 0, n;

		/* the bytes that need no attention, at once: ASCII but '&' */
		while (j + r + 8 <= len) {
			uint64_t w, x;

			memcpy(&w, in + j + r, 8);
			x = w ^ 0x2626262626262626ULL;
			if (((w | ((x - 0x0101010101010101ULL) & ~x)) & 0x8080808080808080ULL)
			    != 0)
				break;
			r += 8;
		}
		while (j + r < len && in[j + r] != '&' && (unsigned char) in[j + r] != 0xc2
		       && (unsigned char) in[j + r] != 0xe2
		       && (unsigned char) in[j + r] != 0xef)
			r++;
		buf_append(out, in + j, r);
		j += r;
		if (j >= len)
			break;
		if (in[j] == '&') {
			if ((n = entity(in + j, len - j, out)) > 0)
				j += n;
			else
				buf_putc(out, in[j++]);
			continue;
		}
		/* U+00AD, U+200B..U+200D, U+2060, U+FEFF written as UTF-8 */
		if (j + 1 < len && (unsigned char) in[j] == 0xc2
		    && (unsigned char) in[j + 1] == 0xad) {
			j += 2;
		} else if (j + 2 < len
			   && (((unsigned char) in[j] == 0xe2
				&& (unsigned char) in[j + 1] == 0x80
				&& (unsigned char) in[j + 2] >= 0x8b
				&& (unsigned char) in[j + 2] <= 0x8d)
			       || ((unsigned char) in[j] == 0xe2
				   && (unsigned char) in[j + 1] == 0x81
				   && (unsigned char) in[j + 2] == 0xa0)
			       || ((unsigned char) in[j] == 0xef
				   && (unsigned char) in[j + 1] == 0xbb
				   && (unsigned char) in[j + 2] == 0xbf))) {
			j += 3;
		} else
			buf_putc(out, in[j++]);
	}
}

/* tag_name - the lower-case name of the tag at p ("<name" or "</name"); past it */
static size_t tag_name(const char *p, size_t len, char *name, size_t size)
{
	size_t i = 1, j = 0;

	if (i < len && p[i] == '/')
		i++;
	for (; i < len; i++) {
		unsigned char c = (unsigned char) p[i];

		if (c == ' ' || c == '>' || c == '/' || (c >= '\t' && c <= '\r'))
			break;
		if (j + 1 < size)
			name[j++] = (char) (c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	name[j] = 0;
	return i;
}

/* is_block - an HTML element that a browser shows on a line of its own;
 * any other element (unknown ones too) flows with the text around it */
static int is_block(const char *name)
{
	static const char *const blk[] = {
		"address", "article",  "aside",   "blockquote", "body",     "br",
		"button",  "caption",  "center",  "dd",         "details",  "dialog",
		"dir",     "div",      "dl",      "dt",         "fieldset", "figcaption",
		"figure",  "footer",   "form",    "frame",      "frameset", "h1",
		"h2",      "h3",       "h4",      "h5",         "h6",       "head",
		"header",  "hgroup",   "hr",      "html",       "iframe",   "input",
		"legend",  "li",       "listing", "main",       "menu",     "nav",
		"ol",      "optgroup", "option",  "p",          "pre",      "section",
		"select",  "summary",  "table",   "tbody",      "td",       "textarea",
		"tfoot",   "th",       "thead",   "title",      "tr",       "ul",
		"xmp",     NULL};

	for (size_t i = 0; blk[i]; i++)
		if (strcmp(name, blk[i]) == 0)
			return 1;
	return 0;
}

/* xml_break - what an Office or OpenDocument XML element stands for */
static void xml_break(const char *name, int closing, struct buf *out)
{
	static const struct {
		const char *name;
		size_t len;
		char what; /* 'p': line at its end, 'n': line, ' ': space */
	} el[] = {
		{"w:p", 3, 'p'},    {"a:p", 3, 'p'},
		{"text:p", 6, 'p'}, {"si", 2, 'p'},
		{"row", 3, 'p'},    {"text:h", 6, 'p'},
		{"w:br", 4, 'n'},   {"w:cr", 4, 'n'},
		{"a:br", 4, 'n'},   {"text:line-break", 15, 'n'},
		{"c", 1, ' '},      {"w:tab", 5, ' '},
		{"text:s", 6, ' '}, {"text:tab", 8, ' '},
		{"w:tc", 4, ' '},   {"table:table-cell", 16, ' '},
	};
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(el) / sizeof(el[0]); i++) {
		if (el[i].len != n || memcmp(el[i].name, name, n) != 0)
			continue;
		if (el[i].what == ' ')
			buf_putc(out, ' ');
		else if (el[i].what == 'n' || closing)
			buf_putc(out, '\n');
		return;
	}
}

/* find_ci - the first place of a lower-case needle in data, ignoring case */
static const char *find_ci(const char *d, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *p = d; (p = memchr(p, '<', len - (size_t) (p - d))) != NULL; p++)
		if ((size_t) (d + len - p) >= n && strncasecmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* is_element - an element name of HTML (the markup of everyday mail) */
static int is_element(const char *name)
{
	static const char *const inl[] = {
		"a",     "abbr",     "b",        "base",     "bdi",    "bdo",      "big",
		"cite",  "code",     "col",      "colgroup", "data",   "del",      "dfn",
		"em",    "font",     "i",        "img",      "ins",    "kbd",      "label",
		"link",  "map",      "mark",     "meta",     "nobr",   "o:p",      "q",
		"s",     "samp",     "small",    "span",     "strike", "strong",   "sub",
		"sup",   "time",     "tt",       "u",        "var",    "wbr",      "script",
		"style", "noscript", "template", "area",     "audio",  "video",    "source",
		"track", "picture",  "canvas",   "object",   "embed",  "param",    "ruby",
		"rt",    "rp",       "output",   "progress", "meter",  "datalist", NULL};

	if (is_block(name))
		return 1;
	for (size_t i = 0; inl[i]; i++)
		if (strcmp(name, inl[i]) == 0)
			return 1;
	return 0;
}

/* tag_end - past a tag's attributes (quoted values may hold '>') to its '>';
 * attrs: is there anything but the name? */
static size_t tag_end(const char *in, size_t len, size_t i, int *attrs)
{
	const char *gt = memchr(in + i, '>', len - i);
	size_t stop = gt ? (size_t) (gt - in) : len;

	*attrs = 0;
	for (size_t k = i; k < stop; k++)
		if (in[k] != ' ' && in[k] != '/' && (in[k] < '\t' || in[k] > '\r')) {
			*attrs = 1;
			break;
		}
	if (*attrs && (memchr(in + i, '"', stop - i) || memchr(in + i, '\'', stop - i))) {
		/* quoted values: a '>' in one does not end the tag */
		while (i < len && in[i] != '>') {
			if (in[i] == '"' || in[i] == '\'') {
				const char *q = memchr(in + i + 1, in[i], len - i - 1);

				i = q ? (size_t) (q - in) + 1 : len;
			} else
				i++;
		}
		return i < len ? i + 1 : len;
	}
	return gt ? stop + 1 : len;
}

/* struct bidi - the right-to-left overrides open in an HTML text */
#define BIDI_MAX 16
struct bidi {
	char name[BIDI_MAX][24]; /* the element that opened each */
	unsigned same[BIDI_MAX]; /* elements of that name open inside it */
	int n;
};

/* attr_value - the lower-cased value of attribute want in a tag's text; 1 if present */
static int attr_value(const char *t, size_t len, const char *want, char *val, size_t size)
{
	size_t i = 0, wl = strlen(want);

	while (i < len && t[i] != ' ' && t[i] != '/' && (t[i] < '\t' || t[i] > '\r'))
		i++; /* past the element's name */
	while (i < len) {
		size_t ns, ne, k = 0;
		char q = 0;

		while (i < len
		       && (t[i] == ' ' || t[i] == '/' || (t[i] >= '\t' && t[i] <= '\r')))
			i++;
		for (ns = i; i < len && t[i] != '=' && t[i] != ' ' && t[i] != '/'
		     && (t[i] < '\t' || t[i] > '\r');
		     i++)
			/* void */;
		ne = i;
		while (i < len && (t[i] == ' ' || (t[i] >= '\t' && t[i] <= '\r')))
			i++;
		if (ne == ns && i < len && t[i] != '=') {
			i++; /* a stray character */
			continue;
		}
		if (i < len && t[i] == '=') {
			for (i++; i < len && (t[i] == ' ' || (t[i] >= '\t' && t[i] <= '\r'));
			     i++)
				/* void */;
			if (i < len && (t[i] == '"' || t[i] == '\''))
				q = t[i++];
			for (; i < len
			     && (q ? t[i] != q : t[i] != ' ' && (t[i] < '\t' || t[i] > '\r'));
			     i++)
				if (k + 1 < size)
					val[k++] = (char) tolower((unsigned char) t[i]);
			if (q && i < len)
				i++;
		}
		val[k] = 0;
		if (ne - ns == wl && strncasecmp(t + ns, want, wl) == 0)
			return 1;
	}
	return 0;
}

/* css_has - does a lower-cased style declare property: a value holding word? */
static int css_has(const char *style, const char *prop, const char *word)
{
	const char *p = style, *e;
	size_t pl = strlen(prop);

	while ((p = strstr(p, prop)) != NULL) {
		p += pl;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ':')
			continue;
		e = strchr(p, ';');
		if (e == NULL)
			e = p + strlen(p);
		if (memmem(p, (size_t) (e - p), word, strlen(word)))
			return 1;
	}
	return 0;
}

/* rtl_override - does this start tag show its text right to left, reversed?
 * (<bdo dir="rtl">, or unicode-bidi: bidi-override with direction rtl) */
static int rtl_override(const char *name, const char *t, size_t len)
{
	char dir[16], style[512];
	int rtl, styled = attr_value(t, len, "style", style, sizeof(style));

	rtl = attr_value(t, len, "dir", dir, sizeof(dir)) && strcmp(dir, "rtl") == 0;
	if (styled && css_has(style, "direction", "rtl"))
		rtl = 1;
	if (!rtl)
		return 0;
	return strcmp(name, "bdo") == 0
		|| (styled && css_has(style, "unicode-bidi", "override"));
}

/* bidi_tag - a start or end tag: U+202E where an override starts, U+202C
 * where it ends, as detector_fold() reads them */
static void bidi_tag(struct bidi *bd, const char *name, int closing, const char *t, size_t len,
		     struct buf *out)
{
	if (!closing && bd->n < BIDI_MAX && rtl_override(name, t, len)) {
		snprintf(bd->name[bd->n], sizeof(bd->name[0]), "%s", name);
		bd->same[bd->n++] = 0;
		put_codepoint(out, 0x202e);
		return;
	}
	if (bd->n == 0 || strcmp(name, bd->name[bd->n - 1]) != 0)
		return;
	if (!closing)
		bd->same[bd->n - 1]++;
	else if (bd->same[bd->n - 1] > 0)
		bd->same[bd->n - 1]--;
	else {
		bd->n--;
		put_codepoint(out, 0x202c);
	}
}

static int markup_to_text(const char *in, size_t len, struct buf *out, struct buf *hidden,
			  size_t limit, int html, int depth, struct bidi *bd);

/* markup_at - one tag, comment or declaration at in[i] ('<'); past it */
static size_t markup_at(const char *in, size_t len, size_t i, struct buf *out,
			struct buf *hidden, size_t limit, int html, int depth, struct bidi *bd)
{
	char name[24];
	size_t e;
	int closing = i + 1 < len && in[i + 1] == '/', attrs;

	if (len - i >= 4 && memcmp(in + i, "<!--", 4) == 0) {
		/* a comment: not shown, but read (Outlook shows <!--[if mso]> ones) */
		const char *end = memmem(in + i + 4, len - i - 4, "-->", 3);

		e = end ? (size_t) (end - in) : len;
		if (hidden && depth == 0) {
			(void) markup_to_text(in + i + 4, e - i - 4, hidden, hidden, limit,
					      html, 1, NULL);
			buf_putc(hidden, '\n');
		}
		return end ? e + 3 : len;
	}
	if (len - i >= 9 && memcmp(in + i, "<![CDATA[", 9) == 0) {
		/* XML: text as it stands; HTML: a comment */
		const char *end = memmem(in + i + 9, len - i - 9, "]]>", 3);

		e = end ? (size_t) (end - in) : len;
		if (!html)
			buf_append(out, in + i + 9, e - i - 9);
		else if (hidden) {
			buf_append(hidden, in + i + 9, e - i - 9);
			buf_putc(hidden, '\n');
		}
		return end ? e + 3 : len;
	}
	if (i + 1 < len && (in[i + 1] == '!' || in[i + 1] == '?')) {
		/* a declaration or processing instruction */
		const char *gt = memchr(in + i, '>', len - i);

		e = gt ? (size_t) (gt - in) : len;
		if (hidden) {
			buf_append(hidden, in + i + 2, e - i - 2);
			buf_putc(hidden, '\n');
		}
		return gt ? e + 1 : len;
	}
	e = tag_end(in, len, tag_name(in + i, len - i, name, sizeof(name)) + i, &attrs);
	if (html && hidden && !closing && (attrs || !is_element(name))) {
		/* the tag as written: attribute names and values, unknown elements */
		text_run(in + i + 1, (in[e - 1] == '>' ? e - 1 : e) - i - 1, hidden);
		buf_putc(hidden, '\n');
	}
	if (!html) {
		xml_break(name, closing, out);
		return e;
	}
	if (bd && name[0])
		bidi_tag(bd, name, closing, in + i + 1, (in[e - 1] == '>' ? e - 1 : e) - i - 1,
			 out);
	if (name[0] && is_block(name)) {
		buf_putc(out, '\n');
		if (bd && bd->n)
			put_codepoint(out, 0x202e); /* the override goes on past the break */
	}
	if (!closing && (strcmp(name, "script") == 0 || strcmp(name, "style") == 0)) {
		/* not shown, but read */
		const char *end = find_ci(in + e, len - e,
					  strcmp(name, "script") == 0 ? "</script" : "</style");
		size_t stop = end ? (size_t) (end - in) : len;

		if (hidden) {
			buf_append(hidden, in + e, stop - e);
			buf_putc(hidden, '\n');
		}
		e = stop;
	}
	return e;
}

/* markup_to_text - tags out, entities decoded; html or Office XML rules;
 * -1 if the output reached its limit */
static int markup_to_text(const char *in, size_t len, struct buf *out, struct buf *hidden,
			  size_t limit, int html, int depth, struct bidi *bd)
{
	size_t i = 0;

	buf_reserve(out, (len < limit ? len : limit) + 1);
	while (i < len) {
		const char *lt = memchr(in + i, '<', len - i);
		size_t run = lt ? (size_t) (lt - (in + i)) : len - i;

		if (out->len > limit || (hidden && hidden->len > limit))
			return -1;
		text_run(in + i, run, out);
		i += run;
		if (i >= len)
			break;
		/* HTML: '<' starts markup only before a letter, '/', '!' or '?' */
		if (html
		    && (i + 1 >= len
			|| !(isalpha((unsigned char) in[i + 1]) || in[i + 1] == '/'
			     || in[i + 1] == '!' || in[i + 1] == '?'))) {
			buf_putc(out, '<');
			i++;
			continue;
		}
		i = markup_at(in, len, i, out, hidden, limit, html, depth, bd);
	}
	if (out->data)
		out->data[out->len] = 0;
	return out->len > limit || (hidden && hidden->len > limit) ? -1 : 0;
}

/* detector_html_to_text - what a mail reader shows of an HTML part (out),
 * and what it holds unseen (hidden, may be NULL): attribute values,
 * comments, scripts and styles; -1 if an output passed the limit */
int detector_html_to_text(const char *in, size_t len, struct buf *out, struct buf *hidden,
			  size_t limit)
{
	struct bidi bd = {.n = 0};

	if (hidden)
		buf_reserve(hidden, 1);
	return markup_to_text(in, len, out, hidden, limit, 1, 0, &bd);
}

/* detector_xml_to_text - the text of an Office XML member; -1 past the limit */
int detector_xml_to_text(const char *in, size_t len, struct buf *out, size_t limit)
{
	return markup_to_text(in, len, out, NULL, limit, 0, 0, NULL);
}

/* starts_ci - does data start with the prefix, ignoring case? */
static int starts_ci(const char *data, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && strncasecmp(data, prefix, n) == 0;
}

/* detector_sniff - content type by magic bytes */
const char *detector_sniff(const char *d, size_t len)
{
	static const struct {
		const char *magic;
		size_t len;
		const char *type;
	} magic[] = {
		{"MZ", 2, "exe"},
		{"\x7f"
		 "ELF",
		 4, "elf"},
		{"PK\x03\x04", 4, "zip"},
		{"PK\x05\x06", 4, "zip"},
		{"%PDF-", 5, "pdf"},
		{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, "ole"},
		{"Rar!\x1a\x07", 6, "rar"},
		{"7z\xbc\xaf\x27\x1c", 6, "7z"},
		{"\x1f\x8b", 2, "gzip"},
		{"BZh", 3, "bzip2"},
		{"\xfd"
		 "7zXZ",
		 5, "xz"},
		{"\x28\xb5\x2f\xfd", 4, "zstd"},
		{"\x04\x22\x4d\x18", 4, "lz4"},
		{"LZIP", 4, "lzip"},
		{"\x1f\x9d", 2, "compress"},
		{"\x5d\0\0", 3, "lzma"}, /* LZMA alone: lc=3 lp=0 pb=2, a round dictionary */
		{"\x89PNG", 4, "png"},
		{"\xff\xd8\xff", 3, "jpeg"},
		{"GIF8", 4, "gif"},
		{"#!", 2, "script"},
		{"{\\rtf", 5, "rtf"},
		{"\x78\x9f\x3e\x22", 4, "tnef"},
		{"\x00\x05\x16\x00", 4, "applefile"}, /* AppleSingle */
		{"\x00\x05\x16\x07", 4, "applefile"}, /* AppleDouble */
	};
	size_t i = 0, probe;

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
