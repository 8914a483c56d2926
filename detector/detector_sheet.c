/*
 * detector_sheet - spreadsheets as their users see them: rows of cells
 *
 * A spreadsheet's text is a table: a line per row, the row's cells in
 * column order separated by tabs, as a TSV export has them, so that a
 * column's header gives context to every value under it and the cells
 * of one row stand together (detector_context.c, Exact Data Matching).
 *
 * detector_sst_load() reads the shared strings of an xlsx workbook
 * (xl/sharedStrings.xml) into a table: the text of each <si> (its runs
 * joined, a phonetic reading after a space), entities decoded, tabs and
 * line breaks as spaces. It stops at DET_SST_MAX strings and returns how
 * far it read: the caller scans the rest as text.
 *
 * detector_xlsx_sheet() turns a worksheet part into text: the markup
 * before and after <sheetData> through detector_office_xml() (headers
 * and footers, hyperlinks, validation prompts), and the grid, a cell's
 * text being
 *
 *	t="s"			the shared string its index names (nothing
 *				when there is none: an index is not text)
 *	t="inlineStr"		the text of its <is>
 *	t="b"			TRUE or FALSE
 *	t="str", "e", "d"	its value as written
 *	a number		as a person reads it: 378282246310005, 0.25,
 *				1.5E+20 (15 significant digits, as Excel)
 *
 * in the column its reference (r="C7") names, with empty fields for the
 * cells a row skips. Rows without text are left out. Formulas, and any
 * text out of place in the grid, follow the grid on lines of their own.
 * Cells whose shared string was shown are marked; detector_sst_unused()
 * gives the strings no cell showed, which are content too.
 *
 * detector_formula_value() computes what a spreadsheet shows for a
 * formula made only of constants joined together ("card "&"4111"&" 1111",
 * CONCATENATE("41","11"), of:="41"&11 in OpenDocument), the way Excel and
 * LibreOffice do when they open the file, and puts it on a line after
 * the formula's own: the cached value a file carries may be missing or
 * false, and the application computes the formula again. In a worksheet,
 * a formula that joins cells of the sheet as well (A1&" 1111", up to
 * SHEET_FORMULAS of them reading DET_FORMULA_CELLS cells) is computed
 * after the grid, from one more pass that finds the cells it reads
 * (detector_cells_*, which the .xls reader shares).
 *
 * detector_grid_finish() makes the lines of a grid one table: from its
 * first row of two fields or more (rows before are a title), every row is
 * padded with empty fields to the widest (within a budget of as many
 * bytes as the grid has), and a field holding a double quote is quoted
 * as RFC 4180 does, so that counting fields finds the columns.
 *
 * Nothing is read outside the input; the output stops near the caller's
 * limit (a cell at most past it) and the caller is told.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "buf.h"
#include "mem.h"
#include "detector.h"

#define SHEET_MAX_COL 16384             /* XFD, the last column of Excel */
#define SHEET_NUM_MAX 64                /* longer "numbers" are text */
#define SST_USED      0x80000000u       /* in off[i]: string i was shown */
#define SHEET_HUGE    (2 * 1024 * 1024) /* a huge page */

/* A tag as the grid reader sees it. */
struct sheet_tag {
	int closing;      /* </name> */
	int empty;        /* <name/> */
	const char *name; /* local name, prefix left out */
	size_t nlen;
	const char *attr; /* attributes: from here to end */
	const char *end;  /* the '>' (or the input's end) */
};

/* is_ws - XML white space */
static inline int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* find_lt - the first '<' in [p, end), or end: 16 bytes a step, for short values */
static inline const char *find_lt(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i lt = _mm_set1_epi8('<');

	for (; end - p >= 16; p += 16) {
		unsigned m = (unsigned) _mm_movemask_epi8(
			_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *) p), lt));

		if (m)
			return p + __builtin_ctz(m);
	}
#endif
	while (p < end && *p != '<')
		p++;
	return p;
}

/* read_tag - the tag at p ('<'); 0 at a comment, PI or the input's end */
static int read_tag(const char *p, const char *end, struct sheet_tag *t)
{
	const char *n, *gt;

	if (end - p < 2 || p[1] == '!' || p[1] == '?')
		return 0;
	t->closing = p[1] == '/';
	n = p + 1 + t->closing;
	t->name = n;
	while (n < end && !is_ws(*n) && *n != '>' && *n != '/') {
		if (*n == ':')
			t->name = n + 1;
		n++;
	}
	t->nlen = (size_t) (n - t->name);
	t->attr = n;
	if (n < end && *n == '>')
		gt = n;
	else if ((gt = memchr(n, '>', (size_t) (end - n))) == NULL)
		gt = end;
	t->end = gt;
	t->empty = gt < end && gt > n && gt[-1] == '/';
	return 1;
}

/* is_name - is the tag's local name this one? */
static inline int is_name(const struct sheet_tag *t, const char *name, size_t len)
{
	return t->nlen == len && memcmp(t->name, name, len) == 0;
}

/* after - past a tag, or a comment or PI at p */
static const char *after(const char *p, const char *end, const struct sheet_tag *t, int ok)
{
	const char *q;

	if (ok)
		return t->end < end ? t->end + 1 : end;
	if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
		q = memmem(p + 4, (size_t) (end - p - 4), "-->", 3);
		return q ? q + 3 : end;
	}
	q = memchr(p + 1, '>', (size_t) (end - p - 1));
	return q ? q + 1 : end;
}

/* blank_breaks - tabs and line breaks in a cell's text become spaces */
static void blank_breaks(char *p, size_t n)
{
	static const char breaks[] = "\t\n\r";

	if (n < 64) {
		for (size_t i = 0; i < n; i++)
			if (p[i] == '\t' || p[i] == '\n' || p[i] == '\r')
				p[i] = ' ';
		return;
	}
	for (const char *b = breaks; *b; b++)
		for (char *c = p; (c = memchr(c, *b, (size_t) (p + n - c))) != NULL; c++)
			*c = ' ';
}

