/*
 * detector_context - what surrounds an identifier's value: labels and tables
 *
 * detector_ident_labelled() tells whether the words right before a number
 * (in the same line and column, past "no.", "number", "#", "ID") name
 * another kind of number: an IMEI, an ISBN, an order, tracking, invoice or
 * phone number, a timestamp, a quantity; it returns the kind (LABEL_*).
 * detector_label_in() looks for those words in a text such as a table's
 * header cell.
 *
 * A label is a claim anybody can write, and a sender hiding a card number
 * would: detector_label_admits() says whether the number can be what the
 * label says. An IMEI is 15 digits with a Luhn check digit and a GSMA
 * reporting body's prefix (an IMEISV 16, without the check), an ISBN-13
 * starts 978 or 979 and has the EAN check digit, a phone number has at
 * most 15 digits (ITU-T E.164) and is not written like an SSN, a
 * timestamp is the count of seconds (or ms, us, ns) of this era or a date.
 * An order, tracking or invoice number can be any digits: such a label
 * excuses a weak value only (one a random number passes one time in ten),
 * never a value that counts on its own. And 16 Luhn-valid digits with a
 * card issuer's prefix are a card whatever the label says.
 *
 * detector_table_cell() finds the header cell of the column a value
 * stands in: lines of the same number of tab, semicolon, comma or bar
 * separated fields (double quotes as in RFC 4180) form a table, and its
 * first line is the header. A context word there counts for the whole
 * column (detector_match.c). The table found is cached per unit, so the
 * values of one long table cost one pass over it; a budget of bytes read
 * per unit bounds the rest, and lines longer than 64 KB are no table.
 *
 * Nothing here allocates or reads outside the unit.
 */
#include <ctype.h>
#include <string.h>

#include "detector.h"

/* alnum - an ASCII letter or digit */
static inline int alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The kinds of numbers labels name. */
enum {
	LABEL_NONE,
	LABEL_REF,    /* order, tracking, invoice...: any digits */
	LABEL_DEVICE, /* IMEI, IMEISV */
	LABEL_MEID,   /* MEID, decimal */
	LABEL_ICCID,  /* SIM card number */
	LABEL_IMSI,   /* subscriber identity */
	LABEL_ISBN,
	LABEL_ISSN,
	LABEL_GTIN, /* EAN, UPC, GTIN bar codes */
	LABEL_PHONE,
	LABEL_TIME, /* timestamps */
	LABEL_QTY,  /* quantities */
};

/* Words that say a number is of another kind. Up to 4 bytes: the whole
 * word; longer: a prefix ("order" also covers "orders", "ordernummer"). */
