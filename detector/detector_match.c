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
 *	keyword		whole-word keywords: the bytes around the match
 *			must not be part of a word
 *	proximity	note where a context keyword of an identifier rule is;
 *			it starts a word (a keyword of four characters or
 *			fewer is the whole word, or its plural)
 *	anchor		an identifier found from a literal (secrets, BIC):
 *			detector_ident_anchor() reads the text around it
 *
 * Then the identifiers' own scan of numbers (detector_ident.c) runs over
 * the unit. A valid value labelled as another kind of number that it can
 * be (an IMEI, an order number: the words right before it or its column's
 * header; detector_context.c says what each kind can be) does not count
 * for rules with lookalike_labels; otherwise it is a hit for
 * every rule of that identifier that looks at the unit, or, when the rule
 * wants context for it (context = true, near = [...], or a weak value
 * under context = auto), a candidate kept until the unit is done.
 *
 * When the unit is done, candidates with a context keyword within the
 * rule's distance (in bytes of UTF-8 text), or in the header cell of the
 * table column they stand in, become hits. In the subject, the places of
 * regex and identifier matches are kept so the subject can be logged
 * masked.
 *
 * Every 4096 callbacks the deadline is checked; past it, the scan stops
 * and the message counts as not completely scanned.
 *
 * detector_readings_begin(), _next() and _end() bracket several readings
 * of the same bytes (HTML with and without what it hides, a PDF page in
 * stream order and in reading order): each rule keeps the hits of the
 * reading that gave it the most, not their sum.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "detector.h"

#define DET_MAX_CANDS   100000 /* per unit */
#define DET_MAX_OFFSETS 100000 /* proximity keywords per rule and unit */

static hs_scratch_t *match_scratch;
static const hs_database_t *match_scratch_db;

/* offsets_add - remember a position pair; -1 when the list is full */
static int offsets_add(struct det_offsets *o, size_t a, size_t b)
{
	if (o->n + 2 > DET_MAX_OFFSETS * 2)
		return -1;
	if (o->n + 2 > o->cap) {
		o->cap = o->cap ? o->cap * 2 : 64;
		o->off = xrealloc(o->off, o->cap * sizeof(size_t));
	}
	o->off[o->n++] = a;
	o->off[o->n++] = b;
	return 0;
}

/* detector_scan_expired - is the deadline past? (sticky) */
int detector_scan_expired(struct det_scan *sc)
{
	struct timespec now;

	if (sc->timed_out)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > sc->deadline.tv_sec
	    || (now.tv_sec == sc->deadline.tv_sec && now.tv_nsec >= sc->deadline.tv_nsec)) {
		sc->timed_out = 1;
		detector_scan_limit(sc, "time");
	}
	return sc->timed_out;
}

/* detector_unscannable - note what could not be read, and why (printf) */
void detector_unscannable(struct det_scan *sc, const char *fmt, ...)
{
	char why[160];
	size_t n = strlen(sc->incomplete_why);
	va_list ap;

	sc->incomplete = 1;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	for (char *p = why; *p; p++) /* one line, no quotes: log-safe */
		if ((unsigned char) *p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f)
			*p = '?';
	if (strstr(sc->incomplete_why, why) != NULL)
		return;
	if (n + strlen(why) + 3 < sizeof(sc->incomplete_why))
		snprintf(sc->incomplete_why + n, sizeof(sc->incomplete_why) - n, "%s%s",
			 n ? "; " : "", why);
	else if (n + 5 < sizeof(sc->incomplete_why)
		 && strstr(sc->incomplete_why, "; ...") == NULL)
		snprintf(sc->incomplete_why + n, sizeof(sc->incomplete_why) - n, "; ...");
}

/* detector_scan_limit - note that a limit stopped part of the scan: "parts",
 * "depth", "decoded size", "time", or any other short reason; the
 * setting that was reached is named, and the part being read */