/* put_cell_text - character data of a cell: entities decoded, tabs and breaks as spaces */
static void put_cell_text(struct buf *out, const char *p, size_t len)
{
	size_t from = out->len;

	detector_office_text(out, p, len);
	blank_breaks(out->data + from, out->len - from);
}

/* ---- shared strings ---------------------------------------------------- */

/* detector_sst_free - release a string table */
void detector_sst_free(struct det_sst *s)
{
	buf_free(&s->text);
	free(s->off);
	memset(s, 0, sizeof(*s));
}

/* sst_push - the string being read is complete */
static void sst_push(struct det_sst *s, size_t *cap)
{
	if (s->n + 2 > *cap) {
		*cap *= 2;
		s->off = xrealloc(s->off, *cap * sizeof(*s->off));
	}
	s->off[++s->n] = (uint32_t) s->text.len;
}

/* huge_pages - a large table on huge pages: fewer TLB misses on random reads */
static void huge_pages(void *p, size_t n)
{
	uintptr_t from = ((uintptr_t) p + SHEET_HUGE - 1) & ~(uintptr_t) (SHEET_HUGE - 1);
	uintptr_t to = ((uintptr_t) p + n) & ~(uintptr_t) (SHEET_HUGE - 1);

	if (to > from)
		(void) madvise((void *) from, to - from, MADV_HUGEPAGE);
}

/* plain_t - past <t> or <t xml:space="preserve"> at p, or NULL */
static const char *plain_t(const char *p, const char *end)
{
	static const char pre[] = "<t xml:space=\"preserve\">";

	if (end - p >= 3 && memcmp(p, "<t>", 3) == 0)
		return p + 3;
	if (end - p >= (long) sizeof(pre) - 1 && memcmp(p, pre, sizeof(pre) - 1) == 0)
		return p + sizeof(pre) - 1;
	return NULL;
}

/* detector_sst_load - the strings of a sharedStrings part; the bytes read */
size_t detector_sst_load(struct det_sst *s, const char *in, size_t len)
{
	const char *p = in, *end, *lt;
	size_t cap = len / 16 + 1024; /* <si><t>x</t></si>: 17 bytes */
	int in_si = 0, in_t = 0;
	struct sheet_tag t;

	if (len >= SST_USED) /* offsets are 31 bits: the rest is text */
		len = SST_USED - 1;
	end = in + len;
	memset(s, 0, sizeof(*s));
	buf_init(&s->text, len / 2 + 16);
	s->off = xmalloc(cap * sizeof(*s->off));
	huge_pages(s->text.data, s->text.cap);
	huge_pages(s->off, cap * sizeof(*s->off));
	s->off[0] = 0;
	while (p < end) {
		if (*p != '<') {
			if ((lt = memchr(p, '<', (size_t) (end - p))) == NULL)
				lt = end;
			if (in_t)
				detector_office_text(&s->text, p, (size_t) (lt - p));
			p = lt;
			continue;
		}
		if (in_si && !in_t && (lt = plain_t(p, end)) != NULL) {
			/* <t>text</t></si>, as nearly every string is */
			const char *q = memchr(lt, '<', (size_t) (end - lt));

			if (q && end - q >= 9 && memcmp(q, "</t></si>", 9) == 0) {
				detector_office_text(&s->text, lt, (size_t) (q - lt));
				sst_push(s, &cap);
				in_si = 0;
				p = q + 9;
				continue;
			}
		}
		if (!read_tag(p, end, &t)) {
			if (end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
				const char *q = memmem(p + 9, (size_t) (end - p - 9), "]]>", 3);

				if (in_t)
					buf_append(&s->text, p + 9,
						   (size_t) ((q ? q : end) - p - 9));
				p = q ? q + 3 : end;
			} else
				p = after(p, end, &t, 0);
			continue;
		}
		if (is_name(&t, "t", 1))
			in_t = in_si && !t.closing && !t.empty;
		else if (is_name(&t, "si", 2)) {
			if (!t.closing && s->n >= DET_SST_MAX)
				break; /* the rest is the caller's */
			if ((t.closing && in_si) || (!t.closing && t.empty))
				sst_push(s, &cap);
			in_si = !t.closing && !t.empty;
			in_t = 0;
		} else if (is_name(&t, "rPh", 3) && !t.closing && in_si
			   && s->text.len > s->off[s->n])
			buf_putc(&s->text, ' ');
		p = after(p, end, &t, 1);
	}
	if (in_si) /* cut short: what it had */
		sst_push(s, &cap);
	blank_breaks(s->text.data, s->text.len);
	s->quotes = memchr(s->text.data, '"', s->text.len) != NULL;
	return p < end ? (size_t) (p - in) : len;
}

/* detector_sst_unused - the strings no cell showed, a line each */
void detector_sst_unused(const struct det_sst *s, struct buf *out)
{
	for (size_t i = 0; i < s->n; i++)
		if (!(s->off[i] & SST_USED) && (s->off[i + 1] & ~SST_USED) > s->off[i]) {
			buf_append(out, s->text.data + s->off[i],
				   (s->off[i + 1] & ~SST_USED) - s->off[i]);
			buf_putc(out, '\n');
		}
}

/* ---- the grid of a worksheet ------------------------------------------- */

/*
 * A shared string is a random read in a large table: the cells of a row
 * wait in a queue while their strings are fetched, so that the reads of
 * many cells overlap instead of following one another.
 */
#define SHEET_QUEUE    32         /* cells in flight */
#define SHEET_FORMULAS 64         /* formulas joining cells computed per sheet */
#define SHEET_CELL_MAX 65536      /* the most of one cell they read */
#define SHEET_AHEAD    16         /* where the string's text is fetched */
#define SHEET_NEXT     UINT32_MAX /* no reference: the next column */

