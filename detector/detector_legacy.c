/*
 * detector_legacy - the text of Word, Excel and PowerPoint 97-2003 files
 *
 * detector_legacy_scan() reads the document streams of a compound file
 * (detector_ole.c) and marks them done; every other stream is read by the
 * caller. What a reader of the document sees:
 *
 *	Word (WordDocument)	the piece table (MS-DOC Clx) of the table
 *				stream: every piece of the main text, the
 *				headers, footnotes, comments and text boxes,
 *				8-bit (Windows-1252) or UTF-16; paragraph and
 *				cell marks become line breaks and tabs, field
 *				codes (HYPERLINK "...") stay as text. Word 6 and
 *				95 files: the text range of the FIB.
 *	Excel (Workbook)	BIFF8 records: sheet names, cells in row order
 *				(shared strings, inline strings, numbers, RK
 *				numbers, formula results) as tab-separated lines,
 *				shared strings no cell uses, headers, footers,
 *				comments' text boxes; a formula that joins
 *				constants and cells of its sheet, computed as
 *				Excel does on opening (its cached result may be
 *				false or missing)
 *	PowerPoint		the text atoms of every slide, master, note and
 *	(PowerPoint Document)	outline (TextChars, TextBytes, CString); OLE
 *				objects stored in the presentation (zlib
 *				compressed or not) go back to the dispatch
 *
 * Encrypted documents (Word's fEncrypted, Excel's FILEPASS, PowerPoint's
 * CryptSession10Container) cannot be read: the reason names them. Every
 * offset and count comes from the file and is checked against the stream
 * it points into; a document stream that cannot be parsed is left to the
 * caller's strings pass and named in the reason.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "detector.h"
#include "detector_ole.h"

/* le16, le32 - little-endian fields */
static unsigned le16(const char *p)
{
	const unsigned char *u = (const unsigned char *) p;

	return (unsigned) u[0] | (unsigned) u[1] << 8;
}

static uint32_t le32(const char *p)
{
	const unsigned char *u = (const unsigned char *) p;

	return (uint32_t) u[0] | (uint32_t) u[1] << 8 | (uint32_t) u[2] << 16
		| (uint32_t) u[3] << 24;
}

/* Windows-1252's 0x80-0x9f, the rest of the byte range is Latin-1 */
static const unsigned short cp1252_hi[32] = {
	0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
	0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd, 0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
	0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178,
};

/* put_cp - one code point as UTF-8 */
static void put_cp(struct buf *out, unsigned long cp)
{
	if (cp < 0x80)
		buf_putc(out, (int) cp);
	else if (cp < 0x800) {
		buf_putc(out, 0xc0 | (int) (cp >> 6));
		buf_putc(out, 0x80 | (int) (cp & 0x3f));
	} else if (cp < 0x10000) {
		buf_putc(out, 0xe0 | (int) (cp >> 12));
		buf_putc(out, 0x80 | (int) (cp >> 6 & 0x3f));
		buf_putc(out, 0x80 | (int) (cp & 0x3f));
	} else {
		buf_putc(out, 0xf0 | (int) (cp >> 18));
		buf_putc(out, 0x80 | (int) (cp >> 12 & 0x3f));
		buf_putc(out, 0x80 | (int) (cp >> 6 & 0x3f));
		buf_putc(out, 0x80 | (int) (cp & 0x3f));
	}
}

/* cp1252 - a Windows-1252 byte as a code point */
static unsigned cp1252(unsigned char c)
{
	return c >= 0x80 && c < 0xa0 ? cp1252_hi[c - 0x80] : c;
}

/* put_word_char - a character of Word text: its marks as line breaks and tabs */
static void put_word_char(struct buf *out, unsigned long c)
{
	switch (c) {
	case 0x0d:
	case 0x0b:
	case 0x0c:
	case 0x0e:
		buf_putc(out, '\n');
		return;
	case 0x07:
	case 0x09:
		buf_putc(out, '\t');
		return;
	case 0x13:
	case 0x14:
	case 0x15:
	case 0xa0:
		buf_putc(out, ' ');
		return;
	case 0x1e:
		buf_putc(out, '-');
		return;
	default:
		if (c < 0x20)
			return; /* objects, note references, optional hyphens */
		put_cp(out, c);
	}
}

