/*
 * detector_ident - data identifiers: the library, the candidates, and what
 * surrounds them
 *
 * The library: every identifier has a name (policies.conf), the way its
 * candidates are found, built-in context keywords, and for secrets the
 * literal anchors Hyperscan looks for. detector_ident_parse(),
 * detector_ident_name(), detector_ident_context(), detector_ident_anchors()
 * and detector_ident_from_digits() read that table.
 *
 * detector_ident_scan() finds the candidates of numbers: every run of
 * digits (the text is searched 32 or 16 bytes at a time with AVX2 or SSE2,
 * so text without digits costs almost nothing). A run is read once into a
 * token: groups of digits and the single separators between them, as
 * people and programs write them:
 *
 *	space		space, no-break, thin, narrow, figure, ideographic and
 *			the other Unicode spaces, and '_' (file names)
 *	dash		'-', hyphen, non-breaking hyphen, figure, en and em
 *			dashes, minus sign, small and fullwidth hyphen-minus
 *	dot		'.', middle dot, bullet, one-dot leader, hyphenation
 *			point, bullet and dot operators, katakana middle dot
 *			(and its halfwidth form), small and fullwidth full stop
 *	slash		'/', fraction and division slash, fullwidth solidus
 *	invisible	soft hyphen, zero-width space and joiners, word
 *			joiner, direction marks, BOM: ignored between digits
 *
 * A tab, a comma, a semicolon, a line break or two spaces end a number: a
 * column of a table, never a decimal comma. In a header value (a subject,
 * a header field, an attachment name: DET_ID_HEADER) a tab is a space,
 * what folding a long line leaves. The validators of the identifiers then
 * look at the groups: a number is consecutive groups joined by one kind
 * of separator, in a grouping its issuer prints (or none), standing alone:
 * not glued to ASCII letters or digits, nor to more groups of the same
 * number; after a '+', a number of up to 15 digits is a phone number and
 * only a card counts there. Between space-joined groups, a
 * group of 9 digits or more stands alone (a list of compact numbers);
 * shorter ones form one number (4111 1111 1111 1111 2222 is no card). A
 * dot between digits binds them (3.4111111111111111 is a decimal).
 * Fullwidth digits (U+FF10..U+FF19, as CJK input methods type them) are
 * read as digits, alone or mixed with ASCII ones in one number.
 * Identifiers with letters (IBAN, NINO, DNI, NIE, DEA, passport, a NIR
 * born in Corsica) look at the letters around the digits; a codice
 * fiscale, whose digits may all be letters, is found among the runs of
 * 16 letters and digits (cf_scan); a card whose groups stand in the
 * cells of a spreadsheet row, among the tab-separated fields (card_cells).
 * Secrets
 * and SWIFT/BIC codes are found from anchors by detector_ident_anchor()
 * (detector_secret.c).
 *
 * Each value found goes to the caller with its masked sample and whether
 * it is weak: a validator that a random number passes often (one in ten
 * or more) needs context to count (detector_match.c decides).
 *
 * What surrounds a value (labels, table headers) is read by
 * detector_context.c.
 *
 * Masking keeps what a reader needs to tell incidents apart and nothing
 * more: the last four characters of a number, an IBAN's country and check
 * digits, a keyword's first and last letter.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "detector.h"

/* How an identifier's candidates are found. */
#define ID_DIGITS    1u  /* found by detector_ident_scan() */
#define ID_ANCHOR    2u  /* from literal anchors (Hyperscan) */
#define ID_NUMBER    4u  /* digits only: look-alike labels apply */
#define ID_ANCHOR_CI 8u  /* the anchors ignore case */
#define ID_WEAK      16u /* some values need context (context = auto) */
#define ID_WNUM      (ID_DIGITS | ID_NUMBER | ID_WEAK)

static const char *const kw_card[] = {"card",
				      "credit",
				      "visa",
				      "mastercard",
				      "master card",
				      "amex",
				      "american express",
				      "discover",
				      "diners",
				      "JCB",
				      "maestro",
				      "unionpay",
				      "CVV",
				      "CVC",
				      "expiry",
				      "expiration",
				      "exp date",
				      "kreditkarte",
				      "karte",
				      "carte",
				      "tarjeta",
				      "carta",
				      "creditcard",
				      NULL};
static const char *const kw_ssn[] = {"SSN", "ssns", "social security", "soc sec", "SS#",
				     "SSA", NULL};
static const char *const kw_iban[] = {"iban",        "bank account",   "account number",
				      "kontonummer", "bankverbindung", "RIB",
				      "compte",      "cuenta",         NULL};
static const char *const kw_nino[] = {"national insurance", "NINO", "NI number", "NI no", NULL};
static const char *const kw_sin[] = {"SIN", "social insurance", "assurance sociale", "NAS",
				     NULL};
static const char *const kw_nir[] = {"NIR",  "insee", "sécurité sociale", "securite sociale",
				     "sécu", "secu",  "carte vitale",     "social security",
				     NULL};
static const char *const kw_dni[] = {"DNI", "NIF", "documento nacional", "d.n.i", NULL};
static const char *const kw_nie[] = {"NIE", "NIF", "extranjero", "n.i.e", NULL};
static const char *const kw_cf[] = {"codice fiscale",    "cod. fisc",   "cod fisc", "c.f.",
				    "tessera sanitaria", "fiscal code", NULL};
static const char *const kw_bsn[] = {"BSN",         "burgerservicenummer",    "sofinummer",
				     "sofi-nummer", "citizen service number", NULL};
static const char *const kw_steuer[] = {"steuer-id",
					"steuerid",
					"steuer-idnr",
					"steueridentifikationsnummer",
					"steuerliche identifikationsnummer",
					"identifikationsnummer",
					"idnr",
					"tax id",
					"TIN",
					NULL};
static const char *const kw_pnr[] = {"personnummer",
				     "personnr",
				     "pers.nr",
				     "samordningsnummer",
				     "personal identity number",
				     NULL};
static const char *const kw_cpr[] = {"CPR",          "cpr-nr",      "cpr-nummer",
				     "personnummer", "personal id", NULL};
static const char *const kw_pesel[] = {"pesel", NULL};
static const char *const kw_aadhaar[] = {"aadhaar", "aadhar", "uidai",
					 "\xe0\xa4\x86\xe0\xa4\xa7\xe0\xa4\xbe\xe0\xa4\xb0",
					 NULL};                             /* आधार */
static const char *const kw_cn[] = {"\xe8\xba\xab\xe4\xbb\xbd\xe8\xaf\x81", /* 身份证 */
				    "\xe8\xba\xab\xe4\xbb\xbd\xe5\x8f\xb7", /* 身份号 */
				    "resident identity",
				    "id card",
				    "identity card",
				    NULL};
static const char *const kw_cpf[] = {"CPF", "cadastro de pessoas", NULL};
static const char *const kw_cnpj[] = {"cnpj", "cadastro nacional", NULL};
static const char *const kw_tfn[] = {"TFN", "tax file", NULL};
static const char *const kw_itin[] = {"itin", "individual taxpayer", "taxpayer identification",
				      NULL};
static const char *const kw_nhs[] = {"NHS", "national health", NULL};
static const char *const kw_aba[] = {"routing", "ABA", "RTN", "transit number", NULL};
static const char *const kw_bic[] = {"swift", "BIC", NULL};
static const char *const kw_sort[] = {"sort code", "sortcode", "sort-code", NULL};
static const char *const kw_passport[] = {"passport", "pasaporte", "passeport", "reisepass",
					  NULL};
static const char *const kw_dea[] = {"DEA", "drug enforcement", NULL};
static const char *const kw_aws[] = {"AWS", "access key", "amazon", NULL};
static const char *const kw_secret[] = {"secret",  "token",      "password",
					"api key", "credential", NULL};

/*
 * Built-in acronyms that are words in small letters (sin, nas, nie, tin,
 * aba, dea, bic, rib, cpr): they count in capitals only. The others (SSN,
 * BSN, NHS, ...) count in any case, as a whole word: "ssn 234567890".
 */
static const char *const kw_cased[] = {"SIN", "NAS", "NIE", "TIN", "ABA",
				       "DEA", "BIC", "RIB", "CPR", NULL};

static const char *const an_pem[] = {"PRIVATE KEY-----", "PRIVATE KEY BLOCK-----",
				     "PuTTY-User-Key-File-", NULL};
static const char *const an_aws[] = {"AKIA", "ASIA", NULL};
static const char *const an_aws_secret[] = {"aws_secret_access_key",
					    "AWS_SECRET_ACCESS_KEY",
					    "secret_access_key",
					    "SecretAccessKey",
					    "aws_secret_key",
					    "AWS_SECRET_KEY",
					    "Secret access key",
					    "secret access key",
					    "AKIA",
					    "ASIA",
					    NULL};
static const char *const an_bic[] = {"swift", "Swift", "SWIFT", "BIC", NULL};
static const char *const an_github[] = {"ghp_", "gho_",        "ghu_", "ghs_",
					"ghr_", "github_pat_", NULL};
static const char *const an_gitlab[] = {"glpat-",   "gldt-",  "glrt-", "glptt-",
					"glsoat-",  "glcbt-", "glft-", "glimt-",
					"glagent-", "gloas-", NULL};
static const char *const an_slack[] = {"xoxb-", "xoxp-", "xoxa-",
				       "xoxr-", "xoxs-", "xoxe-",
				       "xoxe.", "xapp-", "hooks.slack.com/services/",
				       NULL};