enum sheet_kind {
	CELL_ROW, /* the end of a row */
	CELL_NUM, /* a number (or a cell without a type) */
	CELL_SST, /* a shared string */
	CELL_BOOL,
	CELL_TEXT, /* str, e, d and others: as written */
};

struct sheet_cell {
	enum sheet_kind kind;
	uint32_t col;
	const char *v; /* its <v> as written, or NULL */
	size_t vlen;
	size_t idx; /* CELL_SST: the string */
};

/* What the reader knows of the row, the cell it reads, and the queue. */
struct sheet_rd {
	struct buf *out;
	struct buf *rest; /* formulas, stray text: after the grid */
	struct det_sst *sst;
	unsigned fields;       /* fields of the row written so far */
	uint32_t next;         /* the column after the last cell */
	struct sheet_cell cur; /* the cell being read */
	struct buf is;         /* its <is> text */
	int has_is;
	struct sheet_cell q[SHEET_QUEUE];
	unsigned head, n;
	size_t pad; /* empty fields put in so far */
	size_t pad_max;
	/* the table: from its first row of two fields or more, rows padded to
	 * the widest so far; those before the widest one are squared up last */
	int table;        /* past the title rows */
	size_t start;     /* where the table begins in out */
	size_t row_at;    /* where this row begins */
	unsigned width;   /* the widest row */
	size_t narrow_to; /* rows before here may be narrower */
	/* formulas that join cells and constants, computed after the grid */
	size_t fpend[SHEET_FORMULAS][2]; /* each one's text in rest: from, to */
	unsigned nfpend;
	struct det_cells cells; /* the cells they read */
};

/* cell_attrs - r and t of a <c> */
static void cell_attrs(struct sheet_rd *rd, const struct sheet_tag *t)
{
	const char *a = t->attr, *end = t->end;

	rd->cur.col = SHEET_NEXT;
	rd->cur.kind = CELL_NUM;
	rd->cur.v = NULL;
	rd->has_is = 0;
	while (a < end) {
		const char *n, *q, *v;
		size_t nl;

		while (a < end && (is_ws(*a) || *a == '/'))
			a++;
		n = a;
		while (a < end && *a != '=' && !is_ws(*a))
			a++;
		nl = (size_t) (a - n);
		while (a < end && (is_ws(*a) || *a == '='))
			a++;
		if (a >= end || (*a != '"' && *a != '\''))
			break;
		v = a + 1;
		if ((q = memchr(v, *a, (size_t) (end - v))) == NULL)
			break;
		a = q + 1;
		if (nl == 1 && n[0] == 'r') {
			uint32_t c = 0;

			for (const char *k = v; k < q && *k >= 'A' && *k <= 'Z'; k++)
				c = c < SHEET_MAX_COL ? c * 26 + (uint32_t) (*k - 'A' + 1) : c;
			if (c > 0)
				rd->cur.col = c > SHEET_MAX_COL ? SHEET_MAX_COL - 1 : c - 1;
		} else if (nl == 1 && n[0] == 't') {
			size_t k = (size_t) (q - v);

			rd->cur.kind = k == 1 && v[0] == 's' ? CELL_SST
				: k == 1 && v[0] == 'b'      ? CELL_BOOL
				: k == 1 && v[0] == 'n'      ? CELL_NUM
							     : CELL_TEXT;
		}
	}
}

/* put_number - a number as a person reads it; anything else as written (1) */
static int put_number(struct buf *out, const char *v, size_t n)
{
	char tmp[SHEET_NUM_MAX + 1], *e;
	size_t k = 0;
	double d;

	if (n > 0 && v[0] == '-')
		k = 1;
	while (k < n && v[k] >= '0' && v[k] <= '9')
		k++;
	if (n == 0)
		return 0;
	if (k == n && n > (v[0] == '-' ? 1u : 0u) && n <= 16) {
		buf_append(out, v, n); /* an integer, as most are */
		return 0;
	}
	if (n > SHEET_NUM_MAX) {
		put_cell_text(out, v, n);
		return 1;
	}
	memcpy(tmp, v, n);
	tmp[n] = 0;
	d = strtod(tmp, &e);
	if (e == tmp || *e || !isfinite(d)) {
		put_cell_text(out, v, n);
		return 1;
	}
	if (d == floor(d) && fabs(d) < 1e17)
		buf_printf(out, "%.0f", d);
	else
		buf_printf(out, "%.15G", d);
	return 0;
}

/* sst_index - the string a shared-string cell names; SIZE_MAX if none */
static size_t sst_index(const struct det_sst *sst, const char *v, size_t n)
{
	size_t i = 0, k;

	for (k = 0; k < n && k < 12 && v[k] >= '0' && v[k] <= '9'; k++)
		i = i * 10 + (size_t) (v[k] - '0');
	return k == 0 || sst == NULL || i >= sst->n ? SIZE_MAX : i;
}

/* cell_text - the text a cell shows, appended; 1 if it may hold a quote */
static int cell_text(struct sheet_rd *rd, const struct sheet_cell *c)
{
	struct buf *out = rd->out;

	if (c->v == NULL)
		return 0;
	switch (c->kind) {
	case CELL_SST:
		if (c->idx != SIZE_MAX) {
			uint32_t *off = rd->sst->off;
			uint32_t from = off[c->idx] & ~SST_USED,
				 to = off[c->idx + 1] & ~SST_USED;

			buf_append(out, rd->sst->text.data + from, to - from);
			off[c->idx] |= SST_USED;
		}
		return rd->sst && rd->sst->quotes; /* an index is not text */
	case CELL_BOOL:
		if (c->vlen == 1 && (c->v[0] == '0' || c->v[0] == '1')) {
			buf_puts(out, c->v[0] == '1' ? "TRUE" : "FALSE");
			return 0;
		}
		put_cell_text(out, c->v, c->vlen);
		return 1;
	case CELL_NUM:
		return put_number(out, c->v, c->vlen);
	default:
		put_cell_text(out, c->v, c->vlen);
		return 1;
	}
}