void detector_scan_limit(struct det_scan *sc, const char *why)
{
	char what[96];

	if (strcmp(why, "parts") == 0)
		snprintf(what, sizeof(what), "detector_part_limit (%d) reached",
			 var_detector_part_limit);
	else if (strcmp(why, "depth") == 0)
		snprintf(what, sizeof(what), "detector_depth_limit (%d) reached",
			 var_detector_depth_limit);
	else if (strcmp(why, "decoded size") == 0)
		snprintf(what, sizeof(what), "detector_decoded_size_limit (%lld bytes) reached",
			 var_detector_decoded_size_limit);
	else if (strcmp(why, "time") == 0)
		snprintf(what, sizeof(what), "scan time limit (detector_timeout) reached");
	else
		snprintf(what, sizeof(what), "%s", why);
	if (sc->label)
		detector_unscannable(sc, "%s in %s", what, sc->label);
	else
		detector_unscannable(sc, "%s", what);
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
			if (sc->header_name
			    && strcasecmp(r->headers.items[i], sc->header_name) == 0)
				return 1;
		return 0;
	}
	return 1;
}

/* mask_subject_range - remember a sensitive range of the subject (in the
 * subject as written when it was scanned folded) */
static void mask_subject_range(struct det_scan *sc, size_t s, size_t e)
{
	if (sc->where != DET_W_SUBJECT || !sc->unit_subject)
		return;
	if (sc->unit_map && e > s) {
		size_t lo = sc->unit_map[s], hi = sc->unit_map[s];

		for (size_t k = s; k < e; k++) {
			lo = sc->unit_map[k] < lo ? sc->unit_map[k] : lo;
			hi = sc->unit_map[k] > hi ? sc->unit_map[k] : hi;
		}
		/* past the whole character that starts at hi */
		for (hi++; sc->subject[hi] && ((unsigned char) sc->subject[hi] & 0xc0) == 0x80;
		     hi++)
			/* void */;
		s = lo;
		e = hi;
	}
	(void) offsets_add(&sc->masks, s, e);
}

/* lookalike - is the number labelled as another kind of number it can be? */
static int lookalike(struct det_scan *sc, const struct det_found *f)
{
	struct det_value v;
	size_t hs, he;
	int kind = detector_ident_labelled(sc->unit, sc->unit_len, f->start);

	if (kind == 0
	    && detector_table_cell(&sc->table, sc->unit, sc->unit_len, f->start, &hs, &he))
		kind = detector_label_in(sc->unit, hs, he);
	if (kind == 0)
		return 0;
	detector_ident_value(sc->unit, f->start, f->end, &v);
	return detector_label_admits(kind, &v, f->weak);
}

/* on_ident - a validated identifier: hits, or candidates for context */
static void on_ident(void *ctx, const struct det_found *f)
{
	struct det_scan *sc = ctx;
	const struct det_policyset *ps = sc->ps;
	int labelled = -1;

	mask_subject_range(sc, f->start, f->end);
	for (size_t i = 0; i < ps->nid_rules[f->id]; i++) {
		uint32_t ri = ps->id_rules[f->id][i];
		const struct det_rule *r = &ps->rules[ri];

		if (!rule_applies(sc, r))
			continue;
		if (r->labels && detector_ident_is_number(f->id)) {
			if (labelled < 0)
				labelled = lookalike(sc, f);
			if (labelled)
				continue;
		}
		if (r->context == CTX_NEVER || (r->context == CTX_AUTO && !f->weak)) {
			detector_hit(sc, ri, f->sample);
			continue;
		}
		if (sc->ncands >= DET_MAX_CANDS) {
			detector_unscannable(
				sc, "over %d identifier candidates in one text of %s",
				DET_MAX_CANDS, sc->label ? sc->label : "the message");
			continue;
		}
		if (sc->ncands == sc->capcands) {
			sc->capcands = sc->capcands ? sc->capcands * 2 : 16;
			sc->cands = xrealloc(sc->cands, sc->capcands * sizeof(*sc->cands));
		}
		sc->cands[sc->ncands].rule = ri;
		sc->cands[sc->ncands].start = f->start;
		sc->cands[sc->ncands].end = f->end;
		snprintf(sc->cands[sc->ncands].sample, sizeof(sc->cands[0].sample), "%s",
			 f->sample);
		sc->ncands++;
	}
}

/* word_byte - a byte of a keyword that may be part of a word (letters,
 * digits, '_', any UTF-8 byte)? */
static int word_byte(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		|| c == '_' || c >= 0x80;
}

