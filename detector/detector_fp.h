/*
 * detector_fp - fingerprints of the customer's own data: EDM and IDM
 *
 * detector_fp.c	the secret, the keyed hashes, words, digits, e-mail
 *			addresses and dates as they are normalised
 * detector_fpfile.c	index files: open (mmap), check, last good copies
 * detector_edm.c	Exact Data Matching: cells of one row near each other
 * detector_idm.c	Indexed Document Matching: winnowed k-grams, files
 * dlpindex.c		the command that builds the indexes
 *
 * Everything an index holds is derived from keyed values: a word's 64-bit
 * hash is sealed with AES-128 under a key derived from the secret (kept
 * in the keystore directory, readable by the detector user only), and a
 * cell or a k-gram is a public combination of sealed words. Without the
 * secret nobody can tell whether a guessed name, number or sentence is in
 * an index, not even by trying every SSN. Each EDM value also carries 32
 * bits of its HMAC-SHA256 under the secret, checked for every candidate.
 *
 * The same functions normalise text when dlpindex builds an index and
 * when a detector scans a message: that is what makes them agree.
 */
#ifndef DLP_DETECTOR_FP_H
#define DLP_DETECTOR_FP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct buf;
struct fp_cand;
struct det_rule;
struct det_scan;

#define FP_KEY_FILE    "fingerprint.key"
#define FP_WORD_MAX    64  /* bytes of a word that count */
#define FP_SPAN_MAX    8   /* words in a text cell */
#define FP_DIGITS_MAX  24  /* digits in a number cell */
#define FP_CELL_MAX    256 /* bytes of a normalised cell */
#define FP_MAX_COLUMNS 32
#define FP_MAX_ROWS    ((1u << 26) - 1)
#define FP_NAME_MAX    48 /* index names: [A-Za-z0-9_.-] */

/* Kinds of values: a cell's column type, a token of a message. */
enum fp_type {
	FP_TEXT = 0,   /* words: case and separators folded */
	FP_DIGITS = 1, /* digits only */
	FP_EMAIL = 2,  /* an address, lower case */
	FP_DATE = 3,   /* YYYYMMDD */
	FP_NTYPES
};

/* One word of a text: where it is, its unkeyed hash. */
struct fp_word {
	size_t s, e;
	uint64_t h;
};

/*
 * Index files: a header, then 8-aligned sections, mapped read-only by
 * every detector. Native byte order (the version field tells a foreign
 * one); every offset, length and reference is checked before use.
 */
#define FP_EDM_MAGIC  "DLPGEDM1"
#define FP_IDM_MAGIC  "DLPGIDM1"
#define FP_VERSION    1u
#define FP_REF_INLINE 0x80000000u /* slot ref: one posting, in place */
#define FP_IDM_K_MAX  16
#define FP_IDM_W_MAX  64

enum fp_kind {
	FP_EDM,
	FP_IDM,
};

struct fp_head {
	char magic[8];
	uint32_t version;
	uint32_t head_size;
	uint64_t file_size;
	unsigned char key_id[8];
	unsigned char sum[32]; /* SHA-256 of the file, with this zeroed */
	int64_t created;
	char name[64];
};

struct edm_head {
	struct fp_head h;
	uint32_t rows, cols, values, slots;
	uint32_t bloom_log2, span_mask, min_digits, max_digits;
	uint32_t types, max_probe, common_rows, reserved;
	uint64_t postings;
	uint64_t cells, left_empty, left_short, left_common, left_stop, left_bad;
	uint64_t cols_off, slots_off, post_off, bloom_off;
};

struct edm_col {
	char name[48];
	uint32_t type;  /* enum fp_type */
	uint32_t dmy;   /* dates: day before month */
	uint64_t cells; /* indexed */
};

/* A value: its tag, 32 bits of its HMAC, and where its rows are. */
struct fp_slot3 {
	uint32_t tag, check, ref;
};

struct idm_head {
	struct fp_head h;
	uint32_t k, w, docs, slots;
	uint32_t bloom_log2, max_probe, files, reserved;
	uint64_t fps, postings, names_len, excluded;
	uint64_t docs_off, names_off, slots_off, post_off, files_off, bloom_off;
};

struct idm_doc {
	uint64_t name_off;
	uint32_t name_len, fps; /* fingerprints of its text */
	uint64_t size;          /* of the file */
	uint32_t words, flags;  /* IDM_DOC_* */
};

#define IDM_DOC_TEXT 1 /* its text could be read */

struct fp_slot2 {
	uint32_t tag, ref;
};

struct idm_file {
	uint64_t size;
	unsigned char mac[16]; /* keyed hash of its SHA-256 */
	uint32_t doc, reserved;
};

/* An open index (detector_fpfile.c). */
struct det_fpindex {
	char name[FP_NAME_MAX + 1];
	enum fp_kind kind;
	char path[4096];
	const unsigned char *map;
	size_t size;
	int fallback; /* the last good copy runs */
	const struct edm_head *edm;
	const struct edm_col *cols;
	const struct idm_head *idm;
	const struct idm_doc *docs;
	const char *names;
	const struct idm_file *files;
	const void *slots;
	const uint32_t *post;
	const uint64_t *bloom;
};

