/*
 * detector_office - the text of Office Open XML and OpenDocument parts
 *
 * detector_office_xml() turns one XML member of a docx, xlsx, pptx, odt,
 * ods or odp (or any other XML) into the text its reader shows:
 *
 *	character data		as is, entities decoded, CDATA kept; runs
 *				of one word split over elements (<w:r>,
 *				<text:span>...) stay one word
 *	paragraphs		a line break after each (w:p, a:p, text:p,
 *				text:h, si, w:br...)
 *	tables			a line per row (w:tr, a:tr, table-row, row),
 *				its cells (w:tc, a:tc, table-cell, c) in order
 *				separated by tabs, as a TSV export has them:
 *				a cell's paragraphs, breaks and tabs are spaces
 *				in it, a repeated cell (number-columns-repeated)
 *				is there as often as it shows, a merged one
 *				(gridSpan) leaves empty fields for the columns
 *				it spans, empty cells at a row's end and empty
 *				rows are left out, rows are padded to the
 *				table's width (detector_grid_finish), and a
 *				cell's value attribute (office:value) counts
 *				only when the cell shows no text; formulas
 *				follow the table on lines of their own
 *	tabs			a tab (w:tab, text:tab)
 *	other elements		a line break after one that held text, so
 *				two property values do not run together
 *	attribute values	those a reader sees or a program computes
 *				with: cell values (office:value, v of pivot
 *				caches), names of sheets and tables, alt text
 *				(descr, title), link targets (Target, href),
 *				formulas, validation prompts and messages
 *	comments		their text, on a line of their own
 *
 * Other attributes are layout (sizes, styles, revision ids) and are not
 * text. Malformed markup is read as far as it goes; nothing is read
 * outside the input, the output stops at the caller's limit, and the
 * element stack is bounded (deeper elements count as inline).
 */
#include <string.h>

#include <stdlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "buf.h"
#include "mem.h"
#include "detector.h"

#define OFFICE_STACK 128

enum office_act {
	OFF_INLINE, /* nothing: part of the running text */
	OFF_LINE,   /* a line break after the element */
	OFF_CELL,   /* a table cell */
	OFF_ROW,    /* a table row */
	OFF_TABLE,  /* a table */
	OFF_BREAK,  /* a line break where it stands (w:br) */
	OFF_TAB,    /* a tab where it stands (w:tab) */
	OFF_SPACE,  /* a space where it stands (text:s) */
	OFF_OTHER,  /* a line break after it if it held text */
};

#define E(n, a) \
	{ \
		n, sizeof(n) - 1, a \
	}
static const struct office_elem {
	const char *name; /* local name, without its prefix */
	size_t len;
	enum office_act act;
} office_elems[] = {
	E("t", OFF_INLINE),
	E("r", OFF_INLINE),
	E("span", OFF_INLINE),
	E("a", OFF_INLINE),
	E("delText", OFF_INLINE),
	E("instrText", OFF_INLINE),
	E("hyperlink", OFF_INLINE),
	E("ins", OFF_INLINE),
	E("del", OFF_INLINE),
	E("smartTag", OFF_INLINE),
	E("fldSimple", OFF_INLINE),
	E("sdtContent", OFF_INLINE),
	E("customXml", OFF_INLINE),
	E("v", OFF_INLINE),
	E("is", OFF_INLINE),
	E("rPr", OFF_INLINE),
	E("pPr", OFF_INLINE),
	E("bookmark", OFF_INLINE),
	E("p", OFF_LINE),
	E("h", OFF_LINE),
	E("si", OFF_LINE),
	E("row", OFF_ROW),
	E("tr", OFF_ROW),
	E("table-row", OFF_ROW),
	E("list-item", OFF_LINE),
	E("c", OFF_CELL),
	E("tc", OFF_CELL),
	E("table-cell", OFF_CELL),
	E("covered-table-cell", OFF_CELL),
	E("tbl", OFF_TABLE),
	E("table", OFF_TABLE),
	E("br", OFF_BREAK),
	E("cr", OFF_BREAK),
	E("line-break", OFF_BREAK),
	E("tab", OFF_TAB),
	E("s", OFF_SPACE),
};
#undef E

/* Attributes whose values are content, by local name. */
#define A(n) \
	{ \
		n, sizeof(n) - 1 \
	}
