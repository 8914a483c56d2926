/*
 * detector_idm - Indexed Document Matching: winnowed k-grams, whole files
 *
 * A text's fingerprints are chosen by winnowing (Schleimer, Wilkerson and
 * Aiken, "Winnowing: local algorithms for document fingerprinting",
 * SIGMOD 2003): every k consecutive words (their sealed values, rolled
 * into one k-gram value) give a hash; of every window of w consecutive
 * hashes the smallest (the rightmost of equals) is a fingerprint, kept
 * once however many windows choose it. Any run of at least w + k - 1
 * words two texts share gives both at least one common fingerprint, and
 * the share of a document's fingerprints a message holds estimates the
 * share of its text quoted. dlpindex and the detector run the same
 * detector_idm_winnow(), with the k and w the index records.
 *
 * detector_idm_match() looks a message's fingerprint up (Bloom filter,
 * then slot tags) and counts, per document rule and document, the
 * distinct fingerprints and the words they cover (matched k-grams no
 * more than w words apart are taken as one run), for the message part
 * being read (a MIME leaf, with the archives and documents in it) and for
 * the message as a whole. A part is judged when it ends, the message
 * before the verdict (detector_idm_finish): a document rule matches when
 * min_overlap percent of a document's fingerprints, or min_shared_words
 * of its words, are there.
 *
 * detector_idm_file() finds files sent byte for byte: only content with
 * the size of an indexed file is hashed (SHA-256, then keyed), so other
 * attachments cost nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mem.h"
#include "msg.h"
#include "detector.h"
#include "detector_fp.h"

#define IDM_B 0x100000001b3ULL /* k-gram base (odd) */

/* idm_mix - spread a k-gram value over 64 bits */
static inline uint64_t idm_mix(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	v *= 0xc4ceb9fe1a85ec53ULL;
	return v ^ (v >> 33);
}

/* detector_idm_winnow_init - a fresh text */
void detector_idm_winnow_init(struct fp_winnow *wn, unsigned k, unsigned w)
{
	memset(wn, 0, sizeof(*wn));
	wn->k = k < 1 ? 1 : k > FP_IDM_K_MAX ? FP_IDM_K_MAX : k;
	wn->w = w < 1 ? 1 : w > FP_IDM_W_MAX ? FP_IDM_W_MAX : w;
	wn->bk = 1;
	for (unsigned i = 0; i < wn->k; i++)
		wn->bk *= IDM_B;
	wn->min = -1;
}

/* take - give the window's choice unless it was given already */
static int take(struct fp_winnow *wn, uint64_t *fp, uint64_t *at)
{
	if (wn->min < 0 || wn->at[wn->min] + 1 == wn->last)
		return 0;
	wn->last = wn->at[wn->min] + 1;
	*fp = wn->h[wn->min];
	*at = wn->at[wn->min];
	return 1;
}

/*
 * detector_idm_winnow_batch - n more words; the fingerprints they give,
 * with their first words. The state lives in locals for the batch.
 */
size_t detector_idm_winnow_batch(struct fp_winnow *wn, const uint64_t *sealed, size_t n,
				 uint64_t *fp, uint64_t *at)
{
	unsigned k = wn->k, w = wn->w, ri = wn->ri, head = wn->head, nh = wn->nh;
	int min = wn->min;
	uint64_t kg = wn->kg, bk = wn->bk, nwords = wn->nwords, last = wn->last;
	uint64_t *ring = wn->ring, *h = wn->h, *pa = wn->at;
	uint64_t hmin = min >= 0 ? h[min] : UINT64_MAX, kv[256];
	size_t out = 0;

	for (size_t b = 0; b < n; b += 256) {
		size_t m = n - b < 256 ? n - b : 256;

		/* the k-gram values: one short chain, the mixing in parallel */
		for (size_t i = 0; i < m; i++) {
			uint64_t old = ring[ri];

			ring[ri] = sealed[b + i];
			ri = ri + 1 == k ? 0 : ri + 1;
			kg = kg * IDM_B + sealed[b + i];
			kg -= nwords + i + 1 > k ? old * bk : 0;
			kv[i] = kg;
		}
		for (size_t i = 0; i < m; i++)
			kv[i] = idm_mix(kv[i]);
		/* the windows */
		for (size_t i = 0; i < m; i++) {
			uint64_t hv = kv[i];
			unsigned slot;

			if (++nwords < k)
				continue;
			slot = head;
			h[slot] = hv;
			pa[slot] = nwords - k;
			head = head + 1 == w ? 0 : head + 1;
			if (nh < w) {
				nh++;
				if (min < 0 || hv <= hmin) {
					min = (int) slot;
					hmin = hv;
				}
				if (nh < w)
					continue;
			} else if (min == (int) slot) {
				/* the chosen one left the window: the rightmost smallest
				 * now (without branches: which one wins is random) */
				uint64_t pmin = pa[0];

				min = 0;
				hmin = h[0];
				for (unsigned j = 1; j < w; j++) {
					int better = (h[j] < hmin)
						| ((h[j] == hmin) & (pa[j] > pmin));

					min = better ? (int) j : min;
					hmin = better ? h[j] : hmin;
					pmin = better ? pa[j] : pmin;
				}
			} else {
				int better = hv <= hmin;

				min = better ? (int) slot : min;
				hmin = better ? hv : hmin;
			}
			/* a fingerprint each time the window's choice changes */
			fp[out] = hmin;
			at[out] = pa[min];
			out += pa[min] + 1 != last;
			last = pa[min] + 1;
		}
	}
	wn->ri = ri;
	wn->head = head;
	wn->nh = nh;
	wn->min = min;
	wn->kg = kg;
	wn->nwords = nwords;
	wn->last = last;
	return out;
}

