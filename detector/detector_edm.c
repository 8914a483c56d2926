/*
 * detector_edm - Exact Data Matching: cells of one row near each other
 *
 * Candidates come from the text as it is read, never from a loop over
 * rows: detector_edm_tokens() finds the numbers (runs of digit groups
 * with one or two separators between them, every run of groups up to the
 * longest number indexed), the dates (numeric and with month names) and
 * the e-mail addresses of a unit; the words and multi-word spans come from
 * detector_fpscan.c's pass over the words. Each token is hashed, sealed
 * and looked up once: a Bloom filter in the index says no to almost
 * everything; a slot whose tag matches is confirmed by the HMAC of the
 * token's normalised text (detector_edm_find).
 *
 * detector_edm_rules() then takes the hits in text order, and for each
 * edm rule feeds their rows into a small map of rows: a row keeps the
 * cells seen within the rule's distance of each other (in bytes of UTF-8
 * text), one piece of text counting for one column only. A row with
 * min_columns distinct columns of the rule is a match: a hit for the rule,
 * with the row number, the columns and the cells masked as the sample.
 * The rows visited per message are bounded (EDM_WORK_MAX); past that the
 * message counts as not completely scanned.
 */
#include <ctype.h>
#include <stdio.h>
#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "msg.h"
#include "detector.h"
#include "detector_fp.h"

#define EDM_GROUPS_MAX 48         /* digit groups in one run */
#define EDM_WORK_MAX   (4u << 20) /* rows visited per message */
#define EDM_TOKENS_MAX (1u << 20) /* tokens per unit */

/* Bytes that may stand between the digit groups of one number. */
static const unsigned char num_sep[256] = {
	[' '] = 1, ['-'] = 1, ['.'] = 1, ['/'] = 1, ['('] = 1, [')'] = 1,
};

#if defined(__x86_64__)
/* digit_mask_avx2 - a bit per ASCII digit of p[0, 64) */
__attribute__((target("avx2"), always_inline)) static inline uint64_t digit_mask_avx2(
	const unsigned char *p)
{
	const __m256i bias = _mm256_set1_epi8((char) (0x80 - '0'));
	const __m256i lim = _mm256_set1_epi8((char) (-128 + 10));
	__m256i a = _mm256_loadu_si256((const __m256i *) (const void *) p);
	__m256i b = _mm256_loadu_si256((const __m256i *) (const void *) (p + 32));

	/* bytes + 0x50: digits become -128..-119, as signed, and nothing else does */
	return (uint64_t) (unsigned) _mm256_movemask_epi8(
		       _mm256_cmpgt_epi8(lim, _mm256_add_epi8(a, bias)))
		| (uint64_t) (unsigned) _mm256_movemask_epi8(
			  _mm256_cmpgt_epi8(lim, _mm256_add_epi8(b, bias)))
		<< 32;
}
#endif

#if defined(__x86_64__)
/* sep_mask_avx512 - a bit per byte of p[0, 64) that may join digit groups */
__attribute__((target("avx512bw"), always_inline)) static inline uint64_t sep_mask_avx512(
	const unsigned char *p)
{
	__m512i v = _mm512_loadu_si512((const void *) p);

	return _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(' '))
		| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('-'))
		| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('.'))
		| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('/'))
		| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('('))
		| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(')'));
}

/* digit_mask_avx512 - a bit per ASCII digit of p[0, 64), in one compare */
__attribute__((target("avx512bw"), always_inline)) static inline uint64_t digit_mask_avx512(
	const unsigned char *p)
{
	__m512i v = _mm512_loadu_si512((const void *) p);

	return _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8('0')),
				      _mm512_set1_epi8(10));
}
#endif

#if defined(__x86_64__)
/* sep_mask_avx2 - a bit per byte of p[0, 64) that may join digit groups */
__attribute__((target("avx2"), always_inline)) static inline uint64_t sep_mask_avx2(
	const unsigned char *p)
{
	uint64_t m = 0;

	for (int k = 0; k < 2; k++) {
		__m256i v = _mm256_loadu_si256((const __m256i *) (const void *) (p + 32 * k));
		__m256i r = _mm256_or_si256(
			_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(' ')),
					_mm256_cmpeq_epi8(v, _mm256_set1_epi8('-'))),
			_mm256_or_si256(
				_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('.')),
						_mm256_cmpeq_epi8(v, _mm256_set1_epi8('/'))),
				_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('(')),
						_mm256_cmpeq_epi8(v, _mm256_set1_epi8(')')))));

		m |= (uint64_t) (unsigned) _mm256_movemask_epi8(r) << (32 * k);
	}
	return m;
}
#endif

