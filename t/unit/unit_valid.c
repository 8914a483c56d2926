/*
 * unit_valid - the validators of the data identifiers (detector_valid.c)
 *
 * Published examples of every identifier pass and near misses fail; then
 * what each check-digit scheme promises is checked on many generated
 * values: a prefix has exactly one check digit that completes it, and
 * every single-digit error is caught (Luhn, mod 97, ISO 7064 MOD 11,10 and
 * MOD 11-2, the 11-test, the weighted mod 10 and mod 11 sums), every
 * adjacent transposition too (Verhoeff), and every changed character of a
 * GitHub token (CRC32). Dates embedded in numbers follow the calendar.
 * Values come from a fixed-seed generator: every run checks the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "tap.h"

static unsigned long unit_seed = 12345;

/* unit_rand - a deterministic pseudo-random number below n */
static unsigned unit_rand(unsigned n)
{
	unit_seed = unit_seed * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned) ((unit_seed >> 33) % n);
}

/* unit_digits - n random digits */
static void unit_digits(char *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		d[i] = (char) ('0' + unit_rand(10));
	d[n] = 0;
}

typedef int (*valid_fn)(const char *d, size_t n);

/* Adapters: every validator as f(text, length). */
static int v_card(const char *d, size_t n)
{
	return detector_card_ok(d, n);
}
static int v_ssn(const char *d, size_t n)
{
	return n == 9 && detector_ssn_ok(d);
}
static int v_iban(const char *d, size_t n)
{
	return detector_iban_ok(d, n);
}
static int v_nino(const char *d, size_t n)
{
	return detector_valid_nino(d, n);
}
static int v_sin(const char *d, size_t n)
{
	return n == 9 && detector_valid_sin(d);
}
static int v_nir(const char *d, size_t n)
{
	return detector_valid_nir(d, n);
}
static int v_dni(const char *d, size_t n)
{
	return detector_valid_dni(d, n);
}
static int v_nie(const char *d, size_t n)
{
	return detector_valid_nie(d, n);
}
static int v_cf(const char *d, size_t n)
{
	return detector_valid_it_cf(d, n);
}
static int v_bsn(const char *d, size_t n)
{
	return n == 9 && detector_valid_bsn(d);
}
static int v_steuer(const char *d, size_t n)
{
	return n == 11 && detector_valid_steuer_id(d);
}
static int v_pnr(const char *d, size_t n)
{
	return detector_valid_personnummer(d, n);
}
static int v_cpr(const char *d, size_t n)
{
	return n == 10 && detector_valid_cpr(d);
}
static int v_pesel(const char *d, size_t n)
{
	return n == 11 && detector_valid_pesel(d);
}
static int v_aadhaar(const char *d, size_t n)
{
	return n == 12 && detector_valid_aadhaar(d);
}
static int v_cn(const char *d, size_t n)
{
	return n == 18 && detector_valid_cn_ric(d);
}
static int v_cpf(const char *d, size_t n)
{
	return n == 11 && detector_valid_cpf(d);
}
static int v_cnpj(const char *d, size_t n)
{
	return n == 14 && detector_valid_cnpj(d);
}
static int v_tfn(const char *d, size_t n)
{
	return detector_valid_tfn(d, n);
}
static int v_itin(const char *d, size_t n)
{
	return n == 9 && detector_valid_itin(d);
}
static int v_nhs(const char *d, size_t n)
{
	return n == 10 && detector_valid_nhs(d);
}
static int v_aba(const char *d, size_t n)
{
	return n == 9 && detector_valid_aba(d);
}
static int v_bic(const char *d, size_t n)
{
	return detector_valid_bic(d, n);
}
static int v_dea(const char *d, size_t n)
{
	return n == 9 && detector_valid_dea(d);
}
static int v_passport(const char *d, size_t n)
{
	return n == 9 && detector_valid_passport_us(d);
}

