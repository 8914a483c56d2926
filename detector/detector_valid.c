/*
 * detector_valid - the validators of data identifiers: check digits and
 * issuer rules
 *
 * Each function takes a value in its compact form (digits and letters,
 * the separators already removed, letters in upper case) and says whether
 * it could have been issued: length, ranges the issuer uses, embedded
 * dates, check digits. They read exactly the bytes their length says,
 * allocate nothing and have no state; detector_ident.c finds the
 * candidates and calls them, the unit tests call them directly.
 *
 *	detector_luhn		Luhn (mod 10): cards, Canadian SIN, Swedish
 *				personnummer
 *	detector_card_ok	issuer prefix and length (Visa, Mastercard,
 *				American Express, Discover, JCB, Diners Club,
 *				UnionPay, Maestro), Luhn
 *	detector_ssn_ok		US SSN: area, group and serial rules
 *	detector_iban_ok	IBAN: the country's length, ISO 7064 mod 97
 *	detector_valid_*	one per identifier, named after it
 *
 * The check-digit algorithms are the issuers' published ones; the
 * comments name them.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "detector.h"

/* num - the value of k digits */
static long num(const char *d, int k)
{
	long v = 0;

	for (int i = 0; i < k; i++)
		v = v * 10 + (d[i] - '0');
	return v;
}

/* all_digits - are n bytes ASCII digits? */
static int all_digits(const char *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (d[i] < '0' || d[i] > '9')
			return 0;
	return 1;
}

/* one_digit - is the number one repeated digit (filler, not an id)? */
static int one_digit(const char *d, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (d[i] != d[0])
			return 0;
	return 1;
}

/* date_ok - a calendar date (Gregorian, 29 February in leap years) */
static int date_ok(long y, long m, long d)
{
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return 0;
	if (m == 2 && d == 29 && y >= 0)
		return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return 1;
}

/* detector_luhn - the Luhn (mod 10) check over n digits */
int detector_luhn(const char *d, size_t n)
{
	unsigned sum = 0;
	int dbl = 0;

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
	long v;

	if ((size_t) k > n)
		return 0;
	v = num(d, k);
	return v >= lo && v <= hi;
}

/*
 * detector_card_ok - issuer prefix, length and Luhn of a card number
 *
 * Lengths are those the networks issue today: 13-digit Visa numbers are
 * gone (and a 13-digit EAN bar code starting with 4 would pass Luhn one
 * time in ten), as are 15-digit Diners Club numbers.
 */
int detector_card_ok(const char *d, size_t n)
{
	int ok = 0;

	if (n < 12 || n > 19 || !all_digits(d, n))
		return 0;
	if (d[0] == '4') /* Visa */
		ok = n == 16 || n == 19;
	else if (prefix_in(d, n, 2, 51, 55) || prefix_in(d, n, 4, 2221, 2720))
		ok = n == 16; /* Mastercard */
	else if (prefix_in(d, n, 2, 34, 34) || prefix_in(d, n, 2, 37, 37))
		ok = n == 15; /* American Express */
	else if (prefix_in(d, n, 4, 6011, 6011) || prefix_in(d, n, 3, 644, 649)
		 || prefix_in(d, n, 2, 65, 65) || prefix_in(d, n, 6, 622126, 622925))
		ok = n >= 16; /* Discover */
	else if (prefix_in(d, n, 4, 3528, 3589))
		ok = n >= 16; /* JCB */
	else if (prefix_in(d, n, 3, 300, 305) || prefix_in(d, n, 4, 3095, 3095)
		 || prefix_in(d, n, 2, 36, 36) || prefix_in(d, n, 2, 38, 39))
		ok = n == 14 || n >= 16; /* Diners Club */
	else if (prefix_in(d, n, 2, 62, 62))
		ok = n >= 16; /* UnionPay */
	else if (prefix_in(d, n, 4, 5018, 5018) || prefix_in(d, n, 4, 5020, 5020)
		 || prefix_in(d, n, 4, 5038, 5038) || prefix_in(d, n, 4, 5893, 5893)
		 || prefix_in(d, n, 4, 6304, 6304) || prefix_in(d, n, 4, 6759, 6759)
		 || prefix_in(d, n, 4, 6761, 6763))
		ok = n >= 12; /* Maestro */
	return ok && !one_digit(d, n) && detector_luhn(d, n);
}