static const char *const an_jwt[] = {"eyJ", NULL};
static const char *const an_db[] = {
	"postgres://",   "postgresql://",  "postgis://", "mysql://",
	"mysql2://",     "mariadb://",     "mongodb://", "mongodb+srv://",
	"redis://",      "rediss://",      "amqp://",    "amqps://",
	"mssql://",      "sqlserver://",   "oracle://",  "db2://",
	"clickhouse://", "cockroachdb://", "couchdb://", "neo4j://",
	"cassandra://",  "jdbc:",          NULL};

static const struct ident_def {
	const char *name;
	unsigned flags;
	const char *const *context;
	const char *const *anchors;
} idents[IDENT_COUNT] = {
	[IDENT_CARD] = {"credit_card", ID_DIGITS | ID_NUMBER, kw_card, NULL},
	[IDENT_SSN] = {"us_ssn", ID_WNUM, kw_ssn, NULL},
	[IDENT_IBAN] = {"iban", ID_DIGITS, kw_iban, NULL},
	[IDENT_UK_NINO] = {"uk_nino", ID_DIGITS | ID_WEAK, kw_nino, NULL},
	[IDENT_CA_SIN] = {"ca_sin", ID_WNUM, kw_sin, NULL},
	[IDENT_FR_NIR] = {"fr_nir", ID_DIGITS | ID_NUMBER, kw_nir, NULL},
	[IDENT_ES_DNI] = {"es_dni", ID_DIGITS, kw_dni, NULL},
	[IDENT_ES_NIE] = {"es_nie", ID_DIGITS, kw_nie, NULL},
	[IDENT_IT_CF] = {"it_codice_fiscale", ID_DIGITS, kw_cf, NULL},
	[IDENT_NL_BSN] = {"nl_bsn", ID_WNUM, kw_bsn, NULL},
	[IDENT_DE_STEUER] = {"de_steuer_id", ID_WNUM, kw_steuer, NULL},
	[IDENT_SE_PNR] = {"se_personnummer", ID_WNUM, kw_pnr, NULL},
	[IDENT_DK_CPR] = {"dk_cpr", ID_WNUM, kw_cpr, NULL},
	[IDENT_PL_PESEL] = {"pl_pesel", ID_WNUM, kw_pesel, NULL},
	[IDENT_IN_AADHAAR] = {"in_aadhaar", ID_WNUM, kw_aadhaar, NULL},
	[IDENT_CN_RIC] = {"cn_resident_id", ID_DIGITS | ID_NUMBER, kw_cn, NULL},
	[IDENT_BR_CPF] = {"br_cpf", ID_WNUM, kw_cpf, NULL},
	[IDENT_BR_CNPJ] = {"br_cnpj", ID_WNUM, kw_cnpj, NULL},
	[IDENT_AU_TFN] = {"au_tfn", ID_WNUM, kw_tfn, NULL},
	[IDENT_US_ITIN] = {"us_itin", ID_WNUM, kw_itin, NULL},
	[IDENT_UK_NHS] = {"uk_nhs", ID_WNUM, kw_nhs, NULL},
	[IDENT_ABA] = {"aba_routing", ID_WNUM, kw_aba, NULL},
	[IDENT_BIC] = {"swift_bic", ID_ANCHOR, kw_bic, an_bic},
	[IDENT_UK_SORT] = {"uk_sort_code_account", ID_WNUM, kw_sort, NULL},
	[IDENT_US_PASSPORT] = {"us_passport", ID_WNUM, kw_passport, NULL},
	[IDENT_US_DEA] = {"us_dea", ID_DIGITS, kw_dea, NULL},
	[IDENT_PEM_KEY] = {"pem_private_key", ID_ANCHOR, kw_secret, an_pem},
	[IDENT_AWS_KEY] = {"aws_access_key", ID_ANCHOR, kw_aws, an_aws},
	[IDENT_AWS_SECRET] = {"aws_secret_key", ID_ANCHOR, kw_aws, an_aws_secret},
	[IDENT_GITHUB] = {"github_token", ID_ANCHOR, kw_secret, an_github},
	[IDENT_GITLAB] = {"gitlab_token", ID_ANCHOR, kw_secret, an_gitlab},
	[IDENT_SLACK] = {"slack_token", ID_ANCHOR, kw_secret, an_slack},
	[IDENT_JWT] = {"jwt", ID_ANCHOR, kw_secret, an_jwt},
	[IDENT_DB_URL] = {"db_url_password", ID_ANCHOR | ID_ANCHOR_CI, kw_secret, an_db},
};

/* detector_ident_name - an identifier's name in policies.conf */
const char *detector_ident_name(enum det_ident id)
{
	return id < IDENT_COUNT ? idents[id].name : "unknown";
}

/* detector_ident_parse - an identifier by name; -1 if unknown */
int detector_ident_parse(const char *name, enum det_ident *id)
{
	for (int i = 0; i < IDENT_COUNT; i++)
		if (strcmp(name, idents[i].name) == 0) {
			*id = (enum det_ident) i;
			return 0;
		}
	return -1;
}

/* detector_ident_context - the built-in context keywords of an identifier */
const char *const *detector_ident_context(enum det_ident id)
{
	return idents[id].context;
}

/* detector_ident_context_cased - must a built-in context word match in capitals? */
int detector_ident_context_cased(const char *word)
{
	for (int i = 0; kw_cased[i]; i++)
		if (strcmp(word, kw_cased[i]) == 0)
			return 1;
	return 0;
}

/* detector_ident_anchors - the literals that start a candidate, or NULL */
const char *const *detector_ident_anchors(enum det_ident id, int *caseless)
{
	*caseless = (idents[id].flags & ID_ANCHOR_CI) != 0;
	return idents[id].flags & ID_ANCHOR ? idents[id].anchors : NULL;
}

/* detector_ident_from_digits - are its candidates found in digit runs? */
int detector_ident_from_digits(enum det_ident id)
{
	return (idents[id].flags & ID_DIGITS) != 0;
}

/* detector_ident_may_be_weak - may some of its values need context? */
int detector_ident_may_be_weak(enum det_ident id)
{
	return (idents[id].flags & ID_WEAK) != 0;
}

/* detector_ident_is_number - do look-alike labels apply? */
int detector_ident_is_number(enum det_ident id)
{
	return (idents[id].flags & ID_NUMBER) != 0;
}

/* ---- characters --------------------------------------------------------- */

enum {
	SEP_NONE, /* invisible: no separator at all */
	SEP_SPACE,
	SEP_DASH,
	SEP_DOT,
	SEP_SLASH,
	SEP_MIXED, /* a grouping with fixed, different separators */
};

/* dig - an ASCII digit (no locale lookup) */
static inline int dig(char c)
{
	return c >= '0' && c <= '9';
}