static const struct office_attr {
	const char *name;
	size_t len;
} office_attrs[] = {
	A("value"),       A("string-value"), A("date-value"), A("time-value"),
	A("v"),           A("descr"),        A("title"),      A("tooltip"),
	A("Target"),      A("href"),         A("formula"),    A("prompt"),
	A("promptTitle"), A("error"),        A("errorTitle"), A("author"),
};
#undef A

/* local_name - the part of a qualified name after its prefix */
static inline const char *local_name(const char *name, size_t len, size_t *llen)
{
	for (size_t i = 0; i < len; i++)
		if (name[i] == ':') {
			*llen = len - i - 1;
			return name + i + 1;
		}
	*llen = len;
	return name;
}

/* elem_act - what an element means for the text */
static enum office_act elem_act(const char *name, size_t len)
{
	size_t llen;
	const char *l = local_name(name, len, &llen);

	/* the one-letter names of spreadsheets and paragraphs first: most tags */
	if (llen == 1) {
		switch (l[0]) {
		case 't':
		case 'r':
		case 'a':
		case 'v':
			return OFF_INLINE;
		case 'p':
		case 'h':
			return OFF_LINE;
		case 'c':
			return OFF_CELL;
		case 's':
			return OFF_SPACE;
		default:
			return OFF_OTHER;
		}
	}
	if (llen == 0 || llen > 18)
		return OFF_OTHER;
	for (size_t i = 0; i < sizeof(office_elems) / sizeof(office_elems[0]); i++)
		if (office_elems[i].len == llen && office_elems[i].name[0] == l[0]
		    && memcmp(office_elems[i].name, l, llen) == 0)
			return office_elems[i].act;
	return OFF_OTHER;
}

/* attr_wanted - is an attribute of this element content? */
static int attr_wanted(const char *ename, size_t elen, const char *name, size_t len)
{
	size_t llen, el;
	const char *l = local_name(name, len, &llen), *e;

	if (llen == 1)
		return l[0] == 'v';
	if (llen == 0 || llen > 12)
		return 0;
	if (llen == 4 && memcmp(l, "name", 4) == 0) { /* names of sheets, tables, pages */
		e = local_name(ename, elen, &el);
		return (el == 5 && memcmp(e, "sheet", 5) == 0)
			|| (el == 5 && memcmp(e, "table", 5) == 0)
			|| (el == 4 && memcmp(e, "page", 4) == 0);
	}
	for (size_t i = 0; i < sizeof(office_attrs) / sizeof(office_attrs[0]); i++)
		if (office_attrs[i].len == llen && office_attrs[i].name[0] == l[0]
		    && memcmp(office_attrs[i].name, l, llen) == 0)
			return 1;
	return 0;
}

/* put_utf8 - a code point as UTF-8 (invalid ones as U+FFFD) */
static void put_utf8(struct buf *out, unsigned long cp)
{
	char u[4];

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		u[0] = (char) cp;
		buf_append(out, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char) (0xc0 | cp >> 6);
		u[1] = (char) (0x80 | (cp & 0x3f));
		buf_append(out, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char) (0xe0 | cp >> 12);
		u[1] = (char) (0x80 | (cp >> 6 & 0x3f));
		u[2] = (char) (0x80 | (cp & 0x3f));
		buf_append(out, u, 3);
	} else {
		u[0] = (char) (0xf0 | cp >> 18);
		u[1] = (char) (0x80 | (cp >> 12 & 0x3f));
		u[2] = (char) (0x80 | (cp >> 6 & 0x3f));
		u[3] = (char) (0x80 | (cp & 0x3f));
		buf_append(out, u, 4);
	}
}

