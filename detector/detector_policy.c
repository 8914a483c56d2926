/*
 * detector_policy - policies.conf: loading, checking, the last good copy
 *
 * detector_policy_load() reads a policy file (libconfig) and every keyword
 * file it names, checks every field, and compiles all keywords, phrases,
 * regular expressions and identifier candidates of all enabled policies
 * into one Hyperscan database. It is all or nothing: any error gives NULL
 * and "file:line: reason".
 *
 * detector_policy_startup() is what a detector runs when it starts. The
 * children of one master generation all run the same policies: the first
 * to start reads policy_file and leaves a self-contained copy (keyword
 * files inlined) in run_directory/detector/policies.good, tagged with the
 * generation; its siblings load that copy. When policy_file has an error,
 * the error is logged with file:line and the last good copy runs instead
 * (logged too). Only when there is no good copy at all does the detector
 * refuse to start, so the workers apply detector_failure.
 *
 * detector_policy_check() is the `dlpscan -t` (and `dlpgate check`) test.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wctype.h>

#include <bsd/string.h>
#include <libconfig.h>

#include "conf.h"
#include "conf_params.h"
#include "evt.h"
#include "file_replace.h"
#include "mem.h"
#include "msg.h"
#include "server.h"
#include "detector.h"
#include "detector_fp.h"

#define POLICY_STATE_DIR "detector"
#define POLICY_GOOD      "policies.good"
#define POLICY_GEN       "policies.gen"
#define KEYWORD_FILE_MAX (16 * 1024 * 1024)

/* Load state: the file being read and where errors go. */
struct load {
	const char *path;
	const char *dir; /* for relative keyword files */
	struct det_policyset *ps;
	char *err;
	size_t errlen;
	struct buf expr; /* Hyperscan expressions, NUL-separated */
	size_t *expr_off;
	unsigned *flags;
	size_t cap;
	int *pat_line; /* the line of each pattern, for errors */
	locale_t utf8;
	int external_line;        /* first external rule, for a warning */
	const char *confdir;      /* fingerprint_directory and key are relative to it */
	enum fp_open_mode fpmode; /* how fingerprint indexes are opened */
};