/* How detector_fpindex_open() finds an index. */
enum fp_open_mode {
	FP_OPEN_SOURCE, /* fingerprint_directory, checked whole */
	FP_OPEN_SAVE,   /* the same, then a last good copy */
	FP_OPEN_GOOD,   /* the last good copy */
};

/* detector_fpfile.c */
void detector_fp_dir(const char *confdir, char *buf, size_t len);
void detector_fp_good_dir(char *buf, size_t len);
const char *detector_fp_ext(enum fp_kind kind);
struct det_fpindex *detector_fpindex_open(const char *confdir, const char *name,
					  enum fp_kind kind, enum fp_open_mode mode, char *err,
					  size_t errlen);
void detector_fpindex_close(struct det_fpindex *x);
int detector_fpindex_check_file(const char *path, enum fp_kind kind, int whole,
				struct det_fpindex *x, char *err, size_t errlen);
void detector_fp_good_prune(const char *const *keep, size_t nkeep);
int detector_fp_bloom(const struct det_fpindex *x, uint64_t fp);
void detector_fp_bloom_prefetch(const struct det_fpindex *x, uint64_t fp);
uint32_t detector_fp_bucket(uint64_t fp, uint32_t slots);
uint32_t detector_fp_tag(uint64_t fp);
void detector_fp_bloom_add(uint64_t *bloom, uint32_t log2, uint64_t fp);
const uint32_t *detector_fp_postings(const struct det_fpindex *x, uint32_t ref, uint32_t *one,
				     uint32_t *n);

/*
 * Scan state of one message (detector_fpscan.c, detector_edm.c,
 * detector_idm.c). struct det_scan points to it; it exists only when the
 * policies have edm or document rules.
 */
#define FP_FOUND_MAX  3 /* matches described per rule */
#define FP_VALUES_MAX 96

/* A value of an EDM index found in the unit being scanned. */
struct edm_hit {
	size_t s, e;
	uint32_t x;   /* index number in the policy set */
	uint32_t ref; /* its slot's rows */
};

/* A token that is not words: a number, a date, an address. */
struct edm_token {
	size_t s, e;
	uint64_t h; /* unkeyed, then sealed */
	int dmy;    /* dates: day first */
	enum fp_type t;
};

/* One match, as the incident tells it. */
struct fp_found {
	uint32_t row;               /* edm: 1-based data row */
	uint32_t cols;              /* edm: bit per column */
	char values[FP_VALUES_MAX]; /* edm: masked cells */
	uint32_t doc;               /* document */
	unsigned overlap, words;    /* document: percent, shared words */
	int identical, whole;       /* document: same bytes; whole message */
};

struct fp_rule_res {
	unsigned n;
	struct fp_found f[FP_FOUND_MAX];
};

/* A row of an EDM rule with the cells seen near each other. */
#define EDM_ROW_CELLS 8
struct edm_row {
	uint32_t row, gen;
	uint32_t reported; /* the unit's gen it was reported in */
	unsigned n;
	struct {
		uint32_t col;
		size_t s, e;
	} c[EDM_ROW_CELLS];
};

/* Counters of a document rule, per document: its part, the whole message. */
struct idm_acc {
	uint32_t *part_n, *msg_n;     /* distinct fingerprints */
	uint32_t *part_w, *msg_w;     /* shared words */
	uint64_t *part_end, *msg_end; /* after the last matched k-gram (word number) */
	uint32_t *touched;            /* documents counted in this part */
	size_t ntouched, captouched;
	int identical_done;
};

/* A set of 64-bit keys (open addressing, 0 never stored). */
struct fp_set {
	uint64_t *k;
	size_t n, cap;
};

struct det_fpscan {
	uint32_t *edm_rules, *doc_rules; /* of enabled policies */
	size_t nedm, ndoc;
	struct fp_rule_res *res; /* per rule */
	struct edm_hit *hits;
	size_t nhits, caphits;
	struct edm_token *tok;
	size_t ntok, captok;
	struct edm_row *rows; /* the row map */
	size_t caprows, nrowsused;
	uint32_t rowgen;
	uint64_t work;       /* postings visited, for the bound */
	struct idm_acc *acc; /* per rule (document rules) */
	struct fp_set part_seen, msg_seen;
	uint64_t wordno; /* words of the message so far */
	int part_depth;
	struct fp_winnow *winnow; /* per index, for the unit */
	unsigned char *xon;       /* per index: used by a rule of the unit */
	uint32_t *active;         /* the unit's rules */
	struct fp_cand *cand;     /* values of a batch of words */
	size_t ncand, capcand;
	unsigned unit_where;   /* the unit being read */
	struct fp_rmatch *rec; /* a confined child's document matches */
	size_t nrec;
};

