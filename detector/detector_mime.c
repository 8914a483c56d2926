/*
 * detector_mime - a single-pass MIME parser that hands text to the matcher
 *
 * detector_mime_scan() walks the message once, front to back, with a
 * stack of the open multipart boundaries; it builds no tree. Each entity's
 * header section is read (fields unfolded, bounded), then:
 *
 *	multipart/...	its boundary is pushed; a delimiter line of any open
 *			boundary ends the current part (an outer one closes
 *			the inner multiparts too, as mail readers do)
 *	message/rfc822	the attached message's headers follow at once
 *	anything else	a leaf: its body runs to the next delimiter; it is
 *			decoded (base64, quoted-printable), converted to
 *			UTF-8 (text), turned into text (HTML), opened
 *			(archives, Office documents) and handed to the matcher
 *
 * Text units and where they count:
 *	the top-level Subject		subject
 *	top-level header values		header (RFC 2047 decoded)
 *	inline text parts		body
 *	attachments, attached messages	attachment (and their file names:
 *					attachment_name)
 * In multipart/alternative, the alternative with the most matches counts,
 * not the sum of the text and HTML versions of the same words.
 *
 * Limits (detector_depth_limit, detector_part_limit,
 * detector_decoded_size_limit, the scan deadline) stop the walk where
 * they are reached; what was read is scanned and the message is marked as
 * not completely scanned. Identity-encoded parts are scanned in place in
 * the mapped message: no copy.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "detector.h"

#define MIME_FIELD_MAX		65536	/* bytes of one unfolded header field */
#define MIME_FIELDS_MAX		10000	/* header fields per entity */
#define MIME_BOUNDARY_MAX	200

enum mime_enc {
	ENC_IDENTITY,
	ENC_BASE64,
	ENC_QP,
};

struct mime_entity {
	char    type[96];		/* "text/plain", lower case */
	char    charset[48];
	char    boundary[MIME_BOUNDARY_MAX + 1];
	char    filename[256];		/* UTF-8 */
	enum mime_enc enc;
	int     attachment;		/* Content-Disposition: attachment */
};

struct mime_frame {
	char    boundary[MIME_BOUNDARY_MAX + 1];
	size_t  blen;
	int     depth;			/* of the multipart entity */
	unsigned scope;			/* DET_W_BODY or DET_W_ATTACH for its parts */
	int     alternative;
	int     in_part;		/* a part of this frame is open */
	uint32_t *alt_base, *alt_best;
};

struct mime {
	struct det_scan *sc;
	const char *buf;
	size_t  len;
	size_t  pos;
	struct mime_frame *stack;
	int     nstack, maxstack;
};

/* ---- header fields ---------------------------------------------------- */

/* skip_ws - past white space and (simple) comments */
static const char *skip_ws(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		for (int lvl = 0; *p; p++) {
			if (*p == '(')
				lvl++;
			else if (*p == ')' && --lvl == 0) {
				p++;
				break;
			} else if (*p == '\\' && p[1])
				p++;
		}
	}
}

/* param_value - read a token or quoted string into out; past it */
static const char *param_value(const char *p, char *out, size_t len)
{
	size_t  j = 0;

	p = skip_ws(p);
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (j + 1 < len)
				out[j++] = *p;
		}
		if (*p == '"')
			p++;
	} else {
		for (; *p && *p != ';' && *p != ' ' && *p != '\t'; p++)
			if (j + 1 < len)
				out[j++] = *p;
	}
	out[j] = 0;
	return p;
}

/* mime_param - the value of a parameter of a Content-* field; 0 if found */
static int mime_param(const char *value, const char *name, char *out, size_t len)
{
	const char *p = strchr(value, ';');
	size_t  nlen = strlen(name);

	while (p) {
		char    tmp[MIME_FIELD_MAX < 2048 ? MIME_FIELD_MAX : 2048];
		const char *eq;

		p = skip_ws(p + 1);
		eq = strchr(p, '=');
		if (eq == NULL)
			return -1;
		{
			const char *ne = eq;

			while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
				ne--;
			if ((size_t) (ne - p) == nlen && strncasecmp(p, name, nlen) == 0) {
				param_value(eq + 1, out, len);
				return 0;
			}
		}
		p = param_value(eq + 1, tmp, sizeof(tmp));
		p = strchr(p, ';');
	}
	return -1;
}