/* quote_field - a field holding a double quote, quoted as RFC 4180 does */
static void quote_field(struct buf *out, size_t from)
{
	size_t q = 0, n = out->len - from;
	char *f;

	for (size_t i = from; i < out->len; i++)
		q += out->data[i] == '"';
	if (q == 0)
		return;
	buf_reserve(out, q + 2);
	f = out->data + from;
	/* from the end backwards, so nothing is read after it was written */
	f[n + q + 1] = '"';
	for (size_t i = n, j = n + q; i-- > 0;) {
		f[j--] = f[i];
		if (f[i] == '"')
			f[j--] = '"';
	}
	f[0] = '"';
	out->len += q + 2;
}

/* row_end - pad the row to the table's width so far, end its line */
static void row_end(struct sheet_rd *rd)
{
	struct buf *out = rd->out;

	if (rd->fields == 0)
		return;
	if (!rd->table && rd->fields < 2) {
		rd->start = out->len + 1; /* a title: not the table */
	} else {
		if (!rd->table) {
			rd->table = 1;
			rd->start = rd->row_at;
		}
		if (rd->fields > rd->width) {
			rd->width = rd->fields;
			rd->narrow_to = rd->row_at;
		} else if (rd->fields < rd->width
			   && rd->pad + rd->width - rd->fields <= rd->pad_max) {
			size_t k = rd->width - rd->fields;

			buf_reserve(out, k + 1);
			memset(out->data + out->len, '\t', k);
			out->len += k;
			rd->pad += k;
		}
	}
	buf_putc(out, '\n');
	rd->fields = 0;
}

/* emit - a cell's text in its column, or the end of a row */
static void emit(struct sheet_rd *rd, const struct sheet_cell *c)
{
	struct buf *out = rd->out;
	size_t at = out->len;
	uint32_t col = c->col;
	unsigned gap;
	int check;

	if (c->kind == CELL_ROW) {
		row_end(rd);
		rd->next = 0;
		return;
	}
	if (col == SHEET_NEXT)
		col = rd->next < SHEET_MAX_COL ? rd->next : SHEET_MAX_COL - 1;
	if (col < rd->fields)
		col = rd->fields; /* out of order: the next one */
	rd->next = col + 1;
	/* the separator and empty fields first, taken back if it shows nothing */
	gap = col - rd->fields + (rd->fields > 0);
	if (gap > 1 && rd->pad + gap > rd->pad_max)
		gap = 1; /* over the budget: gaps close up */
	if (gap > 0) {
		buf_reserve(out, gap);
		memset(out->data + out->len, '\t', gap);
		out->len += gap;
	}
	if (rd->has_is && c == &rd->cur) {
		buf_append(out, rd->is.data, rd->is.len);
		check = 1;
	} else
		check = cell_text(rd, c);
	if (out->len == at + gap) {
		out->len = at;
	} else {
		if (check)
			quote_field(out, at + gap);
		if (rd->fields == 0)
			rd->row_at = at;
		rd->pad += gap;
		rd->fields = col + 1;
	}
	out->data[out->len] = 0;
}

/* drain - the queue written out */
static void drain(struct sheet_rd *rd)
{
	for (; rd->n > 0; rd->n--) {
		emit(rd, &rd->q[rd->head]);
		rd->head = (rd->head + 1) % SHEET_QUEUE;
	}
}

/* enqueue_cell - a cell (or a row's end) into the queue, its string fetched ahead */
static void enqueue_cell(struct sheet_rd *rd, enum sheet_kind kind, uint32_t col, const char *v,
			 size_t vlen)
{
	struct sheet_cell *slot, *mid;

	if (rd->n == SHEET_QUEUE) {
		emit(rd, &rd->q[rd->head]);
		rd->head = (rd->head + 1) % SHEET_QUEUE;
		rd->n--;
	}
	slot = &rd->q[(rd->head + rd->n++) % SHEET_QUEUE];
	slot->kind = kind;
	slot->col = col;
	slot->v = v;
	slot->vlen = vlen;
	slot->idx = SIZE_MAX;
	if (kind == CELL_SST && v) {
		slot->idx = sst_index(rd->sst, v, vlen);
		if (slot->idx != SIZE_MAX)
			__builtin_prefetch(rd->sst->off + slot->idx, 1);
	}
	/* the one half-way through: its offset is in, fetch its text */
	if (rd->n > SHEET_AHEAD) {
		mid = &rd->q[(rd->head + rd->n - 1 - SHEET_AHEAD) % SHEET_QUEUE];
		if (mid->kind == CELL_SST && mid->idx != SIZE_MAX)
			__builtin_prefetch(rd->sst->text.data
					   + (rd->sst->off[mid->idx] & ~SST_USED));
	}
}

/* enqueue - a cell (or a row's end) into the queue */
static void enqueue(struct sheet_rd *rd, const struct sheet_cell *c)
{
	enqueue_cell(rd, c->kind, c->col, c->v, c->vlen);
}

/* cell_done - the cell being read is complete */
static void cell_done(struct sheet_rd *rd)
{
	if (rd->has_is) { /* its text is in rd->is: now */
		drain(rd);
		emit(rd, &rd->cur);
		rd->has_is = 0;
	} else if (rd->cur.v)
		enqueue(rd, &rd->cur);
}

/* inline_string - the text of <is>...</is> into rd->is; past it */
static const char *inline_string(struct sheet_rd *rd, const char *p, const char *end)
{
	struct sheet_tag t;
	int in_t = 0;

	buf_reset(&rd->is);
	rd->has_is = 1;
	rd->cur.v = "";
	while (p < end) {
		const char *lt = *p == '<' ? p : memchr(p, '<', (size_t) (end - p));

		if (lt == NULL)
			lt = end;
		if (lt > p && in_t)
			put_cell_text(&rd->is, p, (size_t) (lt - p));
		p = lt;
		if (p >= end)
			break;
		if (!read_tag(p, end, &t)) {
			p = after(p, end, &t, 0);
			continue;
		}
		p = after(p, end, &t, 1);
		if (is_name(&t, "is", 2) && t.closing)
			break;
		if (is_name(&t, "t", 1))
			in_t = !t.closing && !t.empty;
		else if (is_name(&t, "rPh", 3) && !t.closing && rd->is.len > 0)
			buf_putc(&rd->is, ' ');
	}
	return p;
}