/* load_error - "file:line: ..." */
static int __attribute__((format(printf, 3, 4)))
load_error(struct load *ld, const config_setting_t *s, const char *fmt, ...)
{
	char why[CONF_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(ld->err, ld->errlen, "%s:%d: %s", ld->path,
		 s ? config_setting_source_line(s) : 0, why);
	return -1;
}

/* detector_list_add - append a copy */
void detector_list_add(struct det_list *l, const char *item)
{
	if ((l->count & (l->count - 1)) == 0)
		l->items = xrealloc(l->items, (l->count ? l->count * 2 : 1) * sizeof(char *));
	l->items[l->count++] = xstrdup(item);
}

/* detector_list_free - release a list */
void detector_list_free(struct det_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

/* detector_severity_name - a severity as written */
const char *detector_severity_name(enum det_severity s)
{
	static const char *const n[] = {"info", "low", "medium", "high"};

	return s <= SEV_HIGH ? n[s] : "unknown";
}

/* detector_action_name - an action as written */
const char *detector_action_name(enum det_action a)
{
	static const char *const n[] = {"pass", "modify", "redirect", "block"};

	return a <= ACT_BLOCK ? n[a] : "unknown";
}

/* detector_addr_bare - "<User@Example.COM>" -> "user@example.com" */
char *detector_addr_bare(const char *addr, char *buf, size_t len)
{
	size_t j = 0;

	if (*addr == '<')
		addr++;
	for (; *addr && *addr != '>' && j + 1 < len; addr++)
		buf[j++] = (char) tolower((unsigned char) *addr);
	buf[j] = 0;
	return buf;
}

/* domain_match - a domain, or one of its subdomains, or a glob */
static int domain_match(const char *pattern, const char *domain)
{
	size_t pl, dl = strlen(domain);

	if (*pattern == '.')
		pattern++;
	pl = strlen(pattern);
	if (strpbrk(pattern, "*?["))
		return fnmatch(pattern, domain, FNM_CASEFOLD) == 0;
	if (strcasecmp(pattern, domain) == 0)
		return 1;
	return dl > pl && domain[dl - pl - 1] == '.'
		&& strcasecmp(domain + dl - pl, pattern) == 0;
}

/* addr_at - the '@' before the domain: the last one outside quotes, or NULL */
static const char *addr_at(const char *addr)
{
	const char *at = NULL;
	int quoted = 0;

	for (const char *p = addr; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (*p == '@' && !quoted)
			at = p;
	}
	return at;
}

/* addr_dequote - a local part as Postfix reads it: quotes and escapes gone */
static void addr_dequote(const char *local, size_t n, char *out, size_t len)
{
	size_t j = 0;

	for (size_t i = 0; i < n && j + 1 < len; i++) {
		if (local[i] == '"')
			continue;
		if (local[i] == '\\' && i + 1 < n)
			i++;
		out[j++] = local[i];
	}
	out[j] = 0;
}

/* detector_addr_routed - does an address say how to route it: a source
 * route (@a,@b:user@c), or a local part holding %, ! or an @ (quoted or
 * escaped)? Postfix's defaults (allow_percent_hack, swap_bangpath,
 * resolve_dequoted_address) send such mail on to the domain inside. */
int detector_addr_routed(const char *addr)
{
	const char *at = addr_at(addr);
	char local[SCAN_ADDR_MAX + 1];

	if (*addr == '@')
		return 1;
	addr_dequote(addr, at ? (size_t) (at - addr) : strlen(addr), local, sizeof(local));
	return strpbrk(local, "%!@") != NULL;
}

/* addr_routes - the addresses a bare address may be delivered to: itself,
 * and what source routes, the percent hack, bang paths and quoted @ make of
 * it, each step as Postfix would take it; how many */
static size_t addr_routes(const char *addr, char (*out)[SCAN_ADDR_MAX + 1], size_t max)
{
	size_t n = 1;

	snprintf(out[0], sizeof(out[0]), "%s", addr);
	for (size_t i = 0; i < n && n < max; i++) {
		const char *a = out[i], *at, *colon;
		char local[SCAN_ADDR_MAX + 1], *p;

		if (*a == '@' && (colon = strchr(a, ':')) != NULL) {
			/* @a,@b:user@c: to c, or by way of a and b */
			const char *rest = colon + 1, *rat = addr_at(rest);

			snprintf(out[n++], sizeof(out[0]), "%s", rest);
			for (const char *d = a; d && d < colon && n < max;
			     d = strchr(d + 1, '@'))
				snprintf(out[n++], sizeof(out[0]), "%.*s@%.*s",
					 (int) (rat ? rat - rest : 0), rest,
					 (int) strcspn(d + 1, ",:"), d + 1);
			continue;
		}
		at = addr_at(a);
		addr_dequote(a, at ? (size_t) (at - a) : strlen(a), local, sizeof(local));
		if (strchr(local, '@')) {
			snprintf(out[n++], sizeof(out[0]), "%s", local); /* "v@gmail.com"@x */
			continue;
		}
		if ((p = strrchr(local, '%')) != NULL) {
			*p = '@'; /* user%domain@x */
			snprintf(out[n++], sizeof(out[0]), "%s", local);
			*p = '%';
		}
		if (n < max && (p = strchr(local, '!')) != NULL) {
			*p = 0; /* site!user@x */
			snprintf(out[n++], sizeof(out[0]), "%s@%s", p + 1, local);
		}
	}
	return n;
}

#define ADDR_ROUTES 8

/* addr_match_one - does one bare address (no routing) match a pattern? */
static int addr_match_one(const char *pattern, const char *addr)
{
	const char *at = addr_at(addr);

	if (*pattern == '@')
		return at && domain_match(pattern + 1, at + 1);
	if (strchr(pattern, '@'))
		return fnmatch(pattern, addr, FNM_CASEFOLD) == 0;
	return at && domain_match(pattern, at + 1);
}

/* detector_addr_match - does a bare address match a pattern, as written
 * or wherever its own routing may take it? */
int detector_addr_match(const char *pattern, const char *addr)
{
	char routes[ADDR_ROUTES][SCAN_ADDR_MAX + 1];
	size_t n = addr_routes(addr, routes, ADDR_ROUTES);

	for (size_t i = 0; i < n; i++)
		if (addr_match_one(pattern, routes[i]))
			return 1;
	return 0;
}

/* detector_addr_internal - is a bare address in internal_domains? One that
 * routes itself (detector_addr_routed) never is. */
int detector_addr_internal(const char *addr)
{
	const char *at = addr_at(addr);
	char dom[SCAN_ADDR_MAX + 1];
	size_t n;

	if (at == NULL || detector_addr_routed(addr))
		return 0;
	/* "example.com." is example.com */
	snprintf(dom, sizeof(dom), "%s", at + 1);
	if ((n = strlen(dom)) > 1 && dom[n - 1] == '.')
		dom[n - 1] = 0;
	for (size_t i = 0; i < var_internal_domains.count; i++)
		if (domain_match(var_internal_domains.items[i], dom))
			return 1;
	return 0;
}

/* text_ok - printable UTF-8 text without controls */
static int text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if ((unsigned char) *s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* pattern_add - one Hyperscan expression for a rule */
static void pattern_add(struct load *ld, uint32_t rule, enum det_pat_kind kind,
			const char *expr, unsigned flags, const char *text, int line)
{
	struct det_policyset *ps = ld->ps;

	if (ps->npats == ld->cap) {
		ld->cap = ld->cap ? ld->cap * 2 : 64;
		ps->pats = xrealloc(ps->pats, ld->cap * sizeof(*ps->pats));
		ld->expr_off = xrealloc(ld->expr_off, ld->cap * sizeof(size_t));
		ld->flags = xrealloc(ld->flags, ld->cap * sizeof(unsigned));
		ld->pat_line = xrealloc(ld->pat_line, ld->cap * sizeof(int));
	}
	ps->pats[ps->npats].rule = rule;
	ps->pats[ps->npats].kind = kind;
	ps->pats[ps->npats].text = text ? xstrdup(text) : NULL;
	ps->pats[ps->npats].whole = 0;
	ps->pats[ps->npats].ident = IDENT_CARD;
	ps->pats[ps->npats].len = text ? strlen(text) : 0;
	ps->pats[ps->npats].sample = NULL;
	ps->pats[ps->npats].phrase = NULL;
	if (text && kind == PAT_KEYWORD) {
		char sample[DET_SAMPLE_MAX + 8];

		detector_mask(text, strlen(text), sample, sizeof(sample));
		ps->pats[ps->npats].sample = xstrdup(sample);
	}
	ld->expr_off[ps->npats] = ld->expr.len;
	ld->flags[ps->npats] = flags;
	ld->pat_line[ps->npats] = line;
	buf_append(&ld->expr, expr, strlen(expr) + 1);
	ps->npats++;
}

/* utf8_next - decode one UTF-8 character; its length (1 for bad bytes) */
static size_t utf8_next(const unsigned char *p, wint_t *wc)
{
	if (p[0] < 0x80) {
		*wc = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
		*wc = (wint_t) ((p[0] & 0x1f) << 6 | (p[1] & 0x3f));
		return 2;
	}
	if ((p[0] & 0xf0) == 0xe0 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
		*wc = (wint_t) ((p[0] & 0x0f) << 12 | (p[1] & 0x3f) << 6 | (p[2] & 0x3f));
		return 3;
	}
	if ((p[0] & 0xf8) == 0xf0 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80
	    && (p[3] & 0xc0) == 0x80) {
		*wc = (wint_t) ((p[0] & 0x07) << 18 | (p[1] & 0x3f) << 12 | (p[2] & 0x3f) << 6
				| (p[3] & 0x3f));
		return 4;
	}
	*wc = WEOF;
	return 1;
}

/* put_utf8_escaped - a code point as \xHH bytes */
static void put_utf8_escaped(struct buf *b, wint_t wc)
{
	unsigned char u[4];
	size_t n;

	if (wc < 0x80) {
		u[0] = (unsigned char) wc;
		n = 1;
	} else if (wc < 0x800) {
		u[0] = (unsigned char) (0xc0 | wc >> 6);
		u[1] = (unsigned char) (0x80 | (wc & 0x3f));
		n = 2;
	} else if (wc < 0x10000) {
		u[0] = (unsigned char) (0xe0 | wc >> 12);
		u[1] = (unsigned char) (0x80 | (wc >> 6 & 0x3f));
		u[2] = (unsigned char) (0x80 | (wc & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char) (0xf0 | wc >> 18);
		u[1] = (unsigned char) (0x80 | (wc >> 12 & 0x3f));
		u[2] = (unsigned char) (0x80 | (wc >> 6 & 0x3f));
		u[3] = (unsigned char) (0x80 | (wc & 0x3f));
		n = 4;
	}
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "\\x%02x", u[i]);
}

/* case_word - a word with every character in one case (same byte length) */
static char *case_word(struct load *ld, const char *w, size_t n, int upper, int caseless)
{
	struct buf b;
	const unsigned char *p = (const unsigned char *) w;
	size_t i = 0;

	buf_init(&b, n + 8);
	while (i < n) {
		wint_t wc, c;
		size_t k = utf8_next(p + i, &wc);
		struct buf one;

		c = !caseless || wc == WEOF ? wc
			: upper             ? towupper_l(wc, ld->utf8)
					    : towlower_l(wc, ld->utf8);
		buf_init(&one, 8);
		if (c != WEOF)
			put_utf8_escaped(&one, c);
		/* a case variant of another length: keep the character as written */
		if (c == WEOF || one.len / 4 != k)
			buf_append(&b, p + i, k);
		else
			for (size_t j = 0; j < k; j++)
				buf_putc(&b, (int) strtol(one.data + j * 4 + 2, NULL, 16));
		buf_free(&one);
		i += k;
	}
	{
		char *r = xstrndup(b.data, b.len);

		buf_free(&b);
		return r;
	}
}

/* make_phrase - the words of a phrase and its anchor; NULL for one word */
static struct det_phrase *make_phrase(struct load *ld, const char *kw, int caseless)
{
	struct det_phrase *ph;
	const char *p = kw;

	if (strpbrk(kw, " \t") == NULL)
		return NULL;
	ph = xcalloc(1, sizeof(*ph));
	while (*p) {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == 0)
			break;
		n = strcspn(p, " \t");
		ph->lo = xrealloc(ph->lo, (ph->nwords + 1) * sizeof(char *));
		ph->up = xrealloc(ph->up, (ph->nwords + 1) * sizeof(char *));
		ph->len = xrealloc(ph->len, (ph->nwords + 1) * sizeof(size_t));
		ph->lo[ph->nwords] = case_word(ld, p, n, 0, caseless);
		ph->up[ph->nwords] = case_word(ld, p, n, 1, caseless);
		ph->len[ph->nwords] = n;
		if (n > ph->len[ph->anchor])
			ph->anchor = ph->nwords;
		ph->nwords++;
		p += n;
	}
	return ph;
}

/*
 * keyword_expr - a keyword or phrase as a Hyperscan expression
 *
 * A word is a literal (Hyperscan's fastest case: its literal matcher, and
 * a database of thousands compiles in a fraction of a second). For a
 * phrase, only its longest word goes into the database; the other words
 * and the white space between them are checked around each match
 * (detector_match.c), as are whole-word boundaries. Boundary classes or
 * \s+ in the expressions made the database several times slower, to
 * build and to run (measured: 1,000 keywords with 100 phrases scanned at
 * 600 MB/s as regexes, 1.6 GB/s as literals).
 */
static void keyword_expr(struct load *ld, const char *kw, int caseless, struct buf *out)
{
	const unsigned char *p = (const unsigned char *) kw;

	buf_reset(out);
	while (*p) {
		wint_t wc;
		size_t n;

		if (*p == ' ' || *p == '\t') {
			while (*p == ' ' || *p == '\t')
				p++;
			buf_puts(out, "\\s+"); /* a phrase spans line breaks */
			continue;
		}
		n = utf8_next(p, &wc);
		if (isalnum(*p)) {
			buf_putc(out, *p);
		} else if (wc != WEOF && wc >= 0x80 && caseless
			   && (towupper_l(wc, ld->utf8) != wc
			       || towlower_l(wc, ld->utf8) != wc)) {
			wint_t lo = towlower_l(wc, ld->utf8), up = towupper_l(wc, ld->utf8);

			buf_puts(out, "(?:");
			put_utf8_escaped(out, lo);
			buf_putc(out, '|');
			put_utf8_escaped(out, up);
			buf_putc(out, ')');
		} else {
			for (size_t i = 0; i < n; i++)
				buf_printf(out, "\\x%02x", p[i]);
		}
		p += n;
	}
}

/* list_strings - a libconfig list or array of strings, or a single string */
static int list_strings(struct load *ld, config_setting_t *s, const char *what, size_t maxitem,
			size_t maxcount, struct det_list *out)
{
	int n;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (!text_ok(config_setting_get_string(s), maxitem))
			return load_error(
				ld, s, "%s: empty, too long or holds control characters", what);
		detector_list_add(out, config_setting_get_string(s));
		return 0;
	}
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
		return load_error(ld, s, "%s: expected a list of strings", what);
	n = config_setting_length(s);
	if ((size_t) n > maxcount)
		return load_error(ld, s, "%s: more than %zu items", what, maxcount);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned) i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return load_error(ld, e, "%s: item %d is not a string", what, i + 1);
		if (!text_ok(config_setting_get_string(e), maxitem))
			return load_error(ld, e,
					  "%s: item %d is empty, too long or holds "
					  "control characters",
					  what, i + 1);
		detector_list_add(out, config_setting_get_string(e));
	}
	return 0;
}

