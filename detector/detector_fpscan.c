/*
 * detector_fpscan - EDM and IDM in the detector's pass over the text
 *
 * detector_fp_unit() runs after the Hyperscan and identifier scans of a
 * text unit, for the edm and document rules that look at it:
 *
 *	1. numbers, dates and e-mail addresses, when an edm rule has such
 *	   columns: found, hashed, sealed and looked up (detector_edm.c);
 *	2. the words: each word is hashed as it is read and sealed (a cache
 *	   keeps the common ones), then every span of 1..8 words that an
 *	   index has text cells of is looked up, and every word moves the
 *	   winnowing of each document index one step (detector_idm.c).
 *	   When every match of the edm rules must hold a number, date or
 *	   address (fewer text columns than min_columns), words are read only
 *	   around the values step 1 found: plain text with no such value
 *	   costs one look for digits and '@';
 *	3. the edm rules join their hits into rows.
 *
 * detector_fp_part() brackets a MIME leaf, so that document rules judge a
 * part on its own as well as the message as a whole; detector_fp_file()
 * sees the bytes of every part and archive member (files sent as they
 * are); detector_fp_finish() judges the message before the verdict.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "msg.h"
#include "detector.h"
#include "detector_fp.h"

#define FP_BATCH    256                               /* words read and sealed at a time */
#define FP_UNIT_GAP (FP_IDM_K_MAX + FP_IDM_W_MAX + 1) /* word numbers between units */

/* detector_fp_set_add - add a key (never 0); 1 if it was not there */
int detector_fp_set_add(struct fp_set *s, uint64_t key)
{
	size_t i;

	if (s->n * 2 >= s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		uint64_t *k = xcalloc(cap, sizeof(uint64_t));

		for (size_t j = 0; j < s->cap; j++) {
			if (s->k[j] == 0)
				continue;
			for (i = (size_t) (s->k[j] * 0x9e3779b97f4a7c15ULL >> 20) & (cap - 1);
			     k[i]; i = (i + 1) & (cap - 1))
				/* void */;
			k[i] = s->k[j];
		}
		free(s->k);
		s->k = k;
		s->cap = cap;
	}
	for (i = (size_t) (key * 0x9e3779b97f4a7c15ULL >> 20) & (s->cap - 1); s->k[i];
	     i = (i + 1) & (s->cap - 1))
		if (s->k[i] == key)
			return 0;
	s->k[i] = key;
	s->n++;
	return 1;
}

/* detector_fp_set_clear - empty a set, keep its room */
void detector_fp_set_clear(struct fp_set *s)
{
	if (s->n)
		memset(s->k, 0, s->cap * sizeof(uint64_t));
	s->n = 0;
}

/* detector_fp_scan_init - the state of a message, when rules need it */
void detector_fp_scan_init(struct det_scan *sc)
{
	const struct det_policyset *ps = sc->ps;
	struct det_fpscan *fs = xcalloc(1, sizeof(*fs));

	fs->edm_rules = xcalloc(ps->nrules + 1, sizeof(uint32_t));
	fs->doc_rules = xcalloc(ps->nrules + 1, sizeof(uint32_t));
	for (size_t i = 0; i < ps->nrules; i++) {
		const struct det_rule *r = &ps->rules[i];

		if (r->fpi == NULL || !ps->policies[r->policy].enabled)
			continue;
		if (r->type == RULE_EDM)
			fs->edm_rules[fs->nedm++] = (uint32_t) i;
		else if (r->type == RULE_DOCUMENT)
			fs->doc_rules[fs->ndoc++] = (uint32_t) i;
	}
	fs->res = xcalloc(ps->nrules + 1, sizeof(*fs->res));
	fs->acc = xcalloc(ps->nrules + 1, sizeof(*fs->acc));
	fs->active = xcalloc(ps->nrules + 1, sizeof(uint32_t));
	fs->winnow = xcalloc(ps->nfpi + 1, sizeof(*fs->winnow));
	fs->xon = xcalloc(ps->nfpi + 1, 1);
	sc->fp = fs;
}

/* detector_fp_scan_free - release a message's state */
void detector_fp_scan_free(struct det_scan *sc)
{
	struct det_fpscan *fs = sc->fp;

	if (fs == NULL)
		return;
	for (size_t i = 0; i < sc->ps->nrules; i++) {
		struct idm_acc *a = &fs->acc[i];

		free(a->part_n);
		free(a->msg_n);
		free(a->part_w);
		free(a->msg_w);
		free(a->part_end);
		free(a->msg_end);
		free(a->touched);
	}
	free(fs->acc);
	free(fs->res);
	free(fs->edm_rules);
	free(fs->doc_rules);
	free(fs->hits);
	free(fs->tok);
	free(fs->rows);
	free(fs->part_seen.k);
	free(fs->msg_seen.k);
	free(fs->winnow);
	free(fs->xon);
	free(fs->active);
	free(fs->cand);
	free(fs->rec);
	free(fs);
	sc->fp = NULL;
}

