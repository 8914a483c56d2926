/*
 * dlpindex - build the fingerprint indexes of edm and document rules
 *
 * SYNOPSIS
 *	dlpindex edm [-c confdir] [-o name=value]... -n name [-t column=type]...
 *		[-d delimiter] [-s percent] [-m chars] [-D digits] [-w stopwords]
 *		file.csv
 *	dlpindex idm [-c confdir] [-o name=value]... -n name [-k words]
 *		[-W words] [-x template]... dir-or-file...
 *	dlpindex list [-c confdir]
 *	dlpindex check [-c confdir] name...
 *
 * DESCRIPTION
 *	edm reads a CSV or TSV export (RFC 4180: a header row naming the
 *	columns, quoted fields with doubled quotes and line breaks, UTF-8)
 *	and writes fingerprint_directory/name.edm: for every cell, normalised
 *	by its column's type (text, digits, email, date: from -t, from a
 *	"name:type" header, or guessed from the values), its keyed value, the
 *	32 bits of its HMAC, and its row and column. No cell is written in
 *	clear. Empty cells, cells too short to identify anybody, stop words,
 *	values in more than -s percent of the rows (at least 10 rows) and
 *	cells that are not what their column says are left out and counted.
 *
 *	idm extracts the text of every file given or found under the
 *	directories given, with the detector's own extractors
 *	(detector_content_scan: plain text, HTML, Office and OpenDocument,
 *	archives, and every format the detector reads), winnows it (k words
 *	a k-gram, windows of W) and writes fingerprint_directory/name.idm
 *	with each document's name, its fingerprints and the keyed SHA-256 of
 *	the whole file. Fingerprints of the -x templates (boilerplate every
 *	document of a kind shares) are left out.
 *
 *	The first index makes the secret (fingerprint_key), readable by the
 *	detector's user only. Indexes are written under a temporary name and
 *	renamed; detectors take a new one at `dlpgate reload`.
 *
 *	list shows the indexes; check reads each one whole, as a detector
 *	would, and says how long it took.
 *
 * EXIT STATUS
 *	0 done, 1 an error (said on standard error), 2 usage.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <bsd/string.h>

#include "buf.h"
#include "conf.h"
#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "detector.h"
#include "detector_fp.h"

#ifndef DLP_SYSCONFDIR
#define DLP_SYSCONFDIR "/etc/dlpgate"
#endif

#define DETECTOR_USER "dlpgate-detect"
#define IDX_LOAD      0.7 /* slots filled at most */
#define CSV_MAX_SIZE  (16ULL << 30)
#define DOC_MAX_SIZE  (512u << 20)
#define IDM_MAX_DOCS  1000000
#define IDM_DEPTH_MAX 32
#define SAMPLE_ROWS   5000

static const char *confdir = DLP_SYSCONFDIR;
static uid_t owner_uid = (uid_t) -1;
static gid_t owner_gid = (gid_t) -1;

/* usage - the command line */
static void usage(void)
{
	fprintf(stderr,
		"usage: dlpindex edm [-c confdir] -n name [-t column=type]... [-d delimiter]\n"
		"                [-s percent] [-m chars] [-D digits] [-w stopwords] file.csv\n"
		"       dlpindex idm [-c confdir] -n name [-k words] [-W words] [-x "
		"template]...\n"
		"                dir-or-file...\n"
		"       dlpindex list [-c confdir]\n"
		"       dlpindex check [-c confdir] name...\n");
	exit(2);
}

/* now - seconds, monotonic */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* owner_setup - as root, files belong to root and the detector's group */
static void owner_setup(void)
{
	struct passwd *pw;

	if (geteuid() != 0 || (pw = getpwnam(DETECTOR_USER)) == NULL)
		return;
	owner_uid = pw->pw_uid;
	owner_gid = pw->pw_gid;
}

/* key_ready - load the secret, or make it */
static void key_ready(void)
{
	char path[PATH_MAX], err[512];

	detector_fp_key_path(confdir, path, sizeof(path));
	if (access(path, F_OK) == 0) {
		if (detector_fp_key_load(path, err, sizeof(err)) < 0)
			msg_fatal("%s", err);
		return;
	}
	if (detector_fp_key_create(path, owner_uid, owner_gid, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	printf("made the fingerprint key %s (mode 0400, owner %s)\n", path,
	       owner_uid != (uid_t) -1 ? DETECTOR_USER : "you");
}

/* out_dir - fingerprint_directory, made when missing */
static void out_dir(char *dir, size_t len)
{
	char tmp[PATH_MAX];

	detector_fp_dir(confdir, dir, len);
	strlcpy(tmp, dir, sizeof(tmp));
	for (char *cp = tmp + 1; *cp; cp++) {
		if (*cp != '/')
			continue;
		*cp = 0;
		(void) mkdir(tmp, 0755);
		*cp = '/';
	}
	if (mkdir(dir, 0750) == 0 && owner_gid != (gid_t) -1 && chown(dir, 0, owner_gid) < 0)
		msg_fatal("chown %s: %m", dir);
	if (access(dir, W_OK) < 0)
		msg_fatal("%s: %m", dir);
}

/* write_index - the finished image: checksum, temporary file, rename */
static void write_index(const char *name, enum fp_kind kind, unsigned char *img, size_t len)
{
	char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX];
	struct fp_head *h = (struct fp_head *) img;
	unsigned int n = 0;
	size_t off = 0;
	int fd;

	memset(h->sum, 0, sizeof(h->sum));
	if (EVP_Digest(img, len, h->sum, &n, EVP_sha256(), NULL) != 1)
		msg_fatal("SHA-256 failed");
	out_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s%s", dir, name, detector_fp_ext(kind));
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long) getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640)) < 0)
		msg_fatal("%s: %m", tmp);
	while (off < len) {
		ssize_t w = write(fd, img + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			unlink(tmp);
			msg_fatal("%s: %s", tmp, w < 0 ? strerror(errno) : "short write");
		}
		off += (size_t) w;
	}
	if ((owner_gid != (gid_t) -1 && fchown(fd, 0, owner_gid) < 0) || fsync(fd) < 0
	    || close(fd) < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		msg_fatal("%s: %m", path);
	}
	printf("wrote %s (%.1f MB)\n", path, (double) len / 1e6);
}

/* head_init - the common header */
static void head_init(struct fp_head *h, const char *magic, uint32_t size, const char *name)
{
	memcpy(h->magic, magic, 8);
	h->version = FP_VERSION;
	h->head_size = size;
	memcpy(h->key_id, detector_fp_key_id(), 8);
	h->created = (int64_t) time(NULL);
	strlcpy(h->name, name, sizeof(h->name));
}

/* align8 - round up */
static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t) 7;
}

/* ---- a hash table of values, for both kinds --------------------------- */

/* One value and where it is: an EDM cell, or an IDM fingerprint. */
struct entry {
	uint64_t fp;
	uint32_t check; /* EDM: HMAC bits */
	uint32_t post;  /* EDM: row << 5 | col; IDM: document */
};