/* put_utf16 - UTF-16LE text (pairs joined) through put */
static void put_utf16(struct buf *out, const char *p, size_t nchars,
		      void (*put)(struct buf *, unsigned long))
{
	for (size_t i = 0; i < nchars; i++) {
		unsigned long c = le16(p + 2 * i);

		if (c >= 0xd800 && c < 0xdc00 && i + 1 < nchars) {
			unsigned long lo = le16(p + 2 * i + 2);

			if (lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				i++;
			}
		}
		if (c >= 0xd800 && c < 0xe000)
			c = 0xfffd;
		put(out, c);
	}
}

/* put_plain - a character as it is (controls other than tab and LF dropped) */
static void put_plain(struct buf *out, unsigned long c)
{
	if (c >= 0x20 || c == '\t' || c == '\n')
		put_cp(out, c);
	else if (c == '\r' || c == 0x0b)
		buf_putc(out, '\n');
}

/* stream - a named stream of the root storage, read within the budget */
static uint32_t stream(struct det_scan *sc, struct ole *o, const char *sname, struct buf *b,
		       const char *name)
{
	uint32_t id = ole_child(o, 0, sname);

	if (id == OLE_NONE || o->dir[id].type != OLE_STREAM)
		return OLE_NONE;
	if (detector_ole_stream(sc, o, id, b, name) < 0)
		return OLE_NONE;
	return id;
}

/* ---- Word ------------------------------------------------------------------ */

/* doc_pieces - the text of every piece of the piece table; -1 if malformed */
static int doc_pieces(const struct buf *w, const struct buf *t, uint32_t fc_clx,
		      uint32_t lcb_clx, struct buf *out)
{
	size_t pos = fc_clx, end = (size_t) fc_clx + lcb_clx;
	const char *plc;
	uint32_t lcb, n;

	if (end > t->len || fc_clx >= t->len)
		return -1;
	/* Prc records (formatting) come first; then the Pcdt */
	while (pos < end && t->data[pos] == 1) {
		if (pos + 3 > end)
			return -1;
		pos += 3 + le16(t->data + pos + 1);
	}
	if (pos + 5 > end || t->data[pos] != 2)
		return -1;
	lcb = le32(t->data + pos + 1);
	plc = t->data + pos + 5;
	if (lcb < 4 || lcb > end - pos - 5 || (lcb - 4) % 12 != 0)
		return -1;
	n = (lcb - 4) / 12;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t cp0 = le32(plc + 4 * i), cp1 = le32(plc + 4 * (i + 1));
		uint32_t fc = le32(plc + 4 * (n + 1) + 8 * i + 2);
		size_t cch = cp1 > cp0 ? cp1 - cp0 : 0;

		if (fc & 0x40000000u) { /* 8-bit: the byte offset is fc / 2 */
			size_t off = (fc & 0x3fffffffu) / 2;

			if (off > w->len || cch > w->len - off)
				return -1;
			for (size_t k = 0; k < cch; k++)
				put_word_char(out, cp1252((unsigned char) w->data[off + k]));
		} else {
			if (fc > w->len || cch > (w->len - fc) / 2)
				return -1;
			put_utf16(out, w->data + fc, cch, put_word_char);
		}
	}
	return 0;
}