/* applies - does a rule look at this unit? */
static int applies(const struct det_rule *r, unsigned where, const char *header)
{
	if (!(r->where & where))
		return 0;
	if (where == DET_W_HEADER && r->headers.count) {
		for (size_t i = 0; i < r->headers.count; i++)
			if (header && strcasecmp(r->headers.items[i], header) == 0)
				return 1;
		return 0;
	}
	return 1;
}

/* index_no - an index's number in the policy set */
static uint32_t index_no(const struct det_policyset *ps, const struct det_fpindex *x)
{
	uint32_t i;

	for (i = 0; i < ps->nfpi && ps->fpi[i] != x; i++)
		/* void */;
	return i;
}

/* What one unit asks of the word pass. */
struct wpass {
	int edm_text;   /* look up spans of words */
	unsigned spans; /* span lengths to look up (bit n-1: n words) */
	int idm;        /* winnow for document rules */
	const uint32_t *doc;
	size_t ndoc;
};

/* A value to look up, found while the words of a batch were read. */
struct fp_cand {
	uint64_t v;   /* keyed value */
	uint64_t pos; /* IDM: first word; EDM: first and last word of the batch */
	uint32_t x;   /* index */
	uint32_t last;
};

/* cand_room - room for n more candidates */
static struct fp_cand *cand_room(struct det_fpscan *fs, size_t n)
{
	if (fs->ncand + n > fs->capcand) {
		fs->capcand = (fs->ncand + n) * 2;
		fs->cand = xrealloc(fs->cand, fs->capcand * sizeof(*fs->cand));
	}
	return fs->cand + fs->ncand;
}

/* batch_values - the span values and fingerprints of a batch of words */
static void batch_values(struct det_scan *sc, const struct fp_word *w, const uint64_t *f,
			 size_t carry, size_t n, uint64_t base, const struct wpass *wp)
{
	struct det_fpscan *fs = sc->fp;
	const struct det_policyset *ps = sc->ps;

	fs->ncand = 0;
	for (size_t i = carry; i < carry + n; i++) {
		for (size_t len = 1; wp->edm_text && len <= FP_SPAN_MAX && len <= i + 1;
		     len++) {
			uint64_t v;

			if (!(wp->spans & 1u << (len - 1)))
				continue;
			v = detector_fp_span(f + i + 1 - len, len);
			for (uint32_t x = 0; x < ps->nfpi; x++) {
				const struct det_fpindex *xi = ps->fpi[x];
				struct fp_cand *c;

				if (!fs->xon[x] || xi->kind != FP_EDM
				    || !(xi->edm->span_mask & 1u << (len - 1)))
					continue;
				c = cand_room(fs, 1);
				c->v = v;
				c->x = x;
				c->pos = i + 1 - len;
				c->last = (uint32_t) i;
				fs->ncand++;
			}
		}
	}
	/* the winnowing of each document index, over the whole batch */
	for (uint32_t x = 0; wp->idm && x < ps->nfpi; x++) {
		uint64_t fp[FP_BATCH + 1], at[FP_BATCH + 1];
		size_t k;

		if (!fs->xon[x] || ps->fpi[x]->kind != FP_IDM)
			continue;
		k = detector_idm_winnow_batch(&fs->winnow[x], f + carry, n, fp, at);
		for (size_t j = 0; j < k; j++) {
			struct fp_cand *c = cand_room(fs, 1);

			c->v = fp[j];
			c->x = x;
			c->pos = base + at[j];
			c->last = UINT32_MAX;
			fs->ncand++;
		}
	}
}