/* entry_order - by value, then posting */
static int entry_order(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->fp != y->fp)
		return x->fp < y->fp ? -1 : 1;
	return x->post < y->post ? -1 : x->post > y->post;
}

/* A table being built. */
struct table {
	uint32_t slots, values, max_probe, bloom_log2;
	uint64_t npost;
	unsigned char *slot; /* slots of slot_size bytes */
	size_t slot_size;
	uint32_t *post;
	uint64_t *bloom;
};

/* table_put - one value with its ref, by linear probing */
static void table_put(struct table *t, uint64_t fp, uint32_t check, uint32_t ref)
{
	uint32_t b = detector_fp_bucket(fp, t->slots), tag = detector_fp_tag(fp), probe = 0;

	for (;; probe++, b = b + 1 == t->slots ? 0 : b + 1) {
		unsigned char *s = t->slot + (size_t) b * t->slot_size;
		uint32_t have;

		memcpy(&have, s, 4);
		if (have != 0)
			continue;
		memcpy(s, &tag, 4);
		if (t->slot_size == sizeof(struct fp_slot3)) {
			memcpy(s + 4, &check, 4);
			memcpy(s + 8, &ref, 4);
		} else
			memcpy(s + 4, &ref, 4);
		break;
	}
	if (probe > t->max_probe)
		t->max_probe = probe;
	detector_fp_bloom_add(t->bloom, t->bloom_log2, fp);
}

/* table_build - sorted entries (groups of one value) to slots and postings */
static void table_build(struct table *t, const struct entry *e, size_t n, size_t slot_size,
			uint32_t values, int edm)
{
	uint64_t words;

	t->slot_size = slot_size;
	t->values = values;
	t->slots = (uint32_t) ((double) values / IDX_LOAD) + 16;
	t->slot = xcalloc(t->slots, slot_size);
	/* 16 bits of Bloom filter a value: about 0.2% false positives */
	for (t->bloom_log2 = 0, words = 1; words * 4 < values && t->bloom_log2 < 32;
	     t->bloom_log2++)
		words *= 2;
	t->bloom = xcalloc(words, sizeof(uint64_t));
	t->post = xmalloc(sizeof(uint32_t));
	t->npost = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && e[j].fp == e[i].fp)
			j++;
		if (j - i == 1 && (!edm || e[i].post < FP_REF_INLINE)) {
			table_put(t, e[i].fp, e[i].check, FP_REF_INLINE | e[i].post);
		} else {
			uint64_t at = t->npost;

			if (at + 1 + (j - i) >= FP_REF_INLINE)
				msg_fatal("too many postings for one index");
			t->post = xrealloc(t->post, (at + 1 + (j - i)) * sizeof(uint32_t) + 4);
			t->post[at] = (uint32_t) (j - i);
			for (size_t k = i; k < j; k++)
				t->post[at + 1 + (k - i)] = e[k].post;
			t->npost = at + 1 + (j - i);
			table_put(t, e[i].fp, e[i].check, (uint32_t) at);
		}
		i = j;
	}
}

/* table_free - release a table */
static void table_free(struct table *t)
{
	free(t->slot);
	free(t->post);
	free(t->bloom);
}

/* ---- EDM: CSV ------------------------------------------------------------ */

struct csv {
	const char *file;
	const char *p, *end;
	char delim;
	unsigned long line;
};

/*
 * csv_record - the next record's fields, unquoted, NUL-separated in rec
 * (off[] their starts); 1, 0 at the end of the file, -1 with err
 */
static int csv_record(struct csv *c, struct buf *rec, size_t *off, size_t *nf, size_t maxf,
		      unsigned long *line, char *err, size_t errlen)
{
	buf_reset(rec);
	*nf = 0;
	/* blank lines between records are nothing */
	while (c->p < c->end
	       && (*c->p == '\n' || (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n'))) {
		c->p += *c->p == '\r' ? 2 : 1;
		c->line++;
	}
	if (c->p >= c->end)
		return 0;
	*line = c->line;
	for (;;) {
		if (*nf == maxf) {
			snprintf(err, errlen, "%lu: more than %zu fields", *line, maxf);
			return -1;
		}
		off[(*nf)++] = rec->len;
		if (c->p < c->end && *c->p == '"') {
			for (c->p++;; c->p++) {
				if (c->p >= c->end) {
					snprintf(err, errlen,
						 "%lu: a quoted field is not closed", *line);
					return -1;
				}
				if (*c->p == '"') {
					if (c->p + 1 < c->end && c->p[1] == '"') {
						buf_putc(rec, '"');
						c->p++;
						continue;
					}
					c->p++;
					break;
				}
				if (*c->p == '\n')
					c->line++;
				buf_putc(rec, *c->p);
			}
			while (c->p < c->end && (*c->p == ' ' || *c->p == '\t')
			       && *c->p != c->delim)
				c->p++;
			if (c->p < c->end && *c->p != c->delim && *c->p != '\n'
			    && *c->p != '\r') {
				snprintf(err, errlen, "%lu: text after a closing quote",
					 c->line);
				return -1;
			}
		} else {
			const char *s = c->p;

			while (c->p < c->end && *c->p != c->delim && *c->p != '\n'
			       && !(*c->p == '\r' && (c->p + 1 == c->end || c->p[1] == '\n')))
				c->p++;
			buf_append(rec, s, (size_t) (c->p - s));
		}
		buf_putc(rec, 0);
		if (c->p >= c->end)
			return 1;
		if (*c->p == c->delim) {
			c->p++;
			continue;
		}
		if (*c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p == '\n') {
			c->p++;
			c->line++;
		}
		return 1;
	}
}

/* utf8_ok - is a buffer UTF-8 without NULs? the line of the first fault, or 0 */
static unsigned long utf8_bad_line(const unsigned char *p, size_t len)
{
	unsigned long line = 1;

	for (size_t i = 0; i < len;) {
		unsigned char c = p[i];
		size_t n = c < 0x80              ? 1
			: c >= 0xc2 && c <= 0xdf ? 2
			: c >= 0xe0 && c <= 0xef ? 3
			: c >= 0xf0 && c <= 0xf4 ? 4
						 : 0;

		if (c == 0 || n == 0 || i + n > len)
			return line;
		for (size_t k = 1; k < n; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return line;
		line += c == '\n';
		i += n;
	}
	return 0;
}

/* One column of the export. */
struct column {
	char name[48];
	int skip;  /* not indexed */
	int typed; /* type given, not guessed */
	enum fp_type type;
	int dmy;
	uint64_t cells;
};

/* Counts for the summary. */
struct edm_stats {
	uint64_t cells, empty, shortv, common, stop, bad;
};

/* column_name - a header cell as a column name: lower case, [a-z0-9_] */
static void column_name(const char *cell, struct column *c)
{
	char raw[256], *colon;
	size_t j = 0;

	strlcpy(raw, cell, sizeof(raw));
	if ((colon = strrchr(raw, ':')) != NULL) {
		enum fp_type t;

		if (detector_fp_type_parse(colon + 1, &t) == 0) {
			c->type = t;
			c->typed = 1;
			*colon = 0;
		} else if (strcmp(colon + 1, "skip") == 0) {
			c->skip = 1;
			*colon = 0;
		}
	}
	for (const char *p = raw; *p && j + 1 < sizeof(c->name); p++) {
		int ch = tolower((unsigned char) *p);

		if (isalnum(ch))
			c->name[j++] = (char) ch;
		else if (j && c->name[j - 1] != '_')
			c->name[j++] = '_';
	}
	while (j && c->name[j - 1] == '_')
		j--;
	c->name[j] = 0;
}

/* detect_delim - the delimiter of a header line: tab, comma, semicolon or bar */
static char detect_delim(const char *p, const char *end)
{
	static const char cand[] = "\t,;|";
	size_t count[4] = {0, 0, 0, 0};
	int quoted = 0, best = 1;

	for (; p < end && (quoted || *p != '\n'); p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && strchr(cand, *p))
			count[strchr(cand, *p) - cand]++;
	}
	for (int i = 0; i < 4; i++)
		if (count[i] > count[best])
			best = i;
	return cand[best];
}

/* Built-in stop words: never a whole cell of their own. */
static const char *const stop_words[] = {
	"a",     "an",    "and",  "are", "as",      "at",   "be",  "by",  "for",
	"from",  "has",   "he",   "her", "his",     "in",   "is",  "it",  "its",
	"of",    "on",    "or",   "she", "that",    "the",  "to",  "was", "were",
	"will",  "with",  "mr",   "mrs", "ms",      "miss", "dr",  "jr",  "sr",
	"na",    "none",  "null", "nil", "unknown", "test", "yes", "no",  "true",
	"false", "other", "n",    "a",   "tbd",     "nan",  NULL,
};

/* is_stop - a one-word cell that is a stop word */
static int is_stop(const char *norm, const struct det_list *extra)
{
	for (size_t i = 0; stop_words[i]; i++)
		if (strcmp(norm, stop_words[i]) == 0)
			return 1;
	for (size_t i = 0; i < extra->count; i++)
		if (strcmp(norm, extra->items[i]) == 0)
			return 1;
	return 0;
}

/* utf8_chars - characters of a normalised text, spaces not counted */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char) *s & 0xc0) != 0x80 && *s != ' ';
	return n;
}