/* get_bool - an optional boolean */
static int get_bool(struct load *ld, config_setting_t *g, const char *name, int def, int *out)
{
	config_setting_t *s = config_setting_get_member(g, name);

	*out = def;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return load_error(ld, s, "%s: expected true or false", name);
	*out = config_setting_get_bool(s);
	return 0;
}

/* get_uint - an optional integer in [min, max] */
static int get_uint(struct load *ld, config_setting_t *g, const char *name, unsigned def,
		    unsigned min, unsigned max, unsigned *out)
{
	config_setting_t *s = config_setting_get_member(g, name);
	long long v;

	*out = def;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT
	    && config_setting_type(s) != CONFIG_TYPE_INT64)
		return load_error(ld, s, "%s: expected a number", name);
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return load_error(ld, s, "%s: %lld is out of range (%u..%u)", name, v, min,
				  max);
	*out = (unsigned) v;
	return 0;
}

/* get_size - an optional size: a number or "10k", "5m" */
static int get_size(struct load *ld, config_setting_t *g, const char *name, long long *out)
{
	static const struct conf_param sp = {"size", CONF_SIZE, "0",  0,          LLONG_MAX / 2,
					     NULL,   NULL,      NULL, "detector", ""};
	config_setting_t *s = config_setting_get_member(g, name);
	char why[256];

	*out = 0;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_INT
	    || config_setting_type(s) == CONFIG_TYPE_INT64) {
		*out = config_setting_get_int64(s);
		return *out < 0 ? load_error(ld, s, "%s: negative size", name) : 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING
	    || conf_parse_text(&sp, config_setting_get_string(s), out, why, sizeof(why)) < 0)
		return load_error(ld, s, "%s: expected a size such as 100000, 500k or 10m",
				  name);
	return 0;
}

/* get_str - an optional string; NULL when absent */
static int get_str(struct load *ld, config_setting_t *g, const char *name, size_t max,
		   const char **out)
{
	config_setting_t *s = config_setting_get_member(g, name);

	*out = NULL;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return load_error(ld, s, "%s: expected a string", name);
	*out = config_setting_get_string(s);
	if (strlen(*out) > max)
		return load_error(ld, s, "%s: longer than %zu characters", name, max);
	for (const char *cp = *out; *cp; cp++)
		if ((unsigned char) *cp < 0x20 || *cp == 0x7f)
			return load_error(ld, s,
					  "%s: holds a control character (CR, LF, "
					  "tab...)",
					  name);
	return 0;
}

/* check_keys - every member of a group is a known key */
static int check_keys(struct load *ld, config_setting_t *g, const char *what,
		      const char *const *known)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *s = config_setting_get_elem(g, (unsigned) i);
		const char *name = config_setting_name(s);
		size_t k;

		for (k = 0; known[k]; k++)
			if (strcmp(known[k], name) == 0)
				break;
		if (known[k] == NULL)
			return load_error(ld, s, "%s: unknown setting \"%s\"", what, name);
	}
	return 0;
}

/* read_keyword_file - one keyword or phrase per line, # comments */
static int read_keyword_file(struct load *ld, config_setting_t *s, const char *name,
			     struct det_list *out)
{
	char path[PATH_MAX];
	FILE *fp;
	char line[DET_MAX_KEYWORD + 4];
	int lineno = 0;
	struct stat st;

	if (*name == '/')
		strlcpy(path, name, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s/%s", ld->dir, name);
	if ((fp = fopen(path, "r")) == NULL)
		return load_error(ld, s, "keyword_file \"%s\": %s", path, strerror(errno));
	if (fstat(fileno(fp), &st) == 0 && st.st_size > KEYWORD_FILE_MAX) {
		fclose(fp);
		return load_error(ld, s, "keyword_file \"%s\": larger than 16 MB", path);
	}
	while (fgets(line, sizeof(line), fp)) {
		size_t n = strlen(line);
		char *cp = line;

		lineno++;
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			snprintf(ld->err, ld->errlen, "%s:%d: keyword longer than %d bytes",
				 path, lineno, DET_MAX_KEYWORD);
			fclose(fp);
			return -1;
		}
		while (n > 0 && isspace((unsigned char) line[n - 1]))
			line[--n] = 0;
		while (isspace((unsigned char) *cp))
			cp++;
		if (*cp == 0 || *cp == '#')
			continue;
		if (!text_ok(cp, DET_MAX_KEYWORD)) {
			snprintf(ld->err, ld->errlen, "%s:%d: control character in keyword",
				 path, lineno);
			fclose(fp);
			return -1;
		}
		if (out->count >= DET_MAX_PATTERNS) {
			snprintf(ld->err, ld->errlen, "%s:%d: more than %d keywords", path,
				 lineno, DET_MAX_PATTERNS);
			fclose(fp);
			return -1;
		}
		detector_list_add(out, cp);
	}
	fclose(fp);
	if (out->count == 0)
		return load_error(ld, s, "keyword_file \"%s\" holds no keywords", path);
	return 0;
}

/* inline_keywords - replace keyword_file by its words, for the good copy */
static void inline_keywords(config_setting_t *rule, const struct det_list *words)
{
	config_setting_t *kw = config_setting_get_member(rule, "keywords");

	if (kw && config_setting_type(kw) == CONFIG_TYPE_STRING) {
		char *one = xstrdup(config_setting_get_string(kw));

		config_setting_remove(rule, "keywords");
		kw = config_setting_add(rule, "keywords", CONFIG_TYPE_ARRAY);
		config_setting_set_string_elem(kw, -1, one);
		free(one);
	}
	if (kw == NULL)
		kw = config_setting_add(rule, "keywords", CONFIG_TYPE_ARRAY);
	for (size_t i = 0; i < words->count; i++)
		config_setting_set_string_elem(kw, -1, words->items[i]);
	config_setting_remove(rule, "keyword_file");
}

/* parse_where - look_in = ["subject", "body", ...]; def without one */
static int parse_where(struct load *ld, config_setting_t *r, struct det_rule *rule,
		       unsigned def)
{
	static const struct {
		const char *name;
		unsigned bit;
	} w[] = {
		{"subject", DET_W_SUBJECT},
		{"body", DET_W_BODY},
		{"attachment", DET_W_ATTACH},
		{"attachment_name", DET_W_ATTNAME},
		{"header", DET_W_HEADER},
		{"headers", DET_W_HEADER},
		{"all", DET_W_CONTENT | DET_W_ATTNAME | DET_W_HEADER},
	};
	config_setting_t *s = config_setting_get_member(r, "look_in");
	struct det_list l = {0};

	rule->where = def;
	if (s == NULL)
		goto headers;
	if (list_strings(ld, s, "look_in", 32, 16, &l) < 0)
		return -1;
	rule->where = 0;
	for (size_t i = 0; i < l.count; i++) {
		size_t k;

		for (k = 0; k < sizeof(w) / sizeof(w[0]); k++)
			if (strcmp(l.items[i], w[k].name) == 0)
				break;
		if (k == sizeof(w) / sizeof(w[0])) {
			load_error(ld, s,
				   "look_in: unknown place \"%s\" (subject, body, "
				   "attachment, attachment_name, header, all)",
				   l.items[i]);
			detector_list_free(&l);
			return -1;
		}
		rule->where |= w[k].bit;
	}
	detector_list_free(&l);
headers:
	if ((s = config_setting_get_member(r, "headers")) != NULL) {
		if (list_strings(ld, s, "headers", 76, 64, &rule->headers) < 0)
			return -1;
		for (size_t i = 0; i < rule->headers.count; i++)
			if (strpbrk(rule->headers.items[i], ": "))
				return load_error(ld, s, "headers: \"%s\" is not a header name",
						  rule->headers.items[i]);
		rule->where |= DET_W_HEADER;
	}
	return 0;
}