/* batch_lookup - look every candidate of a batch up (their filters read at once) */
static void batch_lookup(struct det_scan *sc, const char *d, const struct fp_word *w,
			 const struct wpass *wp)
{
	struct det_fpscan *fs = sc->fp;
	const struct det_policyset *ps = sc->ps;

	for (size_t k = 0; k < fs->ncand; k++)
		detector_fp_bloom_prefetch(ps->fpi[fs->cand[k].x], fs->cand[k].v);
	for (size_t k = 0; k < fs->ncand; k++) {
		const struct fp_cand *c = &fs->cand[k];
		uint32_t ref;

		if (c->last == UINT32_MAX)
			detector_idm_match(sc, c->x, c->v, c->pos, wp->doc, wp->ndoc);
		else if (detector_edm_find(ps->fpi[c->x], c->v, FP_TEXT, d, w[c->pos].s,
					   w[c->last].e, 0, &ref))
			detector_edm_hit(fs, c->x, w[c->pos].s, w[c->last].e, ref);
	}
}

/* word_pass - the words of d[from, to) for EDM spans and IDM winnowing */
static void word_pass(struct det_scan *sc, const char *d, size_t from, size_t to,
		      const struct wpass *wp)
{
	struct det_fpscan *fs = sc->fp;
	const struct det_policyset *ps = sc->ps;
	struct fp_word w[FP_BATCH + FP_SPAN_MAX];
	uint64_t f[FP_BATCH + FP_SPAN_MAX], fp, at, base = fs->wordno, count = 0;
	size_t pos = from, carry = 0, n;

	for (uint32_t x = 0; wp->idm && x < ps->nfpi; x++)
		if (fs->xon[x] && ps->fpi[x]->kind == FP_IDM)
			detector_idm_winnow_init(&fs->winnow[x], ps->fpi[x]->idm->k,
						 ps->fpi[x]->idm->w);
	while ((n = detector_fp_words(d, to, &pos, w + carry, FP_BATCH)) > 0) {
		size_t keep;

		detector_fp_words_seal(w + carry, n, f + carry);
		batch_values(sc, w, f, carry, n, base, wp);
		batch_lookup(sc, d, w, wp);
		count += n;
		keep = carry + n < FP_SPAN_MAX - 1 ? carry + n : FP_SPAN_MAX - 1;
		memmove(w, w + carry + n - keep, keep * sizeof(w[0]));
		memmove(f, f + carry + n - keep, keep * sizeof(f[0]));
		carry = keep;
		if (detector_scan_expired(sc))
			break;
	}
	for (uint32_t x = 0; wp->idm && x < ps->nfpi; x++)
		if (fs->xon[x] && ps->fpi[x]->kind == FP_IDM
		    && detector_idm_winnow_end(&fs->winnow[x], &fp, &at))
			detector_idm_match(sc, x, fp, base + at, wp->doc, wp->ndoc);
	fs->wordno = base + count + FP_UNIT_GAP;
}

/* word_start - back to the start of the word at p (a few bytes at most) */
static size_t word_start(const char *d, size_t p)
{
	size_t lim = p > FP_WORD_MAX ? p - FP_WORD_MAX : 0;

	while (p > lim
	       && ((unsigned char) d[p - 1] >= 0x80 || (d[p - 1] >= '0' && d[p - 1] <= '9')
		   || ((d[p - 1] | 0x20) >= 'a' && (d[p - 1] | 0x20) <= 'z')))
		p--;
	return p;
}

/* hit_start - anchor hits by where they start */
static int hit_start(const void *a, const void *b)
{
	const struct edm_hit *x = a, *y = b;

	return x->s < y->s ? -1 : x->s > y->s;
}

/* windows - words around the numbers, dates and addresses found */
static void windows(struct det_scan *sc, const char *d, size_t len, unsigned margin,
		    const struct wpass *wp)
{
	struct det_fpscan *fs = sc->fp;
	size_t na = fs->nhits, i = 0;
	size_t *win;

	if (na == 0)
		return;
	qsort(fs->hits, na, sizeof(*fs->hits), hit_start);
	win = xmalloc(na * 2 * sizeof(size_t)); /* hits are added as we go */
	for (size_t k = 0; k < na; k++) {
		win[2 * k] = fs->hits[k].s > margin ? fs->hits[k].s - margin : 0;
		win[2 * k + 1] = len - fs->hits[k].e > margin ? fs->hits[k].e + margin : len;
	}
	while (i < na) {
		size_t s = win[2 * i], e = win[2 * i + 1];

		for (i++; i < na && win[2 * i] <= e; i++)
			if (win[2 * i + 1] > e)
				e = win[2 * i + 1];
		word_pass(sc, d, word_start(d, s), e, wp);
	}
	free(win);
}