static const struct unit_case {
	const char *what;
	valid_fn fn;
	const char *value;
	int ok;
} unit_cases[] = {
	{"Visa test number", v_card, "4111111111111111", 1},
	{"Mastercard 2-series", v_card, "2223000048400011", 1},
	{"American Express", v_card, "378282246310005", 1},
	{"Discover", v_card, "6011111111111117", 1},
	{"JCB", v_card, "3530111333300000", 1},
	{"Diners Club 14", v_card, "30569309025904", 1},
	{"Visa 19", v_card, "4000000000000000006", 1},
	{"Visa 13 is gone", v_card, "4222222222222", 0},
	{"Luhn fails", v_card, "4111111111111112", 0},
	{"Amex length 16", v_card, "3782822463100050", 0},
	{"one repeated digit", v_card, "4444444444444444", 0},
	{"unknown issuer", v_card, "9111111111111117", 0},
	{"SSN", v_ssn, "234567890", 1},
	{"SSN area 000", v_ssn, "000123456", 0},
	{"SSN area 666", v_ssn, "666123456", 0},
	{"SSN area 9xx", v_ssn, "912345678", 0},
	{"SSN group 00", v_ssn, "123004567", 0},
	{"SSN serial 0000", v_ssn, "123450000", 0},
	{"SSN advertising number", v_ssn, "078051120", 0},
	{"IBAN DE", v_iban, "DE89370400440532013000", 1},
	{"IBAN GB", v_iban, "GB82WEST12345698765432", 1},
	{"IBAN mod 97", v_iban, "DE89370400440532013001", 0},
	{"IBAN length", v_iban, "DE8937040044053201300", 0},
	{"IBAN country", v_iban, "ZZ89370400440532013000", 0},
	{"NINO", v_nino, "AB123456C", 1},
	{"NINO without suffix", v_nino, "AB123456", 1},
	{"NINO first letter D", v_nino, "DA123456A", 0},
	{"NINO second letter O", v_nino, "AO123456A", 0},
	{"NINO prefix TN", v_nino, "TN123456A", 0},
	{"NINO suffix E", v_nino, "AB123456E", 0},
	{"SIN", v_sin, "130692544", 1},
	{"SIN starting with 0", v_sin, "046454286", 0},
	{"SIN Luhn", v_sin, "130692545", 0},
	{"NIR", v_nir, "185057800608491", 1},
	{"NIR born in Corsica (2A)", v_nir, "185052A00608435", 1},
	{"NIR 2A with the key of 20", v_nir, "185052A00608491", 0},
	{"NIR key", v_nir, "185057800608490", 0},
	{"NIR month 13", v_nir, "185137800608491", 0},
	{"NIR sex 5", v_nir, "585057800608491", 0},
	{"DNI", v_dni, "12345678Z", 1},
	{"DNI letter", v_dni, "12345678A", 0},
	{"NIE X", v_nie, "X1234567L", 1},
	{"NIE letter", v_nie, "X1234567A", 0},
	{"NIE prefix W", v_nie, "W1234567L", 0},
	{"codice fiscale", v_cf, "RSSMRA85T10A562S", 1},
	{"codice fiscale, omocodia", v_cf, "RSSMRA85T10A56NH", 1},
	{"codice fiscale check letter", v_cf, "RSSMRA85T10A562T", 0},
	{"codice fiscale month letter Z", v_cf, "RSSMRA85Z10A562S", 0},
	{"BSN", v_bsn, "123456782", 1},
	{"BSN 11-test", v_bsn, "123456789", 0},
	{"Steuer-ID", v_steuer, "86095742719", 1},
	{"Steuer-ID check digit", v_steuer, "86095742710", 0},
	{"Steuer-ID, all digits different", v_steuer, "12345678903", 0},
	{"Steuer-ID, leading 0", v_steuer, "06095742719", 0},
	{"personnummer", v_pnr, "8112189876", 1},
	{"personnummer, 12 digits", v_pnr, "198112189876", 1},
	{"samordningsnummer (day + 60)", v_pnr, "7010632391", 1},
	{"personnummer Luhn", v_pnr, "8112189875", 0},
	{"personnummer 30 February", v_pnr, "8102309873", 0},
	{"CPR", v_cpr, "0707614285", 1},
	{"CPR day 32", v_cpr, "3207614285", 0},
	{"PESEL", v_pesel, "44051401359", 1},
	{"PESEL born 2002", v_pesel, "02270803624", 1},
	{"PESEL check digit", v_pesel, "44051401358", 0},
	{"PESEL month 13", v_pesel, "44133101359", 0},
	{"Aadhaar", v_aadhaar, "823213116060", 1},
	{"Aadhaar Verhoeff", v_aadhaar, "823213116061", 0},
	{"Aadhaar starting with 1", v_aadhaar, "123456789012", 0},
	{"Chinese resident id with X", v_cn, "11010519491231002X", 1},
	{"Chinese resident id check", v_cn, "110105194912310021", 0},
	{"Chinese resident id province 99", v_cn, "99010519491231002X", 0},
	{"CPF", v_cpf, "11144477735", 1},
	{"CPF check digits", v_cpf, "11144477736", 0},
	{"CPF of one digit", v_cpf, "11111111111", 0},
	{"CNPJ", v_cnpj, "11222333000181", 1},
	{"CNPJ check digits", v_cnpj, "11222333000182", 0},
	{"TFN", v_tfn, "123456782", 1},
	{"TFN weights", v_tfn, "123456783", 0},
	{"ITIN", v_itin, "912701234", 1},
	{"ITIN group 69", v_itin, "912691234", 0},
	{"ITIN group 93", v_itin, "912931234", 0},
	{"NHS", v_nhs, "9434765919", 1},
	{"NHS check digit", v_nhs, "9434765918", 0},
	{"ABA routing", v_aba, "021000021", 1},
	{"ABA checksum", v_aba, "021000022", 0},
	{"ABA prefix 13", v_aba, "131000021", 0},
	{"BIC", v_bic, "DEUTDEFF", 1},
	{"BIC with branch", v_bic, "DEUTDEFF500", 1},
	{"BIC without a country", v_bic, "DEUTXXFF", 0},
	{"BIC of 9", v_bic, "DEUTDEFF5", 0},
	{"DEA", v_dea, "AB1234563", 1},
	{"DEA check digit", v_dea, "AB1234564", 0},
	{"DEA registrant type Z", v_dea, "ZB1234563", 0},
	{"passport, 9 digits", v_passport, "340012345", 1},
	{"passport, letter and 8", v_passport, "A12345678", 1},
	{"passport, leading 0", v_passport, "012345678", 0},
};

