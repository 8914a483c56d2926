/*
 * detector_ident - data identifiers: validators, not bare regexes
 *
 * detector_ident_scan() finds candidates: every run of digits (the text is
 * searched 16 bytes at a time with SSE2, so text without digits costs
 * almost nothing). Every card number, SSN and IBAN has digits: each run is
 * looked at once, by the validators of the identifiers in use, which
 * decide on the bytes around it:
 *
 *	credit_card	the whole run of digits and single separators (space
 *			or hyphen) around the candidate, not glued to letters
 *			or decimals; one kind of separator, in card groupings
 *			(4-4-4-4[-3], 4-6-5, 4-6-4); an issuer prefix with a
 *			length that issuer uses; the Luhn check.
 *	us_ssn		AAA-GG-SSSS or AAA GG SSSS, one kind of separator; area
 *			not 000, 666 or 9xx; group not 00; serial not 0000;
 *			known advertising and test numbers and one-digit
 *			repeats refused.
 *	iban		country code with that country's length, mod 97 = 1;
 *			spaces allowed between characters.
 *
 * (Class-only patterns such as [2-6][0-9](?:[ -]?[0-9]){10,17} in the
 * Hyperscan database cost more than all the keywords together: measured,
 * one combined database ran at a third of the speed of the keywords alone.)
 *
 * Masking keeps what a reader needs to tell incidents apart and nothing
 * more: a card's or SSN's last four digits, an IBAN's country, check
 * digits and last four, a keyword's first and last letter.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "detector.h"

static const char *const ident_names[IDENT_COUNT] = {
	"credit_card", "us_ssn", "iban",
};

/* detector_ident_name - an identifier's name in policies.conf */
const char *detector_ident_name(enum det_ident id)
{
	return id < IDENT_COUNT ? ident_names[id] : "unknown";
}

/* detector_ident_parse - an identifier by name; -1 if unknown */
int detector_ident_parse(const char *name, enum det_ident *id)
{
	for (int i = 0; i < IDENT_COUNT; i++)
		if (strcmp(name, ident_names[i]) == 0) {
			*id = (enum det_ident) i;
			return 0;
		}
	return -1;
}

/* detector_luhn - the Luhn (mod 10) check over n digits */
int detector_luhn(const char *d, size_t n)
{
	unsigned sum = 0;
	int     dbl = 0;

	for (size_t i = n; i-- > 0;) {
		unsigned v = (unsigned) (d[i] - '0');

		if (dbl && (v *= 2) > 9)
			v -= 9;
		sum += v;
		dbl = !dbl;
	}
	return sum % 10 == 0;
}

/* prefix_in - is the number's first k digits in [lo, hi]? */
static int prefix_in(const char *d, size_t n, int k, long lo, long hi)
{
	long    v = 0;

	if ((size_t) k > n)
		return 0;
	for (int i = 0; i < k; i++)
		v = v * 10 + (d[i] - '0');
	return v >= lo && v <= hi;
}

