/*
 * detector_match - one Hyperscan pass over each text unit, hits per rule
 *
 * detector_scan_init() prepares a message's scan: a Hyperscan scratch for
 * the policy set's database (kept for the life of the process), one hit
 * counter per rule, and the deadline. detector_scan_unit() scans one unit
 * (a subject, a header value, a body part's text, an attachment's text or
 * name) in block mode. The match callback:
 *
 *	keyword, regex	count a hit for its rule when the rule looks at this
 *			kind of unit (and at this header, for header rules)
 *	identifier	run the validator on the bytes around the candidate
 *			(once per run of digits); a valid value is a hit for
 *			every rule of that identifier, or, for rules with a
 *			proximity condition, a candidate kept until the unit
 *			is done
 *	proximity	note where a proximity keyword is
 *
 * When the unit is done, candidates with a proximity keyword within the
 * rule's distance (in bytes of UTF-8 text) become hits. In the subject,
 * the places of regex and identifier matches are kept so the subject can
 * be logged masked.
 *
 * Every 4096 callbacks the deadline is checked; past it, the scan stops
 * and the message counts as not completely scanned.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "msg.h"
#include "detector.h"

#define DET_MAX_CANDS	100000		/* per unit */
#define DET_MAX_OFFSETS	100000		/* proximity keywords per rule and unit */

static hs_scratch_t *match_scratch;
static const hs_database_t *match_scratch_db;

/* offsets_add - remember a position pair */
static void offsets_add(struct det_offsets *o, size_t a, size_t b)
{
	if (o->n + 2 > DET_MAX_OFFSETS * 2)
		return;
	if (o->n + 2 > o->cap) {
		o->cap = o->cap ? o->cap * 2 : 64;
		o->off = xrealloc(o->off, o->cap * sizeof(size_t));
	}
	o->off[o->n++] = a;
	o->off[o->n++] = b;
}

/* detector_scan_expired - is the deadline past? (sticky) */
int detector_scan_expired(struct det_scan *sc)
{
	struct timespec now;

	if (sc->timed_out)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > sc->deadline.tv_sec || (now.tv_sec == sc->deadline.tv_sec
						 && now.tv_nsec >= sc->deadline.tv_nsec)) {
		sc->timed_out = 1;
		detector_scan_limit(sc, "time");
	}
	return sc->timed_out;
}

/* detector_scan_limit - note that part of the message was not scanned */
void detector_scan_limit(struct det_scan *sc, const char *why)
{
	size_t  n = strlen(sc->incomplete_why);

	sc->incomplete = 1;
	if (strstr(sc->incomplete_why, why) == NULL && n + strlen(why) + 2 < sizeof(sc->incomplete_why))
		snprintf(sc->incomplete_why + n, sizeof(sc->incomplete_why) - n, "%s%s",
			 n ? "," : "", why);
}

/* detector_hit - one more match for a rule, with its masked sample */
void detector_hit(struct det_scan *sc, uint32_t rule, const char *sample)
{
	struct det_rule_hits *h = &sc->hits[rule];

	if (h->count < UINT32_MAX)
		h->count++;
	if (sample == NULL || *sample == 0 || h->nsamples >= DET_SAMPLES)
		return;
	for (unsigned i = 0; i < h->nsamples; i++)
		if (strcmp(h->samples[i], sample) == 0)
			return;
	snprintf(h->samples[h->nsamples++], sizeof(h->samples[0]), "%s", sample);
}

/* rule_applies - does a rule look at the unit being scanned? */
static int rule_applies(const struct det_scan *sc, const struct det_rule *r)
{
	if ((r->where & sc->where) == 0)
		return 0;
	if (sc->where == DET_W_HEADER && r->headers.count) {
		for (size_t i = 0; i < r->headers.count; i++)
			if (sc->header_name && strcasecmp(r->headers.items[i], sc->header_name) == 0)
				return 1;
		return 0;
	}
	return 1;
}

/* mask_subject_range - remember a sensitive range of the subject */
static void mask_subject_range(struct det_scan *sc, size_t s, size_t e)
{
	if (sc->where == DET_W_SUBJECT && sc->unit == sc->subject)
		offsets_add(&sc->masks, s, e);
}

