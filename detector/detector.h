/*
 * detector - the data-loss-prevention engine, shared by detector and dlpscan
 *
 * detector.c		the daemon: requests from the workers, its own loop
 * detector_policy.c	policies.conf: loading, checking, the last good copy
 * detector_match.c	the Hyperscan database and the scan of one text unit
 * detector_ident.c	data identifiers: the library, number candidates,
 *			look-alike labels, table headers, masking
 * detector_valid.c	the identifiers' validators (check digits, issuers)
 * detector_secret.c	identifiers found from anchors: secrets, SWIFT/BIC
 * detector_context.c	what surrounds a value: look-alike labels, tables
 * detector_mime.c	the single-pass MIME parser
 * detector_text.c	decoders: base64, QP, RFC 2047/2231, charsets, HTML, XML
 * detector_archive.c	archives and Office documents through libarchive
 * detector_confine.c	archives and documents read in a child process
 * detector_office.c	the text of Office Open XML and OpenDocument parts
 * detector_sheet.c	spreadsheets as rows of cells (xlsx grids, shared strings)
 * detector_ole.c	compound files (OLE2): the reader, objects, strings
 * detector_legacy.c	Word, Excel, PowerPoint 97-2003 text
 * detector_msg.c	Outlook messages; documents in the dispatch
 * detector_rtf.c	RTF, and Outlook's compressed RTF
 * detector_tnef.c	TNEF (winmail.dat): text, properties, attachments
 * detector_mac.c	BinHex 4.0, AppleSingle and AppleDouble
 * detector_pdf.c	PDF text, read by a confined reader (detector_pdf.h)
 * detector_fp*.c	fingerprints: Exact Data and Indexed Document
 *			Matching (detector_fp.h)
 * detector_verdict.c	policies -> verdict: precedence, subject, headers
 * detector_incident.c	the incident log (JSON lines, fsync'd)
 * detector_notify.c	incident notifications: spool, SMTP, retries
 * dlpscan.c		the command line dry run
 *
 * A message is read once: the MIME parser hands every piece of text it
 * finds (subject, header values, body text, attachment text, attachment
 * names) to detector_scan_unit(), which runs the one Hyperscan database of
 * all policies over it and counts hits per rule. Validators run only on
 * the candidates Hyperscan reports. When the message is done, each policy
 * is evaluated from the counts and the envelope, and the verdict is built.
 *
 * Sensitive values never leave this module in clear: every sample kept is
 * masked when it is taken (detector_mask_*).
 */
#ifndef DLP_DETECTOR_H
#define DLP_DETECTOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <hs.h>

#include "buf.h"
#include "scan.h"

/* Where a rule looks: the kinds of text units. */
#define DET_W_SUBJECT (1u << 0)
#define DET_W_BODY    (1u << 1)
#define DET_W_ATTACH  (1u << 2)
#define DET_W_ATTNAME (1u << 3)
#define DET_W_HEADER  (1u << 4)
#define DET_W_CONTENT (DET_W_SUBJECT | DET_W_BODY | DET_W_ATTACH)

/* Bounds of the policy language. */
#define DET_MAX_POLICIES    1000
#define DET_MAX_RULES       64     /* per policy */
#define DET_MAX_PATTERNS    200000 /* all policies */
#define DET_MAX_KEYWORD     256    /* bytes per keyword */
#define DET_MAX_REGEX       4096
#define DET_MAX_HEADERS_ADD 10
#define DET_MAX_NOTIFY      32
#define DET_MAX_LIST        10000 /* address patterns per list */
#define DET_SAMPLES         3     /* masked samples kept per rule */
#define DET_SAMPLE_MAX      64
#define DET_NAME_MAX        64  /* policy names */
#define DET_MAX_ATTACH      256 /* attachment names kept */

/* The policy an incident names when unscannable_action (block, tempfail)
 * decided: no policy name can hold parentheses. */
#define DET_UNSCANNABLE_POLICY "(unscannable)"