/* detector_fp_unit - the edm and document rules over one unit of text */
void detector_fp_unit(struct det_scan *sc, unsigned where, const char *header, const char *d,
		      size_t len)
{
	struct det_fpscan *fs = sc->fp;
	const struct det_policyset *ps = sc->ps;
	uint32_t *edm = fs->active, *doc;
	size_t nedm = 0, ndoc = 0;
	unsigned types = 0, mind = UINT_MAX, maxd = 0, margin = 0;
	int full = 0, text = 0;
	struct wpass wp = {0};

	memset(fs->xon, 0, ps->nfpi);
	for (size_t i = 0; i < fs->nedm; i++) {
		const struct det_rule *r = &ps->rules[fs->edm_rules[i]];
		const struct edm_head *h = r->fpi->edm;
		unsigned rtypes = 0;

		if (!applies(r, where, header))
			continue;
		edm[nedm++] = fs->edm_rules[i];
		fs->xon[index_no(ps, r->fpi)] = 1;
		for (uint32_t c = 0; c < h->cols; c++)
			if (r->columns & 1u << c)
				rtypes |= 1u << r->fpi->cols[c].type;
		types |= rtypes;
		if (rtypes & 1u << FP_TEXT) {
			text = 1;
			wp.spans |= h->span_mask;
			if (!detector_edm_gated(r))
				full = 1;
			if (r->distance + FP_CELL_MAX > margin)
				margin = r->distance + FP_CELL_MAX;
		}
		mind = h->min_digits < mind ? h->min_digits : mind;
		maxd = h->max_digits > maxd ? h->max_digits : maxd;
	}
	doc = edm + nedm;
	for (size_t i = 0; i < fs->ndoc; i++) {
		const struct det_rule *r = &ps->rules[fs->doc_rules[i]];

		if (!applies(r, where, header))
			continue;
		doc[ndoc++] = fs->doc_rules[i];
		fs->xon[index_no(ps, r->fpi)] = 1;
	}
	if (nedm == 0 && ndoc == 0)
		return;
	fs->nhits = 0;
	fs->unit_where = where;
	if (nedm && (types & ~(1u << FP_TEXT))) {
		detector_edm_tokens(sc, d, len, types, mind, maxd);
		detector_edm_lookup_tokens(sc, d, fs->xon);
	}
	wp.edm_text = nedm && text;
	wp.idm = ndoc > 0;
	wp.doc = doc;
	wp.ndoc = ndoc;
	if (full || wp.idm)
		word_pass(sc, d, 0, len, &wp);
	else if (wp.edm_text)
		windows(sc, d, len, margin, &wp);
	if (nedm)
		detector_edm_rules(sc, d, edm, nedm);
}

/* detector_fp_part - a MIME leaf begins (1) or ends (0) */
void detector_fp_part(struct det_scan *sc, int begin)
{
	struct det_fpscan *fs = sc->fp;

	if (fs == NULL || fs->ndoc == 0)
		return;
	if (begin)
		fs->part_depth++;
	else if (fs->part_depth > 0 && --fs->part_depth == 0)
		detector_idm_part_end(sc);
}

/* detector_fp_file - content of a part or member: an indexed file? */
void detector_fp_file(struct det_scan *sc, unsigned where, const char *data, size_t len)
{
	if (sc->fp && sc->fp->ndoc)
		detector_idm_file(sc, where, data, len);
}

/* detector_fp_finish - judge the message as a whole (once) */
void detector_fp_finish(struct det_scan *sc)
{
	struct det_fpscan *fs = sc->fp;

	if (fs == NULL || fs->ndoc == 0 || fs->part_depth < 0)
		return;
	while (fs->part_depth > 0)
		detector_fp_part(sc, 0);
	detector_idm_finish(sc);
	fs->part_depth = -1; /* judged */
}

/* detector_fp_incident - a rule's matches as JSON fields */
void detector_fp_incident(struct buf *b, const struct det_scan *sc, uint32_t rule)
{
	if (sc->fp == NULL)
		return;
	if (sc->ps->rules[rule].type == RULE_EDM)
		detector_edm_incident(b, sc, rule);
	else if (sc->ps->rules[rule].type == RULE_DOCUMENT)
		detector_idm_incident(b, sc, rule);
}

/* detector_fp_text - a rule's matches, one per line */
void detector_fp_text(struct buf *out, const struct det_scan *sc, uint32_t rule)
{
	if (sc->fp == NULL)
		return;
	if (sc->ps->rules[rule].type == RULE_EDM)
		detector_edm_text(out, sc, rule);
	else if (sc->ps->rules[rule].type == RULE_DOCUMENT)
		detector_idm_text(out, sc, rule);
}