/* sep_mask_sse2 - a bit per byte of p[0, 64) that may join digit groups */
static uint64_t sep_mask_sse2(const unsigned char *p)
{
	uint64_t m = 0;

	for (int k = 0; k < 64; k++)
		m |= (uint64_t) (num_sep[p[k]] != 0) << k;
	return m;
}

/* digit_mask_sse2 - a bit per ASCII digit of p[0, 64) */
static uint64_t digit_mask_sse2(const unsigned char *p)
{
	uint64_t m = 0;

#ifdef __SSE2__
	const __m128i bias = _mm_set1_epi8((char) (0x80 - '0'));
	const __m128i lim = _mm_set1_epi8((char) (-128 + 10));

	for (int k = 0; k < 4; k++)
		m |= (uint64_t) (unsigned) _mm_movemask_epi8(_mm_cmplt_epi8(
			     _mm_add_epi8(_mm_loadu_si128((
						  const __m128i *) (const void *) (p + 16 * k)),
					  bias),
			     lim))
			<< (16 * k);
#else
	for (int k = 0; k < 64; k++)
		m |= (uint64_t) (p[k] >= '0' && p[k] <= '9') << k;
#endif
	return m;
}

/* tok_add - one token of a unit */
static void tok_add(struct det_fpscan *fs, enum fp_type t, size_t s, size_t e, const char *norm,
		    size_t n, int dmy)
{
	if (fs->ntok >= EDM_TOKENS_MAX)
		return;
	if (fs->ntok == fs->captok) {
		fs->captok = fs->captok ? fs->captok * 2 : 256;
		fs->tok = xrealloc(fs->tok, fs->captok * sizeof(*fs->tok));
	}
	fs->tok[fs->ntok].s = s;
	fs->tok[fs->ntok].e = e;
	fs->tok[fs->ntok].t = t;
	fs->tok[fs->ntok].dmy = dmy;
	fs->tok[fs->ntok].h = detector_fp_value_hash(t, norm, n);
	fs->ntok++;
}

/* date_token - a date written from s to e, as either day order reads it */
static void date_token(struct det_fpscan *fs, const unsigned char *d, size_t s, size_t e)
{
	char a[9], b[9];
	int ma = detector_fp_date((const char *) d + s, e - s, 0, a);
	int mb = detector_fp_date((const char *) d + s, e - s, 1, b);

	if (ma)
		tok_add(fs, FP_DATE, s, e, a, 8, 0);
	if (mb && (!ma || strcmp(a, b) != 0))
		tok_add(fs, FP_DATE, s, e, b, 8, 1);
}

/* month_date - "March 14, 1985", "14 Mar 1985" ending with the year at [ys, ye) */
static void month_date(struct det_fpscan *fs, const unsigned char *d, size_t ys, size_t ye)
{
	size_t from = ys > 24 ? ys - 24 : 0;
	char out[9];

	for (size_t p = from; p < ys; p++) {
		if (!isalnum(d[p]) || (p > 0 && isalnum(d[p - 1])))
			continue;
		if (detector_fp_date((const char *) d + p, ye - p, 0, out)) {
			tok_add(fs, FP_DATE, p, ye, out, 8, 0);
			return;
		}
	}
}

/* number_run - the tokens of one run of digit groups */
static void number_run(struct det_fpscan *fs, const unsigned char *d, size_t (*g)[2],
		       const char *sep, size_t ng, unsigned types, unsigned mind, unsigned maxd)
{
	char digits[FP_DIGITS_MAX + 1];
	size_t total = 0;

	for (size_t a = 0; a < ng; a++)
		total += g[a][1] - g[a][0];
	if (types & 1u << FP_DIGITS && total >= mind)
		for (size_t a = 0; a < ng; a++) {
			size_t n = 0;

			for (size_t b = a; b < ng; b++) {
				size_t gl = g[b][1] - g[b][0];

				if (n + gl > maxd || n + gl > FP_DIGITS_MAX)
					break;
				memcpy(digits + n, d + g[b][0], gl);
				n += gl;
				if (n >= mind)
					tok_add(fs, FP_DIGITS, g[a][0], g[b][1], digits, n, 0);
			}
		}
	if (!(types & 1u << FP_DATE))
		return;
	for (size_t a = 0; a < ng; a++) {
		size_t gl = g[a][1] - g[a][0];

		if (a + 2 < ng && sep[a] && sep[a] == sep[a + 1] && strchr("-/.", sep[a]))
			date_token(fs, d, g[a][0], g[a + 2][1]);
		if (gl == 8)
			date_token(fs, d, g[a][0], g[a][1]);
		if (gl == 4 && (d[g[a][0]] == '1' || d[g[a][0]] == '2'))
			month_date(fs, d, g[a][0], g[a][1]);
	}
}