/* A document match a confined child hands its parent (detector_confine.c). */
#define FP_REPORT_MATCHES 65536
struct fp_rmatch {
	uint64_t fp, pos;
	uint32_t x, where;
};

/* Winnowing (Schleimer, Wilkerson, Aiken 2003) over the words of a text. */
struct fp_winnow {
	unsigned k, w;
	uint64_t ring[FP_IDM_K_MAX]; /* the last k sealed words */
	unsigned ri;                 /* where the next one goes */
	uint64_t kg, bk;             /* rolling k-gram value, B^k */
	uint64_t nwords;
	uint64_t h[FP_IDM_W_MAX], at[FP_IDM_W_MAX]; /* the window */
	unsigned nh, head;
	int min;       /* the window's selected entry, -1 none */
	uint64_t last; /* word of the last fingerprint given + 1 */
};

/* detector_edm.c */
void detector_edm_tokens(struct det_scan *sc, const char *data, size_t len, unsigned types,
			 unsigned mind, unsigned maxd);
void detector_edm_lookup_tokens(struct det_scan *sc, const char *d, const unsigned char *xon);
int detector_edm_find(const struct det_fpindex *x, uint64_t fp, enum fp_type t, const char *d,
		      size_t s, size_t e, int dmy, uint32_t *ref);
void detector_edm_hit(struct det_fpscan *fs, uint32_t x, size_t s, size_t e, uint32_t ref);
void detector_edm_rules(struct det_scan *sc, const char *d, const uint32_t *rules,
			size_t nrules);
int detector_edm_gated(const struct det_rule *r);
void detector_edm_incident(struct buf *b, const struct det_scan *sc, uint32_t ri);
void detector_edm_text(struct buf *out, const struct det_scan *sc, uint32_t ri);

/* detector_idm.c */
void detector_idm_winnow_init(struct fp_winnow *wn, unsigned k, unsigned w);
int detector_idm_winnow(struct fp_winnow *wn, uint64_t sealed, uint64_t *fp, uint64_t *at);
int detector_idm_winnow_end(struct fp_winnow *wn, uint64_t *fp, uint64_t *at);
size_t detector_idm_winnow_batch(struct fp_winnow *wn, const uint64_t *sealed, size_t n,
				 uint64_t *fp, uint64_t *at);
int detector_idm_find(const struct det_fpindex *x, uint64_t fp, uint32_t *slot);
void detector_idm_match(struct det_scan *sc, uint32_t x, uint64_t fp, uint64_t pos,
			const uint32_t *rules, size_t nrules);
void detector_idm_part_end(struct det_scan *sc);
void detector_idm_finish(struct det_scan *sc);
void detector_idm_file(struct det_scan *sc, unsigned where, const char *data, size_t len);
void detector_idm_incident(struct buf *b, const struct det_scan *sc, uint32_t ri);
void detector_idm_text(struct buf *out, const struct det_scan *sc, uint32_t ri);

/* detector_fpscan.c */
int detector_fp_set_add(struct fp_set *s, uint64_t key);
void detector_fp_record(struct det_scan *sc, uint32_t x, uint64_t fp, uint64_t pos);
void detector_fp_set_clear(struct fp_set *s);

/* detector_fp.c: the secret */
void detector_fp_key_path(const char *confdir, char *buf, size_t len);
int detector_fp_key_load(const char *path, char *err, size_t errlen);
int detector_fp_key_create(const char *path, uid_t owner, gid_t group, char *err,
			   size_t errlen);
int detector_fp_key_ready(void);
const unsigned char *detector_fp_key_id(void); /* 8 bytes */
void detector_fp_seal(const uint64_t *h, uint64_t *out, size_t n, enum fp_type t);
uint32_t detector_fp_check(enum fp_type t, const char *norm, size_t len);
void detector_fp_mac(const unsigned char *in, size_t len, unsigned char out[32]);

/* detector_fp.c: words and values */
uint64_t detector_fp_hash(const void *p, size_t n, uint64_t seed);
size_t detector_fp_words(const char *d, size_t len, size_t *pos, struct fp_word *w, size_t max);
void detector_fp_words_seal(const struct fp_word *w, size_t n, uint64_t *out);
uint64_t detector_fp_span(const uint64_t *sealed, size_t n);
size_t detector_fp_norm_text(const char *s, size_t len, char *out, size_t outlen,
			     size_t *nwords);
size_t detector_fp_norm_digits(const char *s, size_t len, char *out, size_t outlen);
size_t detector_fp_norm_email(const char *s, size_t len, char *out, size_t outlen);
int detector_fp_date(const char *s, size_t len, int dmy, char out[9]);
int detector_fp_value(enum fp_type t, const char *norm, size_t len, uint64_t *fp);
uint64_t detector_fp_value_hash(enum fp_type t, const char *norm, size_t len);
const char *detector_fp_type_name(enum fp_type t);
int detector_fp_type_parse(const char *name, enum fp_type *t);
int detector_fp_name_ok(const char *name);
int detector_fp_month(const char *w, size_t n);

#endif