static const struct label {
	const char *word;
	int kind;
} labels[] = {
	{"imei", LABEL_DEVICE},
	{"imeisv", LABEL_DEVICE},
	{"meid", LABEL_MEID},
	{"iccid", LABEL_ICCID},
	{"imsi", LABEL_IMSI},
	{"isbn", LABEL_ISBN},
	{"issn", LABEL_ISSN},
	{"ean", LABEL_GTIN},
	{"upc", LABEL_GTIN},
	{"gtin", LABEL_GTIN},
	{"sku", LABEL_REF},
	{"asin", LABEL_REF},
	{"order", LABEL_REF},
	{"bestell", LABEL_REF},
	{"auftrag", LABEL_REF},
	{"commande", LABEL_REF},
	{"pedido", LABEL_REF},
	{"ordine", LABEL_REF},
	{"tracking", LABEL_REF},
	{"track", LABEL_REF},
	{"sendung", LABEL_REF},
	{"awb", LABEL_REF},
	{"shipment", LABEL_REF},
	{"parcel", LABEL_REF},
	{"colis", LABEL_REF},
	{"invoice", LABEL_REF},
	{"rechnung", LABEL_REF},
	{"facture", LABEL_REF},
	{"factura", LABEL_REF},
	{"fattura", LABEL_REF},
	{"po", LABEL_REF},
	{"tel", LABEL_PHONE},
	{"t\xc3\xa9l", LABEL_PHONE},
	{"telephone", LABEL_PHONE},
	{"t\xc3\xa9l\xc3\xa9phone", LABEL_PHONE},
	{"telefon", LABEL_PHONE},
	{"telefono", LABEL_PHONE},
	{"tel\xc3\xa9"
	 "fono",
	 LABEL_PHONE},
	{"phone", LABEL_PHONE},
	{"fax", LABEL_PHONE},
	{"mobile", LABEL_PHONE},
	{"mobil", LABEL_PHONE},
	{"handy", LABEL_PHONE},
	{"cell", LABEL_PHONE},
	{"serial", LABEL_REF},
	{"serien", LABEL_REF},
	{"sn", LABEL_REF},
	{"ticket", LABEL_REF},
	{"case", LABEL_REF},
	{"booking", LABEL_REF},
	{"buchung", LABEL_REF},
	{"reservation", LABEL_REF},
	{"confirmation", LABEL_REF},
	{"transaction", LABEL_REF},
	{"txn", LABEL_REF},
	{"timestamp", LABEL_TIME},
	{"epoch", LABEL_TIME},
	{"qty", LABEL_QTY},
	{"quantity", LABEL_QTY},
	{"menge", LABEL_QTY},
	{"version", LABEL_REF},
	{"build", LABEL_REF},
	{"batch", LABEL_REF},
	{"lot", LABEL_REF},
	{"article", LABEL_REF},
	{"artikel", LABEL_REF},
	{"item", LABEL_REF},
	{"items", LABEL_REF},
	{"product", LABEL_REF},
	{"produkt", LABEL_REF},
	{"part", LABEL_REF},
	{NULL, LABEL_NONE},
};

/* Words between a label and its number: "Order no. 12", "IMEI number: 35". */
static const char *const fillers[] = {
	"no", "nr",   "num",       "number",    "nummer", "numéro", "numero", "número",
	"id", "code", "n\xc2\xb0", "n\xc2\xba", "ref",    "of",     NULL,
};

/* word_match - is the word w[0..n) (lower case) this one (or, longer, its prefix)? */
static int word_match(const char *w, size_t n, const char *word, int prefixes)
{
	size_t k = strlen(word);

	return k == n ? memcmp(w, word, n) == 0
		      : prefixes && k > 4 && k < n && memcmp(w, word, k) == 0;
}

/* word_is - is the word w[0..n) (lower case) one of the list? */
static int word_is(const char *w, size_t n, const char *const *list, int prefixes)
{
	for (size_t i = 0; list[i]; i++)
		if (word_match(w, n, list[i], prefixes))
			return 1;
	return 0;
}

/* label_kind - the kind of number the word w[0..n) names, or LABEL_NONE */
static int label_kind(const char *w, size_t n)
{
	for (size_t i = 0; labels[i].word; i++)
		if (word_match(w, n, labels[i].word, 1))
			return labels[i].kind;
	return LABEL_NONE;
}

/* word_back - the word that ends at or before p in the same cell: [ws, we) */
static int word_back(const char *d, size_t p, size_t stop, size_t *ws, size_t *we)
{
	while (p > stop && !(alnum(d[p - 1]) || (unsigned char) d[p - 1] >= 0x80)) {
		if (d[p - 1] == '\n' || d[p - 1] == '\r' || d[p - 1] == '\t' || d[p - 1] == ','
		    || d[p - 1] == ';' || d[p - 1] == '|')
			return 0; /* another line or another column */
		p--;
	}
	*we = p;
	while (p > stop && (alnum(d[p - 1]) || (unsigned char) d[p - 1] >= 0x80))
		p--;
	*ws = p;
	return *we > *ws;
}

