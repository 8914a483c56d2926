/*
 * detector_fold - text as a reader sees it, for the matchers
 *
 * detector_fold() makes a copy of a text unit in which what a person
 * reads the same is written the same, or says that nothing needs to
 * change (the common case: ASCII text and ordinary accented text):
 *
 *	decimal digits of every script	(Arabic-Indic, Devanagari, Thai,
 *				mathematical bold/sans/monospace...) and
 *				superscript and subscript digits become
 *				ASCII digits; fullwidth digits are left to
 *				the identifier scan, which reads them itself
 *	mathematical alphanumerics,	(U+1D400.., U+FF21..) become ASCII
 *	fullwidth letters		letters
 *	Latin ligatures		(U+FB00..U+FB06, what PDFs typeset "fi" and
 *				"ffl" with) become their letters
 *	invisible format characters	(zero-width space and joiners, soft
 *				hyphen, word joiner, direction marks and
 *				embeddings, variation selectors, tags,
 *				the combining grapheme joiner) are dropped
 *	decorating combining marks	(underline, overline, strike-through,
 *				enclosing circles and keycaps) are dropped,
 *				and any combining mark on a digit
 *	a right-to-left override	(U+202E ... U+202C) shows its characters
 *				in the reverse order: they are written so
 *	Cyrillic and Greek look-alikes	in a word that also holds Latin
 *				letters ("fаlcon" with a Cyrillic a) become
 *				the Latin letters they imitate; words
 *				wholly in one script are left as they are
 *
 * Invalid UTF-8 is copied as it stands. map, when asked for, gives the
 * offset in the input of each output byte (and of the end), so that
 * places found in the copy can be shown in the original.
 *
 * Returns 1 and fills out (a buffer it initialises) when the copy
 * differs, 0 when the text reads as it is (out is not initialised). Bounded by the input: one pass to decide,
 * one to copy; the output is never longer than the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "buf.h"
#include "mem.h"
#include "detector.h"

#define FOLD_RLO_MAX 1024 /* code points of one reversed span */

/* The zero of each run of ten decimal digits (Unicode Nd), fullwidth aside. */
static const uint32_t digit_zero[] = {
	0x660,   0x6f0,   0x7c0,   0x966,   0x9e6,   0xa66,   0xae6,   0xb66,   0xbe6,
	0xc66,   0xce6,   0xd66,   0xde6,   0xe50,   0xed0,   0xf20,   0x1040,  0x1090,
	0x17e0,  0x1810,  0x1946,  0x19d0,  0x1a80,  0x1a90,  0x1b50,  0x1bb0,  0x1c40,
	0x1c50,  0xa620,  0xa8d0,  0xa900,  0xa9d0,  0xa9f0,  0xaa50,  0xabf0,  0x104a0,
	0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650,
	0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x11f50, 0x16a60,
	0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0,
	0x1e4f0, 0x1e950, 0x1fbf0,
};

/* Cyrillic and Greek letters drawn like Latin ones. */
static const struct {
	uint16_t cp;
	char latin;
} lookalike[] = {
	{0x391, 'A'}, {0x392, 'B'}, {0x395, 'E'}, {0x396, 'Z'}, {0x397, 'H'}, {0x399, 'I'},
	{0x39a, 'K'}, {0x39c, 'M'}, {0x39d, 'N'}, {0x39f, 'O'}, {0x3a1, 'P'}, {0x3a4, 'T'},
	{0x3a5, 'Y'}, {0x3a7, 'X'}, {0x3b1, 'a'}, {0x3b9, 'i'}, {0x3ba, 'k'}, {0x3bd, 'v'},
	{0x3bf, 'o'}, {0x3c1, 'p'}, {0x3c5, 'u'}, {0x3c7, 'x'}, {0x405, 'S'}, {0x406, 'I'},
	{0x408, 'J'}, {0x410, 'A'}, {0x412, 'B'}, {0x415, 'E'}, {0x41a, 'K'}, {0x41c, 'M'},
	{0x41d, 'H'}, {0x41e, 'O'}, {0x420, 'P'}, {0x421, 'C'}, {0x422, 'T'}, {0x423, 'Y'},
	{0x425, 'X'}, {0x430, 'a'}, {0x435, 'e'}, {0x43e, 'o'}, {0x440, 'p'}, {0x441, 'c'},
	{0x443, 'y'}, {0x445, 'x'}, {0x455, 's'}, {0x456, 'i'}, {0x458, 'j'}, {0x4ae, 'Y'},
	{0x4bb, 'h'}, {0x4c0, 'I'}, {0x4cf, 'l'}, {0x501, 'd'}, {0x51a, 'Q'}, {0x51b, 'q'},
	{0x51c, 'W'}, {0x51d, 'w'},
};