/* text_to - character data up to the next '<', decoded, into b */
static const char *text_to(const char *p, const char *end, struct buf *b)
{
	const char *lt = memchr(p, '<', (size_t) (end - p));

	if (lt == NULL)
		lt = end;
	for (const char *k = p; k < lt; k++)
		if (!is_ws(*k)) {
			put_cell_text(b, p, (size_t) (lt - p));
			buf_putc(b, '\n');
			break;
		}
	return lt;
}

/* formula_func - a joining function's name at p: its length, or 0 */
static size_t formula_func(const char *p, const char *end)
{
	static const char *const fn[] = {"_xlfn.CONCAT(", "CONCATENATE(", "CONCAT("};

	for (size_t i = 0; i < sizeof(fn) / sizeof(fn[0]); i++) {
		size_t n = strlen(fn[i]);

		if ((size_t) (end - p) >= n && strncasecmp(p, fn[i], n) == 0)
			return n - 1; /* the parenthesis is read as one */
	}
	return 0;
}

/* ref_parse - an A1 reference at p ($ before either part allowed): its
 * length, and its key (row << 16 | column); 0 if there is none */
static size_t ref_parse(const char *p, const char *end, uint64_t *key)
{
	const char *q = p;
	uint32_t col = 0, row = 0;
	int nc = 0, nr = 0;

	if (q < end && *q == '$')
		q++;
	for (; q < end && ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z')) && nc < 4;
	     q++, nc++)
		col = col * 26 + (uint32_t) ((*q | 0x20) - 'a' + 1);
	if (q < end && *q == '$')
		q++;
	for (; q < end && *q >= '0' && *q <= '9' && nr < 8; q++, nr++)
		row = row * 10 + (uint32_t) (*q - '0');
	if (nc == 0 || nc > 3 || col > SHEET_MAX_COL || nr == 0 || nr > 7 || row == 0)
		return 0;
	/* a name, a function, another sheet's cell or a range is no cell here */
	if (q < end
	    && ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9')
		|| *q == '(' || *q == '!' || *q == ':' || *q == '_' || *q == '.'))
		return 0;
	*key = (uint64_t) row << 16 | col;
	return (size_t) (q - p);
}

/*
 * formula_join - a formula that joins constants (and, with ref, cells)
 * into v: the number of joins, or -1 for any other formula
 */
static int formula_join(const char *p, const char *end, struct buf *v, det_cell_fn ref,
			void *ctx)
{
	size_t n;
	uint64_t key;
	int joins = 0;

	while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if ((size_t) (end - p) >= 3 && memcmp(p, "of:", 3) == 0)
		p += 3;
	if (p < end && *p == '=')
		p++;
	while (p < end) {
		if (*p == '"') {
			/* a string constant; "" is a quote in it */
			for (p++;; p++) {
				if (p >= end)
					return -1; /* unterminated: not a formula */
				if (*p == '"' && (p + 1 >= end || p[1] != '"'))
					break;
				if (*p == '"')
					p++;
				buf_putc(v, *p);
			}
			p++;
		} else if ((*p >= '0' && *p <= '9') || *p == '.') {
			while (p < end && ((*p >= '0' && *p <= '9') || *p == '.'))
				buf_putc(v, *p++);
		} else if (*p == '&') {
			joins++;
			p++;
		} else if (*p == '(' || *p == ')' || *p == ',' || *p == ';' || *p == ' ') {
			p++;
		} else if ((n = formula_func(p, end)) > 0) {
			joins++;
			p += n;
		} else if (ref && (n = ref_parse(p, end, &key)) > 0) {
			ref(ctx, key, v);
			p += n;
		} else {
			return -1; /* an operator, another function, a name */
		}
	}
	return joins;
}

/*
 * detector_formula_line - a formula reader wrote from mark on in out and
 * returned joins: a value ends its line (1); anything else is taken back
 */
int detector_formula_line(struct buf *out, size_t mark, int joins)
{
	if (joins > 0 && out->len > mark) {
		buf_putc(out, '\n');
		return 1;
	}
	out->len = mark;
	return 0;
}

/*
 * detector_formula_value - b->data[from..] holds a formula's text (its
 * line break after it): when the formula only joins constants, its
 * value follows on a line of its own
 */
void detector_formula_value(struct buf *b, size_t from)
{
	struct buf v;

	buf_init(&v, b->len - from + 1);
	if (formula_join(b->data + from, b->data + b->len, &v, NULL, NULL) > 0 && v.len > 0) {
		buf_append(b, v.data, v.len);
		buf_putc(b, '\n');
	}
	buf_free(&v);
}

/* ---- the cells formulas read (xlsx and .xls) ----------------------------- */

/* detector_cells_want - a cell a formula reads, noted (a det_cell_fn) */
void detector_cells_want(void *cells, uint64_t key, struct buf *out)
{
	struct det_cells *c = cells;

	(void) out;
	if (c->n < DET_FORMULA_CELLS)
		c->key[c->n++] = key;
	else
		c->over = 1;
}

/*
 * detector_cells_keep - after a formula read with detector_cells_want
 * (had: the cells noted before it; joins: what the reader returned): 1
 * if it joins cells that were all kept; else its cells are let go, 0
 */
int detector_cells_keep(struct det_cells *c, unsigned had, int joins)
{
	if (joins > 0 && c->n > had && !c->over)
		return 1;
	c->n = had;
	c->over = 0;
	return 0;
}