/* detector_idm_winnow - one more word; 1 with a fingerprint and its first word */
int detector_idm_winnow(struct fp_winnow *wn, uint64_t sealed, uint64_t *fp, uint64_t *at)
{
	return (int) detector_idm_winnow_batch(wn, &sealed, 1, fp, at);
}

/* detector_idm_winnow_end - a text shorter than a window still gives one */
int detector_idm_winnow_end(struct fp_winnow *wn, uint64_t *fp, uint64_t *at)
{
	return wn->nh > 0 && wn->nh < wn->w ? take(wn, fp, at) : 0;
}

/* detector_idm_find - a fingerprint's slot; 1 if the index has it */
int detector_idm_find(const struct det_fpindex *x, uint64_t fp, uint32_t *slot)
{
	const struct idm_head *h = x->idm;
	const struct fp_slot2 *s = x->slots;
	uint32_t tag = detector_fp_tag(fp), b = detector_fp_bucket(fp, h->slots);

	if (!detector_fp_bloom(x, fp))
		return 0;
	for (uint32_t i = 0; i <= h->max_probe; i++, b = b + 1 == h->slots ? 0 : b + 1) {
		if (s[b].tag == 0)
			return 0;
		if (s[b].tag == tag) {
			*slot = b;
			return 1;
		}
	}
	return 0;
}

/* acc_ready - a document rule's counters, made at its first match */
static struct idm_acc *acc_ready(struct det_fpscan *fs, uint32_t ri, uint32_t ndocs)
{
	struct idm_acc *a = &fs->acc[ri];

	if (a->part_n == NULL) {
		a->part_n = xcalloc(ndocs, sizeof(uint32_t));
		a->msg_n = xcalloc(ndocs, sizeof(uint32_t));
		a->part_w = xcalloc(ndocs, sizeof(uint32_t));
		a->msg_w = xcalloc(ndocs, sizeof(uint32_t));
		a->part_end = xcalloc(ndocs, sizeof(uint64_t));
		a->msg_end = xcalloc(ndocs, sizeof(uint64_t));
	}
	return a;
}

/* add_words - words a matched k-gram at pos adds to a run */
static void add_words(uint32_t *words, uint64_t *end, uint64_t pos, unsigned k, unsigned w)
{
	uint64_t gap;

	if (*end == 0) {
		*words += k;
	} else if (pos + 1 > *end) {
		gap = pos - (*end - 1);
		*words += (uint32_t) (gap <= (k > w ? k : w) ? gap : k);
	} else
		return;
	*end = pos + 1;
}