/* alnum - an ASCII letter or digit */
static inline int alnum(char c)
{
	return dig(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* letter - an ASCII letter */
static inline int letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* upper - an ASCII upper-case letter */
static inline int upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

/* sep_char - the kind of separator at p and its length; -1 if none */
static int sep_char(const unsigned char *p, size_t left, size_t *n)
{
	*n = 1;
	switch (p[0]) {
	case ' ':
	case '_':
		return SEP_SPACE;
	case '-':
		return SEP_DASH;
	case '.':
		return SEP_DOT;
	case '/':
		return SEP_SLASH;
	case 0xc2:
		*n = 2;
		if (left < 2)
			return -1;
		return p[1] == 0xa0    ? SEP_SPACE
			: p[1] == 0xad ? SEP_NONE
			: p[1] == 0xb7 ? SEP_DOT
				       : -1;
	case 0xe1:
		*n = 3;
		return left >= 3 && p[1] == 0x9a && p[2] == 0x80 ? SEP_SPACE : -1;
	case 0xe2:
		*n = 3;
		if (left < 3)
			return -1;
		if (p[1] == 0x80) {
			if (p[2] >= 0x80 && p[2] <= 0x8a)
				return SEP_SPACE; /* en quad ... hair space */
			if ((p[2] >= 0x8b && p[2] <= 0x8f) || (p[2] >= 0xaa && p[2] <= 0xae))
				return SEP_NONE; /* zero width, direction marks */
			if (p[2] >= 0x90 && p[2] <= 0x95)
				return SEP_DASH; /* hyphen ... horizontal bar */
			if (p[2] == 0xa2 || p[2] == 0xa4 || p[2] == 0xa7)
				return SEP_DOT; /* bullet, one-dot leader, hyphenation point */
			return p[2] == 0xaf ? SEP_SPACE : -1;
		}
		if (p[1] == 0x81) {
			if (p[2] == 0x83)
				return SEP_DASH;
			if (p[2] == 0x84)
				return SEP_SLASH;
			if (p[2] == 0x9f)
				return SEP_SPACE;
			return (p[2] >= 0xa0 && p[2] <= 0xa4) || (p[2] >= 0xa6 && p[2] <= 0xa9)
				? SEP_NONE
				: -1;
		}
		if (p[1] == 0x88)
			return p[2] == 0x92    ? SEP_DASH
				: p[2] == 0x95 ? SEP_SLASH
				: p[2] == 0x99 ? SEP_DOT
					       : -1;                /* bullet operator */
		return p[1] == 0x8b && p[2] == 0x85 ? SEP_DOT : -1; /* dot operator */
	case 0xe3:
		*n = 3;
		if (left < 3)
			return -1;
		if (p[1] == 0x83 && p[2] == 0xbb)
			return SEP_DOT; /* katakana middle dot */
		return p[1] == 0x80 && p[2] == 0x80 ? SEP_SPACE : -1;
	case 0xef:
		*n = 3;
		if (left < 3)
			return -1;
		if (p[1] == 0xbb && p[2] == 0xbf)
			return SEP_NONE;
		if (p[1] == 0xb9 && (p[2] == 0x98 || p[2] == 0xa3))
			return SEP_DASH; /* small em dash, hyphen-minus */
		if (p[1] == 0xb9 && p[2] == 0x92)
			return SEP_DOT; /* small full stop */
		if (p[1] == 0xbd && p[2] == 0xa5)
			return SEP_DOT; /* halfwidth katakana middle dot */
		if (p[1] == 0xbc)
			return p[2] == 0x8d    ? SEP_DASH
				: p[2] == 0x8e ? SEP_DOT
				: p[2] == 0x8f ? SEP_SLASH
					       : -1;
		return -1;
	}
	return -1;
}

/* skip_invisible - past invisible characters at p */
static size_t skip_invisible(const char *d, size_t len, size_t p)
{
	size_t n;

	while (p < len && (unsigned char) d[p] >= 0xc2
	       && sep_char((const unsigned char *) d + p, len - p, &n) == SEP_NONE)
		p += n;
	return p;
}

/*
 * What glues to a number: ASCII letters and digits (a word, a part number:
 * X4111..., 4111...y), and before it a '+' (phone numbers, see numbers()).
 * Nothing else does: not other bytes, nor letters of other scripts. A
 * byte that is not UTF-8 becomes a letter when text without a charset is
 * read as Windows-1252 (0xFF is y with diaeresis), and a letter is what a
 * sender would put before a number to hide it; people do not write words
 * glued to long numbers in any script.
 */

/* word_before - is the byte before p an ASCII letter or digit? */
static int word_before(const char *d, size_t p)
{
	return p > 0 && alnum(d[p - 1]);
}

/* glued_before - is the byte before p an ASCII letter or digit, or a '+'? */
static int glued_before(const char *d, size_t p)
{
	return p > 0 && (alnum(d[p - 1]) || d[p - 1] == '+');
}

/* glued_after - is the byte at p an ASCII letter or digit? */
static int glued_after(const char *d, size_t len, size_t p)
{
	return p < len && alnum(d[p]);
}

/* ---- masking ------------------------------------------------------------ */

/* mask_span - letters and digits starred but the last keep; separators kept */
static void mask_span(const char *d, size_t s, size_t e, size_t keep, char *out, size_t outlen)
{
	size_t an = 0, seen = 0, j = 0;

	for (size_t i = s; i < e; i++)
		an += alnum(d[i]);
	for (size_t i = s; i < e && j + 1 < outlen; i++) {
		unsigned char c = (unsigned char) d[i];

		if (alnum(d[i]))
			out[j++] = ++seen + keep > an ? d[i] : '*';
		else if (c == 0xc2 && i + 1 < e && (unsigned char) d[i + 1] == 0xad)
			i++; /* a soft hyphen shows nothing */
		else if (c < 0x20 || c == 0x7f)
			out[j++] = ' ';
		else if (c < 0x80 || j + 4 < outlen)
			out[j++] = d[i];
		else
			break;
	}
	while (j > 0 && ((unsigned char) out[j - 1] & 0xc0) == 0xc0)
		j--; /* no lead byte without its tail */
	out[j] = 0;
}

/* report - hand one value to the caller */
static void report(det_found_fn found, void *ctx, enum det_ident id, size_t s, size_t e,
		   int weak, const char *d, size_t keep)
{
	struct det_found f;

	f.id = id;
	f.start = s;
	f.end = e;
	f.weak = weak;
	mask_span(d, s, e, keep, f.sample, DET_SAMPLE_MAX + 1);
	found(ctx, &f);
}

/* ---- tokens: the groups of a run of digits ---------------------------- */

#define TOK_GROUPS   24 /* groups kept per token */
#define TOK_DIGITS   72 /* digits kept per token */
#define LONG_GROUP   9  /* digits that make a group stand alone */
#define PHONE_DIGITS 15 /* the most an E.164 phone number has */

enum {
	EDGE_FREE,  /* the text around decides */
	EDGE_SPLIT, /* split at a space next to a long group */
	EDGE_GLUED, /* more groups of the same run */
};

struct tok {
	const char *d;
	size_t len;
	int tab_space; /* a header: a tab is a space (folding) */
	unsigned ng, nd;
	int overflow;                          /* more digits than kept: no identifier */
	int left, right;                       /* EDGE_* */
	int plus;                              /* right after a '+': a phone number? */
	size_t next;                           /* where the scan goes on */
	size_t gs[TOK_GROUPS], ge[TOK_GROUPS]; /* bytes of each group */
	unsigned char gd[TOK_GROUPS];          /* digits per group */
	unsigned char go[TOK_GROUPS];          /* its first digit in digits[] */
	unsigned char sep[TOK_GROUPS];         /* the separator after each group */
	char digits[TOK_DIGITS + 1];
};

/* group_digits - how many digits start at p (a quick look ahead) */
static size_t group_digits(const char *d, size_t len, size_t p)
{
	size_t n = 0;

	while (p + n < len && dig(d[p + n]) && n < LONG_GROUP)
		n++;
	return n;
}

/* tokenize - the token of groups that starts at pos (a digit) */
static void tokenize(struct tok *t, const char *d, size_t len, size_t pos, int left)
{
	t->d = d;
	t->len = len;
	t->ng = t->nd = 0;
	t->overflow = 0;
	t->left = left;
	t->right = EDGE_FREE;
	t->plus = left == EDGE_FREE && pos > 0 && d[pos - 1] == '+';
	for (;;) {
		unsigned g = t->ng, count = 0;
		size_t q, n;
		int k;

		t->gs[g] = pos;
		t->go[g] = (unsigned char) t->nd;
		for (;;) {
			if (pos < len && dig(d[pos])) {
				if (t->nd < TOK_DIGITS)
					t->digits[t->nd++] = d[pos];
				else
					t->overflow = 1;
				count++;
				pos++;
				continue;
			}
			q = skip_invisible(d, len, pos);
			if (q > pos && q < len && dig(d[q])) {
				pos = q;
				continue;
			}
			break;
		}
		t->ge[g] = pos;
		t->gd[g] = (unsigned char) (count > 255 ? 255 : count);
		t->sep[g] = SEP_NONE;
		t->ng++;
		/* a separator: one character, invisible ones around it, then a digit */
		q = skip_invisible(d, len, pos);
		if (q < len && d[q] == '\t' && t->tab_space)
			k = SEP_SPACE, n = 1;
		else if (q >= len
			 || (k = sep_char((const unsigned char *) d + q, len - q, &n))
				 <= SEP_NONE)
			break;
		q = skip_invisible(d, len, q + n);
		if (q >= len || !dig(d[q]))
			break;
		if (k == SEP_SPACE
		    && (count >= LONG_GROUP || group_digits(d, len, q) >= LONG_GROUP)) {
			t->right = EDGE_SPLIT;
			t->next = q;
			t->digits[t->nd] = 0;
			return;
		}
		if (t->ng == TOK_GROUPS) {
			t->right = EDGE_GLUED;
			t->next = q;
			t->digits[t->nd] = 0;
			return;
		}
		t->sep[g] = (unsigned char) k;
		pos = q;
	}
	t->next = pos;
	t->digits[t->nd] = 0;
}

/* left_ok - does a number of groups i.. joined by kind K start on its own? */
static int left_ok(const struct tok *t, unsigned i, int K)
{
	if (i == 0)
		return t->left == EDGE_SPLIT
			|| (t->left == EDGE_FREE && !word_before(t->d, t->gs[0]));
	if (t->sep[i - 1] != SEP_SPACE)
		return 0; /* 12.4111..., 2024-4111...: one number */
	if (K != SEP_SPACE && K != SEP_NONE)
		return 1; /* 030 4111-1111-...: its own separators */
	/* a space-joined neighbour belongs to this number, unless bound elsewhere */
	return i >= 2 && t->sep[i - 2] != SEP_SPACE;
}

/* right_ok - does a number of groups ..j joined by kind K end on its own? */
static int right_ok(const struct tok *t, unsigned j, int K)
{
	if (j + 1 == t->ng)
		return t->right == EDGE_SPLIT
			|| (t->right == EDGE_FREE && !glued_after(t->d, t->len, t->ge[j]));
	if (t->sep[j] != SEP_SPACE)
		return 0;
	if (K != SEP_SPACE && K != SEP_NONE)
		return 1;
	return j + 2 < t->ng && t->sep[j + 1] != SEP_SPACE;
}

/* shape - are the groups i.. of these lengths? */
static int shape(const struct tok *t, unsigned i, unsigned ng, const char *lens)
{
	if (strlen(lens) != ng || i + ng > t->ng)
		return 0;
	for (unsigned k = 0; k < ng; k++)
		if (t->gd[i + k] != lens[k] - '0')
			return 0;
	return 1;
}

/* card_groups - card groupings: 4-4-4-4[-1..4], 4-6-5, 4-6-4, or compact */
static int card_groups(const struct tok *t, unsigned i, unsigned ng)
{
	if (ng == 1)
		return 1;
	if (shape(t, i, 3, "465") || shape(t, i, 3, "464"))
		return ng == 3;
	for (unsigned k = 0; k + 1 < ng; k++)
		if (t->gd[i + k] != 4)
			return 0;
	return t->gd[i + ng - 1] >= 1 && t->gd[i + ng - 1] <= 4;
}

/* ---- numbers ------------------------------------------------------------ */

struct idscan {
	const int *want;
	det_found_fn found;
	void *ctx;
};

/* account_near - an 8-digit account number within a few bytes of a sort code */
static int account_near(const char *d, size_t len, size_t s, size_t e, size_t *as, size_t *ae)
{
	size_t lo = s > 48 ? s - 48 : 0, hi = e + 48 < len ? e + 48 : len;

	/* after the sort code first, as people write them; then before */
	for (int pass = 0; pass < 2; pass++) {
		size_t p = pass == 0 ? e : lo, end = pass == 0 ? hi : s;

		while (p < end) {
			size_t q = p;

			if (!dig(d[p]) || (p > 0 && (dig(d[p - 1]) || glued_before(d, p)))) {
				if (d[p] == '\n' && pass == 0)
					break;
				p++;
				continue;
			}
			while (q < len && dig(d[q]))
				q++;
			if (q - p == 8 && !glued_after(d, len, q)
			    && !(q < len && (d[q] == '-' || d[q] == '.') && q + 1 < len
				 && dig(d[q + 1]))) {
				*as = p;
				*ae = q;
				return 1;
			}
			p = q;
		}
	}
	return 0;
}

/* sort_code - a UK sort code 12-34-56 and the account number next to it */
static void sort_code(const struct tok *t, unsigned i, const struct idscan *is)
{
	char sc[7], acct[9], sample[DET_SAMPLE_MAX + 8], a[24], b[24];
	size_t as, ae, s = t->gs[i], e = t->ge[i + 2];
	struct det_found f;

	if (!account_near(t->d, t->len, s, e, &as, &ae))
		return;
	memcpy(sc, t->digits + t->go[i], 6);
	sc[6] = 0;
	memcpy(acct, t->d + as, 8);
	acct[8] = 0;
	if (!detector_valid_sortcode(sc, acct))
		return;
	mask_span(t->d, s, e, 2, a, sizeof(a));
	mask_span(t->d, as, ae, 4, b, sizeof(b));
	snprintf(sample, sizeof(sample), "%s %s", a, b);
	f.id = IDENT_UK_SORT;
	f.start = as < s ? as : s;
	f.end = ae > e ? ae : e;
	f.weak = 1;
	snprintf(f.sample, sizeof(f.sample), "%s", sample);
	is->found(is->ctx, &f);
}

/* nir_with_key - 13 digits and the key after a space: 1850578006084 36 */
static void nir_with_key(const struct tok *t, const char *dg, size_t s, size_t e,
			 const struct idscan *is)
{
	const char *d = t->d;
	char v[16];

	if (e + 3 > t->len || d[e] != ' ' || !dig(d[e + 1]) || !dig(d[e + 2])
	    || glued_after(d, t->len, e + 3) || (e + 3 < t->len && dig(d[e + 3])))
		return;
	memcpy(v, dg, 13);
	v[13] = d[e + 1];
	v[14] = d[e + 2];
	if (detector_valid_nir(v, 15))
		report(is->found, is->ctx, IDENT_FR_NIR, s, e + 3, 0, d, 4);
}

/* digits_at - the digits of up to three groups from p joined by single spaces */
static size_t digits_at(const char *d, size_t len, size_t p, char *out, size_t max,
			unsigned char *glen, unsigned *ng)
{
	size_t n = 0;

	*ng = 0;
	while (*ng < 3) {
		size_t g = p;

		while (p < len && dig(d[p]) && n < max)
			out[n++] = d[p++];
		if (p == g || (p < len && dig(d[p])))
			return 0;
		glen[(*ng)++] = (unsigned char) (p - g);
		if (!(p + 1 < len && d[p] == ' ' && dig(d[p + 1])) || *ng == 3)
			break;
		p++;
	}
	return p;
}

/*
 * nir_corsica - a NIR of someone born in Corsica, department 2A or 2B
 *
 * The letter ends the run of digits: 1 85 05 2A 006 084 35 (spaced: sex,
 * year, month and the 2; then commune, order and key), 185052A00608435
 * or 185052A006084 35.
 */
static void nir_corsica(const struct tok *t, const struct idscan *is)
{
	const char *d = t->d;
	size_t last = t->ge[t->ng - 1], e;
	unsigned char glen[3];
	unsigned ng;
	char v[16];
	int spaced;

	if (t->left != EDGE_FREE || t->right != EDGE_FREE || glued_before(d, t->gs[0])
	    || last + 1 >= t->len
	    || (toupper((unsigned char) d[last]) != 'A'
		&& toupper((unsigned char) d[last]) != 'B'))
		return;
	spaced = t->ng == 4 && shape(t, 0, 4, "1221") && t->sep[0] == SEP_SPACE
		&& t->sep[1] == SEP_SPACE && t->sep[2] == SEP_SPACE;
	if (!spaced && !(t->ng == 1 && t->gd[0] == 6))
		return;
	memcpy(v, t->digits, 6);
	v[6] = (char) toupper((unsigned char) d[last]);
	if (spaced && d[last + 1] != ' ')
		return;
	e = digits_at(d, t->len, last + 1 + (size_t) spaced, v + 7, 8, glen, &ng);
	if (e == 0 || glued_after(d, t->len, e)
	    || !(spaced ? ng == 3 && glen[0] == 3 && glen[1] == 3 && glen[2] == 2
			: (ng == 1 && glen[0] == 8)
				 || (ng == 2 && glen[0] == 6 && glen[1] == 2)))
		return;
	if (detector_valid_nir(v, 15))
		report(is->found, is->ctx, IDENT_FR_NIR, t->gs[0], e, 0, d, 4);
}

/* number - groups i..j joined by kind K, nd digits, standing alone; phone: may be one */
static void number(const struct tok *t, unsigned i, unsigned j, int K, unsigned nd, int phone,
		   const struct idscan *is)
{
	const int *want = is->want;
	const char *dg = t->digits + t->go[i], *d = t->d;
	unsigned ng = j - i + 1;
	size_t s = t->gs[i], e = t->ge[j];
	int one = ng == 1, ssn_shape, three3;

#define REPORT(id, weak) report(is->found, is->ctx, (id), s, e, (weak), d, 4)
	if (nd >= 12 && want[IDENT_CARD] && card_groups(t, i, ng) && detector_card_ok(dg, nd))
		REPORT(IDENT_CARD, 0); /* no phone number is a card */
	if (phone)
		return;
	switch (nd) {
	case 6:
		if (want[IDENT_UK_SORT] && shape(t, i, ng, "222")
		    && (K == SEP_DASH || K == SEP_SPACE))
			sort_code(t, i, is);
		break;
	case 8:
		if (want[IDENT_AU_TFN] && (one || shape(t, i, ng, "332"))
		    && detector_valid_tfn(dg, 8))
			REPORT(IDENT_AU_TFN, 1);
		break;
	case 9:
		ssn_shape = shape(t, i, ng, "324")
			&& (K == SEP_DASH || K == SEP_SPACE || K == SEP_DOT);
		three3 = shape(t, i, ng, "333");
		if (want[IDENT_SSN] && (ssn_shape || one) && detector_ssn_ok(dg))
			REPORT(IDENT_SSN, !ssn_shape);
		if (want[IDENT_US_ITIN] && (ssn_shape || one) && detector_valid_itin(dg))
			REPORT(IDENT_US_ITIN, !ssn_shape);
		if (want[IDENT_CA_SIN] && (one || three3) && detector_valid_sin(dg))
			REPORT(IDENT_CA_SIN, 1);
		if (want[IDENT_NL_BSN] && (one || three3 || shape(t, i, ng, "423"))
		    && detector_valid_bsn(dg))
			REPORT(IDENT_NL_BSN, 1);
		if (want[IDENT_AU_TFN] && (one || three3) && detector_valid_tfn(dg, 9))
			REPORT(IDENT_AU_TFN, 1);
		if (want[IDENT_ABA] && one && detector_valid_aba(dg))
			REPORT(IDENT_ABA, 1);
		if (want[IDENT_US_PASSPORT] && one && detector_valid_passport_us(dg))
			REPORT(IDENT_US_PASSPORT, 1);
		break;
	case 10:
		if (want[IDENT_SE_PNR] && (one || (shape(t, i, ng, "64") && K == SEP_DASH))
		    && detector_valid_personnummer(dg, 10))
			REPORT(IDENT_SE_PNR, 1);
		if (want[IDENT_DK_CPR]
		    && (one || (shape(t, i, ng, "64") && (K == SEP_DASH || K == SEP_SPACE)))
		    && detector_valid_cpr(dg))
			REPORT(IDENT_DK_CPR, 1);
		if (want[IDENT_UK_NHS] && (one || shape(t, i, ng, "334"))
		    && detector_valid_nhs(dg))
			REPORT(IDENT_UK_NHS, 1);
		break;
	case 11:
		if (want[IDENT_DE_STEUER] && (one || shape(t, i, ng, "2333"))
		    && detector_valid_steuer_id(dg))
			REPORT(IDENT_DE_STEUER, 1);
		if (want[IDENT_PL_PESEL] && one && detector_valid_pesel(dg))
			REPORT(IDENT_PL_PESEL, 1);
		if (want[IDENT_BR_CPF] && (one || shape(t, i, ng, "3332"))
		    && detector_valid_cpf(dg))
			REPORT(IDENT_BR_CPF, 1);
		break;
	case 12:
		if (want[IDENT_IN_AADHAAR]
		    && (one || (shape(t, i, ng, "444") && (K == SEP_SPACE || K == SEP_DASH)))
		    && detector_valid_aadhaar(dg))
			REPORT(IDENT_IN_AADHAAR, 1);
		if (want[IDENT_SE_PNR] && (one || (shape(t, i, ng, "84") && K == SEP_DASH))
		    && detector_valid_personnummer(dg, 12))
			REPORT(IDENT_SE_PNR, 1);
		break;
	case 13:
		if (want[IDENT_FR_NIR] && one && t->right == EDGE_SPLIT)
			nir_with_key(t, dg, s, e, is);
		break;
	case 14:
		if (want[IDENT_BR_CNPJ] && one && detector_valid_cnpj(dg))
			REPORT(IDENT_BR_CNPJ, 1);
		break;
	case 15:
		if (want[IDENT_FR_NIR] && (one || shape(t, i, ng, "1222332"))
		    && detector_valid_nir(dg, 15))
			REPORT(IDENT_FR_NIR, 0);
		break;
	case 18:
		if (want[IDENT_CN_RIC] && (one || (shape(t, i, ng, "684") && K == SEP_SPACE))
		    && detector_valid_cn_ric(dg))
			REPORT(IDENT_CN_RIC, 0);
		break;
	}
#undef REPORT
}

/* fixed_seps - groups i.. with these lengths and exactly these separators */
static int fixed_seps(const struct tok *t, unsigned i, const char *lens, const char *seps)
{
	unsigned ng = (unsigned) strlen(lens);

	if (!shape(t, i, ng, lens))
		return 0;
	for (unsigned k = 0; k + 1 < ng; k++)
		if (t->sep[i + k] != (unsigned char) seps[k])
			return 0;
	return left_ok(t, i, SEP_MIXED) && right_ok(t, i + ng - 1, SEP_MIXED);
}

/* mixed - the Brazilian layouts: 123.456.789-09, 12.345.678/0001-95 */
static void mixed(const struct tok *t, unsigned i, const struct idscan *is)
{
	static const char cpf[] = {SEP_DOT, SEP_DOT, SEP_DASH, 0};
	static const char cnpj[] = {SEP_DOT, SEP_DOT, SEP_SLASH, SEP_DASH, 0};
	char v[15];

	if (is->want[IDENT_BR_CPF] && fixed_seps(t, i, "3332", cpf)) {
		memcpy(v, t->digits + t->go[i], 11);
		if (detector_valid_cpf(v))
			report(is->found, is->ctx, IDENT_BR_CPF, t->gs[i], t->ge[i + 3], 0,
			       t->d, 4);
	}
	if (is->want[IDENT_BR_CNPJ] && fixed_seps(t, i, "23342", cnpj)) {
		memcpy(v, t->digits + t->go[i], 14);
		if (detector_valid_cnpj(v))
			report(is->found, is->ctx, IDENT_BR_CNPJ, t->gs[i], t->ge[i + 4], 0,
			       t->d, 4);
	}
}

/*
 * card_beside - a card in 4-4-4-4 with a short group beside it
 *
 * Short groups joined to a number are part of it, so 4111 1111 1111 1111 7
 * would be a 17-digit number, no card; but a card followed by its
 * security code (4111 1111 1111 1111 123) or one digit a sender adds to
 * hide it still shows the card to a reader. One group of 1-3 digits just
 * after or just before four groups of four, joined by the same separator,
 * leaves the card standing when the whole is no card (four more digits
 * make an account number of 20: 4081 7810 0999 1000 4312 is none).
 */
static void card_beside(const struct tok *t, const struct idscan *is)
{
	unsigned i;
	int K;
	char v[20];

	if (t->ng != 5)
		return;
	if (t->gd[4] >= 1 && t->gd[4] <= 3 && shape(t, 0, 4, "4444"))
		i = 0; /* the short group after */
	else if (t->gd[0] >= 1 && t->gd[0] <= 3 && shape(t, 1, 4, "4444") && !t->plus)
		i = 1; /* the short group before */
	else
		return;
	K = t->sep[0];
	if (K == SEP_NONE || t->sep[1] != K || t->sep[2] != K || t->sep[3] != K
	    || !left_ok(t, 0, K) || !right_ok(t, 4, K) || detector_card_ok(t->digits, t->nd))
		return;
	memcpy(v, t->digits + t->go[i], 16);
	if (detector_card_ok(v, 16))
		report(is->found, is->ctx, IDENT_CARD, t->gs[i], t->ge[i + 3], 0, t->d, 4);
}

/*
 * numbers - every way the groups of a token stand for a number
 *
 * After a '+' a number of up to 15 digits may be a phone number in its
 * international form (ITU-T E.164 numbers have at most 15 digits): no
 * identifier but a card counts there. A card number never is a phone
 * number (no country's numbers are that long in the card networks'
 * prefixes), nor is a longer number.
 */
static void numbers(const struct tok *t, const struct idscan *is)
{
	for (unsigned i = 0; i < t->ng; i++) {
		unsigned nd = 0;
		int K = SEP_NONE;

		for (unsigned j = i; j < t->ng; j++) {
			if (j == i + 1)
				K = t->sep[i];
			else if (j > i + 1 && t->sep[j - 1] != K)
				break;
			nd += t->gd[j];
			if (nd > 19)
				break;
			if (nd >= 6 && left_ok(t, i, K) && right_ok(t, j, K))
				number(t, i, j, K, nd, i == 0 && t->plus && nd <= PHONE_DIGITS,
				       is);
		}
		if (t->ng - i >= 4 && !(i == 0 && t->plus))
			mixed(t, i, is);
	}
	if (is->want[IDENT_CARD])
		card_beside(t, is);
}

/* ---- numbers with letters ----------------------------------------------- */

/* letters_before - ASCII letters right before p (up to max+1), and the start */
static size_t letters_before(const char *d, size_t p, size_t max, size_t *start)
{
	size_t n = 0;

	while (n <= max && p > n
	       && ((d[p - n - 1] >= 'A' && d[p - n - 1] <= 'Z')
		   || (d[p - n - 1] >= 'a' && d[p - n - 1] <= 'z')))
		n++;
	*start = p - n;
	return n;
}

/* letter_after - one letter after p (optionally after ' ' or '-'), alone */
static int letter_after(const char *d, size_t len, size_t p, size_t *end)
{
	size_t q = p;

	if (q < len && (d[q] == ' ' || d[q] == '-'))
		q++;
	if (q >= len || !((d[q] >= 'A' && d[q] <= 'Z') || (d[q] >= 'a' && d[q] <= 'z'))
	    || glued_after(d, len, q + 1))
		return 0;
	*end = q + 1;
	return (unsigned char) toupper((unsigned char) d[q]);
}

/* word_start - no letter, digit or sign glued right before p */
static int word_start(const char *d, size_t p)
{
	return !glued_before(d, p);
}

/* prefix_letters - n letters before the token, directly or after one ' ' or '-' */
static int prefix_letters(const struct tok *t, size_t n, char *out, size_t *start)
{
	const char *d = t->d;
	size_t p = t->gs[0], s;

	if (t->left != EDGE_FREE)
		return 0;
	if (letters_before(d, p, n, &s) != n) {
		/* AB 123456 C: printed in capitals */
		if (p < 2 || (d[p - 1] != ' ' && d[p - 1] != '-')
		    || letters_before(d, p - 1, n, &s) != n || !upper(d[s]) || !upper(d[p - 2]))
			return 0;
	}
	if (!word_start(d, s))
		return 0;
	for (size_t k = 0; k < n; k++)
		out[k] = (char) toupper((unsigned char) d[s + k]);
	*start = s;
	return 1;
}

/* lettered - the identifiers made of letters and the token's digits */
static void lettered(const struct tok *t, const struct idscan *is)
{
	const int *want = is->want;
	const char *d = t->d;
	const char *dg = t->digits;
	char v[24], L[4];
	size_t s, e, last = t->ge[t->ng - 1];
	int c, one = t->ng == 1, free_right = t->right == EDGE_FREE;

	/* DEA: AB1234563 */
	if (want[IDENT_US_DEA] && one && t->gd[0] == 7 && free_right && t->left == EDGE_FREE
	    && letters_before(d, t->gs[0], 2, &s) == 2 && word_start(d, s) && upper(d[s])
	    && upper(d[s + 1]) && !glued_after(d, t->len, last)) {
		v[0] = d[s];
		v[1] = d[s + 1];
		memcpy(v + 2, dg, 7);
		if (detector_valid_dea(v))
			report(is->found, is->ctx, IDENT_US_DEA, s, last, 0, d, 4);
	}
	/* US passport, next generation: A12345678 */
	if (want[IDENT_US_PASSPORT] && one && t->gd[0] == 8 && free_right
	    && t->left == EDGE_FREE && letters_before(d, t->gs[0], 1, &s) == 1
	    && word_start(d, s) && upper(d[s]) && !glued_after(d, t->len, last)) {
		v[0] = d[s];
		memcpy(v + 1, dg, 8);
		if (detector_valid_passport_us(v))
			report(is->found, is->ctx, IDENT_US_PASSPORT, s, last, 1, d, 4);
	}
	/* NIE: X1234567L, X-1234567-L */
	if (want[IDENT_ES_NIE] && one && t->gd[0] == 7 && free_right
	    && prefix_letters(t, 1, L, &s) && (c = letter_after(d, t->len, last, &e)) != 0) {
		v[0] = L[0];
		memcpy(v + 1, dg, 7);
		v[8] = (char) c;
		if (detector_valid_nie(v, 9))
			report(is->found, is->ctx, IDENT_ES_NIE, s, e, 0, d, 4);
	}
	/* DNI: 12345678Z, 12.345.678-Z */
	if (want[IDENT_ES_DNI] && free_right && t->nd == 8
	    && ((one && t->gd[0] == 8)
		|| (shape(t, 0, t->ng, "233") && t->sep[0] == SEP_DOT && t->sep[1] == SEP_DOT))
	    && left_ok(t, 0, SEP_MIXED) && (c = letter_after(d, t->len, last, &e)) != 0) {
		memcpy(v, dg, 8);
		v[8] = (char) c;
		if (detector_valid_dni(v, 9))
			report(is->found, is->ctx, IDENT_ES_DNI, t->gs[0], e, 0, d, 4);
	}
	/* NINO: AB123456C, AB 12 34 56 C, without the suffix letter */
	if (want[IDENT_UK_NINO] && free_right && t->nd == 6
	    && ((one && t->gd[0] == 6)
		|| (shape(t, 0, t->ng, "222") && t->sep[0] == SEP_SPACE
		    && t->sep[1] == SEP_SPACE))
	    && prefix_letters(t, 2, L, &s)) {
		memcpy(v, L, 2);
		memcpy(v + 2, dg, 6);
		if ((c = letter_after(d, t->len, last, &e)) != 0) {
			v[8] = (char) c;
			if (detector_valid_nino(v, 9))
				report(is->found, is->ctx, IDENT_UK_NINO, s, e, 0, d, 4);
		} else if (!glued_after(d, t->len, last) && detector_valid_nino(v, 8))
			report(is->found, is->ctx, IDENT_UK_NINO, s, last, 1, d, 4);
	}
	/* Chinese resident id ending in X */
	if (want[IDENT_CN_RIC] && one && t->gd[0] == 17 && free_right && left_ok(t, 0, SEP_NONE)
	    && last < t->len && (d[last] == 'X' || d[last] == 'x')
	    && !glued_after(d, t->len, last + 1)) {
		memcpy(v, dg, 17);
		v[17] = 'X';
		if (detector_valid_cn_ric(v))
			report(is->found, is->ctx, IDENT_CN_RIC, t->gs[0], last + 1, 0, d, 4);
	}
}

/* ---- IBAN --------------------------------------------------------------- */

/*
 * check_iban - an IBAN starting at from (its country code); its end, or 0
 *
 * ISO 13616 prints IBANs in capitals, but they are read the same in small
 * letters (banks' forms and validators take them, and so would whoever a
 * sender writes to): either case, the check is over the capitals.
 */
static size_t check_iban(const char *d, size_t len, size_t from, char *sample, size_t samplelen)
{
	char compact[40], cc[2];
	size_t n = 0, i = from, want, j = 0, sl;
	int kind = -1, k;

	if (from + 4 > len || glued_before(d, from))
		return 0;
	cc[0] = (char) toupper((unsigned char) d[from]);
	cc[1] = (char) toupper((unsigned char) d[from + 1]);
	want = (size_t) detector_iban_length(cc);
	if (want == 0)
		return 0;
	while (i < len && n < want) {
		if (alnum(d[i])) {
			compact[n++] = (char) toupper((unsigned char) d[i++]);
			continue;
		}
		/* one separator, the same kind throughout, between characters */
		i = skip_invisible(d, len, i);
		if (i < len && alnum(d[i]))
			continue;
		if (n < 2 || i >= len
		    || (k = sep_char((const unsigned char *) d + i, len - i, &sl)) <= SEP_NONE
		    || (kind >= 0 && k != kind))
			break;
		kind = k;
		i = skip_invisible(d, len, i + sl);
		if (i >= len || !alnum(d[i]))
			break;
	}
	if (n != want || glued_after(d, len, i))
		return 0;
	if (!detector_iban_ok(compact, n))
		return 0;
	/* country and check digits, stars, the last four */
	for (size_t q = 0; q < n && j + 1 < samplelen; q++)
		sample[j++] = q < 4 || q + 4 >= n ? compact[q] : '*';
	sample[j] = 0;
	return i;
}

/* ---- codice fiscale --------------------------------------------------- */

/*
 * A codice fiscale is 16 letters and digits, and with omocodia (a letter
 * for each digit, L for 0 ... V for 9, as the Agenzia delle Entrate gives
 * when two people would share one) it may have no digit at all: it is
 * found among the runs of exactly 16 ASCII letters and digits, not among
 * the runs of digits. The runs are found 64 bytes at a time from a mask
 * of letters and digits (AVX2 where the CPU has it): bit i set for a
 * letter or digit at i; a run of exactly 16 starts where a run starts,
 * the 16 bits from there are set and the 17th is not.
 */

/* alnum_mask_c - the letters and digits of up to 64 bytes from p, as bits */
static uint64_t alnum_mask_c(const char *p, size_t n)
{
	uint64_t m = 0;

	for (size_t i = 0; i < n && i < 64; i++)
		m |= (uint64_t) alnum(p[i]) << i;
	return m;
}

#if defined(__x86_64__)
#include <immintrin.h>

/* alnum_mask_avx2 - the letters and digits of 64 bytes from p, as bits */
__attribute__((target("avx2"))) static uint64_t alnum_mask_avx2(const char *p)
{
	const __m256i flip = _mm256_set1_epi8((char) 0x80);
	const __m256i d_lo = _mm256_set1_epi8((char) ('0' - 1 - 128));
	const __m256i d_hi = _mm256_set1_epi8((char) ('9' + 1 - 128));
	const __m256i a_lo = _mm256_set1_epi8((char) ('a' - 1 - 128));
	const __m256i a_hi = _mm256_set1_epi8((char) ('z' + 1 - 128));
	const __m256i lower = _mm256_set1_epi8(0x20);
	uint64_t m = 0;

	for (int h = 0; h < 2; h++) {
		__m256i raw = _mm256_loadu_si256((const __m256i *) (p + 32 * h));
		__m256i v = _mm256_xor_si256(raw, flip);
		__m256i l = _mm256_xor_si256(_mm256_or_si256(raw, lower), flip);
		__m256i dg = _mm256_and_si256(_mm256_cmpgt_epi8(v, d_lo),
					      _mm256_cmpgt_epi8(d_hi, v));
		__m256i lt = _mm256_and_si256(_mm256_cmpgt_epi8(l, a_lo),
					      _mm256_cmpgt_epi8(a_hi, l));

		m |= (uint64_t) (uint32_t) _mm256_movemask_epi8(_mm256_or_si256(dg, lt))
			<< (32 * h);
	}
	return m;
}

/* wordish_mask_avx2 - bytes 0x30-0x7A (letters, digits and a few signs) of 64 bytes
 * from p, as bits: a cheap superset of the letters and digits */
__attribute__((target("avx2"))) static uint64_t wordish_mask_avx2(const char *p)
{
	const __m256i flip = _mm256_set1_epi8((char) 0x80);
	const __m256i lo = _mm256_set1_epi8((char) ('0' - 1 - 128));
	const __m256i hi = _mm256_set1_epi8((char) ('z' + 1 - 128));
	__m256i a = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *) p), flip);
	__m256i b = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *) (p + 32)), flip);
	uint32_t ma = (uint32_t) _mm256_movemask_epi8(
		_mm256_and_si256(_mm256_cmpgt_epi8(a, lo), _mm256_cmpgt_epi8(hi, a)));
	uint32_t mb = (uint32_t) _mm256_movemask_epi8(
		_mm256_and_si256(_mm256_cmpgt_epi8(b, lo), _mm256_cmpgt_epi8(hi, b)));

	return (uint64_t) mb << 32 | ma;
}
#endif