/* parse_keyword_rule - keywords, keyword_file, case_sensitive, whole_word */
static int parse_keyword_rule(struct load *ld, config_setting_t *r, uint32_t ri, int compile)
{
	struct det_list words = {0};
	config_setting_t *s;
	struct buf expr;
	int cs, whole, rc = -1;
	const char *file;

	if (get_bool(ld, r, "case_sensitive", 0, &cs) < 0
	    || get_bool(ld, r, "whole_word", 1, &whole) < 0
	    || get_str(ld, r, "keyword_file", PATH_MAX - 1, &file) < 0)
		return -1;
	if ((s = config_setting_get_member(r, "keywords")) != NULL
	    && list_strings(ld, s, "keywords", DET_MAX_KEYWORD, DET_MAX_PATTERNS, &words) < 0)
		goto out;
	if (file) {
		struct det_list fw = {0};

		if (read_keyword_file(ld, config_setting_get_member(r, "keyword_file"), file,
				      &fw)
		    < 0) {
			detector_list_free(&fw);
			goto out;
		}
		for (size_t i = 0; i < fw.count; i++)
			detector_list_add(&words, fw.items[i]);
		inline_keywords(r, &fw);
		detector_list_free(&fw);
	}
	if (words.count == 0) {
		load_error(ld, r, "keyword rule without keywords or keyword_file");
		goto out;
	}
	buf_init(&expr, 256);
	for (size_t i = 0; compile && i < words.count; i++) {
		struct det_phrase *ph = make_phrase(ld, words.items[i], !cs);

		if (ph)
			keyword_expr(ld, ph->lo[ph->anchor], !cs, &expr);
		else
			keyword_expr(ld, words.items[i], !cs, &expr);
		pattern_add(ld, ri, PAT_KEYWORD, expr.data, cs ? 0 : HS_FLAG_CASELESS,
			    words.items[i], config_setting_source_line(r));
		ld->ps->pats[ld->ps->npats - 1].whole = whole;
		ld->ps->pats[ld->ps->npats - 1].phrase = ph;
	}
	buf_free(&expr);
	rc = 0;
out:
	detector_list_free(&words);
	return rc;
}

/* check_regex - does Hyperscan take it, and can it not match nothing? */
static int check_regex(struct load *ld, config_setting_t *s, const char *re, unsigned flags)
{
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *cerr = NULL;

	if (hs_expression_info(re, flags, &info, &cerr) != HS_SUCCESS) {
		load_error(ld, s, "invalid regular expression \"%.80s\": %s", re,
			   cerr ? cerr->message : "unknown error");
		hs_free_compile_error(cerr);
		return -1;
	}
	if (info->min_width == 0) {
		free(info);
		return load_error(ld, s,
				  "regular expression \"%.80s\" matches the empty "
				  "string",
				  re);
	}
	free(info);
	return 0;
}

/* som_ok - can the regex report where its match starts? */
static int som_ok(const char *re, unsigned flags)
{
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;

	if (hs_compile(re, flags | HS_FLAG_SOM_LEFTMOST, HS_MODE_BLOCK, NULL, &db, &cerr)
	    != HS_SUCCESS) {
		hs_free_compile_error(cerr);
		return 0;
	}
	hs_free_database(db);
	return 1;
}

/* parse_regex_rule - patterns, case_sensitive */
static int parse_regex_rule(struct load *ld, config_setting_t *r, uint32_t ri, int compile)
{
	struct det_list pats = {0};
	config_setting_t *s = config_setting_get_member(r, "patterns");
	int cs;

	if (get_bool(ld, r, "case_sensitive", 1, &cs) < 0)
		return -1;
	if (s == NULL)
		return load_error(ld, r, "regex rule without patterns");
	if (list_strings(ld, s, "patterns", DET_MAX_REGEX, 1000, &pats) < 0)
		goto bad;
	for (size_t i = 0; i < pats.count; i++) {
		unsigned flags = HS_FLAG_MULTILINE | (cs ? 0 : HS_FLAG_CASELESS);
		config_setting_t *e = config_setting_type(s) == CONFIG_TYPE_STRING
			? s
			: config_setting_get_elem(s, (unsigned) i);

		if (check_regex(ld, e, pats.items[i], flags) < 0)
			goto bad;
		if (compile) {
			if (som_ok(pats.items[i], flags))
				flags |= HS_FLAG_SOM_LEFTMOST;
			pattern_add(ld, ri, PAT_REGEX, pats.items[i], flags, NULL,
				    config_setting_source_line(e));
		}
	}
	detector_list_free(&pats);
	return 0;
bad:
	detector_list_free(&pats);
	return -1;
}

/*
 * context_patterns - context words of an identifier rule into the database
 *
 * Like keywords: a phrase's longest word is the literal Hyperscan looks
 * for, the others are checked around it. A built-in acronym of up to
 * three capitals that is also a word in small letters (SIN, TIN, ABA:
 * detector_ident_context_cased) matches in capitals only, and so does a
 * phrase's anchor of up to three letters (NI in "NI no"); the others (SSN,
 * BSN) match in any case, as whole words (detector_match.c).
 */
static void context_patterns(struct load *ld, uint32_t ri, const char *const *words, size_t n,
			     int line, int builtin)
{
	struct buf expr;

	buf_init(&expr, 128);
	for (size_t i = 0; i < n && words[i]; i++) {
		struct det_phrase *ph = make_phrase(ld, words[i], 1);
		size_t len = strlen(words[i]), caps = 0;
		unsigned flags = HS_FLAG_CASELESS;

		for (size_t k = 0; k < len; k++)
			caps += isupper((unsigned char) words[i][k]) != 0;
		if (builtin && ph == NULL && len <= 3 && caps >= 2
		    && detector_ident_context_cased(words[i]))
			flags = 0;
		if (builtin && ph && ph->len[ph->anchor] <= 3)
			flags = 0; /* "NI no": the anchor NI as written */
		keyword_expr(ld,
			     ph == NULL      ? words[i]
				     : flags ? ph->lo[ph->anchor]
					     : ph->up[ph->anchor],
			     flags != 0, &expr);
		pattern_add(ld, ri, PAT_PROX, expr.data, flags, words[i], line);
		ld->ps->pats[ld->ps->npats - 1].phrase = ph;
	}
	buf_free(&expr);
}

/* parse_ident_rule - identifier, near, distance, context, lookalike_labels */
static int parse_ident_rule(struct load *ld, config_setting_t *r, struct det_rule *rule,
			    uint32_t ri, int compile)
{
	const char *name;
	config_setting_t *s, *ctx;
	struct det_list near = {0};
	int want;

	if (get_str(ld, r, "identifier", 64, &name) < 0)
		return -1;
	if (name == NULL || detector_ident_parse(name, &rule->ident) < 0)
		return load_error(ld, r,
				  "identifier: unknown \"%s\" (policies.conf(5) lists "
				  "them: credit_card, us_ssn, iban, uk_nino, ...)",
				  name ? name : "");
	if (get_uint(ld, r, "distance", 80, 1, 10000, &rule->prox_distance) < 0
	    || get_bool(ld, r, "lookalike_labels", 1, &rule->labels) < 0
	    || get_bool(ld, r, "context", 0, &want) < 0)
		return -1;
	ctx = config_setting_get_member(r, "context");
	rule->context = ctx == NULL ? CTX_AUTO : want ? CTX_ALWAYS : CTX_NEVER;
	s = config_setting_get_member(r, "near");
	if (rule->context == CTX_NEVER && s)
		return load_error(ld, ctx, "context = false with near keywords");
	if (rule->context == CTX_NEVER && config_setting_get_member(r, "distance"))
		return load_error(ld, ctx, "context = false with a distance");
	if (s == NULL) {
		const char *const *kw = detector_ident_context(rule->ident);

		/* the identifier's own context words, when they may be needed */
		if (compile
		    && (rule->context == CTX_ALWAYS
			|| (rule->context == CTX_AUTO
			    && detector_ident_may_be_weak(rule->ident))))
			context_patterns(ld, ri, kw, SIZE_MAX, config_setting_source_line(r),
					 1);
		return 0;
	}
	rule->context = CTX_ALWAYS;
	if (list_strings(ld, s, "near", DET_MAX_KEYWORD, 10000, &near) < 0) {
		detector_list_free(&near);
		return -1;
	}
	if (compile)
		context_patterns(ld, ri, (const char *const *) near.items, near.count,
				 config_setting_source_line(s), 0);
	detector_list_free(&near);
	return 0;
}

/* fp_keys_misplaced - settings of edm and document rules in other rules */
static int fp_keys_misplaced(struct load *ld, config_setting_t *r, enum det_rule_type t)
{
	static const struct {
		const char *key;
		unsigned types;
	} k[] = {
		{"index", 1u << RULE_EDM | 1u << RULE_DOCUMENT},
		{"columns", 1u << RULE_EDM},
		{"min_columns", 1u << RULE_EDM},
		{"min_overlap", 1u << RULE_DOCUMENT},
		{"min_shared_words", 1u << RULE_DOCUMENT},
	};

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (!(k[i].types & 1u << t) && config_setting_get_member(r, k[i].key))
			return load_error(ld, config_setting_get_member(r, k[i].key),
					  "%s applies to %s rules", k[i].key,
					  k[i].types & 1u << RULE_DOCUMENT
						  ? (k[i].types & 1u << RULE_EDM
							     ? "edm and document"
							     : "document")
						  : "edm");
	if (t == RULE_EDM && config_setting_get_member(r, "near"))
		return load_error(ld, config_setting_get_member(r, "near"),
				  "near applies to identifier rules");
	return 0;
}

/* fp_index - the index a rule names, opened once per policy set */
static struct det_fpindex *fp_index(struct load *ld, config_setting_t *r, const char *name,
				    enum fp_kind kind)
{
	struct det_policyset *ps = ld->ps;
	struct det_fpindex *x;
	char err[CONF_ERR_MAX], path[PATH_MAX];