/* utf8_next - the code point at p, and its length; 0 for an invalid sequence */
static size_t utf8_next(const unsigned char *p, size_t left, uint32_t *cp)
{
	unsigned char c = p[0];
	size_t n;

	if (c < 0x80)
		return *cp = c, 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, *cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, *cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, *cp = c & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && *cp < 0x800) || (n == 4 && (*cp < 0x10000 || *cp > 0x10ffff))
	    || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

/* fold_digit - the ASCII digit a code point stands for, or -1 */
static int fold_digit(uint32_t cp)
{
	if (cp == 0xb9)
		return '1';
	if (cp == 0xb2 || cp == 0xb3)
		return '0' + (int) (cp - 0xb0);
	if (cp == 0x2070 || (cp >= 0x2074 && cp <= 0x2079))
		return '0' + (int) (cp - 0x2070); /* superscripts */
	if (cp >= 0x2080 && cp <= 0x2089)
		return '0' + (int) (cp - 0x2080); /* subscripts */
	if (cp < 0x660)
		return -1;
	for (size_t i = 0; i < sizeof(digit_zero) / sizeof(digit_zero[0]); i++)
		if (cp >= digit_zero[i] && cp < digit_zero[i] + 10)
			return '0' + (int) (cp - digit_zero[i]);
	return -1;
}

/* fold_letter - the ASCII letter a fullwidth or mathematical letter is, or 0 */
static int fold_letter(uint32_t cp)
{
	if (cp >= 0xff21 && cp <= 0xff3a)
		return 'A' + (int) (cp - 0xff21);
	if (cp >= 0xff41 && cp <= 0xff5a)
		return 'a' + (int) (cp - 0xff41);
	if (cp >= 0x1d400 && cp < 0x1d6a4) {
		unsigned k = (cp - 0x1d400) % 52;

		return k < 26 ? 'A' + (int) k : 'a' + (int) (k - 26);
	}
	return 0;
}

/* fold_ligature - the letters of a Latin ligature, or NULL */
static const char *fold_ligature(uint32_t cp)
{
	static const char *const lig[] = {"ff", "fi", "fl", "ffi", "ffl", "st", "st"};

	return cp >= 0xfb00 && cp <= 0xfb06 ? lig[cp - 0xfb00] : NULL;
}

/* fold_lookalike - the Latin letter a Cyrillic or Greek one imitates, or 0 */
static int fold_lookalike(uint32_t cp)
{
	if (cp < 0x391 || cp > 0x51d)
		return 0;
	for (size_t i = 0; i < sizeof(lookalike) / sizeof(lookalike[0]); i++)
		if (lookalike[i].cp == cp)
			return lookalike[i].latin;
	return 0;
}

/* is_invisible - a format character that shows nothing */
static int is_invisible(uint32_t cp)
{
	return cp == 0xad || cp == 0x34f || cp == 0x61c || cp == 0x180e
		|| (cp >= 0x180b && cp <= 0x180d) || (cp >= 0x200b && cp <= 0x200f)
		|| (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064)
		|| (cp >= 0x2066 && cp <= 0x206f) || (cp >= 0xfe00 && cp <= 0xfe0f)
		|| cp == 0xfeff || (cp >= 0xe0000 && cp <= 0xe007f)
		|| (cp >= 0xe0100 && cp <= 0xe01ef);
}