/*
 * In the text, whether a character is part of a word is read from the
 * character: letters, digits and marks of every script are; white space
 * (the no-break and other Unicode spaces), punctuation, symbols and bytes
 * that are not UTF-8 are not. "SSN" before a no-break space (HTML's
 * &nbsp;) or a stray 0xFF byte is the whole word SSN.
 */

/* cp_word - is a code point part of words? (-1: no UTF-8 character) */
static int cp_word(long c)
{
	if (c < 0x80)
		return c >= 0 && word_byte((unsigned char) c);
	if (c <= 0xbf)
		return c == 0xaa || c == 0xb5 || c == 0xba; /* ordinals, micro */
	return c != 0xd7 && c != 0xf7 && c != 0x1680 && !(c >= 0x2000 && c <= 0x2bff)
		&& !(c >= 0x3000 && c <= 0x303f) && !(c >= 0xfe10 && c <= 0xfe1f)
		&& !(c >= 0xfe30 && c <= 0xfe6f) && !(c >= 0xff00 && c <= 0xff0f)
		&& !(c >= 0xff1a && c <= 0xff20) && !(c >= 0xff3b && c <= 0xff40)
		&& !(c >= 0xff5b && c <= 0xff65) && !(c >= 0xfff0 && c <= 0xffff);
}

/* cp_decode - the code point of the UTF-8 character in p[0, n), -1 if broken */
static long cp_decode(const unsigned char *p, size_t n)
{
	long c;
	size_t want;

	if (p[0] < 0x80)
		return n == 1 ? p[0] : -1;
	want = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
	if (want == 0 || n != want || p[0] > 0xf4)
		return -1;
	c = p[0] & (0x3f >> (want - 1));
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (p[i] & 0x3f);
	}
	return c;
}

/* text_word_at - is the character at p of the text part of a word? */
static int text_word_at(const char *d, size_t len, size_t p)
{
	const unsigned char *u = (const unsigned char *) d;
	size_t n = 1;

	if (p >= len)
		return 0;
	if (u[p] < 0x80)
		return word_byte(u[p]);
	while (p + n < len && n < 4 && (u[p + n] & 0xc0) == 0x80)
		n++;
	return cp_word(cp_decode(u + p, n));
}

/* text_word_before - is the character that ends at p part of a word? */
static int text_word_before(const char *d, size_t p)
{
	const unsigned char *u = (const unsigned char *) d;
	size_t k = p;

	if (p == 0)
		return 0;
	if (u[p - 1] < 0x80)
		return word_byte(u[p - 1]);
	while (k > 0 && p - k < 3 && (u[k - 1] & 0xc0) == 0x80)
		k--;
	return k > 0 && cp_word(cp_decode(u + k - 1, p - k + 1));
}

/* keyword_start - where a keyword match that ends at `to` begins */
static size_t keyword_start(const char *kw, size_t i, const char *d, size_t to)
{
	size_t j = to;

	/* Hyperscan matched already: walk back over it, white space as a run */
	while (i > 0 && j > 0) {
		if (kw[i - 1] == ' ' || kw[i - 1] == '\t') {
			while (i > 0 && (kw[i - 1] == ' ' || kw[i - 1] == '\t'))
				i--;
			while (j > 0
			       && (d[j - 1] == ' ' || (d[j - 1] >= '\t' && d[j - 1] <= '\r')))
				j--;
		} else {
			i--;
			j--;
		}
	}
	return j;
}

/* gap_at - the bytes of one character that may stand between the words of a
 * phrase at p (white space, a Unicode space, '-', '_'), or 0 */
static size_t gap_at(const unsigned char *d, size_t len, size_t p)
{
	if (p >= len)
		return 0;
	if (d[p] == ' ' || (d[p] >= '\t' && d[p] <= '\r') || d[p] == '-' || d[p] == '_')
		return 1;
	if (p + 1 < len && d[p] == 0xc2 && d[p + 1] == 0xa0)
		return 2; /* no-break space */
	if (p + 2 < len
	    && ((d[p] == 0xe2 && d[p + 1] == 0x80 && (d[p + 2] <= 0x8a || d[p + 2] == 0xaf))
		|| (d[p] == 0xe2 && d[p + 1] == 0x81 && d[p + 2] == 0x9f)
		|| (d[p] == 0xe3 && d[p + 1] == 0x80 && d[p + 2] == 0x80)))
		return 3; /* the Unicode spaces */
	return 0;
}