	for (size_t i = 0; i < ps->nfpi; i++)
		if (ps->fpi[i]->kind == kind && strcmp(ps->fpi[i]->name, name) == 0)
			return ps->fpi[i];
	if (!detector_fp_key_ready()) {
		detector_fp_key_path(ld->confdir, path, sizeof(path));
		if (detector_fp_key_load(path, err, sizeof(err)) < 0) {
			load_error(ld, r, "%s", err);
			return NULL;
		}
	}
	if ((x = detector_fpindex_open(ld->confdir, name, kind, ld->fpmode, err, sizeof(err)))
	    == NULL) {
		load_error(ld, r, "%s index \"%s\": %s%s", kind == FP_EDM ? "edm" : "document",
			   name, err,
			   errno == ENOENT ? kind == FP_EDM
					   ? " (make it with dlpindex edm -n NAME FILE.csv)"
					   : " (make it with dlpindex idm -n NAME DIR)"
					   : "");
		return NULL;
	}
	ps->fpi = xrealloc(ps->fpi, (ps->nfpi + 1) * sizeof(*ps->fpi));
	ps->fpi[ps->nfpi++] = x;
	return x;
}

/* get_index_name - index = "NAME"; of an edm or document rule */
static int get_index_name(struct load *ld, config_setting_t *r, const char *type,
			  const char **name)
{
	if (get_str(ld, r, "index", FP_NAME_MAX, name) < 0)
		return -1;
	if (*name == NULL || !detector_fp_name_ok(*name))
		return load_error(ld, r,
				  "%s rule: index = \"NAME\"; is required (letters, "
				  "digits, '_', '.' and '-')",
				  type);
	return 0;
}

/* parse_edm_rule - index, columns, min_columns, distance */
static int parse_edm_rule(struct load *ld, config_setting_t *r, struct det_rule *rule,
			  int compile)
{
	struct det_list cols = {0};
	config_setting_t *s;
	const char *name;
	int rc = -1;

	if (get_index_name(ld, r, "edm", &name) < 0
	    || get_uint(ld, r, "min_columns", 2, 1, FP_MAX_COLUMNS, &rule->min_columns) < 0
	    || get_uint(ld, r, "distance", 200, 1, 100000, &rule->distance) < 0)
		return -1;
	if ((s = config_setting_get_member(r, "columns")) != NULL
	    && list_strings(ld, s, "columns", 47, FP_MAX_COLUMNS, &cols) < 0)
		goto out;
	if (cols.count && rule->min_columns > cols.count) {
		load_error(ld, r, "min_columns (%u) is more than the %zu columns listed",
			   rule->min_columns, cols.count);
		goto out;
	}
	if (!compile) {
		rc = 0;
		goto out;
	}
	if ((rule->fpi = fp_index(ld, r, name, FP_EDM)) == NULL)
		goto out;
	for (size_t i = 0; i < cols.count; i++) {
		uint32_t c;

		for (c = 0; c < rule->fpi->edm->cols; c++)
			if (strcmp(rule->fpi->cols[c].name, cols.items[i]) == 0)
				break;
		if (c == rule->fpi->edm->cols) {
			struct buf have;

			buf_init(&have, 256);
			for (c = 0; c < rule->fpi->edm->cols; c++)
				buf_printf(&have, "%s%s", c ? ", " : "",
					   rule->fpi->cols[c].name);
			load_error(ld, s, "edm index \"%s\" has no column \"%s\" (it has %s)",
				   name, cols.items[i], have.data);
			buf_free(&have);
			goto out;
		}
		rule->columns |= 1u << c;
	}
	if (cols.count == 0)
		rule->columns = rule->fpi->edm->cols == 32 ? UINT32_MAX
							   : (1u << rule->fpi->edm->cols) - 1;
	if ((unsigned) __builtin_popcount(rule->columns) < rule->min_columns) {
		load_error(ld, r,
			   "min_columns (%u) is more than the %d columns of index \"%s\"",
			   rule->min_columns, __builtin_popcount(rule->columns), name);
		goto out;
	}
	rc = 0;
out:
	detector_list_free(&cols);
	return rc;
}

/* parse_doc_rule - index, min_overlap, min_shared_words */
static int parse_doc_rule(struct load *ld, config_setting_t *r, struct det_rule *rule,
			  int compile)
{
	const char *name;
	int any = config_setting_get_member(r, "min_overlap")
		|| config_setting_get_member(r, "min_shared_words");

	if (get_index_name(ld, r, "document", &name) < 0
	    || get_uint(ld, r, "min_overlap", any ? 0 : 30, 0, 100, &rule->min_overlap) < 0
	    || get_uint(ld, r, "min_shared_words", 0, 0, 10000000, &rule->min_shared_words) < 0)
		return -1;
	if (rule->min_overlap == 0 && rule->min_shared_words == 0)
		return load_error(ld, r,
				  "document rule: min_overlap or min_shared_words must "
				  "be more than 0");
	if (compile && (rule->fpi = fp_index(ld, r, name, FP_IDM)) == NULL)
		return -1;
	return 0;
}

/* parse_rule - one member of a policy's rules list */
static int parse_rule(struct load *ld, config_setting_t *r, uint32_t pi, int compile)
{
	static const char *const keys[] = {"type",
					   "keywords",
					   "keyword_file",
					   "case_sensitive",
					   "whole_word",
					   "patterns",
					   "identifier",
					   "near",
					   "distance",
					   "context",
					   "lookalike_labels",
					   "look_in",
					   "headers",
					   "min_count",
					   "external",
					   "min_size",
					   "max_size",
					   "types",
					   "names",
					   "min",
					   "max",
					   "index",
					   "columns",
					   "min_columns",
					   "min_overlap",
					   "min_shared_words",
					   NULL};
	static const char *const types[] = {
		"keyword",    "regex",           "identifier", "edm",
		"document",   "sender",          "recipient",  "size",
		"attachment", "recipient_count", NULL};
	struct det_policyset *ps = ld->ps;
	struct det_rule *rule;
	const char *type;
	config_setting_t *s;
	uint32_t ri = (uint32_t) ps->nrules;
	long long v;
	int t;

	if (!config_setting_is_group(r))
		return load_error(ld, r, "a rule is a group: { type = \"keyword\"; ... }");
	if (check_keys(ld, r, "rule", keys) < 0 || get_str(ld, r, "type", 32, &type) < 0)
		return -1;
	for (t = 0; type && types[t]; t++)
		if (strcmp(types[t], type) == 0)
			break;
	if (type == NULL || types[t] == NULL)
		return load_error(ld, r,
				  "rule type: expected keyword, regex, identifier, "
				  "edm, document, sender, recipient, size, attachment or "
				  "recipient_count");
	ps->rules = xrealloc(ps->rules, (ps->nrules + 1) * sizeof(*ps->rules));
	rule = &ps->rules[ps->nrules++];
	memset(rule, 0, sizeof(*rule));
	rule->type = (enum det_rule_type) t;
	rule->line = config_setting_source_line(r);
	rule->policy = pi;
	if (get_uint(ld, r, "min_count", 1, 1, 1000000, &rule->min_count) < 0)
		return -1;
	/* identifiers look at attachment names too: scan_2024_4111111111111111.pdf */
	if (rule->type <= RULE_LAST_CONTENT
	    && parse_where(ld, r, rule,
			   rule->type == RULE_IDENTIFIER ? DET_W_CONTENT | DET_W_ATTNAME
							 : DET_W_CONTENT)
		    < 0)
		return -1;
	if (fp_keys_misplaced(ld, r, rule->type) < 0)
		return -1;
	switch (rule->type) {
	case RULE_KEYWORD:
		return parse_keyword_rule(ld, r, ri, compile);
	case RULE_REGEX:
		return parse_regex_rule(ld, r, ri, compile);
	case RULE_IDENTIFIER:
		return parse_ident_rule(ld, r, rule, ri, compile);
	case RULE_EDM:
		return parse_edm_rule(ld, r, rule, compile);
	case RULE_DOCUMENT:
		return parse_doc_rule(ld, r, rule, compile);
	case RULE_SENDER:
	case RULE_RECIPIENT:
		if ((s = config_setting_get_member(r, "patterns")) != NULL
		    && list_strings(ld, s, "patterns", 320, DET_MAX_LIST, &rule->patterns) < 0)
			return -1;
		if (get_bool(ld, r, "external", 0, &rule->external) < 0)
			return -1;
		if (rule->type == RULE_SENDER && rule->external)
			return load_error(ld, r, "external applies to recipient rules");
		if (rule->patterns.count == 0 && !rule->external)
			return load_error(ld, r, "%s rule without patterns%s", type,
					  rule->type == RULE_RECIPIENT ? " or external = true"
								       : "");
		if (rule->external && var_internal_domains.count == 0 && ld->external_line == 0)
			ld->external_line = rule->line;
		return 0;
	case RULE_SIZE:
		if (get_size(ld, r, "min_size", &rule->min_size) < 0
		    || get_size(ld, r, "max_size", &rule->max_size) < 0)
			return -1;
		if (rule->min_size == 0 && rule->max_size == 0)
			return load_error(ld, r, "size rule without min_size or max_size");
		if (rule->max_size && rule->max_size < rule->min_size)
			return load_error(ld, r, "max_size is below min_size");
		return 0;
	case RULE_ATTACHMENT:
		if (((s = config_setting_get_member(r, "types")) != NULL
		     && list_strings(ld, s, "types", 32, 100, &rule->types) < 0)
		    || ((s = config_setting_get_member(r, "names")) != NULL
			&& list_strings(ld, s, "names", 255, 1000, &rule->names) < 0))
			return -1;
		if (rule->types.count == 0 && rule->names.count == 0)
			return load_error(ld, r, "attachment rule without types or names");
		for (size_t i = 0; i < rule->types.count; i++)
			for (char *cp = rule->types.items[i]; *cp; cp++)
				*cp = (char) tolower((unsigned char) *cp);
		ps->where_used |= DET_W_ATTNAME;
		return 0;
	case RULE_RCPT_COUNT:
		if (get_uint(ld, r, "min", 0, 0, SCAN_MAX_RCPT, &rule->min_rcpt) < 0
		    || get_uint(ld, r, "max", 0, 0, SCAN_MAX_RCPT, &rule->max_rcpt) < 0)
			return -1;
		if (rule->min_rcpt == 0 && rule->max_rcpt == 0)
			return load_error(ld, r, "recipient_count rule without min or max");
		v = rule->max_rcpt;
		if (v && v < rule->min_rcpt)
			return load_error(ld, r, "max is below min");
		return 0;
	}
	return 0;
}