/* lower_word - a word in lower case (ASCII), at most 31 bytes; its length */
static size_t lower_word(const char *d, size_t ws, size_t we, char *w)
{
	size_t n = we - ws < 31 ? we - ws : 31;

	for (size_t i = 0; i < n; i++)
		w[i] = (char) tolower((unsigned char) d[ws + i]);
	w[n] = 0;
	return n;
}

/* detector_ident_labelled - the kind of number the words before s name, or 0 */
int detector_ident_labelled(const char *d, size_t len, size_t s)
{
	size_t stop = s > 48 ? s - 48 : 0, p = s, ws, we;
	char w[32];
	int kind;

	(void) len;
	for (int words = 0; words < 3 && word_back(d, p, stop, &ws, &we); words++) {
		size_t n = lower_word(d, ws, we, w);

		if ((kind = label_kind(w, n)) != LABEL_NONE)
			return kind;
		if (!word_is(w, n, fillers, 0))
			return LABEL_NONE;
		p = ws;
	}
	return LABEL_NONE;
}

/* detector_label_in - the kind of number a label in [s, e) (a header cell) names, or 0 */
int detector_label_in(const char *d, size_t s, size_t e)
{
	size_t p = e, ws, we;
	char w[32];
	int kind;

	for (int words = 0; words < 16 && word_back(d, p, s, &ws, &we); words++) {
		if ((kind = label_kind(w, lower_word(d, ws, we, w))) != LABEL_NONE)
			return kind;
		p = ws;
	}
	return LABEL_NONE;
}

/* ---- can the number be what its label says? ----------------------------- */

/* num - the value of k digits */
static long num(const char *d, int k)
{
	long v = 0;

	for (int i = 0; i < k; i++)
		v = v * 10 + (d[i] - '0');
	return v;
}

/* gs1_ok - the GS1 check digit (EAN, UPC, GTIN, ISBN-13) of n digits */
static int gs1_ok(const char *d, size_t n)
{
	unsigned sum = 0;

	for (size_t i = 0; i + 1 < n; i++)
		sum += (unsigned) (d[n - 2 - i] - '0') * (i % 2 == 0 ? 3 : 1);
	return (10 - sum % 10) % 10 == (unsigned) (d[n - 1] - '0');
}

/* mod11_ok - the ISBN-10 and ISSN checks: weights n..1, sum mod 11 = 0 */
static int mod11_ok(const char *d, size_t n)
{
	unsigned sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (unsigned) (n - i) * (unsigned) (d[i] - '0');
	return sum % 11 == 0;
}

/* imei_body - a GSMA reporting body identifier (TS.06) starts an IMEI */
static int imei_body(const char *d)
{
	static const int rbi[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 30, 33,
				  35, 44, 45, 49, 50, 51, 52, 53, 54, 86, 91, 98, 99};
	long v = num(d, 2);

	for (size_t i = 0; i < sizeof(rbi) / sizeof(rbi[0]); i++)
		if (rbi[i] == v)
			return 1;
	return 0;
}

/* date_like - YYYYMMDD[hhmm[ss]] of 1900-2099 */
static int date_like(const char *d, size_t n)
{
	long y = num(d, 4), m = num(d + 4, 2), day = num(d + 6, 2);

	return (n == 8 || n == 12 || n == 14) && y >= 1900 && y <= 2099 && m >= 1 && m <= 12
		&& day >= 1 && day <= 31;
}

/* phone_like - written as a phone number can be? */
static int phone_like(const struct det_value *v)
{
	/* at most 15 digits (E.164), 17 after a 0 (a trunk or 00 prefix); a
	 * card number is none (no numbering plan in the card prefixes is that
	 * long), as after a '+' (detector_ident.c) */
	if (v->nd < 7 || v->nd > (v->digits[0] == '0' ? 17u : 15u) || !v->one_sep
	    || detector_card_ok(v->digits, v->nd))
		return 0;
	/* no numbering plan writes 3-2-4: that is a US SSN or ITIN */
	return !(v->ng == 3 && v->group[0] == 3 && v->group[1] == 2 && v->group[2] == 4);
}