enum det_rule_type {
	RULE_KEYWORD,
	RULE_REGEX,
	RULE_IDENTIFIER,
	RULE_EDM,
	RULE_DOCUMENT,
	RULE_SENDER,
	RULE_RECIPIENT,
	RULE_SIZE,
	RULE_ATTACHMENT,
	RULE_RCPT_COUNT,
};

/* Rules that look at text (where, hits); the others look at the envelope. */
#define RULE_LAST_CONTENT RULE_DOCUMENT

struct det_fpindex;
struct det_fpscan;

enum det_ident {
	IDENT_CARD,
	IDENT_SSN,
	IDENT_IBAN,
	IDENT_UK_NINO,
	IDENT_CA_SIN,
	IDENT_FR_NIR,
	IDENT_ES_DNI,
	IDENT_ES_NIE,
	IDENT_IT_CF,
	IDENT_NL_BSN,
	IDENT_DE_STEUER,
	IDENT_SE_PNR,
	IDENT_DK_CPR,
	IDENT_PL_PESEL,
	IDENT_IN_AADHAAR,
	IDENT_CN_RIC,
	IDENT_BR_CPF,
	IDENT_BR_CNPJ,
	IDENT_AU_TFN,
	IDENT_US_ITIN,
	IDENT_UK_NHS,
	IDENT_ABA,
	IDENT_BIC,
	IDENT_UK_SORT,
	IDENT_US_PASSPORT,
	IDENT_US_DEA,
	IDENT_PEM_KEY,
	IDENT_AWS_KEY,
	IDENT_AWS_SECRET,
	IDENT_GITHUB,
	IDENT_GITLAB,
	IDENT_SLACK,
	IDENT_JWT,
	IDENT_DB_URL,
	IDENT_COUNT,
};

/* When an identifier rule wants context words near a value. */
enum det_context {
	CTX_AUTO,   /* for weak validators only (the default) */
	CTX_ALWAYS, /* context = true, or near = [...] */
	CTX_NEVER,  /* context = false */
};

enum det_pat_kind {
	PAT_KEYWORD, /* a keyword or phrase of a keyword rule */
	PAT_REGEX,   /* a regular expression rule */
	PAT_PROX,    /* a proximity keyword of an identifier rule */
	PAT_ANCHOR,  /* a literal that starts an identifier candidate */
};

/* Order is precedence: block beats redirect beats modify beats pass. */
enum det_action {
	ACT_PASS = 0,
	ACT_MODIFY = 1,
	ACT_REDIRECT = 2,
	ACT_BLOCK = 3,
};

enum det_severity {
	SEV_INFO = 0,
	SEV_LOW,
	SEV_MEDIUM,
	SEV_HIGH,
};

struct det_list {
	char **items;
	size_t count;
};

struct det_rule {
	enum det_rule_type type;
	int line;                /* in the policy file */
	uint32_t policy;         /* index of its policy */
	unsigned where;          /* DET_W_* (content rules) */
	struct det_list headers; /* header names for DET_W_HEADER; empty: any */
	unsigned min_count;      /* matches needed */
	enum det_ident ident;
	enum det_context context;     /* identifier: when context words are needed */
	int labels;                   /* identifier: look-alike labels apply */
	unsigned prox_distance;       /* distance of context words */
	struct det_list patterns;     /* sender / recipient address patterns */
	int external;                 /* recipient: outside internal_domains */
	long long min_size, max_size; /* size: bytes; max 0 = none */
	unsigned min_rcpt, max_rcpt;  /* recipient count; max 0 = none */
	struct det_list types;        /* attachment: sniffed or named types */
	struct det_list names;        /* attachment: file name globs */
	struct det_fpindex *fpi;      /* edm, document: the index */
	uint32_t columns;             /* edm: a bit per column of the index */
	unsigned min_columns;         /* edm: cells of one row */
	unsigned distance;            /* edm: characters between them */
	unsigned min_overlap;         /* document: percent; 0 none */
	unsigned min_shared_words;    /* document: 0 none */
};

/* A phrase: words separated by any white space; Hyperscan finds its
 * longest word (the anchor), the others are checked around it. */
struct det_phrase {
	size_t nwords;
	size_t anchor;
	char **lo, **up; /* each word in lower and upper case */
	size_t *len;     /* bytes per word (lo and up alike) */
};