/* alnum_mask - the letters and digits of the 64 bytes from pos (none past len) */
static uint64_t alnum_mask(const char *d, size_t len, size_t pos)
{
#if defined(__x86_64__)
	static int avx2 = -1;

	if (avx2 < 0)
		avx2 = __builtin_cpu_supports("avx2") != 0;
	if (avx2 && pos + 64 <= len)
		return alnum_mask_avx2(d + pos);
#endif
	return pos < len ? alnum_mask_c(d + pos, len - pos) : 0;
}

/* wordish_mask - a superset of alnum_mask, cheaper to make (the same without AVX2) */
static uint64_t wordish_mask(const char *d, size_t len, size_t pos)
{
#if defined(__x86_64__)
	static int avx2 = -1;

	if (avx2 < 0)
		avx2 = __builtin_cpu_supports("avx2") != 0;
	if (avx2 && pos + 64 <= len)
		return wordish_mask_avx2(d + pos);
#endif
	return pos < len ? alnum_mask_c(d + pos, len - pos) : 0;
}

/* runs16 - bit i: bits i..i+15 of m all set (i <= 48) */
static inline uint64_t runs16(uint64_t m)
{
	m &= m >> 1;
	m &= m >> 2;
	m &= m >> 4;
	return m & m >> 8;
}

