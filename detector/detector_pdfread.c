/*
 * detector_pdfread - the PDF reader: a document's text, through qpdf
 *
 * pdf_read() runs in the confined child (detector_pdf.c) and in the fuzz
 * harness. It opens the document with qpdf (libqpdf): cross-reference
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

#define PDF_FORM_DEPTH	12		/* form XObjects within form XObjects */
#define PDF_FORM_DRAWS	1000000		/* form XObjects drawn per document */
#define PDF_TREE_DEPTH	32		/* name trees, field trees */
#define PDF_ITEMS_MAX	100000		/* outline items, fields, tree nodes */
#define PDF_ANNOTS_MAX	10000		/* annotations per page */
#define PDF_UNMAPPED_MAX 8		/* glyphs without Unicode before it counts */
#define PDF_WHY_MAX	200
#define PDF_FONTS_MAX	10000		/* fonts kept for the document */

/* ---- the reader (the confined child) ----------------------------------- */

struct pdf_cached_font {
	int     id, gen;
	struct pdf_font *font;
};

struct pdf_rd {
	qpdf_data q;
	int     fd;
	int     broken;			/* the pipe is gone */
	size_t  budget, used;		/* bytes of text and files */
	struct buf unit;
	struct pdf_cached_font *fonts;	/* indirect fonts, for the document */
	size_t  nfonts;
	struct pdf_font **direct;	/* direct fonts (and past the cache), per page */
	size_t  ndirect;
	int     forms[PDF_FORM_DEPTH];	/* form XObjects being drawn */
	int     nforms;
	unsigned long draws;
	unsigned long unmapped;
	char    unmapped_font[64];
	int     *seen;			/* object ids already read (fields, files) */
	size_t  nseen, capseen;
	int     full;
};

static const struct pdf_cs_ops pdf_ops;

/* rec - one record to the parent */
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
	if (confine_write(rd->fd, h, sizeof(h)) < 0
	    || (len && confine_write(rd->fd, data, len) < 0))
		rd->broken = 1;
}