struct det_pattern {
	uint32_t rule; /* index into det_policyset.rules */
	enum det_pat_kind kind;
	char *text;                /* keyword as written (samples) */
	size_t len;                /* its length */
	char *sample;              /* keyword: masked once, at load */
	int whole;                 /* keyword: whole words only */
	enum det_ident ident;      /* PAT_ANCHOR: whose anchor */
	struct det_phrase *phrase; /* keyword with several words, or NULL */
};

struct det_policy {
	char *name;
	int line;
	int enabled;
	int monitor; /* mode = monitor */
	enum det_severity severity;
	int match_all; /* all rules, or any min_rules of them */
	unsigned min_rules;
	uint32_t first_rule, nrules;
	struct det_list exc_senders, exc_rcpts, exc_domains;
	enum det_action action;
	char reply[512];          /* block */
	struct det_list redirect; /* "<addr>" */
	char *subject_replace, *subject_prepend, *subject_append;
	struct det_list add_headers; /* "Name: value" */
	struct det_list notify;      /* "<addr>" */
	int notify_sender;
};

struct det_policyset {
	struct det_policy *policies;
	size_t npolicies;
	struct det_rule *rules;
	size_t nrules;
	struct det_pattern *pats;
	size_t npats;
	hs_database_t *db;               /* NULL: no content patterns */
	unsigned where_used;             /* union of content rules' where */
	uint32_t *id_rules[IDENT_COUNT]; /* enabled identifier rules by kind */
	size_t nid_rules[IDENT_COUNT];
	unsigned id_where;                 /* union of identifier rules' where */
	unsigned id_where_of[IDENT_COUNT]; /* the same, per identifier */
	struct det_fpindex **fpi;          /* the indexes edm and document rules use */
	size_t nfpi;
	unsigned fp_where; /* union of their where */
	char *source;      /* the file the policies came from */
	time_t loaded;
	double compile_ms;
};

/* What one rule found in one message. */
struct det_rule_hits {
	uint32_t count;
	uint8_t nsamples;
	char samples[DET_SAMPLES][DET_SAMPLE_MAX + 8];
};

/* A validated identifier waiting for its proximity check. */
struct det_cand {
	uint32_t rule;
	size_t start, end;
	char sample[DET_SAMPLE_MAX + 8];
};

/* A validated identifier, as detector_ident.c reports it. */
struct det_found {
	enum det_ident id;
	size_t start, end;               /* bytes of the unit */
	int weak;                        /* needs context to count (context = auto) */
	char sample[DET_SAMPLE_MAX + 8]; /* masked */
};
typedef void (*det_found_fn)(void *ctx, const struct det_found *f);

/* A number as it is written: its digits and its groups (detector_ident_value). */
#define DET_VALUE_DIGITS 24
#define DET_VALUE_GROUPS 12
struct det_value {
	char digits[DET_VALUE_DIGITS + 1];
	unsigned nd, ng;
	unsigned char group[DET_VALUE_GROUPS]; /* digits of each group */
	int one_sep;                           /* one kind of separator between the groups */
};

/* The table a unit holds, as far as detector_table_cell() has read it. */
struct det_table {
	const char *unit;
	size_t len;
	size_t block;     /* start of the header line */
	size_t checked;   /* start of the last row known to belong */
	unsigned nfields; /* 0: nothing cached */
	char delim;
	size_t walked; /* bytes read, against a budget */
};

struct det_offsets {
	size_t *off;
	size_t n, cap;
};

struct det_attach {
	char name[256]; /* UTF-8, may be empty */
	char type[16];  /* sniffed: "exe", "zip", "pdf", "text", ... */
};