/* top_ones, low_ones - set bits at the top, at the bottom of a word */
static inline unsigned top_ones(uint64_t m)
{
	return ~m ? (unsigned) __builtin_clzll(~m) : 64;
}

static inline unsigned low_ones(uint64_t m)
{
	return ~m ? (unsigned) __builtin_ctzll(~m) : 64;
}

/* cf_check - a codice fiscale in the 16 characters from s? */
static void cf_check(const char *d, size_t s, const struct idscan *is)
{
	char v[17];
	int lower = 0, up = 0;

	for (size_t k = 0; k < 16; k++) {
		char c = d[s + k];

		lower |= c >= 'a' && c <= 'z';
		up |= upper(c);
		v[k] = (char) toupper((unsigned char) c);
	}
	v[16] = 0;
	/* upper or lower case, not mixed (a mixed one is a word or a token) */
	if (!(lower && up) && detector_valid_it_cf(v, 16))
		report(is->found, is->ctx, IDENT_IT_CF, s, s + 16, 0, d, 4);
}

/* cf_scan - every codice fiscale of a text: runs of exactly 16 letters and digits */
static void cf_scan(const char *d, size_t len, const struct idscan *is)
{
	uint64_t w = wordish_mask(d, len, 0), wn;

	for (size_t base = 0; base < len; base += 64, w = wn) {
		uint64_t cur, next, exact;
		unsigned h;

		/* most blocks hold no run of 16 even of the cheaper superset */
		wn = wordish_mask(d, len, base + 64);
		if (runs16(w) == 0 && !(top_ones(w) > 0 && top_ones(w) + low_ones(wn) >= 16))
			continue;
		cur = alnum_mask(d, len, base);
		next = alnum_mask(d, len, base + 64);
		/* runs of 16 inside the word that start there and end at the 16th */
		exact = runs16(cur) & cur
			& ~(cur << 1 | (uint64_t) (base > 0 && alnum(d[base - 1])))
			& ~(cur >> 16 | next << 48);
		/* a run that crosses into the next word: h bits here, the rest there */
		h = top_ones(cur);
		if (h > 0 && h < 16 && h + low_ones(next) == 16)
			exact |= 1ULL << (64 - h);
		while (exact) {
			size_t s = base + (size_t) __builtin_ctzll(exact);

			if (!glued_before(d, s))
				cf_check(d, s, is);
			exact &= exact - 1;
		}
	}
}

