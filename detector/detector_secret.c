/*
 * detector_secret - identifiers found from anchors: secrets and SWIFT/BIC
 *
 * Hyperscan reports every anchor literal of the identifiers in use (see
 * detector_ident_anchors()); detector_ident_anchor() then reads the text
 * around that one place and decides:
 *
 *	pem_private_key	"-----BEGIN ... PRIVATE KEY-----" (PKCS#1, PKCS#8,
 *			OpenSSH, encrypted, PGP "PRIVATE KEY BLOCK") with a
 *			body of at least 64 base64 characters, or a PuTTY
 *			key file with its Private-Lines
 *	aws_access_key	AKIA or ASIA and 16 more upper-case letters and
 *			digits, standing alone
 *	aws_secret_key	40 base64 characters of mixed case and digits after
 *			an access key id or an aws_secret_access_key name
 *	github_token	ghp_, gho_, ghu_, ghs_, ghr_ and 36 letters and digits
 *			whose last six are the base62 CRC32 of the thirty
 *			before; github_pat_ and 82 more
 *	gitlab_token	glpat-, gldt-, glrt-... and 20 or more token characters
 *	slack_token	xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxe-, xapp- tokens,
 *			and incoming-webhook URLs
 *	jwt		three base64url parts whose first decodes to a JSON
 *			header naming its "alg", the second to a JSON object,
 *			and a signature
 *	db_url_password	a database URL (PostgreSQL, MySQL, MariaDB, MongoDB,
 *			Redis, AMQP, SQL Server, Oracle, DB2, ClickHouse...)
 *			with a password in it, or a JDBC URL with password=;
 *			placeholders (password, ****, ${VAR}, <pass>) do not
 *			count
 *	swift_bic	the first code after the word SWIFT or BIC that has
 *			an ISO 3166 country in its fifth and sixth letters
 *
 * Every look is bounded (a few kilobytes at most), and an anchor inside a
 * stretch already read for the same identifier is skipped, so anchors
 * repeated by a hostile text cost linear time. Documentation examples
 * (AWS's ...EXAMPLE keys) are refused like the SSA's advertising numbers.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "detector.h"

#define PEM_BODY_MAX 16384
#define JWT_PART_MAX 8192
#define URL_MAX      512

/* b64ch - a base64 or base64url character */
static int b64ch(char c)
{
	return isalnum((unsigned char) c) || c == '+' || c == '/' || c == '-' || c == '_';
}

/* alnum - an ASCII letter or digit */
static int alnum(char c)
{
	return isalnum((unsigned char) c) != 0;
}

/* put - report a value with a sample made by the caller */
static void put(det_found_fn found, void *ctx, enum det_ident id, size_t s, size_t e,
		const char *sample)
{
	struct det_found f;

	f.id = id;
	f.start = s;
	f.end = e;
	f.weak = 0;
	snprintf(f.sample, DET_SAMPLE_MAX + 1, "%s", sample);
	found(ctx, &f);
}

/* tail_mask - the first k characters of [s, e), stars, and the last four */
static void tail_mask(const char *d, size_t s, size_t e, size_t k, char *out, size_t outlen)
{
	size_t n = e - s, tail;

	if (k > n)
		k = n;
	tail = n >= k + 12 ? 4 : 0;
	snprintf(out, outlen, "%.*s********%.*s", (int) k, d + s, (int) tail, d + e - tail);
}

/* ---- PEM and PuTTY private keys ---------------------------------------- */