/* qty_like - a quantity: up to 12 digits, thousands grouped by threes */
static int qty_like(const struct det_value *v)
{
	if (v->nd > 12 || (v->ng > 1 && (v->group[0] > 3 || !v->one_sep)))
		return 0;
	for (unsigned g = 1; g < v->ng; g++)
		if (v->group[g] != 3)
			return 0;
	return 1;
}

/* detector_label_admits - can the number be of the kind its label names? */
int detector_label_admits(int kind, const struct det_value *v, int weak)
{
	const char *d = v->digits;
	size_t n = v->nd;

	if (n == 0 || n >= DET_VALUE_DIGITS)
		return 0;
	/* whatever the label: a card number is a card */
	if (n == 16 && detector_card_ok(d, 16))
		return 0;
	switch (kind) {
	case LABEL_REF:
		return weak;
	case LABEL_DEVICE: /* IMEI, IMEISV */
		return (n == 15 && imei_body(d) && detector_luhn(d, 15))
			|| (n == 16 && imei_body(d));
	case LABEL_MEID: /* decimal MEID, or ESN */
		return n == 18 || n == 11;
	case LABEL_ICCID: /* 89, the telecom industry */
		return (n == 19 || n == 20) && d[0] == '8' && d[1] == '9';
	case LABEL_IMSI: /* a mobile country code first */
		return (n == 14 || n == 15) && d[0] >= '2' && d[0] <= '7';
	case LABEL_ISBN:
		return (n == 13 && (num(d, 3) == 978 || num(d, 3) == 979) && gs1_ok(d, 13))
			|| (n == 10 && mod11_ok(d, 10));
	case LABEL_ISSN:
		return n == 8 && mod11_ok(d, 8);
	case LABEL_GTIN:
		return (n == 8 || n == 12 || n == 13 || n == 14) && gs1_ok(d, n);
	case LABEL_PHONE:
		return phone_like(v);
	case LABEL_TIME: /* Unix time in s (9, 10 digits), ms, us, ns */
		return n == 9 || ((n == 10 || n == 13 || n == 16 || n == 19) && d[0] == '1')
			|| date_like(d, n);
	case LABEL_QTY:
		return qty_like(v);
	}
	return 0;
}

/* ---- tables: the header cell of a number's column ------------------------ */

#define TABLE_LINE_MAX    65536
#define TABLE_BUDGET(len) (8 * (len) + 16 * TABLE_LINE_MAX) /* bytes walked per unit */

/* line_bounds - the line around pos, [ls, le); 0 if longer than the limit */
static int line_bounds(const char *d, size_t len, size_t pos, size_t *ls, size_t *le)
{
	size_t lo = pos > TABLE_LINE_MAX ? pos - TABLE_LINE_MAX : 0;
	size_t n = len - pos < TABLE_LINE_MAX ? len - pos : TABLE_LINE_MAX;
	const char *nl;

	for (*ls = pos; *ls > lo && d[*ls - 1] != '\n'; (*ls)--)
		/* void */;
	if (*ls > 0 && d[*ls - 1] != '\n')
		return 0;
	nl = memchr(d + pos, '\n', n);
	if (nl == NULL && n < len - pos)
		return 0;
	*le = nl ? (size_t) (nl - d) : len;
	if (*le > *ls && d[*le - 1] == '\r')
		(*le)--;
	return 1;
}

/* count_delim - delimiters outside double quotes in [s, e); field of pos */
static unsigned count_delim(const char *d, size_t s, size_t e, char delim, size_t pos,
			    unsigned *field)
{
	unsigned n = 0;
	int quoted = 0;

	for (size_t i = s; i < e; i++) {
		if (i == pos && field)
			*field = n;
		if (d[i] == '"')
			quoted = !quoted;
		else if (d[i] == delim && !quoted)
			n++;
	}
	return n;
}