/* pct_decode - RFC 2231 %XX text */
static void pct_decode(const char *in, struct buf *out)
{
	for (; *in; in++) {
		if (*in == '%' && isxdigit((unsigned char) in[1]) && isxdigit((unsigned char) in[2])) {
			char    hex[3] = {in[1], in[2], 0};

			buf_putc(out, (int) strtol(hex, NULL, 16));
			in += 2;
		} else
			buf_putc(out, *in);
	}
}

/* mime_filename - name or filename, RFC 2231 and RFC 2047 forms, as UTF-8 */
static int mime_filename(const char *value, const char *name, char *out, size_t len)
{
	char    key[64], part[1024], charset[48] = "";
	struct buf raw, utf;
	int     found = 0;

	buf_init(&raw, 256);
	buf_init(&utf, 256);
	snprintf(key, sizeof(key), "%s*", name);
	if (mime_param(value, key, part, sizeof(part)) == 0) {
		/* charset'lang'%XX */
		char   *q1 = strchr(part, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;

		if (q1 && q2) {
			snprintf(charset, sizeof(charset), "%.*s", (int) (q1 - part), part);
			pct_decode(q2 + 1, &raw);
		} else
			pct_decode(part, &raw);
		found = 1;
	} else {
		for (int i = 0; i < 64; i++) {
			snprintf(key, sizeof(key), "%s*%d*", name, i);
			if (mime_param(value, key, part, sizeof(part)) == 0) {
				const char *t = part;

				if (i == 0) {
					char   *q1 = strchr(part, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;

					if (q1 && q2) {
						snprintf(charset, sizeof(charset), "%.*s",
							 (int) (q1 - part), part);
						t = q2 + 1;
					}
				}
				pct_decode(t, &raw);
				found = 1;
				continue;
			}
			snprintf(key, sizeof(key), "%s*%d", name, i);
			if (mime_param(value, key, part, sizeof(part)) == 0) {
				buf_puts(&raw, part);
				found = 1;
				continue;
			}
			break;
		}
	}
	if (found) {
		detector_charset_to_utf8(charset, raw.data, raw.len, &utf, 4096);
	} else if (mime_param(value, name, part, sizeof(part)) == 0) {
		detector_rfc2047_decode(part, strlen(part), &utf);
		found = 1;
	}
	if (found) {
		struct buf clean;

		buf_init(&clean, utf.len + 8);
		detector_utf8_clean(utf.data, utf.len, &clean);
		snprintf(out, len, "%s", clean.data);
		buf_free(&clean);
	}
	buf_free(&raw);
	buf_free(&utf);
	return found ? 0 : -1;
}

/* lower_token - the first token of a value, lower case */
static void lower_token(const char *value, char *out, size_t len)
{
	size_t  j = 0;
	const char *p = skip_ws(value);

	for (; *p && *p != ';' && *p != ' ' && *p != '\t' && *p != '(' && j + 1 < len; p++)
		out[j++] = (char) tolower((unsigned char) *p);
	out[j] = 0;
}

/* is_pass_header - is this field our own default_pass_header? */
static int is_pass_header(const char *name, const char *value)
{
	const char *ph = var_default_pass_header, *colon = strchr(ph, ':');
	size_t  nlen;

	if (colon == NULL)
		return 0;
	nlen = (size_t) (colon - ph);
	return strlen(name) == nlen && strncasecmp(name, ph, nlen) == 0
		&& strcmp(skip_ws(value), skip_ws(colon + 1)) == 0;
}

/* header_field - act on one unfolded field of an entity */
static void header_field(struct mime *m, struct mime_entity *e, char *name,
			 char *value, int top, unsigned scope)
{
	struct det_scan *sc = m->sc;
	char    tok[96];

	if (strcasecmp(name, "Content-Type") == 0) {
		lower_token(value, e->type, sizeof(e->type));
		if (mime_param(value, "charset", e->charset, sizeof(e->charset)) < 0)
			e->charset[0] = 0;
		if (mime_param(value, "boundary", e->boundary, sizeof(e->boundary)) < 0)
			e->boundary[0] = 0;
		if (!e->filename[0])
			(void) mime_filename(value, "name", e->filename, sizeof(e->filename));
	} else if (strcasecmp(name, "Content-Transfer-Encoding") == 0) {
		lower_token(value, tok, sizeof(tok));
		e->enc = strcmp(tok, "base64") == 0 ? ENC_BASE64
			: strcmp(tok, "quoted-printable") == 0 ? ENC_QP : ENC_IDENTITY;
	} else if (strcasecmp(name, "Content-Disposition") == 0) {
		lower_token(value, tok, sizeof(tok));
		e->attachment = strcmp(tok, "attachment") == 0;
		(void) mime_filename(value, "filename", e->filename, sizeof(e->filename));
	}
	if (top) {
		if (is_pass_header(name, value))
			sc->has_pass_header = 1;
		if (strcasecmp(name, "Subject") == 0 && sc->subject == NULL) {
			struct buf d, c;

			buf_init(&d, strlen(value) + 16);
			buf_init(&c, strlen(value) + 16);
			sc->subject_raw = xstrdup(skip_ws(value));
			detector_rfc2047_decode(sc->subject_raw, strlen(sc->subject_raw), &d);
			detector_utf8_clean(d.data, d.len, &c);
			sc->subject = xstrdup(c.data);
			buf_free(&d);
			buf_free(&c);
			detector_scan_unit(sc, DET_W_SUBJECT, NULL, sc->subject, strlen(sc->subject));
		} else if (strcasecmp(name, "Message-ID") == 0 && sc->message_id == NULL) {
			sc->message_id = xstrndup(skip_ws(value), 250);
		}
		if (sc->ps->where_used & DET_W_HEADER) {
			struct buf d;

			buf_init(&d, strlen(value) + 16);
			detector_rfc2047_decode(value, strlen(value), &d);
			detector_scan_unit(sc, DET_W_HEADER, name, d.data, d.len);
			buf_free(&d);
		}
	} else if (scope == DET_W_ATTACH && strcasecmp(name, "Subject") == 0
		   && (sc->ps->where_used & DET_W_ATTACH)) {
		struct buf d;

		buf_init(&d, strlen(value) + 16);
		detector_rfc2047_decode(value, strlen(value), &d);
		detector_scan_unit(sc, DET_W_ATTACH, NULL, d.data, d.len);
		buf_free(&d);
	}
}

/* line_end - the end of the line at pos (past its LF), and its content end */
static size_t line_end(const char *buf, size_t len, size_t pos, size_t *content)
{
	const char *lf = memchr(buf + pos, '\n', len - pos);
	size_t  end = lf ? (size_t) (lf - buf) + 1 : len;
	size_t  c = lf ? (size_t) (lf - buf) : len;

	if (c > pos && buf[c - 1] == '\r')
		c--;
	*content = c;
	return end;
}

/* parse_headers - an entity's header section; pos ends past the blank line */
static void parse_headers(struct mime *m, struct mime_entity *e, int top, unsigned scope)
{
	struct buf field;
	unsigned nfields = 0;

	memset(e, 0, sizeof(*e));
	strcpy(e->type, "text/plain");
	buf_init(&field, 256);
	while (m->pos < m->len) {
		size_t  c, end = line_end(m->buf, m->len, m->pos, &c);
		const char *line = m->buf + m->pos;
		size_t  n = c - m->pos;

		if (n == 0) {			/* the blank line */
			m->pos = end;
			break;
		}
		if ((line[0] == ' ' || line[0] == '\t') && field.len) {
			if (field.len + n < MIME_FIELD_MAX)
				buf_append(&field, line, n);
			m->pos = end;
			continue;
		}
		/* a new field: finish the previous one */
		if (field.len) {
			char   *colon = memchr(field.data, ':', field.len);

			if (colon && nfields++ < MIME_FIELDS_MAX) {
				*colon = 0;
				for (char *cp = field.data; cp < field.data + field.len; cp++)
					if (*cp == 0 && cp != colon)
						*cp = ' ';
				header_field(m, e, field.data, colon + 1, top, scope);
			}
			buf_reset(&field);
		}
		if (!memchr(line, ':', n))
			break;			/* not a header field: a broken message's body */
		buf_append(&field, line, n < MIME_FIELD_MAX ? n : MIME_FIELD_MAX);
		m->pos = end;
	}
	if (field.len) {
		char   *colon = memchr(field.data, ':', field.len);

		if (colon && nfields < MIME_FIELDS_MAX) {
			*colon = 0;
			header_field(m, e, field.data, colon + 1, top, scope);
		}
	}
	buf_free(&field);
	if (strncmp(e->type, "multipart/", 10) == 0 && e->boundary[0] == 0)
		strcpy(e->type, "text/plain");	/* RFC 2046: no boundary, no parts */
}

/* ---- multipart/alternative: the best alternative counts -------------- */

/* alt_part_begin - remember the counts before an alternative */
static void alt_part_begin(struct mime *m, struct mime_frame *f)
{
	size_t  n = m->sc->ps->nrules;

	if (!f->alternative)
		return;
	if (f->alt_base == NULL) {
		f->alt_base = xcalloc(n + 1, sizeof(uint32_t));
		f->alt_best = xcalloc(n + 1, sizeof(uint32_t));
		for (size_t i = 0; i < n; i++)
			f->alt_base[i] = m->sc->hits[i].count;
	}
	f->in_part = 1;
}

/* alt_part_end - keep the best alternative's counts, restore the base */
static void alt_part_end(struct mime *m, struct mime_frame *f)
{
	size_t  n = m->sc->ps->nrules;

	if (!f->alternative || !f->in_part || f->alt_base == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		uint32_t d = m->sc->hits[i].count - f->alt_base[i];

		if (d > f->alt_best[i])
			f->alt_best[i] = d;
		m->sc->hits[i].count = f->alt_base[i];
	}
	f->in_part = 0;
}

/* frame_pop - close the innermost multipart */
static void frame_pop(struct mime *m)
{
	struct mime_frame *f = &m->stack[m->nstack - 1];

	if (f->alternative && f->alt_base) {
		alt_part_end(m, f);
		for (size_t i = 0; i < m->sc->ps->nrules; i++)
			m->sc->hits[i].count = f->alt_base[i] + f->alt_best[i];
	}
	free(f->alt_base);
	free(f->alt_best);
	m->nstack--;
}

/* ---- leaves ------------------------------------------------------------- */

/* budget - how many more decoded bytes may be scanned */
static size_t budget(struct det_scan *sc)
{
	size_t  lim = (size_t) var_detector_decoded_size_limit;

	return sc->decoded >= lim ? 0 : lim - sc->decoded;
}

/* detector_note_attachment - remember a name and a sniffed type, scan the name */
void    detector_note_attachment(struct det_scan *sc, const char *name, const char *type)
{
	if (sc->natt < DET_MAX_ATTACH) {
		sc->att = xrealloc(sc->att, (sc->natt + 1) * sizeof(*sc->att));
		snprintf(sc->att[sc->natt].name, sizeof(sc->att[0].name), "%s", name);
		snprintf(sc->att[sc->natt].type, sizeof(sc->att[0].type), "%s", type);
		sc->natt++;
	}
	if (*name)
		detector_scan_unit(sc, DET_W_ATTNAME, NULL, name, strlen(name));
}

/* detector_is_archive - a type that libarchive opens */
int     detector_is_archive(const char *t)
{
	return !strcmp(t, "zip") || !strcmp(t, "7z") || !strcmp(t, "rar")
		|| !strcmp(t, "tar") || !strcmp(t, "gzip") || !strcmp(t, "bzip2")
		|| !strcmp(t, "xz");
}

/* detector_content_scan - text, markup, archives or raw bytes of a part */
void    detector_content_scan(struct det_scan *sc, const char *data, size_t len,
			      const char *ctype, const char *charset, unsigned where,
			      int depth, const char *sniffed)
{
	struct buf t;

	if (len == 0 || detector_scan_expired(sc))
		return;
	if (strcmp(sniffed, "pdf") == 0)
		return detector_pdf_scan(sc, data, len, where, depth);
	if (detector_archive_scan(sc, data, len, depth + 1, sniffed, ctype)
	    || detector_document_scan(sc, data, len, where, depth + 1, sniffed, ctype))
		return;
	if (strcmp(ctype, "text/html") == 0 || strcmp(sniffed, "html") == 0) {
		buf_init(&t, len + 16);
		if (!detector_charset_is_utf8(charset)) {
			struct buf u;

			buf_init(&u, len * 2 + 16);
			detector_charset_to_utf8(charset, data, len, &u, len);
			detector_html_to_text(u.data, u.len, &t, u.len + 16);
			buf_free(&u);
		} else
			detector_html_to_text(data, len, &t, len + 16);
		detector_scan_unit(sc, where, NULL, t.data, t.len);
		buf_free(&t);
		return;
	}
	if (strncmp(ctype, "text/", 5) == 0 && !detector_charset_is_utf8(charset)) {
		buf_init(&t, len * 2 + 16);
		detector_charset_to_utf8(charset, data, len, &t, len);
		detector_scan_unit(sc, where, NULL, t.data, t.len);
		buf_free(&t);
		return;
	}
	/* UTF-8 text, or raw bytes (strings in binaries, uncompressed PDFs) */
	detector_scan_unit(sc, where, NULL, data, len);
}

static void mime_walk(struct det_scan *sc, const char *buf, size_t len, int depth,
		      unsigned scope, int top);

/* leaf - decode and scan the body of a leaf entity */
static void leaf(struct mime *m, const struct mime_entity *e, const char *data,
		 size_t len, int depth, unsigned scope)
{
	struct det_scan *sc = m->sc;
	struct buf dec = {0};
	const char *d = data;
	size_t  n = len, left = budget(sc);
	const char *sniffed;
	unsigned where;
	int     textual = strncmp(e->type, "text/", 5) == 0;

	if (e->enc == ENC_BASE64) {
		buf_init(&dec, 1024);
		detector_b64_decode(data, len, &dec, NULL, left);
		d = dec.data;
		n = dec.len;
	} else if (e->enc == ENC_QP) {
		buf_init(&dec, len + 16);
		detector_qp_decode(data, len, &dec, left);
		d = dec.data;
		n = dec.len;
	}
	if (n > left) {
		n = left;
		detector_scan_limit(sc, "decoded size");
	}
	sc->decoded += n;
	sniffed = n ? detector_sniff(d, n) : "empty";
	where = (scope == DET_W_ATTACH || e->attachment || e->filename[0]
		 || !(textual || strcmp(e->type, "message/rfc822") == 0))
		? DET_W_ATTACH : DET_W_BODY;
	if (where == DET_W_ATTACH)
		detector_note_attachment(sc, e->filename, sniffed);
	if ((strcmp(e->type, "message/rfc822") == 0 || strcmp(e->type, "message/global") == 0)
	    && n > 0) {
		if (depth + 1 > var_detector_depth_limit) {
			detector_scan_limit(sc, "depth");
			detector_scan_unit(sc, DET_W_ATTACH, NULL, d, n);
		} else
			mime_walk(sc, d, n, depth + 1, DET_W_ATTACH, 0);
	} else {
		sc->content_name = e->filename;
		detector_content_scan(sc, d, n, e->type, e->charset, where, depth, sniffed);
		sc->content_name = NULL;
	}
	if (dec.data)
		buf_free(&dec);
}

/* ---- the walk ---------------------------------------------------------- */

/* delimiter_at - is the line at pos a delimiter of an open frame? */
static int delimiter_at(struct mime *m, size_t pos, int *close, size_t *next)
{
	const char *p = m->buf + pos;
	size_t  c, end = line_end(m->buf, m->len, pos, &c);
	size_t  n = c - pos;

	if (n < 3 || p[0] != '-' || p[1] != '-')
		return -1;
	for (int k = m->nstack - 1; k >= 0; k--) {
		struct mime_frame *f = &m->stack[k];
		size_t  i;

		if (n < 2 + f->blen || memcmp(p + 2, f->boundary, f->blen) != 0)
			continue;
		i = 2 + f->blen;
		*close = n >= i + 2 && p[i] == '-' && p[i + 1] == '-';
		if (*close)
			i += 2;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i != n)
			continue;
		*next = end;
		return k;
	}
	return -1;
}

/* find_delimiter - the next delimiter line at or after pos; -1 if none */
static int find_delimiter(struct mime *m, size_t pos, size_t *at, int *close, size_t *next)
{
	if (m->nstack == 0)
		return -1;
	while (pos < m->len) {
		int     k;

		if ((pos == 0 || m->buf[pos - 1] == '\n')
		    && (k = delimiter_at(m, pos, close, next)) >= 0) {
			*at = pos;
			return k;
		}
		{
			const char *hit = memmem(m->buf + pos, m->len - pos, "\n--", 3);

			if (hit == NULL)
				return -1;
			pos = (size_t) (hit - m->buf) + 1;
		}
	}
	return -1;
}

/* body_end - the end of a part's body: the CRLF before a delimiter is not content */
static size_t body_end(const char *buf, size_t start, size_t at)
{
	if (at > start && buf[at - 1] == '\n')
		at--;
	if (at > start && buf[at - 1] == '\r')
		at--;
	return at;
}

/* mime_walk - parse one message (top level or attached) */
static void mime_walk(struct det_scan *sc, const char *buf, size_t len, int depth,
		      unsigned scope, int top)
{
	struct mime m = {.sc = sc,.buf = buf,.len = len};
	struct mime_entity e;
	int     cur_depth = depth;

	for (;;) {
		size_t  at, next;
		int     k, close;

		if (detector_scan_expired(sc))
			break;
		if (++sc->parts > (unsigned) var_detector_part_limit) {
			detector_scan_limit(sc, "parts");
			break;
		}
		parse_headers(&m, &e, top, scope);
		top = 0;
		if (strncmp(e.type, "multipart/", 10) == 0 && cur_depth + 1 <= var_detector_depth_limit) {
			struct mime_frame *f;

			if (m.nstack == m.maxstack) {
				m.maxstack = m.maxstack ? m.maxstack * 2 : 8;
				m.stack = xrealloc(m.stack, (size_t) m.maxstack * sizeof(*m.stack));
			}
			f = &m.stack[m.nstack++];
			memset(f, 0, sizeof(*f));
			snprintf(f->boundary, sizeof(f->boundary), "%s", e.boundary);
			f->blen = strlen(f->boundary);
			f->depth = cur_depth;
			f->scope = e.attachment ? DET_W_ATTACH : scope;
			f->alternative = strcmp(e.type, "multipart/alternative") == 0;
			k = find_delimiter(&m, m.pos, &at, &close, &next);
		} else if ((strcmp(e.type, "message/rfc822") == 0 || strcmp(e.type, "message/global") == 0)
			   && e.enc == ENC_IDENTITY && cur_depth + 1 <= var_detector_depth_limit) {
			detector_note_attachment(sc, e.filename, "message");
			cur_depth++;
			scope = DET_W_ATTACH;
			continue;		/* its headers follow */
		} else {
			size_t  start = m.pos;

			if (strncmp(e.type, "multipart/", 10) == 0 || strncmp(e.type, "message/", 8) == 0)
				detector_scan_limit(sc, "depth");
			k = find_delimiter(&m, m.pos, &at, &close, &next);
			leaf(&m, &e, buf + start, body_end(buf, start, k >= 0 ? at : len) - start,
			     cur_depth, scope);
		}
		/* at a delimiter of frame k (or at the end) */
		for (;;) {
			struct mime_frame *f;

			if (k < 0)
				goto done;
			while (m.nstack - 1 > k)
				frame_pop(&m);
			f = &m.stack[k];
			alt_part_end(&m, f);
			if (!close)
				break;
			/* the epilogue: look for a delimiter of an outer frame */
			frame_pop(&m);
			k = find_delimiter(&m, next, &at, &close, &next);
		}
		m.pos = next;
		cur_depth = m.stack[k].depth + 1;
		scope = m.stack[k].scope;
		alt_part_begin(&m, &m.stack[k]);
	}
done:
	while (m.nstack > 0)
		frame_pop(&m);
	free(m.stack);
}

/* detector_message_scan - a message saved as a file (an .eml in a zip) */
void    detector_message_scan(struct det_scan *sc, const char *msg, size_t len, int depth)
{
	mime_walk(sc, msg, len, depth, DET_W_ATTACH, 0);
}

/* detector_mime_scan - scan a whole message */
void detector_mime_scan(struct det_scan *sc, const char *msg, size_t len)
{
	mime_walk(sc, msg, len, 0, DET_W_BODY, 1);
}