/* pem_body - base64 characters of the lines after p, up to an END line */
static size_t pem_body(const char *d, size_t len, size_t p, size_t *end)
{
	size_t lim = len - p < PEM_BODY_MAX ? len : p + PEM_BODY_MAX, b64 = 0;
	int headers = 1;

	while (p < lim) {
		size_t ls = p, n = 0, other = 0;

		while (p < lim && d[p] != '\n') {
			if (b64ch(d[p]) || d[p] == '=')
				n++;
			else if (d[p] != '\r' && d[p] != ' ' && d[p] != '\t')
				other++;
			p++;
		}
		if (p < lim)
			p++;
		if (p - ls > 5 && memcmp(d + ls, "-----", 5) == 0)
			break;
		/* Proc-Type:, DEK-Info:, Comment:, Version: headers, blank lines */
		if (headers && (memchr(d + ls, ':', p - ls) || n == 0))
			continue;
		headers = 0;
		if (other > 0 || n == 0)
			break;
		b64 += n;
	}
	*end = p;
	return b64;
}

/* pem_key - the BEGIN line that ends with the anchor at [at, end) */
static size_t pem_key(const char *d, size_t len, size_t at, size_t end, det_found_fn found,
		      void *ctx)
{
	size_t s = at, e;
	char sample[DET_SAMPLE_MAX + 8];

	if (memcmp(d + at, "PuTTY", 5) == 0) {
		const char *pl;

		if (at > 0 && d[at - 1] != '\n')
			return end;
		pl = memmem(d + end, len - end < 4096 ? len - end : 4096,
			    "\nPrivate-Lines:", 15);
		if (pl == NULL || pem_body(d, len, (size_t) (pl - d) + 1, &e) < 64)
			return end;
		put(found, ctx, IDENT_PEM_KEY, at, e, "PuTTY-User-Key-File ****");
		return e;
	}
	/* back to "-----BEGIN ": the key type is capitals and spaces */
	while (s > 0 && at - s < 40 && (isupper((unsigned char) d[s - 1]) || d[s - 1] == ' '))
		s--;
	if (s < 5 || memcmp(d + s - 5, "-----", 5) != 0 || at - s < 6
	    || memcmp(d + s, "BEGIN ", 6) != 0)
		return end;
	s -= 5;
	if (pem_body(d, len, end, &e) < 64)
		return end;
	snprintf(sample, sizeof(sample), "%.*s ****", (int) (end - s < 48 ? end - s : 48),
		 d + s);
	put(found, ctx, IDENT_PEM_KEY, s, e, sample);
	return e;
}

/* ---- AWS ------------------------------------------------------------------ */

/* aws_id - AKIA/ASIA and 16 capitals or digits, alone; its end or 0 */
static size_t aws_id(const char *d, size_t len, size_t at)
{
	size_t e = at + 20;

	if ((at > 0 && alnum(d[at - 1])) || e > len || (e < len && alnum(d[e]))
	    || (memcmp(d + at, "AKIA", 4) != 0 && memcmp(d + at, "ASIA", 4) != 0))
		return 0;
	for (size_t i = at + 4; i < e; i++)
		if (!(isupper((unsigned char) d[i]) || isdigit((unsigned char) d[i])))
			return 0;
	if (memmem(d + at, 20, "EXAMPLE", 7) != NULL)
		return 0;
	return e;
}

/* aws_secret - a 40-character secret access key after p (within 160 bytes) */
static int aws_secret(const char *d, size_t len, size_t p, size_t *s, size_t *e)
{
	size_t lim = len - p < 160 ? len : p + 160;

	while (p < lim) {
		size_t q = p;
		int up = 0, lo = 0, dg = 0;

		if (!(alnum(d[p]) || d[p] == '+' || d[p] == '/')) {
			p++;
			continue;
		}
		while (q < len && (alnum(d[q]) || d[q] == '+' || d[q] == '/')) {
			up |= isupper((unsigned char) d[q]) != 0;
			lo |= islower((unsigned char) d[q]) != 0;
			dg |= isdigit((unsigned char) d[q]) != 0;
			q++;
		}
		if (q - p == 40 && up && lo && dg && !(q < len && d[q] == '=')
		    && memmem(d + p, 40, "EXAMPLE", 7) == NULL) {
			*s = p;
			*e = q;
			return 1;
		}
		p = q;
	}
	return 0;
}