/* gap_after - how many bytes of gap characters start at p */
static size_t gap_after(const char *d, size_t len, size_t p)
{
	size_t n = 0, k;

	while ((k = gap_at((const unsigned char *) d, len, p + n)) > 0)
		n += k;
	return n;
}

/* gap_before - how many bytes of gap characters end at p */
static size_t gap_before(const char *d, size_t p)
{
	size_t n = 0;

	for (;;) {
		size_t k = 0;

		for (size_t w = 1; w <= 3 && w <= p - n && k == 0; w++)
			if (gap_at((const unsigned char *) d, p - n, p - n - w) == w)
				k = w;
		if (k == 0)
			return n;
		n += k;
	}
}

/* word_at - does word w of a phrase stand at d[pos] (either case)? */
static int word_at(const struct det_phrase *ph, size_t w, const char *d, size_t len, size_t pos)
{
	const char *lo = ph->lo[w], *up = ph->up[w];

	if (pos + ph->len[w] > len)
		return 0;
	for (size_t i = 0; i < ph->len[w]; i++)
		if (d[pos + i] != lo[i] && d[pos + i] != up[i])
			return 0;
	return 1;
}

/* phrase_match - the whole phrase around its anchor, ending at `to` */
static int phrase_match(const struct det_scan *sc, const struct det_pattern *pat, size_t to,
			size_t *start, size_t *end)
{
	const struct det_phrase *ph = pat->phrase;
	const char *d = sc->unit;
	size_t len = sc->unit_len, pos = to, n;

	/* the words after the anchor */
	for (size_t w = ph->anchor + 1; w < ph->nwords; w++) {
		n = gap_after(d, len, pos);
		if (n == 0 || !word_at(ph, w, d, len, pos + n))
			return 0;
		pos += n + ph->len[w];
	}
	*end = pos;
	/* the words before it */
	if (to < ph->len[ph->anchor])
		return 0;
	pos = to - ph->len[ph->anchor];
	for (size_t w = ph->anchor; w-- > 0;) {
		n = gap_before(d, pos);
		if (n == 0 || pos - n < ph->len[w]
		    || !word_at(ph, w, d, len, pos - n - ph->len[w]))
			return 0;
		pos -= n + ph->len[w];
	}
	*start = pos;
	return 1;
}

/* keyword_ok - a phrase complete around its anchor, a word on its own */
static int keyword_ok(const struct det_scan *sc, const struct det_pattern *pat, size_t to)
{
	size_t start, end = to;

	if (pat->phrase) {
		if (!phrase_match(sc, pat, to, &start, &end))
			return 0;
	} else if (pat->whole)
		start = keyword_start(pat->text, pat->len, sc->unit, to);
	else
		return 1;
	if (!pat->whole)
		return 1;
	if (word_byte((unsigned char) pat->text[0]) && text_word_before(sc->unit, start))
		return 0;
	if (word_byte((unsigned char) pat->text[pat->len - 1])
	    && text_word_at(sc->unit, sc->unit_len, end))
		return 0;
	return 1;
}

/* context_word - a context keyword where words start (and end, when short) */
static int context_word(const struct det_scan *sc, const struct det_pattern *pat, size_t start,
			size_t to)
{
	const unsigned char *d = (const unsigned char *) sc->unit;
	unsigned char first = (unsigned char) pat->text[0],
		      last = (unsigned char) pat->text[pat->len - 1];
	size_t chars = 0;

	if (first < 0x80 && word_byte(first) && text_word_before(sc->unit, start))
		return 0;
	for (size_t i = 0; i < pat->len; i++)
		chars += ((unsigned char) pat->text[i] & 0xc0) != 0x80;
	if (chars > 4 || last >= 0x80 || !word_byte(last)
	    || !text_word_at(sc->unit, sc->unit_len, to))
		return 1;
	/* a short word: whole, or its plural */
	return (d[to] == 's' || d[to] == 'S') && !text_word_at(sc->unit, sc->unit_len, to + 1);
}