/* One message being scanned. */
struct det_scan {
	const struct det_policyset *ps;
	hs_scratch_t *scratch;
	struct det_rule_hits *hits; /* one per rule */
	/* the unit being scanned */
	unsigned where;
	const char *header_name;
	const char *unit;
	size_t unit_len;
	int unit_subject;         /* the unit is the top-level subject */
	size_t *unit_map;         /* folded subject: offsets in sc->subject */
	struct det_offsets *prox; /* per rule: proximity keyword offsets */
	struct det_cand *cands;
	size_t ncands, capcands;
	struct det_table table;          /* the unit's table, for header context */
	size_t anchor_done[IDENT_COUNT]; /* anchored identifiers: read up to */
	struct det_offsets masks;        /* subject: start,end pairs to mask */
	/* what the message says about itself */
	char *subject;     /* decoded UTF-8, top level; NULL: none */
	char *subject_raw; /* as written, unfolded */
	char *subject_masked;
	char *message_id;
	struct det_attach *att;
	size_t natt;
	int has_pass_header; /* our pass header in the top headers */
	/* limits and their outcome */
	size_t msg_size;
	unsigned parts;
	size_t decoded;
	unsigned callbacks;
	struct timespec deadline;
	int timed_out;
	int incomplete;           /* a limit was hit or a part unreadable */
	char incomplete_why[512]; /* "; "-separated reasons */
	const char *label;        /* the part or member being read, for reasons */
	/* the file name of the content in the dispatch (archives, documents) */
	const char *content_name;
	int flowed;   /* its text is format=flowed (RFC 3676): 1, delsp=yes: 2 */
	int confined; /* in a parser's child process (detector_confine.c) */
	/* multipart/alternative: count the best alternative, not the sum */
	uint32_t *alt_save;
	/* fingerprints: EDM and IDM (NULL when no rule uses them) */
	struct det_fpscan *fp;
	/* a sink takes every text unit instead of the matcher (dlpindex) */
	void (*sink)(void *ctx, unsigned where, const char *data, size_t len);
	void *sink_ctx;
	/* a tap sees every text unit before the matcher does (dlpscan -x) */
	void (*tap)(void *ctx, unsigned where, const char *header, const char *data,
		    size_t len);
	void *tap_ctx;
};

/* The decision for one message. */
struct det_decision {
	enum scan_action action;
	char reply[512];
	struct det_list rcpt; /* redirect */
	struct det_list headers;
	char *subject;   /* new Subject value, or NULL */
	uint32_t *fired; /* indices of the policies that fired */
	size_t nfired;
	enum det_severity severity; /* highest among fired */
	int monitor_only;           /* nothing enforced */
	int unscannable;            /* unscannable_action blocked or tempfailed it */
	char incident[40];
	int scanned; /* 0: not scanned (loop guard, timeout) */
};

/* detector_policy.c */
struct det_policyset *detector_policy_load(const char *confdir, const char *file, char *err,
					   size_t errlen);
void detector_policy_free(struct det_policyset *ps);
struct det_policyset *detector_policy_startup(const char *confdir, int *fallback);
int detector_policy_check(const char *confdir, char *err, size_t errlen);
const char *detector_severity_name(enum det_severity s);
const char *detector_action_name(enum det_action a);
void detector_list_free(struct det_list *l);
void detector_list_add(struct det_list *l, const char *item);
int detector_addr_match(const char *pattern, const char *addr);
int detector_addr_internal(const char *addr);
int detector_addr_routed(const char *addr);
char *detector_addr_bare(const char *addr, char *buf, size_t len);

/* detector_match.c */
int detector_match_compile(struct det_policyset *ps, char *err, size_t errlen, int *bad_rule);
int detector_scan_init(struct det_scan *sc, const struct det_policyset *ps, size_t msg_size,
		       int timeout);
void detector_scan_free(struct det_scan *sc);
void detector_scan_unit(struct det_scan *sc, unsigned where, const char *header,
			const char *data, size_t len);
