/*
 * detector_pdfcs - PDF content streams to the text a reader sees
 *
 * pdf_cs_run() interprets a content stream (PDF 32000-1 sections 8 and
 * 9): the graphics state (q, Q, cm), the text state (Tc, Tw, Tz, TL, Tf,
 * Ts), text positioning (BT, Td, TD, Tm, T*), text showing (Tj, TJ, ',
 * "), form XObjects (Do, through the caller's resolver), inline images
 * (skipped), and marked content with /ActualText (whose text replaces
 * the glyphs it covers). Every other operator only clears the operands.
 *
 * Each glyph's code is mapped to Unicode through the font's ToUnicode
 * CMap, then its encoding (simple fonts) or its Unicode code space
 * (composite fonts with a UCS2/UTF16 CMap). Its place on the page is
 * computed from the text matrix, the CTM and the glyph widths, and the
 * white space a reader sees is put back from the geometry: a gap wider
 * than a fraction of the font size is a space, a move off the baseline
 * is a line break. TJ kerning and the Td, TD, T* and Tm moves are only geometry,
 * so they count the same way. Glyphs that map to nothing are counted
 * (cs->unmapped) so the caller can say the text was not readable.
 *
 * pdf_cmap_parse() reads a CMap stream (ToUnicode or an embedded
 * encoding): codespace ranges, bfchar, bfrange with strings or arrays,
 * usecmap. pdf_glyph_unicode() maps a glyph name through the Adobe Glyph
 * List and the uniXXXX/uXXXXXX conventions.
 *
 * Everything here works on bytes in memory with bounds: every loop
 * advances through its input, the graphics state stack is fixed, the
 * output stops at cs->out_max (cs->full), CMaps stop at PDF_CMAP_MAX
 * entries. Nothing here allocates without a bound proportional to its
 * input.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "detector_pdf.h"

#define PDF_NAME_MAX 127
#define PDF_CMAP_MAX (1u << 20) /* mappings per CMap */
#define PDF_UNI_MAX  (4u << 20) /* code points per CMap */
#define PDF_UNI_PER  16         /* code points per mapping */

/* ---- the lexer: tokens of content streams and CMaps ------------------- */

enum tok_type {
	TOK_EOF,
	TOK_NUM,
	TOK_NAME,
	TOK_STR,
	TOK_KW,
	TOK_AOPEN,
	TOK_ACLOSE,
	TOK_DOPEN,
	TOK_DCLOSE,
};

struct tok {
	enum tok_type t;
	double num;
	size_t off, len; /* NAME, STR: in the scratch; KW: in the input */
};

struct lex {
	const unsigned char *p, *end, *start;
	struct buf scratch; /* decoded strings and names */
};

/* The byte classes, by table: the lexer asks for each byte. */
#define CC_WS    1 /* PDF white space */
#define CC_DELIM 2 /* PDF delimiters */
#define CC_LIT   4 /* ends a plain stretch of a (literal) */

static const unsigned char char_class[256] = {
	[' '] = CC_WS,
	['\n'] = CC_WS | CC_LIT,
	['\r'] = CC_WS | CC_LIT,
	['\t'] = CC_WS,
	['\f'] = CC_WS,
	[0] = CC_WS,
	['('] = CC_DELIM | CC_LIT,
	[')'] = CC_DELIM | CC_LIT,
	['<'] = CC_DELIM,
	['>'] = CC_DELIM,
	['['] = CC_DELIM,
	[']'] = CC_DELIM,
	['{'] = CC_DELIM,
	['}'] = CC_DELIM,
	['/'] = CC_DELIM,
	['%'] = CC_DELIM,
	['\\'] = CC_LIT,
};

/* is_ws - PDF white space */
static int is_ws(int c)
{
	return char_class[c & 0xff] & CC_WS;
}

/* is_delim - PDF delimiters */
static int is_delim(int c)
{
	return char_class[c & 0xff] & CC_DELIM;
}

/* hexval - a hex digit's value, or -1 */
static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* lex_literal - a (string) with its escapes, into the scratch */
static void lex_literal(struct lex *lx, struct tok *t)
{
	int depth = 1;

	t->t = TOK_STR;
	t->off = lx->scratch.len;
	lx->p++;
	while (lx->p < lx->end) {
		const unsigned char *q = lx->p;
		int c;

		/* plain bytes up to the next one that means more, at once */
		while (q < lx->end && !(char_class[*q] & CC_LIT))
			q++;
		if (q > lx->p) {
			buf_append(&lx->scratch, lx->p, (size_t) (q - lx->p));
			lx->p = q;
			continue;
		}
		c = *lx->p++;
		if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0)
			break;
		else if (c == '\\' && lx->p < lx->end) {
			c = *lx->p++;
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case '\r':
				if (lx->p < lx->end && *lx->p == '\n')
					lx->p++;
				continue;
			case '\n':
				continue;
			default:
				if (c >= '0' && c <= '7') {
					int v = c - '0';

					for (int k = 0; k < 2 && lx->p < lx->end
					     && *lx->p >= '0' && *lx->p <= '7';
					     k++)
						v = v * 8 + (*lx->p++ - '0');
					c = v & 0xff;
				}
				break;
			}
		} else if (c == '\r') {
			if (lx->p < lx->end && *lx->p == '\n')
				lx->p++;
			c = '\n';
		}
		buf_putc(&lx->scratch, c);
	}
	t->len = lx->scratch.len - t->off;
}