/* on_ident - a candidate for an identifier */
static void on_ident(struct det_scan *sc, enum det_ident id, size_t from, size_t to)
{
	const struct det_policyset *ps = sc->ps;
	char    sample[DET_SAMPLE_MAX + 8];
	size_t  s, e, run_end;
	size_t  at = id == IDENT_IBAN ? from : to;

	if (id == IDENT_IBAN ? from < sc->run_end[id] : to <= sc->run_end[id])
		return;				/* a run already judged */
	if (!detector_ident_check(id, sc->unit, sc->unit_len, at, &s, &e, &run_end,
				  sample, sizeof(sample))) {
		if (run_end > sc->run_end[id])
			sc->run_end[id] = run_end;
		return;
	}
	sc->run_end[id] = run_end;
	mask_subject_range(sc, s, e);
	for (size_t i = 0; i < ps->nid_rules[id]; i++) {
		uint32_t ri = ps->id_rules[id][i];
		const struct det_rule *r = &ps->rules[ri];

		if (!rule_applies(sc, r))
			continue;
		if (r->prox_distance == 0) {
			detector_hit(sc, ri, sample);
			continue;
		}
		if (sc->ncands >= DET_MAX_CANDS)
			continue;
		if (sc->ncands == sc->capcands) {
			sc->capcands = sc->capcands ? sc->capcands * 2 : 16;
			sc->cands = xrealloc(sc->cands, sc->capcands * sizeof(*sc->cands));
		}
		sc->cands[sc->ncands].rule = ri;
		sc->cands[sc->ncands].start = s;
		sc->cands[sc->ncands].end = e;
		snprintf(sc->cands[sc->ncands].sample, sizeof(sc->cands[0].sample), "%s", sample);
		sc->ncands++;
	}
}

/* on_match - Hyperscan's callback */
static int on_match(unsigned id, unsigned long long from, unsigned long long to,
		    unsigned flags, void *ctx)
{
	struct det_scan *sc = ctx;
	const struct det_pattern *pat = &sc->ps->pats[id];
	const struct det_rule *r;
	char    sample[DET_SAMPLE_MAX + 8];

	(void) flags;
	if ((++sc->callbacks & 0xfff) == 0 && detector_scan_expired(sc))
		return 1;
	switch (pat->kind) {
	case PAT_IDENT:
		on_ident(sc, (enum det_ident) pat->rule, (size_t) from, (size_t) to);
		return 0;
	case PAT_KEYWORD:
		r = &sc->ps->rules[pat->rule];
		if (!rule_applies(sc, r))
			return 0;
		detector_mask(pat->text, strlen(pat->text), sample, sizeof(sample));
		detector_hit(sc, pat->rule, sample);
		return 0;
	case PAT_REGEX:
		r = &sc->ps->rules[pat->rule];
		if (!rule_applies(sc, r))
			return 0;
		if (from == 0 && to > DET_SAMPLE_MAX)
			from = to - 16;		/* no start of match: the tail */
		if (to - from > DET_SAMPLE_MAX)
			to = from + DET_SAMPLE_MAX;
		detector_mask(sc->unit + from, (size_t) (to - from), sample, sizeof(sample));
		mask_subject_range(sc, (size_t) from, (size_t) to);
		detector_hit(sc, pat->rule, sample);
		return 0;
	case PAT_PROX:
		r = &sc->ps->rules[pat->rule];
		if (!rule_applies(sc, r))
			return 0;
		{
			size_t  klen = strlen(pat->text);

			offsets_add(&sc->prox[pat->rule], to > klen ? (size_t) to - klen : 0,
				    (size_t) to);
		}
		return 0;
	}
	return 0;
}

/* near_keyword - is a proximity keyword within distance of [s, e)? */
static int near_keyword(const struct det_offsets *o, size_t s, size_t e, size_t dist)
{
	size_t  lo = 0, hi = o->n / 2;

	/* keyword ends arrive in order: find the first that ends at s - dist or later */
	while (lo < hi) {
		size_t  mid = (lo + hi) / 2;

		if (o->off[mid * 2 + 1] + dist < s)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < o->n / 2; i++) {
		size_t  ks = o->off[i * 2], ke = o->off[i * 2 + 1];
		size_t  gap = ks >= e ? ks - e : s >= ke ? s - ke : 0;

		if (gap <= dist)
			return 1;
		if (ks > e + dist)
			break;
	}
	return 0;
}