/* xml_entity - decode the entity at p ('&'); its length, 0 if none */
static size_t xml_entity(const char *p, size_t len, struct buf *out)
{
	static const struct {
		const char *name;
		size_t len;
		char c;
	} named[] = {
		{"amp;", 4, '&'},  {"lt;", 3, '<'},    {"gt;", 3, '>'},
		{"quot;", 5, '"'}, {"apos;", 5, '\''},
	};
	unsigned long cp = 0;
	size_t n;

	if (len >= 3 && p[1] == '#') {
		int hex = p[2] == 'x' || p[2] == 'X';

		for (n = hex ? 3 : 2; n < len && n < 12; n++) {
			int c = (unsigned char) p[n], v;

			if (c >= '0' && c <= '9')
				v = c - '0';
			else if (hex && ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'))
				v = (c | 0x20) - 'a' + 10;
			else
				break;
			cp = cp * (hex ? 16 : 10) + (unsigned long) v;
		}
		if (n == (hex ? 3u : 2u))
			return 0;
		put_utf8(out, cp);
		return n < len && p[n] == ';' ? n + 1 : n;
	}
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (len > named[i].len && memcmp(p + 1, named[i].name, named[i].len) == 0) {
			buf_append(out, &named[i].c, 1);
			return named[i].len + 1;
		}
	return 0;
}

/* put_run - bytes onto the text: room was reserved for most of them */
static inline void put_run(struct buf *out, const char *p, size_t n)
{
	if (out->len + n + 1 > out->cap)
		buf_reserve(out, n + 1);
	memcpy(out->data + out->len, p, n);
	out->len += n;
}

/* put_text - character data, entities decoded */
static void put_text(struct buf *out, const char *p, size_t len)
{
	while (len > 0) {
		const char *amp = memchr(p, '&', len);
		size_t run = amp ? (size_t) (amp - p) : len, n;

		put_run(out, p, run);
		p += run;
		len -= run;
		if (len == 0)
			break;
		if ((n = xml_entity(p, len, out)) == 0) {
			put_run(out, p, 1);
			n = 1;
		}
		p += n;
		len -= n;
	}
}

/* detector_office_text - XML character data, entities decoded */
void detector_office_text(struct buf *out, const char *p, size_t len)
{
	buf_reserve(out, len + 1);
	put_text(out, p, len);
	out->data[out->len] = 0;
}

/* put_sep - a separator, unless the text ends in white space already */
static void put_sep(struct buf *out, char c)
{
	if (out->len > 0) {
		char last = out->data[out->len - 1];

		if (last == '\n' || (last == c && c != '\t'))
			return;
	}
	put_run(out, &c, 1);
}

/* skip_to - past the first occurrence of a terminator, or the end */
static size_t skip_to(const char *in, size_t len, size_t i, const char *term, size_t tlen,
		      struct buf *out)
{
	const char *end = memmem(in + i, len - i, term, tlen);
	size_t stop = end ? (size_t) (end - in) : len;

	if (out)
		put_text(out, in + i, stop - i);
	return end ? stop + tlen : len;
}

/* Classes of bytes in markup, looked up rather than compared. */
#define C_WS   1 /* XML white space */
#define C_NAME 2 /* ends a name: white space, '>', '/' */
#define C_ATTR 4 /* ends an attribute's name: those and '=' */
static const unsigned char office_cls[256] = {
	[' '] = C_WS | C_NAME | C_ATTR,
	['\t'] = C_WS | C_NAME | C_ATTR,
	['\n'] = C_WS | C_NAME | C_ATTR,
	['\r'] = C_WS | C_NAME | C_ATTR,
	['>'] = C_NAME | C_ATTR,
	['/'] = C_NAME | C_ATTR,
	['='] = C_ATTR,
};

/* is_ws - XML white space */
static inline int is_ws(char c)
{
	return office_cls[(unsigned char) c] & C_WS;
}

/* What the reader keeps between tags: open elements, the table it is in. */
struct office_st {
	size_t stack[OFFICE_STACK]; /* where each open element's text began */
	int depth;
	int cells;                        /* table cells open (nested tables: > 1) */
	int tables;                       /* tables open */
	size_t table_at, row_at, cell_at; /* where the outermost ones began */
	unsigned pending;                 /* tabs owed before the next cell's text */
	unsigned repeat, span;            /* of the outermost cell */
	const char *value;                /* its value attribute (office:value) */
	size_t vlen;
	struct buf rest; /* formulas, after the table */
	size_t limit;
};

#define OFFICE_REPEAT 1024 /* columns a repeated cell fills at most */

/* is_cell_value - an attribute of a cell that holds its value, not shown text */
static int is_cell_value(const char *l, size_t n)
{
	return (n == 5 && memcmp(l, "value", 5) == 0)
		|| (n == 10
		    && (memcmp(l, "date-value", 10) == 0 || memcmp(l, "time-value", 10) == 0))
		|| (n == 12 && memcmp(l, "string-value", 12) == 0)
		|| (n == 13 && memcmp(l, "boolean-value", 13) == 0);
}

/* small_number - a decimal attribute value, at most max */
static unsigned small_number(const char *p, size_t n, unsigned max)
{
	unsigned v = 0;

	for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++)
		if ((v = v * 10 + (unsigned) (p[i] - '0')) >= max)
			return max;
	return v;
}