/* parse_address_list - redirect_to, notify: addresses, stored as "<addr>" */
static int parse_address_list(struct load *ld, config_setting_t *p, const char *name,
			      size_t max, struct det_list *out)
{
	config_setting_t *s = config_setting_get_member(p, name);
	struct det_list l = {0};

	if (s == NULL)
		return 0;
	if (list_strings(ld, s, name, SCAN_ADDR_MAX - 2, max, &l) < 0)
		goto bad;
	for (size_t i = 0; i < l.count; i++) {
		char addr[SCAN_ADDR_MAX + 1];
		const char *a = l.items[i];
		size_t n;

		if (*a == '<')
			a++;
		n = strlen(a);
		if (n && a[n - 1] == '>')
			n--;
		if (n == 0 || n > SCAN_ADDR_MAX - 2 || memchr(a, '@', n) == NULL
		    || strcspn(a, " <>\"\\,;") < n) {
			load_error(ld, s, "%s: \"%s\" is not a mail address", name, l.items[i]);
			goto bad;
		}
		snprintf(addr, sizeof(addr), "<%.*s>", (int) n, a);
		detector_list_add(out, addr);
	}
	detector_list_free(&l);
	return 0;
bad:
	detector_list_free(&l);
	return -1;
}

/* parse_response - action and what it needs */
static int parse_response(struct load *ld, config_setting_t *p, struct det_policy *pol)
{
	static const char *const acts[] = {"pass", "modify", "redirect", "block", NULL};
	const char *act, *reply;
	config_setting_t *s;
	char why[CONF_ERR_MAX];
	int a;

	if (get_str(ld, p, "action", 32, &act) < 0 || get_str(ld, p, "reply", 500, &reply) < 0)
		return -1;
	for (a = 0; act && acts[a]; a++)
		if (strcmp(acts[a], act) == 0)
			break;
	if (act && acts[a] == NULL)
		return load_error(ld, config_setting_get_member(p, "action"),
				  "action: expected pass, block, redirect or modify");
	pol->action = act ? (enum det_action) a : ACT_PASS;
	if (reply && pol->action != ACT_BLOCK)
		return load_error(ld, config_setting_get_member(p, "reply"),
				  "reply applies to action = \"block\"");
	if (pol->action == ACT_BLOCK) {
		if (reply == NULL)
			snprintf(pol->reply, sizeof(pol->reply),
				 "550 5.7.1 Message blocked by policy %s", pol->name);
		else if (conf_check_reply5xx(reply, why, sizeof(why)) < 0)
			return load_error(ld, config_setting_get_member(p, "reply"),
					  "reply: %s", why);
		else
			strlcpy(pol->reply, reply, sizeof(pol->reply));
	}
	if (parse_address_list(ld, p, "redirect_to", SCAN_MAX_REDIRECT, &pol->redirect) < 0)
		return -1;
	if (pol->action == ACT_REDIRECT && pol->redirect.count == 0)
		return load_error(ld, p, "action = \"redirect\" needs redirect_to addresses");
	if (pol->action != ACT_REDIRECT && pol->redirect.count)
		return load_error(ld, config_setting_get_member(p, "redirect_to"),
				  "redirect_to applies to action = \"redirect\"");
	{
		const char *r, *pre, *app;

		if (get_str(ld, p, "subject_replace", 400, &r) < 0
		    || get_str(ld, p, "subject_prepend", 200, &pre) < 0
		    || get_str(ld, p, "subject_append", 200, &app) < 0)
			return -1;
		pol->subject_replace = r ? xstrdup(r) : NULL;
		pol->subject_prepend = pre ? xstrdup(pre) : NULL;
		pol->subject_append = app ? xstrdup(app) : NULL;
	}
	if ((s = config_setting_get_member(p, "add_headers")) != NULL) {
		if (list_strings(ld, s, "add_headers", 900, DET_MAX_HEADERS_ADD,
				 &pol->add_headers)
		    < 0)
			return -1;
		for (size_t i = 0; i < pol->add_headers.count; i++)
			if (conf_check_header(pol->add_headers.items[i], why, sizeof(why)) < 0
			    || !detector_is_ascii(pol->add_headers.items[i],
						  strlen(pol->add_headers.items[i])))
				return load_error(ld, s,
						  "add_headers: \"%s\" is not an ASCII "
						  "Name: value header",
						  pol->add_headers.items[i]);
	}
	if ((pol->subject_replace || pol->subject_prepend || pol->subject_append
	     || pol->add_headers.count)
	    && pol->action != ACT_MODIFY && pol->action != ACT_REDIRECT)
		return load_error(ld, p,
				  "subject_* and add_headers apply to action = "
				  "\"modify\" or \"redirect\"");
	if (pol->action == ACT_MODIFY && !pol->subject_replace && !pol->subject_prepend
	    && !pol->subject_append && pol->add_headers.count == 0)
		return load_error(ld, p,
				  "action = \"modify\" needs subject_replace, "
				  "subject_prepend, subject_append or add_headers");
	if (parse_address_list(ld, p, "notify", DET_MAX_NOTIFY, &pol->notify) < 0
	    || get_bool(ld, p, "notify_sender", 0, &pol->notify_sender) < 0)
		return -1;
	return 0;
}

/* parse_exceptions - exceptions = { senders; recipients; domains; } */
static int parse_exceptions(struct load *ld, config_setting_t *p, struct det_policy *pol)
{
	static const char *const keys[] = {"senders", "recipients", "domains", NULL};
	config_setting_t *e = config_setting_get_member(p, "exceptions"), *s;

	if (e == NULL)
		return 0;
	if (!config_setting_is_group(e))
		return load_error(ld, e,
				  "exceptions: expected { senders = [...]; "
				  "recipients = [...]; domains = [...]; }");
	if (check_keys(ld, e, "exceptions", keys) < 0)
		return -1;
	if ((s = config_setting_get_member(e, "senders")) != NULL
	    && list_strings(ld, s, "senders", 320, DET_MAX_LIST, &pol->exc_senders) < 0)
		return -1;
	if ((s = config_setting_get_member(e, "recipients")) != NULL
	    && list_strings(ld, s, "recipients", 320, DET_MAX_LIST, &pol->exc_rcpts) < 0)
		return -1;
	if ((s = config_setting_get_member(e, "domains")) != NULL
	    && list_strings(ld, s, "domains", 255, DET_MAX_LIST, &pol->exc_domains) < 0)
		return -1;
	return 0;
}