/* line_delim - the column delimiter of a line: tab, ';', ',' or '|'; 0 if none */
static char line_delim(const char *d, size_t s, size_t e)
{
	static const char order[] = "\t;,|";

	for (const char *o = order; *o; o++)
		if (memchr(d + s, *o, e - s) && count_delim(d, s, e, *o, e, NULL) > 0)
			return *o;
	return 0;
}

/* prev_line - the line before the one starting at ls: [ps, pe) */
static int prev_line(const char *d, size_t ls, size_t *ps, size_t *pe)
{
	if (ls == 0)
		return 0;
	*pe = ls - 1;
	if (*pe > 0 && d[*pe - 1] == '\r')
		(*pe)--;
	for (*ps = *pe; *ps > 0 && d[*ps - 1] != '\n' && *pe - *ps < TABLE_LINE_MAX; (*ps)--)
		/* void */;
	return *ps == 0 || d[*ps - 1] == '\n';
}

/* next_line - the line after the one starting at ls: [ns, ne); 0 at the end */
static int next_line(const char *d, size_t len, size_t ls, size_t *ns, size_t *ne)
{
	const char *nl = memchr(d + ls, '\n', len - ls);

	if (nl == NULL)
		return 0;
	*ns = (size_t) (nl - d) + 1;
	nl = memchr(d + *ns, '\n', len - *ns);
	*ne = nl ? (size_t) (nl - d) : len;
	if (*ne > *ns && d[*ne - 1] == '\r')
		(*ne)--;
	return 1;
}

/* detector_table_cell - the header cell of the column pos stands in */
int detector_table_cell(struct det_table *t, const char *d, size_t len, size_t pos, size_t *hs,
			size_t *he)
{
	size_t ls, le, ps, pe, cs;
	unsigned nf, col = 0, k = 0;
	char delim;
	int quoted = 0;

	if (t->unit != d || t->len != len) {
		memset(t, 0, sizeof(*t));
		t->unit = d;
		t->len = len;
	}
	if (t->walked > TABLE_BUDGET(len))
		return 0;
	if (!line_bounds(d, len, pos, &ls, &le) || (delim = line_delim(d, ls, le)) == 0)
		return 0;
	nf = count_delim(d, ls, le, delim, pos, &col) + 1;
	/* the rows between the cached table and this line must belong to it */
	if (t->nfields == nf && t->delim == delim && t->checked <= ls) {
		size_t p = t->checked, ns, ne;

		while (p < ls) {
			if (!next_line(d, len, p, &ns, &ne)
			    || (ns < ls && count_delim(d, ns, ne, delim, ne, NULL) + 1 != nf)) {
				t->nfields = 0;
				break;
			}
			t->walked += ns - p;
			p = ns;
		}
	} else
		t->nfields = 0;
	if (t->nfields == 0) {
		size_t b = ls;

		while (prev_line(d, b, &ps, &pe)
		       && count_delim(d, ps, pe, delim, pe, NULL) + 1 == nf) {
			t->walked += b - ps;
			if (t->walked > TABLE_BUDGET(len))
				return 0;
			b = ps;
		}
		t->block = b;
		t->nfields = nf;
		t->delim = delim;
	}
	t->checked = ls;
	if (t->block == ls)
		return 0; /* the header line itself */
	/* the cell: fields of the header line up to col */
	line_bounds(d, len, t->block, &ps, &pe);
	for (cs = ps; cs < pe && k < col; cs++) {
		if (d[cs] == '"')
			quoted = !quoted;
		else if (d[cs] == delim && !quoted)
			k++;
	}
	*hs = cs;
	for (*he = cs, quoted = 0; *he < pe; (*he)++) {
		if (d[*he] == '"')
			quoted = !quoted;
		else if (d[*he] == delim && !quoted)
			break;
	}
	return k == col && *he > *hs;
}