/* cell_attr - an attribute of a table cell (or inside one); 1 if taken */
static int cell_attr(struct office_st *st, const char *ename, size_t elen, const char *an,
		     size_t alen, const char *v, size_t vlen)
{
	size_t ll, el;
	const char *l = local_name(an, alen, &ll), *e = local_name(ename, elen, &el);

	if (st->cells == 0) { /* the cell's own, before it opens */
		if (is_cell_value(l, ll)) {
			st->value = v;
			st->vlen = vlen;
			return 1;
		}
		if (ll == 23 && memcmp(l, "number-columns-repeated", 23) == 0) {
			st->repeat = small_number(v, vlen, OFFICE_REPEAT);
			return 1;
		}
		if (ll == 8 && memcmp(l, "gridSpan", 8) == 0) {
			st->span = small_number(v, vlen, OFFICE_REPEAT);
			return 1;
		}
		if (ll == 7 && memcmp(l, "formula", 7) == 0) {
			size_t from = st->rest.len;

			put_text(&st->rest, v, vlen);
			buf_putc(&st->rest, '\n');
			detector_formula_value(&st->rest, from);
			return 1;
		}
		return 0;
	}
	/* w:gridSpan w:val="2" in the cell's properties */
	if (st->cells == 1 && el == 8 && memcmp(e, "gridSpan", 8) == 0 && ll == 3
	    && memcmp(l, "val", 3) == 0) {
		st->span = small_number(v, vlen, OFFICE_REPEAT);
		return 1;
	}
	return 0;
}

/* cell_open - an outermost table cell begins */
static void cell_open(struct office_st *st, struct buf *out)
{
	st->cell_at = out->len;
}

/* cell_close - an outermost table cell ends: its text in its columns */
static void cell_close(struct office_st *st, struct buf *out)
{
	size_t at = st->cell_at, n;
	unsigned repeat = st->repeat ? st->repeat : 1, span = st->span > 1 ? st->span : 1;

	if (at > out->len)
		at = out->len;
	/* one line, one field: breaks and tabs in it are spaces */
	for (char *c = out->data + at; c < out->data + out->len; c++)
		if (*c == '\t' || *c == '\n' || *c == '\r')
			*c = ' ';
	while (out->len > at && out->data[out->len - 1] == ' ')
		out->len--;
	for (n = 0; at + n < out->len && out->data[at + n] == ' '; n++)
		/* void */;
	if (n > 0) {
		memmove(out->data + at, out->data + at + n, out->len - at - n);
		out->len -= n;
	}
	if (out->len == at && st->value && st->vlen > 0) {
		put_text(out, st->value, st->vlen); /* a value it does not show as text */
		for (char *c = out->data + at; c < out->data + out->len; c++)
			if (*c == '\t' || *c == '\n' || *c == '\r')
				*c = ' ';
	}
	n = out->len - at;
	if (n == 0) {
		st->pending += repeat * span;
	} else {
		/* the tabs owed go in front of it, then its repeats */
		buf_reserve(out, st->pending + (repeat - 1) * (n + 1) + 1);
		memmove(out->data + at + st->pending, out->data + at, n);
		memset(out->data + at, '\t', st->pending);
		out->len += st->pending;
		at += st->pending;
		for (unsigned r = 1; r < repeat && out->len + n + 1 < st->limit; r++) {
			out->data[out->len++] = '\t';
			memcpy(out->data + out->len, out->data + at, n);
			out->len += n;
		}
		st->pending = span;
	}
	out->data[out->len] = 0;
	st->value = NULL;
	st->repeat = st->span = 0;
}

/* row_close - an outermost table row ends: a line if it showed anything */
static void row_close(struct office_st *st, struct buf *out)
{
	if (out->len > st->row_at && out->data[out->len - 1] != '\n')
		put_run(out, "\n", 1);
	st->pending = 0;
}

/* table_close - the outermost table ends: one width, then its formulas */
static void table_close(struct office_st *st, struct buf *out)
{
	if (out->len > st->table_at && out->data[out->len - 1] != '\n')
		put_run(out, "\n", 1);
	detector_grid_finish(out, st->table_at, st->limit);
	if (st->rest.len > 0) {
		buf_append(out, st->rest.data, st->rest.len);
		buf_reset(&st->rest);
	}
}