int detector_scan_expired(struct det_scan *sc);
void detector_scan_limit(struct det_scan *sc, const char *why);
void detector_unscannable(struct det_scan *sc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void detector_hit(struct det_scan *sc, uint32_t rule, const char *sample);
/* several readings of the same bytes (HTML with and without what it hides,
 * a PDF page in stream and in reading order): only the best one counts */
struct det_readings {
	struct det_scan *sc;
	uint32_t *base, *best;
};
void detector_readings_begin(struct det_scan *sc, struct det_readings *r);
void detector_readings_next(struct det_readings *r);
void detector_readings_end(struct det_readings *r);

/* detector_ident.c */
#define DET_ID_HEADER 1u /* a header value: a tab is folding white space */
void detector_ident_scan(const char *d, size_t len, const int *want, unsigned flags,
			 det_found_fn found, void *ctx);
int detector_ident_parse(const char *name, enum det_ident *id);
const char *detector_ident_name(enum det_ident id);
const char *const *detector_ident_context(enum det_ident id);
int detector_ident_context_cased(const char *word);
const char *const *detector_ident_anchors(enum det_ident id, int *caseless);
int detector_ident_from_digits(enum det_ident id);
int detector_ident_is_number(enum det_ident id);
int detector_ident_may_be_weak(enum det_ident id);
void detector_ident_value(const char *d, size_t s, size_t e, struct det_value *v);
void detector_mask(const char *in, size_t len, char *out, size_t outlen);

/* detector_context.c */
int detector_ident_labelled(const char *d, size_t len, size_t s);
int detector_label_in(const char *d, size_t s, size_t e);
int detector_label_admits(int kind, const struct det_value *v, int weak);
int detector_table_cell(struct det_table *t, const char *d, size_t len, size_t pos, size_t *hs,
			size_t *he);

/* detector_secret.c */
void detector_ident_anchor(enum det_ident id, const char *d, size_t len, size_t at, size_t end,
			   size_t *done, det_found_fn found, void *ctx);
int detector_github_ok(const char *tok, size_t n);

/* detector_valid.c */
int detector_luhn(const char *digits, size_t n);
int detector_card_ok(const char *digits, size_t n);
int detector_ssn_ok(const char *d);
int detector_iban_length(const char *cc);
int detector_iban_ok(const char *s, size_t n);
int detector_valid_nino(const char *s, size_t n);
int detector_valid_sin(const char *d);
int detector_valid_nir(const char *s, size_t n);
int detector_valid_dni(const char *s, size_t n);
int detector_valid_nie(const char *s, size_t n);
int detector_valid_it_cf(const char *s, size_t n);
int detector_valid_bsn(const char *d);
int detector_valid_steuer_id(const char *d);
int detector_valid_personnummer(const char *d, size_t n);
int detector_valid_cpr(const char *d);
int detector_valid_pesel(const char *d);
int detector_verhoeff(const char *d, size_t n);
int detector_valid_aadhaar(const char *d);
int detector_valid_cn_ric(const char *s);
int detector_valid_cpf(const char *d);
int detector_valid_cnpj(const char *d);
int detector_valid_tfn(const char *d, size_t n);
int detector_valid_itin(const char *d);
int detector_valid_nhs(const char *d);
int detector_valid_aba(const char *d);
int detector_country_ok(const char *cc);
int detector_valid_bic(const char *s, size_t n);
int detector_valid_dea(const char *s);
int detector_valid_passport_us(const char *s);
int detector_valid_sortcode(const char *sort, const char *acct);

/* detector_mime.c */
void detector_mime_scan(struct det_scan *sc, const char *msg, size_t len);
void detector_content_scan(struct det_scan *sc, const char *data, size_t len, const char *ctype,
			   const char *charset, unsigned where, int depth, const char *sniffed);
void detector_note_attachment(struct det_scan *sc, const char *name, const char *type);
void detector_message_scan(struct det_scan *sc, const char *msg, size_t len, int depth);
int detector_is_archive(const char *type);

/* detector_fpscan.c */
void detector_fp_scan_init(struct det_scan *sc);
void detector_fp_scan_free(struct det_scan *sc);
void detector_fp_unit(struct det_scan *sc, unsigned where, const char *header, const char *data,
		      size_t len);
void detector_fp_part(struct det_scan *sc, int begin);
void detector_fp_file(struct det_scan *sc, unsigned where, const char *data, size_t len);
void detector_fp_finish(struct det_scan *sc);
void detector_fp_incident(struct buf *b, const struct det_scan *sc, uint32_t rule);
void detector_fp_text(struct buf *out, const struct det_scan *sc, uint32_t rule);
const char *detector_fp_index_name(const struct det_fpindex *x);
size_t detector_fp_report_size(const struct det_scan *sc);
void detector_fp_report(struct det_scan *sc, void *area);
void detector_fp_take(struct det_scan *sc, const void *area);

/* detector_text.c */
size_t detector_b64_decode(const char *in, size_t len, struct buf *out, unsigned *state,
			   size_t limit);
size_t detector_qp_decode(const char *in, size_t len, struct buf *out, size_t limit);
size_t detector_uu_decode(const char *in, size_t len, struct buf *out, size_t limit);
void detector_rfc2047_decode(const char *in, size_t len, struct buf *out);
long detector_charset_to_utf8(const char *charset, const char *in, size_t len, struct buf *out,
			      size_t limit);
int detector_charset_is_utf8(const char *charset);
int detector_charset_known(const char *charset);
const char *detector_text_guess(const char *data, size_t len, size_t *skip);
int detector_utf8_valid(const char *in, size_t len);
void detector_utf16_strings(const char *in, size_t len, struct buf *out, size_t limit);
int detector_html_to_text(const char *in, size_t len, struct buf *out, struct buf *hidden,
			  size_t limit);
int detector_xml_to_text(const char *in, size_t len, struct buf *out, size_t limit);
const char *detector_sniff(const char *data, size_t len);
void detector_utf8_clean(const char *in, size_t len, struct buf *out);
void detector_subject_encode(const char *utf8, struct buf *out);
int detector_is_ascii(const char *s, size_t len);

/* detector_vobject.c */
int detector_vobject_is(const char *ctype, const char *name, const char *data, size_t len);
void detector_vobject_to_text(const char *in, size_t len, struct buf *out);

/* detector_htmlvis.c */
int detector_html_visible(const char *in, size_t len, struct buf *out);

/* detector_fold.c */
int detector_fold(const char *in, size_t len, struct buf *out, size_t **map);

/* detector_archive.c */
int detector_archive_scan(struct det_scan *sc, const char *data, size_t len, int depth,
			  const char *sniffed, const char *ctype);

int detector_container_probe(struct det_scan *sc, const char *data, size_t len,
			     const char *sniffed, const char *ctype);

/* detector_confine.c */
int detector_container_scan(struct det_scan *sc, const char *data, size_t len, unsigned where,
			    int depth, const char *sniffed, const char *ctype);
void detector_confine_buffer(const struct det_scan *sc, struct buf *b);

/* detector_office.c */
void detector_office_xml(const char *in, size_t len, struct buf *out, size_t limit);
void detector_office_text(struct buf *out, const char *p, size_t len);

/* detector_sheet.c: an xlsx workbook's shared strings */
#define DET_SST_MAX (16 * 1024 * 1024)
struct det_sst {
	struct buf text; /* every string, one after the other */
	uint32_t *off;   /* n + 1 offsets into text; the top bit:
					 * a cell showed it */
	size_t n;
	int quotes; /* a string holds a double quote */
};
size_t detector_sst_load(struct det_sst *s, const char *in, size_t len);
void detector_sst_unused(const struct det_sst *s, struct buf *out);
void detector_sst_free(struct det_sst *s);
int detector_xlsx_sheet(const char *in, size_t len, struct det_sst *sst, struct buf *out,
			size_t limit);
void detector_grid_finish(struct buf *out, size_t from, size_t limit);
void detector_formula_value(struct buf *b, size_t from);

/*
 * The cells that formulas joining cells read (xlsx and .xls): noted while
 * the formulas are read (detector_cells_want, a formula reader's ref),
 * found in one more pass over the sheet once sorted (detector_cells_sort,
 * detector_cells_at), then read into the formulas (detector_cells_read).
 */
#define DET_FORMULA_CELLS 512
typedef void (*det_cell_fn)(void *ctx, uint64_t key, struct buf *out);
struct det_cells {
	uint64_t key[DET_FORMULA_CELLS];
	size_t at[DET_FORMULA_CELLS][2]; /* each one's text in text: from, to */
	unsigned n;
	int over; /* a formula read more cells than are kept */
	struct buf text;
};
void detector_cells_want(void *cells, uint64_t key, struct buf *out);
int detector_cells_keep(struct det_cells *c, unsigned had, int joins);
void detector_cells_sort(struct det_cells *c);
size_t *detector_cells_at(struct det_cells *c, uint64_t key);
void detector_cells_read(void *cells, uint64_t key, struct buf *out);
int detector_formula_line(struct buf *out, size_t mark, int joins);

/* detector_ole.c, detector_legacy.c, detector_msg.c (struct ole: detector_ole.h) */
struct ole;
void detector_ole_scan(struct det_scan *sc, const char *data, size_t len, int depth,
		       const char *name);
int detector_ole_stream(struct det_scan *sc, struct ole *o, uint32_t id, struct buf *out,
			const char *name);
void detector_ole_generic(struct det_scan *sc, struct ole *o, uint32_t id, int depth,
			  const char *name);
void detector_ole_package(struct det_scan *sc, const char *d, size_t len, int depth,
			  const char *name);
void detector_strings(const char *data, size_t len, struct buf *out);
int detector_ovba_decompress(const char *in, size_t len, struct buf *out);
void detector_legacy_scan(struct det_scan *sc, struct ole *o, int depth, const char *name,
			  unsigned char *done);
void detector_msg_scan(struct det_scan *sc, struct ole *o, int depth, const char *name,
		       unsigned char *done);
int detector_document_scan(struct det_scan *sc, const char *data, size_t len, unsigned where,
			   int depth, const char *sniffed, const char *ctype);

/* detector_rtf.c */
void detector_rtf_scan(struct det_scan *sc, const char *in, size_t len, unsigned where,
		       int depth, const char *name);
void detector_rtf_text(struct det_scan *sc, const char *in, size_t len, int depth,
		       const char *name, struct buf *out);
int detector_rtf_decompress(const char *in, size_t len, struct buf *out, size_t limit);

/* detector_tnef.c */
void detector_tnef_scan(struct det_scan *sc, const char *data, size_t len, unsigned where,
			int depth, const char *name);

/* detector_mac.c */
void detector_binhex_scan(struct det_scan *sc, const char *d, size_t n, int depth, int whole);
void detector_applefile_scan(struct det_scan *sc, const char *data, size_t len, int depth,
			     const char *name);

/* detector_pdf.c */
void detector_pdf_scan(struct det_scan *sc, const char *data, size_t len, unsigned where,
		       int depth);

/* detector_verdict.c */
void detector_decide(struct det_scan *sc, const struct envelope *env, struct det_decision *d);
void detector_decision_free(struct det_decision *d);
void detector_decision_unscanned(struct det_decision *d, const char *header);
int detector_policy_fired(const struct det_policyset *ps, const struct det_scan *sc,
			  const struct envelope *env, size_t p);

/* detector_loop.c */
void detector_loop_init(void);
int detector_loop_guarded(const struct envelope *env, const char *m, size_t len, size_t *above);
void detector_loop_mark(const struct envelope *env, const char *m, size_t len,
			struct det_decision *d);
void detector_loop_scan_above(struct det_scan *sc, const char *m, size_t above);

/* detector_incident.c */
void detector_incident_id(char *buf, size_t len);
void detector_incident_syslog(const struct det_scan *sc, const struct envelope *env,
			      const struct det_decision *d);
int detector_incident_write(const struct det_scan *sc, const struct envelope *env,
			    const struct det_decision *d);
void detector_json_str(struct buf *b, const char *s);
char *detector_safe_text(const char *in, size_t max);
void detector_rule_label(const struct det_rule *r, char *buf, size_t len);
void detector_incident_line(struct buf *b, const struct det_scan *sc,
			    const struct envelope *env, const struct det_decision *d);

/* detector_notify.c */
void detector_notify_queue(const struct det_scan *sc, const struct envelope *env,
			   const struct det_decision *d);
int detector_notify_run(int max, time_t *next);
void detector_notify_kick(void); /* detector.c */
void detector_matches_text(const struct det_scan *sc, const struct det_policy *p,
			   struct buf *out);

#endif