/* legacy_doc - a Word 97-2003 (or 6/95) document's text */
static void legacy_doc(struct det_scan *sc, struct ole *o, const char *name,
		       unsigned char *done)
{
	struct buf w, t, text;
	uint32_t wid, tid = OLE_NONE, fc_clx = 0, lcb_clx = 0;
	unsigned flags, nfib;
	int ok = -1;

	buf_init(&w, 4096);
	buf_init(&t, 4096);
	buf_init(&text, 4096);
	if ((wid = stream(sc, o, "WordDocument", &w, name)) == OLE_NONE || w.len < 0x44)
		goto out;
	flags = le16(w.data + 0x0a);
	nfib = le16(w.data + 2);
	if (flags & 0x0100) {
		detector_unscannable(sc, "encrypted Word document %s", name);
		done[wid] = 1;
		goto out;
	}
	if (nfib < 0x00c1) { /* Word 6 and 95: one 8-bit range */
		uint32_t fc_min = le32(w.data + 0x18), fc_mac = le32(w.data + 0x1c);

		if (fc_min < fc_mac && fc_mac <= w.len) {
			for (uint32_t k = fc_min; k < fc_mac; k++)
				put_word_char(&text, cp1252((unsigned char) w.data[k]));
			ok = 0;
		}
	} else {
		/* FibBase, then csw words, cslw longs, and the fc/lcb pairs */
		size_t off = 32, csw, cslw, cb;

		csw = le16(w.data + off);
		off += 2 + csw * 2;
		if (off + 2 > w.len)
			goto out;
		cslw = le16(w.data + off);
		off += 2 + cslw * 4;
		if (off + 2 > w.len)
			goto out;
		cb = le16(w.data + off);
		off += 2;
		if (cb <= 33 || off + 34 * 8 > w.len)
			goto out;
		fc_clx = le32(w.data + off + 33 * 8);
		lcb_clx = le32(w.data + off + 33 * 8 + 4);
		tid = stream(sc, o, flags & 0x0200 ? "1Table" : "0Table", &t, name);
		if (tid != OLE_NONE)
			ok = doc_pieces(&w, &t, fc_clx, lcb_clx, &text);
	}
	if (ok == 0) {
		done[wid] = 1;
		if (tid != OLE_NONE)
			done[tid] = 1;
		detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
	}
out:
	if (ok < 0 && wid != OLE_NONE && !done[wid])
		detector_unscannable(sc, "unreadable Word document %s", name);
	buf_free(&w);
	buf_free(&t);
	buf_free(&text);
}

/* ---- Excel ----------------------------------------------------------------- */

/* A record's payload and the CONTINUE records after it, read as one. */
struct xls_seq {
	const char **seg;
	size_t *len;
	int nseg, cap, cur;
	size_t pos;
};

/* seq_add - one more payload */
static void seq_add(struct xls_seq *q, const char *p, size_t n)
{
	if (q->nseg == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 8;
		q->seg = xrealloc(q->seg, (size_t) q->cap * sizeof(*q->seg));
		q->len = xrealloc(q->len, (size_t) q->cap * sizeof(*q->len));
	}
	q->seg[q->nseg] = p;
	q->len[q->nseg++] = n;
}

/* seq_left - bytes left in the current segment, moving on at its end */
static size_t seq_left(struct xls_seq *q)
{
	while (q->cur < q->nseg && q->pos >= q->len[q->cur]) {
		q->cur++;
		q->pos = 0;
	}
	return q->cur < q->nseg ? q->len[q->cur] - q->pos : 0;
}

/* seq_u8, seq_u16, seq_u32 - fields; -1 past the end */
static long seq_u8(struct xls_seq *q)
{
	if (seq_left(q) < 1)
		return -1;
	return (unsigned char) q->seg[q->cur][q->pos++];
}

static long seq_u16(struct xls_seq *q)
{
	long a = seq_u8(q), b = seq_u8(q);

	return a < 0 || b < 0 ? -1 : a | b << 8;
}

static long seq_u32(struct xls_seq *q)
{
	long a = seq_u16(q), b = seq_u16(q);

	return a < 0 || b < 0 ? -1 : a | b << 16;
}

/* seq_skip - skip n bytes across segments; -1 past the end */
static int seq_skip(struct xls_seq *q, size_t n)
{
	while (n > 0) {
		size_t l = seq_left(q), k = l < n ? l : n;

		if (l == 0)
			return -1;
		q->pos += k;
		n -= k;
	}
	return 0;
}

/*
 * seq_string - an XLUnicodeRichExtendedString (or, rich = 0, an
 * XLUnicodeString with a 16-bit count): characters that run into the next
 * CONTINUE record start there with a fresh flags byte
 */