/* key_cmp - qsort and bsearch order of cell keys */
static int key_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

/* detector_cells_sort - the noted cells sorted, each once, none found yet */
void detector_cells_sort(struct det_cells *c)
{
	unsigned n = 0;

	qsort(c->key, c->n, sizeof(*c->key), key_cmp);
	for (unsigned i = 0; i < c->n; i++)
		if (n == 0 || c->key[i] != c->key[n - 1])
			c->key[n++] = c->key[i];
	c->n = n;
	memset(c->at, 0, sizeof(c->at));
}

/* detector_cells_at - where a sorted cell's text goes, or NULL if no formula reads it */
size_t *detector_cells_at(struct det_cells *c, uint64_t key)
{
	const uint64_t *k = bsearch(&key, c->key, c->n, sizeof(*c->key), key_cmp);

	return k ? c->at[k - c->key] : NULL;
}

/* detector_cells_read - a cell's text, as found (a det_cell_fn) */
void detector_cells_read(void *cells, uint64_t key, struct buf *out)
{
	struct det_cells *c = cells;
	const size_t *at = detector_cells_at(c, key);

	if (at != NULL)
		buf_append(out, c->text.data + at[0], at[1] - at[0]);
}

/*
 * formula_seen - a formula's text at rd->rest[from..], read once: its
 * value after it when it joins constants; when it joins cells too, noted
 * to be computed once the sheet is read (the cells may come after it)
 */
static void formula_seen(struct sheet_rd *rd, size_t from)
{
	struct buf *rest = rd->rest;
	size_t to = rest->len;
	unsigned had = rd->cells.n;
	int joins;
	struct buf v;

	buf_init(&v, to - from + 1);
	joins = formula_join(rest->data + from, rest->data + to, &v,
			     rd->nfpend < SHEET_FORMULAS ? detector_cells_want : NULL,
			     &rd->cells);
	if (joins > 0 && rd->cells.n == had && !rd->cells.over) {
		if (v.len > 0) {
			buf_append(rest, v.data, v.len);
			buf_putc(rest, '\n');
		}
	} else if (detector_cells_keep(&rd->cells, had, joins)) {
		rd->fpend[rd->nfpend][0] = from;
		rd->fpend[rd->nfpend][1] = to;
		rd->nfpend++;
	}
	buf_free(&v);
}

/* attr_value - the value of attribute name (1 or 2 letters) in a tag's attributes */
static const char *attr_value(const char *a, const char *end, const char *name, size_t *len)
{
	size_t nl = strlen(name);

	for (const char *p = a; p + nl + 2 < end; p++)
		if (is_ws(p[0]) && memcmp(p + 1, name, nl) == 0 && p[nl + 1] == '='
		    && (p[nl + 2] == '"' || p[nl + 2] == '\'')) {
			const char *v = p + nl + 3,
				   *q = memchr(v, p[nl + 2], (size_t) (end - v));

			if (q == NULL)
				return NULL;
			*len = (size_t) (q - v);
			return v;
		}
	return NULL;
}

/* ref_text - the text cell c shows (c: its "<c", cend: its end), into out */
static void ref_text(const struct det_sst *sst, const char *c, const char *gt, const char *cend,
		     struct buf *out)
{
	size_t tl = 0;
	const char *t = attr_value(c + 2, gt, "t", &tl), *v, *e;

	if (t && tl == 9 && memcmp(t, "inlineStr", 9) == 0) {
		if ((v = memmem(gt, (size_t) (cend - gt), "<t", 2)) == NULL
		    || (v = memchr(v, '>', (size_t) (cend - v))) == NULL)
			return;
		v++;
	} else if ((v = memmem(gt, (size_t) (cend - gt), "<v>", 3)) != NULL)
		v += 3;
	else
		return;
	if ((e = memchr(v, '<', (size_t) (cend - v))) == NULL)
		e = cend;
	if (t && tl == 1 && t[0] == 's') {
		size_t i = sst_index(sst, v, (size_t) (e - v));

		if (i != SIZE_MAX)
			buf_append(out, sst->text.data + (sst->off[i] & ~SST_USED),
				   (sst->off[i + 1] & ~SST_USED) - (sst->off[i] & ~SST_USED));
	} else if (t && tl == 1 && t[0] == 'b')
		buf_puts(out, e > v && *v == '1' ? "TRUE" : "FALSE");
	else if (t == NULL || (tl == 1 && t[0] == 'n'))
		(void) put_number(out, v, (size_t) (e - v));
	else
		put_cell_text(out, v, (size_t) (e - v));
}

/* cell_span - how far a cell read for a formula may reach from gt */
static size_t cell_span(const char *gt, const char *end)
{
	return (size_t) (end - gt) < SHEET_CELL_MAX ? (size_t) (end - gt) : SHEET_CELL_MAX;
}

/*
 * formulas_computed - the formulas that join cells and constants, each
 * on a line of its own after the sheet's text: the cells they read are
 * found in one more pass over the grid, [p, end)
 */
static void formulas_computed(struct sheet_rd *rd, const char *p, const char *end,
			      struct buf *out, size_t limit)
{
	struct det_cells *c = &rd->cells;

	detector_cells_sort(c);
	buf_init(&c->text, 256);
	while ((p = memmem(p, (size_t) (end - p), "<c ", 3)) != NULL) {
		const char *gt = memchr(p, '>', (size_t) (end - p)), *rv, *cend;
		size_t rl = 0, *at;
		uint64_t key;

		if (gt == NULL)
			break;
		if ((rv = attr_value(p + 2, gt, "r", &rl)) == NULL
		    || ref_parse(rv, rv + rl, &key) != rl
		    || (at = detector_cells_at(c, key)) == NULL) {
			p = gt;
			continue;
		}
		if (gt[-1] == '/') /* <c r="B7"/>: empty */
			cend = gt;
		else if ((cend = memmem(gt, cell_span(gt, end), "</c>", 4)) == NULL)
			cend = gt + cell_span(gt, end);
		at[0] = c->text.len;
		ref_text(rd->sst, p, gt, cend, &c->text);
		at[1] = c->text.len;
		p = cend;
	}
	for (unsigned i = 0; i < rd->nfpend && out->len < limit; i++) {
		size_t mark = out->len;

		(void) detector_formula_line(out, mark,
					     formula_join(rd->rest->data + rd->fpend[i][0],
							  rd->rest->data + rd->fpend[i][1], out,
							  detector_cells_read, c));
	}
	buf_free(&c->text);
}