/* single_errors - does fn refuse every one-character change of a valid value? */
static int single_errors(valid_fn fn, const char *v, size_t n, size_t from, size_t to)
{
	char w[64];

	memcpy(w, v, n);
	for (size_t i = from; i < to; i++)
		for (char c = '0'; c <= '9'; c++) {
			if (c == v[i])
				continue;
			w[i] = c;
			if (fn(w, n))
				return 0;
			w[i] = v[i];
		}
	return 1;
}

/* one_completion - how many check digits complete a prefix (at position at) */
static int completions(valid_fn fn, char *v, size_t n, size_t at)
{
	int k = 0;

	for (char c = '0'; c <= '9'; c++) {
		v[at] = c;
		k += fn(v, n) != 0;
	}
	return k;
}

/* property - random prefixes of a scheme: completed by one digit, single errors caught */
static void property(const char *what, valid_fn fn, const char *prefix, size_t n, int rounds,
		     int min_made)
{
	int unique = 1, caught = 1, made = 0;
	char v[64];

	for (int r = 0; r < rounds; r++) {
		size_t p = strlen(prefix);

		memcpy(v, prefix, p);
		unit_digits(v + p, n - p);
		if (completions(fn, v, n, n - 1) > 1)
			unique = 0;
		for (char c = '0'; c <= '9'; c++) {
			v[n - 1] = c;
			if (fn(v, n))
				break;
		}
		if (!fn(v, n))
			continue; /* a prefix no check digit completes */
		made++;
		if (!single_errors(fn, v, n, 0, n))
			caught = 0;
	}
	tap_ok(made >= min_made, "%s: %d of %d generated prefixes complete", what, made,
	       rounds);
	tap_ok(unique, "%s: at most one check digit completes a prefix", what);
	tap_ok(caught, "%s: every single-digit error is caught", what);
}

/* verhoeff_transpositions - every adjacent transposition of distinct digits caught */
static void verhoeff_transpositions(void)
{
	int caught = 1, made = 0;
	char v[13];

	for (int r = 0; r < 300; r++) {
		unit_digits(v, 12);
		v[0] = (char) ('2' + unit_rand(8));
		for (char c = '0'; c <= '9'; c++) {
			v[11] = c;
			if (detector_valid_aadhaar(v))
				break;
		}
		if (!detector_valid_aadhaar(v))
			continue;
		made++;
		for (int i = 0; i + 1 < 12; i++) {
			char t;

			if (v[i] == v[i + 1])
				continue;
			t = v[i], v[i] = v[i + 1], v[i + 1] = t;
			if (detector_verhoeff(v, 12))
				caught = 0;
			t = v[i], v[i] = v[i + 1], v[i + 1] = t;
		}
	}
	tap_ok(made > 250, "Verhoeff: %d Aadhaar numbers made", made);
	tap_ok(caught, "Verhoeff: every adjacent transposition is caught");
}