/* ---- GitHub, GitLab, Slack ------------------------------------------------ */

/* crc32_ieee - the CRC-32 of zlib and PNG, bit by bit (short inputs only) */
static uint32_t crc32_ieee(const char *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= (unsigned char) p[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

/* b62 - a base62 digit (0-9, A-Z, a-z), -1 if none */
static int b62(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 36;
	return -1;
}

/* detector_github_ok - a classic GitHub token: 30 characters and their CRC */
int detector_github_ok(const char *tok, size_t n)
{
	uint64_t v = 0;

	if (n != 40 || tok[0] != 'g' || tok[1] != 'h' || tok[3] != '_')
		return 0;
	for (size_t i = 4; i < 40; i++)
		if (b62(tok[i]) < 0)
			return 0;
	for (size_t i = 34; i < 40; i++)
		v = v * 62 + (uint64_t) b62(tok[i]);
	return v == crc32_ieee(tok + 4, 30);
}

/* run_of - characters of a class from p, at most max; its end */
static size_t run_of(const char *d, size_t len, size_t p, size_t max, const char *extra)
{
	size_t q = p;

	while (q < len && q - p <= max && (alnum(d[q]) || (d[q] && strchr(extra, d[q]))))
		q++;
	return q;
}

/* github - a token after its prefix at [at, end) */
static size_t github(const char *d, size_t len, size_t at, size_t end, det_found_fn found,
		     void *ctx)
{
	char sample[DET_SAMPLE_MAX + 8];
	size_t e;

	if (at > 0 && (alnum(d[at - 1]) || d[at - 1] == '_'))
		return end;
	if (end - at == 11) { /* github_pat_: 22 + '_' + 59 */
		e = run_of(d, len, end, 100, "_");
		if (e - end != 82 || d[end + 22] != '_')
			return end;
	} else {
		e = run_of(d, len, end, 40, "");
		if (e - at != 40 || (e < len && d[e] == '_') || !detector_github_ok(d + at, 40))
			return end;
	}
	tail_mask(d, at, e, end - at, sample, sizeof(sample));
	put(found, ctx, IDENT_GITHUB, at, e, sample);
	return e;
}

/* gitlab - glpat-... and the other GitLab token prefixes */
static size_t gitlab(const char *d, size_t len, size_t at, size_t end, det_found_fn found,
		     void *ctx)
{
	char sample[DET_SAMPLE_MAX + 8];
	size_t e = run_of(d, len, end, 200, "_-.");
	int mixed = 0;

	if (at > 0 && (alnum(d[at - 1]) || d[at - 1] == '_' || d[at - 1] == '-'))
		return end;
	while (e > end && (d[e - 1] == '.' || d[e - 1] == '-'))
		e--;
	for (size_t i = end; i < e; i++)
		mixed |= isdigit((unsigned char) d[i]) || isupper((unsigned char) d[i]);
	if (e - end < 20 || e - end > 200 || !mixed)
		return end;
	tail_mask(d, at, e, end - at, sample, sizeof(sample));
	put(found, ctx, IDENT_GITLAB, at, e, sample);
	return e;
}

/* slack - xox?- tokens and hooks.slack.com/services/T.../B.../... */
static size_t slack(const char *d, size_t len, size_t at, size_t end, det_found_fn found,
		    void *ctx)
{
	char sample[DET_SAMPLE_MAX + 8];
	size_t e, p;
	int digits = 0;

	if (d[at] == 'h') {
		/* T<team>/B<bot>/<secret> */
		p = end;
		if (p >= len || d[p] != 'T' || (p = run_of(d, len, p, 20, "")) - end < 7
		    || p >= len || d[p] != '/' || p + 1 >= len || d[p + 1] != 'B')
			return end;
		e = run_of(d, len, p + 1, 20, "");
		if (e - p < 8 || e >= len || d[e] != '/')
			return end;
		p = e + 1;
		e = run_of(d, len, p, 40, "");
		if (e - p < 20)
			return end;
		snprintf(sample, sizeof(sample), "hooks.slack.com/services/****");
		put(found, ctx, IDENT_SLACK, at, e, sample);
		return e;
	}
	if (at > 0 && (alnum(d[at - 1]) || d[at - 1] == '-'))
		return end;
	p = end;
	if (d[end - 1] == '.') { /* xoxe.xoxp-1-...: a refreshable token */
		if (len - p < 5 || memcmp(d + p, "xox", 3) != 0 || d[p + 4] != '-')
			return end;
		p += 5;
	}
	e = run_of(d, len, p, 200, "-");
	while (e > p && d[e - 1] == '-')
		e--;
	for (size_t i = p; i < e; i++)
		digits += isdigit((unsigned char) d[i]) != 0;
	if (e - p < 20 || digits < 4)
		return end;
	tail_mask(d, at, e, p - at, sample, sizeof(sample));
	put(found, ctx, IDENT_SLACK, at, e, sample);
	return e;
}

/* ---- JWT ------------------------------------------------------------------ */

/* b64val - the value of a base64 or base64url character, -1 if none */
static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' || c == '+' ? 62 : c == '_' || c == '/' ? 63 : -1;
}

/* b64url_decode - decode up to max bytes of base64url (or base64) text */
static size_t b64url_decode(const char *s, size_t n, char *out, size_t max)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t j = 0;

	for (size_t i = 0; i < n && j < max; i++) {
		int v = b64val(s[i]);

		if (v < 0)
			break;
		acc = acc << 6 | (uint32_t) v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[j++] = (char) (acc >> bits & 0xff);
		}
	}
	return j;
}