/* table_act - what a table's element does to the text */
static inline void table_act(struct office_st *st, struct buf *out, enum office_act act,
			     int closing, int empty)
{
	switch (act) {
	case OFF_TABLE:
		if (st->cells > 0)
			break; /* a table in a cell: its text is the cell's */
		if (!closing && !empty && st->tables++ == 0) {
			if (out->len > 0)
				put_sep(out, '\n');
			st->table_at = out->len;
			st->pending = 0;
		} else if (closing && st->tables > 0 && --st->tables == 0)
			table_close(st, out);
		break;
	case OFF_ROW:
		if (st->cells > 0)
			put_sep(out, ' ');
		else if (!closing) {
			if (st->tables == 0 && out->len > 0)
				put_sep(out, '\n');
			st->row_at = out->len;
			st->pending = 0;
			if (empty)
				row_close(st, out);
		} else
			row_close(st, out);
		break;
	case OFF_CELL:
		if (!closing && (st->cells++ == 0))
			cell_open(st, out);
		if (closing || empty) {
			if (st->cells > 0 && --st->cells == 0)
				cell_close(st, out);
			else
				put_sep(out, ' ');
		}
		break;
	default:
		break;
	}
}

/* tag_apply - what a tag does to the text, its attributes aside */
static inline void tag_apply(struct office_st *st, struct buf *out, enum office_act act,
			     int closing, int empty)
{
	switch (act) {
	case OFF_BREAK:
		put_sep(out, '\n');
		break;
	case OFF_TAB:
		put_run(out, "\t", 1);
		break;
	case OFF_SPACE:
		put_run(out, " ", 1);
		break;
	case OFF_TABLE:
	case OFF_ROW:
	case OFF_CELL:
		table_act(st, out, act, closing, empty);
		break;
	default:
		if (!closing && !empty) {
			if (st->depth < OFFICE_STACK)
				st->stack[st->depth] = out->len;
			st->depth++;
		} else if (closing) {
			size_t start = 0;

			if (st->depth > 0 && --st->depth < OFFICE_STACK)
				start = st->stack[st->depth];
			if (act == OFF_LINE)
				put_sep(out, '\n');
			else if (act == OFF_OTHER && out->len > start)
				put_sep(out, '\n');
		}
		break;
	}
}

/*
 * short_tag - the paragraphs, runs and text elements of Word and
 * PowerPoint (<w:p>, </w:r>, <a:t>, <w:t xml:space="preserve">...), most
 * of the tags of a document, known by their bytes; the index past it, or
 * 0 for any other tag
 */
static inline size_t short_tag(const char *in, size_t len, size_t i, struct buf *out,
			       struct office_st *st)
{
	static const char preserve[] = "<w:t xml:space=\"preserve\">";
	const char *p = in + i;
	int closing;
	char e;

	if (len - i < 6)
		return 0;
	closing = p[1] == '/';
	p += closing;
	if ((p[1] != 'w' && p[1] != 'a') || p[2] != ':')
		return 0;
	e = p[3];
	if (e != 'p' && e != 'r' && e != 't')
		return 0;
	if (p[4] == '>') {
		tag_apply(st, out, e == 'p' ? OFF_LINE : OFF_INLINE, closing, 0);
		return i + 5 + (size_t) closing;
	}
	if (!closing && e == 't' && len - i >= sizeof(preserve) - 1
	    && memcmp(in + i, preserve, sizeof(preserve) - 1) == 0) {
		tag_apply(st, out, OFF_INLINE, 0, 0);
		return i + sizeof(preserve) - 1;
	}
	return 0;
}

/* tag - one start or end tag at in[i] ('<'); the index past it */
static size_t tag(const char *in, size_t len, size_t i, struct buf *out, struct office_st *st)
{
	int closing = i + 1 < len && in[i + 1] == '/';
	size_t j = i + 1 + (size_t) closing, name = j, nlen;
	int empty = 0;
	enum office_act act;

	while (j < len && !(office_cls[(unsigned char) in[j]] & C_NAME))
		j++;
	nlen = j - name;
	act = elem_act(in + name, nlen);
	/* attributes: name = "value" */
	while (j < len && in[j] != '>') {
		size_t an, alen;
		const char *q;
		char quote;

		if (in[j] == '/') {
			empty = 1;
			j++;
			continue;
		}
		if (is_ws(in[j])) {
			j++;
			continue;
		}
		empty = 0;
		an = j;
		while (j < len && !(office_cls[(unsigned char) in[j]] & C_ATTR))
			j++;
		alen = j - an;
		while (j < len && is_ws(in[j]))
			j++;
		if (j >= len || in[j] != '=')
			continue;
		for (j++; j < len && is_ws(in[j]); j++)
			/* void */;
		if (j >= len || (in[j] != '"' && in[j] != '\''))
			continue;
		quote = in[j++];
		q = memchr(in + j, quote, len - j);
		if (q == NULL)
			return len;
		if (!closing && q > in + j && (act == OFF_CELL || st->cells == 1)
		    && cell_attr(st, in + name, nlen, in + an, alen, in + j,
				 (size_t) (q - (in + j))))
			; /* the cell's, kept for its end */
		else if (!closing && q > in + j
			 && attr_wanted(in + name, nlen, in + an, alen)) {
			put_sep(out, ' ');
			put_text(out, in + j, (size_t) (q - (in + j)));
			put_sep(out, ' ');
		}
		j = (size_t) (q - in) + 1;
	}
	tag_apply(st, out, act, closing, empty);
	return j < len ? j + 1 : len;
}