/* lex_hex - a <hex string>, into the scratch */
static void lex_hex(struct lex *lx, struct tok *t)
{
	int hi = -1;

	t->t = TOK_STR;
	t->off = lx->scratch.len;
	lx->p++;
	while (lx->p < lx->end && *lx->p != '>') {
		int v = hexval(*lx->p++);

		if (v < 0)
			continue;
		if (hi < 0)
			hi = v;
		else {
			buf_putc(&lx->scratch, hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		buf_putc(&lx->scratch, hi << 4);
	if (lx->p < lx->end)
		lx->p++;
	t->len = lx->scratch.len - t->off;
}

/* lex_name - a /Name with #xx escapes, into the scratch */
static void lex_name(struct lex *lx, struct tok *t)
{
	t->t = TOK_NAME;
	t->off = lx->scratch.len;
	lx->p++;
	while (lx->p < lx->end && !is_ws(*lx->p) && !is_delim(*lx->p)) {
		int c = *lx->p++;

		if (c == '#' && lx->end - lx->p >= 2 && hexval(lx->p[0]) >= 0
		    && hexval(lx->p[1]) >= 0) {
			c = hexval(lx->p[0]) << 4 | hexval(lx->p[1]);
			lx->p += 2;
		}
		if (lx->scratch.len - t->off < PDF_NAME_MAX && c != 0)
			buf_putc(&lx->scratch, c);
	}
	t->len = lx->scratch.len - t->off;
}

/* lex_number - a number, leniently: signs, digits, one point */
static int lex_number(struct lex *lx, struct tok *t)
{
	const unsigned char *p = lx->p;
	double v = 0, scale = 0.1;
	int neg = 0, digits = 0, point = 0;

	while (p < lx->end && (*p == '+' || *p == '-'))
		neg ^= *p++ == '-';
	for (; p < lx->end; p++) {
		if (*p >= '0' && *p <= '9') {
			if (point) {
				v += (*p - '0') * scale;
				scale /= 10;
			} else if (v < 1e15)
				v = v * 10 + (*p - '0');
			digits++;
		} else if (*p == '.' && !point)
			point = 1;
		else
			break;
	}
	if (!digits && !point)
		return 0;
	if (p < lx->end && !is_ws(*p) && !is_delim(*p))
		return 0; /* "1abc": a keyword */
	t->t = TOK_NUM;
	t->num = neg ? -v : v;
	lx->p = p;
	return 1;
}

/* lex_next - the next token */
static void lex_next(struct lex *lx, struct tok *t)
{
	for (;;) {
		while (lx->p < lx->end && is_ws(*lx->p))
			lx->p++;
		if (lx->p >= lx->end) {
			t->t = TOK_EOF;
			return;
		}
		if (*lx->p != '%')
			break;
		while (lx->p < lx->end && *lx->p != '\n' && *lx->p != '\r')
			lx->p++;
	}
	switch (*lx->p) {
	case '(':
		lex_literal(lx, t);
		return;
	case '<':
		if (lx->end - lx->p >= 2 && lx->p[1] == '<') {
			lx->p += 2;
			t->t = TOK_DOPEN;
			return;
		}
		lex_hex(lx, t);
		return;
	case '>':
		lx->p += lx->end - lx->p >= 2 && lx->p[1] == '>' ? 2 : 1;
		t->t = TOK_DCLOSE;
		return;
	case '[':
		lx->p++;
		t->t = TOK_AOPEN;
		return;
	case ']':
		lx->p++;
		t->t = TOK_ACLOSE;
		return;
	case '/':
		lex_name(lx, t);
		return;
	case ')':
	case '{':
	case '}':
		lx->p++;
		t->t = TOK_KW;
		t->off = (size_t) (lx->p - 1 - lx->start);
		t->len = 1;
		return;
	}
	if ((*lx->p >= '0' && *lx->p <= '9') || *lx->p == '-' || *lx->p == '+' || *lx->p == '.')
		if (lex_number(lx, t))
			return;
	t->t = TOK_KW;
	t->off = (size_t) (lx->p - lx->start);
	while (lx->p < lx->end && !is_ws(*lx->p) && !is_delim(*lx->p))
		lx->p++;
	t->len = (size_t) (lx->p - lx->start) - t->off;
	if (t->len == 0) { /* a stray delimiter */
		lx->p++;
		t->len = 1;
	}
}

/* kw_is - is the keyword token this word? */
static int kw_is(const struct lex *lx, const struct tok *t, const char *w)
{
	size_t n = strlen(w);

	return t->t == TOK_KW && t->len == n && memcmp(lx->start + t->off, w, n) == 0;
}

/* ---- output ------------------------------------------------------------- */

/* pdf_utf8_put - one code point as UTF-8 */
void pdf_utf8_put(struct buf *b, uint32_t cp)
{
	char u[4];

	if (cp >= 0xd800 && cp <= 0xdfff)
		cp = 0xfffd;
	if (cp < 0x80) {
		u[0] = (char) cp;
		buf_append(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char) (0xc0 | cp >> 6);
		u[1] = (char) (0x80 | (cp & 0x3f));
		buf_append(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char) (0xe0 | cp >> 12);
		u[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char) (0x80 | (cp & 0x3f));
		buf_append(b, u, 3);
	} else if (cp < 0x110000) {
		u[0] = (char) (0xf0 | cp >> 18);
		u[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char) (0x80 | (cp & 0x3f));
		buf_append(b, u, 4);
	}
}

/* pdf_cs_put - text into the unit, within its bound */
void pdf_cs_put(struct pdf_cs *cs, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (cs->out->len + n > cs->out_max) {
		cs->full = 1;
		return;
	}
	buf_append(cs->out, s, n);
	cs->last_space = s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t';
}

/* put_cp - one code point into the unit */
static inline void put_cp(struct pdf_cs *cs, uint32_t cp)
{
	struct buf one;
	char tmp[8];

	if (cp == 0 || cp == 0xfeff)
		return;
	if (cp < 0x20 && cp != '\n' && cp != '\t')
		cp = ' '; /* control codes show as gaps */
	if (cp == 0xa0)
		cp = ' ';
	if (cp == ' ' && cs->last_space)
		return; /* one space where the geometry made one */
	if (cp < 0x80 && cs->out->len < cs->out->cap && cs->out->len < cs->out_max) {
		/* the common case: one byte, room for it (and the NUL) */
		cs->out->data[cs->out->len++] = (char) cp;
		cs->out->data[cs->out->len] = 0;
		cs->last_space = cp == ' ' || cp == '\n' || cp == '\t';
		return;
	}
	one.data = tmp;
	one.len = 0;
	one.cap = sizeof(tmp);
	pdf_utf8_put(&one, cp);
	pdf_cs_put(cs, one.data, one.len);
}

/* pdf_cs_break - a space or a line break, unless there is one already */
void pdf_cs_break(struct pdf_cs *cs, const char *sep)
{
	if (cs->out->len == 0)
		return;
	if (cs->last_space) {
		if (*sep == '\n' && cs->out->data[cs->out->len - 1] == ' ')
			cs->out->data[cs->out->len - 1] = '\n';
		return;
	}
	pdf_cs_put(cs, sep, 1);
}

/* ---- matrices --------------------------------------------------------- */

/* mat_mul - r = a x b (a applied first) */
static void mat_mul(double r[6], const double a[6], const double b[6])
{
	double t[6];

	t[0] = a[0] * b[0] + a[1] * b[2];
	t[1] = a[0] * b[1] + a[1] * b[3];
	t[2] = a[2] * b[0] + a[3] * b[2];
	t[3] = a[2] * b[1] + a[3] * b[3];
	t[4] = a[4] * b[0] + a[5] * b[2] + b[4];
	t[5] = a[4] * b[1] + a[5] * b[3] + b[5];
	memcpy(r, t, sizeof(t));
}

/* mat_sane - no NaN or infinity: a hostile matrix becomes the identity */
static void mat_sane(double m[6])
{
	for (int i = 0; i < 6; i++)
		if (!isfinite(m[i]) || fabs(m[i]) > 1e9) {
			static const double id[6] = {1, 0, 0, 1, 0, 0};

			memcpy(m, id, sizeof(id));
			return;
		}
}

/* pdf_cs_concat - cm: the CTM becomes m x CTM */
void pdf_cs_concat(struct pdf_cs *cs, const double m[6])
{
	mat_mul(cs->gs.ctm, m, cs->gs.ctm);
	mat_sane(cs->gs.ctm);
	cs->trm_ok = 0;
}

/* pdf_cs_save - q */
void pdf_cs_save(struct pdf_cs *cs)
{
	if (cs->nstack < PDF_GSTACK)
		cs->stack[cs->nstack] = cs->gs;
	if (cs->nstack < 1 << 20)
		cs->nstack++;
}

/* pdf_cs_restore - Q */
void pdf_cs_restore(struct pdf_cs *cs)
{
	if (cs->nstack == 0)
		return;
	cs->nstack--;
	if (cs->nstack < PDF_GSTACK)
		cs->gs = cs->stack[cs->nstack];
	cs->trm_ok = 0;
}

/* pdf_cs_init - a fresh interpreter for one unit of text */
void pdf_cs_init(struct pdf_cs *cs, const struct pdf_cs_ops *ops, void *ctx, struct buf *out,
		 size_t out_max)
{
	static const double id[6] = {1, 0, 0, 1, 0, 0};

	memset(cs, 0, sizeof(*cs));
	cs->ops = ops;
	cs->ctx = ctx;
	cs->out = out;
	cs->out_max = out_max;
	memcpy(cs->gs.ctm, id, sizeof(id));
	memcpy(cs->tm, id, sizeof(id));
	memcpy(cs->tlm, id, sizeof(id));
	cs->gs.th = 1;
	cs->last_space = 1;
}

/* ---- text showing ------------------------------------------------------ */

/* code_length - how many bytes the next code of a composite font takes */
static int code_length(const struct pdf_font *f, const unsigned char *s, size_t n)
{
	const struct pdf_cmap *cm = f->codes ? f->codes : f->tounicode;
	int shortest = 0;

	if (f->fixed_bytes || cm == NULL || cm->nspace == 0)
		return n >= 2 ? 2 : 1;
	for (int nb = 1; nb <= 4 && (size_t) nb <= n; nb++) {
		uint32_t code = 0;

		for (int k = 0; k < nb; k++)
			code = code << 8 | s[k];
		for (size_t i = 0; i < cm->nspace; i++) {
			if (cm->space[i].nbytes != nb)
				continue;
			if (shortest == 0 || nb < shortest)
				shortest = nb;
			if (code >= cm->space[i].lo && code <= cm->space[i].hi)
				return nb;
		}
	}
	if (shortest == 0)
		shortest = cm->space[0].nbytes;
	return (size_t) shortest <= n ? shortest : (int) n;
}

/* cid_width - a composite font's glyph width */
static double cid_width(const struct pdf_font *f, uint32_t cid)
{
	size_t lo = 0, hi = f->nw;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (f->w[mid].hi < cid)
			lo = mid + 1;
		else if (f->w[mid].lo > cid)
			hi = mid;
		else
			return f->w[mid].w;
	}
	return f->dw;
}

/* run_direction - the key and unit vector of the baseline's direction,
 * for the runs: its angle in 1/100 degree, and whether the glyphs are
 * mirrored (then lines stack the other way) */
static void run_direction(struct pdf_cs *cs, const double trm[6])
{
	long k = 0;
	double a, sign = trm[0] * trm[3] - trm[1] * trm[2] < 0 ? -1 : 1;

	if (cs->dux == cs->ux && cs->duy == cs->uy && cs->dsign == sign)
		return; /* as before: most text runs one way */
	cs->dux = cs->ux;
	cs->duy = cs->uy;
	if (isfinite(cs->ux) && isfinite(cs->uy))
		k = lround(atan2(cs->uy, cs->ux) * 18000.0 / M_PI);
	if (k < 0)
		k += 36000;
	if (k >= 36000)
		k -= 36000;
	a = (double) k * M_PI / 18000.0;
	cs->dcos = cos(a);
	cs->dsin = sin(a);
	cs->dsign = sign;
	cs->dkey = (uint32_t) k | (cs->dsign < 0 ? PDF_DIR_MIRRORED : 0);
}

/* coord - a run's coordinate as a float the sorts can compare (no NaN) */
static float coord(double v)
{
	return isfinite(v) && fabs(v) < 1e30 ? (float) v : 0;
}

/* run_glyph - a glyph at (x, y) continues the last run, or starts one */
static void run_glyph(struct pdf_cs *cs, int jump, double x, double y, double size, int widths)
{
	struct pdf_runs *rs = cs->runs;
	struct pdf_run *r = rs->open && rs->n ? &rs->r[rs->n - 1] : NULL;

	/* text written between (not by glyphs) ends a run too */
	if (!jump && r && cs->out->len - (r->off + r->len) <= 1) {
		if (r->size < coord(size))
			r->size = coord(size);
		if (!widths)
			r->widths = 0;
		return;
	}
	if (cs->out->len >= UINT32_MAX / 2) {
		rs->over = 1; /* no unit is that long: none is noted */
		rs->open = 0;
		return;
	}
	if ((r = pdf_run_new(rs)) == NULL)
		return;
	r->along = coord(x * cs->dcos + y * cs->dsin);
	r->end = r->along;
	r->perp = coord(cs->dsign * (y * cs->dcos - x * cs->dsin));
	r->size = coord(size);
	r->dir = cs->dkey;
	r->off = (uint32_t) cs->out->len;
	r->widths = widths != 0;
}

/* run_end - the last run ends where this glyph's advance took the pen */
static void run_end(struct pdf_cs *cs, double x, double y)
{
	struct pdf_runs *rs = cs->runs;
	struct pdf_run *r;

	if (!rs->open || rs->n == 0)
		return;
	r = &rs->r[rs->n - 1];
	r->end = coord(x * cs->dcos + y * cs->dsin);
	r->len = (uint32_t) (cs->out->len - r->off);
}

/* text_origin - the device-space origin, baseline unit and size for the next glyph */
static void text_origin(struct pdf_cs *cs, double *x, double *y, double *ux, double *uy,
			double *size)
{
	if (!cs->trm_ok) {
		double trm[6], m[6] = {cs->gs.fs * cs->gs.th, 0, 0, cs->gs.fs, 0, cs->gs.ts};
		double bl, sc = 1;

		mat_mul(trm, m, cs->tm);
		mat_mul(trm, trm, cs->gs.ctm);
		cs->ox = trm[4];
		cs->oy = trm[5];
		bl = hypot(trm[0], trm[1]);
		cs->ux = bl > 0 ? trm[0] / bl : 1;
		cs->uy = bl > 0 ? trm[1] / bl : 0;
		if (cs->gs.font && cs->gs.font->scale > 0)
			sc = cs->gs.font->scale * 1000;
		cs->size = hypot(trm[2], trm[3]) * sc;
		if (!isfinite(cs->size))
			cs->size = 0;
		cs->adx = cs->tm[0] * cs->gs.ctm[0] + cs->tm[1] * cs->gs.ctm[2];
		cs->ady = cs->tm[0] * cs->gs.ctm[1] + cs->tm[1] * cs->gs.ctm[3];
		cs->trm_ok = 1;
		if (cs->runs)
			run_direction(cs, trm);
	}
	*x = cs->ox;
	*y = cs->oy;
	*ux = cs->ux;
	*uy = cs->uy;
	*size = cs->size;
}

/* advance - move the text matrix along its baseline by tx (text space) */
static inline void advance(struct pdf_cs *cs, double tx)
{
	if (!isfinite(tx))
		return;
	cs->tm[4] += tx * cs->tm[0];
	cs->tm[5] += tx * cs->tm[1];
	if (cs->trm_ok) {
		cs->ox += tx * cs->adx;
		cs->oy += tx * cs->ady;
	}
}

/* separate - a space or line break between the last glyph and this one;
 * 1 when this glyph does not follow on the last one's line (a new run) */
static int separate(struct pdf_cs *cs, double x, double y, double ux, double uy, double size,
		    int widths_known)
{
	double dx, dy, along, perp, s, dir;

	if (!cs->have_prev)
		return 1;
	dx = x - cs->px;
	dy = y - cs->py;
	along = dx * cs->pux + dy * cs->puy;
	perp = -dx * cs->puy + dy * cs->pux;
	dir = ux * cs->pux + uy * cs->puy; /* 1: the same direction */
	s = size > cs->pfs ? size : cs->pfs;
	if (s <= 0)
		s = 1;
	if (dir < 0.9 || fabs(perp) > 0.5 * s) {
		pdf_cs_break(cs, "\n");
		return 1;
	}
	if (along > (widths_known ? 0.15 : 0.6) * s || along < -0.5 * s) {
		pdf_cs_break(cs, " ");
		return along < 0 || along > 2 * s;
	}
	return 0;
}

/* show_glyph - one code: its text, its place, the advance. A glyph after
 * the first of a string starts where the last one's advance ended, on its
 * line, in its run (follow): then nothing about its place needs working
 * out, and show_string ends the run once for the whole string. */
static void show_glyph(struct pdf_cs *cs, uint32_t code, int nb, uint32_t utf16_next,
		       int *consumed_pair, int follow)
{
	struct pdf_font *f = cs->gs.font;
	uint32_t cps[PDF_UNI_PER];
	int k = 0, jump;
	double w, tx, x, y, ux, uy, size;

	*consumed_pair = 0;
	if (f->tounicode)
		k = pdf_cmap_lookup(f->tounicode, code, nb, cps, PDF_UNI_PER);
	if (k == 0) {
		if (f->kind == PDF_FONT_SIMPLE) {
			if (code < 256 && f->map[code])
				cps[k++] = f->map[code];
		} else if (f->unicode_codes) {
			if (code >= 0xd800 && code <= 0xdbff && utf16_next >= 0xdc00
			    && utf16_next <= 0xdfff) {
				cps[k++] = 0x10000 + ((code - 0xd800) << 10)
					+ (utf16_next - 0xdc00);
				*consumed_pair = 1;
			} else
				cps[k++] = code;
		}
	}
	if (!follow) {
		text_origin(cs, &x, &y, &ux, &uy, &size);
		jump = separate(cs, x, y, ux, uy, size, f->widths_known);
		if (cs->runs)
			run_glyph(cs, jump && cs->actual_depth == 0, x, y, size,
				  f->widths_known);
	}
	cs->glyphs++;
	if (cs->actual_depth == 0) {
		if (k == 0 && !(f->kind == PDF_FONT_SIMPLE && code == 32)) {
			cs->unmapped++;
			if (!cs->unmapped_font[0])
				memcpy(cs->unmapped_font, f->name, sizeof(cs->unmapped_font));
		}
		for (int i = 0; i < k; i++)
			put_cp(cs, cps[i]);
	}
	if (f->kind == PDF_FONT_SIMPLE)
		w = code < 256 && f->widths[code] >= 0 ? f->widths[code] : 500;
	else
		w = cid_width(f, code);
	tx = (w * f->scale * cs->gs.fs + cs->gs.tc + (nb == 1 && code == 32 ? cs->gs.tw : 0))
		* cs->gs.th;
	advance(cs, tx);
}

/* show_simple - glyphs of a simple font without a ToUnicode map that
 * follow the first of a string, from s[i] on, as show_glyph would show
 * them, with the text matrix, the pen and the output kept in registers
 * (the bytes written would make the compiler reload them for every
 * glyph); the index of the first glyph it leaves to show_glyph: one not
 * plain ASCII, without Unicode, or without room. */
static size_t show_simple(struct pdf_cs *cs, const struct pdf_font *f, const unsigned char *s,
			  size_t i, size_t n)
{
	struct buf *out = cs->out;
	size_t lim = out->cap < cs->out_max ? out->cap : cs->out_max;
	size_t len = out->len;
	char *data = out->data;
	double tm0 = cs->tm[0], tm1 = cs->tm[1], tm4 = cs->tm[4], tm5 = cs->tm[5];
	double adx = cs->adx, ady = cs->ady, ox = cs->ox, oy = cs->oy;
	double sc = f->scale, fs = cs->gs.fs, tc = cs->gs.tc, tw = cs->gs.tw, th = cs->gs.th;
	int last_space = cs->last_space;
	unsigned long glyphs = 0;

	for (; i < n; i++) {
		unsigned code = s[i];
		uint32_t cp = f->map[code];
		double w, tx;

		if ((cp >= 0x80 && cp != 0xa0) || (cp == 0 && code != 32))
			break;
		if (cp != 0) {
			if ((cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0xa0)
				cp = ' ';
			if (cp != ' ' || !last_space) {
				if (len >= lim)
					break;
				data[len++] = (char) cp;
				last_space = cp == ' ' || cp == '\n' || cp == '\t';
			}
		}
		glyphs++;
		w = f->widths[code] >= 0 ? f->widths[code] : 500;
		tx = (w * sc * fs + tc + (code == 32 ? tw : 0)) * th;
		if (isfinite(tx)) {
			tm4 += tx * tm0;
			tm5 += tx * tm1;
			ox += tx * adx;
			oy += tx * ady;
		}
	}
	if (len != out->len) {
		out->len = len;
		data[len] = 0;
	}
	cs->last_space = last_space;
	cs->tm[4] = tm4;
	cs->tm[5] = tm5;
	cs->ox = ox;
	cs->oy = oy;
	cs->glyphs += glyphs;
	return i;
}

/* show_string - the glyphs of a string operand. After its first glyph the
 * text matrix only advances: each glyph's origin is where the last one's
 * advance ended (separate would find no gap, run_glyph the same run), so
 * only the first is placed, and the run ends once, after the last. */
static void show_string(struct pdf_cs *cs, const unsigned char *s, size_t n)
{
	struct pdf_font *f = cs->gs.font;
	size_t i = 0;
	int follow = 0;

	if (f == NULL) {
		/* text without a font: nothing says what the codes are */
		cs->unmapped += n;
		return;
	}
	while (i < n && !cs->full) {
		uint32_t code = 0, next = 0;
		int nb = 1, pair;

		if (f->kind == PDF_FONT_TYPE0)
			nb = code_length(f, s + i, n - i);
		for (int k = 0; k < nb; k++)
			code = code << 8 | s[i + (size_t) k];
		if (f->kind == PDF_FONT_TYPE0 && f->unicode_codes && nb == 2 && i + 4 <= n)
			next = (uint32_t) s[i + 2] << 8 | s[i + 3];
		show_glyph(cs, code, nb, next, &pair, follow);
		i += (size_t) nb + (pair ? 2 : 0);
		/* a run not open (none noted, or over) is tried for each glyph */
		follow = cs->trm_ok && (!cs->runs || (cs->runs->open && cs->runs->n));
		if (follow && f->kind == PDF_FONT_SIMPLE && !f->tounicode
		    && cs->actual_depth == 0)
			i = show_simple(cs, f, s, i, n);
	}
	if (i == 0)
		return;
	text_origin(cs, &cs->px, &cs->py, &cs->pux, &cs->puy, &cs->pfs);
	cs->have_prev = 1;
	if (cs->runs)
		run_end(cs, cs->px, cs->py);
}

/* ---- the interpreter --------------------------------------------------- */

struct interp {
	struct pdf_cs *cs;
	void *res;
	struct lex lx;
	struct tok *stk;
	size_t n, cap;
};

/* num_at - operand i as a number, 0 if it is not one */
static double num_at(const struct interp *in, size_t i)
{
	return i < in->n && in->stk[i].t == TOK_NUM ? in->stk[i].num : 0;
}

/* nums - the last k operands, as numbers; 0 if there are fewer */
static int nums(const struct interp *in, size_t k, double *v)
{
	if (in->n < k)
		return 0;
	for (size_t i = 0; i < k; i++) {
		if (in->stk[in->n - k + i].t != TOK_NUM)
			return 0;
		v[i] = in->stk[in->n - k + i].num;
		if (!isfinite(v[i]) || fabs(v[i]) > 1e9)
			return 0;
	}
	return 1;
}

/* tstr - a string operand's bytes */
static const unsigned char *tstr(const struct interp *in, const struct tok *t)
{
	return (const unsigned char *) in->lx.scratch.data + t->off;
}

/* move_line - Td: a new line at an offset from the start of this one */
static void move_line(struct pdf_cs *cs, double tx, double ty)
{
	double m[6] = {1, 0, 0, 1, tx, ty};

	mat_mul(cs->tlm, m, cs->tlm);
	mat_sane(cs->tlm);
	memcpy(cs->tm, cs->tlm, sizeof(cs->tm));
}

/* text_string_put - a PDF text string (UTF-16BE, UTF-8 or PDFDocEncoding) */
static void text_string_put(struct pdf_cs *cs, const unsigned char *s, size_t n)
{
	if (n >= 2 && s[0] == 0xfe && s[1] == 0xff) {
		for (size_t i = 2; i + 1 < n; i += 2) {
			uint32_t u = (uint32_t) s[i] << 8 | s[i + 1];

			if (u >= 0xd800 && u <= 0xdbff && i + 3 < n) {
				uint32_t l = (uint32_t) s[i + 2] << 8 | s[i + 3];

				if (l >= 0xdc00 && l <= 0xdfff) {
					u = 0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00);
					i += 2;
				}
			}
			put_cp(cs, u);
		}
	} else if (n >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) {
		pdf_cs_put(cs, (const char *) s + 3, n - 3);
	} else {
		for (size_t i = 0; i < n; i++)
			put_cp(cs, s[i]);
	}
}

/* marked_content - BDC with /ActualText: that text stands for the glyphs */
static void marked_content(struct interp *in)
{
	struct pdf_cs *cs = in->cs;

	cs->mc_depth++;
	for (size_t i = 0; i + 1 < in->n; i++) {
		const struct tok *k = &in->stk[i], *v = &in->stk[i + 1];

		if (k->t == TOK_NAME && k->len == 10 && v->t == TOK_STR
		    && memcmp(tstr(in, k), "ActualText", 10) == 0 && cs->actual_depth == 0) {
			if (cs->runs) {
				double x, y, ux, uy, size;
				int widths = cs->gs.font && cs->gs.font->widths_known;

				text_origin(cs, &x, &y, &ux, &uy, &size);
				run_glyph(cs, 1, x, y, size, widths);
			}
			text_string_put(cs, tstr(in, v), v->len);
			cs->actual_depth = cs->mc_depth;
			if (cs->runs && cs->runs->open && cs->runs->n)
				cs->runs->r[cs->runs->n - 1].len =
					(uint32_t) (cs->out->len
						    - cs->runs->r[cs->runs->n - 1].off);
			return;
		}
	}
}

/* inline_image - BI ... ID <data> EI: past the image data */
static void inline_image(struct interp *in)
{
	struct lex *lx = &in->lx;
	struct tok t;
	long long length = -1;
	int last_name_len = 0;

	for (;;) { /* the image dictionary, up to ID */
		lex_next(lx, &t);
		if (t.t == TOK_EOF)
			return;
		if (kw_is(lx, &t, "ID"))
			break;
		if (t.t == TOK_NAME) {
			last_name_len = (int) t.len;
			if ((t.len == 1 && lx->scratch.data[t.off] == 'L')
			    || (t.len == 6
				&& memcmp(lx->scratch.data + t.off, "Length", 6) == 0))
				last_name_len = -1;
		} else if (t.t == TOK_NUM && last_name_len == -1 && t.num >= 0)
			length = (long long) t.num;
		else
			last_name_len = 0;
	}
	if (lx->p < lx->end && is_ws(*lx->p))
		lx->p++;
	if (length >= 0 && length <= lx->end - lx->p) {
		const unsigned char *q = lx->p + length;

		while (q < lx->end && is_ws(*q))
			q++;
		if (lx->end - q >= 2 && q[0] == 'E' && q[1] == 'I') {
			lx->p = q + 2;
			return;
		}
	}
	/* no length: the first EI between white space */
	for (const unsigned char *q = lx->p; q + 1 < lx->end; q++) {
		if (q[0] == 'E' && q[1] == 'I' && (q == lx->p || is_ws(q[-1]))
		    && (q + 2 == lx->end || is_ws(q[2]) || is_delim(q[2]))) {
			lx->p = q + 2;
			return;
		}
	}
	lx->p = lx->end;
}

/* show_tj - TJ: strings and kerning numbers after the last [ */
static void show_tj(struct interp *in)
{
	struct pdf_cs *cs = in->cs;
	size_t i = in->n;

	while (i > 0 && in->stk[i - 1].t != TOK_AOPEN)
		i--;
	for (; i < in->n && !cs->full; i++) {
		const struct tok *t = &in->stk[i];

		if (t->t == TOK_STR)
			show_string(cs, tstr(in, t), t->len);
		else if (t->t == TOK_NUM && isfinite(t->num) && fabs(t->num) < 1e7)
			advance(cs, -t->num / 1000.0 * cs->gs.fs * cs->gs.th);
	}
}

/* last_str - the last operand if it is a string */
static const struct tok *last_str(const struct interp *in)
{
	return in->n && in->stk[in->n - 1].t == TOK_STR ? &in->stk[in->n - 1] : NULL;
}

/* next_line - T*: to the start of the next line */
static void next_line(struct pdf_cs *cs)
{
	move_line(cs, 0, -cs->gs.tl);
}

/* OPK - an operator of up to three bytes as one number, for op's switch */
#define OPK(a, b, c) \
	((uint32_t) (unsigned char) (a) | (uint32_t) (unsigned char) (b) << 8 \
	 | (uint32_t) (unsigned char) (c) << 16)

/* op_key - the operator's number; 0 for one longer than three bytes */
static uint32_t op_key(const char *o, size_t len)
{
	if (len == 0 || len > 3)
		return 0;
	return OPK(o[0], len > 1 ? o[1] : 0, len > 2 ? o[2] : 0);
}

/* op - run one operator with the operands on the stack */
static void op(struct interp *in, const char *o, size_t len)
{
	struct pdf_cs *cs = in->cs;
	const struct tok *s;
	double v[6];
	char name[PDF_NAME_MAX + 1];
	uint32_t k = op_key(o, len);

	if (k != OPK('T', 'j', 0) && k != OPK('T', 'J', 0))
		cs->trm_ok = 0; /* any other operator may move the text */
	switch (k) {
	case OPK('T', 'j', 0):
		if ((s = last_str(in)) != NULL)
			show_string(cs, tstr(in, s), s->len);
		break;
	case OPK('T', 'J', 0):
		show_tj(in);
		break;
	case OPK('T', 'd', 0):
	case OPK('T', 'D', 0):
		if (nums(in, 2, v)) {
			if (o[1] == 'D')
				cs->gs.tl = -v[1];
			move_line(cs, v[0], v[1]);
		}
		break;
	case OPK('T', 'm', 0):
		if (nums(in, 6, v)) {
			memcpy(cs->tlm, v, sizeof(cs->tlm));
			mat_sane(cs->tlm);
			memcpy(cs->tm, cs->tlm, sizeof(cs->tm));
		}
		break;
	case OPK('T', '*', 0):
		next_line(cs);
		break;
	case OPK('\'', 0, 0):
		next_line(cs);
		if ((s = last_str(in)) != NULL)
			show_string(cs, tstr(in, s), s->len);
		break;
	case OPK('"', 0, 0):
		if (in->n >= 3) {
			cs->gs.tw = num_at(in, in->n - 3);
			cs->gs.tc = num_at(in, in->n - 2);
		}
		next_line(cs);
		if ((s = last_str(in)) != NULL)
			show_string(cs, tstr(in, s), s->len);
		break;
	case OPK('B', 'T', 0): {
		static const double id[6] = {1, 0, 0, 1, 0, 0};

		memcpy(cs->tm, id, sizeof(id));
		memcpy(cs->tlm, id, sizeof(id));
		break;
	}
	case OPK('T', 'f', 0):
		if (in->n >= 2 && in->stk[in->n - 2].t == TOK_NAME) {
			const struct tok *t = &in->stk[in->n - 2];

			memcpy(name, tstr(in, t), t->len);
			name[t->len] = 0;
			cs->gs.font = cs->ops->font(cs->ctx, in->res, name);
			cs->gs.fs = num_at(in, in->n - 1);
			if (!isfinite(cs->gs.fs) || fabs(cs->gs.fs) > 1e6)
				cs->gs.fs = 0;
		}
		break;
	case OPK('T', 'c', 0):
		if (nums(in, 1, v))
			cs->gs.tc = v[0];
		break;
	case OPK('T', 'w', 0):
		if (nums(in, 1, v))
			cs->gs.tw = v[0];
		break;
	case OPK('T', 'z', 0):
		if (nums(in, 1, v))
			cs->gs.th = v[0] / 100.0;
		break;
	case OPK('T', 'L', 0):
		if (nums(in, 1, v))
			cs->gs.tl = v[0];
		break;
	case OPK('T', 's', 0):
		if (nums(in, 1, v))
			cs->gs.ts = v[0];
		break;
	case OPK('q', 0, 0):
		pdf_cs_save(cs);
		break;
	case OPK('Q', 0, 0):
		pdf_cs_restore(cs);
		break;
	case OPK('c', 'm', 0):
		if (nums(in, 6, v))
			pdf_cs_concat(cs, v);
		break;
	case OPK('D', 'o', 0):
		if (in->n >= 1 && in->stk[in->n - 1].t == TOK_NAME && cs->ops->xobject) {
			const struct tok *t = &in->stk[in->n - 1];

			memcpy(name, tstr(in, t), t->len);
			name[t->len] = 0;
			cs->ops->xobject(cs->ctx, in->res, name, cs);
		}
		break;
	case OPK('B', 'I', 0):
		inline_image(in);
		break;
	case OPK('B', 'D', 'C'):
		marked_content(in);
		break;
	case OPK('B', 'M', 'C'):
		cs->mc_depth++;
		break;
	case OPK('E', 'M', 'C'):
		if (cs->actual_depth && cs->mc_depth == cs->actual_depth)
			cs->actual_depth = 0;
		if (cs->mc_depth > 0)
			cs->mc_depth--;
		break;
	}
}

/* next_slot - room for one more token on the stack: the next one is read
 * into its place (and kept there when it is an operand), not copied */
static struct tok *next_slot(struct interp *in)
{
	if (in->n == in->cap) {
		in->cap = in->cap ? in->cap * 2 : 64;
		in->stk = xrealloc(in->stk, in->cap * sizeof(*in->stk));
	}
	return &in->stk[in->n];
}

/* pdf_cs_run - interpret a content stream with its resources */
void pdf_cs_run(struct pdf_cs *cs, void *res, const unsigned char *data, size_t len)
{
	struct interp in = {.cs = cs, .res = res};
	int saved = cs->nstack;

	if (data == NULL || len == 0)
		return;
	in.lx.p = in.lx.start = data;
	in.lx.end = data + len;
	buf_init(&in.lx.scratch, 256);
	while (!cs->full) {
		struct tok *t = next_slot(&in);

		lex_next(&in.lx, t);
		if (t->t == TOK_EOF)
			break;
		if (t->t != TOK_KW
		    || ((t->len == 4 || t->len == 5)
			&& (kw_is(&in.lx, t, "true") || kw_is(&in.lx, t, "false")
			    || kw_is(&in.lx, t, "null")))) {
			in.n++; /* an operand */
			continue;
		}
		op(&in, (const char *) in.lx.start + t->off, t->len);
		in.n = 0;
		buf_reset(&in.lx.scratch);
	}
	/* a stream's unbalanced q does not leak into the next one */
	while (cs->nstack > saved)
		pdf_cs_restore(cs);
	free(in.stk);
	buf_free(&in.lx.scratch);
}

/* ---- CMaps ------------------------------------------------------------- */

/* be_code - a code from up to 4 big-endian bytes */
static uint32_t be_code(const unsigned char *s, size_t n)
{
	uint32_t c = 0;

	for (size_t i = 0; i < n; i++)
		c = c << 8 | s[i];
	return c;
}

/* utf16_points - UTF-16BE bytes to code points; how many */
static int utf16_points(const unsigned char *s, size_t n, uint32_t *out, int max)
{
	int k = 0;

	if (n == 1 && max > 0) { /* a one-byte destination: a code point */
		out[0] = s[0];
		return 1;
	}
	for (size_t i = 0; i + 1 < n && k < max; i += 2) {
		uint32_t u = (uint32_t) s[i] << 8 | s[i + 1];

		if (u >= 0xd800 && u <= 0xdbff && i + 3 < n) {
			uint32_t l = (uint32_t) s[i + 2] << 8 | s[i + 3];

			if (l >= 0xdc00 && l <= 0xdfff) {
				u = 0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00);
				i += 2;
			}
		}
		out[k++] = u;
	}
	return k;
}

/* cmap_add - one mapping of [lo, hi] to code points */
static void cmap_add(struct pdf_cmap *cm, uint32_t lo, uint32_t hi, int nbytes,
		     const uint32_t *cps, int ncps)
{
	struct pdf_cmap_ent *e;

	if (ncps <= 0 || cm->nent >= PDF_CMAP_MAX || cm->nuni + (size_t) ncps > PDF_UNI_MAX
	    || hi < lo)
		return;
	if (cm->nent == cm->capent) {
		cm->capent = cm->capent ? cm->capent * 2 : 256;
		cm->ent = xrealloc(cm->ent, cm->capent * sizeof(*cm->ent));
	}
	if (cm->nuni + (size_t) ncps > cm->capuni) {
		cm->capuni = (cm->capuni ? cm->capuni * 2 : 1024) + (size_t) ncps;
		cm->uni = xrealloc(cm->uni, cm->capuni * sizeof(*cm->uni));
	}
	e = &cm->ent[cm->nent++];
	e->lo = lo;
	e->hi = hi;
	e->nbytes = (uint8_t) nbytes;
	e->ndst = (uint8_t) ncps;
	e->dst = (uint32_t) cm->nuni;
	memcpy(cm->uni + cm->nuni, cps, (size_t) ncps * sizeof(uint32_t));
	cm->nuni += (size_t) ncps;
}

/* ent_cmp - order mappings by code length, then code */
static int ent_cmp(const void *a, const void *b)
{
	const struct pdf_cmap_ent *x = a, *y = b;

	if (x->nbytes != y->nbytes)
		return x->nbytes < y->nbytes ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

/* cmap_dest - a destination: hex string or name */
static int cmap_dest(struct lex *lx, const struct tok *t, uint32_t *cps)
{
	char name[PDF_NAME_MAX + 1];

	if (t->t == TOK_STR)
		return utf16_points((const unsigned char *) lx->scratch.data + t->off, t->len,
				    cps, PDF_UNI_PER);
	if (t->t == TOK_NAME) {
		memcpy(name, lx->scratch.data + t->off, t->len);
		name[t->len] = 0;
		cps[0] = pdf_glyph_unicode(name);
		return cps[0] ? 1 : 0;
	}
	if (t->t == TOK_NUM && t->num >= 0 && t->num < 0x110000) { /* CID */
		cps[0] = (uint32_t) t->num;
		return 1;
	}
	return 0;
}

/* scratch_u - bytes of a string token */
static const unsigned char *scratch_u(const struct lex *lx, const struct tok *t)
{
	return (const unsigned char *) lx->scratch.data + t->off;
}

/* cmap_range_array - lo hi [dst dst ...]: one mapping per code */
static void cmap_range_array(struct pdf_cmap *cm, struct lex *lx, uint32_t lo, uint32_t hi,
			     int nbytes)
{
	uint32_t cps[PDF_UNI_PER], code = lo;
	struct tok a;
	int k;

	for (;;) {
		lex_next(lx, &a);
		if (a.t == TOK_EOF || a.t == TOK_ACLOSE || a.t == TOK_KW)
			return;
		if (code <= hi && (k = cmap_dest(lx, &a, cps)) > 0)
			cmap_add(cm, code, code, nbytes, cps, k);
		if (code <= hi)
			code++;
	}
}

/* cmap_section - the entries of one begin...end section: 0 space, 1 char, 2 range */
static void cmap_section(struct pdf_cmap *cm, struct lex *lx, int kind)
{
	for (;;) {
		struct tok t0, t1, t2;
		uint32_t cps[PDF_UNI_PER], lo, hi;
		int k;

		buf_reset(&lx->scratch);
		lex_next(lx, &t0);
		if (t0.t == TOK_EOF || t0.t == TOK_KW)
			return; /* end...: done */
		lex_next(lx, &t1);
		if (t1.t == TOK_EOF || t1.t == TOK_KW)
			return;
		if (t0.t != TOK_STR || t0.len == 0 || t0.len > 4)
			continue;
		lo = be_code(scratch_u(lx, &t0), t0.len);
		if (kind == 0) {
			if (t1.t == TOK_STR && t1.len == t0.len && cm->nspace < 256) {
				cm->space = xrealloc(cm->space,
						     (cm->nspace + 1) * sizeof(*cm->space));
				cm->space[cm->nspace].lo = lo;
				cm->space[cm->nspace].hi = be_code(scratch_u(lx, &t1), t1.len);
				cm->space[cm->nspace++].nbytes = (uint8_t) t0.len;
			}
			continue;
		}
		if (kind == 1) {
			if ((k = cmap_dest(lx, &t1, cps)) > 0)
				cmap_add(cm, lo, lo, (int) t0.len, cps, k);
			continue;
		}
		lex_next(lx, &t2);
		if (t2.t == TOK_EOF || t2.t == TOK_KW)
			return;
		if (t1.t != TOK_STR || t1.len != t0.len)
			continue;
		hi = be_code(scratch_u(lx, &t1), t1.len);
		if (hi < lo)
			continue;
		if (t2.t == TOK_AOPEN)
			cmap_range_array(cm, lx, lo, hi, (int) t0.len);
		else if ((k = cmap_dest(lx, &t2, cps)) > 0)
			cmap_add(cm, lo, hi, (int) t0.len, cps, k);
	}
}

/* pdf_cmap_parse - a CMap stream; 0 if it held any mapping or code space */
int pdf_cmap_parse(struct pdf_cmap *cm, const unsigned char *data, size_t len)
{
	struct lex lx = {.p = data, .end = data ? data + len : data, .start = data};
	struct tok t, prev = {.t = TOK_EOF};
	char prevname[64] = "";

	memset(cm, 0, sizeof(*cm));
	if (data == NULL)
		return -1;
	buf_init(&lx.scratch, 256);
	for (;;) {
		lex_next(&lx, &t);
		if (t.t == TOK_EOF)
			break;
		if (kw_is(&lx, &t, "begincodespacerange"))
			cmap_section(cm, &lx, 0);
		else if (kw_is(&lx, &t, "beginbfchar") || kw_is(&lx, &t, "begincidchar"))
			cmap_section(cm, &lx, 1);
		else if (kw_is(&lx, &t, "beginbfrange") || kw_is(&lx, &t, "begincidrange"))
			cmap_section(cm, &lx, 2);
		else if (kw_is(&lx, &t, "usecmap") && prev.t == TOK_NAME)
			memcpy(cm->usecmap, prevname, sizeof(cm->usecmap));
		if (t.t == TOK_NAME) {
			size_t n = t.len < sizeof(prevname) - 1 ? t.len : sizeof(prevname) - 1;

			memcpy(prevname, lx.scratch.data + t.off, n);
			prevname[n] = 0;
		}
		prev = t;
		buf_reset(&lx.scratch);
	}
	buf_free(&lx.scratch);
	if (cm->nent)
		qsort(cm->ent, cm->nent, sizeof(*cm->ent), ent_cmp);
	return cm->nent || cm->nspace ? 0 : -1;
}

/* pdf_cmap_free - let a CMap go */
void pdf_cmap_free(struct pdf_cmap *cm)
{
	if (cm == NULL)
		return;
	free(cm->space);
	free(cm->ent);
	free(cm->uni);
	memset(cm, 0, sizeof(*cm));
}

/* pdf_cmap_lookup - a code's code points; how many (0: not mapped) */
int pdf_cmap_lookup(const struct pdf_cmap *cm, uint32_t code, int nbytes, uint32_t *out,
		    int max)
{
	size_t lo = 0, hi = cm->nent;

	/* the last entry with (nbytes, lo) <= (nbytes, code) */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct pdf_cmap_ent *e = &cm->ent[mid];

		if (e->nbytes < nbytes || (e->nbytes == nbytes && e->lo <= code))
			lo = mid + 1;
		else
			hi = mid;
	}
	/* overlapping ranges: look back a little */
	for (size_t i = lo, tries = 0; i > 0 && tries < 8; i--, tries++) {
		const struct pdf_cmap_ent *e = &cm->ent[i - 1];
		int n = e->ndst < max ? e->ndst : max;

		if (e->nbytes != nbytes)
			break;
		if (code < e->lo || code > e->hi)
			continue;
		memcpy(out, cm->uni + e->dst, (size_t) n * sizeof(uint32_t));
		out[n - 1] += code - e->lo;
		return n;
	}
	return 0;
}

/* ---- fonts and glyph names -------------------------------------------- */

/* pdf_font_init - an empty font: no mapping, unknown widths */
void pdf_font_init(struct pdf_font *f)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < 256; i++)
		f->widths[i] = -1;
	f->dw = 1000;
	f->scale = 0.001;
}