static int seq_string(struct xls_seq *q, struct buf *out, int rich)
{
	long cch = seq_u16(q), fl = seq_u8(q), runs = 0, ext = 0;

	if (cch < 0 || fl < 0)
		return -1;
	if (rich && (fl & 0x08) && (runs = seq_u16(q)) < 0)
		return -1;
	if (rich && (fl & 0x04) && (ext = seq_u32(q)) < 0)
		return -1;
	while (cch > 0) {
		size_t l = seq_left(q);
		int wide = fl & 1;

		if (l == 0)
			return -1;
		{
			size_t n = wide ? l / 2 : l;

			if (n > (size_t) cch)
				n = (size_t) cch;
			if (n == 0)
				return -1;
			if (wide)
				put_utf16(out, q->seg[q->cur] + q->pos, n, put_plain);
			else
				for (size_t k = 0; k < n; k++)
					put_plain(out,
						  cp1252((unsigned char)
								 q->seg[q->cur][q->pos + k]));
			q->pos += wide ? 2 * n : n;
			cch -= (long) n;
		}
		if (cch > 0) { /* continued: a new flags byte */
			if (q->cur < q->nseg)
				q->pos = q->len[q->cur]; /* a stray odd byte */
			if ((fl = seq_u8(q)) < 0)
				return -1;
		}
	}
	if (seq_skip(q, (size_t) runs * 4) < 0 || seq_skip(q, (size_t) ext) < 0)
		return -1;
	return 0;
}

/* put_number - a cell's number as a person writes it */
static void put_number(struct buf *out, double v)
{
	if (!isfinite(v))
		return;
	if (v == floor(v) && fabs(v) < 1e17)
		buf_printf(out, "%.0f", v);
	else
		buf_printf(out, "%.15g", v);
}

/* rk_value - an RK number */
static double rk_value(uint32_t rk)
{
	double v;

	if (rk & 2)
		v = (double) ((int32_t) rk >> 2);
	else {
		uint64_t bits = (uint64_t) (rk & 0xfffffffcu) << 32;

		memcpy(&v, &bits, sizeof(v));
	}
	return rk & 1 ? v / 100 : v;
}

/* The SST's strings as UTF-8, with a flag for those a cell used. */
struct xls_sst {
	struct buf text;
	size_t *off; /* n + 1 offsets into text */
	unsigned char *used;
	size_t n;
};

/* xls_read_sst - the shared strings of an SST and its CONTINUE records */
static void xls_read_sst(struct xls_sst *s, struct xls_seq *q)
{
	long total;

	(void) seq_u32(q);
	if ((total = seq_u32(q)) < 0)
		return;
	s->off = xmalloc(sizeof(size_t));
	s->off[0] = s->text.len;
	for (long i = 0; i < total && i < 10000000; i++) {
		if (seq_string(q, &s->text, 1) < 0)
			break;
		s->off = xrealloc(s->off, (s->n + 2) * sizeof(size_t));
		s->off[++s->n] = s->text.len;
	}
	s->used = xcalloc(s->n + 1, 1);
}

/* Where the next cell goes: tabs between cells, a line per row. */
struct xls_pos {
	long row;
	unsigned fields;     /* fields of the row so far */
	size_t cell;         /* where the cell's text begins */
	size_t pad, pad_max; /* empty fields put in gaps, and the budget */
	size_t grid;         /* where the sheet's grid begins */
};

/* cell_at - a cell in its row and column: a new line, tabs for the columns before it */
static void cell_at(struct buf *out, struct xls_pos *p, const char *rec)
{
	long row = (long) le16(rec);
	unsigned col = le16(rec + 2), gap;

	if (row != p->row || out->len == 0 || out->data[out->len - 1] == '\n') {
		if (out->len > 0 && out->data[out->len - 1] != '\n')
			buf_putc(out, '\n');
		p->fields = 0;
	}
	p->row = row;
	if (col < p->fields)
		col = p->fields; /* out of order: the next column */
	gap = col - p->fields + (p->fields > 0);
	if (gap > 1 && p->pad + gap > p->pad_max)
		gap = 1;
	p->pad += gap;
	for (unsigned k = 0; k < gap; k++)
		buf_putc(out, '\t');
	p->fields = col + 1;
	p->cell = out->len;
}

/* cell_done - a cell's text is one field: its tabs and breaks are spaces */
static void cell_done(struct buf *out, const struct xls_pos *p)
{
	for (size_t i = p->cell; i < out->len; i++)
		if (out->data[i] == '\t' || out->data[i] == '\n' || out->data[i] == '\r')
			out->data[i] = ' ';
}

/* sheet_done - a sheet's cells are one table */
static void sheet_done(struct buf *out, struct xls_pos *p)
{
	if (p->grid < out->len)
		detector_grid_finish(out, p->grid, out->len + p->pad_max);
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		buf_putc(out, '\n');
	p->grid = out->len;
	p->row = -1;
	p->fields = 0;
}