/* run_at - the number that starts at i: its groups and their tokens; its end */
static size_t run_at(struct det_fpscan *fs, const unsigned char *d, size_t i, size_t len,
		     unsigned types, unsigned mind, unsigned maxd)
{
	size_t g[EDM_GROUPS_MAX][2];
	char sep[EDM_GROUPS_MAX];
	size_t ng = 0;

	while (ng < EDM_GROUPS_MAX) {
		size_t j, k = 0;

		g[ng][0] = i;
		while (i < len && d[i] >= '0' && d[i] <= '9')
			i++;
		g[ng][1] = i;
		sep[ng++] = 0;
		for (j = i; j < len && k < 2 && num_sep[d[j]]; j++)
			k++;
		if (k == 0 || j >= len || d[j] < '0' || d[j] > '9')
			break;
		if (k == 1)
			sep[ng - 1] = (char) d[i];
		i = j;
	}
	number_run(fs, d, g, sep, ng, types, mind, maxd);
	return i;
}

/*
 * numbers_body - every run of digit groups of a unit that may be a value.
 * The text is looked at 64 bytes at a time: a number with at least `need`
 * digits that starts in a block has them all within 128 bytes of the
 * block's start (two separators at most between groups), so a block whose
 * 128 bytes hold fewer digits than that is passed over whole; in the
 * others, a stretch of digits and separators with fewer digits than that
 * is passed over too.
 */
static inline __attribute__((always_inline)) void numbers_body(
	struct det_fpscan *fs, const unsigned char *d, size_t len, unsigned types,
	unsigned mind, unsigned maxd, uint64_t (*mask)(const unsigned char *),
	uint64_t (*smask)(const unsigned char *))
{
	unsigned need = types & 1u << FP_DIGITS ? mind : 4;
	size_t i = 0, done = 0;
	uint64_t cur, nxt;

	if (types & 1u << FP_DATE && need > 4)
		need = 4; /* a year */
	if (need > 21)
		need = 21;
	if (len >= 128) {
		unsigned pc, pn;

		cur = mask(d);
		nxt = mask(d + 64);
		pc = (unsigned) __builtin_popcountll(cur);
		pn = (unsigned) __builtin_popcountll(nxt);
		for (;;) {
			if (__builtin_expect(pc + pn >= need, 0)) {
				uint64_t m = done <= i   ? cur
					: done - i >= 64 ? 0
							 : cur & ~0ULL << (done - i);
				uint64_t rc = cur | smask(d + i), rn = nxt | smask(d + i + 64);

				while (m) {
					unsigned o = (unsigned) __builtin_ctzll(m), seg;
					uint64_t w = o ? cur >> o | nxt << (64 - o) : cur;
					uint64_t r = o ? rc >> o | rn << (64 - o) : rc;

					/*
					 * A number lies within a stretch of digits and
					 * separators: one with fewer than need digits
					 * from here is passed over whole.
					 */
					seg = ~r ? (unsigned) __builtin_ctzll(~r) : 64;
					if (seg < 64
					    && (unsigned) __builtin_popcountll(
						       w & ((1ULL << seg) - 1))
						    < need) {
						m = o + seg >= 64 ? 0 : m & ~0ULL << (o + seg);
						continue;
					}
					done = run_at(fs, d, i + o, len, types, mind, maxd);
					m = done - i >= 64 ? 0 : m & ~0ULL << (done - i);
				}
			}
			if (i + 192 > len)
				break;
			i += 64;
			cur = nxt;
			pc = pn;
			nxt = mask(d + i + 64);
			pn = (unsigned) __builtin_popcountll(nxt);
		}
		i += 64;
	}
	/* the last bytes, one at a time */
	for (i = i > done ? i : done; i < len; i++)
		if (d[i] >= '0' && d[i] <= '9')
			i = run_at(fs, d, i, len, types, mind, maxd);
}