/* on_match - Hyperscan's callback */
static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		    void *ctx)
{
	struct det_scan *sc = ctx;
	const struct det_pattern *pat = &sc->ps->pats[id];
	const struct det_rule *r;
	char sample[DET_SAMPLE_MAX + 8];

	(void) flags;
	if ((++sc->callbacks & 0xfff) == 0 && detector_scan_expired(sc))
		return 1;
	switch (pat->kind) {
	case PAT_KEYWORD:
		r = &sc->ps->rules[pat->rule];
		if (!rule_applies(sc, r) || !keyword_ok(sc, pat, (size_t) to))
			return 0;
		detector_hit(sc, pat->rule, pat->sample);
		return 0;
	case PAT_REGEX:
		r = &sc->ps->rules[pat->rule];
		if (!rule_applies(sc, r))
			return 0;
		if (from == 0 && to > DET_SAMPLE_MAX)
			from = to - 16; /* no start of match: the tail */
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
			size_t start, end = (size_t) to;

			if (pat->phrase ? !phrase_match(sc, pat, (size_t) to, &start, &end)
					: (start = keyword_start(pat->text, pat->len, sc->unit,
								 end),
					   0))
				return 0;
			if (context_word(sc, pat, start, end)
			    && offsets_add(&sc->prox[pat->rule], start, end) < 0)
				detector_unscannable(
					sc, "over %d proximity keywords in one text of %s",
					DET_MAX_OFFSETS, sc->label ? sc->label : "the message");
		}
		return 0;
	case PAT_ANCHOR:
		if (sc->ps->id_where_of[pat->ident] & sc->where)
			detector_ident_anchor(pat->ident, sc->unit, sc->unit_len,
					      (size_t) to - pat->len, (size_t) to,
					      sc->anchor_done, on_ident, sc);
		return 0;
	}
	return 0;
}

/* near_keyword - is a proximity keyword within distance of [s, e)? */
static int near_keyword(const struct det_offsets *o, size_t s, size_t e, size_t dist)
{
	size_t lo = 0, hi = o->n / 2;

	/* keyword ends arrive in order: find the first that ends at s - dist or later */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (o->off[mid * 2 + 1] + dist < s)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < o->n / 2; i++) {
		size_t ks = o->off[i * 2], ke = o->off[i * 2 + 1];
		size_t gap = ks >= e ? ks - e : s >= ke ? s - ke : 0;

		if (gap <= dist)
			return 1;
		if (ks > e + dist)
			break;
	}
	return 0;
}

/* header_keyword - a context keyword in the header cell of the candidate's column */
static int header_keyword(struct det_scan *sc, const struct det_cand *c)
{
	size_t hs, he;

	return sc->prox[c->rule].n > 0
		&& detector_table_cell(&sc->table, sc->unit, sc->unit_len, c->start, &hs, &he)
		&& near_keyword(&sc->prox[c->rule], hs, he, 0);
}

/* resolve_candidates - context: candidates with a keyword nearby are hits */
static void resolve_candidates(struct det_scan *sc)
{
	for (size_t i = 0; i < sc->ncands; i++) {
		const struct det_cand *c = &sc->cands[i];
		const struct det_rule *r = &sc->ps->rules[c->rule];

		if (near_keyword(&sc->prox[c->rule], c->start, c->end, r->prox_distance)
		    || header_keyword(sc, c))
			detector_hit(sc, c->rule, c->sample);
	}
	sc->ncands = 0;
}

/* build_masked_subject - the subject with sensitive ranges starred */
static void build_masked_subject(struct det_scan *sc)
{
	size_t len = strlen(sc->subject);

	free(sc->subject_masked);
	sc->subject_masked = xstrdup(sc->subject);
	for (size_t i = 0; i + 1 < sc->masks.n; i += 2) {
		size_t s = sc->masks.off[i], e = sc->masks.off[i + 1];
		size_t keep = e - s > 8 ? 4 : 0; /* the last four stay */

		for (size_t k = s; k < e && k < len; k++)
			if (k + keep < e && sc->subject_masked[k] != ' '
			    && sc->subject_masked[k] != '-')
				sc->subject_masked[k] = '*';
	}
}