/*
 * cell_fast - a cell in the form nearly every cell has, <c r="B7" s="3"
 * t="s"><v>12</v></c>, read in one go; past it, or NULL for any other form
 * (the general reader takes it then)
 */
static const char *cell_fast(struct sheet_rd *rd, const char *p, const char *end)
{
	const char *a = p + 2, *v, *k;
	uint32_t col = SHEET_NEXT;
	enum sheet_kind kind = CELL_NUM;

	for (;;) {
		const char *n;

		while (a < end && *a == ' ')
			a++;
		if (a >= end || *a == '/')
			return NULL;
		if (*a == '>')
			break;
		n = a;
		while (a < end && *a != '=' && *a != ' ' && *a != '>')
			a++;
		if (end - a < 3 || a[0] != '=' || a[1] != '"')
			return NULL;
		v = a + 2;
		for (k = v; k < end && *k != '"' && *k != '<' && *k != '>'; k++)
			/* void */;
		if (k >= end || *k != '"')
			return NULL;
		if (a - n == 1 && n[0] == 'r') {
			uint32_t c = 0;

			for (const char *x = v; x < k && *x >= 'A' && *x <= 'Z'; x++)
				c = c < SHEET_MAX_COL ? c * 26 + (uint32_t) (*x - 'A' + 1) : c;
			if (c > 0)
				col = c > SHEET_MAX_COL ? SHEET_MAX_COL - 1 : c - 1;
		} else if (a - n == 1 && n[0] == 't') {
			kind = k - v == 1 && v[0] == 's'    ? CELL_SST
				: k - v == 1 && v[0] == 'b' ? CELL_BOOL
				: k - v == 1 && v[0] == 'n' ? CELL_NUM
							    : CELL_TEXT;
		}
		a = k + 1;
	}
	/* >, then <v>value</v></c> */
	if (end - a < 4 || memcmp(a, "><v>", 4) != 0)
		return NULL;
	v = a + 4;
	k = find_lt(v, end);
	if (end - k < 8 || memcmp(k, "</v></c>", 8) != 0)
		return NULL;
	enqueue_cell(rd, kind, col, v, (size_t) (k - v));
	return k + 8;
}

/* grid - the rows of <sheetData> from p; past </sheetData> */
static const char *grid(struct sheet_rd *rd, const char *p, const char *end, size_t limit)
{
	static const struct sheet_cell row_end = {CELL_ROW, 0, NULL, 0, 0};
	struct sheet_tag t;
	int in_c = 0;

	while (p < end && rd->out->len < limit) {
		if (*p != '<') {
			const char *lt = memchr(p, '<', (size_t) (end - p));

			if (lt == NULL)
				lt = end;
			(void) text_to(p, lt, rd->rest); /* text out of place */
			p = lt;
			continue;
		}
		if (!in_c && end - p > 2 && p[1] == 'c' && p[2] == ' ') {
			const char *q = cell_fast(rd, p, end);

			if (q != NULL) {
				p = q;
				continue;
			}
		}
		if (end - p >= 6 && memcmp(p, "</row>", 6) == 0) {
			/* a row's end, as nearly every one is written */
			if (in_c)
				cell_done(rd);
			in_c = 0;
			enqueue(rd, &row_end);
			p += 6;
			continue;
		}
		if (!read_tag(p, end, &t)) {
			p = after(p, end, &t, 0);
			continue;
		}
		p = after(p, end, &t, 1);
		if (t.nlen == 1 && t.name[0] == 'c') {
			if (in_c)
				cell_done(rd);
			in_c = 0;
			if (!t.closing) {
				cell_attrs(rd, &t);
				in_c = !t.empty;
			}
			/* <v>value</v></c>, as nearly every cell is */
			if (in_c && end - p >= 3 && p[0] == '<' && p[1] == 'v' && p[2] == '>') {
				const char *v = p + 3, *k = find_lt(v, end);

				if (end - k >= 8 && memcmp(k, "</v></c>", 8) == 0) {
					rd->cur.v = v;
					rd->cur.vlen = (size_t) (k - v);
					cell_done(rd);
					in_c = 0;
					p = k + 8;
				}
			}
		} else if (t.nlen == 1 && t.name[0] == 'v') {
			if (!t.closing && !t.empty && in_c) {
				const char *lt = memchr(p, '<', (size_t) (end - p));

				rd->cur.v = p;
				rd->cur.vlen = (size_t) ((lt ? lt : end) - p);
				p += rd->cur.vlen;
			}
		} else if (t.nlen == 1 && t.name[0] == 'f') {
			if (!t.closing && !t.empty) {
				size_t from = rd->rest->len;

				p = text_to(p, end, rd->rest);
				if (rd->rest->len > from)
					formula_seen(rd, from);
			}
		} else if (is_name(&t, "is", 2)) {
			if (!t.closing && !t.empty)
				p = inline_string(rd, p, end);
		} else if (is_name(&t, "row", 3)) {
			if (in_c)
				cell_done(rd);
			in_c = 0;
			enqueue(rd, &row_end);
		} else if (is_name(&t, "sheetData", 9) && t.closing) {
			break;
		}
	}
	if (in_c)
		cell_done(rd);
	enqueue(rd, &row_end);
	drain(rd);
	return p;
}

static void grid_square(struct buf *out, size_t s, size_t e, unsigned width, size_t budget,
			size_t limit, int quote);