/* jwt_part - a base64url part from p; its end */
static size_t jwt_part(const char *d, size_t len, size_t p)
{
	size_t q = p;

	while (q < len && q - p <= JWT_PART_MAX
	       && (isalnum((unsigned char) d[q]) || d[q] == '-' || d[q] == '_'))
		q++;
	return q;
}

/* jwt - header.payload.signature from the "eyJ" at at */
static size_t jwt(const char *d, size_t len, size_t at, size_t end, det_found_fn found,
		  void *ctx)
{
	char head[256], sample[DET_SAMPLE_MAX + 8], alg[16] = "";
	size_t h, p, s, hn;
	const char *a;

	(void) end;
	if (at > 0 && (alnum(d[at - 1]) || d[at - 1] == '-' || d[at - 1] == '_'))
		return at + 3;
	h = jwt_part(d, len, at);
	if (h - at > JWT_PART_MAX || h >= len || d[h] != '.')
		return h;
	p = jwt_part(d, len, h + 1);
	if (p - h - 1 < 4 || p - h - 1 > JWT_PART_MAX || p >= len || d[p] != '.'
	    || memcmp(d + h + 1, "eyJ", 3) != 0)
		return p;
	s = jwt_part(d, len, p + 1);
	if (s - p - 1 < 16 || s - p - 1 > JWT_PART_MAX || (s < len && d[s] == '.'))
		return s;
	hn = b64url_decode(d + at, h - at, head, sizeof(head) - 1);
	head[hn] = 0;
	if (head[0] != '{' || (a = strstr(head, "\"alg\"")) == NULL)
		return s;
	/* "alg":"HS256": the name for the sample (not secret) */
	a = strchr(a + 5, '"');
	if (a) {
		size_t k = 0;

		for (a++; *a && *a != '"' && k + 1 < sizeof(alg); a++)
			if (isalnum((unsigned char) *a))
				alg[k++] = *a;
		alg[k] = 0;
	}
	snprintf(sample, sizeof(sample), "JWT alg=%s ****%.4s", alg[0] ? alg : "?", d + s - 4);
	put(found, ctx, IDENT_JWT, at, s, sample);
	return s;
}

/* ---- database URLs ------------------------------------------------------- */