/* guess_type - a column's type from a sample of its cells */
static void guess_type(struct column *c, const char *const *cells, size_t n)
{
	size_t email = 0, date = 0, digits = 0, filled = 0, dmy = 0, mdy = 0;
	char out[FP_CELL_MAX];

	for (size_t i = 0; i < n; i++) {
		const char *v = cells[i];
		size_t len = strlen(v), d = 0, other = 0;
		int a, b;

		while (len && isspace((unsigned char) v[len - 1]))
			len--;
		if (len == 0)
			continue;
		filled++;
		email += detector_fp_norm_email(v, len, out, sizeof(out)) > 0;
		if (detector_fp_date(v, len, 0, out) || detector_fp_date(v, len, 1, out)) {
			date++;
			if (sscanf(v, "%d%*[/.-]%d", &a, &b) == 2 && a <= 31 && b <= 31) {
				dmy += a > 12;
				mdy += b > 12;
			}
		}
		for (size_t k = 0; k < len; k++) {
			if (isdigit((unsigned char) v[k]))
				d++;
			else if (!strchr(" -./()+", v[k]))
				other++;
		}
		digits += d >= 4 && other == 0;
	}
	c->dmy = dmy > mdy;
	if (filled == 0 || c->typed)
		return;
	if (email * 10 >= filled * 9)
		c->type = FP_EMAIL;
	else if (date * 10 >= filled * 9)
		c->type = FP_DATE;
	else if (digits * 10 >= filled * 9)
		c->type = FP_DIGITS;
	else
		c->type = FP_TEXT;
}

/* EDM build state. */
struct edm_build {
	struct column col[FP_MAX_COLUMNS];
	size_t ncol;
	struct entry *e;
	size_t n, cap;
	struct edm_stats st;
	unsigned min_chars, min_digits;
	unsigned span_mask, dmin, dmax;
	struct det_list stop;
};

/* cell - normalise one cell and keep its value; or count why not */
static void cell(struct edm_build *b, uint32_t row, uint32_t ci, const char *v)
{
	struct column *c = &b->col[ci];
	char norm[FP_CELL_MAX];
	size_t n = 0, words = 0, len = strlen(v);
	uint64_t fp;

	while (len && isspace((unsigned char) v[len - 1]))
		len--;
	while (len && isspace((unsigned char) *v)) {
		v++;
		len--;
	}
	if (len == 0) {
		b->st.empty++;
		return;
	}
	switch (c->type) {
	case FP_TEXT:
		n = detector_fp_norm_text(v, len, norm, sizeof(norm), &words);
		if (n == 0 && len < FP_CELL_MAX) {
			b->st.empty++; /* punctuation only */
			return;
		}
		if (n == 0 || words > FP_SPAN_MAX) {
			b->st.bad++;
			return;
		}
		if (utf8_chars(norm) < b->min_chars) {
			b->st.shortv++;
			return;
		}
		if (words == 1 && is_stop(norm, &b->stop)) {
			b->st.stop++;
			return;
		}
		b->span_mask |= 1u << (words - 1);
		break;
	case FP_DIGITS:
		if ((n = detector_fp_norm_digits(v, len, norm, sizeof(norm))) == 0) {
			b->st.bad++;
			return;
		}
		if (n < b->min_digits) {
			b->st.shortv++;
			return;
		}
		b->dmin = n < b->dmin ? (unsigned) n : b->dmin;
		b->dmax = n > b->dmax ? (unsigned) n : b->dmax;
		break;
	case FP_EMAIL:
		if ((n = detector_fp_norm_email(v, len, norm, sizeof(norm))) == 0) {
			b->st.bad++;
			return;
		}
		break;
	case FP_DATE:
		if (!detector_fp_date(v, len, c->dmy, norm)) {
			b->st.bad++;
			return;
		}
		n = 8;
		break;
	default:
		return;
	}
	if (detector_fp_value(c->type, norm, n, &fp) < 0) {
		b->st.bad++;
		return;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1 << 16;
		b->e = xrealloc(b->e, b->cap * sizeof(*b->e));
	}
	b->e[b->n].fp = fp;
	b->e[b->n].check = detector_fp_check(c->type, norm, n);
	b->e[b->n].post = row << 5 | ci;
	b->n++;
	c->cells++;
	b->st.cells++;
}

/* read_whole - a file's bytes (mapped); NULL with errno */
static const char *read_whole(const char *path, size_t *len, size_t max)
{
	struct stat st;
	void *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t) st.st_size > max) {
		close(fd);
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		return NULL;
	}
	*len = (size_t) st.st_size;
	if (*len == 0) {
		close(fd);
		return "";
	}
	map = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	return map == MAP_FAILED ? NULL : map;
}