/* cell_digits - the digits of the field that starts at p: their count, or 0
 * when the field holds anything else or does not end at a tab or line end */
static size_t cell_digits(const char *d, size_t len, size_t p)
{
	size_t q = p;

	while (q < len && dig(d[q]))
		q++;
	if (q == p || (q < len && d[q] != '\t' && d[q] != '\n' && d[q] != '\r'))
		return 0;
	return q - p;
}

/* card_word_in - a card's context word, a whole word, in d[s, e) */
static int card_word_in(const char *d, size_t s, size_t e)
{
	for (size_t p = s; p < e; p++) {
		if (p > s && letter(d[p - 1]))
			continue;
		for (const char *const *w = kw_card; *w; w++) {
			size_t n = strlen(*w), q = p + n;

			if (n > e - p || strncasecmp(d + p, *w, n) != 0)
				continue;
			if (q < e && (d[q] == 's' || d[q] == 'S'))
				q++; /* "Cards" */
			if (q == e || !letter(d[q]))
				return 1;
		}
	}
	return 0;
}

/* card_row_context - a card word in the row of d[s], or over its column
 * (tab: the text's table, read once for all its rows) */
static int card_row_context(struct det_table *tab, const char *d, size_t len, size_t s)
{
	size_t ls = s, le = s, hs, he;

	while (ls > 0 && d[ls - 1] != '\n')
		ls--;
	while (le < len && d[le] != '\n')
		le++;
	if (card_word_in(d, ls, le))
		return 1;
	return detector_table_cell(tab, d, len, s, &hs, &he) && card_word_in(d, hs, he);
}