/* resolve_candidates - proximity: candidates with a keyword nearby are hits */
static void resolve_candidates(struct det_scan *sc)
{
	for (size_t i = 0; i < sc->ncands; i++) {
		const struct det_cand *c = &sc->cands[i];
		const struct det_rule *r = &sc->ps->rules[c->rule];

		if (near_keyword(&sc->prox[c->rule], c->start, c->end, r->prox_distance))
			detector_hit(sc, c->rule, c->sample);
	}
	sc->ncands = 0;
}

/* build_masked_subject - the subject with sensitive ranges starred */
static void build_masked_subject(struct det_scan *sc)
{
	size_t  len = strlen(sc->subject);

	free(sc->subject_masked);
	sc->subject_masked = xstrdup(sc->subject);
	for (size_t i = 0; i + 1 < sc->masks.n; i += 2) {
		size_t  s = sc->masks.off[i], e = sc->masks.off[i + 1];
		size_t  keep = e - s > 8 ? 4 : 0;	/* the last four stay */

		for (size_t k = s; k < e && k < len; k++)
			if (k + keep < e && sc->subject_masked[k] != ' ' && sc->subject_masked[k] != '-')
				sc->subject_masked[k] = '*';
	}
}

/* detector_scan_unit - run the database over one piece of text */
void detector_scan_unit(struct det_scan *sc, unsigned where, const char *header,
			const char *data, size_t len)
{
	const struct det_policyset *ps = sc->ps;
	int     subject = where == DET_W_SUBJECT && data == sc->subject;

	if (ps->db == NULL || len == 0 || sc->timed_out)
		goto out;
	if (!(ps->where_used & where) && !subject)
		return;
	if (len > UINT_MAX)
		len = UINT_MAX;
	sc->where = where;
	sc->header_name = header;
	sc->unit = data;
	sc->unit_len = len;
	memset(sc->run_end, 0, sizeof(sc->run_end));
	for (size_t i = 0; i < ps->nrules; i++)
		sc->prox[i].n = 0;
	sc->ncands = 0;
	if (hs_scan(ps->db, data, (unsigned) len, 0, sc->scratch, on_match, sc) != HS_SUCCESS
	    && !sc->timed_out)
		detector_scan_limit(sc, "match error");
	resolve_candidates(sc);
	sc->unit = NULL;
	sc->unit_len = 0;
out:
	if (subject)
		build_masked_subject(sc);
}

/* detector_scan_init - a fresh scan of one message (timeout in ms); -1 if no scratch */
int     detector_scan_init(struct det_scan *sc, const struct det_policyset *ps,
			   size_t msg_size, int timeout)
{
	memset(sc, 0, sizeof(*sc));
	sc->ps = ps;
	sc->msg_size = msg_size;
	sc->hits = xcalloc(ps->nrules + 1, sizeof(*sc->hits));
	sc->prox = xcalloc(ps->nrules + 1, sizeof(*sc->prox));
	clock_gettime(CLOCK_MONOTONIC, &sc->deadline);
	sc->deadline.tv_sec += timeout / 1000;
	sc->deadline.tv_nsec += (long) (timeout % 1000) * 1000000L;
	if (sc->deadline.tv_nsec >= 1000000000L) {
		sc->deadline.tv_sec++;
		sc->deadline.tv_nsec -= 1000000000L;
	}
	if (ps->db) {
		if (match_scratch_db != ps->db || match_scratch == NULL) {
			if (hs_alloc_scratch(ps->db, &match_scratch) != HS_SUCCESS) {
				msg_warn("hs_alloc_scratch failed");
				return -1;
			}
			match_scratch_db = ps->db;
		}
		sc->scratch = match_scratch;
	}
	return 0;
}

/* detector_scan_free - release a scan (the scratch stays) */
void detector_scan_free(struct det_scan *sc)
{
	if (sc->prox)
		for (size_t i = 0; i < sc->ps->nrules; i++)
			free(sc->prox[i].off);
	free(sc->prox);
	free(sc->hits);
	free(sc->cands);
	free(sc->masks.off);
	free(sc->subject);
	free(sc->subject_raw);
	free(sc->subject_masked);
	free(sc->message_id);
	free(sc->att);
	free(sc->alt_save);
	memset(sc, 0, sizeof(*sc));
}