/* parse_types - -t column=type options */
static void parse_types(struct edm_build *b, const struct det_list *types)
{
	for (size_t i = 0; i < types->count; i++) {
		char name[128], *eq;
		struct column tmp;
		size_t c;

		strlcpy(name, types->items[i], sizeof(name));
		if ((eq = strchr(name, '=')) == NULL)
			msg_fatal("-t %s: expected column=type", types->items[i]);
		*eq = 0;
		memset(&tmp, 0, sizeof(tmp));
		column_name(name, &tmp);
		for (c = 0; c < b->ncol; c++)
			if (strcmp(b->col[c].name, tmp.name) == 0)
				break;
		if (c == b->ncol)
			msg_fatal("-t %s: no column \"%s\" in the header", types->items[i],
				  tmp.name);
		if (strcmp(eq + 1, "skip") == 0)
			b->col[c].skip = 1;
		else if (detector_fp_type_parse(eq + 1, &b->col[c].type) == 0)
			b->col[c].typed = 1;
		else
			msg_fatal("-t %s: type is text, name, digits, email, date or skip",
				  types->items[i]);
	}
}

/* edm_header - the columns, their types guessed from the first rows */
static void edm_header(struct edm_build *b, struct csv *c, const struct det_list *types)
{
	struct buf rec;
	size_t off[FP_MAX_COLUMNS + 1], nf;
	unsigned long line;
	char err[256];
	char **sample[FP_MAX_COLUMNS];
	size_t ns = 0;
	struct csv peek;

	buf_init(&rec, 1024);
	int rc = csv_record(c, &rec, off, &nf, FP_MAX_COLUMNS, &line, err, sizeof(err));

	if (rc < 0)
		msg_fatal("%s:%s", c->file, err);
	if (rc == 0)
		msg_fatal("%s: no header row (the first row names the columns)", c->file);
	b->ncol = nf;
	for (size_t i = 0; i < nf; i++) {
		column_name(rec.data + off[i], &b->col[i]);
		if (b->col[i].name[0] == 0)
			msg_fatal("header: column %zu has no name", i + 1);
		for (size_t k = 0; k < i; k++)
			if (strcmp(b->col[k].name, b->col[i].name) == 0)
				msg_fatal("header: two columns named \"%s\"", b->col[i].name);
	}
	parse_types(b, types);
	/* guess the types of the others from the first rows */
	for (size_t i = 0; i < nf; i++)
		sample[i] = xcalloc(SAMPLE_ROWS, sizeof(char *));
	peek = *c;
	while (ns < SAMPLE_ROWS
	       && csv_record(&peek, &rec, off, &nf, FP_MAX_COLUMNS, &line, err, sizeof(err))
		       > 0) {
		if (nf != b->ncol)
			continue;
		for (size_t i = 0; i < nf; i++)
			sample[i][ns] = xstrdup(rec.data + off[i]);
		ns++;
	}
	for (size_t i = 0; i < b->ncol; i++) {
		guess_type(&b->col[i], (const char *const *) sample[i], ns);
		for (size_t k = 0; k < ns; k++)
			free(sample[i][k]);
		free(sample[i]);
	}
	buf_free(&rec);
}

/* read_stop_words - one word a line */
static void read_stop_words(const char *path, struct det_list *out)
{
	FILE *fp = fopen(path, "r");
	char line[256], norm[FP_CELL_MAX];
	size_t words;

	if (fp == NULL)
		msg_fatal("%s: %m", path);
	while (fgets(line, sizeof(line), fp))
		if (detector_fp_norm_text(line, strlen(line), norm, sizeof(norm), &words) > 0)
			detector_list_add(out, norm);
	fclose(fp);
}

/* edm_write - the index image */
static void edm_write(const char *name, struct edm_build *b, uint32_t rows, uint32_t values,
		      const struct table *t, uint32_t common_rows)
{
	size_t cols_off = align8(sizeof(struct edm_head));
	size_t slots_off = align8(cols_off + b->ncol * sizeof(struct edm_col));
	size_t post_off = align8(slots_off + (size_t) t->slots * sizeof(struct fp_slot3));
	size_t bloom_off = align8(post_off + t->npost * 4);
	size_t len = bloom_off + (8ULL << t->bloom_log2);
	unsigned char *img = xcalloc(1, len);
	struct edm_head *h = (struct edm_head *) img;
	struct edm_col *cols = (struct edm_col *) (img + cols_off);

	head_init(&h->h, FP_EDM_MAGIC, sizeof(*h), name);
	h->h.file_size = len;
	h->rows = rows;
	h->cols = (uint32_t) b->ncol;
	h->values = values;
	h->slots = t->slots;
	h->bloom_log2 = t->bloom_log2;
	h->span_mask = b->span_mask;
	h->min_digits = b->dmin == UINT32_MAX ? 0 : b->dmin;
	h->max_digits = b->dmax;
	h->max_probe = t->max_probe;
	h->common_rows = common_rows;
	h->postings = t->npost;
	h->cells = b->st.cells;
	h->left_empty = b->st.empty;
	h->left_short = b->st.shortv;
	h->left_common = b->st.common;
	h->left_stop = b->st.stop;
	h->left_bad = b->st.bad;
	h->cols_off = cols_off;
	h->slots_off = slots_off;
	h->post_off = post_off;
	h->bloom_off = bloom_off;
	for (size_t i = 0; i < b->ncol; i++) {
		strlcpy(cols[i].name, b->col[i].name, sizeof(cols[i].name));
		cols[i].type = b->col[i].type;
		cols[i].dmy = (uint32_t) b->col[i].dmy;
		cols[i].cells = b->col[i].skip ? 0 : b->col[i].cells;
		if (!b->col[i].skip)
			h->types |= 1u << b->col[i].type;
	}
	memcpy(img + slots_off, t->slot, (size_t) t->slots * sizeof(struct fp_slot3));
	memcpy(img + post_off, t->post, t->npost * 4);
	memcpy(img + bloom_off, t->bloom, 8ULL << t->bloom_log2);
	write_index(name, FP_EDM, img, len);
	free(img);
}