/* detector_card_ok - issuer prefix, length and Luhn of a card number */
int detector_card_ok(const char *d, size_t n)
{
	int     ok = 0;

	if (n < 12 || n > 19)
		return 0;
	if (d[0] == '4')			/* Visa */
		ok = n == 13 || n == 16 || n == 19;
	else if (prefix_in(d, n, 2, 51, 55) || prefix_in(d, n, 4, 2221, 2720))
		ok = n == 16;			/* Mastercard */
	else if (prefix_in(d, n, 2, 34, 34) || prefix_in(d, n, 2, 37, 37))
		ok = n == 15;			/* American Express */
	else if (prefix_in(d, n, 4, 6011, 6011) || prefix_in(d, n, 3, 644, 649)
		 || prefix_in(d, n, 2, 65, 65) || prefix_in(d, n, 6, 622126, 622925))
		ok = n >= 16;			/* Discover */
	else if (prefix_in(d, n, 4, 3528, 3589))
		ok = n >= 16;			/* JCB */
	else if (prefix_in(d, n, 3, 300, 305) || prefix_in(d, n, 4, 3095, 3095)
		 || prefix_in(d, n, 2, 36, 36) || prefix_in(d, n, 2, 38, 39))
		ok = n >= 14;			/* Diners Club */
	else if (prefix_in(d, n, 2, 62, 62))
		ok = n >= 16;			/* UnionPay */
	else if (prefix_in(d, n, 4, 5018, 5018) || prefix_in(d, n, 4, 5020, 5020)
		 || prefix_in(d, n, 4, 5038, 5038) || prefix_in(d, n, 4, 5893, 5893)
		 || prefix_in(d, n, 4, 6304, 6304) || prefix_in(d, n, 4, 6759, 6759)
		 || prefix_in(d, n, 4, 6761, 6763))
		ok = n >= 12;			/* Maestro */
	if (!ok)
		return 0;
	/* a number of one repeated digit is filler, not a card */
	for (size_t i = 1; i < n; i++)
		if (d[i] != d[0])
			return detector_luhn(d, n);
	return 0;
}

/* detector_ssn_ok - nine digits AAAGGSSSS by the SSA's rules */
int detector_ssn_ok(const char *d)
{
	static const char *const known[] = {
		"078051120", "219099999", "457555462", "123456789", "987654321", NULL,
	};
	int     area = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
	int     group = (d[3] - '0') * 10 + (d[4] - '0');
	int     serial = (d[5] - '0') * 1000 + (d[6] - '0') * 100 + (d[7] - '0') * 10
	+ (d[8] - '0');
	int     same = 1;

	if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0)
		return 0;
	for (int i = 1; i < 9; i++)
		if (d[i] != d[0])
			same = 0;
	if (same)
		return 0;
	for (int i = 0; known[i]; i++)
		if (memcmp(d, known[i], 9) == 0)
			return 0;
	return 1;
}