/*
 * card_cells - a card whose groups stand in cells of their own, side by
 * side in a row of a spreadsheet or a TSV export (fields of 4, 4, 4 and 4
 * digits, or 4, 6 and 5 or 4): the reader of the sheet sees the card. A
 * tab ends a number everywhere else, so that the columns of a table never
 * join; here columns of figures pass the checks by chance (the Luhn check
 * one time in ten), so the value counts on its own only with a card word
 * in its row or over its first column; without one it is weak (a rule's
 * own near words may still make it count).
 */
static void card_cells(const char *d, size_t len, const struct idscan *is)
{
	static const unsigned char shapes[][5] = {{4, 4, 4, 4, 0}, {4, 6, 5, 0}, {4, 6, 4, 0}};
	struct det_table tab;

	memset(&tab, 0, sizeof(tab));

	for (const char *t = memchr(d, '\t', len); t != NULL;
	     t = memchr(t + 1, '\t', len - (size_t) (t + 1 - d))) {
		size_t s = (size_t) (t - d), f[4], nf = 0, p;
		char v[20];

		/* the field before this tab: 4 digits that start a field */
		if (s < 4 || (s > 4 && d[s - 5] != '\t' && d[s - 5] != '\n')
		    || cell_digits(d, len, s - 4) != 4)
			continue;
		s -= 4;
		for (p = s; nf < 4;) {
			size_t n = cell_digits(d, len, p);

			if (n == 0 || n > 6)
				break;
			f[nf++] = n;
			p += n;
			if (p >= len || d[p] != '\t')
				break;
			p++;
		}
		for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
			size_t n = 0, at = s, i;

			for (i = 0; shapes[k][i] && i < nf && f[i] == shapes[k][i]; i++) {
				memcpy(v + n, d + at, f[i]);
				n += f[i];
				at += f[i] + 1;
			}
			if (shapes[k][i] == 0 && i > 0 && detector_card_ok(v, n)) {
				report(is->found, is->ctx, IDENT_CARD, s, at - 1,
				       !card_row_context(&tab, d, len, s), d, 4);
				break;
			}
		}
	}
}

/* ---- the scan ----------------------------------------------------------- */

#if defined(__x86_64__)
#include <immintrin.h>