/* detector_idm_match - a fingerprint of the message, for the document rules on index x */
void detector_idm_match(struct det_scan *sc, uint32_t xi, uint64_t fp, uint64_t pos,
			const uint32_t *rules, size_t nrules)
{
	struct det_fpscan *fs = sc->fp;
	const struct det_fpindex *x = sc->ps->fpi[xi];
	const uint32_t *docs;
	uint32_t slot, one, n;

	if (!detector_idm_find(x, fp, &slot)
	    || (docs = detector_fp_postings(x, ((const struct fp_slot2 *) x->slots)[slot].ref,
					    &one, &n))
		    == NULL)
		return;
	detector_fp_record(sc, xi, fp, pos); /* for the parent of a confined reader */
	for (size_t i = 0; i < nrules; i++) {
		uint32_t ri = rules[i];
		struct idm_acc *a;
		uint64_t key = (uint64_t) (ri + 1) << 32 | slot;
		int newmsg, newpart;

		if (sc->ps->rules[ri].fpi != x)
			continue;
		a = acc_ready(fs, ri, x->idm->docs);
		newmsg = detector_fp_set_add(&fs->msg_seen, key);
		newpart = fs->part_depth > 0 && detector_fp_set_add(&fs->part_seen, key);
		for (uint32_t k = 0; k < n; k++) {
			uint32_t d = docs[k];

			if (d >= x->idm->docs)
				continue;
			if (newmsg) {
				a->msg_n[d]++;
				add_words(&a->msg_w[d], &a->msg_end[d], pos, x->idm->k,
					  x->idm->w);
			}
			if (newpart) {
				if (a->part_n[d]++ == 0) {
					if (a->ntouched == a->captouched) {
						a->captouched =
							a->captouched ? a->captouched * 2 : 16;
						a->touched = xrealloc(
							a->touched,
							a->captouched * sizeof(uint32_t));
					}
					a->touched[a->ntouched++] = d;
				}
				add_words(&a->part_w[d], &a->part_end[d], pos, x->idm->k,
					  x->idm->w);
			}
		}
	}
}

/* report - a document found: the rule's hit (once per document) and its details */
static void report(struct det_scan *sc, uint32_t ri, uint32_t d, unsigned overlap,
		   unsigned words, int identical, int whole)
{
	struct det_fpscan *fs = sc->fp;
	const struct det_rule *r = &sc->ps->rules[ri];
	const struct idm_doc *doc = &r->fpi->docs[d];
	struct fp_rule_res *res = &fs->res[ri];
	char sample[DET_SAMPLE_MAX + 8];
	uint64_t key = 1ULL << 63 | (uint64_t) ri << 32 | d;

	if (words > doc->words && doc->words)
		words = doc->words;
	for (unsigned i = 0; i < res->n; i++)
		if (res->f[i].doc == d) {
			if (overlap > res->f[i].overlap || identical) {
				res->f[i].overlap = overlap;
				res->f[i].identical |= identical;
			}
			if (words > res->f[i].words)
				res->f[i].words = words;
			break;
		}
	if (!detector_fp_set_add(&fs->msg_seen, key))
		return; /* counted already */
	snprintf(sample, sizeof(sample), "%.*s %u%%",
		 (int) (doc->name_len < 50 ? doc->name_len : 50), r->fpi->names + doc->name_off,
		 overlap);
	detector_hit(sc, ri, sample);
	if (res->n < FP_FOUND_MAX) {
		struct fp_found *f = &res->f[res->n++];

		memset(f, 0, sizeof(*f));
		f->doc = d;
		f->overlap = overlap;
		f->words = words;
		f->identical = identical;
		f->whole = whole;
	}
}

/* judge - does a document's count make a rule match? */
static void judge(struct det_scan *sc, uint32_t ri, uint32_t d, uint32_t n, uint32_t words,
		  int whole)
{
	const struct det_rule *r = &sc->ps->rules[ri];
	const struct idm_doc *doc = &r->fpi->docs[d];
	unsigned pct = doc->fps ? (unsigned) ((uint64_t) n * 100 / doc->fps) : 0;

	if (pct > 100)
		pct = 100;
	if ((r->min_overlap && doc->fps && pct >= r->min_overlap)
	    || (r->min_shared_words && words >= r->min_shared_words))
		report(sc, ri, d, pct, words, 0, whole);
}

/* detector_idm_part_end - judge the part that ends, forget its counts */
void detector_idm_part_end(struct det_scan *sc)
{
	struct det_fpscan *fs = sc->fp;

	for (size_t i = 0; i < fs->ndoc; i++) {
		uint32_t ri = fs->doc_rules[i];
		struct idm_acc *a = &fs->acc[ri];

		for (size_t k = 0; k < a->ntouched; k++) {
			uint32_t d = a->touched[k];

			judge(sc, ri, d, a->part_n[d], a->part_w[d], 0);
			a->part_n[d] = a->part_w[d] = 0;
			a->part_end[d] = 0;
		}
		a->ntouched = 0;
	}
	detector_fp_set_clear(&fs->part_seen);
}