/* github_crc - a token made with its CRC32 passes, every changed character fails */
static void github_crc(void)
{
	static const char b62[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	const char *tok = "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";
	char w[41];
	int caught = 1;

	tap_ok(detector_github_ok(tok, 40), "GitHub token with its CRC32 passes");
	memcpy(w, tok, 41);
	for (int i = 4; i < 40; i++) {
		char c = w[i];

		w[i] = b62[(strchr(b62, c) - b62 + 1 + (int) unit_rand(60)) % 62];
		if (detector_github_ok(w, 40))
			caught = 0;
		w[i] = c;
	}
	tap_ok(caught, "GitHub token: a changed character fails its CRC32");
	tap_ok(!detector_github_ok("ghp_IBkyGLqKjtSlwFZITLJKCSn197X1oJ3pdy8", 39),
	       "GitHub token: a short one fails");
}

/* completes - does some check character (digits, X) complete v at its end? */
static int completes(valid_fn fn, const char *v, size_t n)
{
	char w[64];

	memcpy(w, v, n);
	for (const char *c = "0123456789X"; *c; c++) {
		w[n - 1] = *c;
		if (fn(w, n))
			return 1;
	}
	return 0;
}

/* dates - dates embedded in numbers follow the calendar */
static void dates(void)
{
	tap_ok(completes(v_pnr, "20000229123?", 12),
	       "personnummer: 29 February 2000, a leap year");
	tap_ok(!completes(v_pnr, "19000229123?", 12), "personnummer: no 29 February 1900");
	tap_ok(!completes(v_pnr, "20010431123?", 12), "personnummer: no 31 April");
	tap_ok(completes(v_cn, "11010520000229123?", 18), "resident id: 29 February 2000");
	tap_ok(!completes(v_cn, "11010519000229123?", 18), "resident id: no 29 February 1900");
	tap_ok(!completes(v_cn, "11010518991231123?", 18), "resident id: no birth before 1900");
	tap_ok(completes(v_pesel, "0022290000?", 11), "PESEL: 29 February 2000 (month 22)");
	tap_ok(!completes(v_pesel, "0002290000?", 11), "PESEL: no 29 February 1900");
	tap_ok(completes(v_pesel, "0082010000?", 11), "PESEL: born in 1800 (month 82)");
	tap_ok(detector_valid_cpr("2902001234"), "CPR: 29 February (the century is unknown)");
	tap_ok(!detector_valid_cpr("3002001234"), "CPR: no 30 February");
	tap_ok(!detector_valid_cpr("3104001234"), "CPR: no 31 April");
}

int main(void)
{
	for (size_t i = 0; i < sizeof(unit_cases) / sizeof(unit_cases[0]); i++) {
		const struct unit_case *c = &unit_cases[i];

		tap_ok((c->fn(c->value, strlen(c->value)) != 0) == c->ok, "%s: %s %s", c->what,
		       c->value, c->ok ? "passes" : "fails");
	}
	property("Luhn (Visa)", v_card, "4", 16, 300, 290);
	property("Luhn (SIN)", v_sin, "1", 9, 300, 290);
	property("11-test (BSN)", v_bsn, "1", 9, 300, 250);
	property("ISO 7064 MOD 11,10 (Steuer-ID)", v_steuer, "8", 11, 5000, 100);
	property("weights 1-3-7-9 (PESEL)", v_pesel, "440514", 11, 300, 290);
	property("weighted mod 11 (TFN)", v_tfn, "", 9, 300, 250);
	property("weights 10-2 mod 11 (NHS)", v_nhs, "", 10, 300, 250);
	property("3-7-1 (ABA)", v_aba, "02", 9, 300, 290);
	property("ISO 7064 MOD 11-2 (resident id)", v_cn, "11010519800101", 18, 300, 250);
	property("Luhn (personnummer)", v_pnr, "811218", 10, 300, 280);
	tap_ok(single_errors(v_nir, "185057800608491", 15, 0, 15),
	       "mod 97 (NIR): every single-digit error is caught");
	tap_ok(single_errors(v_iban, "DE89370400440532013000", 22, 2, 22),
	       "mod 97 (IBAN): every single-digit error is caught");
	tap_ok(single_errors(v_nie, "X1234567L", 9, 1, 8)
		       && single_errors(v_dni, "12345678Z", 9, 0, 8),
	       "mod 23 (DNI, NIE): every single-digit error is caught");
	verhoeff_transpositions();
	github_crc();
	dates();
	return tap_done();
}