/* placeholder - a password that stands for one: password, ****, ${X}, <x> */
static int placeholder(const char *p, size_t n)
{
	static const char *const words[] = {
		"password",      "passwd",     "pass",    "pwd",
		"secret",        "changeme",   "example", "yourpassword",
		"your_password", "mypassword", "pass123", "xxx",
		"xxxx",          "xxxxx",      "xxxxxx",  "xxxxxxxx",
		"null",          "none",       NULL};
	size_t star = 0;

	if (n == 0 || strchr("$<{[%", p[0]))
		return 1;
	for (size_t i = 0; i < n; i++)
		star += p[i] == '*' || p[i] == '.' || p[i] == '#';
	if (star == n)
		return 1;
	for (int i = 0; words[i]; i++)
		if (strlen(words[i]) == n && strncasecmp(p, words[i], n) == 0)
			return 1;
	return 0;
}

/* url_end - where a URL ends: white space, quotes, brackets, controls */
static size_t url_end(const char *d, size_t len, size_t p)
{
	size_t lim = len - p < URL_MAX ? len : p + URL_MAX;

	while (p < lim && (unsigned char) d[p] > 0x20 && !strchr("\"'<>`()|\\", d[p])
	       && d[p] != 0x7f)
		p++;
	return p;
}

/* db_url - scheme://user:password@host */
static size_t db_url(const char *d, size_t len, size_t at, size_t end, det_found_fn found,
		     void *ctx)
{
	char sample[DET_SAMPLE_MAX + 8];
	size_t e, at_sign = 0, colon = 0;

	if (at > 0 && (alnum(d[at - 1]) || d[at - 1] == '+' || d[at - 1] == '.'))
		return end;
	e = url_end(d, len, end);
	if (d[end - 1] == ':') { /* jdbc: ...password=... or user/pass@ */
		const char *pw = NULL;

		for (size_t i = end; i + 9 <= e; i++)
			if (strncasecmp(d + i, "password=", 9) == 0
			    && (d[i - 1] == ';' || d[i - 1] == '?' || d[i - 1] == '&')) {
				pw = d + i + 9;
				break;
			}
		if (pw) {
			size_t n = 0;

			while ((size_t) (pw - d) + n < e && pw[n] != ';' && pw[n] != '&')
				n++;
			if (placeholder(pw, n))
				return e;
		} else {
			/* jdbc:oracle:thin:user/pass@host */
			const char *sl, *as;

			if (e - end < 12 || strncasecmp(d + end, "oracle:thin:", 12) != 0
			    || (as = memchr(d + end, '@', e - end)) == NULL
			    || (sl = memchr(d + end + 12, '/', (size_t) (as - d) - end - 12))
				    == NULL
			    || placeholder(sl + 1, (size_t) (as - sl) - 1))
				return e;
		}
		/* jdbc:subprotocol:, and no more */
		{
			size_t k = end;

			while (k < e && k - end < 16 && alnum(d[k]))
				k++;
			snprintf(sample, sizeof(sample), "%.*s: ... password ****",
				 (int) (k - at), d + at);
		}
		put(found, ctx, IDENT_DB_URL, at, e, sample);
		return e;
	}
	/* the last '@' before the path: passwords hold unencoded '@', '#', '?' */
	for (size_t i = end; i < e && d[i] != '/'; i++)
		if (d[i] == '@')
			at_sign = i;
	if (at_sign == 0 || at_sign + 1 >= e)
		return e;
	for (size_t i = end; i < at_sign; i++)
		if (d[i] == ':') {
			colon = i;
			break;
		}
	if (colon == 0 || placeholder(d + colon + 1, at_sign - colon - 1)
	    || !(alnum(d[at_sign + 1]) || d[at_sign + 1] == '['))
		return e;
	snprintf(sample, sizeof(sample), "%.*s****:****@%.*s", (int) (end - at), d + at,
		 (int) (url_end(d, len, at_sign + 1) - at_sign - 1 < 24
				? url_end(d, len, at_sign + 1) - at_sign - 1
				: 24),
		 d + at_sign + 1);
	put(found, ctx, IDENT_DB_URL, at, e, sample);
	return e;
}