/* iban_length - the length of a country's IBANs, 0 if unknown */
static int iban_length(const char *cc)
{
	static const struct {
		char    cc[3];
		int     len;
	}       t[] = {
		{"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20},
		{"BE", 16}, {"BG", 22}, {"BH", 22}, {"BR", 29}, {"BY", 28}, {"CH", 21},
		{"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DK", 18}, {"DO", 28},
		{"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FO", 18}, {"FR", 27},
		{"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28},
		{"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26},
		{"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32},
		{"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MD", 24},
		{"ME", 22}, {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NL", 18},
		{"NO", 15}, {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29},
		{"RO", 24}, {"RS", 22}, {"SA", 24}, {"SC", 31}, {"SE", 24}, {"SI", 19},
		{"SK", 24}, {"SM", 27}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24},
		{"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (cc[0] == t[i].cc[0] && cc[1] == t[i].cc[1])
			return t[i].len;
	return 0;
}

/* detector_iban_ok - country length and mod 97 of n compact characters */
int detector_iban_ok(const char *s, size_t n)
{
	unsigned rem = 0;

	if (n < 15 || n > 34 || iban_length(s) != (int) n)
		return 0;
	for (size_t k = 0; k < n; k++) {
		char    c = s[(k + 4) % n];

		if (isdigit((unsigned char) c))
			rem = (rem * 10 + (unsigned) (c - '0')) % 97;
		else if (c >= 'A' && c <= 'Z')
			rem = (rem * 100 + (unsigned) (c - 'A' + 10)) % 97;
		else
			return 0;
	}
	return rem == 1;
}

/* is_sep - a separator inside a number */
static int is_sep(int c)
{
	return c == ' ' || c == '-';
}

/* glued - is byte c part of a word or a decimal around a number? */
static int glued(const char *d, size_t len, size_t pos, int before)
{
	unsigned char c = (unsigned char) d[pos];

	if (isalnum(c) || c == '_' || c >= 0x80)
		return 1;
	/* 3.14159... or 4111.11: a decimal point next to a digit */
	if (c == '.' || c == ',') {
		if (before)
			return pos > 0 && isdigit((unsigned char) d[pos - 1]);
		return pos + 1 < len && isdigit((unsigned char) d[pos + 1]);
	}
	return 0;
}

/* groups_ok - card groupings: digits and the lengths of the groups */
static int groups_ok(const char *run, size_t n, char *digits, size_t *nd)
{
	int     groups[20], ng = 0, cur = 0;
	char    sep = 0;

	*nd = 0;
	for (size_t i = 0; i < n; i++) {
		if (isdigit((unsigned char) run[i])) {
			if (*nd >= 19)
				return 0;
			digits[(*nd)++] = run[i];
			cur++;
		} else {
			if (sep && run[i] != sep)
				return 0;	/* mixed separators */
			sep = run[i];
			if (ng >= 19)
				return 0;
			groups[ng++] = cur;
			cur = 0;
		}
	}
	groups[ng++] = cur;
	if (ng == 1)
		return 1;
	if (ng == 3 && groups[0] == 4 && groups[1] == 6 && (groups[2] == 5 || groups[2] == 4))
		return 1;
	for (int i = 0; i < ng - 1; i++)
		if (groups[i] != 4)
			return 0;
	return groups[ng - 1] >= 1 && groups[ng - 1] <= 4;
}

/* mask_digits - keep separators and the last four digits */
static void mask_digits(const char *run, size_t n, char *out, size_t outlen)
{
	size_t  digits = 0, seen = 0, j = 0;

	for (size_t i = 0; i < n; i++)
		digits += isdigit((unsigned char) run[i]) != 0;
	for (size_t i = 0; i < n && j + 1 < outlen; i++) {
		if (isdigit((unsigned char) run[i]))
			out[j++] = ++seen + 4 > digits ? run[i] : '*';
		else
			out[j++] = run[i];
	}
	out[j] = 0;
}

/* card_check - one segment [s, e) of a run: a card number? */
static int card_check(const char *d, size_t s, size_t e, char *sample, size_t samplelen)
{
	char    digits[20];
	size_t  nd;

	if (e - s > 40 || !groups_ok(d + s, e - s, digits, &nd) || !detector_card_ok(digits, nd))
		return 0;
	mask_digits(d + s, e - s, sample, samplelen);
	return 1;
}

/*
 * card_scan - the card numbers of a run [s, e) of digits and separators
 *
 * A run of grouped digits (4111 1111 1111 1111) is one number. A run that
 * holds long groups (a list of compact numbers separated by spaces) is
 * several: each long group stands alone, and the short groups between
 * them form their own numbers. One pass over the groups.
 */
static void card_scan(const char *d, size_t len, size_t s, size_t e,
		      void (*found) (void *, enum det_ident, size_t, size_t, const char *),
		      void *ctx)
{
	char    sample[DET_SAMPLE_MAX + 8];
	size_t  gs = s, seg = s;
	int     prev_long = -1;

	/* glued to a word or a decimal: not a number of its own */
	if ((s > 0 && glued(d, len, s - 1, 1)) || (e < len && glued(d, len, e, 0)))
		return;
	while (gs < e) {
		size_t  ge = gs;
		int     is_long;

		while (ge < e && isdigit((unsigned char) d[ge]))
			ge++;
		is_long = ge - gs >= 12;
		if (prev_long >= 0 && (is_long || prev_long)) {
			if (card_check(d, seg, gs - 1, sample, sizeof(sample)))
				found(ctx, IDENT_CARD, seg, gs - 1, sample);
			seg = gs;
		}
		prev_long = is_long;
		gs = ge + 1;
	}
	if (card_check(d, seg, e, sample, sizeof(sample)))
		found(ctx, IDENT_CARD, seg, e, sample);
}

/* check_ssn - the SSN that ends at end: AAA-GG-SSSS, alone */
static int check_ssn(const char *d, size_t len, size_t end, size_t *ms, size_t *me,
		     size_t *run_end, char *sample, size_t samplelen)
{
	char    digits[10];
	size_t  s, nd = 0;
	char    sep;

	*run_end = end;
	if (end < 11 || end > len)
		return 0;
	s = end - 11;
	sep = d[s + 3];
	if (!is_sep(sep) || d[s + 6] != sep)
		return 0;
	for (size_t i = s; i < end; i++) {
		if (i == s + 3 || i == s + 6)
			continue;
		if (!isdigit((unsigned char) d[i]))
			return 0;
		digits[nd++] = d[i];
	}
	/* not glued to a word or a decimal, not part of a longer number */
	if (s > 0 && (glued(d, len, s - 1, 1) || (d[s - 1] == sep && s >= 2
						   && isdigit((unsigned char) d[s - 2]))))
		return 0;
	if (end < len && (glued(d, len, end, 0) || (d[end] == sep && end + 1 < len
						    && isdigit((unsigned char) d[end + 1]))))
		return 0;
	if (!detector_ssn_ok(digits))
		return 0;
	*ms = s;
	*me = end;
	mask_digits(d + s, end - s, sample, samplelen);
	return 1;
}

/* check_iban - an IBAN starting at from */
static int check_iban(const char *d, size_t len, size_t from, size_t *ms, size_t *me,
		      size_t *run_end, char *sample, size_t samplelen)
{
	char    compact[40];
	size_t  n = 0, i = from, want;
	size_t  j = 0;

	*run_end = from + 1;
	if (from + 4 > len || (from > 0 && (isalnum((unsigned char) d[from - 1])
					    || (unsigned char) d[from - 1] >= 0x80)))
		return 0;
	want = (size_t) iban_length(d + from);
	if (want == 0)
		return 0;
	while (i < len && n < want) {
		if (isupper((unsigned char) d[i]) || isdigit((unsigned char) d[i]))
			compact[n++] = d[i++];
		else if (d[i] == ' ' && n > 0 && i + 1 < len && isalnum((unsigned char) d[i + 1]))
			i++;
		else
			break;
	}
	if (n != want || (i < len && (isalnum((unsigned char) d[i]) || (unsigned char) d[i] >= 0x80)))
		return 0;
	if (!detector_iban_ok(compact, n))
		return 0;
	*ms = from;
	*me = i;
	*run_end = i;
	/* country and check digits, stars, the last four */
	for (size_t k = 0; k < n && j + 1 < samplelen; k++)
		sample[j++] = k < 4 || k + 4 >= n ? compact[k] : '*';
	sample[j] = 0;
	return 1;
}

#if defined(__x86_64__)
#include <immintrin.h>

/* next_digit_avx2 - the first ASCII digit at or after pos: 32 bytes a step */
__attribute__((target("avx2")))
static size_t next_digit_avx2(const char *d, size_t len, size_t pos)
{
	const __m256i lo = _mm256_set1_epi8((char) ('0' - 1 - 128));
	const __m256i hi = _mm256_set1_epi8((char) ('9' + 1 - 128));
	const __m256i flip = _mm256_set1_epi8((char) 0x80);

	while (pos + 32 <= len) {
		__m256i v = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *) (d + pos)), flip);
		unsigned m = (unsigned) _mm256_movemask_epi8(_mm256_and_si256(
					 _mm256_cmpgt_epi8(v, lo), _mm256_cmpgt_epi8(hi, v)));

		if (m)
			return pos + (size_t) __builtin_ctz(m);
		pos += 32;
	}
	while (pos < len && (d[pos] < '0' || d[pos] > '9'))
		pos++;
	return pos;
}
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

/* next_digit_sse2 - the first ASCII digit at or after pos: 16 bytes a step */
static size_t next_digit_sse2(const char *d, size_t len, size_t pos)
{
#if defined(__SSE2__)
	const __m128i lo = _mm_set1_epi8((char) ('0' - 1 - 128));
	const __m128i hi = _mm_set1_epi8((char) ('9' + 1 - 128));
	const __m128i flip = _mm_set1_epi8((char) 0x80);

	while (pos + 16 <= len) {
		__m128i v = _mm_xor_si128(_mm_loadu_si128((const __m128i *) (d + pos)), flip);
		int     m = _mm_movemask_epi8(_mm_and_si128(_mm_cmpgt_epi8(v, lo),
							 _mm_cmplt_epi8(v, hi)));

		if (m)
			return pos + (size_t) __builtin_ctz((unsigned) m);
		pos += 16;
	}
#endif
	while (pos < len && (d[pos] < '0' || d[pos] > '9'))
		pos++;
	return pos;
}

/* next_digit - the first ASCII digit at or after pos, or len */
static size_t next_digit(const char *d, size_t len, size_t pos)
{
#if defined(__x86_64__)
	static int avx2 = -1;

	if (avx2 < 0)
		avx2 = __builtin_cpu_supports("avx2") != 0;
	if (avx2)
		return next_digit_avx2(d, len, pos);
#endif
	return next_digit_sse2(d, len, pos);
}

/* dig - an ASCII digit (no locale lookup) */
static inline int dig(char c)
{
	return c >= '0' && c <= '9';
}

/* detector_ident_scan - find, validate and report identifiers in a text */
void    detector_ident_scan(const char *d, size_t len, const int *want,
			    void (*found) (void *ctx, enum det_ident id, size_t s,
					   size_t e, const char *sample), void *ctx)
{
	char    sample[DET_SAMPLE_MAX + 8];
	size_t  pos = 0, iban_end = 0;

	while ((pos = next_digit(d, len, pos)) < len) {
		size_t  s, e, ms, me, next;

		/* the run of digits and single separators that starts here */
		s = pos;
		e = pos;
		while (e < len && (dig(d[e]) || (is_sep(d[e]) && e + 1 < len && dig(d[e + 1]))))
			e++;
		if (want[IDENT_IBAN] && s >= 2 && s >= iban_end + 2 && e - s >= 2
		    && d[s - 1] >= 'A' && d[s - 1] <= 'Z' && d[s - 2] >= 'A' && d[s - 2] <= 'Z'
		    && check_iban(d, len, s - 2, &ms, &me, &next, sample, sizeof(sample))) {
			found(ctx, IDENT_IBAN, ms, me, sample);
			iban_end = me;
			pos = me > e ? me : e;
			continue;
		}
		if (want[IDENT_CARD] && e - s >= 12)
			card_scan(d, len, s, e, found, ctx);
		if (want[IDENT_SSN] && e - s >= 11) {
			for (size_t end = s + 11; end <= e; end++)
				if (isdigit((unsigned char) d[end - 1])
				    && check_ssn(d, len, end, &ms, &me, &next, sample, sizeof(sample)))
					found(ctx, IDENT_SSN, ms, me, sample);
		}
		pos = e;
	}
}

/* detector_mask - a keyword's or pattern's match, first and last letter shown */
void detector_mask(const char *in, size_t len, char *out, size_t outlen)
{
	size_t  chars = 0, seen = 0, j = 0;

	for (size_t i = 0; i < len; i++)
		chars += ((unsigned char) in[i] & 0xc0) != 0x80;
	for (size_t i = 0; i < len && j + 4 < outlen;) {
		size_t  n = 1;

		while (i + n < len && ((unsigned char) in[i + n] & 0xc0) == 0x80)
			n++;
		seen++;
		if (chars >= 6 && (seen == 1 || seen == chars) && (unsigned char) in[i] >= 0x20) {
			memcpy(out + j, in + i, n < outlen - j - 1 ? n : 0);
			j += n < outlen - j - 1 ? n : 0;
		} else {
			out[j++] = (in[i] == ' ' || in[i] == '\t' || in[i] == '\n' || in[i] == '\r')
				? ' ' : '*';
		}
		i += n;
	}
	out[j] = 0;
}