/* parse_policy - one member of the policies list */
static int parse_policy(struct load *ld, config_setting_t *p, uint32_t pi)
{
	static const char *const keys[] = {"name",
					   "enabled",
					   "mode",
					   "severity",
					   "match",
					   "min_rules",
					   "rules",
					   "exceptions",
					   "action",
					   "reply",
					   "redirect_to",
					   "subject_replace",
					   "subject_prepend",
					   "subject_append",
					   "add_headers",
					   "notify",
					   "notify_sender",
					   NULL};
	static const char *const sevs[] = {"info", "low", "medium", "high", NULL};
	struct det_policyset *ps = ld->ps;
	struct det_policy *pol = &ps->policies[pi];
	config_setting_t *rules;
	const char *name, *mode, *sev, *match;
	int s;

	memset(pol, 0, sizeof(*pol));
	pol->line = config_setting_source_line(p);
	if (!config_setting_is_group(p))
		return load_error(ld, p, "a policy is a group: { name = \"...\"; ... }");
	if (check_keys(ld, p, "policy", keys) < 0
	    || get_str(ld, p, "name", DET_NAME_MAX, &name) < 0)
		return -1;
	if (name == NULL
	    || strspn(name,
		      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789_.-")
		    != strlen(name))
		return load_error(ld, p,
				  "policy name: required, letters, digits, '_', '.' "
				  "and '-' only");
	for (uint32_t i = 0; i < pi; i++)
		if (strcmp(ps->policies[i].name, name) == 0)
			return load_error(ld, p, "policy \"%s\" defined twice (line %d)", name,
					  ps->policies[i].line);
	pol->name = xstrdup(name);
	if (get_bool(ld, p, "enabled", 1, &pol->enabled) < 0
	    || get_str(ld, p, "mode", 16, &mode) < 0 || get_str(ld, p, "severity", 16, &sev) < 0
	    || get_str(ld, p, "match", 8, &match) < 0)
		return -1;
	if (mode && strcmp(mode, "prevent") != 0 && strcmp(mode, "monitor") != 0)
		return load_error(ld, config_setting_get_member(p, "mode"),
				  "mode: expected prevent or monitor");
	pol->monitor = mode && strcmp(mode, "monitor") == 0;
	pol->severity = SEV_MEDIUM;
	for (s = 0; sev && sevs[s]; s++)
		if (strcmp(sevs[s], sev) == 0)
			break;
	if (sev && sevs[s] == NULL)
		return load_error(ld, config_setting_get_member(p, "severity"),
				  "severity: expected high, medium, low or info");
	if (sev)
		pol->severity = (enum det_severity) s;
	if (match && strcmp(match, "all") != 0 && strcmp(match, "any") != 0)
		return load_error(ld, config_setting_get_member(p, "match"),
				  "match: expected all or any");
	pol->match_all = match && strcmp(match, "all") == 0;
	if ((rules = config_setting_get_member(p, "rules")) == NULL
	    || !config_setting_is_list(rules) || config_setting_length(rules) == 0)
		return load_error(ld, p,
				  "policy \"%s\": rules = ( { type = ...; }, ... ); "
				  "is required",
				  name);
	if (config_setting_length(rules) > DET_MAX_RULES)
		return load_error(ld, rules, "more than %d rules", DET_MAX_RULES);
	if (get_uint(ld, p, "min_rules", 1, 1, DET_MAX_RULES, &pol->min_rules) < 0)
		return -1;
	if (pol->min_rules > (unsigned) config_setting_length(rules))
		return load_error(ld, config_setting_get_member(p, "min_rules"),
				  "min_rules is more than the number of rules");
	if (pol->match_all && config_setting_get_member(p, "min_rules"))
		return load_error(ld, config_setting_get_member(p, "min_rules"),
				  "min_rules applies to match = \"any\"");
	pol->first_rule = (uint32_t) ps->nrules;
	for (int i = 0; i < config_setting_length(rules); i++)
		if (parse_rule(ld, config_setting_get_elem(rules, (unsigned) i), pi,
			       pol->enabled)
		    < 0)
			return -1;
	pol->nrules = (uint32_t) ps->nrules - pol->first_rule;
	for (uint32_t i = pol->first_rule; pol->enabled && i < ps->nrules; i++) {
		if (ps->rules[i].type <= RULE_LAST_CONTENT)
			ps->where_used |= ps->rules[i].where;
		if (ps->rules[i].type == RULE_EDM || ps->rules[i].type == RULE_DOCUMENT)
			ps->fp_where |= ps->rules[i].where;
	}
	if (parse_exceptions(ld, p, pol) < 0 || parse_response(ld, p, pol) < 0)
		return -1;
	return 0;
}

/* compile_all - one Hyperscan database for everything */
static int compile_all(struct load *ld)
{
	struct det_policyset *ps = ld->ps;
	const char **exprs;
	unsigned *ids;
	hs_compile_error_t *cerr = NULL;
	struct timespec t0, t1;

	/* identifier rules by kind: their candidates come from digit runs */
	for (size_t i = 0; i < ps->nrules; i++)
		if (ps->rules[i].type == RULE_IDENTIFIER
		    && ps->policies[ps->rules[i].policy].enabled) {
			enum det_ident id = ps->rules[i].ident;

			ps->id_rules[id] = xrealloc(ps->id_rules[id],
						    (ps->nid_rules[id] + 1) * sizeof(uint32_t));
			ps->id_rules[id][ps->nid_rules[id]++] = (uint32_t) i;
			ps->id_where |= ps->rules[i].where;
			ps->id_where_of[id] |= ps->rules[i].where;
		}
	/* the anchors of the identifiers in use, once each */
	for (int id = 0; id < IDENT_COUNT; id++) {
		int ci;
		const char *const *an = detector_ident_anchors((enum det_ident) id, &ci);
		struct buf expr;

		if (ps->nid_rules[id] == 0 || an == NULL)
			continue;
		buf_init(&expr, 64);
		for (size_t k = 0; an[k]; k++) {
			keyword_expr(ld, an[k], 0, &expr);
			pattern_add(ld, 0, PAT_ANCHOR, expr.data, ci ? HS_FLAG_CASELESS : 0,
				    an[k], 0);
			ps->pats[ps->npats - 1].ident = (enum det_ident) id;
		}
		buf_free(&expr);
	}
	if (ps->npats == 0)
		return 0;
	exprs = xcalloc(ps->npats, sizeof(char *));
	ids = xcalloc(ps->npats, sizeof(unsigned));
	for (size_t i = 0; i < ps->npats; i++) {
		exprs[i] = ld->expr.data + ld->expr_off[i];
		ids[i] = (unsigned) i;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (hs_compile_multi(exprs, ld->flags, ids, (unsigned) ps->npats, HS_MODE_BLOCK, NULL,
			     &ps->db, &cerr)
	    != HS_SUCCESS) {
		int bad = cerr ? cerr->expression : -1;

		snprintf(ld->err, ld->errlen,
			 "%s:%d: cannot compile the pattern database%s%.80s%s: %s", ld->path,
			 bad >= 0 ? ld->pat_line[bad] : 0, bad >= 0 ? " (\"" : "",
			 bad >= 0 ? exprs[bad] : "", bad >= 0 ? "\")" : "",
			 cerr ? cerr->message : "unknown error");
		hs_free_compile_error(cerr);
		free(exprs);
		free(ids);
		ps->db = NULL;
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ps->compile_ms = (double) (t1.tv_sec - t0.tv_sec) * 1e3
		+ (double) (t1.tv_nsec - t0.tv_nsec) / 1e6;
	free(exprs);
	free(ids);
	return 0;
}

/* detector_policy_free - release a policy set */
void detector_policy_free(struct det_policyset *ps)
{
	if (ps == NULL)
		return;
	for (size_t i = 0; i < ps->npolicies; i++) {
		struct det_policy *p = &ps->policies[i];

		free(p->name);
		detector_list_free(&p->exc_senders);
		detector_list_free(&p->exc_rcpts);
		detector_list_free(&p->exc_domains);
		detector_list_free(&p->redirect);
		detector_list_free(&p->add_headers);
		detector_list_free(&p->notify);
		free(p->subject_replace);
		free(p->subject_prepend);
		free(p->subject_append);
	}
	for (size_t i = 0; i < ps->nrules; i++) {
		detector_list_free(&ps->rules[i].headers);
		detector_list_free(&ps->rules[i].patterns);
		detector_list_free(&ps->rules[i].types);
		detector_list_free(&ps->rules[i].names);
	}
	for (size_t i = 0; i < ps->npats; i++) {
		struct det_phrase *ph = ps->pats[i].phrase;

		free(ps->pats[i].text);
		free(ps->pats[i].sample);
		for (size_t w = 0; ph && w < ph->nwords; w++) {
			free(ph->lo[w]);
			free(ph->up[w]);
		}
		if (ph) {
			free(ph->lo);
			free(ph->up);
			free(ph->len);
			free(ph);
		}
	}
	for (int i = 0; i < IDENT_COUNT; i++)
		free(ps->id_rules[i]);
	for (size_t i = 0; i < ps->nfpi; i++)
		detector_fpindex_close(ps->fpi[i]);
	free(ps->fpi);
	if (ps->db)
		hs_free_database(ps->db);
	free(ps->policies);
	free(ps->rules);
	free(ps->pats);
	free(ps->source);
	free(ps);
}

/* policy_path - policy_file, relative to the configuration directory */
static void policy_path(const char *confdir, char *path, size_t len)
{
	if (*var_policy_file == '/')
		strlcpy(path, var_policy_file, len);
	else
		snprintf(path, len, "%s/%s", confdir, var_policy_file);
}

/* save_good - the file that compiled, kept for when a later one does not */
static void save_good(config_t *cfg, const char *save_to)
{
	char *text = NULL, err[CONF_ERR_MAX];
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	if (fp == NULL)
		msg_fatal("open_memstream: %s", strerror(errno));
	config_write(cfg, fp);
	if (fclose(fp) != 0)
		msg_fatal("save_good: %s", strerror(errno));
	if (file_replace(save_to, text, len, 0600, (uid_t) -1, (gid_t) -1, err, sizeof(err))
	    < 0)
		evt_warn(DET_STATE, NULL, "reason=\"cannot save the good copy: %s\"", err);
	free(text);
}

/* load_file - parse and compile one file; the good copy goes to save_to */
static struct det_policyset *load_file(const char *confdir, const char *path,
				       const char *save_to, enum fp_open_mode fpmode, char *err,
				       size_t errlen)
{
	static const char *const top[] = {"policies", NULL};
	struct load ld;
	config_t cfg;
	config_setting_t *list;
	char dir[PATH_MAX], *slash;
	int rc = -1, n;

	memset(&ld, 0, sizeof(ld));
	ld.confdir = confdir;
	ld.fpmode = fpmode;
	strlcpy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = 0;
	else
		strcpy(dir, ".");
	ld.path = path;
	ld.dir = dir;
	ld.err = err;
	ld.errlen = errlen;
	ld.ps = xcalloc(1, sizeof(*ld.ps));
	ld.utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
	buf_init(&ld.expr, 4096);
	config_init(&cfg);
	if (access(path, F_OK) < 0 && errno == ENOENT && save_to) {
		/* no policy file at all: no policies, as a fresh install has */
		msg_warn("%s: no such file: no policies, every message passes", path);
		ld.ps->source = xstrdup(path);
		rc = 0;
		goto out;
	}
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		else
			snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&cfg),
				 config_error_text(&cfg));
		goto out;
	}
	if (check_keys(&ld, config_root_setting(&cfg), "policies.conf", top) < 0)
		goto out;
	list = config_lookup(&cfg, "policies");
	if (list == NULL) {
		ld.ps->source = xstrdup(path);
		rc = 0; /* no policies: every message passes */
		goto out;
	}
	if (!config_setting_is_list(list)) {
		load_error(&ld, list, "policies = ( { ... }, { ... } ); expected");
		goto out;
	}
	n = config_setting_length(list);
	if (n > DET_MAX_POLICIES) {
		load_error(&ld, list, "more than %d policies", DET_MAX_POLICIES);
		goto out;
	}
	ld.ps->policies = xcalloc((size_t) n + 1, sizeof(*ld.ps->policies));
	for (int i = 0; i < n; i++) {
		ld.ps->npolicies = (size_t) i + 1;
		if (parse_policy(&ld, config_setting_get_elem(list, (unsigned) i), (uint32_t) i)
		    < 0)
			goto out;
	}
	if (ld.ps->npats > DET_MAX_PATTERNS) {
		load_error(&ld, list, "more than %d patterns in all", DET_MAX_PATTERNS);
		goto out;
	}
	if (compile_all(&ld) < 0)
		goto out;
	if (ld.external_line && save_to)
		msg_warn("%s:%d: external = true, but internal_domains is empty: every "
			 "recipient counts as external",
			 path, ld.external_line);
	ld.ps->source = xstrdup(path);
	rc = 0;
out:
	if (rc == 0 && save_to)
		save_good(&cfg, save_to);
	config_destroy(&cfg);
	buf_free(&ld.expr);
	free(ld.expr_off);
	free(ld.flags);
	free(ld.pat_line);
	if (ld.utf8 != (locale_t) 0)
		freelocale(ld.utf8);
	if (rc < 0) {
		detector_policy_free(ld.ps);
		return NULL;
	}
	ld.ps->loaded = time(NULL);
	return ld.ps;
}