/* why - a reason the document is not completely read */
static void why(struct pdf_rd *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void why(struct pdf_rd *rd, const char *fmt, ...)
{
	char    text[PDF_WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	rec(rd, PDF_REC_WHY, text, strlen(text));
}

/* room - text bytes the unit may still take */
static size_t room(const struct pdf_rd *rd)
{
	size_t  used = rd->used + rd->unit.len;

	return used >= rd->budget ? 0 : rd->budget - used;
}

/* unit_end - send the unit's text, if any */
static void unit_end(struct pdf_rd *rd)
{
	if (rd->unit.len) {
		for (size_t off = 0; off < rd->unit.len; off += 1 << 20) {
			size_t  n = rd->unit.len - off < 1 << 20 ? rd->unit.len - off : 1 << 20;

			rec(rd, PDF_REC_TEXT, rd->unit.data + off, n);
		}
		rec(rd, PDF_REC_UNIT, NULL, 0);
		rd->used += rd->unit.len;
		buf_reset(&rd->unit);
	}
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
	double  v;

	if (!qpdf_oh_is_number(rd->q, oh))
		return def;
	v = qpdf_oh_get_numeric_value(rd->q, oh);
	return isfinite(v) ? v : def;
}

/* seen - has this indirect object been read? (and remember it: a hash set) */
static int seen(struct pdf_rd *rd, qpdf_oh oh)
{
	int     id = qpdf_oh_get_object_id(rd->q, oh);
	size_t  i;

	if (id <= 0)
		return 0;
	if (rd->nseen * 2 >= rd->capseen) {	/* grow: rehash into twice the room */
		size_t  cap = rd->capseen ? rd->capseen * 2 : 256;
		int    *t = xcalloc(cap, sizeof(int));

		for (size_t k = 0; k < rd->capseen; k++)
			if (rd->seen[k] > 0) {
				for (i = (size_t) rd->seen[k] * 2654435761u % cap; t[i]; i = (i + 1) % cap)
					;
				t[i] = rd->seen[k];
			}
		free(rd->seen);
		rd->seen = t;
		rd->capseen = cap;
	}
	for (i = (size_t) id * 2654435761u % rd->capseen; rd->seen[i]; i = (i + 1) % rd->capseen)
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
	char    msg[128];

	*len = 0;
	if (!qpdf_oh_is_stream(rd->q, s))
		return NULL;
	if ((qpdf_oh_get_stream_data(rd->q, s, qpdf_dl_specialized, &filtered, &data, len)
	     & QPDF_ERRORS) || qerr(rd, msg, sizeof(msg))) {
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
	size_t  n = 0;

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
	double  missing = number(rd, key(rd, key(rd, fd, "/FontDescriptor"), "/MissingWidth"), -1);
	int     first = (int) number(rd, key(rd, fd, "/FirstChar"), 0);
	int     n;

	if (!qpdf_oh_is_array(rd->q, w))
		return;
	f->widths_known = 1;
	for (int c = 0; c < 256; c++)
		f->widths[c] = (float) (missing >= 0 ? missing : 0);
	n = qpdf_oh_get_array_n_items(rd->q, w);
	for (int i = 0; i < n && i < 256; i++) {
		int     c = first + i;

		if (c >= 0 && c < 256)
			f->widths[c] = (float) number(rd, qpdf_oh_get_array_item(rd->q, w, i), 0);
	}
}

/* font_encoding_simple - a simple font's /Encoding and /Differences */
static void font_encoding_simple(struct pdf_rd *rd, qpdf_oh fd, struct pdf_font *f)
{
	qpdf_oh enc = key(rd, fd, "/Encoding"), diff;
	int     n, code = 0;

	pdf_font_encoding(f, "StandardEncoding");
	if (qpdf_oh_is_name(rd->q, enc)) {
		pdf_font_encoding(f, qpdf_oh_get_name(rd->q, enc) + 1);
		return;
	}
	if (!qpdf_oh_is_dictionary(rd->q, enc))
		return;
	if (qpdf_oh_is_name(rd->q, key(rd, enc, "/BaseEncoding")))
		pdf_font_encoding(f, qpdf_oh_get_name(rd->q, key(rd, enc, "/BaseEncoding")) + 1);
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
	size_t  cap = 0;
	int     n;

	f->dw = (float) number(rd, key(rd, cid, "/DW"), 1000);
	f->widths_known = 1;
	if (!qpdf_oh_is_array(rd->q, w))
		return;
	n = qpdf_oh_get_array_n_items(rd->q, w);
	for (int i = 0; i + 1 < n;) {
		qpdf_oh a = qpdf_oh_get_array_item(rd->q, w, i), b = qpdf_oh_get_array_item(rd->q, w, i + 1);
		double  first = number(rd, a, -1);

		if (qpdf_oh_is_array(rd->q, b)) {
			int     m = qpdf_oh_get_array_n_items(rd->q, b);

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
	qsort(f->w, f->nw, sizeof(*f->w), wr_cmp);
}

/* cmap_stream - a CMap from a stream, or NULL */
static struct pdf_cmap *cmap_stream(struct pdf_rd *rd, qpdf_oh s, const char *what)
{
	struct pdf_cmap *cm;
	unsigned char *data;
	size_t  len;

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
			double  a = number(rd, qpdf_oh_get_array_item(rd->q, fm, 0), 0.001);

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
	char    k[140];
	int     id, gen;
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
	int     id = qpdf_oh_get_object_id(rd->q, xo);
	qpdf_oh xres = key(rd, xo, "/Resources");
	unsigned char *data;
	size_t  len;
	double  m[6];

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
	char    k[140];

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

/* ---- annotations, forms, metadata, files ------------------------------ */

static void embedded_file(struct pdf_rd *rd, qpdf_oh fs, const char *tree_name);

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
		int     n = qpdf_oh_get_array_n_items(rd->q, v);

		for (int i = 0; i < n && i < PDF_ITEMS_MAX; i++)
			text_value(rd, qpdf_oh_get_array_item(rd->q, v, i));
	} else if (qpdf_oh_is_stream(rd->q, v)) {
		unsigned char *data;
		size_t  len;

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
	int     n;

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
		text_value(rd, key(rd, a, "/Contents"));
		rc = key(rd, a, "/RC");
		if (qpdf_oh_is_string(rd->q, rc)) {
			const char *v;
			size_t  len;

			if (qpdf_oh_get_value_as_utf8(rd->q, rc, &v, &len))
				rec(rd, PDF_REC_XML, v, len);
		}
		if (name_is(rd, sub, "/FileAttachment"))
			embedded_file(rd, key(rd, a, "/FS"), NULL);
		if (name_is(rd, sub, "/Widget")) {
			/* a field whose widget is on the page but not in the AcroForm tree */
			field_value(rd, qpdf_oh_is_null(rd->q, key(rd, a, "/V"))
				    && !qpdf_oh_is_null(rd->q, key(rd, a, "/Parent"))
				    ? key(rd, a, "/Parent") : a);
			continue;
		}
		ap = appearance(rd, a);
		if (qpdf_oh_is_stream(rd->q, ap)) {
			pdf_cs_break(cs, "\n");
			run_form(rd, ap, qpdf_oh_new_dictionary(rd->q), cs);
		}
	}
}

/* read_page - one page's text (contents and annotations) as a unit */
static void read_page(struct pdf_rd *rd, int i)
{
	qpdf_oh page = qpdf_get_page_n(rd->q, (size_t) i), res;
	unsigned char *data = NULL;
	size_t  len = 0;
	struct pdf_cs cs;
	char    msg[128];

	if (!qpdf_oh_is_dictionary(rd->q, page)) {
		(void) qerr(rd, NULL, 0);
		why(rd, "page %d cannot be read", i + 1);
		return;
	}
	res = inherited(rd, page, "/Resources");
	pdf_cs_init(&cs, &pdf_ops, rd, &rd->unit, rd->unit.len + room(rd));
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
	unit_end(rd);
}

/* read_fields - AcroForm field values, and XFA form data */
static void read_fields(struct pdf_rd *rd)
{
	qpdf_oh acro = key(rd, qpdf_get_root(rd->q), "/AcroForm"), xfa;
	qpdf_oh stack[PDF_TREE_DEPTH * 4];
	int     depth[PDF_TREE_DEPTH * 4], n = 0, items = 0;
	qpdf_oh fields = key(rd, acro, "/Fields");

	if (qpdf_oh_is_array(rd->q, fields)) {
		int     m = qpdf_oh_get_array_n_items(rd->q, fields);

		for (int i = m - 1; i >= 0 && n < (int) (sizeof(stack) / sizeof(stack[0])); i--) {
			stack[n] = qpdf_oh_get_array_item(rd->q, fields, i);
			depth[n++] = 0;
		}
	}
	while (n > 0 && !rd->full) {
		qpdf_oh f = stack[--n], kids;
		int     d = depth[n];

		if (++items > PDF_ITEMS_MAX) {
			why(rd, "more than %d form fields", PDF_ITEMS_MAX);
			break;
		}
		if (!qpdf_oh_is_dictionary(rd->q, f))
			continue;
		if (!qpdf_oh_is_null(rd->q, key(rd, f, "/V")))
			field_value(rd, f);
		kids = key(rd, f, "/Kids");
		if (!qpdf_oh_is_array(rd->q, kids))
			continue;
		if (d + 1 >= PDF_TREE_DEPTH) {
			why(rd, "form fields nested too deep (a loop?)");
			continue;
		}
		for (int i = qpdf_oh_get_array_n_items(rd->q, kids) - 1;
		     i >= 0 && n < (int) (sizeof(stack) / sizeof(stack[0])); i--) {
			stack[n] = qpdf_oh_get_array_item(rd->q, kids, i);
			depth[n++] = d + 1;
		}
	}
	unit_end(rd);
	xfa = key(rd, acro, "/XFA");
	if (qpdf_oh_is_stream(rd->q, xfa)) {
		unsigned char *data;
		size_t  len;

		if ((data = stream_data(rd, xfa, &len, "XFA form")) != NULL) {
			rec(rd, PDF_REC_XML, data, len);
			free(data);
		}
	} else if (qpdf_oh_is_array(rd->q, xfa)) {
		int     m = qpdf_oh_get_array_n_items(rd->q, xfa);

		for (int i = 1; i < m && i < 1000; i += 2) {
			unsigned char *data;
			size_t  len;

			data = stream_data(rd, qpdf_oh_get_array_item(rd->q, xfa, i), &len, "XFA form");
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
	char  **keys = NULL;
	size_t  nkeys = 0;

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
		size_t  len;

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
	int     n = 0, items = 0;
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
	size_t  len, nlen;
	const char *name = NULL;
	struct buf r;

	if (!qpdf_oh_is_dictionary(rd->q, ef))
		return;				/* a reference to a file outside */
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

/* read_files - the EmbeddedFiles name tree */
static void read_files(struct pdf_rd *rd)
{
	qpdf_oh stack[PDF_TREE_DEPTH * 4];
	int     depth[PDF_TREE_DEPTH * 4], n = 0, items = 0;
	qpdf_oh top = key(rd, key(rd, qpdf_get_root(rd->q), "/Names"), "/EmbeddedFiles");

	if (qpdf_oh_is_dictionary(rd->q, top)) {
		stack[n] = top;
		depth[n++] = 0;
	}
	while (n > 0 && !rd->full) {
		qpdf_oh node = stack[--n], names, kids;
		int     d = depth[n];

		if (++items > PDF_ITEMS_MAX) {
			why(rd, "more than %d embedded file tree nodes", PDF_ITEMS_MAX);
			break;
		}
		names = key(rd, node, "/Names");
		if (qpdf_oh_is_array(rd->q, names)) {
			int     m = qpdf_oh_get_array_n_items(rd->q, names);

			for (int i = 0; i + 1 < m && i < 2 * PDF_ITEMS_MAX; i += 2) {
				qpdf_oh k = qpdf_oh_get_array_item(rd->q, names, i);
				char   *tn = qpdf_oh_is_string(rd->q, k)
					? xstrdup(qpdf_oh_get_utf8_value(rd->q, k)) : NULL;

				embedded_file(rd, qpdf_oh_get_array_item(rd->q, names, i + 1), tn);
				free(tn);
			}
		}
		kids = key(rd, node, "/Kids");
		if (!qpdf_oh_is_array(rd->q, kids))
			continue;
		if (d + 1 >= PDF_TREE_DEPTH) {
			why(rd, "embedded file tree nested too deep (a loop?)");
			continue;
		}
		for (int i = qpdf_oh_get_array_n_items(rd->q, kids) - 1;
		     i >= 0 && n < (int) (sizeof(stack) / sizeof(stack[0])); i--) {
			stack[n] = qpdf_oh_get_array_item(rd->q, kids, i);
			depth[n++] = d + 1;
		}
	}
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
		long    num = 0, gen = 0, mul = 1;
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
	size_t  n;
	char    msg[160];

	if (!(qpdf_read_memory(rd->q, "document", data, len, "") & QPDF_ERRORS))
		return 0;
	e = qpdf_get_error(rd->q);
	if (e && qpdf_get_error_code(rd->q, e) == qpdf_e_password) {
		rec(rd, PDF_REC_FAIL, "encrypted with a password", 25);
		return -1;
	}
	snprintf(msg, sizeof(msg), "%s", e ? qpdf_get_error_message_detail(rd->q, e) : "damaged");
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
		char    text[PDF_WHY_MAX];

		snprintf(text, sizeof(text), "cannot be read: %s", msg);
		rec(rd, PDF_REC_FAIL, text, strlen(text));
	}
	return -1;
}

/* pdf_read - read a document, write its records to fd; the exit status */
int     pdf_read(const char *data, size_t len, size_t budget, int fd)
{
	struct pdf_rd rd = {.fd = fd,.budget = budget};
	char    msg[160];
	int     npages;

	char   *copy = NULL;

	buf_init(&rd.unit, 4096);
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
	unit_end(&rd);
	if (rd.unmapped >= PDF_UNMAPPED_MAX)
		why(&rd, "text without a Unicode map (font %s)", rd.unmapped_font);
	rec(&rd, PDF_REC_END, NULL, 0);
	rd_free(&rd);
	free(copy);
	return 0;
}

