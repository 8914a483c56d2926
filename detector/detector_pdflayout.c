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
 * Costs: radix sorts of 16-byte keys, linear in the number of runs (a
 * page of thousands of glyphs each placed by its own matrix is sorted as
 * fast as it is drawn), one copy of the text. A run is noted only when it
 * holds text; the caller bounds how many a page may have (runs->max) and
 * learns when that was reached (runs->over).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "detector_pdf.h"

/* pdf_runs_reset - no runs (a new page) */
void pdf_runs_reset(struct pdf_runs *rs)
{
	rs->n = 0;
	rs->over = 0;
	rs->open = 0;
}

/* pdf_runs_free - what the runs hold */
void pdf_runs_free(struct pdf_runs *rs)
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

/* struct key - a run's index and where it sorts */
struct key {
	uint64_t k;
	uint32_t i;
};

/* fkey - a float as an unsigned number in the same order */
static uint32_t fkey(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u & 0x80000000u ? ~u : u | 0x80000000u;
}

/* radix - a stable sort of keys by their low "bytes" bytes (tmp: as many) */
static void radix(struct key *a, struct key *tmp, size_t n, int bytes)
{
	size_t count[256];

	for (int b = 0; b < bytes; b++) {
		int sh = 8 * b;
		size_t sum = 0;

		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[(a[i].k >> sh) & 0xff]++;
		if (count[(a[0].k >> sh) & 0xff] == n)
			continue; /* the same byte everywhere */
		for (int d = 0; d < 256; d++) {
			size_t c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[count[(a[i].k >> sh) & 0xff]++] = a[i];
		memcpy(a, tmp, n * sizeof(*a));
	}
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
	return out->len == 0 || out->data[out->len - 1] == ' '
		|| out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\t';
}

/* line_out - one line's runs (keys), sorted along it, with the spaces between them */
static int line_out(const struct pdf_run *r, struct key *k, struct key *tmp, size_t n,
		    const char *text, struct buf *out, size_t limit)
{
	for (size_t i = 0; i < n; i++)
		k[i].k = (uint64_t) fkey(r[k[i].i].along) << 32 | r[k[i].i].off;
	if (n > 32)
		radix(k, tmp, n, 8);
	else
		for (size_t i = 1; i < n; i++) { /* a few: insertion is quicker */
			struct key x = k[i];
			size_t j = i;

			for (; j > 0 && k[j - 1].k > x.k; j--)
				k[j] = k[j - 1];
			k[j] = x;
		}
	const struct pdf_run *b = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct pdf_run *a = &r[k[i].i];

		if (a->len == 0)
			continue;
		if (b != NULL) {
			double gap = a->along - b->end;
			double s = a->size > b->size ? a->size : b->size;

			if (s <= 0)
				s = 1;
			if ((gap > (a->widths && b->widths ? 0.15 : 0.6) * s || gap < -0.5 * s)
			    && !ends_space(out) && text[a->off] != ' '
			    && !put(out, " ", 1, limit))
				return 0;
		}
		if (!put(out, text + a->off, a->len, limit))
			return 0;
		b = a;
	}
	return 1;
}

/* pdf_layout - the runs of a unit's text (text, len) in the order a viewer
 * shows them, into out (at most limit bytes); 0 if the limit was reached */
int pdf_layout(struct pdf_runs *rs, const char *text, size_t len, struct buf *out, size_t limit)
{
	struct pdf_run *r = rs->r;
	struct key *k, *tmp;
	size_t n = rs->n, i = 0, at = 0;
	int dirs = 0, ok = 1;

	while (n > 0 && r[n - 1].len == 0)
		n--;
	for (size_t j = 0; j < n; j++) /* a hostile caller's slices stay inside */
		if (r[j].off > len || r[j].len > len - r[j].off)
			r[j].len = 0, r[j].off = 0;
	k = xmalloc((2 * n + 1) * sizeof(*k));
	tmp = k + n;
	/* top to bottom, then along the baseline; stable, so ties stay in
	 * stream order; then by direction, when there are several */
	for (size_t j = 0; j < n; j++) {
		k[j].k = (uint64_t) ~fkey(r[j].perp) << 32 | fkey(r[j].along);
		k[j].i = (uint32_t) j;
		dirs |= r[j].dir != r[0].dir;
	}
	if (n > 0)
		radix(k, tmp, n, 8);
	if (dirs) {
		for (size_t j = 0; j < n; j++)
			k[j].k = r[k[j].i].dir;
		radix(k, tmp, n, 3);
	}
	while (ok && i < n) {
		const struct pdf_run *first = &r[k[i].i];
		size_t j = i + 1;
		double size = first->size;

		/* a line: the runs whose baselines lie close below the first */
		while (j < n && r[k[j].i].dir == first->dir) {
			const struct pdf_run *c = &r[k[j].i];
			double s = c->size > size ? c->size : size;

			if (first->perp - c->perp > 0.6 * (s > 0 ? s : 1))
				break;
			if (c->size > size)
				size = c->size;
			j++;
		}
		if (out->len && out->data[out->len - 1] == ' ')
			out->data[out->len - 1] = '\n';
		else if (!ends_space(out) && !put(out, "\n", 1, limit))
			ok = 0;
		if (ok)
			ok = line_out(r, k + i, tmp, j - i, text, out, limit);
		i = j;
	}
	free(k);
	/* the text between the runs (in stream order): what no glyph wrote */
	for (i = 0; ok && i <= n; i++) {
		size_t end = i < n ? r[i].off : len, c = at;

		if (i < n && r[i].len == 0)
			continue;
		while (c < end && (text[c] == ' ' || text[c] == '\n' || text[c] == '\t'))
			c++;
		if (c < end
		    && ((!ends_space(out) && !put(out, "\n", 1, limit))
			|| !put(out, text + at, end - at, limit)))
			ok = 0;
		if (i < n && r[i].off + r[i].len > at)
			at = r[i].off + r[i].len;
	}
	return ok;
}