/* pdf_font_free - what a font holds */
void pdf_font_free(struct pdf_font *f)
{
	if (f->tounicode) {
		pdf_cmap_free(f->tounicode);
		free(f->tounicode);
	}
	if (f->codes) {
		pdf_cmap_free(f->codes);
		free(f->codes);
	}
	free(f->w);
	memset(f, 0, sizeof(*f));
}

/* pdf_font_encoding - a simple font's base encoding by name */
void pdf_font_encoding(struct pdf_font *f, const char *base)
{
	const uint16_t *v = pdf_enc_standard;

	if (strcmp(base, "WinAnsiEncoding") == 0)
		v = pdf_enc_winansi;
	else if (strcmp(base, "MacRomanEncoding") == 0)
		v = pdf_enc_macroman;
	for (int i = 0; i < 256; i++)
		f->map[i] = v[i];
	f->has_encoding = 1;
}

/* pdf_font_difference - /Differences: code is this glyph */
void pdf_font_difference(struct pdf_font *f, int code, const char *glyph)
{
	if (code >= 0 && code < 256) {
		f->map[code] = pdf_glyph_unicode(glyph);
		f->has_encoding = 1;
	}
}

/* hex_run - n hex digits at s as a number, or -1 */
static long hex_run(const char *s, size_t n)
{
	long v = 0;

	for (size_t i = 0; i < n; i++) {
		int h = hexval((unsigned char) s[i]);

		if (h < 0 || (s[i] >= 'a' && s[i] <= 'f'))
			return -1; /* the conventions use upper case */
		v = v * 16 + h;
	}
	return v;
}

/* pdf_glyph_unicode - a glyph name's code point, 0 if unknown */
uint32_t pdf_glyph_unicode(const char *name)
{
	char base[PDF_NAME_MAX + 1];
	size_t lo = 0, hi = pdf_glyph_count, n;
	const char *dot = strchr(name, '.');

	/* "a.sc", "one.oldstyle": the part before the suffix */
	n = dot && dot != name ? (size_t) (dot - name) : strlen(name);
	if (n > PDF_NAME_MAX)
		return 0;
	memcpy(base, name, n);
	base[n] = 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(base, pdf_glyph_names[mid].name);

		if (c == 0)
			return pdf_glyph_names[mid].uni;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (strncmp(base, "uni", 3) == 0 && n >= 7) {
		long v = hex_run(base + 3, 4);

		return v > 0 && (v < 0xd800 || v > 0xdfff) ? (uint32_t) v : 0;
	}
	if (base[0] == 'u' && n >= 5 && n <= 7) {
		long v = hex_run(base + 1, n - 1);

		return v > 0 && v < 0x110000 && (v < 0xd800 || v > 0xdfff) ? (uint32_t) v : 0;
	}
	return 0;
}