/* detector_ssn_ok - nine digits AAAGGSSSS by the SSA's rules */
int detector_ssn_ok(const char *d)
{
	static const char *const known[] = {
		"078051120", "219099999", "457555462", "123456789", "987654321", NULL,
	};
	long area = num(d, 3), group = num(d + 3, 2), serial = num(d + 5, 4);

	if (!all_digits(d, 9) || area == 0 || area == 666 || area >= 900 || group == 0
	    || serial == 0 || one_digit(d, 9))
		return 0;
	for (int i = 0; known[i]; i++)
		if (memcmp(d, known[i], 9) == 0)
			return 0;
	return 1;
}

/* iban_length - the length of a country's IBANs, 0 if unknown */
int detector_iban_length(const char *cc)
{
	static const struct {
		char cc[3];
		int len;
	} t[] = {
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

	if (n < 15 || n > 34 || detector_iban_length(s) != (int) n)
		return 0;
	for (size_t k = 0; k < n; k++) {
		char c = s[(k + 4) % n];

		if (c >= '0' && c <= '9')
			rem = (rem * 10 + (unsigned) (c - '0')) % 97;
		else if (c >= 'A' && c <= 'Z')
			rem = (rem * 100 + (unsigned) (c - 'A' + 10)) % 97;
		else
			return 0;
	}
	return rem == 1;
}

/*
 * detector_valid_nino - UK National Insurance number: AB123456C
 *
 * HMRC's prefix rules: neither letter D, F, I, Q, U or V, the second not
 * O, and not the prefixes BG, GB, KN, NK, NT, TN or ZZ (never issued, or
 * administrative); six digits; the suffix A, B, C or D. n is 8 (no
 * suffix) or 9.
 */
int detector_valid_nino(const char *s, size_t n)
{
	static const char *const bad[] = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ", NULL};

	if ((n != 8 && n != 9) || !isupper((unsigned char) s[0])
	    || !isupper((unsigned char) s[1]) || !all_digits(s + 2, 6))
		return 0;
	if (strchr("DFIQUV", s[0]) || strchr("DFIQUVO", s[1]))
		return 0;
	for (int i = 0; bad[i]; i++)
		if (s[0] == bad[i][0] && s[1] == bad[i][1])
			return 0;
	if (one_digit(s + 2, 6))
		return 0;
	return n == 8 || (s[8] >= 'A' && s[8] <= 'D');
}

/* detector_valid_sin - Canadian Social Insurance Number: 9 digits, Luhn */
int detector_valid_sin(const char *d)
{
	/* 0: not issued (fictitious numbers), 8: not used */
	if (!all_digits(d, 9) || d[0] == '0' || d[0] == '8' || one_digit(d, 9))
		return 0;
	return detector_luhn(d, 9);
}

/*
 * detector_valid_nir - French NIR (numéro de sécurité sociale): 15 characters
 *
 * sex (1, 2; 3, 4, 7, 8 for people born abroad or awaiting a number),
 * year, month (01-12, 20-42 or 50-99 when unknown), department (2A and 2B
 * for Corsica, counted as 19 and 18 in the key), commune, order, and a key
 * of 97 - (the 13 digits mod 97).
 */
int detector_valid_nir(const char *s, size_t n)
{
	char d[13];
	long month, key;
	uint64_t v = 0;

	if (n != 15 || !strchr("123478", s[0]) || !all_digits(s, 5) || !all_digits(s + 7, 8))
		return 0;
	memcpy(d, s, 13);
	if (s[5] == '2' && (s[6] == 'A' || s[6] == 'B')) {
		d[5] = '1'; /* 2A counts as 19, 2B as 18 */
		d[6] = s[6] == 'A' ? '9' : '8';
	} else if (!all_digits(s + 5, 2) || num(s + 5, 2) == 0)
		return 0;
	month = num(s + 3, 2);
	if (!((month >= 1 && month <= 12) || (month >= 20 && month <= 42) || month >= 50))
		return 0;
	for (int i = 0; i < 13; i++)
		v = v * 10 + (uint64_t) (d[i] - '0');
	key = num(s + 13, 2);
	return key >= 1 && key <= 97 && (long) (97 - v % 97) == key;
}

/* dni_letter - the control letter of a Spanish DNI or NIE number */
static char dni_letter(long v)
{
	return "TRWAGMYFPDXBNJZSQVHLCKE"[v % 23];
}

/* detector_valid_dni - Spanish DNI/NIF: 8 digits and their mod 23 letter */
int detector_valid_dni(const char *s, size_t n)
{
	if (n != 9 || !all_digits(s, 8) || one_digit(s, 8))
		return 0;
	return s[8] == dni_letter(num(s, 8));
}

/* detector_valid_nie - Spanish NIE: X, Y or Z (0, 1, 2), 7 digits, mod 23 letter */
int detector_valid_nie(const char *s, size_t n)
{
	if (n != 9 || s[0] == 0 || !strchr("XYZ", s[0]) || !all_digits(s + 1, 7))
		return 0;
	return s[8] == dni_letter((s[0] - 'X') * 10000000L + num(s + 1, 7));
}

/* cf_digit - a codice fiscale digit position: a digit, or its omocodia letter */
static int cf_digit(char c)
{
	static const char omo[] = "LMNPQRSTUV";
	const char *p;

	if (c >= '0' && c <= '9')
		return c - '0';
	p = c ? strchr(omo, c) : NULL;
	return p ? (int) (p - omo) : -1;
}

/*
 * detector_valid_it_cf - Italian codice fiscale: RSSMRA85T10A562S
 *
 * Six letters of the names, the year, a month letter, the day (plus 40
 * for women), a letter and three digits of the place of birth, and a
 * check letter from the odd/even position tables of DM 23/12/1976. The
 * digits may be replaced by the letters L-V (omocodia).
 */
int detector_valid_it_cf(const char *s, size_t n)
{
	static const int odd[36] = {
		1,  0,  5, 7, 9, 13, 15, 17, 19, 21, /* 0-9 */
		1,  0,  5, 7, 9, 13, 15, 17, 19, 21, 2,  4,  18,
		20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23, /* A-Z */
	};
	static const int digit_pos[] = {6, 7, 9, 10, 12, 13, 14};
	int sum = 0, day;

	if (n != 16)
		return 0;
	for (int i = 0; i < 6; i++)
		if (!isupper((unsigned char) s[i]))
			return 0;
	for (size_t i = 0; i < sizeof(digit_pos) / sizeof(digit_pos[0]); i++)
		if (cf_digit(s[digit_pos[i]]) < 0)
			return 0;
	if (!strchr("ABCDEHLMPRST", s[8]) || s[8] == 0 || !isupper((unsigned char) s[11])
	    || !isupper((unsigned char) s[15]))
		return 0;
	day = cf_digit(s[9]) * 10 + cf_digit(s[10]);
	if (!((day >= 1 && day <= 31) || (day >= 41 && day <= 71)))
		return 0;
	for (int i = 0; i < 15; i++) {
		int c = (unsigned char) s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c - 'A' + 10;

		if (v < 0 || v > 35)
			return 0;
		sum += i % 2 == 0 ? odd[v] : (v >= 10 ? v - 10 : v);
	}
	return s[15] == 'A' + sum % 26;
}

/* detector_valid_bsn - Dutch burgerservicenummer: the 11-test over 9 digits */
int detector_valid_bsn(const char *d)
{
	long sum = 0;

	if (!all_digits(d, 9) || one_digit(d, 9))
		return 0;
	for (int i = 0; i < 8; i++)
		sum += (9 - i) * (d[i] - '0');
	sum -= d[8] - '0';
	return sum % 11 == 0;
}

/*
 * detector_valid_steuer_id - German Steuerliche Identifikationsnummer
 *
 * 11 digits, no leading 0; in the first ten, exactly one digit occurs
 * twice or three times (three not in a row) and every other at most
 * once; the check digit by ISO 7064 MOD 11,10.
 */
int detector_valid_steuer_id(const char *d)
{
	int count[10] = {0}, multi = 0, product = 10, check;

	if (!all_digits(d, 11) || d[0] == '0')
		return 0;
	for (int i = 0; i < 10; i++)
		count[d[i] - '0']++;
	for (int k = 0; k < 10; k++) {
		if (count[k] > 3)
			return 0;
		if (count[k] >= 2)
			multi++;
	}
	if (multi != 1)
		return 0;
	for (int i = 0; i + 2 < 10; i++)
		if (d[i] == d[i + 1] && d[i] == d[i + 2])
			return 0;
	for (int i = 0; i < 10; i++) {
		int sum = (d[i] - '0' + product) % 10;

		if (sum == 0)
			sum = 10;
		product = (sum * 2) % 11;
	}
	check = 11 - product;
	if (check == 10)
		check = 0;
	return check == d[10] - '0';
}

/*
 * detector_valid_personnummer - Swedish personnummer: [YY]YYMMDDNNNC
 *
 * A birth date (day + 60 for a samordningsnummer), three digits, and a
 * Luhn check over the ten digits YYMMDDNNNC. n is 10 or 12.
 */
int detector_valid_personnummer(const char *d, size_t n)
{
	long y, m, day;

	if ((n != 10 && n != 12) || !all_digits(d, n))
		return 0;
	if (n == 12) {
		y = num(d, 4);
		if (y < 1870 || y > 2099)
			return 0;
		d += 2;
	} else
		y = 1900 + num(d, 2); /* the century only matters for 29 February */
	m = num(d + 2, 2);
	day = num(d + 4, 2);
	if (day > 60)
		day -= 60;
	if (!date_ok(n == 12 ? y : -1, m, day) || num(d + 6, 3) == 0)
		return 0;
	return detector_luhn(d, 10);
}

/* detector_valid_cpr - Danish CPR-nummer: DDMMYY and four digits */
int detector_valid_cpr(const char *d)
{
	/* the mod 11 check was dropped in 2007: the date is what remains */
	if (!all_digits(d, 10) || one_digit(d, 10))
		return 0;
	return date_ok(-1, num(d + 2, 2), num(d, 2));
}

/* detector_valid_pesel - Polish PESEL: YYMMDD (century in the month), weights 1-3-7-9 */
int detector_valid_pesel(const char *d)
{
	static const int w[] = {1, 3, 7, 9, 1, 3, 7, 9, 1, 3};
	long m, y, sum = 0;

	if (!all_digits(d, 11) || one_digit(d, 11))
		return 0;
	m = num(d + 2, 2);
	y = num(d, 2);
	if (m > 80)
		y += 1800, m -= 80;
	else if (m > 60)
		y += 2200, m -= 60;
	else if (m > 40)
		y += 2100, m -= 40;
	else if (m > 20)
		y += 2000, m -= 20;
	else
		y += 1900;
	if (!date_ok(y, m, num(d + 4, 2)))
		return 0;
	for (int i = 0; i < 10; i++)
		sum += w[i] * (d[i] - '0');
	return (10 - sum % 10) % 10 == d[10] - '0';
}

/* detector_verhoeff - the Verhoeff check (dihedral group D5) over n digits */
int detector_verhoeff(const char *d, size_t n)
{
	static const unsigned char mul[10][10] = {
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	};
	static const unsigned char perm[8][10] = {
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	};
	unsigned c = 0;

	for (size_t i = 0; i < n; i++)
		c = mul[c][perm[i % 8][d[n - 1 - i] - '0']];
	return c == 0;
}

/* detector_valid_aadhaar - Indian Aadhaar: 12 digits, not 0 or 1 first, Verhoeff */
int detector_valid_aadhaar(const char *d)
{
	if (!all_digits(d, 12) || d[0] < '2' || one_digit(d, 12))
		return 0;
	return detector_verhoeff(d, 12);
}

/*
 * detector_valid_cn_ric - Chinese resident identity card number (GB 11643)
 *
 * A province code, the birth date YYYYMMDD, an order number and an
 * ISO 7064 MOD 11-2 check character (0-9 or X).
 */
int detector_valid_cn_ric(const char *s)
{
	static const int w[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	static const int province[] = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34,
				       35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
				       53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83};
	long p, y, sum = 0;
	int ok = 0;

	if (!all_digits(s, 17) || !(isdigit((unsigned char) s[17]) || s[17] == 'X'))
		return 0;
	p = num(s, 2);
	for (size_t i = 0; i < sizeof(province) / sizeof(province[0]); i++)
		ok |= province[i] == p;
	y = num(s + 6, 4);
	if (!ok || y < 1900 || y > 2099 || !date_ok(y, num(s + 10, 2), num(s + 12, 2)))
		return 0;
	for (int i = 0; i < 17; i++)
		sum += w[i] * (s[i] - '0');
	return s[17] == "10X98765432"[sum % 11];
}

/* mod11_br - a Brazilian check digit: weights from w down to 2, then 9 (CNPJ) */
static int mod11_br(const char *d, int n, int w0, int cnpj)
{
	long sum = 0, r;
	int w = w0;

	for (int i = 0; i < n; i++) {
		sum += w * (d[i] - '0');
		if (--w < 2 && cnpj)
			w = 9;
	}
	r = sum % 11;
	return r < 2 ? 0 : (int) (11 - r);
}

/* detector_valid_cpf - Brazilian CPF: 9 digits and two mod 11 check digits */
int detector_valid_cpf(const char *d)
{
	if (!all_digits(d, 11) || one_digit(d, 11))
		return 0;
	return mod11_br(d, 9, 10, 0) == d[9] - '0' && mod11_br(d, 10, 11, 0) == d[10] - '0';
}

/* detector_valid_cnpj - Brazilian CNPJ: 12 digits and two mod 11 check digits */
int detector_valid_cnpj(const char *d)
{
	if (!all_digits(d, 14) || one_digit(d, 14))
		return 0;
	return mod11_br(d, 12, 5, 1) == d[12] - '0' && mod11_br(d, 13, 6, 1) == d[13] - '0';
}

/* detector_valid_tfn - Australian Tax File Number: 8 or 9 digits, weighted mod 11 */
int detector_valid_tfn(const char *d, size_t n)
{
	static const int w9[] = {1, 4, 3, 7, 5, 8, 6, 9, 10};
	static const int w8[] = {10, 7, 8, 4, 6, 3, 5, 1};
	long sum = 0;

	if ((n != 8 && n != 9) || !all_digits(d, n) || one_digit(d, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		sum += (n == 9 ? w9[i] : w8[i]) * (d[i] - '0');
	return sum % 11 == 0;
}

/* detector_valid_itin - US ITIN: 9XX, a group in the IRS's ranges, 4 digits */
int detector_valid_itin(const char *d)
{
	long g;

	if (!all_digits(d, 9) || d[0] != '9')
		return 0;
	g = num(d + 3, 2);
	return ((g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || g >= 94)
		&& num(d + 5, 4) != 0;
}

/* detector_valid_nhs - UK NHS number: 10 digits, weights 10-2 mod 11 */
int detector_valid_nhs(const char *d)
{
	long sum = 0, c;

	if (!all_digits(d, 10) || one_digit(d, 10))
		return 0;
	for (int i = 0; i < 9; i++)
		sum += (10 - i) * (d[i] - '0');
	c = 11 - sum % 11;
	if (c == 11)
		c = 0;
	return c != 10 && c == d[9] - '0';
}

/* detector_valid_aba - ABA routing transit number: Federal Reserve prefix, 3-7-1 */
int detector_valid_aba(const char *d)
{
	long p, sum;

	if (!all_digits(d, 9) || one_digit(d, 9))
		return 0;
	p = num(d, 2);
	if (!((p >= 1 && p <= 12) || (p >= 21 && p <= 32) || (p >= 61 && p <= 72) || p == 80))
		return 0;
	sum = 3 * (d[0] + d[3] + d[6] - 3 * '0') + 7 * (d[1] + d[4] + d[7] - 3 * '0')
		+ (d[2] + d[5] + d[8] - 3 * '0');
	return sum % 10 == 0;
}

/* detector_country_ok - an ISO 3166-1 alpha-2 country code (and XK) */
int detector_country_ok(const char *cc)
{
	static const char codes[] =
		"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL "
		"BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV "
		"CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD "
		"GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM "
		"IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK "
		"LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW "
		"MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR "
		"PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS "
		"ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY "
		"UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW";

	for (size_t i = 0; i + 1 < sizeof(codes); i += 3)
		if (codes[i] == cc[0] && codes[i + 1] == cc[1])
			return 1;
	return 0;
}

/*
 * detector_valid_bic - SWIFT/BIC (ISO 9362): bank, country, location[, branch]
 *
 * Four letters, an ISO 3166 country, two letters or digits for the
 * location (not 0 and 1 in second place with a letter first: test and
 * passive codes are real, but "0"/"1" after letters reads as a word), and
 * an optional branch of three. n is 8 or 11.
 */
int detector_valid_bic(const char *s, size_t n)
{
	if (n != 8 && n != 11)
		return 0;
	for (int i = 0; i < 6; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return 0;
	if (!detector_country_ok(s + 4))
		return 0;
	for (size_t i = 6; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/*
 * detector_valid_dea - US DEA registration number: AB1234563
 *
 * A registrant-type letter, the initial of the registrant's last name (or
 * 9 for business names), six digits and a check digit: the last digit of
 * (d1 + d3 + d5) + 2 * (d2 + d4 + d6).
 */
int detector_valid_dea(const char *s)
{
	long sum;

	if (!strchr("ABCDEFGHJKLMPRSTUX", s[0]) || s[0] == 0
	    || !((s[1] >= 'A' && s[1] <= 'Z') || s[1] == '9') || !all_digits(s + 2, 7)
	    || one_digit(s + 2, 6))
		return 0;
	sum = (s[2] + s[4] + s[6] - 3 * '0') + 2 * (s[3] + s[5] + s[7] - 3 * '0');
	return sum % 10 == s[8] - '0';
}

/* detector_valid_passport_us - US passport book number: 9 digits or a letter and 8 */
int detector_valid_passport_us(const char *s)
{
	/* no check digit exists: the shape, and no filler */
	if (isupper((unsigned char) s[0]))
		return all_digits(s + 1, 8) && !one_digit(s + 1, 8);
	return all_digits(s, 9) && s[0] != '0' && !one_digit(s, 9);
}

/* detector_valid_sortcode - UK sort code and account number: 6 and 8 digits */
int detector_valid_sortcode(const char *sort, const char *acct)
{
	/* the Vocalink modulus tables are not public domain: shapes only */
	return all_digits(sort, 6) && all_digits(acct, 8) && !one_digit(sort, 6)
		&& !one_digit(acct, 8);
}