/* detector_scan_unit - run the database over one piece of text */
void detector_scan_unit(struct det_scan *sc, unsigned where, const char *header,
			const char *data, size_t len)
{
	const struct det_policyset *ps = sc->ps;
	int subject = where == DET_W_SUBJECT && data == sc->subject;
	const char *orig = data;
	size_t orig_len = len, *map = NULL;
	struct buf folded;
	int fold = 0;

	if (sc->tap && len > 0)
		sc->tap(sc->tap_ctx, where, header, data, len);
	if (sc->sink) { /* text for an index, not a scan */
		if (len > 0)
			sc->sink(sc->sink_ctx, where, data, len);
		return;
	}
	if (len == 0 || sc->timed_out)
		goto out;
	if (!(ps->where_used & where) && !subject)
		return;
	if (len > UINT_MAX) {
		len = UINT_MAX;
		detector_unscannable(sc, "a text over %u bytes in %s", UINT_MAX,
				     sc->label ? sc->label : "the message");
	}
	/* what a reader sees: other scripts' digits, look-alike letters... */
	if ((fold = detector_fold(data, len, &folded, subject ? &map : NULL)) != 0) {
		data = folded.data;
		len = folded.len;
	}
	sc->where = where;
	sc->header_name = header;
	sc->unit = data;
	sc->unit_len = len;
	sc->unit_subject = subject;
	sc->unit_map = map;
	for (size_t i = 0; i < ps->nrules; i++)
		sc->prox[i].n = 0;
	sc->ncands = 0;
	memset(&sc->table, 0, sizeof(sc->table));
	memset(sc->anchor_done, 0, sizeof(sc->anchor_done));
	if (ps->db
	    && hs_scan(ps->db, data, (unsigned) len, 0, sc->scratch, on_match, sc) != HS_SUCCESS
	    && !sc->timed_out)
		detector_scan_limit(sc, "match error");
	if ((ps->id_where & where) || subject) {
		int want[IDENT_COUNT];

		for (int i = 0; i < IDENT_COUNT; i++)
			want[i] = ps->nid_rules[i] > 0
				&& detector_ident_from_digits((enum det_ident) i);
		detector_ident_scan(data, len, want,
				    where & (DET_W_SUBJECT | DET_W_HEADER | DET_W_ATTNAME)
					    ? DET_ID_HEADER
					    : 0,
				    on_ident, sc);
	}
	resolve_candidates(sc);
	if (sc->fp && (ps->fp_where & where))
		detector_fp_unit(sc, where, header, orig, orig_len);
	sc->unit = NULL;
	sc->unit_len = 0;
	sc->unit_subject = 0;
	sc->unit_map = NULL;
	if (fold)
		buf_free(&folded);
	free(map);
out:
	if (subject)
		build_masked_subject(sc);
}

/* detector_scan_init - a fresh scan of one message (timeout in ms); -1 if no scratch */
int detector_scan_init(struct det_scan *sc, const struct det_policyset *ps, size_t msg_size,
		       int timeout)
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
	if (ps->nfpi)
		detector_fp_scan_init(sc);
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
	detector_fp_scan_free(sc);
	memset(sc, 0, sizeof(*sc));
}

/* detector_readings_begin - several readings of the same bytes follow, of
 * which only the best counts: remember the counts before the first */
void detector_readings_begin(struct det_scan *sc, struct det_readings *r)
{
	size_t n = sc->ps->nrules;

	r->sc = sc;
	r->base = xcalloc(2 * (n + 1), sizeof(uint32_t));
	r->best = r->base + n + 1;
	for (size_t i = 0; i < n; i++)
		r->base[i] = sc->hits[i].count;
}

/* detector_readings_next - one reading done: keep its counts if best, start again */
void detector_readings_next(struct det_readings *r)
{
	for (size_t i = 0; i < r->sc->ps->nrules; i++) {
		uint32_t d = r->sc->hits[i].count - r->base[i];

		if (d > r->best[i])
			r->best[i] = d;
		r->sc->hits[i].count = r->base[i];
	}
}

/* detector_readings_end - the last reading done: the best reading's counts stay */
void detector_readings_end(struct det_readings *r)
{
	detector_readings_next(r);
	for (size_t i = 0; i < r->sc->ps->nrules; i++)
		r->sc->hits[i].count = r->base[i] + r->best[i];
	free(r->base);
}