/* xls_key - a cell's key: its sheet (the count of BOFs before it), row, column */
static uint64_t xls_key(unsigned sheet, unsigned row, unsigned col)
{
	return (uint64_t) sheet << 32 | (uint64_t) row << 16 | (col & 0x3fff);
}

/*
 * xls_formula_join - a FORMULA record's parsed expression (MS-XLS
 * 2.5.198.1 Rgce) that joins constants: strings (PtgStr), integers
 * (PtgInt), numbers (PtgNum), joined by PtgConcat or CONCATENATE
 * (PtgFuncVar 336), with parentheses and spaces (PtgParen, PtgAttrSpace);
 * with ref, cells of its sheet too (PtgRef). Its value into out; the
 * number of joins, or -1 for any other token. The operands of a postfix
 * expression come in the order they were written.
 */
static int xls_formula_join(const char *r, unsigned rl, unsigned sheet, struct buf *out,
			    det_cell_fn ref, void *ctx)
{
	size_t k;
	int joins = 0;

	if (rl < 22 || (k = 22 + le16(r + 20)) > rl)
		return -1;
	for (size_t i = 22; i < k;) {
		unsigned char t = (unsigned char) r[i];

		if (t == 0x17 && i + 3 <= k) { /* PtgStr: cch, fHighByte, chars */
			size_t cch = (unsigned char) r[i + 1], w = (r[i + 2] & 1) ? 2 : 1;

			if (i + 3 + cch * w > k)
				return -1;
			if (w == 2)
				put_utf16(out, r + i + 3, cch, put_plain);
			else
				for (size_t c = 0; c < cch; c++)
					put_plain(out, cp1252((unsigned char) r[i + 3 + c]));
			i += 3 + cch * w;
		} else if (t == 0x1e && i + 3 <= k) { /* PtgInt */
			buf_printf(out, "%u", le16(r + i + 1));
			i += 3;
		} else if (t == 0x1f && i + 9 <= k) { /* PtgNum */
			double v;

			memcpy(&v, r + i + 1, sizeof(v));
			put_number(out, v);
			i += 9;
		} else if (t == 0x08) { /* PtgConcat */
			joins++;
			i++;
		} else if (t == 0x15) { /* PtgParen */
			i++;
		} else if (t == 0x19 && i + 4 <= k && (unsigned char) r[i + 1] == 0x40) {
			i += 4; /* PtgAttrSpace */
		} else if ((t == 0x22 || t == 0x42 || t == 0x62) && i + 4 <= k
			   && (le16(r + i + 2) & 0x7fff) == 336) {
			joins++; /* CONCATENATE */
			i += 4;
		} else if (ref && (t == 0x24 || t == 0x44 || t == 0x64) && i + 5 <= k) {
			/* PtgRef: row, column (relative flags above it) */
			ref(ctx, xls_key(sheet, le16(r + i + 1), le16(r + i + 3)), out);
			i += 5;
		} else {
			return -1;
		}
	}
	return joins;
}

/* Formulas that join cells, computed once the workbook is read. */
#define XLS_FORMULAS 64 /* formulas a workbook */

struct xls_refs {
	size_t at[XLS_FORMULAS]; /* each FORMULA record's offset in the stream */
	unsigned sheet[XLS_FORMULAS];
	unsigned n;
	struct det_cells cells; /* the cells they read */
};

/*
 * xls_formula_seen - a FORMULA record, read once: the value of one that
 * joins constants on a line of out; one that joins cells too, noted to be
 * computed once the workbook is read (at: the record's offset)
 */
static void xls_formula_seen(struct xls_refs *x, const char *r, unsigned rl, size_t at,
			     unsigned sheet, struct buf *out)
{
	size_t mark = out->len;
	unsigned had = x->cells.n;
	int joins = xls_formula_join(
		r, rl, sheet, out, x->n < XLS_FORMULAS ? detector_cells_want : NULL, &x->cells);

	if (joins > 0 && x->cells.n == had && !x->cells.over) {
		(void) detector_formula_line(out, mark, joins);
		return;
	}
	out->len = mark;
	if (detector_cells_keep(&x->cells, had, joins)) {
		x->at[x->n] = at;
		x->sheet[x->n++] = sheet;
	}
}