/*
 * text_run - character data at in[i], up to the next '<', copied into out as
 * it is read (entities decoded, 16 bytes a step where there are 16); the
 * index of that '<' (or len). White space alone is layout: not kept.
 */
static size_t text_run(const char *in, size_t len, size_t i, struct buf *out)
{
	size_t j = i, from = out->len, n;

	for (;;) {
#ifdef __SSE2__
		while (len - j >= 16) {
			__m128i x = _mm_loadu_si128((const __m128i *) (in + j));
			unsigned m = (unsigned) _mm_movemask_epi8(
				_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('<')),
					     _mm_cmpeq_epi8(x, _mm_set1_epi8('&'))));

			if (out->len + 17 > out->cap)
				buf_reserve(out, 64);
			_mm_storeu_si128((__m128i *) (out->data + out->len), x);
			if (m == 0) {
				out->len += 16;
				j += 16;
				continue;
			}
			out->len += (size_t) __builtin_ctz(m);
			j += (size_t) __builtin_ctz(m);
			break;
		}
#endif
		while (j < len && in[j] != '<' && in[j] != '&') {
			if (out->len + 2 > out->cap)
				buf_reserve(out, 64);
			out->data[out->len++] = in[j++];
			if (len - j >= 16)
				break; /* back to the 16-byte steps */
		}
		if (j >= len || in[j] == '<')
			break;
		if (in[j] != '&')
			continue;
		if ((n = xml_entity(in + j, len - j, out)) == 0) {
			put_run(out, "&", 1);
			n = 1;
		}
		j += n;
	}
	/* white space alone between tags is layout */
	if (is_ws(in[i])) {
		size_t k = i;

		while (k < j && is_ws(in[k]))
			k++;
		if (k == j)
			out->len = from;
	}
	out->data[out->len] = 0;
	return j;
}

/* detector_office_xml - the text a reader sees in an XML part */
void detector_office_xml(const char *in, size_t len, struct buf *out, size_t limit)
{
	size_t i = 0;
	struct office_st *st = xcalloc(1, sizeof(*st));

	st->limit = limit;
	buf_init(&st->rest, 64);
	buf_reserve(out, (len < limit ? len : limit) / 2 + 16);
	out->data[out->len] = 0;
	while (i < len && out->len < limit) {
		if (in[i] != '<')
			i = text_run(in, len, i, out); /* character data */
		if (i >= len)
			break;
		if (len - i >= 4 && memcmp(in + i, "<!--", 4) == 0) {
			put_sep(out, '\n');
			i = skip_to(in, len, i + 4, "-->", 3, out);
			put_sep(out, '\n');
		} else if (len - i >= 9 && memcmp(in + i, "<![CDATA[", 9) == 0) {
			i = skip_to(in, len, i + 9, "]]>", 3, out);
		} else if (len - i >= 2 && in[i + 1] == '?') {
			i = skip_to(in, len, i + 2, "?>", 2, NULL);
		} else if (len - i >= 2 && in[i + 1] == '!') {
			i = skip_to(in, len, i + 2, ">", 1, NULL);
		} else {
			size_t k = short_tag(in, len, i, out, st);

			i = k ? k : tag(in, len, i, out, st);
		}
	}
	/* cut short: what was open still counts */
	if (st->cells > 0)
		cell_close(st, out);
	if (st->tables > 0)
		table_close(st, out);
	else if (st->rest.len > 0)
		buf_append(out, st->rest.data, st->rest.len);
	if (out->len > limit)
		out->len = limit;
	out->data[out->len] = 0;
	buf_free(&st->rest);
	free(st);
}