/* is_decoration - a combining mark that decorates rather than spells */
static int is_decoration(uint32_t cp)
{
	return cp == 0x305 || cp == 0x332 || cp == 0x333 || (cp >= 0x335 && cp <= 0x338)
		|| (cp >= 0x20d0 && cp <= 0x20f0);
}

/* is_mark - any combining mark (the common blocks) */
static int is_mark(uint32_t cp)
{
	return (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x1ab0 && cp <= 0x1aff)
		|| (cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x20d0 && cp <= 0x20f0)
		|| (cp >= 0xfe20 && cp <= 0xfe2f);
}

/* is_letter - a letter of a word, for the look-alike rule */
static int is_letter(uint32_t cp)
{
	return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')
		|| (cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7)
		|| (cp >= 0x370 && cp <= 0x52f) || is_mark(cp) || is_invisible(cp)
		|| fold_letter(cp) || fold_ligature(cp);
}

/* is_latin - a Latin letter, as a word holding look-alikes would also have */
static int is_latin(uint32_t cp)
{
	return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')
		|| (cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7) || fold_letter(cp)
		|| fold_ligature(cp);
}

/* struct fold - the copy being made */
struct fold {
	const char *in;
	size_t len;
	struct buf *out;
	size_t *map; /* NULL: not asked for */
	size_t nmap;
	int changed;
	int after_digit; /* the last character shown was a digit */
};

/* fold_cp - the folded form of one code point (at its bytes in the input) */
static void fold_cp(struct fold *f, uint32_t cp, size_t at, size_t n, int mixed)
{
	int a = 0, d;
	const char *lig;

	if ((lig = fold_ligature(cp)) != NULL) {
		f->changed = 1;
		f->after_digit = 0;
		buf_puts(f->out, lig);
		for (size_t i = 0; f->map && lig[i]; i++)
			f->map[f->nmap++] = at;
		return;
	}
	if (cp >= 0x80) {
		if (is_invisible(cp) || is_decoration(cp) || (is_mark(cp) && f->after_digit)) {
			f->changed = 1;
			return; /* not seen, or a digit's decoration */
		}
		if ((d = fold_digit(cp)) >= 0)
			a = d;
		else if ((d = fold_letter(cp)) != 0 || (mixed && (d = fold_lookalike(cp)) != 0))
			a = d;
	}
	if (!is_mark(cp)) /* a mark belongs to the character before it */
		f->after_digit = (cp >= '0' && cp <= '9') || (a >= '0' && a <= '9')
			|| (cp >= 0xff10 && cp <= 0xff19);
	if (a) {
		f->changed = 1;
		buf_putc(f->out, a);
		n = 1;
	} else
		buf_append(f->out, f->in + at, n);
	if (f->map)
		for (size_t i = 0; i < n; i++)
			f->map[f->nmap++] = at;
}

/* next_cp - the code point at offset i (an invalid byte stands for itself); its length */
static size_t next_cp(const struct fold *f, size_t i, uint32_t *cp)
{
	size_t n = utf8_next((const unsigned char *) f->in + i, f->len - i, cp);

	if (n == 0) {
		*cp = 0x110000; /* no character: copied as it stands */
		return 1;
	}
	return n;
}

/* fold_word - a run of letters: look-alikes become Latin if it mixes scripts */
static size_t fold_word(struct fold *f, size_t i)
{
	size_t e = i, n;
	uint32_t cp;
	int latin = 0, alike = 0;

	while (e < f->len) {
		n = next_cp(f, e, &cp);
		if (!is_letter(cp))
			break;
		latin |= is_latin(cp);
		alike |= fold_lookalike(cp) != 0;
		e += n;
	}
	for (; i < e; i += n) {
		n = next_cp(f, i, &cp);
		fold_cp(f, cp, i, n, latin && alike);
	}
	return e;
}

/* fold_rlo - a right-to-left override span, U+202E up to U+202C (or the
 * line's end, or another direction control), in the order it is shown */