#if defined(__x86_64__)
/* numbers_avx2 - numbers_body with AVX2 masks and the POPCNT instruction */
__attribute__((target("avx2,popcnt,bmi"))) static void numbers_avx2(struct det_fpscan *fs,
								    const unsigned char *d,
								    size_t len, unsigned types,
								    unsigned mind,
								    unsigned maxd)
{
	numbers_body(fs, d, len, types, mind, maxd, digit_mask_avx2, sep_mask_avx2);
}

/* numbers_avx512 - numbers_body with AVX-512 masks */
__attribute__((target("avx512bw,avx2,popcnt,bmi"))) static void numbers_avx512(
	struct det_fpscan *fs, const unsigned char *d, size_t len, unsigned types,
	unsigned mind, unsigned maxd)
{
	numbers_body(fs, d, len, types, mind, maxd, digit_mask_avx512, sep_mask_avx512);
}
#endif

/* numbers - numbers_body as fast as the CPU does it */
static void numbers(struct det_fpscan *fs, const unsigned char *d, size_t len, unsigned types,
		    unsigned mind, unsigned maxd)
{
#if defined(__x86_64__)
	static int level = -1;

	if (level < 0)
		level = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("popcnt")
			? 2
			: __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")
			? 1
			: 0;
	if (level == 2) {
		numbers_avx512(fs, d, len, types, mind, maxd);
		return;
	}
	if (level == 1) {
		numbers_avx2(fs, d, len, types, mind, maxd);
		return;
	}
#endif
	numbers_body(fs, d, len, types, mind, maxd, digit_mask_sse2, sep_mask_sse2);
}