/* xls_cell_text - the text of one cell record, as the grid shows it; -1
 * for a record that is no cell */
static int xls_cell_text(unsigned type, const char *r, unsigned rl, const struct xls_sst *sst,
			 struct buf *out)
{
	struct xls_seq q = {0};
	double v;

	switch (type) {
	case 0x00fd: /* LABELSST */
		if (rl >= 10 && le32(r + 6) < sst->n)
			buf_append(out, sst->text.data + sst->off[le32(r + 6)],
				   sst->off[le32(r + 6) + 1] - sst->off[le32(r + 6)]);
		break;
	case 0x0204: /* LABEL */
		if (rl >= 9) {
			seq_add(&q, r, rl);
			q.pos = 6;
			(void) seq_string(&q, out, 0);
			free(q.seg);
			free(q.len);
		}
		break;
	case 0x0203: /* NUMBER */
		if (rl >= 14) {
			memcpy(&v, r + 6, sizeof(v));
			put_number(out, v);
		}
		break;
	case 0x027e: /* RK */
		if (rl >= 10)
			put_number(out, rk_value(le32(r + 6)));
		break;
	case 0x0205: /* BOOLERR: a boolean */
		if (rl >= 8 && r[7] == 0)
			buf_puts(out, r[6] ? "TRUE" : "FALSE");
		break;
	default:
		return -1;
	}
	return 0;
}

/*
 * xls_formulas_computed - the noted formulas, computed from the cells
 * they read (found in one more pass over the records), a line each
 */
static void xls_formulas_computed(struct xls_refs *x, const struct buf *b,
				  const struct xls_sst *sst, struct buf *out)
{
	struct det_cells *c = &x->cells;
	unsigned sheet = 0;

	detector_cells_sort(c);
	buf_init(&c->text, 64);
	for (size_t pos = 0; pos + 4 <= b->len;) {
		unsigned type = le16(b->data + pos), rl = le16(b->data + pos + 2);
		const char *r = b->data + pos + 4;
		size_t from = c->text.len, *at;

		if (pos + 4 + rl > b->len)
			break;
		pos += 4 + rl;
		if (type == 0x0809)
			sheet++;
		else if (rl >= 6
			 && (at = detector_cells_at(c, xls_key(sheet, le16(r), le16(r + 2))))
			 && xls_cell_text(type, r, rl, sst, &c->text) == 0) {
			at[0] = from;
			at[1] = c->text.len;
		}
	}
	for (unsigned i = 0; i < x->n; i++) {
		size_t mark = out->len;

		(void) detector_formula_line(
			out, mark,
			xls_formula_join(b->data + x->at[i] + 4, le16(b->data + x->at[i] + 2),
					 x->sheet[i], out, detector_cells_read, c));
	}
	buf_free(&c->text);
}