/* ---- SWIFT/BIC ------------------------------------------------------------ */

/* bic - the first code after SWIFT or BIC: DEUTDEFF, DEUTDEFF500 */
static size_t bic(const char *d, size_t len, size_t at, size_t end, det_found_fn found,
		  void *ctx)
{
	static const char *const filler[] = {"code",    "bic", "swift", "no",  "nr", "number",
					     "address", "id",  "of",    "the", "is", NULL};
	size_t lim = len - end < 48 ? len : end + 48, p = end, q, n;
	char v[12], sample[DET_SAMPLE_MAX + 8];
	int f;

	if ((at > 0 && alnum(d[at - 1]))
	    || (end < len && isalpha((unsigned char) d[end])
		&& !(len - end >= 4 && strncasecmp(d + end, "code", 4) == 0)))
		return end;
	for (;;) {
		/* the next word, on this line or the next */
		while (p < lim && !alnum(d[p])) {
			if (d[p] == '\n' && p + 1 < len
			    && (d[p + 1] == '\n' || d[p + 1] == '\r'))
				return p; /* a paragraph later: out of context */
			p++;
		}
		for (q = p; q < len && q - p < 12 && alnum(d[q]); q++)
			/* void */;
		if (p >= lim || (n = q - p) == 0)
			return p;
		f = 0;
		for (int i = 0; filler[i]; i++)
			f |= strlen(filler[i]) == n && strncasecmp(d + p, filler[i], n) == 0;
		if (!f)
			break;
		p = q;
	}
	if ((n != 8 && n != 11) || (q < len && alnum(d[q])))
		return q;
	memcpy(v, d + p, n);
	if (!detector_valid_bic(v, n))
		return q;
	snprintf(sample, sizeof(sample), "%.6s**%s", v, n == 11 ? "***" : "");
	put(found, ctx, IDENT_BIC, p, q, sample);
	return q;
}

/* detector_ident_anchor - an anchor of an identifier at [at, end): look around */
void detector_ident_anchor(enum det_ident id, const char *d, size_t len, size_t at, size_t end,
			   size_t *done, det_found_fn found, void *ctx)
{
	size_t e = end, s, se;
	char sample[DET_SAMPLE_MAX + 8];

	if (at < done[id] || end > len)
		return; /* inside what was read already */
	switch (id) {
	case IDENT_PEM_KEY:
		e = pem_key(d, len, at, end, found, ctx);
		break;
	case IDENT_AWS_KEY:
		if ((e = aws_id(d, len, at)) == 0)
			return;
		tail_mask(d, at, e, 4, sample, sizeof(sample));
		put(found, ctx, id, at, e, sample);
		break;
	case IDENT_AWS_SECRET:
		/* after an access key id, or after the name of the setting */
		if (end - at == 4 && (end = aws_id(d, len, at)) == 0)
			return;
		if (!aws_secret(d, len, end, &s, &se))
			return;
		tail_mask(d, s, se, 0, sample, sizeof(sample));
		put(found, ctx, id, s, se, sample);
		e = se;
		break;
	case IDENT_GITHUB:
		e = github(d, len, at, end, found, ctx);
		break;
	case IDENT_GITLAB:
		e = gitlab(d, len, at, end, found, ctx);
		break;
	case IDENT_SLACK:
		e = slack(d, len, at, end, found, ctx);
		break;
	case IDENT_JWT:
		e = jwt(d, len, at, end, found, ctx);
		break;
	case IDENT_DB_URL:
		e = db_url(d, len, at, end, found, ctx);
		break;
	case IDENT_BIC:
		e = bic(d, len, at, end, found, ctx);
		break;
	default:
		return;
	}
	if (e > done[id])
		done[id] = e;
}