/* detector_idm_finish - judge the message as a whole */
void detector_idm_finish(struct det_scan *sc)
{
	struct det_fpscan *fs = sc->fp;

	for (size_t i = 0; i < fs->ndoc; i++) {
		uint32_t ri = fs->doc_rules[i];
		const struct det_fpindex *x = sc->ps->rules[ri].fpi;
		struct idm_acc *a = &fs->acc[ri];

		if (a->msg_n == NULL)
			continue;
		for (uint32_t d = 0; d < x->idm->docs; d++)
			if (a->msg_n[d])
				judge(sc, ri, d, a->msg_n[d], a->msg_w[d], 1);
	}
}

/* file_order - files by size, then keyed hash */
static int file_cmp(const struct idm_file *f, uint64_t size, const unsigned char *mac)
{
	if (f->size != size)
		return f->size < size ? -1 : 1;
	return mac ? memcmp(f->mac, mac, sizeof(f->mac)) : 0;
}

/* detector_idm_file - content that is an indexed file byte for byte */
void detector_idm_file(struct det_scan *sc, unsigned where, const char *data, size_t len)
{
	struct det_fpscan *fs = sc->fp;
	unsigned char sha[32], mac[32];
	int have = 0;

	for (size_t i = 0; i < fs->ndoc; i++) {
		uint32_t ri = fs->doc_rules[i];
		const struct det_fpindex *x = sc->ps->rules[ri].fpi;
		size_t lo = 0, hi = x->idm->files;

		if (!(sc->ps->rules[ri].where & where))
			continue;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (file_cmp(&x->files[mid], len, NULL) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == x->idm->files || x->files[lo].size != len)
			continue;
		if (!have) {
			unsigned int n = 0;

			if (EVP_Digest(data, len, sha, &n, EVP_sha256(), NULL) != 1)
				return;
			detector_fp_mac(sha, sizeof(sha), mac);
			have = 1;
		}
		for (; lo < x->idm->files && x->files[lo].size == len; lo++)
			if (memcmp(x->files[lo].mac, mac, sizeof(x->files[lo].mac)) == 0)
				report(sc, ri, x->files[lo].doc, 100,
				       x->docs[x->files[lo].doc].words, 1, fs->part_depth == 0);
	}
}

/* detector_idm_incident - what a document rule found, as JSON fields */
void detector_idm_incident(struct buf *b, const struct det_scan *sc, uint32_t ri)
{
	const struct det_rule *r = &sc->ps->rules[ri];
	const struct fp_rule_res *res = &sc->fp->res[ri];

	buf_puts(b, ",\"index\":");
	detector_json_str(b, r->fpi->name);
	buf_puts(b, ",\"documents\":[");
	for (unsigned i = 0; i < res->n; i++) {
		const struct fp_found *f = &res->f[i];
		const struct idm_doc *doc = &r->fpi->docs[f->doc];
		char *name = xstrndup(r->fpi->names + doc->name_off, doc->name_len);

		buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
		detector_json_str(b, name);
		buf_printf(
			b,
			",\"overlap\":%u,\"shared_words\":%u,\"identical\":%s,\"in\":\"%s\"}",
			f->overlap, f->words, f->identical ? "true" : "false",
			f->whole ? "message" : "part");
		free(name);
	}
	buf_putc(b, ']');
}

/* detector_idm_text - what a document rule found, for dlpscan and notifications */
void detector_idm_text(struct buf *out, const struct det_scan *sc, uint32_t ri)
{
	const struct det_rule *r = &sc->ps->rules[ri];
	const struct fp_rule_res *res = &sc->fp->res[ri];

	for (unsigned i = 0; i < res->n; i++) {
		const struct fp_found *f = &res->f[i];
		const struct idm_doc *doc = &r->fpi->docs[f->doc];

		if (f->identical)
			buf_printf(out, "    index %s: %.*s, the same file\n", r->fpi->name,
				   (int) doc->name_len, r->fpi->names + doc->name_off);
		else
			buf_printf(out,
				   "    index %s: %.*s, %u%% of its fingerprints, %u words "
				   "(in the %s)\n",
				   r->fpi->name, (int) doc->name_len,
				   r->fpi->names + doc->name_off, f->overlap, f->words,
				   f->whole ? "message" : "same part");
	}
}