/* next_digit_avx2 - the first digit at or after pos: 32 bytes a step */
__attribute__((target("avx2"))) static size_t next_digit_avx2(const char *d, size_t len,
							      size_t pos)
{
	const __m256i lo = _mm256_set1_epi8((char) ('0' - 1 - 128));
	const __m256i hi = _mm256_set1_epi8((char) ('9' + 1 - 128));
	const __m256i flip = _mm256_set1_epi8((char) 0x80);

	while (pos + 32 <= len) {
		__m256i v =
			_mm256_xor_si256(_mm256_loadu_si256((const __m256i *) (d + pos)), flip);
		unsigned m = (unsigned) _mm256_movemask_epi8(
			_mm256_and_si256(_mm256_cmpgt_epi8(v, lo), _mm256_cmpgt_epi8(hi, v)));

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

/* next_digit_sse2 - the first digit at or after pos: 16 bytes a step */
static size_t next_digit_sse2(const char *d, size_t len, size_t pos)
{
#if defined(__SSE2__)
	const __m128i lo = _mm_set1_epi8((char) ('0' - 1 - 128));
	const __m128i hi = _mm_set1_epi8((char) ('9' + 1 - 128));
	const __m128i flip = _mm_set1_epi8((char) 0x80);

	while (pos + 16 <= len) {
		__m128i v = _mm_xor_si128(_mm_loadu_si128((const __m128i *) (d + pos)), flip);
		int m = _mm_movemask_epi8(
			_mm_and_si128(_mm_cmpgt_epi8(v, lo), _mm_cmplt_epi8(v, hi)));

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

/*
 * The fewest digits of a number each identifier reads: one group on its
 * own, several groups, right after letters (AB1234563), after letters and
 * a space or hyphen (AB 12 34 56 C). Runs with fewer digits are passed
 * over without a closer look; 0: never in that form.
 */
static const struct {
	unsigned char alone, grouped, glued, spaced;
} least[IDENT_COUNT] = {
	[IDENT_CARD] = {12, 12, 0, 0},       [IDENT_SSN] = {9, 9, 0, 0},
	[IDENT_IBAN] = {0, 0, 2, 0},         [IDENT_UK_NINO] = {0, 0, 6, 6},
	[IDENT_CA_SIN] = {9, 9, 0, 0},       [IDENT_FR_NIR] = {13, 15, 0, 0},
	[IDENT_ES_DNI] = {8, 8, 0, 0},       [IDENT_ES_NIE] = {0, 0, 7, 7},
	[IDENT_IT_CF] = {0, 0, 0, 0},        [IDENT_NL_BSN] = {9, 9, 0, 0},
	[IDENT_DE_STEUER] = {11, 11, 0, 0},  [IDENT_SE_PNR] = {10, 10, 0, 0},
	[IDENT_DK_CPR] = {10, 10, 0, 0},     [IDENT_PL_PESEL] = {11, 0, 0, 0},
	[IDENT_IN_AADHAAR] = {12, 12, 0, 0}, [IDENT_CN_RIC] = {17, 18, 0, 0},
	[IDENT_BR_CPF] = {11, 11, 0, 0},     [IDENT_BR_CNPJ] = {14, 14, 0, 0},
	[IDENT_AU_TFN] = {8, 8, 0, 0},       [IDENT_US_ITIN] = {9, 9, 0, 0},
	[IDENT_UK_NHS] = {10, 10, 0, 0},     [IDENT_ABA] = {9, 0, 0, 0},
	[IDENT_UK_SORT] = {0, 6, 0, 0},      [IDENT_US_PASSPORT] = {9, 0, 8, 0},
	[IDENT_US_DEA] = {0, 0, 7, 0},
};

/* corsica_at - does 2A or 2B (a department of Corsica) end at p + 1? */
static int corsica_at(const char *d, size_t len, size_t p)
{
	return p > 0 && p < len && d[p - 1] == '2'
		&& (d[p] == 'A' || d[p] == 'B' || d[p] == 'a' || d[p] == 'b');
}

/* ascii_sep - an ASCII separator inside a number */
static inline int ascii_sep(char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '/' || c == '_';
}

/* glued_letters - one or two letters right before p (passport, IBAN, DEA)? */
static int glued_letters(const char *d, size_t p)
{
	size_t s, n = letters_before(d, p, 2, &s);

	return n == 1 || n == 2;
}

/* spaced_letters - one or two capitals right before p (NIE, NINO)? */
static int spaced_letters(const char *d, size_t p)
{
	size_t s, n = letters_before(d, p, 2, &s);

	return (n == 1 || n == 2) && upper(d[p - 1]) && upper(d[s]);
}

/* fullwidth_at - a fullwidth digit (U+FF10..U+FF19) at p? */
static int fullwidth_at(const char *d, size_t len, size_t p)
{
	return p + 2 < len && (unsigned char) d[p] == 0xef && (unsigned char) d[p + 1] == 0xbc
		&& (unsigned char) d[p + 2] >= 0x90 && (unsigned char) d[p + 2] <= 0x99;
}

/* first_fullwidth - where the first fullwidth digit is, or len */
static size_t first_fullwidth(const char *d, size_t len)
{
	const char *p = d, *end = d + len;

	/* memchr is the fast search here (glibc's memmem is not, for two bytes) */
	while ((p = memchr(p, 0xef, (size_t) (end - p))) != NULL) {
		if (fullwidth_at(d, len, (size_t) (p - d)))
			return (size_t) (p - d);
		p++;
	}
	return len;
}

/*
 * fullwidth_copy - the text with fullwidth digits from p on made ASCII
 *
 * Japanese and Chinese input methods type digits as U+FF10..U+FF19, three
 * bytes each. Each becomes its ASCII digit and a soft hyphen (invisible
 * between digits), three bytes too: every offset stays where it was, for
 * context words and the subject's masking.
 */
static char *fullwidth_copy(const char *d, size_t len, size_t p)
{
	char *c = xmalloc(len + 1);

	memcpy(c, d, len);
	c[len] = 0;
	for (size_t i = p; i + 2 < len; i++)
		if (fullwidth_at(c, len, i)) {
			c[i] = (char) ('0' + ((unsigned char) c[i + 2] - 0x90));
			c[i + 1] = (char) 0xc2;
			c[i + 2] = (char) 0xad;
			i += 2;
		}
	return c;
}

/* detector_ident_scan - find, validate and report the numbers of a text */
void detector_ident_scan(const char *text, size_t len, const int *want, unsigned flags,
			 det_found_fn found, void *ctx)
{
	struct idscan is = {want, found, ctx};
	struct tok t;
	size_t pos = 0, iban_end = 0;
	unsigned min_alone = 255, min_grouped = 255, min_glued = 255, min_spaced = 255;
	int left = EDGE_FREE;
	char *fw = NULL;
	const char *d = text;
	size_t fwp;

	t.tab_space = (flags & DET_ID_HEADER) != 0;
	for (int i = 0; i < IDENT_COUNT; i++) {
		if (!want[i])
			continue;
		if (least[i].alone && least[i].alone < min_alone)
			min_alone = least[i].alone;
		if (least[i].grouped && least[i].grouped < min_grouped)
			min_grouped = least[i].grouped;
		if (least[i].glued && least[i].glued < min_glued)
			min_glued = least[i].glued;
		if (least[i].spaced && least[i].spaced < min_spaced)
			min_spaced = least[i].spaced;
	}
	if (want[IDENT_IT_CF])
		cf_scan(text, len, &is);
	if (want[IDENT_CARD] && !t.tab_space)
		card_cells(text, len, &is);
	/* digits typed fullwidth, alone or among ASCII ones: read through a copy */
	if ((fwp = first_fullwidth(text, len)) < len)
		d = fw = fullwidth_copy(text, len, fwp);
	while ((pos = next_digit(d, len, pos)) < len) {
		char sample[DET_SAMPLE_MAX + 8];
		size_t me, p = pos, n;
		unsigned least_here, lettered_least, groups;
		size_t glen[3] = {0, 0, 0};

		/* the common case first: too few digits for any identifier */
		n = 0;
		groups = 0;
		for (;;) {
			size_t g = p;

			while (p < len && dig(d[p]))
				p++, n++;
			if (groups < 3)
				glen[groups] = p - g;
			groups++;
			if (p + 1 < len && (ascii_sep(d[p]) || (d[p] == '\t' && t.tab_space))
			    && dig(d[p + 1]))
				p++;
			else
				break;
		}
		/* the least digits a number needs here, with the letters before it */
		lettered_least = 255;
		if (glued_letters(d, pos))
			lettered_least = min_glued;
		else if (pos > 1 && (d[pos - 1] == ' ' || d[pos - 1] == '-')
			 && spaced_letters(d, pos - 1))
			lettered_least = min_spaced;
		least_here = groups == 1          ? min_alone
			: min_alone < min_grouped ? min_alone
						  : min_grouped;
		if (lettered_least < least_here)
			least_here = lettered_least;
		/* a date, 2024-03-15 or 15.03.2024, is no identifier nor part of one */
		if (groups == 3 && n == 8 && glen[1] == 2 && (glen[0] == 4 || glen[2] == 4))
			least_here = 9;
		if (left == EDGE_FREE && n < least_here
		    && !(p < len && (unsigned char) d[p] >= 0xc2)
		    && !(n == 6 && want[IDENT_FR_NIR] && corsica_at(d, len, p))) {
			pos = p;
			continue;
		}
		tokenize(&t, d, len, pos, left);
		if (want[IDENT_FR_NIR] && t.nd == 6 && corsica_at(d, len, t.ge[t.ng - 1]))
			nir_corsica(&t, &is);
		/* an IBAN: two letters (either case), then digits (the check digits) */
		if (want[IDENT_IBAN] && left == EDGE_FREE && pos >= 2 && pos >= iban_end + 2
		    && letter(d[pos - 1]) && letter(d[pos - 2])
		    && (me = check_iban(d, len, pos - 2, sample, sizeof(sample))) > 0) {
			struct det_found f = {.id = IDENT_IBAN, .start = pos - 2, .end = me};

			snprintf(f.sample, sizeof(f.sample), "%s", sample);
			found(ctx, &f);
			iban_end = me;
			pos = me > t.next ? me : t.next;
			left = EDGE_FREE;
			continue;
		}
		/* a token of one group (a long group split off) reads as one */
		if (!t.overflow
		    && t.nd >= (t.ng == 1 && min_alone < least_here ? min_alone : least_here)) {
			numbers(&t, &is);
			lettered(&t, &is);
		}
		pos = t.next;
		left = t.right;
	}
	free(fw);
}

/*
 * detector_ident_value - the digits and groups of a number found in d[s, e)
 *
 * Fullwidth digits are digits, invisible characters nothing; any other
 * character between digits (a separator, a letter as in 2A) ends a group.
 */
void detector_ident_value(const char *d, size_t s, size_t e, struct det_value *v)
{
	const unsigned char *u = (const unsigned char *) d;
	int kind = -1;
	size_t n;

	memset(v, 0, sizeof(*v));
	v->one_sep = 1;
	for (size_t p = s; p < e;) {
		int k, digit = -1;

		if (dig(d[p]))
			digit = d[p] - '0', n = 1;
		else if (fullwidth_at(d, e, p))
			digit = u[p + 2] - 0x90, n = 3;
		else if ((k = sep_char(u + p, e - p, &n)) == SEP_NONE) {
			p += n;
			continue;
		} else {
			if (k < 0)
				k = SEP_MIXED; /* a letter, a tab... */
			if (kind >= 0 && k != kind)
				v->one_sep = 0;
			kind = k;
			if (v->ng > 0 && v->group[v->ng - 1] > 0 && v->ng < DET_VALUE_GROUPS)
				v->ng++;
			p += n ? n : 1;
			continue;
		}
		if (v->ng == 0)
			v->ng = 1;
		if (v->nd < DET_VALUE_DIGITS)
			v->digits[v->nd++] = (char) ('0' + digit);
		if (v->group[v->ng - 1] < 255)
			v->group[v->ng - 1]++;
		p += n;
	}
	if (v->ng > 0 && v->group[v->ng - 1] == 0)
		v->ng--;
	v->digits[v->nd] = 0;
}

/* detector_mask - a keyword's or pattern's match, first and last letter shown */
void detector_mask(const char *in, size_t len, char *out, size_t outlen)
{
	size_t chars = 0, seen = 0, j = 0;

	for (size_t i = 0; i < len; i++)
		chars += ((unsigned char) in[i] & 0xc0) != 0x80;
	for (size_t i = 0; i < len && j + 4 < outlen;) {
		size_t n = 1;

		while (i + n < len && ((unsigned char) in[i + n] & 0xc0) == 0x80)
			n++;
		seen++;
		if (chars >= 6 && (seen == 1 || seen == chars)
		    && (unsigned char) in[i] >= 0x20) {
			memcpy(out + j, in + i, n < outlen - j - 1 ? n : 0);
			j += n < outlen - j - 1 ? n : 0;
		} else {
			out[j++] = (in[i] == ' ' || in[i] == '\t' || in[i] == '\n'
				    || in[i] == '\r')
				? ' '
				: '*';
		}
		i += n;
	}
	out[j] = 0;
}