/* legacy_xls - a BIFF8 workbook's text */
static void legacy_xls(struct det_scan *sc, struct ole *o, const char *name,
		       unsigned char *done)
{
	struct buf b, text, formulas;
	struct xls_sst sst = {0};
	struct xls_refs *refs = xcalloc(1, sizeof(*refs));
	unsigned sheet = 0;
	struct xls_pos at = {-1, 0, 0, 0, 0, 0};
	struct xls_seq q = {0};
	uint32_t id;
	size_t pos = 0;
	int txo = 0;

	buf_init(&b, 4096);
	buf_init(&text, 4096);
	buf_init(&formulas, 256);
	buf_init(&sst.text, 1024);
	if ((id = stream(sc, o, "Workbook", &b, name)) == OLE_NONE)
		goto out;
	done[id] = 1;
	at.pad_max = b.len;
	while (pos + 4 <= b.len) {
		unsigned type = le16(b.data + pos), rl = le16(b.data + pos + 2);
		const char *r = b.data + pos + 4;

		if (pos + 4 + rl > b.len) {
			detector_unscannable(sc, "broken Excel workbook %s", name);
			break;
		}
		q.nseg = q.cur = 0;
		q.pos = 0;
		seq_add(&q, r, rl);
		pos += 4 + rl;
		if (type == 0x00fc) {
			/* gather the CONTINUE records that follow */
			while (pos + 4 <= b.len && le16(b.data + pos) == 0x003c) {
				unsigned cl = le16(b.data + pos + 2);

				if (pos + 4 + cl > b.len)
					break;
				seq_add(&q, b.data + pos + 4, cl);
				pos += 4 + cl;
			}
		}
		if (type == 0x0809)
			sheet++;
		switch (type) {
		case 0x0809: /* BOF: a sheet (or the globals) begins */
		case 0x000a: /* EOF: it ends */
			sheet_done(&text, &at);
			break;
		case 0x002f: /* FILEPASS */
			detector_unscannable(sc, "encrypted Excel workbook %s", name);
			goto out;
		case 0x0085: /* BOUNDSHEET: the sheet's name */
			if (rl >= 8) {
				q.pos = 6;
				{
					long cch = seq_u8(&q), fl = seq_u8(&q);

					if (cch > 0 && fl >= 0) {
						if (fl & 1)
							put_utf16(&text, r + 8,
								  (size_t) cch <= (rl - 8u) / 2
									  ? (size_t) cch
									  : (rl - 8u) / 2,
								  put_plain);
						else
							for (long k = 0; k < cch && 8 + k < rl;
							     k++)
								put_plain(
									&text,
									cp1252((unsigned char)
										       r[8
											 + k]));
						buf_putc(&text, '\n');
					}
				}
			}
			break;
		case 0x00fc: /* SST */
			if (sst.off == NULL)
				xls_read_sst(&sst, &q);
			break;
		case 0x00fd: /* LABELSST */
		case 0x0203: /* NUMBER */
		case 0x027e: /* RK */
			if (rl >= (type == 0x0203 ? 14u : 10u)) {
				cell_at(&text, &at, r);
				(void) xls_cell_text(type, r, rl, &sst, &text);
				cell_done(&text, &at);
				if (type == 0x00fd && le32(r + 6) < sst.n)
					sst.used[le32(r + 6)] = 1;
			}
			break;
		case 0x0204: /* LABEL */
		case 0x0014: /* HEADER */
		case 0x0015: /* FOOTER */
			if (type == 0x0204 && rl < 9)
				break;
			if (type == 0x0204)
				cell_at(&text, &at, r);
			else if (text.len > 0 && text.data[text.len - 1] != '\n')
				buf_putc(&text, '\n');
			q.pos = type == 0x0204 ? 6 : 0;
			if (rl > 0)
				(void) seq_string(&q, &text, 0);
			if (type != 0x0204)
				buf_putc(&text, '\n');
			else
				cell_done(&text, &at);
			break;
		case 0x0207: /* STRING: a formula's text result, in its cell */
			at.cell = text.len;
			(void) seq_string(&q, &text, 0);
			cell_done(&text, &at);
			break;
		case 0x00bd: /* MULRK */
			if (rl >= 6) {
				cell_at(&text, &at, r);
				for (unsigned k = 4; k + 6 <= rl - 2u; k += 6) {
					if (k > 4) {
						buf_putc(&text, '\t');
						at.fields++;
					}
					put_number(&text, rk_value(le32(r + k + 2)));
				}
			}
			break;
		case 0x0006: /* FORMULA: a number result here, text in STRING */
			if (rl >= 14) {
				cell_at(&text, &at, r);
				if (le16(r + 12) != 0xffff) {
					double v;

					memcpy(&v, r + 6, sizeof(v));
					put_number(&text, v);
				}
				xls_formula_seen(refs, r, rl, pos - 4 - rl, sheet, &formulas);
			}
			break;
		case 0x0201: /* BLANK */
		case 0x00be: /* MULBLANK */
			break;
		case 0x01b6: /* TXO: a comment's or text box's text follows */
			txo = 1;
			continue;
		case 0x003c: /* CONTINUE of a TXO: flags, then characters */
			if (txo && rl > 1) {
				if (text.len > 0 && text.data[text.len - 1] != '\n')
					buf_putc(&text, '\n');
				if (r[0] & 1)
					put_utf16(&text, r + 1, (rl - 1u) / 2, put_plain);
				else
					for (unsigned k = 1; k < rl; k++)
						put_plain(&text, cp1252((unsigned char) r[k]));
				buf_putc(&text, '\n');
			}
			break;
		default:
			break;
		}
		txo = 0;
	}
	sheet_done(&text, &at);
	if (refs->n > 0)
		xls_formulas_computed(refs, &b, &sst, &formulas);
	buf_append(&text, formulas.data, formulas.len);
	/* shared strings no cell showed are content too */
	for (size_t i = 0; i < sst.n; i++)
		if (!sst.used[i]) {
			buf_putc(&text, '\n');
			buf_append(&text, sst.text.data + sst.off[i],
				   sst.off[i + 1] - sst.off[i]);
		}
	detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
out:
	free(q.seg);
	free(q.len);
	free(sst.off);
	free(sst.used);
	buf_free(&sst.text);
	buf_free(&b);
	buf_free(&text);
	buf_free(&formulas);
	free(refs);
}