/* dimension - the columns <dimension ref="A1:E20"/> says the rows have, or 0 */
static unsigned dimension(const char *in, size_t len)
{
	const char *d = memmem(in, len, "<dimension", 10), *q, *end = in + len;
	unsigned col = 0;

	if (d == NULL || (d = memmem(d, (size_t) (end - d), "ref=\"", 5)) == NULL)
		return 0;
	d += 5;
	if ((q = memchr(d, '"', (size_t) (end - d))) == NULL)
		return 0;
	if ((d = memchr(d, ':', (size_t) (q - d))) == NULL)
		return 0;
	for (d++; d < q && *d >= 'A' && *d <= 'Z'; d++)
		if ((col = col * 26 + (unsigned) (*d - 'A' + 1)) > 1024)
			return 0; /* wider than a table to square up */
	return col;
}

/* detector_xlsx_sheet - a worksheet's text: its grid a table; -1 at the limit */
int detector_xlsx_sheet(const char *in, size_t len, struct det_sst *sst, struct buf *out,
			size_t limit)
{
	const char *sd = memmem(in, len, "<sheetData", 10), *end = in + len, *p;
	struct sheet_rd rd;
	struct buf rest;

	if (sd == NULL) {
		detector_office_xml(in, len, out, limit);
		return 0;
	}
	memset(&rd, 0, sizeof(rd));
	/* what comes before the grid: its own text */
	detector_office_xml(in, (size_t) (sd - in), out, limit);
	if ((p = memchr(sd, '>', (size_t) (end - sd))) == NULL)
		return 0;
	p++;
	buf_init(&rest, 256);
	buf_init(&rd.is, 256);
	rd.out = out;
	rd.rest = &rest;
	rd.sst = sst;
	rd.pad_max = len;
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		buf_putc(out, '\n');
	rd.width = dimension(in, (size_t) (sd - in));
	if (sd[9] == '/') /* <sheetData/> */
		p = sd + 10;
	else
		p = grid(&rd, p, end, limit);
	if (rd.table && rd.narrow_to > rd.start)
		grid_square(out, rd.start, rd.narrow_to, rd.width, rd.pad_max - rd.pad, limit,
			    0);
	buf_append(out, rest.data, rest.len);
	if (rd.nfpend > 0)
		formulas_computed(&rd, sd, p > sd && p <= end ? p : end, out, limit);
	buf_free(&rest);
	buf_free(&rd.is);
	/* what follows it: headers, footers, links, prompts */
	if (p < end && out->len < limit)
		detector_office_xml(p, (size_t) (end - p), out, limit);
	if (out->len >= limit) {
		out->len = limit;
		out->data[out->len] = 0;
		return -1;
	}
	return 0;
}

/* ---- a grid made a table ----------------------------------------------- */

/* fields - the fields of the line [l, nl) */
static unsigned fields(const char *l, const char *nl)
{
	unsigned f = 1;

	while ((l = memchr(l, '\t', (size_t) (nl - l))) != NULL) {
		f++;
		l++;
	}
	return f;
}

/*
 * grid_square - the lines of out[s, e) padded to width fields, and (quote)
 * fields holding a double quote quoted; what follows e moves along. Not
 * when that takes more than budget bytes of padding or passes the limit.
 */
static void grid_square(struct buf *out, size_t s, size_t e, unsigned width, size_t budget,
			size_t limit, int quote)
{
	const char *d = out->data, *end = out->data + e;
	size_t pad = 0;
	struct buf b;

	for (const char *l = d + s; l < end && width > 1;) {
		const char *nl = memchr(l, '\n', (size_t) (end - l));
		unsigned f;

		if (nl == NULL)
			nl = end;
		if ((f = fields(l, nl)) < width)
			pad += width - f;
		l = nl + 1;
	}
	if (pad > budget || out->len + pad > limit)
		pad = 0, width = 0; /* too sparse to square up */
	if (pad == 0 && !(quote && memchr(d + s, '"', e - s)))
		return;
	buf_init(&b, e - s + pad + 64);
	for (const char *l = d + s; l < end;) {
		const char *nl = memchr(l, '\n', (size_t) (end - l)), *c = l;
		unsigned f = 0;

		if (nl == NULL)
			nl = end;
		for (;;) {
			const char *tab = memchr(c, '\t', (size_t) (nl - c)),
				   *fe = tab ? tab : nl;
			size_t at = b.len;

			buf_append(&b, c, (size_t) (fe - c));
			if (quote && memchr(c, '"', (size_t) (fe - c)))
				quote_field(&b, at);
			f++;
			if (tab == NULL)
				break;
			buf_putc(&b, '\t');
			c = tab + 1;
		}
		for (; f < width; f++)
			buf_putc(&b, '\t');
		if (nl < end)
			buf_putc(&b, '\n');
		l = nl + 1;
	}
	/* the rest moves along in place, the new lines go before it */
	if (b.len > e - s)
		buf_reserve(out, b.len - (e - s));
	memmove(out->data + s + b.len, out->data + e, out->len - e);
	memcpy(out->data + s, b.data, b.len);
	out->len = s + b.len + (out->len - e);
	out->data[out->len] = 0;
	buf_free(&b);
}

/* detector_grid_finish - the rows of out[from..] one table: padded, quotes quoted */
void detector_grid_finish(struct buf *out, size_t from, size_t limit)
{
	const char *d = out->data, *end = out->data + out->len;
	size_t start = from;
	unsigned width = 0, f;
	int title = 1;

	for (const char *l = d + from; l < end;) {
		const char *nl = memchr(l, '\n', (size_t) (end - l));

		if (nl == NULL)
			nl = end;
		f = fields(l, nl);
		if (title && f < 2)
			start = (size_t) (nl - d) + (nl < end);
		else
			title = 0;
		if (!title && f > width)
			width = f;
		l = nl + 1;
	}
	grid_square(out, start, out->len, width, out->len - from, limit, 1);
}