/* cmd_edm - dlpindex edm */
static int cmd_edm(const char *name, const char *file, const struct det_list *types, char delim,
		   double share, unsigned min_chars, unsigned min_digits, const char *stopfile)
{
	struct edm_build b;
	struct csv c;
	struct buf rec;
	struct table t;
	size_t len, off[FP_MAX_COLUMNS + 1], nf;
	unsigned long line, bad;
	uint32_t rows = 0, values = 0, common_rows;
	const char *data;
	double t0 = now(), t1;
	char err[256];

	memset(&b, 0, sizeof(b));
	b.min_chars = min_chars;
	b.min_digits = min_digits;
	b.dmin = UINT32_MAX;
	if (stopfile)
		read_stop_words(stopfile, &b.stop);
	if ((data = read_whole(file, &len, CSV_MAX_SIZE)) == NULL)
		msg_fatal("%s: %m", file);
	if ((bad = utf8_bad_line((const unsigned char *) data, len)) != 0)
		msg_fatal("%s:%lu: not UTF-8 text (convert it first, e.g. iconv -f "
			  "WINDOWS-1252 -t UTF-8)",
			  file, bad);
	c.file = file;
	c.p = data;
	c.end = data + len;
	c.line = 1;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		c.p += 3; /* a byte order mark */
	c.delim = delim ? delim
		: strlen(file) > 4 && strcasecmp(file + strlen(file) - 4, ".tsv") == 0
		? '\t'
		: detect_delim(c.p, c.end);
	key_ready();
	edm_header(&b, &c, types);
	buf_init(&rec, 1024);
	for (;;) {
		int rc =
			csv_record(&c, &rec, off, &nf, FP_MAX_COLUMNS, &line, err, sizeof(err));

		if (rc == 0)
			break;
		if (rc < 0)
			msg_fatal("%s:%s", file, err);
		if (nf != b.ncol)
			msg_fatal("%s:%lu: %zu fields, the header names %zu", file, line, nf,
				  b.ncol);
		if (rows == FP_MAX_ROWS)
			msg_fatal("%s:%lu: more than %u rows", file, line, FP_MAX_ROWS);
		for (size_t i = 0; i < nf; i++)
			if (!b.col[i].skip)
				cell(&b, rows, (uint32_t) i, rec.data + off[i]);
		rows++;
	}
	buf_free(&rec);
	if (rows == 0)
		msg_fatal("%s: no rows below the header", file);
	/* values in too many rows identify nobody */
	common_rows = (uint32_t) ((double) rows * share / 100.0);
	if (common_rows < 10)
		common_rows = 10;
	qsort(b.e, b.n, sizeof(*b.e), entry_order);
	{
		size_t j = 0;

		for (size_t i = 0; i < b.n;) {
			size_t k = i + 1, nrows = 1;

			while (k < b.n && b.e[k].fp == b.e[i].fp) {
				nrows += (b.e[k].post >> 5) != (b.e[k - 1].post >> 5);
				k++;
			}
			if (nrows > common_rows) {
				b.st.common += k - i;
				b.st.cells -= k - i;
				for (size_t m = i; m < k; m++)
					b.col[b.e[m].post & 31].cells--;
			} else {
				memmove(b.e + j, b.e + i, (k - i) * sizeof(*b.e));
				j += k - i;
				values++;
			}
			i = k;
		}
		b.n = j;
	}
	if (values == 0)
		msg_fatal("%s: no cell left to index (all empty, short, common or stop words)",
			  file);
	memset(&t, 0, sizeof(t));
	table_build(&t, b.e, b.n, sizeof(struct fp_slot3), values, 1);
	edm_write(name, &b, rows, values, &t, common_rows);
	t1 = now();
	printf("index %s: %u rows, %zu columns, %u values, %llu cells indexed in %.1f s\n",
	       name, rows, b.ncol, values, (unsigned long long) b.st.cells, t1 - t0);
	for (size_t i = 0; i < b.ncol; i++)
		printf("  column %-20s %-6s %s%llu cells\n", b.col[i].name,
		       b.col[i].skip ? "skip" : detector_fp_type_name(b.col[i].type),
		       b.col[i].type == FP_DATE && !b.col[i].skip
			       ? (b.col[i].dmy ? "(day first) " : "(month first) ")
			       : "",
		       (unsigned long long) b.col[i].cells);
	printf("  left out: %llu empty, %llu short, %llu common (in more than %u rows), "
	       "%llu stop words, %llu not of their column's type\n",
	       (unsigned long long) b.st.empty, (unsigned long long) b.st.shortv,
	       (unsigned long long) b.st.common, common_rows, (unsigned long long) b.st.stop,
	       (unsigned long long) b.st.bad);
	printf("  size: %.1f MB, %.1f bytes a row\n",
	       (double) (align8(sizeof(struct edm_head)) + b.ncol * 64 + (size_t) t.slots * 12
			 + t.npost * 4 + (8ULL << t.bloom_log2))
		       / 1e6,
	       (double) ((size_t) t.slots * 12 + t.npost * 4 + (8ULL << t.bloom_log2)) / rows);
	table_free(&t);
	free(b.e);
	detector_list_free(&b.stop);
	if (len)
		munmap((void *) data, len);
	return 0;
}

/* ---- IDM ----------------------------------------------------------------- */

/* One document being read. */
struct idm_text {
	struct fp_winnow wn;
	unsigned k, w;
	struct entry *e; /* its fingerprints (fp, doc) */
	size_t n, cap;
	uint64_t words;
	uint32_t doc;
};

/* idm_sink - a text unit of the document: its words, winnowed */
static void idm_sink(void *ctx, unsigned where, const char *data, size_t len)
{
	struct idm_text *it = ctx;
	struct fp_word w[256];
	uint64_t f[256], fp, at;
	size_t pos = 0, n;

	if (where == DET_W_ATTNAME)
		return; /* member names are not the text */
	detector_idm_winnow_init(&it->wn, it->k, it->w);
	while ((n = detector_fp_words(data, len, &pos, w, 256)) > 0) {
		detector_fp_words_seal(w, n, f);
		for (size_t i = 0; i < n; i++)
			if (detector_idm_winnow(&it->wn, f[i], &fp, &at)) {
				if (it->n == it->cap) {
					it->cap = it->cap ? it->cap * 2 : 1024;
					it->e = xrealloc(it->e, it->cap * sizeof(*it->e));
				}
				it->e[it->n].fp = fp;
				it->e[it->n].check = 0;
				it->e[it->n++].post = it->doc;
			}
		it->words += n;
	}
	if (detector_idm_winnow_end(&it->wn, &fp, &at)) {
		if (it->n == it->cap) {
			it->cap = it->cap ? it->cap * 2 : 1024;
			it->e = xrealloc(it->e, it->cap * sizeof(*it->e));
		}
		it->e[it->n].fp = fp;
		it->e[it->n].check = 0;
		it->e[it->n++].post = it->doc;
	}
}

/* content_type - what a file's name says it is, for the extractors */
static const char *content_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (dot && (strcasecmp(dot, ".html") == 0 || strcasecmp(dot, ".htm") == 0))
		return "text/html";
	if (dot
	    && (strcasecmp(dot, ".txt") == 0 || strcasecmp(dot, ".text") == 0
		|| strcasecmp(dot, ".md") == 0 || strcasecmp(dot, ".csv") == 0))
		return "text/plain";
	return "application/octet-stream";
}

/* A document of the index. */
struct idm_docb {
	char *name;
	uint64_t size;
	unsigned char mac[16];
	uint32_t fps, words;
	int text;
};

/* IDM build state. */
struct idm_build {
	unsigned k, w;
	struct idm_docb *docs;
	size_t ndocs;
	struct entry *e;
	size_t n, cap;
	struct det_policyset ps; /* empty: the extractors need one */
	int templates;           /* reading templates: keep no document */
	struct entry *tpl;
	size_t ntpl;
	unsigned unreadable;
};