static size_t fold_rlo(struct fold *f, size_t i)
{
	size_t at[FOLD_RLO_MAX], len[FOLD_RLO_MAX], k = 0, e = i, n;
	uint32_t cps[FOLD_RLO_MAX], cp;

	f->changed = 1;
	e += next_cp(f, e, &cp); /* the override itself: not shown */
	while (e < f->len && k < FOLD_RLO_MAX) {
		n = next_cp(f, e, &cp);
		if (cp == '\n' || cp == '\r' || (cp >= 0x202a && cp <= 0x202e)
		    || (cp >= 0x2066 && cp <= 0x2069))
			break;
		at[k] = e;
		len[k] = n;
		cps[k++] = cp;
		e += n;
	}
	while (k > 0) {
		k--;
		fold_cp(f, cps[k], at[k], len[k], fold_lookalike(cps[k]) != 0);
	}
	return e;
}

/* needs_fold - is there anything to fold? (cheap: ASCII text says no at once) */
static int needs_fold(const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *) in;
	size_t i = 0, simd_at = 0;
	int lookalikes = 0, latin = 0;

	while (i < len) {
		uint64_t w;
		uint32_t cp;
		size_t n;

#ifdef __SSE2__
		/* 64 bytes of ASCII a step; past a block that is not, 8 at a time */
		if (i >= simd_at && len - i >= 64) {
			const __m128i *q = (const __m128i *) (p + i);
			__m128i x = _mm_or_si128(
				_mm_or_si128(_mm_loadu_si128(q), _mm_loadu_si128(q + 1)),
				_mm_or_si128(_mm_loadu_si128(q + 2), _mm_loadu_si128(q + 3)));

			if (_mm_movemask_epi8(x) == 0) {
				latin = 1;
				i += 64;
				continue;
			}
			simd_at = i + 64;
		}
#endif
		if (i + 8 <= len && (memcpy(&w, p + i, 8), (w & 0x8080808080808080ULL) == 0)) {
			latin = 1;
			i += 8;
			continue;
		}
		if (p[i] < 0x80) {
			latin |= (p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z';
			i++;
			continue;
		}
		if ((n = utf8_next(p + i, len - i, &cp)) == 0) {
			i++;
			continue;
		}
		if (fold_lookalike(cp))
			lookalikes = 1;
		else if (is_invisible(cp) || is_decoration(cp) || is_mark(cp)
			 || fold_digit(cp) >= 0 || fold_letter(cp) || fold_ligature(cp))
			return 1;
		i += n;
	}
	return lookalikes && latin;
}

/* detector_fold - the text as read (see above); 1 if out holds a copy that
 * differs (out is initialised here; the caller frees it), 0 if the text
 * reads as it is. *map (when map is not NULL) is allocated with the copy:
 * the input offset of every output byte, and the input's length after the
 * last. */
int detector_fold(const char *in, size_t len, struct buf *out, size_t **map)
{
	struct fold f = {.in = in, .len = len, .out = out};
	size_t i = 0;

	if (map)
		*map = NULL;
	if (!needs_fold(in, len))
		return 0;
	if (map)
		f.map = xmalloc((len + 1) * sizeof(size_t));
	buf_init(out, len + 16);
	while (i < len) {
		uint32_t cp;
		size_t n = next_cp(&f, i, &cp);

		if (cp == 0x202e)
			i = fold_rlo(&f, i);
		else if (cp >= 0x80 && is_letter(cp) && !is_mark(cp) && !is_invisible(cp))
			i = fold_word(&f, i);
		else if (cp < 0x80 && ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z'))
			i = fold_word(&f, i);
		else {
			fold_cp(&f, cp, i, n, 0);
			i += n;
		}
	}
	if (!f.changed) {
		free(f.map);
		buf_free(out);
		return 0;
	}
	if (map) {
		f.map[f.nmap] = len;
		*map = f.map;
	}
	out->data[out->len] = 0;
	return 1;
}