/* ---- PowerPoint ------------------------------------------------------------ */

/* ppt_object - an OLE object stored in the presentation (ExOleObjStg) */
static void ppt_object(struct det_scan *sc, const char *r, size_t rl, int compressed, int depth)
{
	size_t lim = (size_t) var_detector_decoded_size_limit;
	size_t left = sc->decoded >= lim ? 0 : lim - sc->decoded;
	struct buf obj;
	uLongf n;

	if (!compressed) {
		detector_content_scan(sc, r, rl, "application/octet-stream", NULL, DET_W_ATTACH,
				      depth, detector_sniff(r, rl));
		return;
	}
	if (rl < 4)
		return;
	n = le32(r);
	if (n > left) {
		detector_scan_limit(sc, "decoded size");
		n = left;
	}
	buf_init(&obj, n + 1);
	if (uncompress((Bytef *) obj.data, &n, (const Bytef *) r + 4, rl - 4) != Z_OK) {
		detector_unscannable(sc, "broken embedded object in a PowerPoint presentation");
		buf_free(&obj);
		return;
	}
	obj.len = n;
	sc->decoded += n;
	detector_content_scan(sc, obj.data, obj.len, "application/octet-stream", NULL,
			      DET_W_ATTACH, depth, detector_sniff(obj.data, obj.len));
	buf_free(&obj);
}

/* legacy_ppt - the text of a PowerPoint 97-2003 presentation */
static void legacy_ppt(struct det_scan *sc, struct ole *o, int depth, const char *name,
		       unsigned char *done)
{
	struct buf b, text;
	uint32_t id;
	size_t pos = 0;

	buf_init(&b, 4096);
	buf_init(&text, 4096);
	if ((id = stream(sc, o, "PowerPoint Document", &b, name)) == OLE_NONE)
		goto out;
	done[id] = 1;
	while (pos + 8 <= b.len) {
		unsigned vi = le16(b.data + pos), type = le16(b.data + pos + 2);
		size_t rl = le32(b.data + pos + 4), body = pos + 8;

		if (type == 0x2f14) { /* CryptSession10Container */
			detector_unscannable(sc, "encrypted PowerPoint presentation %s", name);
			goto out;
		}
		if ((vi & 0xf) == 0xf) { /* a container: its records follow */
			pos = body;
			continue;
		}
		if (rl > b.len - body)
			rl = b.len - body;
		switch (type) {
		case 0x0fa0: /* TextCharsAtom */
		case 0x0fba: /* CString */
			put_utf16(&text, b.data + body, rl / 2, put_plain);
			buf_putc(&text, '\n');
			break;
		case 0x0fa8: /* TextBytesAtom: UTF-16 with the high bytes left out */
			for (size_t k = 0; k < rl; k++)
				put_plain(&text, (unsigned char) b.data[body + k]);
			buf_putc(&text, '\n');
			break;
		case 0x1011: /* ExOleObjStg */
			ppt_object(sc, b.data + body, rl, (vi >> 4) == 1, depth);
			break;
		default:
			break;
		}
		pos = body + rl;
	}
	detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
out:
	buf_free(&b);
	buf_free(&text);
}

/* detector_legacy_scan - the document streams of an Office 97-2003 file */
void detector_legacy_scan(struct det_scan *sc, struct ole *o, int depth, const char *name,
			  unsigned char *done)
{
	if (ole_child(o, 0, "WordDocument") != OLE_NONE)
		legacy_doc(sc, o, name, done);
	if (ole_child(o, 0, "Workbook") != OLE_NONE)
		legacy_xls(sc, o, name, done);
	if (ole_child(o, 0, "PowerPoint Document") != OLE_NONE)
		legacy_ppt(sc, o, depth, name, done);
}
