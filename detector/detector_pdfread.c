/*
 * detector_pdfread - the PDF reader: a document's text, through qpdf
 *
 * pdf_read() runs in the fuzz harness, pdf_read_exit() (the same, leaving
 * what it holds to the process's exit) in the confined child
 * (detector_pdf.c). It opens the document with qpdf (libqpdf): cross-reference
 * tables and streams, object streams, damaged files rebuilt the way
 * viewers do (a document cut before its trailer gets one naming its
 * catalog), every standard filter, encryption with the empty user
 * password (RC4, AES-128, AES-256). Then it writes records (detector_pdf.h)
 * to its descriptor:
 *
 *	page text	each page is one unit: the content streams through
 *			detector_pdfcs.c with fonts read here (ToUnicode,
 *			encodings, /Differences, widths), form XObjects, and
 *			the page's annotations (/Contents, rich text, the
 *			appearance streams of those that are not form widgets)
 *	forms		AcroForm field values (/V), XFA data
 *	metadata	the Info dictionary's strings, XMP
 *	outlines	bookmark titles
 *	JavaScript	named scripts, the open action, the triggers (/AA) of
 *			the document, pages, annotations and fields, and
 *			annotation actions (/A), with /Next chains: one
 *			unit, as written and with its strings decoded
 *			(pdf_js_decode) as another reading
 *	files		EmbeddedFiles and file attachment annotations
 *	why		what could not be read: a stream that does not
 *			decode, a loop (form XObjects, trees), text in fonts
 *			with no Unicode map, the text budget
 *
 * Every walk is bounded (depth, items, the text budget); memory and time
 * are bounded by the confinement around it.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qpdf/qpdf-c.h>

#include "buf.h"
#include "confine.h"
#include "mem.h"
#include "detector_pdf.h"

#define PDF_FORM_DEPTH   12      /* form XObjects within form XObjects */
#define PDF_FORM_DRAWS   1000000 /* form XObjects drawn per document */
#define PDF_TREE_DEPTH   32      /* name trees, field trees */
#define PDF_ITEMS_MAX    100000  /* outline items, fields, tree nodes */
#define PDF_ANNOTS_MAX   10000   /* annotations per page */
#define PDF_UNMAPPED_MAX 8       /* glyphs without Unicode before it counts */
#define PDF_WHY_MAX      200
#define PDF_FONTS_MAX    10000      /* fonts kept for the document */
#define PDF_RUNS_MAX     (1u << 18) /* runs of glyphs put in reading order per page */
#define PDF_WBUF_MAX     (2u << 20) /* bytes of records held before they are written */

/* ---- the reader (the confined child) ----------------------------------- */

struct pdf_cached_font {
	int id, gen;
	struct pdf_font *font;
};

struct pdf_rd {
	qpdf_data q;
	int fd;
	int broken;          /* the pipe is gone */
	size_t budget, used; /* bytes of text and files */
	struct buf unit;
	struct pdf_cached_font *fonts; /* indirect fonts, for the document */
	size_t nfonts;
	struct pdf_font **direct; /* direct fonts (and past the cache), per page */
	size_t ndirect;
	int forms[PDF_FORM_DEPTH]; /* form XObjects being drawn */
	int nforms;
	unsigned long draws;
	unsigned long unmapped;
	char unmapped_font[64];
	int *seen; /* object ids already read (fields, files, actions) */
	size_t nseen, capseen;
	int full;
	struct buf js;         /* the document's JavaScript, a unit of its own */
	struct pdf_runs runs;  /* the page's runs of glyphs */
	unsigned long actions; /* actions read */
	struct buf wbuf;       /* records not yet written (see rec) */
};

static const struct pdf_cs_ops pdf_ops;

/* rec_flush - write the records held */
static void rec_flush(struct pdf_rd *rd)
{
	if (rd->wbuf.len && !rd->broken
	    && confine_write(rd->fd, rd->wbuf.data, rd->wbuf.len) < 0)
		rd->broken = 1;
	buf_reset(&rd->wbuf);
}

/* rec - one record to the parent. The text of a unit and its readings
 * (TEXT, ALT) are held until the record that ends the unit, which is
 * written with them at once: one write, and one wakeup of the parent, a
 * unit rather than three or more. Nothing is read in between, so a reader
 * that dies leaves the same records behind as before. */
static void rec(struct pdf_rd *rd, int type, const void *data, size_t len)
{
	unsigned char h[PDF_REC_HDR];

	if (rd->broken || rd->fd < 0)
		return;
	h[0] = (unsigned char) type;
	h[1] = (unsigned char) len;
	h[2] = (unsigned char) (len >> 8);
	h[3] = (unsigned char) (len >> 16);
	h[4] = (unsigned char) (len >> 24);
	if (rd->wbuf.len + sizeof(h) + len > PDF_WBUF_MAX)
		rec_flush(rd);
	if (sizeof(h) + len > PDF_WBUF_MAX) {
		/* too big to hold (a file): as it comes */
		if (confine_write(rd->fd, h, sizeof(h)) < 0
		    || (len && confine_write(rd->fd, data, len) < 0))
			rd->broken = 1;
		return;
	}
	buf_append(&rd->wbuf, h, sizeof(h));
	if (len)
		buf_append(&rd->wbuf, data, len);
	if (type != PDF_REC_TEXT && type != PDF_REC_ALT)
		rec_flush(rd);
}