/* detector_policy_load - the policies of a file, or NULL with err */
struct det_policyset *detector_policy_load(const char *confdir, const char *file, char *err,
					   size_t errlen)
{
	char path[PATH_MAX];

	if (file == NULL)
		policy_path(confdir, path, sizeof(path));
	else
		strlcpy(path, file, sizeof(path));
	return load_file(confdir, path, NULL, FP_OPEN_SOURCE, err, errlen);
}

/* detector_policy_check - `dlpscan -t`: 0, or -1 with file:line in err */
int detector_policy_check(const char *confdir, char *err, size_t errlen)
{
	struct det_policyset *ps;
	char path[PATH_MAX];

	policy_path(confdir, path, sizeof(path));
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		snprintf(err, errlen, "%s: no such file: no policies, every message passes",
			 path);
		return 0;
	}
	if ((ps = detector_policy_load(confdir, NULL, err, errlen)) == NULL)
		return -1;
	snprintf(err, errlen, "%s: %zu policies, %zu rules, %zu patterns", ps->source,
		 ps->npolicies, ps->nrules, ps->npats);
	for (size_t i = 0; i < ps->nfpi; i++) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, "%s%s %s", i ? ", " : "; indexes ",
			 ps->fpi[i]->name, ps->fpi[i]->kind == FP_EDM ? "(edm)" : "(idm)");
	}
	detector_policy_free(ps);
	return 0;
}

/* gen_tag - what identifies this master generation */
static void gen_tag(char *buf, size_t len)
{
	snprintf(buf, len, "%ld %u\n", (long) getppid(), server.generation);
}

/* read_small - a small file's text, or empty */
static void read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	buf[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
}

/* write_small - replace a small file; a detector of a later start writes it again */
static void write_small(const char *path, const char *text)
{
	char err[CONF_ERR_MAX];

	(void) file_replace(path, text, strlen(text), 0600, (uid_t) -1, (gid_t) -1, err,
			    sizeof(err));
}

/* fp_prune_good - last good copies of indexes the new policies do not use go */
static void fp_prune_good(const struct det_policyset *ps)
{
	char **keep = xcalloc(ps->nfpi + 1, sizeof(char *));

	for (size_t i = 0; i < ps->nfpi; i++)
		keep[i] =
			xasprintf("%s%s", ps->fpi[i]->name, detector_fp_ext(ps->fpi[i]->kind));
	detector_fp_good_prune((const char *const *) keep, ps->nfpi);
	for (size_t i = 0; i < ps->nfpi; i++)
		free(keep[i]);
	free(keep);
}

/* detector_policy_startup - the policies this detector runs, or NULL */
struct det_policyset *detector_policy_startup(const char *confdir, int *fallback)
{
	char path[PATH_MAX], good[PATH_MAX], gen[PATH_MAX], tag[64], have[64];
	char err[CONF_ERR_MAX], err2[CONF_ERR_MAX];
	struct det_policyset *ps;
	struct stat st;

	*fallback = 0;
	policy_path(confdir, path, sizeof(path));
	snprintf(good, sizeof(good), "%s/%s/%s", var_run_directory, POLICY_STATE_DIR,
		 POLICY_GOOD);
	snprintf(gen, sizeof(gen), "%s/%s/%s", var_run_directory, POLICY_STATE_DIR, POLICY_GEN);
	gen_tag(tag, sizeof(tag));
	read_small(gen, have, sizeof(have));
	/* a sibling of this generation already read the file: run the same */
	if (strcmp(tag, have) == 0
	    && (ps = load_file(confdir, good, NULL, FP_OPEN_GOOD, err, sizeof(err))) != NULL) {
		msg_debug("policies of generation %u from %s", server.generation, good);
		free(ps->source);
		ps->source = xstrdup(path);
		return ps;
	}
	if ((ps = load_file(confdir, path, good, FP_OPEN_SAVE, err, sizeof(err))) != NULL) {
		write_small(gen, tag);
		fp_prune_good(ps);
		evt_info(POLICY_LOADED, NULL,
			 "file=%s policies=%zu rules=%zu patterns=%zu "
			 "compile=%.1fms",
			 path, ps->npolicies, ps->nrules, ps->npats, ps->compile_ms);
		return ps;
	}
	evt_error(POLICY_REFUSED, NULL, "reason=\"%s\"", err);
	if ((ps = load_file(confdir, good, NULL, FP_OPEN_GOOD, err2, sizeof(err2))) == NULL) {
		evt_error(POLICY_NONE, NULL, "reason=\"no last good copy (%s)\"", err2);
		return NULL;
	}
	*fallback = 1;
	write_small(gen, tag);
	evt_warn(POLICY_KEPT, NULL, "file=%s saved=%ld policies=%zu", good,
		 stat(good, &st) == 0 ? (long) st.st_mtime : 0L, ps->npolicies);
	free(ps->source);
	ps->source = xstrdup(good);
	return ps;
}