/* write_all - all of a buffer to a descriptor; -1 on error */
static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t) w;
	}
	return 0;
}

/* read_all - exactly n bytes before the deadline (ms); -1 if not */
static int read_all(int fd, void *p, size_t n, double deadline)
{
	char *c = p;

	while (n > 0) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		double left = deadline - now();
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, (int) (left * 1000) + 1) <= 0)
			return -1;
		if ((r = read(fd, c, n)) < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t) r;
	}
	return 0;
}

/* What a reader child sends back before its fingerprints. */
struct text_head {
	uint64_t words, n;
	char why[sizeof(((struct det_scan *) 0)->incomplete_why)];
};

/* text_child - in the reader child: the text's fingerprints, down the pipe */
static void text_child(struct idm_build *b, const char *path, const char *data, size_t len,
		       struct idm_text *it, int fd)
{
	struct det_scan sc;
	struct text_head th;
	struct rlimit r;
	const char *sniffed = len ? detector_sniff(data, len) : "empty";
	uint64_t *fp;
	char key[24];

	(void) prctl(PR_SET_PDEATHSIG, SIGKILL);
	r.rlim_cur = r.rlim_max = 0;
	(void) setrlimit(RLIMIT_CORE, &r);
	r.rlim_cur = r.rlim_max = (rlim_t) var_detector_timeout + 1;
	(void) setrlimit(RLIMIT_CPU, &r);
	if (detector_scan_init(&sc, &b->ps, len, var_detector_timeout * 1000) < 0)
		_exit(1);
	sc.confined = 1; /* this process is the confinement */
	sc.sink = idm_sink;
	sc.sink_ctx = it;
	/* pictures and programs have no text: their bytes are not words */
	snprintf(key, sizeof(key), " %s ", sniffed);
	if (strstr(" png jpeg gif exe elf ", key) == NULL)
		detector_content_scan(&sc, data, len, content_type(path), "", DET_W_ATTACH, 0,
				      sniffed);
	memset(&th, 0, sizeof(th));
	th.words = it->words;
	th.n = it->n;
	if (sc.incomplete)
		memcpy(th.why, sc.incomplete_why, sizeof(th.why));
	fp = xcalloc(it->n + 1, sizeof(uint64_t));
	for (size_t i = 0; i < it->n; i++)
		fp[i] = it->e[i].fp;
	if (write_all(fd, &th, sizeof(th)) < 0
	    || write_all(fd, fp, it->n * sizeof(uint64_t)) < 0)
		_exit(1);
	_exit(0);
}

/*
 * read_text - a file's fingerprints through the detector's extractors. The
 * readers run in a child (under CPU and time limits, no core) that sends
 * the fingerprints back: a document that crashes a reader or loops costs
 * its text, never the index.
 */
static void read_text(struct idm_build *b, const char *path, const char *data, size_t len,
		      struct idm_text *it)
{
	struct text_head th;
	double deadline = now() + var_detector_timeout + 5;
	uint64_t *fp = NULL;
	int p[2], status = 0, ok = 0;
	pid_t pid;

	memset(it, 0, sizeof(*it));
	it->k = b->k;
	it->w = b->w;
	it->doc = (uint32_t) b->ndocs;
	fflush(stdout);
	fflush(stderr);
	if (pipe(p) < 0 || (pid = fork()) < 0)
		msg_fatal("cannot start a reader: %m");
	if (pid == 0) {
		close(p[0]);
		text_child(b, path, data, len, it, p[1]);
	}
	close(p[1]);
	if (read_all(p[0], &th, sizeof(th), deadline) == 0 && th.n <= th.words + 1
	    && th.n < (1u << 26)) {
		fp = xcalloc(th.n + 1, sizeof(uint64_t));
		ok = read_all(p[0], fp, th.n * sizeof(uint64_t), deadline) == 0;
	}
	close(p[0]);
	if (!ok)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		/* void */;
	if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "dlpindex: %s: its text could not be read (%s)\n", path,
			WIFSIGNALED(status) ? strsignal(WTERMSIG(status))
					    : "the reader failed");
		free(fp);
		return;
	}
	th.why[sizeof(th.why) - 1] = 0;
	if (th.why[0])
		fprintf(stderr, "dlpindex: %s: not read completely (%s)\n", path, th.why);
	it->words = th.words;
	it->n = it->cap = th.n;
	it->e = xcalloc(th.n + 1, sizeof(*it->e));
	for (size_t i = 0; i < th.n; i++) {
		it->e[i].fp = fp[i];
		it->e[i].post = it->doc;
	}
	free(fp);
}

/* add_doc - one file: its keyed SHA-256 and, as a document, its fingerprints */
static void add_doc(struct idm_build *b, const char *path, const char *name)
{
	struct idm_text it;
	struct idm_docb *d;
	unsigned char sha[32], mac[32];
	unsigned int n = 0;
	size_t len;
	const char *data = read_whole(path, &len, DOC_MAX_SIZE);

	if (data == NULL) {
		fprintf(stderr, "dlpindex: %s: %s (left out)\n", path, strerror(errno));
		return;
	}
	if (b->ndocs >= IDM_MAX_DOCS)
		msg_fatal("more than %d documents", IDM_MAX_DOCS);
	read_text(b, path, data, len, &it);
	if (b->templates) {
		b->tpl = xrealloc(b->tpl, (b->ntpl + it.n + 1) * sizeof(*b->tpl));
		memcpy(b->tpl + b->ntpl, it.e, it.n * sizeof(*it.e));
		b->ntpl += it.n;
		printf("template %s: %llu words, %zu fingerprints left out of the documents\n",
		       name, (unsigned long long) it.words, it.n);
		free(it.e);
		if (len)
			munmap((void *) data, len);
		return;
	}
	if (EVP_Digest(data, len, sha, &n, EVP_sha256(), NULL) != 1)
		msg_fatal("SHA-256 failed");
	detector_fp_mac(sha, sizeof(sha), mac);
	b->docs = xrealloc(b->docs, (b->ndocs + 1) * sizeof(*b->docs));
	d = &b->docs[b->ndocs++];
	memset(d, 0, sizeof(*d));
	d->name = xstrdup(name);
	for (char *cp = d->name; *cp; cp++)
		if ((unsigned char) *cp < 0x20 || *cp == 0x7f)
			*cp = '?';
	d->size = len;
	memcpy(d->mac, mac, sizeof(d->mac));
	d->words = it.words > UINT32_MAX ? UINT32_MAX : (uint32_t) it.words;
	d->text = it.words > 0;
	if (!d->text)
		b->unreadable++;
	/* distinct fingerprints of the document */
	qsort(it.e, it.n, sizeof(*it.e), entry_order);
	for (size_t i = 0; i < it.n; i++) {
		if (i && it.e[i].fp == it.e[i - 1].fp)
			continue;
		if (b->n == b->cap) {
			b->cap = b->cap ? b->cap * 2 : 1 << 14;
			b->e = xrealloc(b->e, b->cap * sizeof(*b->e));
		}
		b->e[b->n++] = it.e[i];
		d->fps++;
	}
	printf("  %s: %llu words, %u fingerprints%s\n", d->name, (unsigned long long) it.words,
	       d->fps, d->text ? "" : " (no text read: the same file only)");
	free(it.e);
	if (len)
		munmap((void *) data, len);
}