/* email_byte - may this byte be in an address's local part? */
static int email_byte(int c)
{
	return isalnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/* emails - every e-mail address of a unit */
static void emails(struct det_fpscan *fs, const unsigned char *d, size_t len)
{
	const unsigned char *at, *p = d, *end = d + len;
	char norm[FP_CELL_MAX];

	while (p < end && (at = memchr(p, '@', (size_t) (end - p))) != NULL) {
		const unsigned char *s = at, *e = at + 1;
		size_t n;

		while (s > d && at - s < 64 && email_byte(s[-1]))
			s--;
		while (s < at && *s == '.')
			s++;
		while (e < end && e - at < 253 && (isalnum(*e) || *e == '.' || *e == '-'))
			e++;
		while (e > at + 1 && (e[-1] == '.' || e[-1] == '-'))
			e--;
		if ((n = detector_fp_norm_email((const char *) s, (size_t) (e - s), norm,
						sizeof(norm)))
		    > 0)
			tok_add(fs, FP_EMAIL, (size_t) (s - d), (size_t) (e - d), norm, n, 0);
		p = at + 1;
	}
}

/* detector_edm_tokens - the numbers, dates and addresses of a unit */
void detector_edm_tokens(struct det_scan *sc, const char *data, size_t len, unsigned types,
			 unsigned mind, unsigned maxd)
{
	struct det_fpscan *fs = sc->fp;
	const unsigned char *d = (const unsigned char *) data;

	fs->ntok = 0;
	if (types & (1u << FP_DIGITS | 1u << FP_DATE))
		numbers(fs, d, len, types, mind ? mind : 1, maxd ? maxd : FP_DIGITS_MAX);
	if (types & 1u << FP_EMAIL)
		emails(fs, d, len);
	if (fs->ntok >= EDM_TOKENS_MAX)
		detector_scan_limit(sc, "edm tokens");
}

/* edm_norm - a token's normalised text, as its cell was; 0 if none */
static size_t edm_norm(enum fp_type t, const char *p, size_t n, int dmy, char *out,
		       size_t outlen)
{
	size_t words;

	switch (t) {
	case FP_TEXT:
		return detector_fp_norm_text(p, n, out, outlen, &words);
	case FP_DIGITS:
		return detector_fp_norm_digits(p, n, out, outlen);
	case FP_EMAIL:
		return detector_fp_norm_email(p, n, out, outlen);
	case FP_DATE:
		return detector_fp_date(p, n, dmy, out) ? 8 : 0;
	default:
		return 0;
	}
}

/* detector_edm_find - a value in an index, confirmed by its HMAC; 1 with its ref */
int detector_edm_find(const struct det_fpindex *x, uint64_t fp, enum fp_type t, const char *d,
		      size_t s, size_t e, int dmy, uint32_t *ref)
{
	const struct edm_head *h = x->edm;
	const struct fp_slot3 *slot = x->slots;
	uint32_t tag = detector_fp_tag(fp), b = detector_fp_bucket(fp, h->slots);
	char norm[FP_CELL_MAX];
	size_t nlen = SIZE_MAX;

	if (!detector_fp_bloom(x, fp))
		return 0;
	for (uint32_t i = 0; i <= h->max_probe; i++, b = b + 1 == h->slots ? 0 : b + 1) {
		if (slot[b].tag == 0)
			return 0;
		if (slot[b].tag != tag)
			continue;
		if (nlen == SIZE_MAX)
			nlen = edm_norm(t, d + s, e - s, dmy, norm, sizeof(norm));
		if (nlen > 0 && detector_fp_check(t, norm, nlen) == slot[b].check) {
			*ref = slot[b].ref;
			return 1;
		}
	}
	return 0;
}

/* detector_edm_hit - remember a value found in the unit */
void detector_edm_hit(struct det_fpscan *fs, uint32_t x, size_t s, size_t e, uint32_t ref)
{
	if (fs->nhits >= EDM_TOKENS_MAX)
		return;
	if (fs->nhits == fs->caphits) {
		fs->caphits = fs->caphits ? fs->caphits * 2 : 64;
		fs->hits = xrealloc(fs->hits, fs->caphits * sizeof(*fs->hits));
	}
	fs->hits[fs->nhits].s = s;
	fs->hits[fs->nhits].e = e;
	fs->hits[fs->nhits].x = x;
	fs->hits[fs->nhits].ref = ref;
	fs->nhits++;
}

/* detector_edm_lookup_tokens - seal the tokens and look them up */
void detector_edm_lookup_tokens(struct det_scan *sc, const char *d, const unsigned char *xon)
{
	struct det_fpscan *fs = sc->fp;
	const struct det_policyset *ps = sc->ps;
	uint64_t h[256], f[256];
	size_t at[256];

	for (int t = FP_DIGITS; t < FP_NTYPES; t++) {
		size_t i = 0;

		while (i < fs->ntok) {
			size_t n = 0;

			for (; i < fs->ntok && n < 256; i++)
				if (fs->tok[i].t == (enum fp_type) t) {
					h[n] = fs->tok[i].h;
					at[n++] = i;
				}
			if (n == 0)
				break;
			detector_fp_seal(h, f, n, (enum fp_type) t);
			for (size_t k = 0; k < n; k++)
				fs->tok[at[k]].h = f[k];
		}
	}
	/* the filters' words are far apart: ask for all of them at once */
	for (size_t i = 0; i < fs->ntok; i++)
		for (uint32_t x = 0; x < ps->nfpi; x++)
			if (xon[x] && ps->fpi[x]->kind == FP_EDM)
				detector_fp_bloom_prefetch(ps->fpi[x], fs->tok[i].h);
	for (size_t i = 0; i < fs->ntok; i++) {
		const struct edm_token *tk = &fs->tok[i];

		for (uint32_t x = 0; x < ps->nfpi; x++) {
			uint32_t ref;

			if (!xon[x] || ps->fpi[x]->kind != FP_EDM
			    || !(ps->fpi[x]->edm->types & 1u << tk->t))
				continue;
			if (detector_edm_find(ps->fpi[x], tk->h, tk->t, d, tk->s, tk->e,
					      tk->dmy, &ref))
				detector_edm_hit(fs, x, tk->s, tk->e, ref);
		}
	}
}

/* detector_edm_gated - does every match of this rule hold a number, date or address? */
int detector_edm_gated(const struct det_rule *r)
{
	unsigned text = 0;

	for (uint32_t c = 0; c < r->fpi->edm->cols; c++)
		if ((r->columns & 1u << c) && r->fpi->cols[c].type == FP_TEXT)
			text++;
	return text < r->min_columns;
}

/* hit_order - hits by place in the text */
static int hit_order(const void *a, const void *b)
{
	const struct edm_hit *x = a, *y = b;

	return x->s < y->s ? -1 : x->s > y->s ? 1 : x->e < y->e ? -1 : x->e > y->e;
}

/* row_get - a row's entry in the map of this rule and unit */
static struct edm_row *row_get(struct det_fpscan *fs, uint32_t row)
{
	size_t mask, i;

	if (fs->caprows == 0 || fs->nrowsused * 2 >= fs->caprows) {
		size_t cap = fs->caprows ? fs->caprows * 2 : 1024;
		struct edm_row *old = fs->rows, *nr = xcalloc(cap, sizeof(*nr));

		for (size_t k = 0; k < fs->caprows; k++) {
			if (old[k].gen != fs->rowgen)
				continue;
			for (i = (old[k].row * 0x9e3779b1u) & (cap - 1);
			     nr[i].gen == fs->rowgen; i = (i + 1) & (cap - 1))
				/* void */;
			nr[i] = old[k];
		}
		free(old);
		fs->rows = nr;
		fs->caprows = cap;
	}
	mask = fs->caprows - 1;
	for (i = (row * 0x9e3779b1u) & mask;; i = (i + 1) & mask) {
		struct edm_row *e = &fs->rows[i];

		if (e->gen != fs->rowgen) {
			memset(e, 0, sizeof(*e));
			e->gen = fs->rowgen;
			e->row = row;
			fs->nrowsused++;
			return e;
		}
		if (e->row == row)
			return e;
	}
}

/* edm_mask - a cell as the incident shows it */
static void edm_mask(const char *p, size_t n, char *out, size_t outlen)
{
	size_t digits = 0, j = 0, seen = 0;

	for (size_t i = 0; i < n; i++)
		digits += p[i] >= '0' && p[i] <= '9';
	if (digits * 2 < n || digits < 6) {
		detector_mask(p, n < 64 ? n : 64, out, outlen);
		return;
	}
	/* a number: stars, and its last four digits */
	for (size_t i = 0; i < n && j + 1 < outlen; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			out[j++] = ++seen + 4 > digits ? p[i] : '*';
		else if (p[i] == ' ' || p[i] == '-' || p[i] == '.' || p[i] == '/')
			out[j++] = p[i];
	}
	out[j] = 0;
}

/* report - a row with enough columns: the rule's hit, the incident's words */
static void report(struct det_scan *sc, uint32_t ri, const struct edm_row *e, const char *d)
{
	const struct det_rule *r = &sc->ps->rules[ri];
	struct fp_rule_res *res = &sc->fp->res[ri];
	char sample[DET_SAMPLE_MAX + 8];
	size_t n;
	uint32_t cols = 0;

	n = (size_t) snprintf(sample, sizeof(sample), "row %u:", e->row + 1);
	for (unsigned k = 0; k < e->n; k++) {
		if (cols & 1u << e->c[k].col)
			continue;
		cols |= 1u << e->c[k].col;
		if (n < sizeof(sample))
			n += (size_t) snprintf(sample + n, sizeof(sample) - n, "%s%s",
					       cols == 1u << e->c[k].col ? " " : ", ",
					       r->fpi->cols[e->c[k].col].name);
	}
	detector_hit(sc, ri, sample);
	if (res->n < FP_FOUND_MAX) {
		struct fp_found *f = &res->f[res->n++];
		size_t vl = 0;

		memset(f, 0, sizeof(*f));
		f->row = e->row + 1;
		f->cols = cols;
		cols = 0;
		for (unsigned k = 0; k < e->n && vl + 8 < sizeof(f->values); k++) {
			char m[DET_SAMPLE_MAX + 8];

			if (cols & 1u << e->c[k].col)
				continue;
			cols |= 1u << e->c[k].col;
			edm_mask(d + e->c[k].s, e->c[k].e - e->c[k].s, m, sizeof(m));
			vl += (size_t) snprintf(f->values + vl, sizeof(f->values) - vl,
						"%s%s=%s", vl ? ", " : "",
						r->fpi->cols[e->c[k].col].name, m);
		}
	}
}

/* add_cell - a cell of a row seen at [s, e); 1 when the row now matches */
static int add_cell(struct edm_row *e, const struct det_rule *r, uint32_t col, size_t s,
		    size_t end)
{
	unsigned k, j, ncols = 0;
	uint32_t seen = 0;

	/* cells too far before this one are forgotten */
	for (k = j = 0; k < e->n; k++)
		if (e->c[k].e + r->distance >= s)
			e->c[j++] = e->c[k];
	e->n = j;
	for (k = 0; k < e->n; k++) {
		if (e->c[k].s < end && s < e->c[k].e && e->c[k].col != col)
			return 0; /* this text counts for one column */
		if (e->c[k].col == col)
			break;
	}
	if (k < e->n) {
		e->c[k].s = s;
		e->c[k].e = end;
	} else {
		if (e->n == EDM_ROW_CELLS) {
			memmove(e->c, e->c + 1, (EDM_ROW_CELLS - 1) * sizeof(e->c[0]));
			e->n--;
		}
		e->c[e->n].col = col;
		e->c[e->n].s = s;
		e->c[e->n].e = end;
		e->n++;
	}
	for (k = 0; k < e->n; k++)
		if (!(seen & 1u << e->c[k].col)) {
			seen |= 1u << e->c[k].col;
			ncols++;
		}
	return ncols >= r->min_columns;
}

/* edm_rule - the rows of one rule in the unit's hits */
static void edm_rule(struct det_scan *sc, uint32_t ri, const char *d)
{
	struct det_fpscan *fs = sc->fp;
	const struct det_rule *r = &sc->ps->rules[ri];
	const struct det_fpindex *x = r->fpi;
	uint32_t xi;

	for (xi = 0; xi < sc->ps->nfpi && sc->ps->fpi[xi] != x; xi++)
		/* void */;
	fs->rowgen++;
	fs->nrowsused = 0;
	for (size_t i = 0; i < fs->nhits; i++) {
		const struct edm_hit *h = &fs->hits[i];
		uint32_t one, n, lastrow = UINT32_MAX;
		const uint32_t *post;

		if (h->x != xi || (post = detector_fp_postings(x, h->ref, &one, &n)) == NULL)
			continue;
		if (fs->work + n > EDM_WORK_MAX) {
			detector_scan_limit(sc, "edm rows");
			return;
		}
		fs->work += n;
		for (uint32_t k = 0; k < n; k++) {
			uint32_t row = post[k] >> 5, col = post[k] & 31;
			struct edm_row *e;

			if (row >= x->edm->rows || col >= x->edm->cols
			    || !(r->columns & 1u << col) || row == lastrow)
				continue;
			lastrow = row;
			e = row_get(fs, row);
			if (add_cell(e, r, col, h->s, h->e) && e->reported != fs->rowgen) {
				e->reported = fs->rowgen;
				report(sc, ri, e, d);
			}
		}
	}
}

/* detector_edm_rules - every active edm rule over the unit's hits */
void detector_edm_rules(struct det_scan *sc, const char *d, const uint32_t *rules,
			size_t nrules)
{
	struct det_fpscan *fs = sc->fp;

	if (fs->nhits == 0)
		return;
	qsort(fs->hits, fs->nhits, sizeof(*fs->hits), hit_order);
	for (size_t i = 0; i < nrules; i++)
		edm_rule(sc, rules[i], d);
}

/* detector_edm_incident - what an edm rule found, as JSON fields */
void detector_edm_incident(struct buf *b, const struct det_scan *sc, uint32_t ri)
{
	const struct det_rule *r = &sc->ps->rules[ri];
	const struct fp_rule_res *res = &sc->fp->res[ri];

	buf_puts(b, ",\"index\":");
	detector_json_str(b, r->fpi->name);
	buf_puts(b, ",\"matches\":[");
	for (unsigned i = 0; i < res->n; i++) {
		const struct fp_found *f = &res->f[i];
		int first = 1;

		buf_printf(b, "%s{\"row\":%u,\"columns\":[", i ? "," : "", f->row);
		for (uint32_t c = 0; c < r->fpi->edm->cols; c++)
			if (f->cols & 1u << c) {
				buf_puts(b, first ? "" : ",");
				detector_json_str(b, r->fpi->cols[c].name);
				first = 0;
			}
		buf_puts(b, "],\"values\":");
		detector_json_str(b, f->values);
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
}

/* detector_edm_text - what an edm rule found, for dlpscan and notifications */
void detector_edm_text(struct buf *out, const struct det_scan *sc, uint32_t ri)
{
	const struct det_rule *r = &sc->ps->rules[ri];
	const struct fp_rule_res *res = &sc->fp->res[ri];

	for (unsigned i = 0; i < res->n; i++)
		buf_printf(out, "    index %s row %u: %s\n", r->fpi->name, res->f[i].row,
			   res->f[i].values);
}
