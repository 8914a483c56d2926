/*
 * detector_ident - data identifiers: validators, not bare regexes
 *
 * Hyperscan finds candidates with a loose pattern (detector_ident_regex);
 * detector_ident_check() then decides on the bytes around the candidate:
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
 * Many Hyperscan matches fall in one run of digits: *run_end lets the
 * caller skip the matches of a run it has already judged.
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

/* detector_ident_regex - the Hyperscan pattern for an identifier's candidates */
const char *detector_ident_regex(enum det_ident id)
{
	switch (id) {
	case IDENT_CARD:
		return "[2-6][0-9](?:[ -]?[0-9]){10,17}";
	case IDENT_SSN:
		return "[0-8][0-9]{2}[ -][0-9]{2}[ -][0-9]{4}";
	case IDENT_IBAN:
		return "[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}";
	default:
		return NULL;
	}
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

/* digit_run - the run of digits and single separators around end-1 */
static int digit_run(const char *d, size_t len, size_t end, size_t *s, size_t *e)
{
	size_t  a = end, b = end;

	if (end == 0 || end > len || !isdigit((unsigned char) d[end - 1]))
		return -1;
	a = end - 1;
	while (a > 0 && (isdigit((unsigned char) d[a - 1])
			 || (is_sep(d[a - 1]) && a >= 2 && isdigit((unsigned char) d[a - 2]))))
		a--;
	while (b < len && (isdigit((unsigned char) d[b])
			   || (is_sep(d[b]) && b + 1 < len && isdigit((unsigned char) d[b + 1]))))
		b++;
	*s = a;
	*e = b;
	if ((a > 0 && glued(d, len, a - 1, 1)) || (b < len && glued(d, len, b, 0)))
		return -1;
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

/* card_segment - the part of a digit run [s, e) that holds end-1
 *
 * A run of grouped digits (4111 1111 1111 1111) is one number. A run that
 * holds long groups (a list of compact numbers separated by spaces) is
 * several: each long group stands alone, and the short groups between
 * them form their own numbers.
 */
static void card_segment(const char *d, size_t s, size_t e, size_t end,
			 size_t *ss, size_t *se)
{
	size_t  gs = s, seg_start = s;
	int     prev_long = -1;

	*ss = s;
	*se = e;
	while (gs < e) {
		size_t  ge = gs;
		int     is_long;

		while (ge < e && isdigit((unsigned char) d[ge]))
			ge++;
		is_long = ge - gs >= 12;
		if (prev_long >= 0 && (is_long || prev_long)) {
			/* a segment boundary before this group */
			if (end - 1 < gs) {
				*ss = seg_start;
				*se = gs - 1;
				return;
			}
			seg_start = gs;
		}
		prev_long = is_long;
		gs = ge + 1;			/* past the separator */
	}
	*ss = seg_start;
	*se = e;
}

/* check_card - a card number around end */
static int check_card(const char *d, size_t len, size_t end, size_t *ms, size_t *me,
		      size_t *run_end, char *sample, size_t samplelen)
{
	char    digits[20];
	size_t  s, e, ss, se, nd;

	if (digit_run(d, len, end, &s, &e) < 0) {
		*run_end = end;
		return 0;
	}
	card_segment(d, s, e, end, &ss, &se);
	*run_end = se;
	if (se - ss > 40 || !groups_ok(d + ss, se - ss, digits, &nd)
	    || !detector_card_ok(digits, nd))
		return 0;
	*ms = ss;
	*me = se;
	mask_digits(d + ss, se - ss, sample, samplelen);
	return 1;
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

/* detector_ident_check - validate a candidate; 1 with the masked sample */
int detector_ident_check(enum det_ident id, const char *data, size_t len,
			 size_t end, size_t *m_start, size_t *m_end, size_t *run_end,
			 char *sample, size_t samplelen)
{
	switch (id) {
	case IDENT_CARD:
		return check_card(data, len, end, m_start, m_end, run_end, sample, samplelen);
	case IDENT_SSN:
		return check_ssn(data, len, end, m_start, m_end, run_end, sample, samplelen);
	case IDENT_IBAN:
		/* for IBANs, end is the start of the match (leftmost SOM) */
		return check_iban(data, len, end, m_start, m_end, run_end, sample, samplelen);
	default:
		return 0;
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