/* name_order - directory entries in a stable order */
static int name_order(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* walk - every regular file under a path */
static void walk(struct idm_build *b, const char *path, const char *name, int depth)
{
	struct stat st;
	DIR *dir;
	struct dirent *de;
	char **list = NULL;
	size_t n = 0;

	if (lstat(path, &st) < 0) {
		fprintf(stderr, "dlpindex: %s: %s (left out)\n", path, strerror(errno));
		return;
	}
	if (S_ISREG(st.st_mode)) {
		add_doc(b, path, name);
		return;
	}
	if (!S_ISDIR(st.st_mode) || depth > IDM_DEPTH_MAX)
		return;
	if ((dir = opendir(path)) == NULL) {
		fprintf(stderr, "dlpindex: %s: %s (left out)\n", path, strerror(errno));
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		list = xrealloc(list, (n + 1) * sizeof(char *));
		list[n++] = xstrdup(de->d_name);
	}
	closedir(dir);
	if (n)
		qsort(list, n, sizeof(char *), name_order);
	for (size_t i = 0; i < n; i++) {
		char *sub = xasprintf("%s/%s", path, list[i]);
		char *subname = *name ? xasprintf("%s/%s", name, list[i]) : xstrdup(list[i]);

		walk(b, sub, subname, depth + 1);
		free(sub);
		free(subname);
		free(list[i]);
	}
	free(list);
}

/* arg_name - how a file given on the command line is named in the index */
static const char *arg_name(const char *path, int *dir)
{
	struct stat st;
	const char *slash = strrchr(path, '/');

	*dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	if (*dir)
		return "";
	return slash ? slash + 1 : path;
}

/* file_order - by size, then keyed hash */
static int file_order(const void *a, const void *b)
{
	const struct idm_file *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return memcmp(x->mac, y->mac, sizeof(x->mac));
}

/* idm_write - the index image */
static void idm_write(const char *name, const struct idm_build *b, const struct table *t,
		      uint64_t fps, uint64_t excluded)
{
	size_t names_len = 0;
	size_t docs_off, names_off, slots_off, post_off, files_off, bloom_off, len, at;
	unsigned char *img;
	struct idm_head *h;
	struct idm_doc *docs;
	struct idm_file *files;

	for (size_t i = 0; i < b->ndocs; i++)
		names_len += strlen(b->docs[i].name);
	docs_off = align8(sizeof(struct idm_head));
	names_off = align8(docs_off + b->ndocs * sizeof(struct idm_doc));
	slots_off = align8(names_off + names_len);
	post_off = align8(slots_off + (size_t) t->slots * sizeof(struct fp_slot2));
	files_off = align8(post_off + t->npost * 4);
	bloom_off = align8(files_off + b->ndocs * sizeof(struct idm_file));
	len = bloom_off + (8ULL << t->bloom_log2);
	img = xcalloc(1, len);
	h = (struct idm_head *) img;
	head_init(&h->h, FP_IDM_MAGIC, sizeof(*h), name);
	h->h.file_size = len;
	h->k = b->k;
	h->w = b->w;
	h->docs = (uint32_t) b->ndocs;
	h->slots = t->slots;
	h->bloom_log2 = t->bloom_log2;
	h->max_probe = t->max_probe;
	h->files = (uint32_t) b->ndocs;
	h->fps = fps;
	h->postings = t->npost;
	h->names_len = names_len;
	h->excluded = excluded;
	h->docs_off = docs_off;
	h->names_off = names_off;
	h->slots_off = slots_off;
	h->post_off = post_off;
	h->files_off = files_off;
	h->bloom_off = bloom_off;
	docs = (struct idm_doc *) (img + docs_off);
	files = (struct idm_file *) (img + files_off);
	at = 0;
	for (size_t i = 0; i < b->ndocs; i++) {
		size_t nl = strlen(b->docs[i].name);

		docs[i].name_off = at;
		docs[i].name_len = (uint32_t) nl;
		docs[i].fps = b->docs[i].fps;
		docs[i].size = b->docs[i].size;
		docs[i].words = b->docs[i].words;
		docs[i].flags = b->docs[i].text ? IDM_DOC_TEXT : 0;
		memcpy(img + names_off + at, b->docs[i].name, nl);
		at += nl;
		files[i].size = b->docs[i].size;
		memcpy(files[i].mac, b->docs[i].mac, sizeof(files[i].mac));
		files[i].doc = (uint32_t) i;
	}
	qsort(files, b->ndocs, sizeof(*files), file_order);
	memcpy(img + slots_off, t->slot, (size_t) t->slots * sizeof(struct fp_slot2));
	memcpy(img + post_off, t->post, t->npost * 4);
	memcpy(img + bloom_off, t->bloom, 8ULL << t->bloom_log2);
	write_index(name, FP_IDM, img, len);
	free(img);
}

/* in_templates - is a fingerprint one of the templates'? (sorted) */
static int in_templates(const struct idm_build *b, uint64_t fp)
{
	size_t lo = 0, hi = b->ntpl;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (b->tpl[mid].fp < fp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->ntpl && b->tpl[lo].fp == fp;
}

/* cmd_idm - dlpindex idm */
static int cmd_idm(const char *name, unsigned k, unsigned w, const struct det_list *tpl,
		   char **paths, int npaths)
{
	struct idm_build b;
	struct table t;
	uint32_t fps = 0;
	uint64_t excluded = 0;
	double t0 = now();
	int dir;

	memset(&b, 0, sizeof(b));
	b.k = k;
	b.w = w;
	key_ready();
	b.templates = 1;
	for (size_t i = 0; i < tpl->count; i++) {
		const char *nm = arg_name(tpl->items[i], &dir);

		walk(&b, tpl->items[i], nm, 0);
	}
	b.templates = 0;
	if (b.ntpl)
		qsort(b.tpl, b.ntpl, sizeof(*b.tpl), entry_order);
	for (int i = 0; i < npaths; i++) {
		const char *nm = arg_name(paths[i], &dir);

		walk(&b, paths[i], nm, 0);
	}
	if (b.ndocs == 0)
		msg_fatal("no documents to index");
	/* template fingerprints go; every document counts only what is left */
	if (b.ntpl) {
		size_t j = 0;

		for (size_t i = 0; i < b.n; i++) {
			if (in_templates(&b, b.e[i].fp)) {
				b.docs[b.e[i].post].fps--;
				excluded++;
				continue;
			}
			b.e[j++] = b.e[i];
		}
		b.n = j;
	}
	qsort(b.e, b.n, sizeof(*b.e), entry_order);
	for (size_t i = 0; i < b.n; i++)
		fps += i == 0 || b.e[i].fp != b.e[i - 1].fp;
	memset(&t, 0, sizeof(t));
	table_build(&t, b.e, b.n, sizeof(struct fp_slot2), fps ? fps : 1, 0);
	idm_write(name, &b, &t, fps, excluded);
	printf("index %s: %zu documents (%u without readable text), %u fingerprints "
	       "(k = %u words, window %u: every shared run of %u words is found), "
	       "%llu template fingerprints left out, in %.1f s\n",
	       name, b.ndocs, b.unreadable, fps, k, w, k + w - 1, (unsigned long long) excluded,
	       now() - t0);
	table_free(&t);
	for (size_t i = 0; i < b.ndocs; i++)
		free(b.docs[i].name);
	free(b.docs);
	free(b.e);
	free(b.tpl);
	return 0;
}

/* ---- list, check --------------------------------------------------------- */

/* describe - one line about an index */
static void describe(const struct det_fpindex *x)
{
	char when[32];
	time_t t = (time_t) ((const struct fp_head *) x->map)->created;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", localtime(&t));
	if (x->kind == FP_EDM)
		printf("%s.edm: %u rows, %u columns, %u values, %.1f MB, made %s\n", x->name,
		       x->edm->rows, x->edm->cols, x->edm->values, (double) x->size / 1e6,
		       when);
	else
		printf("%s.idm: %u documents, %llu fingerprints (k %u, window %u), %.1f MB, "
		       "made %s\n",
		       x->name, x->idm->docs, (unsigned long long) x->idm->fps, x->idm->k,
		       x->idm->w, (double) x->size / 1e6, when);
}

/* cmd_check - read indexes whole, as a detector does */
static int cmd_check(char **names, int n)
{
	int rc = 0;
	char path[PATH_MAX], err[512];

	detector_fp_key_path(confdir, path, sizeof(path));
	if (detector_fp_key_load(path, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	for (int i = 0; i < n; i++) {
		struct det_fpindex *x = NULL;
		double t0 = now();

		for (int kind = FP_EDM; kind <= FP_IDM && x == NULL; kind++)
			x = detector_fpindex_open(confdir, names[i], (enum fp_kind) kind,
						  FP_OPEN_SOURCE, err, sizeof(err));
		if (x == NULL) {
			fprintf(stderr, "dlpindex: %s: %s\n", names[i], err);
			rc = 1;
			continue;
		}
		printf("ok (loaded and checked in %.3f s) ", now() - t0);
		describe(x);
		detector_fpindex_close(x);
	}
	return rc;
}

/* cmd_list - the indexes of fingerprint_directory */
static int cmd_list(void)
{
	char dir[PATH_MAX], path[PATH_MAX], err[512];
	DIR *d;
	struct dirent *de;
	int rc = 0;

	detector_fp_dir(confdir, dir, sizeof(dir));
	detector_fp_key_path(confdir, path, sizeof(path));
	if (detector_fp_key_load(path, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	if ((d = opendir(dir)) == NULL)
		msg_fatal("%s: %m", dir);
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);
		struct det_fpindex x;
		enum fp_kind kind;

		if (nl < 5
		    || (strcmp(de->d_name + nl - 4, ".edm")
			&& strcmp(de->d_name + nl - 4, ".idm")))
			continue;
		kind = strcmp(de->d_name + nl - 4, ".edm") == 0 ? FP_EDM : FP_IDM;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		memset(&x, 0, sizeof(x));
		if (detector_fpindex_check_file(path, kind, 0, &x, err, sizeof(err)) < 0) {
			printf("%s: %s\n", de->d_name, err);
			rc = 1;
			continue;
		}
		describe(&x);
		munmap((void *) x.map, x.size);
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	char **overrides = xcalloc((size_t) argc + 1, sizeof(char *));
	size_t noverride = 0;
	struct det_list types = {0}, tpl = {0};
	const char *cmd, *name = NULL, *stopfile = NULL;
	char err[CONF_ERR_MAX], delim = 0;
	double share = 1.0;
	unsigned min_chars = 3, min_digits = 6, k = 5, w = 6;
	int ch, rc;

	msg_open("dlpindex", MSG_TO_STDERR, LOG_MAIL);
	if (argc < 2 || argv[1][0] == '-')
		usage();
	cmd = argv[1];
	optind = 2;
	while ((ch = getopt(argc, argv, "c:o:n:t:d:s:m:D:w:k:W:x:")) != -1) {
		switch (ch) {
		case 'c':
			confdir = optarg;
			break;
		case 'o':
			overrides[noverride++] = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 't':
			detector_list_add(&types, optarg);
			break;
		case 'd':
			delim = strcmp(optarg, "tab") == 0 || strcmp(optarg, "\\t") == 0
				? '\t'
				: optarg[0];
			if (!delim || (optarg[1] && delim != '\t') || strchr("\"\r\n", delim))
				usage();
			break;
		case 's':
			if ((share = atof(optarg)) <= 0 || share > 100)
				usage();
			break;
		case 'm':
			min_chars = (unsigned) atoi(optarg);
			break;
		case 'D':
			if ((min_digits = (unsigned) atoi(optarg)) < 1
			    || min_digits > FP_DIGITS_MAX)
				usage();
			break;
		case 'w':
			stopfile = optarg;
			break;
		case 'k':
			if ((k = (unsigned) atoi(optarg)) < 1 || k > FP_IDM_K_MAX)
				usage();
			break;
		case 'W':
			if ((w = (unsigned) atoi(optarg)) < 1 || w > FP_IDM_W_MAX)
				usage();
			break;
		case 'x':
			detector_list_add(&tpl, optarg);
			break;
		default:
			usage();
		}
	}
	rc = conf_load(confdir, overrides, noverride, err, sizeof(err));
	free(overrides);
	if (rc < 0)
		msg_fatal("%s", err);
	msg_set_level(MSG_WARN);
	owner_setup();
	if (strcmp(cmd, "edm") == 0 || strcmp(cmd, "idm") == 0) {
		if (name == NULL || !detector_fp_name_ok(name)) {
			fprintf(stderr,
				"dlpindex: -n name is required: letters, digits, '_', '.' "
				"and '-', up to %d\n",
				FP_NAME_MAX);
			usage();
		}
		if (strcmp(cmd, "edm") == 0) {
			if (argc - optind != 1)
				usage();
			rc = cmd_edm(name, argv[optind], &types, delim, share, min_chars,
				     min_digits, stopfile);
		} else {
			if (argc - optind < 1)
				usage();
			rc = cmd_idm(name, k, w, &tpl, argv + optind, argc - optind);
		}
	} else if (strcmp(cmd, "list") == 0) {
		rc = cmd_list();
	} else if (strcmp(cmd, "check") == 0) {
		if (argc - optind < 1)
			usage();
		rc = cmd_check(argv + optind, argc - optind);
	} else
		usage();
	detector_list_free(&types);
	detector_list_free(&tpl);
	return rc;
}
