/*
 * detector_context - what surrounds an identifier's value: labels and tables
 *
 * detector_ident_labelled() tells whether the words right before a number
 * (in the same line and column, past "no.", "number", "#", "ID") name
 * another kind of number: an IMEI, an ISBN, an order, tracking, invoice or
 * phone number, a timestamp, a quantity. detector_label_in() looks for
 * those words in a text such as a table's header cell.
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

/* Words that say a number is of another kind. Up to 4 bytes: the whole
 * word; longer: a prefix ("order" also covers "orders", "ordernummer"). */
static const char *const labels[] = {
	"imei", "imeisv", "meid", "iccid", "imsi", "isbn", "issn", "ean", "upc", "gtin",
	"sku", "asin", "order", "bestell", "auftrag", "commande", "pedido", "ordine",
	"tracking", "track", "sendung", "awb", "shipment", "parcel", "colis", "invoice",
	"rechnung", "facture", "factura", "fattura", "po", "tel", "tél", "telephone",
	"téléphone", "telefon", "telefono", "teléfono", "phone", "fax", "mobile", "mobil",
	"handy", "cell", "serial", "serien", "sn", "ticket", "case", "booking", "buchung",
	"reservation", "confirmation", "transaction", "txn", "timestamp", "epoch", "qty",
	"quantity", "menge", "version", "build", "batch", "lot", "article", "artikel",
	"item", "items", "product", "produkt", "part", NULL,
};

/* Words between a label and its number: "Order no. 12", "IMEI number: 35". */
static const char *const fillers[] = {
	"no", "nr", "num", "number", "nummer", "numéro", "numero", "número", "id", "code",
	"n\xc2\xb0", "n\xc2\xba", "ref", "of", NULL,
};

/* word_is - is the word w[0..n) (lower case) one of the list? */
static int word_is(const char *w, size_t n, const char *const *list, int prefixes)
{
	for (size_t i = 0; list[i]; i++) {
		size_t  k = strlen(list[i]);

		if (k == n ? memcmp(w, list[i], n) == 0
		    : prefixes && k > 4 && k < n && memcmp(w, list[i], k) == 0)
			return 1;
	}
	return 0;
}

/* word_back - the word that ends at or before p in the same cell: [ws, we) */
static int word_back(const char *d, size_t p, size_t stop, size_t *ws, size_t *we)
{
	while (p > stop && !(alnum(d[p - 1]) || (unsigned char) d[p - 1] >= 0x80)) {
		if (d[p - 1] == '\n' || d[p - 1] == '\r' || d[p - 1] == '\t' || d[p - 1] == ','
		    || d[p - 1] == ';' || d[p - 1] == '|')
			return 0;		/* another line or another column */
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
	size_t  n = we - ws < 31 ? we - ws : 31;

	for (size_t i = 0; i < n; i++)
		w[i] = (char) tolower((unsigned char) d[ws + i]);
	w[n] = 0;
	return n;
}

/* detector_ident_labelled - is the number at s labelled as another kind? */
int     detector_ident_labelled(const char *d, size_t len, size_t s)
{
	size_t  stop = s > 48 ? s - 48 : 0, p = s, ws, we;
	char    w[32];

	(void) len;
	for (int words = 0; words < 3 && word_back(d, p, stop, &ws, &we); words++) {
		size_t  n = lower_word(d, ws, we, w);

		if (word_is(w, n, labels, 1))
			return 1;
		if (!word_is(w, n, fillers, 0))
			return 0;
		p = ws;
	}
	return 0;
}

/* detector_label_in - does the text [s, e) (a header cell) hold a label? */
int     detector_label_in(const char *d, size_t s, size_t e)
{
	size_t  p = e, ws, we;
	char    w[32];

	for (int words = 0; words < 16 && word_back(d, p, s, &ws, &we); words++) {
		if (word_is(w, lower_word(d, ws, we, w), labels, 1))
			return 1;
		p = ws;
	}
	return 0;
}

/* ---- tables: the header cell of a number's column ------------------------ */

#define TABLE_LINE_MAX	65536
#define TABLE_BUDGET(len)	(8 * (len) + 16 * TABLE_LINE_MAX)	/* bytes walked per unit */

/* line_bounds - the line around pos, [ls, le); 0 if longer than the limit */
static int line_bounds(const char *d, size_t len, size_t pos, size_t *ls, size_t *le)
{
	size_t  lo = pos > TABLE_LINE_MAX ? pos - TABLE_LINE_MAX : 0;
	size_t  n = len - pos < TABLE_LINE_MAX ? len - pos : TABLE_LINE_MAX;
	const char *nl;

	for (*ls = pos; *ls > lo && d[*ls - 1] != '\n'; (*ls)--)
		 /* void */ ;
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
	int     quoted = 0;

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
		 /* void */ ;
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
int     detector_table_cell(struct det_table *t, const char *d, size_t len, size_t pos,
			    size_t *hs, size_t *he)
{
	size_t  ls, le, ps, pe, cs;
	unsigned nf, col = 0, k = 0;
	char    delim;
	int     quoted = 0;

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
		size_t  p = t->checked, ns, ne;

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
		size_t  b = ls;

		while (prev_line(d, b, &ps, &pe) && count_delim(d, ps, pe, delim, pe, NULL) + 1 == nf) {
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
		return 0;			/* the header line itself */
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