/*
 * A container is read in a child process (detector_confine.c), which
 * scans it as the detector would and hands back what it found: for the
 * fingerprints, each rule's matches as the incident tells them, the word
 * and work counters, and the raw document matches (up to
 * FP_REPORT_MATCHES), which the detector adds to the message as a whole.
 * The child judges the container's part itself before it reports.
 */
struct fp_report {
	uint64_t wordno, work;
	uint32_t nmatch, nrules;
};

/* detector_fp_record - in a confined child: a document match for the parent */
void detector_fp_record(struct det_scan *sc, uint32_t x, uint64_t fp, uint64_t pos)
{
	struct det_fpscan *fs = sc->fp;

	if (!sc->confined || fs->nrec >= FP_REPORT_MATCHES)
		return;
	if (fs->rec == NULL)
		fs->rec = xcalloc(FP_REPORT_MATCHES, sizeof(*fs->rec));
	fs->rec[fs->nrec].fp = fp;
	fs->rec[fs->nrec].pos = pos;
	fs->rec[fs->nrec].x = x;
	fs->rec[fs->nrec].where = fs->unit_where;
	fs->nrec++;
}

/* detector_fp_report_size - room a child needs for its report (0: none) */
size_t detector_fp_report_size(const struct det_scan *sc)
{
	if (sc->fp == NULL)
		return 0;
	return sizeof(struct fp_report) + sc->ps->nrules * sizeof(struct fp_rule_res)
		+ (sc->fp->ndoc ? FP_REPORT_MATCHES * sizeof(struct fp_rmatch) : 0);
}

/* detector_fp_report - in the child: the report, into the parent's area */
void detector_fp_report(struct det_scan *sc, void *area)
{
	struct det_fpscan *fs = sc->fp;
	struct fp_report *r = area;
	struct fp_rule_res *res = (struct fp_rule_res *) (r + 1);
	struct fp_rmatch *m = (struct fp_rmatch *) (res + sc->ps->nrules);

	if (fs == NULL)
		return;
	if (fs->ndoc && fs->part_depth > 0)
		detector_idm_part_end(sc); /* the container, on its own */
	r->wordno = fs->wordno;
	r->work = fs->work;
	r->nrules = (uint32_t) sc->ps->nrules;
	r->nmatch = fs->ndoc ? (uint32_t) fs->nrec : 0;
	memcpy(res, fs->res, sc->ps->nrules * sizeof(*res));
	if (r->nmatch)
		memcpy(m, fs->rec, r->nmatch * sizeof(*m));
}

/* detector_fp_take - in the parent: the child's report becomes ours */
void detector_fp_take(struct det_scan *sc, const void *area)
{
	struct det_fpscan *fs = sc->fp;
	const struct fp_report *r = area;
	const struct fp_rule_res *res = (const struct fp_rule_res *) (r + 1);
	const struct fp_rmatch *m = (const struct fp_rmatch *) (res + sc->ps->nrules);
	int depth;

	if (fs == NULL || r->nrules != sc->ps->nrules || r->nmatch > FP_REPORT_MATCHES)
		return;
	memcpy(fs->res, res, sc->ps->nrules * sizeof(*res));
	fs->wordno = r->wordno;
	fs->work = r->work;
	/* documents the child reported are reported */
	for (size_t i = 0; i < fs->ndoc; i++) {
		uint32_t ri = fs->doc_rules[i];

		for (unsigned k = 0; k < fs->res[ri].n && k < FP_FOUND_MAX; k++)
			(void) detector_fp_set_add(&fs->msg_seen,
						   1ULL << 63 | (uint64_t) ri << 32
							   | fs->res[ri].f[k].doc);
	}
	/* its matches count for the message as a whole; its part is judged */
	depth = fs->part_depth;
	fs->part_depth = 0;
	for (uint32_t i = 0; i < r->nmatch; i++) {
		uint32_t *doc = fs->active;
		size_t nd = 0;

		if (m[i].x >= sc->ps->nfpi)
			continue;
		for (size_t k = 0; k < fs->ndoc; k++) {
			const struct det_rule *rule = &sc->ps->rules[fs->doc_rules[k]];

			if (rule->fpi == sc->ps->fpi[m[i].x] && (rule->where & m[i].where))
				doc[nd++] = fs->doc_rules[k];
		}
		if (nd)
			detector_idm_match(sc, m[i].x, m[i].fp, m[i].pos, doc, nd);
	}
	fs->part_depth = depth;
}

/* detector_fp_index_name - an index's name, for labels */
const char *detector_fp_index_name(const struct det_fpindex *x)
{
	return x ? x->name : "?";
}
