/*
 * detector_pdflayout - a page's text in the order a viewer shows it
 *
 * The content-stream interpreter (detector_pdfcs.c) writes a page's text
 * in the order it is drawn, and notes runs as it goes (pdf_run): glyphs
 * drawn one after the other along one baseline, with the slice of the
 * text they wrote. A producer may draw in any order - right to left,
 * shuffled, each glyph placed by its own Tm - and a viewer still shows
 * the glyphs where they land. pdf_layout() puts the runs back in that
 * order:
 *
 *	direction	runs are grouped by the direction of their baseline
 *			(a key of its angle, and whether the glyphs are
 *			mirrored), so rotated pages and rotated text read
 *			along their own lines;
 *	lines		within a direction, runs are sorted across the
 *			baseline, top first; a run joins the line above it
 *			when its baseline is within 0.6 of the font size
 *			of the line's first one (superscripts, subscripts
 *			and jitter stay on their line, lines a font size
 *			apart do not merge);
 *	words		each line is sorted along the baseline; a gap wider
 *			than 0.15 of the font size (0.6 when the widths of
 *			the glyphs are not known), or runs drawn over each
 *			other, become a space, as in stream order.
 *
 * Text of the unit that no run holds (annotation contents, field values
 * written between the runs) follows the lines, in stream order.
 *
 * Costs: two sorts of the runs (n log n), one copy of the text. A run is
 * noted only when it holds text; the caller bounds how many a page may
 * have (runs->max) and learns when that was reached (runs->over).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "detector_pdf.h"

/* pdf_runs_reset - no runs (a new page) */
void    pdf_runs_reset(struct pdf_runs *rs)
{
	rs->n = 0;
	rs->over = 0;
	rs->open = 0;
}

/* pdf_runs_free - what the runs hold */
void    pdf_runs_free(struct pdf_runs *rs)
{
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

/* pdf_run_new - a run starts at this glyph: the next slot (an empty last run is reused) */
struct pdf_run *pdf_run_new(struct pdf_runs *rs)
{
	struct pdf_run *r;

	if (rs->n > 0 && rs->r[rs->n - 1].len == 0)
		rs->n--;
	if (rs->n >= rs->max) {
		rs->over = 1;
		rs->open = 0;
		return NULL;
	}
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 256;
		if (rs->cap > rs->max)
			rs->cap = rs->max;
		rs->r = xrealloc(rs->r, rs->cap * sizeof(*rs->r));
	}
	r = &rs->r[rs->n++];
	memset(r, 0, sizeof(*r));
	rs->open = 1;
	return r;
}

/* by_place - runs by direction, then top to bottom, then along the baseline */
static int by_place(const void *a, const void *b)
{
	const struct pdf_run *x = a, *y = b;

	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	if (x->perp != y->perp)
		return x->perp > y->perp ? -1 : 1;
	if (x->along != y->along)
		return x->along < y->along ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* by_along - the runs of one line, along the baseline */
static int by_along(const void *a, const void *b)
{
	const struct pdf_run *x = a, *y = b;

	if (x->along != y->along)
		return x->along < y->along ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* by_off - runs in stream order */
static int by_off(const void *a, const void *b)
{
	const struct pdf_run *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* put - bytes of the reading, within its limit; 0 when it is reached */
static int put(struct buf *out, const char *s, size_t n, size_t limit)
{
	if (out->len + n > limit)
		return 0;
	buf_append(out, s, n);
	return 1;
}

/* ends_space - does the reading end with white space (or is it empty)? */
static int ends_space(const struct buf *out)
{
	return out->len == 0 || out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\n'
		|| out->data[out->len - 1] == '\t';
}

/* line_out - one line's runs, sorted along it, with the spaces between them */
static int line_out(struct pdf_run *r, size_t n, const char *text, struct buf *out,
		    size_t limit)
{
	if (n > 1)
		qsort(r, n, sizeof(*r), by_along);
	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			double  gap = r[i].along - r[i - 1].end;
			double  s = r[i].size > r[i - 1].size ? r[i].size : r[i - 1].size;

			if (s <= 0)
				s = 1;
			if ((gap > (r[i].widths && r[i - 1].widths ? 0.15 : 0.6) * s || gap < -0.5 * s)
			    && !ends_space(out) && text[r[i].off] != ' ' && !put(out, " ", 1, limit))
				return 0;
		}
		if (!put(out, text + r[i].off, r[i].len, limit))
			return 0;
	}
	return 1;
}

/* pdf_layout - the runs of a unit's text (text, len) in the order a viewer
 * shows them, into out (at most limit bytes); 0 if the limit was reached.
 * The runs are reordered. */
int     pdf_layout(struct pdf_runs *rs, const char *text, size_t len, struct buf *out,
		   size_t limit)
{
	struct pdf_run *r = rs->r;
	size_t  n = rs->n, i = 0, at = 0;

	while (n > 0 && r[n - 1].len == 0)
		n--;
	for (size_t k = 0; k < n; k++)		/* a hostile caller's slices stay inside */
		if (r[k].off > len || r[k].len > len - r[k].off)
			r[k].len = 0, r[k].off = 0;
	if (n > 1)
		qsort(r, n, sizeof(*r), by_place);
	while (i < n) {
		size_t  j = i + 1;
		double  top = r[i].perp, size = r[i].size;

		/* a line: the runs whose baselines lie close below the first */
		while (j < n && r[j].dir == r[i].dir) {
			double  s = r[j].size > size ? r[j].size : size;

			if (top - r[j].perp > 0.6 * (s > 0 ? s : 1))
				break;
			if (r[j].size > size)
				size = r[j].size;
			j++;
		}
		if (out->len && out->data[out->len - 1] == ' ')
			out->data[out->len - 1] = '\n';
		else if (!ends_space(out) && !put(out, "\n", 1, limit))
			return 0;
		if (!line_out(r + i, j - i, text, out, limit))
			return 0;
		i = j;
	}
	/* the text between the runs: what no glyph wrote */
	if (n > 1)
		qsort(r, n, sizeof(*r), by_off);
	for (i = 0; i <= n; i++) {
		size_t  end = i < n ? r[i].off : len, k = at;

		while (k < end && (text[k] == ' ' || text[k] == '\n' || text[k] == '\t'))
			k++;
		if (k < end) {
			if (!ends_space(out) && !put(out, "\n", 1, limit))
				return 0;
			if (!put(out, text + at, end - at, limit))
				return 0;
		}
		if (i < n && r[i].off + r[i].len > at)
			at = r[i].off + r[i].len;
	}
	return 1;
}