/* why - a reason the document is not completely read */
static void why(struct pdf_rd *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void why(struct pdf_rd *rd, const char *fmt, ...)
{
	char text[PDF_WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	rec(rd, PDF_REC_WHY, text, strlen(text));
}

/* room - text bytes the unit may still take */
static size_t room(const struct pdf_rd *rd)
{
	size_t used = rd->used + rd->unit.len + rd->js.len;

	return used >= rd->budget ? 0 : rd->budget - used;
}

/* text_out - text records, a megabyte each at most */
static void text_out(struct pdf_rd *rd, const char *t, size_t len)
{
	for (size_t off = 0; off < len; off += 1 << 20)
		rec(rd, PDF_REC_TEXT, t + off, len - off < 1 << 20 ? len - off : 1 << 20);
}

/* unit_end - send the unit's text, if any */
static void unit_end(struct pdf_rd *rd)
{
	if (rd->unit.len) {
		text_out(rd, rd->unit.data, rd->unit.len);
		rec(rd, PDF_REC_UNIT, NULL, 0);
		rd->used += rd->unit.len;
		buf_reset(&rd->unit);
	}
}

/* unit_end_alt - send the unit, and another reading of it (when that
 * differs and fits the budget): the parent counts the better one */
static void unit_end_alt(struct pdf_rd *rd, const struct buf *alt)
{
	if (alt->len == 0
	    || (alt->len == rd->unit.len && memcmp(alt->data, rd->unit.data, alt->len) == 0)) {
		unit_end(rd);
		return;
	}
	if (alt->len > room(rd)) {
		if (!rd->full)
			why(rd, "decoded size");
		rd->full = 1;
		unit_end(rd);
		return;
	}
	text_out(rd, rd->unit.data, rd->unit.len);
	rec(rd, PDF_REC_ALT, NULL, 0);
	text_out(rd, alt->data, alt->len);
	rec(rd, PDF_REC_UNIT, NULL, 0);
	rd->used += rd->unit.len + alt->len;
	buf_reset(&rd->unit);
}

/* unit_put - text into the unit, within the budget */
static void unit_put(struct pdf_rd *rd, const char *s, size_t n)
{
	if (n > room(rd)) {
		if (!rd->full)
			why(rd, "decoded size");
		rd->full = 1;
		return;
	}
	buf_append(&rd->unit, s, n);
}

/* qerr - did the last qpdf call fail? (and forget it) */
static int qerr(struct pdf_rd *rd, char *msg, size_t len)
{
	qpdf_error e;

	if (!qpdf_has_error(rd->q))
		return 0;
	e = qpdf_get_error(rd->q);
	if (msg)
		snprintf(msg, len, "%s", e ? qpdf_get_error_message_detail(rd->q, e) : "error");
	return 1;
}

/* drain - forget qpdf's warnings: a damaged file may have millions */
static void drain(struct pdf_rd *rd)
{
	for (int i = 0; i < 100000 && qpdf_more_warnings(rd->q); i++)
		(void) qpdf_next_warning(rd->q);
}

/* dict - the dictionary of a stream, or the object itself */
static qpdf_oh dict(struct pdf_rd *rd, qpdf_oh oh)
{
	return qpdf_oh_is_stream(rd->q, oh) ? qpdf_oh_get_dict(rd->q, oh) : oh;
}

/* key - a dictionary's (or stream's) entry, or a null object */
static qpdf_oh key(struct pdf_rd *rd, qpdf_oh oh, const char *k)
{
	qpdf_oh d = dict(rd, oh);

	if (!qpdf_oh_is_dictionary(rd->q, d))
		return qpdf_oh_new_null(rd->q);
	return qpdf_oh_get_key(rd->q, d, k);
}

/* name_is - is the object this name? */
static int name_is(struct pdf_rd *rd, qpdf_oh oh, const char *name)
{
	return qpdf_oh_is_name_and_equals(rd->q, oh, name);
}

/* number - a numeric object's value, or def */
static double number(struct pdf_rd *rd, qpdf_oh oh, double def)
{
	double v;

	if (!qpdf_oh_is_number(rd->q, oh))
		return def;
	v = qpdf_oh_get_numeric_value(rd->q, oh);
	return isfinite(v) ? v : def;
}

/* seen - has this indirect object been read? (and remember it: a hash set) */
static int seen(struct pdf_rd *rd, qpdf_oh oh)
{
	int id = qpdf_oh_get_object_id(rd->q, oh);
	size_t i;

	if (id <= 0)
		return 0;
	if (rd->nseen * 2 >= rd->capseen) { /* grow: rehash into twice the room */
		size_t cap = rd->capseen ? rd->capseen * 2 : 256;
		int *t = xcalloc(cap, sizeof(int));

		for (size_t k = 0; k < rd->capseen; k++)
			if (rd->seen[k] > 0) {
				for (i = (size_t) rd->seen[k] * 2654435761u % cap; t[i];
				     i = (i + 1) % cap)
					;
				t[i] = rd->seen[k];
			}
		free(rd->seen);
		rd->seen = t;
		rd->capseen = cap;
	}
	for (i = (size_t) id * 2654435761u % rd->capseen; rd->seen[i];
	     i = (i + 1) % rd->capseen)
		if (rd->seen[i] == id)
			return 1;
	rd->seen[i] = id;
	rd->nseen++;
	return 0;
}

/* stream_data - a stream's decoded bytes (malloc'd), or NULL with a reason */
static unsigned char *stream_data(struct pdf_rd *rd, qpdf_oh s, size_t *len, const char *what)
{
	unsigned char *data = NULL;
	QPDF_BOOL filtered = QPDF_FALSE;
	char msg[128];

	*len = 0;
	if (!qpdf_oh_is_stream(rd->q, s))
		return NULL;
	if ((qpdf_oh_get_stream_data(rd->q, s, qpdf_dl_specialized, &filtered, &data, len)
	     & QPDF_ERRORS)
	    || qerr(rd, msg, sizeof(msg))) {
		if (!qerr(rd, msg, sizeof(msg)))
			snprintf(msg, sizeof(msg), "cannot be decoded");
		why(rd, "%s (object %d): %s", what, qpdf_oh_get_object_id(rd->q, s), msg);
		free(data);
		return NULL;
	}
	if (!filtered) {
		why(rd, "%s (object %d) in a filter that cannot be decoded", what,
		    qpdf_oh_get_object_id(rd->q, s));
		free(data);
		return NULL;
	}
	return data;
}

/* utf8_value - a text string (PDFDocEncoding or UTF-16) as UTF-8 into the unit */
static void text_value(struct pdf_rd *rd, qpdf_oh oh)
{
	const char *v;
	size_t n = 0;

	if (qpdf_oh_is_string(rd->q, oh)) {
		if (!qpdf_oh_get_value_as_utf8(rd->q, oh, &v, &n))
			return;
	} else if (qpdf_oh_is_name(rd->q, oh)) {
		v = qpdf_oh_get_name(rd->q, oh);
		if (*v == '/')
			v++;
		n = strlen(v);
	} else
		return;
	if (n == 0)
		return;
	if (rd->unit.len && rd->unit.data[rd->unit.len - 1] != '\n')
		unit_put(rd, "\n", 1);
	unit_put(rd, v, n);
	unit_put(rd, "\n", 1);
}

/* ---- fonts ------------------------------------------------------------- */

/* font_widths_simple - /FirstChar, /Widths, /MissingWidth */
static void font_widths_simple(struct pdf_rd *rd, qpdf_oh fd, struct pdf_font *f)
{
	qpdf_oh w = key(rd, fd, "/Widths");
	double missing =
		number(rd, key(rd, key(rd, fd, "/FontDescriptor"), "/MissingWidth"), -1);
	int first = (int) number(rd, key(rd, fd, "/FirstChar"), 0);
	int n;

	if (!qpdf_oh_is_array(rd->q, w))
		return;
	f->widths_known = 1;
	for (int c = 0; c < 256; c++)
		f->widths[c] = (float) (missing >= 0 ? missing : 0);
	n = qpdf_oh_get_array_n_items(rd->q, w);
	for (int i = 0; i < n && i < 256; i++) {
		int c = first + i;

		if (c >= 0 && c < 256)
			f->widths[c] =
				(float) number(rd, qpdf_oh_get_array_item(rd->q, w, i), 0);
	}
}

/* font_encoding_simple - a simple font's /Encoding and /Differences */
static void font_encoding_simple(struct pdf_rd *rd, qpdf_oh fd, struct pdf_font *f)
{
	qpdf_oh enc = key(rd, fd, "/Encoding"), diff;
	int n, code = 0;

	pdf_font_encoding(f, "StandardEncoding");
	if (qpdf_oh_is_name(rd->q, enc)) {
		pdf_font_encoding(f, qpdf_oh_get_name(rd->q, enc) + 1);
		return;
	}
	if (!qpdf_oh_is_dictionary(rd->q, enc))
		return;
	if (qpdf_oh_is_name(rd->q, key(rd, enc, "/BaseEncoding")))
		pdf_font_encoding(f,
				  qpdf_oh_get_name(rd->q, key(rd, enc, "/BaseEncoding")) + 1);
	diff = key(rd, enc, "/Differences");
	if (!qpdf_oh_is_array(rd->q, diff))
		return;
	n = qpdf_oh_get_array_n_items(rd->q, diff);
	for (int i = 0; i < n && i < 4096; i++) {
		qpdf_oh it = qpdf_oh_get_array_item(rd->q, diff, i);

		if (qpdf_oh_is_number(rd->q, it))
			code = (int) number(rd, it, 0);
		else if (qpdf_oh_is_name(rd->q, it))
			pdf_font_difference(f, code++, qpdf_oh_get_name(rd->q, it) + 1);
	}
}

/* wr_cmp - CID width ranges by their first CID */
static int wr_cmp(const void *a, const void *b)
{
	const struct pdf_wrange *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* wr_add - one CID width range */
static void wr_add(struct pdf_font *f, size_t *cap, double lo, double hi, double w)
{
	if (!(lo >= 0 && hi >= lo && hi < 4294967295.0) || f->nw >= PDF_ITEMS_MAX * 10)
		return;
	if (f->nw == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		f->w = xrealloc(f->w, *cap * sizeof(*f->w));
	}
	f->w[f->nw].lo = (uint32_t) lo;
	f->w[f->nw].hi = (uint32_t) hi;
	f->w[f->nw++].w = (float) w;
}

/* font_widths_cid - a CID font's /DW and /W */
static void font_widths_cid(struct pdf_rd *rd, qpdf_oh cid, struct pdf_font *f)
{
	qpdf_oh w = key(rd, cid, "/W");
	size_t cap = 0;
	int n;

	f->dw = (float) number(rd, key(rd, cid, "/DW"), 1000);
	f->widths_known = 1;
	if (!qpdf_oh_is_array(rd->q, w))
		return;
	n = qpdf_oh_get_array_n_items(rd->q, w);
	for (int i = 0; i + 1 < n;) {
		qpdf_oh a = qpdf_oh_get_array_item(rd->q, w, i),
			b = qpdf_oh_get_array_item(rd->q, w, i + 1);
		double first = number(rd, a, -1);

		if (qpdf_oh_is_array(rd->q, b)) {
			int m = qpdf_oh_get_array_n_items(rd->q, b);

			for (int j = 0; j < m; j++)
				wr_add(f, &cap, first + j, first + j,
				       number(rd, qpdf_oh_get_array_item(rd->q, b, j), f->dw));
			i += 2;
		} else if (i + 2 < n) {
			wr_add(f, &cap, first, number(rd, b, -1),
			       number(rd, qpdf_oh_get_array_item(rd->q, w, i + 2), f->dw));
			i += 3;
		} else
			break;
	}
	if (f->nw > 1)
		qsort(f->w, f->nw, sizeof(*f->w), wr_cmp);
}

/* cmap_stream - a CMap from a stream, or NULL */
static struct pdf_cmap *cmap_stream(struct pdf_rd *rd, qpdf_oh s, const char *what)
{
	struct pdf_cmap *cm;
	unsigned char *data;
	size_t len;

	if (!qpdf_oh_is_stream(rd->q, s) || (data = stream_data(rd, s, &len, what)) == NULL)
		return NULL;
	cm = xmalloc(sizeof(*cm));
	if (pdf_cmap_parse(cm, data, len) < 0) {
		pdf_cmap_free(cm);
		free(cm);
		cm = NULL;
	}
	free(data);
	return cm;
}

/* font_type0 - a composite font: its encoding CMap, its descendant's widths */
static void font_type0(struct pdf_rd *rd, qpdf_oh fd, struct pdf_font *f)
{
	qpdf_oh enc = key(rd, fd, "/Encoding"), desc = key(rd, fd, "/DescendantFonts");

	f->kind = PDF_FONT_TYPE0;
	if (qpdf_oh_is_name(rd->q, enc)) {
		const char *n = qpdf_oh_get_name(rd->q, enc);

		if (strncmp(n, "/Identity-", 10) == 0)
			f->fixed_bytes = 2;
		else if (strstr(n, "UCS2") || strstr(n, "UTF16")) {
			f->fixed_bytes = 2;
			f->unicode_codes = 1;
		}
	} else if (qpdf_oh_is_stream(rd->q, enc)) {
		f->codes = cmap_stream(rd, enc, "font encoding");
		if (f->codes && f->codes->nspace == 0) {
			pdf_cmap_free(f->codes);
			free(f->codes);
			f->codes = NULL;
			f->fixed_bytes = 2;
		}
	} else
		f->fixed_bytes = 2;
	if (qpdf_oh_is_array(rd->q, desc) && qpdf_oh_get_array_n_items(rd->q, desc) > 0)
		font_widths_cid(rd, qpdf_oh_get_array_item(rd->q, desc, 0), f);
}

/* font_load - read a font dictionary */
static void font_load(struct pdf_rd *rd, qpdf_oh fd, struct pdf_font *f)
{
	qpdf_oh sub = key(rd, fd, "/Subtype"), base = key(rd, fd, "/BaseFont");

	pdf_font_init(f);
	if (qpdf_oh_is_name(rd->q, base))
		snprintf(f->name, sizeof(f->name), "%s", qpdf_oh_get_name(rd->q, base) + 1);
	if (name_is(rd, sub, "/Type0")) {
		font_type0(rd, fd, f);
	} else {
		f->kind = PDF_FONT_SIMPLE;
		font_encoding_simple(rd, fd, f);
		font_widths_simple(rd, fd, f);
		if (name_is(rd, sub, "/Type3")) {
			qpdf_oh fm = key(rd, fd, "/FontMatrix");
			double a = number(rd, qpdf_oh_get_array_item(rd->q, fm, 0), 0.001);

			if (qpdf_oh_is_array(rd->q, fm) && fabs(a) > 1e-9 && fabs(a) < 1e3)
				f->scale = fabs(a);
			if (!f->name[0])
				snprintf(f->name, sizeof(f->name), "Type3");
		}
	}
	f->tounicode = cmap_stream(rd, key(rd, fd, "/ToUnicode"), "ToUnicode CMap");
	(void) qerr(rd, NULL, 0);
}

/* font_new - a font read from its dictionary, owned by the reader */
static struct pdf_font *font_new(struct pdf_rd *rd, qpdf_oh fd, struct pdf_font ***list,
				 size_t *n)
{
	struct pdf_font *f = xmalloc(sizeof(*f));

	(void) rd;
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = f;
	font_load(rd, fd, f);
	return f;
}

/* rd_font - Tf: the font a resource name stands for (indirect ones cached) */
static struct pdf_font *rd_font(void *ctx, void *res, const char *name)
{
	struct pdf_rd *rd = ctx;
	qpdf_oh fonts = key(rd, (qpdf_oh) (uintptr_t) res, "/Font"), fd;
	char k[140];
	int id, gen;
	struct pdf_font *f;

	snprintf(k, sizeof(k), "/%s", name);
	fd = key(rd, fonts, k);
	if (!qpdf_oh_is_dictionary(rd->q, fd))
		return NULL;
	id = qpdf_oh_get_object_id(rd->q, fd);
	gen = qpdf_oh_get_generation(rd->q, fd);
	if (id <= 0 || rd->nfonts >= PDF_FONTS_MAX)
		return font_new(rd, fd, &rd->direct, &rd->ndirect);
	for (size_t i = 0; i < rd->nfonts; i++)
		if (rd->fonts[i].id == id && rd->fonts[i].gen == gen)
			return rd->fonts[i].font;
	rd->fonts = xrealloc(rd->fonts, (rd->nfonts + 1) * sizeof(*rd->fonts));
	rd->fonts[rd->nfonts].id = id;
	rd->fonts[rd->nfonts].gen = gen;
	f = rd->fonts[rd->nfonts].font = xmalloc(sizeof(*f));
	rd->nfonts++;
	font_load(rd, fd, f);
	return f;
}

/* fonts_free - a list of fonts */
static void fonts_free(struct pdf_font **list, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		pdf_font_free(list[i]);
		free(list[i]);
	}
	*n = 0;
}

/* ---- content streams -------------------------------------------------- */

/* matrix - a /Matrix array, or the identity */
static void matrix(struct pdf_rd *rd, qpdf_oh a, double m[6])
{
	static const double id[6] = {1, 0, 0, 1, 0, 0};

	memcpy(m, id, sizeof(id));
	if (!qpdf_oh_is_array(rd->q, a) || qpdf_oh_get_array_n_items(rd->q, a) != 6)
		return;
	for (int i = 0; i < 6; i++)
		m[i] = number(rd, qpdf_oh_get_array_item(rd->q, a, i), id[i]);
}

/* run_form - draw a form XObject (or an appearance stream) */
static void run_form(struct pdf_rd *rd, qpdf_oh xo, qpdf_oh res, struct pdf_cs *cs)
{
	int id = qpdf_oh_get_object_id(rd->q, xo);
	qpdf_oh xres = key(rd, xo, "/Resources");
	unsigned char *data;
	size_t len;
	double m[6];

	for (int i = 0; i < rd->nforms; i++)
		if (rd->forms[i] == id) {
			why(rd, "loop in form XObjects (object %d)", id);
			return;
		}
	if (rd->nforms >= PDF_FORM_DEPTH) {
		why(rd, "form XObjects nested too deep");
		return;
	}
	if (++rd->draws > PDF_FORM_DRAWS) {
		if (rd->draws == PDF_FORM_DRAWS + 1)
			why(rd, "form XObjects drawn too often");
		return;
	}
	if ((data = stream_data(rd, xo, &len, "form XObject")) == NULL)
		return;
	matrix(rd, key(rd, xo, "/Matrix"), m);
	pdf_cs_save(cs);
	pdf_cs_concat(cs, m);
	rd->forms[rd->nforms++] = id;
	pdf_cs_run(cs, (void *) (uintptr_t) (qpdf_oh_is_dictionary(rd->q, xres) ? xres : res),
		   data, len);
	rd->nforms--;
	pdf_cs_restore(cs);
	free(data);
}

/* rd_xobject - Do: a form XObject is drawn, an image is not text */
static void rd_xobject(void *ctx, void *res, const char *name, struct pdf_cs *cs)
{
	struct pdf_rd *rd = ctx;
	qpdf_oh xobjs = key(rd, (qpdf_oh) (uintptr_t) res, "/XObject"), xo;
	char k[140];

	snprintf(k, sizeof(k), "/%s", name);
	xo = key(rd, xobjs, k);
	if (qpdf_oh_is_stream(rd->q, xo) && name_is(rd, key(rd, xo, "/Subtype"), "/Form"))
		run_form(rd, xo, (qpdf_oh) (uintptr_t) res, cs);
}

static const struct pdf_cs_ops pdf_ops = {
	.font = rd_font,
	.xobject = rd_xobject,
};

/* cs_done - what an interpreter's run says about the document */
static void cs_done(struct pdf_rd *rd, struct pdf_cs *cs)
{
	if (cs->full && !rd->full) {
		why(rd, "decoded size");
		rd->full = 1;
	}
	if (cs->unmapped && !rd->unmapped_font[0])
		snprintf(rd->unmapped_font, sizeof(rd->unmapped_font), "%s",
			 cs->unmapped_font[0] ? cs->unmapped_font : "none");
	rd->unmapped += cs->unmapped;
}

/* inherited - a page attribute, from the page or the nearest ancestor */
static qpdf_oh inherited(struct pdf_rd *rd, qpdf_oh page, const char *k)
{
	qpdf_oh node = page;

	for (int i = 0; i < PDF_TREE_DEPTH; i++) {
		qpdf_oh v = key(rd, node, k);

		if (!qpdf_oh_is_null(rd->q, v))
			return v;
		node = key(rd, node, "/Parent");
		if (!qpdf_oh_is_dictionary(rd->q, node))
			break;
	}
	return qpdf_oh_new_null(rd->q);
}

static void embedded_file(struct pdf_rd *rd, qpdf_oh fs, const char *tree_name);

/* ---- trees of objects: name trees, field trees ------------------------ */

struct walk {
	qpdf_oh *oh;
	int *depth;
	size_t n, cap;
	int over; /* more than PDF_ITEMS_MAX to visit */
};

/* walk_add - one object to visit */
static void walk_add(struct walk *w, qpdf_oh oh, int depth)
{
	if (w->n >= PDF_ITEMS_MAX) {
		w->over = 1;
		return;
	}
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->oh = xrealloc(w->oh, w->cap * sizeof(*w->oh));
		w->depth = xrealloc(w->depth, w->cap * sizeof(*w->depth));
	}
	w->oh[w->n] = oh;
	w->depth[w->n++] = depth;
}

/* walk_push - the items of an array, to be visited in their order */
static void walk_push(struct pdf_rd *rd, struct walk *w, qpdf_oh arr, int depth)
{
	int m;

	if (!qpdf_oh_is_array(rd->q, arr))
		return;
	m = qpdf_oh_get_array_n_items(rd->q, arr);
	if (m > PDF_ITEMS_MAX) {
		w->over = 1;
		m = PDF_ITEMS_MAX;
	}
	for (int i = m; i > 0 && !w->over; i--)
		walk_add(w, qpdf_oh_get_array_item(rd->q, arr, i - 1), depth);
}

/* walk_free - what a walk holds */
static void walk_free(struct walk *w)
{
	free(w->oh);
	free(w->depth);
}

/* name_tree - every value of a name tree, with its key */
static void name_tree(struct pdf_rd *rd, qpdf_oh top, const char *what,
		      void (*fn)(struct pdf_rd *, qpdf_oh key, qpdf_oh value))
{
	struct walk w = {0};
	int items = 0;

	if (!qpdf_oh_is_dictionary(rd->q, top))
		return;
	walk_add(&w, top, 0);
	while (w.n > 0 && !rd->full) {
		qpdf_oh node = w.oh[--w.n], names;
		int d = w.depth[w.n];

		if (++items > PDF_ITEMS_MAX) {
			w.over = 1;
			break;
		}
		names = key(rd, node, "/Names");
		if (qpdf_oh_is_array(rd->q, names)) {
			int m = qpdf_oh_get_array_n_items(rd->q, names);

			for (int i = 0; i + 1 < m && i < 2 * PDF_ITEMS_MAX && !rd->full; i += 2)
				fn(rd, qpdf_oh_get_array_item(rd->q, names, i),
				   qpdf_oh_get_array_item(rd->q, names, i + 1));
		}
		if (!qpdf_oh_is_array(rd->q, key(rd, node, "/Kids")))
			continue;
		if (d + 1 >= PDF_TREE_DEPTH)
			why(rd, "%s tree nested too deep (a loop?)", what);
		else
			walk_push(rd, &w, key(rd, node, "/Kids"), d + 1);
	}
	if (w.over)
		why(rd, "more than %d %s tree nodes", PDF_ITEMS_MAX, what);
	walk_free(&w);
}

/* ---- JavaScript: what a viewer runs, read as text ---------------------- */

/* js_hex - a hex digit's value, or -1 */
static int js_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* js_hexes - n hex digits at s as a number, or -1 */
static long js_hexes(const char *s, size_t n)
{
	long v = 0;

	for (size_t i = 0; i < n; i++) {
		if (js_hex((unsigned char) s[i]) < 0)
			return -1;
		v = v * 16 + js_hex((unsigned char) s[i]);
	}
	return v;
}

/* js_escape - the escape after a backslash at s: its length, and *cp the
 * code point (-1: a line continuation or a byte copied as it stands) */
static size_t js_escape(const char *s, size_t n, long *cp)
{
	static const char from[] = "ntrbfv0", to[] = "\n\t\r\b\f\v";
	const char *e;
	size_t k = 0;

	*cp = -1;
	if (n == 0 || (unsigned char) s[0] >= 0x80)
		return 0;
	if (s[0] && (e = strchr(from, s[0])) != NULL
	    && (s[0] != '0' || n < 2 || s[1] < '0' || s[1] > '7')) {
		*cp = s[0] == '0' ? 0 : to[e - from];
		return 1;
	}
	if (s[0] == '\r' || s[0] == '\n')
		return s[0] == '\r' && n > 1 && s[1] == '\n' ? 2 : 1;
	if (s[0] == 'x' && n >= 3 && (*cp = js_hexes(s + 1, 2)) >= 0)
		return 3;
	if (s[0] == 'u' && n >= 5 && (*cp = js_hexes(s + 1, 4)) >= 0)
		return 5;
	if (s[0] == 'u' && n >= 3 && s[1] == '{') {
		while (k < 6 && 2 + k < n && js_hex((unsigned char) s[2 + k]) >= 0)
			k++;
		if (k > 0 && 2 + k < n && s[2 + k] == '}'
		    && (*cp = js_hexes(s + 2, k)) < 0x110000)
			return 3 + k;
	}
	if (s[0] >= '0' && s[0] <= '7') { /* legacy octal, up to \377 */
		long v = 0;

		while (k < 3 && k < n && s[k] >= '0' && s[k] <= '7'
		       && v * 8 + (s[k] - '0') <= 0377)
			v = v * 8 + (s[k++] - '0');
		*cp = v;
		return k;
	}
	*cp = (unsigned char) s[0]; /* \q is q */
	return 1;
}

/* js_literal - one string literal at in[i] (its quote): its text, decoded; past it */
static size_t js_literal(const char *in, size_t len, size_t i, struct buf *out)
{
	char q = in[i++];
	long cp, lo;

	while (i < len && in[i] != q) {
		size_t k;

		if (in[i] == '\n' && q != '`')
			return i; /* not closed on its line */
		if (in[i] != '\\') {
			buf_putc(out, in[i++]);
			continue;
		}
		k = js_escape(in + i + 1, len - i - 1, &cp);
		i += 1 + k;
		/* a surrogate pair written as two escapes */
		if (cp >= 0xd800 && cp <= 0xdbff && len - i >= 6 && in[i] == '\\'
		    && in[i + 1] == 'u' && (lo = js_hexes(in + i + 2, 4)) >= 0xdc00
		    && lo <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			i += 6;
		}
		if (cp > 0)
			pdf_utf8_put(out, (uint32_t) cp);
	}
	return i < len ? i + 1 : len;
}

/* js_codes - String.fromCharCode(n, ...) at in[i] as its text; past it, or i */
static size_t js_codes(const char *in, size_t len, size_t i, struct buf *out)
{
	size_t j = i + 12, start = out->len;

	while (j < len && (in[j] == ' ' || in[j] == '\t'))
		j++;
	if (j >= len || in[j++] != '(')
		return i;
	buf_putc(out, '"');
	for (;;) {
		long v = 0;
		int digits = 0, hex = 0;

		while (j < len
		       && (in[j] == ' ' || in[j] == '\t' || in[j] == '\n' || in[j] == '\r'))
			j++;
		if (len - j >= 2 && in[j] == '0' && (in[j + 1] | 0x20) == 'x') {
			hex = 1;
			j += 2;
		}
		for (; j < len && digits < 8
		     && (hex ? js_hex((unsigned char) in[j]) >= 0
			     : in[j] >= '0' && in[j] <= '9');
		     j++, digits++)
			v = v * (hex ? 16 : 10)
				+ (hex ? js_hex((unsigned char) in[j]) : in[j] - '0');
		while (j < len
		       && (in[j] == ' ' || in[j] == '\t' || in[j] == '\n' || in[j] == '\r'))
			j++;
		if (digits == 0 || j >= len || (in[j] != ',' && in[j] != ')')) {
			out->len = start; /* not a list of numbers: as written */
			return i;
		}
		if (v > 0 && v < 0x110000)
			pdf_utf8_put(out, (uint32_t) v);
		if (in[j++] == ')')
			break;
	}
	buf_putc(out, '"');
	return j;
}

/* pdf_js_decode - JavaScript with its string literals decoded (escapes),
 * joined where the script adds them ("41" + "11"), and String.fromCharCode
 * calls as their text: what app.alert() shows. At most limit bytes. */
void pdf_js_decode(const char *in, size_t len, struct buf *out, size_t limit)
{
	size_t i = 0, j;

	while (i < len && out->len < limit) {
		if (in[i] == '"' || in[i] == '\'' || in[i] == '`') {
			buf_putc(out, '"');
			for (;;) {
				i = js_literal(in, len, i, out);
				for (j = i; j < len && strchr(" \t\r\n", in[j]) && in[j]; j++)
					/* void */;
				if (j >= len || in[j] != '+')
					break;
				for (j++; j < len && strchr(" \t\r\n", in[j]) && in[j]; j++)
					/* void */;
				if (j >= len || (in[j] != '"' && in[j] != '\'' && in[j] != '`'))
					break;
				i = j; /* "a" + "b": one string */
			}
			buf_putc(out, '"');
		} else if (len - i >= 12 && memcmp(in + i, "fromCharCode", 12) == 0
			   && (j = js_codes(in, len, i, out)) != i) {
			i = j;
		} else
			buf_putc(out, in[i++]);
	}
	if (out->len > limit)
		out->len = limit;
}

/* js_source - an action's /JS (a text string or a stream) into the JavaScript unit */
static void js_source(struct pdf_rd *rd, qpdf_oh js)
{
	const char *v = NULL;
	unsigned char *data = NULL;
	size_t n = 0;

	if (qpdf_oh_is_stream(rd->q, js)) {
		if ((data = stream_data(rd, js, &n, "JavaScript")) == NULL)
			return;
		v = (const char *) data;
	} else if (!qpdf_oh_is_string(rd->q, js)
		   || !qpdf_oh_get_value_as_utf8(rd->q, js, &v, &n))
		return;
	if (n + 1 > room(rd)) {
		if (!rd->full)
			why(rd, "decoded size");
		rd->full = 1;
	} else if (n >= 2 && (unsigned char) v[0] == 0xfe && (unsigned char) v[1] == 0xff) {
		for (size_t i = 2; i + 1 < n; i += 2) /* a stream in UTF-16BE */
			pdf_utf8_put(&rd->js,
				     (uint32_t) (unsigned char) v[i] << 8
					     | (unsigned char) v[i + 1]);
		buf_putc(&rd->js, '\n');
	} else {
		buf_append(&rd->js, v, n);
		buf_putc(&rd->js, '\n');
	}
	free(data);
}

/* js_action - the JavaScript of an action and of the actions after it (/Next) */
static void js_action(struct pdf_rd *rd, qpdf_oh a, int depth)
{
	qpdf_oh next;

	if (!qpdf_oh_is_dictionary(rd->q, a) || rd->full || seen(rd, a))
		return;
	if (depth >= PDF_TREE_DEPTH || ++rd->actions > PDF_ITEMS_MAX) {
		if (depth >= PDF_TREE_DEPTH || rd->actions == PDF_ITEMS_MAX + 1)
			why(rd, "actions chained too long (%s)",
			    depth >= PDF_TREE_DEPTH ? "nested" : "count");
		return;
	}
	if (name_is(rd, key(rd, a, "/S"), "/JavaScript"))
		js_source(rd, key(rd, a, "/JS"));
	next = key(rd, a, "/Next");
	if (qpdf_oh_is_array(rd->q, next)) {
		int n = qpdf_oh_get_array_n_items(rd->q, next);

		for (int i = 0; i < n && rd->actions <= PDF_ITEMS_MAX; i++)
			js_action(rd, qpdf_oh_get_array_item(rd->q, next, i), depth + 1);
	} else
		js_action(rd, next, depth + 1);
}

/* js_triggers - the actions of an additional-actions (/AA) dictionary */
static void js_triggers(struct pdf_rd *rd, qpdf_oh aa)
{
	/* the triggers of documents, pages, annotations and form fields */
	static const char *const trig[] = {"/O",  "/C",  "/K",  "/F",  "/V",  "/E",  "/X",
					   "/D",  "/U",  "/Fo", "/Bl", "/PO", "/PC", "/PV",
					   "/PI", "/WC", "/WS", "/DS", "/WP", "/DP"};

	if (!qpdf_oh_is_dictionary(rd->q, aa))
		return;
	for (size_t i = 0; i < sizeof(trig) / sizeof(trig[0]); i++)
		js_action(rd, key(rd, aa, trig[i]), 0);
}

/* js_named - a document-level script of the JavaScript name tree */
static void js_named(struct pdf_rd *rd, qpdf_oh name, qpdf_oh action)
{
	(void) name;
	js_action(rd, action, 0);
}

/* read_javascript - the document's own scripts: named, on opening, its triggers */
static void read_javascript(struct pdf_rd *rd)
{
	qpdf_oh root = qpdf_get_root(rd->q);

	name_tree(rd, key(rd, key(rd, root, "/Names"), "/JavaScript"), "JavaScript", js_named);
	js_action(rd, key(rd, root, "/OpenAction"), 0);
	js_triggers(rd, key(rd, root, "/AA"));
}

/* js_end - the document's JavaScript as a unit: the source as written, and
 * with its strings decoded and joined (escapes, "a" + "b", fromCharCode) */
static void js_end(struct pdf_rd *rd)
{
	struct buf dec;

	if (rd->js.len == 0)
		return;
	unit_end(rd);
	buf_init(&dec, rd->js.len + 16);
	pdf_js_decode(rd->js.data, rd->js.len, &dec, rd->js.len);
	buf_append(&rd->unit, rd->js.data, rd->js.len);
	buf_reset(&rd->js);
	unit_end_alt(rd, &dec);
	buf_free(&dec);
}

/* ---- annotations, forms, metadata, files ------------------------------ */

/* appearance - the normal appearance stream of an annotation */
static qpdf_oh appearance(struct pdf_rd *rd, qpdf_oh annot)
{
	qpdf_oh n = key(rd, key(rd, annot, "/AP"), "/N");

	if (qpdf_oh_is_dictionary(rd->q, n) && !qpdf_oh_is_stream(rd->q, n)) {
		qpdf_oh as = key(rd, annot, "/AS");

		n = qpdf_oh_is_name(rd->q, as) ? key(rd, n, qpdf_oh_get_name(rd->q, as))
					       : qpdf_oh_new_null(rd->q);
	}
	return n;
}

/* field_value - a form field's value into the unit, once per field */
static void field_value(struct pdf_rd *rd, qpdf_oh field)
{
	qpdf_oh v = key(rd, field, "/V");

	if (qpdf_oh_is_null(rd->q, v) || seen(rd, field))
		return;
	if (qpdf_oh_is_array(rd->q, v)) {
		int n = qpdf_oh_get_array_n_items(rd->q, v);

		for (int i = 0; i < n && i < PDF_ITEMS_MAX; i++)
			text_value(rd, qpdf_oh_get_array_item(rd->q, v, i));
	} else if (qpdf_oh_is_stream(rd->q, v)) {
		unsigned char *data;
		size_t len;

		if ((data = stream_data(rd, v, &len, "form field value")) != NULL) {
			unit_put(rd, (const char *) data, len);
			free(data);
		}
	} else
		text_value(rd, v);
}

/* page_annots - the text of a page's annotations */
static void page_annots(struct pdf_rd *rd, qpdf_oh page, struct pdf_cs *cs)
{
	qpdf_oh annots = key(rd, page, "/Annots");
	int n;

	if (!qpdf_oh_is_array(rd->q, annots))
		return;
	n = qpdf_oh_get_array_n_items(rd->q, annots);
	if (n > PDF_ANNOTS_MAX) {
		why(rd, "more than %d annotations on a page", PDF_ANNOTS_MAX);
		n = PDF_ANNOTS_MAX;
	}
	for (int i = 0; i < n && !rd->full; i++) {
		qpdf_oh a = qpdf_oh_get_array_item(rd->q, annots, i), sub, rc, ap;

		if (!qpdf_oh_is_dictionary(rd->q, a))
			continue;
		sub = key(rd, a, "/Subtype");
		js_action(rd, key(rd, a, "/A"), 0);
		js_triggers(rd, key(rd, a, "/AA"));
		text_value(rd, key(rd, a, "/Contents"));
		rc = key(rd, a, "/RC");
		if (qpdf_oh_is_string(rd->q, rc)) {
			const char *v;
			size_t len;

			if (qpdf_oh_get_value_as_utf8(rd->q, rc, &v, &len))
				rec(rd, PDF_REC_XML, v, len);
		}
		if (name_is(rd, sub, "/FileAttachment"))
			embedded_file(rd, key(rd, a, "/FS"), NULL);
		if (name_is(rd, sub, "/Widget")) {
			/* a field whose widget is on the page but not in the AcroForm tree */
			field_value(rd,
				    qpdf_oh_is_null(rd->q, key(rd, a, "/V"))
						    && !qpdf_oh_is_null(rd->q,
									key(rd, a, "/Parent"))
					    ? key(rd, a, "/Parent")
					    : a);
			continue;
		}
		ap = appearance(rd, a);
		if (qpdf_oh_is_stream(rd->q, ap)) {
			pdf_cs_break(cs, "\n");
			run_form(rd, ap, qpdf_oh_new_dictionary(rd->q), cs);
		}
	}
}

/* page_end - the page's unit, in stream order and in the order a viewer shows it */
static void page_end(struct pdf_rd *rd, int i)
{
	struct buf alt;

	if (rd->runs.over)
		why(rd, "page %d: more than %u runs of text to put in reading order", i + 1,
		    PDF_RUNS_MAX);
	if (rd->runs.n < 2) {
		unit_end(rd);
		return;
	}
	buf_init(&alt, rd->unit.len + 64);
	if (!pdf_layout(&rd->runs, rd->unit.data, rd->unit.len, &alt, room(rd)) && !rd->full) {
		why(rd, "decoded size");
		rd->full = 1;
	}
	unit_end_alt(rd, &alt);
	buf_free(&alt);
}

/* read_page - one page's text (contents and annotations) as a unit */
static void read_page(struct pdf_rd *rd, int i)
{
	qpdf_oh page = qpdf_get_page_n(rd->q, (size_t) i), res;
	unsigned char *data = NULL;
	size_t len = 0;
	struct pdf_cs cs;
	char msg[128];

	if (!qpdf_oh_is_dictionary(rd->q, page)) {
		(void) qerr(rd, NULL, 0);
		why(rd, "page %d cannot be read", i + 1);
		return;
	}
	res = inherited(rd, page, "/Resources");
	js_triggers(rd, key(rd, page, "/AA"));
	pdf_cs_init(&cs, &pdf_ops, rd, &rd->unit, rd->unit.len + room(rd));
	pdf_runs_reset(&rd->runs);
	cs.runs = &rd->runs;
	if (!qpdf_oh_is_null(rd->q, key(rd, page, "/Contents"))) {
		if ((qpdf_oh_get_page_content_data(rd->q, page, &data, &len) & QPDF_ERRORS)
		    || qerr(rd, msg, sizeof(msg))) {
			if (!qerr(rd, msg, sizeof(msg)))
				snprintf(msg, sizeof(msg), "cannot be decoded");
			why(rd, "page %d content: %s", i + 1, msg);
		} else
			pdf_cs_run(&cs, (void *) (uintptr_t) res, data, len);
		free(data);
	}
	page_annots(rd, page, &cs);
	cs_done(rd, &cs);
	page_end(rd, i);
}

/* read_fields - AcroForm field values, and XFA form data */
static void read_fields(struct pdf_rd *rd)
{
	qpdf_oh acro = key(rd, qpdf_get_root(rd->q), "/AcroForm"), xfa;
	struct walk w = {0};
	int items = 0;

	walk_push(rd, &w, key(rd, acro, "/Fields"), 0);
	while (w.n > 0 && !rd->full) {
		qpdf_oh f = w.oh[--w.n];
		int d = w.depth[w.n];

		if (++items > PDF_ITEMS_MAX) {
			w.over = 1;
			break;
		}
		if (!qpdf_oh_is_dictionary(rd->q, f))
			continue;
		if (!qpdf_oh_is_null(rd->q, key(rd, f, "/V")))
			field_value(rd, f);
		if (!name_is(rd, key(rd, f, "/Subtype"), "/Widget"))
			js_triggers(rd, key(rd, f, "/AA")); /* widgets: with their page */
		if (!qpdf_oh_is_array(rd->q, key(rd, f, "/Kids")))
			continue;
		if (d + 1 >= PDF_TREE_DEPTH)
			why(rd, "form fields nested too deep (a loop?)");
		else
			walk_push(rd, &w, key(rd, f, "/Kids"), d + 1);
	}
	if (w.over)
		why(rd, "more than %d form fields", PDF_ITEMS_MAX);
	walk_free(&w);
	unit_end(rd);
	xfa = key(rd, acro, "/XFA");
	if (qpdf_oh_is_stream(rd->q, xfa)) {
		unsigned char *data;
		size_t len;

		if ((data = stream_data(rd, xfa, &len, "XFA form")) != NULL) {
			rec(rd, PDF_REC_XML, data, len);
			free(data);
		}
	} else if (qpdf_oh_is_array(rd->q, xfa)) {
		int m = qpdf_oh_get_array_n_items(rd->q, xfa);

		for (int i = 1; i < m && i < 1000; i += 2) {
			unsigned char *data;
			size_t len;

			data = stream_data(rd, qpdf_oh_get_array_item(rd->q, xfa, i), &len,
					   "XFA form");
			if (data) {
				rec(rd, PDF_REC_XML, data, len);
				free(data);
			}
		}
	}
}

/* read_metadata - the Info dictionary's strings and the XMP packet */
static void read_metadata(struct pdf_rd *rd)
{
	qpdf_oh info = key(rd, qpdf_get_trailer(rd->q), "/Info"), xmp;
	char **keys = NULL;
	size_t nkeys = 0;

	if (qpdf_oh_is_dictionary(rd->q, info)) {
		qpdf_oh_begin_dict_key_iter(rd->q, info);
		while (qpdf_oh_dict_more_keys(rd->q) && nkeys < 1000) {
			keys = xrealloc(keys, (nkeys + 1) * sizeof(char *));
			keys[nkeys++] = xstrdup(qpdf_oh_dict_next_key(rd->q));
		}
		for (size_t i = 0; i < nkeys; i++) {
			/* dates are the producer's, not the author's text */
			if (strcmp(keys[i], "/CreationDate") && strcmp(keys[i], "/ModDate"))
				text_value(rd, qpdf_oh_get_key(rd->q, info, keys[i]));
			free(keys[i]);
		}
		free(keys);
	}
	unit_end(rd);
	xmp = key(rd, qpdf_get_root(rd->q), "/Metadata");
	if (qpdf_oh_is_stream(rd->q, xmp)) {
		unsigned char *data;
		size_t len;

		if ((data = stream_data(rd, xmp, &len, "XMP metadata")) != NULL) {
			if (len <= room(rd)) {
				rec(rd, PDF_REC_XML, data, len);
				rd->used += len;
			} else
				why(rd, "decoded size");
			free(data);
		}
	}
}

/* read_outlines - bookmark titles */
static void read_outlines(struct pdf_rd *rd)
{
	qpdf_oh stack[PDF_TREE_DEPTH * 2];
	int n = 0, items = 0;
	qpdf_oh first = key(rd, key(rd, qpdf_get_root(rd->q), "/Outlines"), "/First");

	if (qpdf_oh_is_dictionary(rd->q, first))
		stack[n++] = first;
	while (n > 0 && !rd->full) {
		qpdf_oh it = stack[--n], next, child;

		if (++items > PDF_ITEMS_MAX) {
			why(rd, "more than %d outline items (a loop?)", PDF_ITEMS_MAX);
			break;
		}
		text_value(rd, key(rd, it, "/Title"));
		next = key(rd, it, "/Next");
		child = key(rd, it, "/First");
		/* siblings replace the item; children nest (bounded) */
		if (qpdf_oh_is_dictionary(rd->q, next) && n < PDF_TREE_DEPTH * 2)
			stack[n++] = next;
		if (!qpdf_oh_is_dictionary(rd->q, child))
			continue;
		if (n >= PDF_TREE_DEPTH * 2) {
			why(rd, "outline nested too deep");
			continue;
		}
		stack[n++] = child;
	}
	unit_end(rd);
}

/* embedded_file - an embedded file's bytes, for the parent to scan */
static void embedded_file(struct pdf_rd *rd, qpdf_oh fs, const char *tree_name)
{
	qpdf_oh ef = key(rd, fs, "/EF"), s, nm;
	unsigned char *data;
	size_t len, nlen;
	const char *name = NULL;
	struct buf r;

	if (!qpdf_oh_is_dictionary(rd->q, ef))
		return; /* a reference to a file outside */
	s = key(rd, ef, "/UF");
	if (!qpdf_oh_is_stream(rd->q, s))
		s = key(rd, ef, "/F");
	if (!qpdf_oh_is_stream(rd->q, s) || seen(rd, s))
		return;
	nm = key(rd, fs, "/UF");
	if (!qpdf_oh_is_string(rd->q, nm))
		nm = key(rd, fs, "/F");
	if (qpdf_oh_is_string(rd->q, nm))
		name = qpdf_oh_get_utf8_value(rd->q, nm);
	name = xstrdup(name && *name ? name : tree_name ? tree_name : "");
	if ((data = stream_data(rd, s, &len, "embedded file")) == NULL) {
		free((char *) name);
		return;
	}
	if (len > room(rd)) {
		why(rd, "decoded size");
		rd->full = 1;
	} else {
		nlen = strlen(name) < 255 ? strlen(name) : 255;
		buf_init(&r, len + nlen + 2);
		buf_putc(&r, (int) (nlen & 0xff));
		buf_putc(&r, (int) (nlen >> 8));
		buf_append(&r, name, nlen);
		buf_append(&r, data, len);
		rec(rd, PDF_REC_FILE, r.data, r.len);
		rd->used += len;
		buf_free(&r);
	}
	free(data);
	free((char *) name);
}

/* file_named - an EmbeddedFiles entry: the file, by its key when it has no name */
static void file_named(struct pdf_rd *rd, qpdf_oh name, qpdf_oh fs)
{
	char *tn = qpdf_oh_is_string(rd->q, name) ? xstrdup(qpdf_oh_get_utf8_value(rd->q, name))
						  : NULL;

	embedded_file(rd, fs, tn);
	free(tn);
}

/* read_files - the EmbeddedFiles name tree */
static void read_files(struct pdf_rd *rd)
{
	name_tree(rd, key(rd, key(rd, qpdf_get_root(rd->q), "/Names"), "/EmbeddedFiles"),
		  "embedded file", file_named);
}

/* rd_free - what a reader holds */
static void rd_free(struct pdf_rd *rd)
{
	fonts_free(rd->direct, &rd->ndirect);
	free(rd->direct);
	for (size_t i = 0; i < rd->nfonts; i++) {
		pdf_font_free(rd->fonts[i].font);
		free(rd->fonts[i].font);
	}
	free(rd->fonts);
	free(rd->seen);
	buf_free(&rd->unit);
	buf_free(&rd->js);
	buf_free(&rd->wbuf);
	pdf_runs_free(&rd->runs);
	if (rd->q)
		qpdf_cleanup(&rd->q);
}

/*
 * with_trailer - a copy of a document whose trailer is gone (cut short),
 * with one that names its catalog, as viewers find it: qpdf rebuilds the
 * cross-reference table of a damaged file but needs a trailer for the root.
 */
static char *with_trailer(const char *data, size_t len, size_t *newlen)
{
	const char *cat = NULL, *p = data, *end = data + len;
	struct buf b;

	while (p < end && (p = memmem(p, (size_t) (end - p), "/Catalog", 8)) != NULL)
		cat = p++;
	if (cat == NULL)
		return NULL;
	/* back to "N G obj" before it */
	for (p = cat; p > data + 4 && p > cat - 4096; p--) {
		long num = 0, gen = 0, mul = 1;
		const char *q;

		if (memcmp(p - 3, "obj", 3) != 0 || (p - 4 >= data && p[-4] != ' '))
			continue;
		q = p - 5;
		while (q > data && *q >= '0' && *q <= '9' && mul < 100000) {
			gen += (*q-- - '0') * mul;
			mul *= 10;
		}
		if (q <= data || *q != ' ')
			return NULL;
		q--;
		for (mul = 1; q >= data && *q >= '0' && *q <= '9' && mul < 10000000000L; q--) {
			num += (*q - '0') * mul;
			mul *= 10;
		}
		if (num <= 0)
			return NULL;
		buf_init(&b, len + 128);
		buf_append(&b, data, len);
		buf_printf(&b, "\ntrailer\n<< /Root %ld %ld R >>\n%%%%EOF\n", num, gen);
		*newlen = b.len;
		return b.data;
	}
	return NULL;
}

/* open_doc - qpdf reads the document, rebuilt if it must be; 0 if it did */
static int open_doc(struct pdf_rd *rd, const char *data, size_t len, char **copy)
{
	qpdf_error e;
	size_t n;
	char msg[160];

	if (!(qpdf_read_memory(rd->q, "document", data, len, "") & QPDF_ERRORS))
		return 0;
	e = qpdf_get_error(rd->q);
	if (e && qpdf_get_error_code(rd->q, e) == qpdf_e_password) {
		rec(rd, PDF_REC_FAIL, "encrypted with a password", 25);
		return -1;
	}
	snprintf(msg, sizeof(msg), "%s",
		 e ? qpdf_get_error_message_detail(rd->q, e) : "damaged");
	if ((*copy = with_trailer(data, len, &n)) != NULL) {
		qpdf_cleanup(&rd->q);
		rd->q = qpdf_init();
		qpdf_silence_errors(rd->q);
		qpdf_set_suppress_warnings(rd->q, QPDF_TRUE);
		qpdf_set_attempt_recovery(rd->q, QPDF_TRUE);
		if (!(qpdf_read_memory(rd->q, "document", *copy, n, "") & QPDF_ERRORS))
			return 0;
		(void) qerr(rd, NULL, 0);
	}
	{
		char text[PDF_WHY_MAX];

		snprintf(text, sizeof(text), "cannot be read: %s", msg);
		rec(rd, PDF_REC_FAIL, text, strlen(text));
	}
	return -1;
}

/* read_doc - read a document, write its records to fd; the exit status.
 * exiting: the process exits next, so what the reader holds is left to
 * the exit (freeing qpdf's objects of a large document takes a few per
 * cent of the reading, while the parent waits for the exit) */
static int read_doc(const char *data, size_t len, size_t budget, int fd, int exiting)
{
	struct pdf_rd rd = {.fd = fd, .budget = budget};
	char msg[160];
	int npages;

	char *copy = NULL;

	buf_init(&rd.unit, 4096);
	buf_init(&rd.js, 256);
	buf_init(&rd.wbuf, 65536);
	rd.runs.max = PDF_RUNS_MAX;
	rd.q = qpdf_init();
	qpdf_silence_errors(rd.q);
	qpdf_set_suppress_warnings(rd.q, QPDF_TRUE);
	qpdf_set_attempt_recovery(rd.q, QPDF_TRUE);
	if (open_doc(&rd, data, len, &copy) < 0) {
		rec(&rd, PDF_REC_END, NULL, 0);
		rd_free(&rd);
		free(copy);
		return 0;
	}
	drain(&rd);
	read_metadata(&rd);
	read_fields(&rd);
	if ((npages = qpdf_get_num_pages(rd.q)) < 0) {
		(void) qerr(&rd, msg, sizeof(msg));
		why(&rd, "page tree: %s", msg);
	}
	for (int i = 0; i < npages && !rd.full && !rd.broken; i++) {
		read_page(&rd, i);
		fonts_free(rd.direct, &rd.ndirect);
		drain(&rd);
		/* the handles of this page are not needed again */
		qpdf_oh_release_all(rd.q);
	}
	read_outlines(&rd);
	read_files(&rd);
	read_javascript(&rd);
	unit_end(&rd);
	js_end(&rd);
	if (rd.unmapped >= PDF_UNMAPPED_MAX)
		why(&rd, "text without a Unicode map (font %s)", rd.unmapped_font);
	rec(&rd, PDF_REC_END, NULL, 0);
	if (exiting)
		return 0;
	rd_free(&rd);
	free(copy);
	return 0;
}

/* pdf_read - read a document, write its records to fd; the exit status */
int pdf_read(const char *data, size_t len, size_t budget, int fd)
{
	return read_doc(data, len, budget, fd, 0);
}

/* pdf_read_exit - pdf_read for a process that exits when it returns */
int pdf_read_exit(const char *data, size_t len, size_t budget, int fd)
{
	return read_doc(data, len, budget, fd, 1);
}
