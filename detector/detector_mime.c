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
 *			decoded (base64, quoted-printable, uuencode; BinHex
 *			and uuencoded files in untyped text), converted
 *			to UTF-8 (text; HTML without a charset by its <meta>),
 *			turned into text (HTML and the files in its data:
 *			URIs; calendars, contacts and XML as their readers show
 *			them, as well as the bytes as they stand: the better
 *			reading counts), opened (archives, Office documents)
 *			and handed to the matcher
 *
 * Text units and where they count:
 *	the top-level Subject		subject (every Subject field, and the
 *					From, To, Cc, Reply-To and Sender
 *					fields a reader sees beside it)
 *	top-level and part header values header (RFC 2047 decoded)
 *	inline text parts, preamble,	body
 *	epilogue
 *	attachments, attached messages	attachment (and their file names:
 *	(headers included)		attachment_name)
 * In multipart/alternative, the alternative with the most matches counts,
 * not the sum of the text and HTML versions of the same words.
 *
 * The invariant: every byte of the message is scanned as text (after
 * decoding) or the message is marked unscannable with a reason that names
 * what could not be read (detector_unscannable), and unscannable_action
 * applies. Where readers disagree about what the bytes mean, the message
 * is read each way, or marked:
 *	- the preamble and the epilogue of every multipart are text;
 *	- a multipart whose boundary never appears is text to its end; a
 *	  part whose closing delimiter is missing runs to the end;
 *	- two different Content-Type or Content-Transfer-Encoding fields:
 *	  the part is decoded and scanned with each (two multipart
 *	  structures at once cannot be: unscannable);
 *	- a boundary parameter loses trailing white space (RFC 2046 does
 *	  not allow it; Python and mail readers drop it), RFC 2231
 *	  continuations are joined, and a line that starts with "--" and a
 *	  boundary but is not a delimiter (some readers take it as one)
 *	  marks the message;
 *	- format=flowed text (RFC 3676) is read as sent and with its
 *	  soft line breaks joined, as Thunderbird and Apple Mail show it;
 *	- lines end at CRLF, LF or a bare CR, as Python's email package and
 *	  mail readers split them; a Unix "From " line before the header
 *	  is skipped; header lines that only lenient readers take as fields
 *	  are also scanned as body text;
 *	- a part in an unknown transfer encoding or charset, encrypted
 *	  (S/MIME, OpenPGP), a message/partial fragment, a field over 64 KB
 *	  that may hide parameters, more than 10,000 header fields when
 *	  header rules are used: unscannable, after scanning what can be.
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

#define MIME_FIELD_MAX     65536 /* bytes of one unfolded header field */
#define MIME_FIELDS_MAX    10000 /* header fields per entity scanned */
#define MIME_BOUNDARY_MAX  998   /* bytes: a delimiter line fits in 1000 */
#define MIME_PARAM_MAX     4096  /* bytes of one parameter value */
#define MIME_NAME_MAX      1024  /* bytes of a file name */
#define MIME_NAMES         4     /* different file names kept per part */
#define MIME_2231_SECTIONS 100   /* RFC 2231 continuations of one parameter */
#define MIME_UU_BLOCKS     100   /* uuencoded blocks read in one text part */
#define MIME_DATA_URIS     100   /* data: URIs decoded in one HTML part */

enum mime_enc {
	ENC_IDENTITY,
	ENC_BASE64,
	ENC_QP,
	ENC_UUENCODE,
	ENC_UNKNOWN, /* read as it stands, and marked */
};

/* What one Content-Type field says. */
struct mime_ctype {
	char type[96]; /* "text/plain", lower case */
	char charset[64];
	char boundary[MIME_BOUNDARY_MAX + 1];
	int flowed; /* format=flowed: 1; with delsp=yes: 2 */
};

struct mime_entity {
	struct mime_ctype ct[2]; /* the first, and a different second */
	int nct;
	enum mime_enc enc[2]; /* the same for transfer encodings */
	char enc_name[2][32];
	int nenc;
	char name[MIME_NAMES][MIME_NAME_MAX]; /* file names, UTF-8 */
	int nname;
	int attachment;          /* Content-Disposition: attachment */
	unsigned number;         /* its place among the message's parts */
	size_t odd_from, odd_to; /* header lines only lenient readers take */
};

struct mime_frame {
	char boundary[MIME_BOUNDARY_MAX + 1];
	size_t blen;
	int depth;      /* of the multipart entity */
	unsigned scope; /* DET_W_BODY or DET_W_ATTACH for its parts */
	int alternative;
	int digest;  /* parts are messages unless they say otherwise */
	int in_part; /* a part of this frame is open */
	uint32_t *alt_base, *alt_best;
};

struct mime {
	struct det_scan *sc;
	const char *buf;
	size_t len;
	size_t pos;
	struct mime_frame *stack;
	int nstack, maxstack;
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

/* part_label - how reasons name an entity: its file name, or its number and type */
static const char *part_label(const struct mime_entity *e, char *buf, size_t len)
{
	if (e->nname && e->name[0][0])
		snprintf(buf, len, "attachment %.100s", e->name[0]);
	else if (e->number <= 1)
		snprintf(buf, len, "the message");
	else
		snprintf(buf, len, "part %u (%.40s)", e->number,
			 e->nct ? e->ct[0].type : "text/plain");
	return buf;
}

/* param_next - the next parameter of a Content-* value: name and raw value
 * (quotes removed); p past it, or NULL at the end. Parameters are split at
 * semicolons outside quoted strings, the way Python's email package and
 * mail readers split them. *trunc is 1 when the value did not fit, -1
 * for a name without '=' and a value. */
static const char *param_next(const char *p, char *name, size_t nlen, char *val, size_t vlen,
			      int *trunc)
{
	size_t j = 0;
	const char *eq, *end;

	*trunc = 0;
	while (*p == ';' || *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p == 0)
		return NULL;
	/* the name, up to '=' or ';' */
	for (eq = p; *eq && *eq != '=' && *eq != ';'; eq++)
		/* void */;
	end = eq;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	snprintf(name, nlen, "%.*s", (int) (end - p), p);
	if (*eq != '=') {
		val[0] = 0;
		*trunc = -1; /* a name without a value */
		return eq;
	}
	p = eq + 1;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (j + 1 < vlen)
				val[j++] = *p;
			else
				*trunc = 1;
		}
		if (*p == '"')
			p++;
		/* whatever follows the quoted string, up to the next ';' */
		while (*p && *p != ';')
			p++;
	} else {
		for (; *p && *p != ';'; p++)
			if (j + 1 < vlen)
				val[j++] = *p;
			else
				*trunc = 1;
		while (j > 0
		       && (val[j - 1] == ' ' || val[j - 1] == '\t' || val[j - 1] == '\r'
			   || val[j - 1] == '\n'))
			j--;
	}
	val[j] = 0;
	return p;
}

/* params_start - the first parameter of a Content-* value (past the first ';') */
static const char *params_start(const char *value)
{
	for (const char *p = value; *p; p++) {
		if (*p == '"') {
			const char *q = strchr(p + 1, '"');

			if (q == NULL)
				return NULL;
			p = q;
		} else if (*p == ';')
			return p;
	}
	return NULL;
}

/* mime_param - the nth value of a parameter (name as written, caseless); 0
 * if found, 1 if found but cut at len, -1 if absent */
static int mime_param(const char *value, const char *name, int nth, char *out, size_t len)
{
	const char *p = params_start(value);
	char pname[80];
	int trunc;

	while (p && (p = param_next(p, pname, sizeof(pname), out, len, &trunc)) != NULL)
		if (trunc >= 0 && strcasecmp(pname, name) == 0 && nth-- == 0)
			return trunc;
	out[0] = 0;
	return -1;
}

/* pct_decode - RFC 2231 %XX text */
static void pct_decode(const char *in, struct buf *out)
{
	for (; *in; in++) {
		if (*in == '%' && isxdigit((unsigned char) in[1])
		    && isxdigit((unsigned char) in[2])) {
			char hex[3] = {in[1], in[2], 0};

			buf_putc(out, (int) strtol(hex, NULL, 16));
			in += 2;
		} else
			buf_putc(out, *in);
	}
}

/* rfc2231_charset - split "charset'lang'text": the charset, and the text */
static const char *rfc2231_charset(const char *part, char *charset, size_t len)
{
	const char *q1 = strchr(part, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;

	if (q1 == NULL || q2 == NULL)
		return part;
	snprintf(charset, len, "%.*s", (int) (q1 - part), part);
	return q2 + 1;
}

/* mime_param_2231 - a parameter in any of its RFC 2231 forms (name*=,
 * name*0*=, name*0=...) or plain, raw bytes to out; 1 if it was RFC 2231
 * (charset set), 0 if plain, -1 if absent; *trunc when something was cut */
static int mime_param_2231(const char *value, const char *name, struct buf *out, char *charset,
			   size_t cslen, int *trunc)
{
	char key[80], part[MIME_PARAM_MAX];
	int found = -1, rc;

	*trunc = 0;
	charset[0] = 0;
	snprintf(key, sizeof(key), "%s*", name);
	if ((rc = mime_param(value, key, 0, part, sizeof(part))) >= 0) {
		*trunc |= rc;
		pct_decode(rfc2231_charset(part, charset, cslen), out);
		return 1;
	}
	for (int i = 0; i < MIME_2231_SECTIONS; i++) {
		snprintf(key, sizeof(key), "%s*%d*", name, i);
		if ((rc = mime_param(value, key, 0, part, sizeof(part))) >= 0) {
			*trunc |= rc;
			pct_decode(i == 0 ? rfc2231_charset(part, charset, cslen) : part, out);
			found = 1;
			continue;
		}
		snprintf(key, sizeof(key), "%s*%d", name, i);
		if ((rc = mime_param(value, key, 0, part, sizeof(part))) >= 0) {
			*trunc |= rc;
			buf_puts(out, part);
			found = 1;
			continue;
		}
		if (i == 0)
			break;
		return found;
	}
	if (found > 0) {
		/* more sections than are read? */
		snprintf(key, sizeof(key), "%s*%d", name, MIME_2231_SECTIONS);
		*trunc |= mime_param(value, key, 0, part, sizeof(part)) >= 0;
		snprintf(key, sizeof(key), "%s*%d*", name, MIME_2231_SECTIONS);
		*trunc |= mime_param(value, key, 0, part, sizeof(part)) >= 0;
		return found;
	}
	if ((rc = mime_param(value, name, 0, part, sizeof(part))) < 0)
		return -1;
	*trunc |= rc;
	buf_puts(out, part);
	return 0;
}

/* mime_filename - name or filename, RFC 2231 and RFC 2047 forms, as UTF-8;
 * 0 if found, 1 if found but cut, -1 if absent */
static int mime_filename(const char *value, const char *name, char *out, size_t len)
{
	char charset[48];
	struct buf raw, utf, clean;
	int rc, trunc;

	buf_init(&raw, 256);
	buf_init(&utf, 256);
	rc = mime_param_2231(value, name, &raw, charset, sizeof(charset), &trunc);
	if (rc > 0)
		(void) detector_charset_to_utf8(charset, raw.data, raw.len, &utf, raw.len);
	else if (rc == 0)
		detector_rfc2047_decode(raw.data, raw.len, &utf);
	if (rc >= 0) {
		buf_init(&clean, utf.len + 8);
		detector_utf8_clean(utf.data, utf.len, &clean);
		if (clean.len >= len)
			trunc = 1;
		snprintf(out, len, "%s", clean.data);
		buf_free(&clean);
	}
	buf_free(&raw);
	buf_free(&utf);
	return rc < 0 ? -1 : trunc;
}

/* lower_token - the first token of a value, lower case */
static void lower_token(const char *value, char *out, size_t len)
{
	size_t j = 0;
	const char *p = skip_ws(value);

	for (; *p && *p != ';' && *p != ' ' && *p != '\t' && *p != '(' && *p != '\r'
	     && *p != '\n' && j + 1 < len;
	     p++)
		out[j++] = (char) tolower((unsigned char) *p);
	out[j] = 0;
}

/* is_pass_header - is this field our own default_pass_header? */
static int is_pass_header(const char *name, const char *value)
{
	const char *ph = var_default_pass_header, *colon = strchr(ph, ':');
	size_t nlen;

	if (colon == NULL)
		return 0;
	nlen = (size_t) (colon - ph);
	return strlen(name) == nlen && strncasecmp(name, ph, nlen) == 0
		&& strcmp(skip_ws(value), skip_ws(colon + 1)) == 0;
}

/* is_multipart - a multipart reading (it has a boundary: see content_type) */
static int is_multipart(const struct mime_ctype *c)
{
	return strncmp(c->type, "multipart/", 10) == 0;
}

/* is_message - a message/rfc822 reading (message/global is one too) */
static int is_message(const struct mime_ctype *c)
{
	return strcmp(c->type, "message/rfc822") == 0 || strcmp(c->type, "message/global") == 0;
}

/* add_name - remember one more file name of a part */
static void add_name(struct mime *m, struct mime_entity *e, const char *name, int trunc)
{
	char lbl[160];

	if (trunc)
		detector_unscannable(m->sc, "file name over %d bytes in %s", MIME_NAME_MAX - 1,
				     part_label(e, lbl, sizeof(lbl)));
	if (*name == 0)
		return;
	for (int i = 0; i < e->nname; i++)
		if (strcmp(e->name[i], name) == 0)
			return;
	if (e->nname < MIME_NAMES)
		snprintf(e->name[e->nname++], sizeof(e->name[0]), "%s", name);
	else
		detector_scan_unit(m->sc, DET_W_ATTNAME, NULL, name, strlen(name));
}

/* content_type - one Content-Type field: a reading of the part */
static void content_type(struct mime *m, struct mime_entity *e, const char *value)
{
	struct mime_ctype c;
	struct buf b;
	char cs[48], lbl[160], other[MIME_BOUNDARY_MAX + 1];
	int trunc, rc;

	memset(&c, 0, sizeof(c));
	lower_token(value, c.type, sizeof(c.type));
	/* Python's email package: a type without one '/' is text/plain */
	if (strchr(c.type, '/') == NULL || strchr(c.type, '/') != strrchr(c.type, '/'))
		strcpy(c.type, "text/plain");
	if (mime_param(value, "charset", 0, c.charset, sizeof(c.charset)) > 0)
		c.charset[0] = 0; /* no charset is that long */
	if (mime_param(value, "format", 0, cs, sizeof(cs)) == 0
	    && strcasecmp(cs, "flowed") == 0)
		c.flowed = mime_param(value, "delsp", 0, cs, sizeof(cs)) == 0
				&& strcasecmp(cs, "yes") == 0
			? 2
			: 1;
	buf_init(&b, 128);
	rc = mime_param_2231(value, "boundary", &b, cs, sizeof(cs), &trunc);
	/* RFC 2046: no white space ends a boundary; readers drop it */
	while (b.len > 0 && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\t'))
		b.data[--b.len] = 0;
	if (rc >= 0 && (trunc || b.len > MIME_BOUNDARY_MAX))
		detector_unscannable(m->sc, "boundary over %d bytes in %s", MIME_BOUNDARY_MAX,
				     part_label(e, lbl, sizeof(lbl)));
	snprintf(c.boundary, sizeof(c.boundary), "%s", rc >= 0 ? b.data : "");
	buf_free(&b);
	if (rc >= 0 && mime_param(value, "boundary", 1, other, sizeof(other)) >= 0
	    && strcmp(other, c.boundary) != 0)
		detector_unscannable(m->sc, "two boundary parameters in %s",
				     part_label(e, lbl, sizeof(lbl)));
	if (is_multipart(&c) && c.boundary[0] == 0)
		strcpy(c.type, "text/plain"); /* RFC 2046: no boundary, no parts */
	{
		char name[MIME_NAME_MAX];

		if ((rc = mime_filename(value, "name", name, sizeof(name))) >= 0)
			add_name(m, e, name, rc);
	}
	for (int i = 0; i < e->nct; i++)
		if (strcmp(e->ct[i].type, c.type) == 0
		    && strcasecmp(e->ct[i].charset, c.charset) == 0
		    && strcmp(e->ct[i].boundary, c.boundary) == 0)
			return;
	if (e->nct < 2)
		e->ct[e->nct++] = c;
	else
		detector_unscannable(m->sc, "more than two different Content-Type fields in %s",
				     part_label(e, lbl, sizeof(lbl)));
}

/* add_encoding - one more reading of a part's transfer encoding */
static void add_encoding(struct mime *m, struct mime_entity *e, enum mime_enc enc,
			 const char *tok)
{
	char lbl[160];

	for (int i = 0; i < e->nenc; i++)
		if (e->enc[i] == enc)
			return;
	if (e->nenc < 2) {
		e->enc[e->nenc] = enc;
		snprintf(e->enc_name[e->nenc++], sizeof(e->enc_name[0]), "%s", tok);
	} else
		detector_unscannable(m->sc,
				     "more than two different Content-Transfer-Encoding "
				     "fields in %s",
				     part_label(e, lbl, sizeof(lbl)));
}

/* transfer_encoding - one Content-Transfer-Encoding field */
static void transfer_encoding(struct mime *m, struct mime_entity *e, const char *value)
{
	char tok[32];
	const char *p = skip_ws(value);
	enum mime_enc enc;

	lower_token(value, tok, sizeof(tok));
	if (strcmp(tok, "base64") == 0)
		enc = ENC_BASE64;
	else if (strcmp(tok, "quoted-printable") == 0)
		enc = ENC_QP;
	else if (strcmp(tok, "x-uuencode") == 0 || strcmp(tok, "uuencode") == 0
		 || strcmp(tok, "x-uue") == 0 || strcmp(tok, "uue") == 0)
		enc = ENC_UUENCODE;
	else if (*tok == 0 || strcmp(tok, "7bit") == 0 || strcmp(tok, "8bit") == 0
		 || strcmp(tok, "binary") == 0 || strcmp(tok, "7-bit") == 0
		 || strcmp(tok, "8-bit") == 0)
		enc = ENC_IDENTITY;
	else
		enc = ENC_UNKNOWN;
	add_encoding(m, e, enc, tok);
	/* "base64; x" or "base64 (x)": Python's email package and some
	 * readers take the field as a whole, and decode nothing */
	for (p += strlen(tok); *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++)
		/* void */;
	if (*p && enc != ENC_IDENTITY)
		add_encoding(m, e, ENC_IDENTITY, "7bit");
}

/* scan_header - a header value as a text unit */
static void scan_header(struct det_scan *sc, unsigned where, const char *name,
			const char *value)
{
	struct buf d;

	if (!(sc->ps->where_used & where))
		return;
	buf_init(&d, strlen(value) + 16);
	detector_rfc2047_decode(value, strlen(value), &d);
	detector_scan_unit(sc, where, where == DET_W_HEADER ? name : NULL, d.data, d.len);
	buf_free(&d);
}

/* scan_display_names - the names of an address field (not the addresses:
 * recipient and sender rules judge those) as a subject unit */
static void scan_display_names(struct det_scan *sc, const char *value)
{
	struct buf names, d;
	int quoted = 0;

	if (!(sc->ps->where_used & DET_W_SUBJECT))
		return;
	buf_init(&names, strlen(value) + 16);
	for (const char *p = value; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		if (!quoted && *p == '<') { /* an angle address */
			const char *gt = strchr(p, '>');

			if (gt == NULL)
				break;
			p = gt;
			buf_putc(&names, ' ');
			continue;
		}
		if (!quoted && *p == '@') { /* a bare address: drop its word */
			while (names.len > 0 && names.data[names.len - 1] != ' '
			       && names.data[names.len - 1] != ','
			       && names.data[names.len - 1] != '\t')
				names.len--;
			while (p[1] && p[1] != ',' && p[1] != ' ' && p[1] != '\t'
			       && p[1] != '>')
				p++;
			continue;
		}
		buf_putc(&names, *p == '"' ? ' ' : *p);
	}
	names.data[names.len] = 0;
	buf_init(&d, names.len + 16);
	detector_rfc2047_decode(names.data, names.len, &d);
	detector_scan_unit(sc, DET_W_SUBJECT, NULL, d.data, d.len);
	buf_free(&d);
	buf_free(&names);
}

/* header_field - act on one unfolded field of an entity; scan: its value
 * may be scanned (within the field limit) */
static void header_field(struct mime *m, struct mime_entity *e, char *name, char *value,
			 int top, int message, int scan)
{
	struct det_scan *sc = m->sc;
	char tok[96];

	if (strcasecmp(name, "Content-Type") == 0) {
		content_type(m, e, value);
	} else if (strcasecmp(name, "Content-Transfer-Encoding") == 0) {
		transfer_encoding(m, e, value);
	} else if (strcasecmp(name, "Content-Disposition") == 0) {
		char fn[MIME_NAME_MAX];
		int rc;

		lower_token(value, tok, sizeof(tok));
		e->attachment |= strcmp(tok, "attachment") == 0;
		if ((rc = mime_filename(value, "filename", fn, sizeof(fn))) >= 0)
			add_name(m, e, fn, rc);
	}
	if (top) {
		if (is_pass_header(name, value))
			sc->has_pass_header = 1;
		if (strcasecmp(name, "Subject") == 0) {
			struct buf d, c;

			buf_init(&d, strlen(value) + 16);
			buf_init(&c, strlen(value) + 16);
			detector_rfc2047_decode(skip_ws(value), strlen(skip_ws(value)), &d);
			detector_utf8_clean(d.data, d.len, &c);
			if (sc->subject == NULL) {
				sc->subject_raw = xstrdup(skip_ws(value));
				sc->subject = xstrdup(c.data);
				detector_scan_unit(sc, DET_W_SUBJECT, NULL, sc->subject,
						   strlen(sc->subject));
			} else /* readers differ on which Subject they show */
				detector_scan_unit(sc, DET_W_SUBJECT, NULL, c.data, c.len);
			buf_free(&d);
			buf_free(&c);
		} else if (strcasecmp(name, "Message-ID") == 0 && sc->message_id == NULL) {
			sc->message_id = xstrndup(skip_ws(value), 250);
		}
		/* the names a reader sees beside the subject */
		if (strcasecmp(name, "From") == 0 || strcasecmp(name, "To") == 0
		    || strcasecmp(name, "Cc") == 0 || strcasecmp(name, "Reply-To") == 0
		    || strcasecmp(name, "Sender") == 0)
			scan_display_names(sc, value);
	}
	if (!scan)
		return;
	if (message && !top) /* an attached message's header */
		scan_header(sc, DET_W_ATTACH, name, value);
	else
		scan_header(sc, DET_W_HEADER, name, value);
}

/* line_end - the end of the line at pos (past its CRLF, LF or bare CR),
 * and where its content ends */
static size_t line_end(const char *buf, size_t len, size_t pos, size_t *content)
{
	const char *lf = memchr(buf + pos, '\n', len - pos);
	size_t stop = lf ? (size_t) (lf - buf) : len;
	const char *cr = memchr(buf + pos, '\r', stop - pos);

	if (cr) {
		*content = (size_t) (cr - buf);
		return cr + 1 < buf + len && cr[1] == '\n' ? *content + 2 : *content + 1;
	}
	*content = stop;
	return lf ? stop + 1 : len;
}

static int delimiter_at(struct mime *m, size_t pos, int *close, size_t *next);

/* field_name_ok - a field name as RFC 5322 has it: printable, no space */
static int field_name_ok(const char *name, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char) name[i] <= ' ' || (unsigned char) name[i] >= 0x7f)
			return 0;
	return 1;
}

/* finish_field - act on the field gathered so far */
static void finish_field(struct mime *m, struct mime_entity *e, struct buf *field, int trunc,
			 unsigned *nfields, int top, int message)
{
	struct det_scan *sc = m->sc;
	char *colon = memchr(field->data, ':', field->len);
	char lbl[160];
	int scan = 1;
	size_t n;

	if (colon == NULL)
		return;
	*colon = 0;
	for (char *cp = field->data; cp < field->data + field->len; cp++)
		if (*cp == 0 && cp != colon)
			*cp = ' ';
	/* "Content-Type :": an obsolete form most readers still take */
	for (n = strlen(field->data);
	     n > 0 && (field->data[n - 1] == ' ' || field->data[n - 1] == '\t');)
		field->data[--n] = 0;
	if (++*nfields > MIME_FIELDS_MAX) {
		scan = 0;
		if (sc->ps->where_used & (message && !top ? DET_W_ATTACH : DET_W_HEADER))
			detector_unscannable(sc, "over %d header fields in %s", MIME_FIELDS_MAX,
					     part_label(e, lbl, sizeof(lbl)));
	}
	if (trunc
	    && (strncasecmp(field->data, "Content-", 8) == 0
		|| strcasecmp(field->data, "Subject") == 0
		|| (sc->ps->where_used & (message && !top ? DET_W_ATTACH : DET_W_HEADER))))
		detector_unscannable(sc, "%.40s field over %d bytes in %s", field->data,
				     MIME_FIELD_MAX, part_label(e, lbl, sizeof(lbl)));
	header_field(m, e, field->data, colon + 1, top, message, scan);
}

/* stray_content_field - is there a Content-* field among the lines before
 * the next blank line? (lenient readers go on reading the header there) */
static int stray_content_field(struct mime *m, size_t pos)
{
	for (int lines = 0; pos < m->len && lines < 1000; lines++) {
		size_t c, end = line_end(m->buf, m->len, pos, &c);

		if (c == pos)
			return 0;
		if (c - pos > 8 && strncasecmp(m->buf + pos, "Content-", 8) == 0
		    && memchr(m->buf + pos, ':', c - pos))
			return 1;
		pos = end;
	}
	return 0;
}

/* parse_headers - an entity's header section; pos ends past the blank line.
 * message: a message's header (a Unix "From " line may come first) */
static void parse_headers(struct mime *m, struct mime_entity *e, int top, int message)
{
	struct buf field;
	unsigned nfields = 0;
	int trunc = 0;
	char lbl[160];

	buf_init(&field, 256);
	if (message && m->len - m->pos > 5 && memcmp(m->buf + m->pos, "From ", 5) == 0) {
		size_t c;

		m->pos = line_end(m->buf, m->len, m->pos, &c);
	}
	while (m->pos < m->len) {
		size_t c, end = line_end(m->buf, m->len, m->pos, &c), close_next;
		const char *line = m->buf + m->pos, *colon;
		size_t n = c - m->pos;
		int close;

		if (n == 0) { /* the blank line */
			m->pos = end;
			break;
		}
		if ((line[0] == ' ' || line[0] == '\t') && field.len) {
			if (!trunc && field.len + n < MIME_FIELD_MAX)
				buf_append(&field, line, n);
			else
				trunc = 1; /* cut here: no later line joins */
			m->pos = end;
			continue;
		}
		/* a new field: finish the previous one */
		if (field.len) {
			finish_field(m, e, &field, trunc, &nfields, top, message);
			buf_reset(&field);
			trunc = 0;
		}
		/* a delimiter ends the header section, as it ends the part */
		if (n >= 2 && line[0] == '-' && line[1] == '-' && m->nstack > 0
		    && delimiter_at(m, m->pos, &close, &close_next) >= 0)
			break;
		colon = memchr(line, ':', n);
		if (colon == NULL || !field_name_ok(line, (size_t) (colon - line))) {
			size_t nl = colon ? (size_t) (colon - line) : 0;

			while (nl > 0 && (line[nl - 1] == ' ' || line[nl - 1] == '\t'))
				nl--;
			if (colon && field_name_ok(line, nl)) {
				/* "Name :" - the field for most readers, the body for
				 * Python's email package: both */
				if (e->odd_from == 0)
					e->odd_from = m->pos;
			} else {
				/* not a header field: a broken message's body */
				if (stray_content_field(m, end))
					detector_unscannable(m->sc,
							     "a line that is no header field "
							     "before Content- fields in %s",
							     part_label(e, lbl, sizeof(lbl)));
				break;
			}
		}
		if (n < MIME_FIELD_MAX)
			buf_append(&field, line, n);
		else {
			buf_append(&field, line, MIME_FIELD_MAX);
			trunc = 1;
		}
		m->pos = end;
	}
	if (field.len)
		finish_field(m, e, &field, trunc, &nfields, top, message);
	if (e->odd_from)
		e->odd_to = m->pos;
	buf_free(&field);
	/* the reading that gives structure comes first, the other is scanned too */
	if (e->nct == 2 && !is_multipart(&e->ct[0]) && !is_message(&e->ct[0])
	    && (is_multipart(&e->ct[1]) || is_message(&e->ct[1]))) {
		struct mime_ctype t = e->ct[0];

		e->ct[0] = e->ct[1];
		e->ct[1] = t;
	}
}

/* ---- multipart/alternative: the best alternative counts -------------- */

/* alt_part_begin - remember the counts before an alternative */
static void alt_part_begin(struct mime *m, struct mime_frame *f)
{
	size_t n = m->sc->ps->nrules;

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
	size_t n = m->sc->ps->nrules;

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
	size_t lim = (size_t) var_detector_decoded_size_limit;

	return sc->decoded >= lim ? 0 : lim - sc->decoded;
}

/* detector_note_attachment - remember a name and a sniffed type, scan the name */
void detector_note_attachment(struct det_scan *sc, const char *name, const char *type)
{
	if (sc->natt < DET_MAX_ATTACH) {
		size_t n = strlen(name);
		struct det_attach *a;

		sc->att = xrealloc(sc->att, (sc->natt + 1) * sizeof(*sc->att));
		a = &sc->att[sc->natt++];
		/* a long name keeps its end: the extension is what rules look at */
		if (n < sizeof(a->name))
			snprintf(a->name, sizeof(a->name), "%s", name);
		else
			snprintf(a->name, sizeof(a->name), "%.100s...%s", name,
				 name + n - (sizeof(a->name) - 104));
		snprintf(a->type, sizeof(a->type), "%s", type);
	} else
		detector_unscannable(sc, "over %d attachments for attachment rules",
				     DET_MAX_ATTACH);
	if (*name)
		detector_scan_unit(sc, DET_W_ATTNAME, NULL, name, strlen(name));
}

/* detector_is_archive - a type that libarchive opens */
int detector_is_archive(const char *t)
{
	return !strcmp(t, "zip") || !strcmp(t, "7z") || !strcmp(t, "rar") || !strcmp(t, "tar")
		|| !strcmp(t, "gzip") || !strcmp(t, "bzip2") || !strcmp(t, "xz")
		|| !strcmp(t, "zstd") || !strcmp(t, "lz4") || !strcmp(t, "lzip")
		|| !strcmp(t, "lzma") || !strcmp(t, "compress");
}

/* data_uris - files written into HTML as data: URIs (inline images a
 * reader shows, links it opens): decoded and scanned as what they are */
static void data_uris(struct det_scan *sc, const char *d, size_t n, unsigned where, int depth)
{
	size_t pos = 0;
	int count = 0;

	while (pos < n) {
		const char *p = memmem(d + pos, n - pos, "data:", 5), *comma;
		char type[96];
		size_t s, e, t = 0, left;
		int b64;
		struct buf dec;

		if (p == NULL)
			return;
		pos = (size_t) (p - d) + 5;
		if ((comma = memchr(d + pos, ',', n - pos < 256 ? n - pos : 256)) == NULL)
			continue;
		if (++count > MIME_DATA_URIS) {
			detector_unscannable(sc, "over %d data: URIs in %s", MIME_DATA_URIS,
					     sc->label ? sc->label : "the message");
			return;
		}
		for (const char *c = d + pos; c < comma && *c != ';' && t + 1 < sizeof(type);
		     c++)
			type[t++] = (char) tolower((unsigned char) *c);
		type[t] = 0;
		b64 = memmem(d + pos, (size_t) (comma - (d + pos)), ";base64", 7) != NULL;
		s = (size_t) (comma - d) + 1;
		for (e = s; e < n && d[e] != '"' && d[e] != '\'' && d[e] != '<' && d[e] != '>'
		     && d[e] != ')' && (b64 || (d[e] != ' ' && d[e] != '\n'));
		     e++)
			/* void */;
		left = budget(sc);
		buf_init(&dec, 256);
		if (b64)
			detector_b64_decode(d + s, e - s, &dec, NULL, left + 1);
		else {
			struct buf pct;

			buf_init(&pct, e - s + 16);
			buf_append(&pct, d + s, e - s);
			pct_decode(pct.data, &dec);
			buf_free(&pct);
		}
		if (dec.len > left) {
			dec.len = left;
			detector_scan_limit(sc, "decoded size");
		}
		sc->decoded += dec.len;
		if (dec.len)
			detector_content_scan(sc, dec.data, dec.len,
					      *type ? type : "text/plain", NULL, where,
					      depth + 1, detector_sniff(dec.data, dec.len));
		buf_free(&dec);
		pos = e;
	}
}

/* meta_charset - the charset an HTML document names in a <meta> element
 * (read when the part names none, as browsers and mail readers do) */
static int meta_charset(const char *d, size_t len, char *cs, size_t cslen)
{
	size_t n = len < 4096 ? len : 4096;
	const char *p = d;

	while ((p = memmem(p, n - (size_t) (p - d), "charset", 7)) != NULL) {
		size_t k = 0;

		p += 7;
		while (p < d + n && (*p == ' ' || *p == '=' || *p == '"' || *p == '\''))
			p++;
		while (p < d + n && k + 1 < cslen
		       && (isalnum((unsigned char) *p) || *p == '-' || *p == '_' || *p == '.'
			   || *p == ':'))
			cs[k++] = *p++;
		cs[k] = 0;
		if (k > 0)
			return 1;
	}
	return 0;
}

/* scan_markup - HTML (or text/enriched): what a reader sees, and what it holds unseen */
static void scan_markup(struct det_scan *sc, const char *d, size_t n, unsigned where, int depth)
{
	struct buf t, h, v;
	struct det_readings r;
	int hiding;

	/* text salted with elements a browser hides: read without them too */
	buf_init(&v, 16);
	if ((hiding = detector_html_visible(d, n, &v)) != 0)
		detector_readings_begin(sc, &r);
	buf_init(&t, n + 16);
	buf_init(&h, n / 4 + 16);
	if (detector_html_to_text(d, n, &t, &h, 2 * n + 64) < 0)
		detector_unscannable(sc, "HTML text larger than its markup in %s",
				     sc->label ? sc->label : "the message");
	detector_scan_unit(sc, where, NULL, t.data, t.len);
	detector_scan_unit(sc, where, NULL, h.data, h.len);
	if (hiding) {
		detector_readings_next(&r);
		buf_reset(&t);
		(void) detector_html_to_text(v.data, v.len, &t, NULL, 2 * v.len + 64);
		detector_scan_unit(sc, where, NULL, t.data, t.len);
		detector_readings_end(&r);
	}
	buf_free(&t);
	buf_free(&h);
	buf_free(&v);
	data_uris(sc, d, n, where, depth);
}

/* is_xml - XML that is no HTML (SVG pictures, flat OpenDocument, Word 2003 XML, data)? */
static int is_xml(const char *ctype, const char *d, size_t len)
{
	size_t n = strlen(ctype), i = 0;

	if ((n >= 4 && strcmp(ctype + n - 4, "/xml") == 0)
	    || (n >= 4 && strcmp(ctype + n - 4, "+xml") == 0))
		return 1;
	if (len >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && i < 512 && isspace((unsigned char) d[i]))
		i++;
	return len - i >= 5
		&& (memcmp(d + i, "<?xml", 5) == 0 || memcmp(d + i, "<svg", 4) == 0);
}

/* is_json - JSON with escaped characters (what a JSON viewer decodes)? */
static int is_json(const char *ctype, const char *name, const char *d, size_t len)
{
	size_t n = strlen(ctype), i = 0;
	int typed = strcmp(ctype, "application/json") == 0
		|| (n >= 5 && strcmp(ctype + n - 5, "+json") == 0)
		|| (name && strlen(name) >= 5
		    && strcasecmp(name + strlen(name) - 5, ".json") == 0);

	while (!typed && i < len && i < 512 && isspace((unsigned char) d[i]))
		i++;
	return (typed || (i < len && (d[i] == '{' || d[i] == '[')))
		&& memmem(d, len, "\\u", 2) != NULL;
}

/* hex4 - the value of four hex digits at p (checked by the caller) */
static unsigned long hex4(const char *p)
{
	unsigned long v = 0;

	for (int k = 0; k < 4; k++) {
		int c = tolower((unsigned char) p[k]);

		v = v << 4 | (unsigned long) (c <= '9' ? c - '0' : c - 'a' + 10);
	}
	return v;
}

/* json_unescape - JSON string escapes undone: \uXXXX (and surrogate pairs) as UTF-8 */
static void json_unescape(const char *d, size_t n, struct buf *out)
{
	buf_reserve(out, n + 16);
	for (size_t i = 0; i < n; i++) {
		unsigned long cp = 0, lo = 0;
		int ok = 1;

		if (d[i] != '\\' || i + 1 >= n) {
			buf_putc(out, d[i]);
			continue;
		}
		switch (d[++i]) {
		case 'n':
		case 'r':
		case 't':
		case 'b':
		case 'f':
			buf_putc(out, d[i] == 't' ? '\t' : '\n');
			continue;
		case 'u':
			break;
		default:
			buf_putc(out, d[i]);
			continue;
		}
		for (int k = 1; k <= 4; k++)
			ok &= i + (size_t) k < n && isxdigit((unsigned char) d[i + (size_t) k]);
		if (!ok) {
			buf_putc(out, 'u');
			continue;
		}
		cp = hex4(d + i + 1);
		i += 4;
		if (cp >= 0xd800 && cp <= 0xdbff && i + 6 < n && d[i + 1] == '\\'
		    && d[i + 2] == 'u') {
			for (int k = 3; k <= 6; k++)
				ok &= isxdigit((unsigned char) d[i + (size_t) k]);
			if (ok && (lo = hex4(d + i + 3)) >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
		}
		if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
			cp = 0xfffd;
		if (cp < 0x80)
			buf_putc(out, (int) cp);
		else if (cp < 0x800) {
			buf_putc(out, (int) (0xc0 | cp >> 6));
			buf_putc(out, (int) (0x80 | (cp & 0x3f)));
		} else if (cp < 0x10000) {
			buf_putc(out, (int) (0xe0 | cp >> 12));
			buf_putc(out, (int) (0x80 | (cp >> 6 & 0x3f)));
			buf_putc(out, (int) (0x80 | (cp & 0x3f)));
		} else {
			buf_putc(out, (int) (0xf0 | cp >> 18));
			buf_putc(out, (int) (0x80 | (cp >> 12 & 0x3f)));
			buf_putc(out, (int) (0x80 | (cp >> 6 & 0x3f)));
			buf_putc(out, (int) (0x80 | (cp & 0x3f)));
		}
	}
	out->data[out->len] = 0;
}

/*
 * unflow - format=flowed text (RFC 3676) as a mail reader shows it: a
 * line that ends in a space flows into the next one of the same quote
 * depth (its space dropped with delsp=yes), a stuffed space is removed,
 * "-- " stays a line of its own
 */
static void unflow(const char *d, size_t n, int delsp, struct buf *out)
{
	int open = -1; /* the quote depth of the paragraph being joined */

	for (size_t i = 0; i < n;) {
		const char *l = d + i, *nl = memchr(l, '\n', n - i);
		size_t len = nl ? (size_t) (nl - l) : n - i, q = 0;

		i += len + (nl != NULL);
		if (len > 0 && l[len - 1] == '\r')
			len--;
		while (q < len && l[q] == '>')
			q++;
		if (open >= 0 && (size_t) open != q) {
			buf_putc(out, '\n'); /* a flowed line before another depth */
			open = -1;
		}
		if (open < 0)
			buf_append(out, l, q);
		l += q;
		len -= q;
		if (len > 0 && l[0] == ' ') {
			l++;
			len--;
		}
		if (len > 0 && l[len - 1] == ' ' && !(len == 3 && memcmp(l, "-- ", 3) == 0)) {
			buf_append(out, l, delsp ? len - 1 : len);
			open = (int) q;
		} else {
			buf_append(out, l, len);
			buf_putc(out, '\n');
			open = -1;
		}
	}
}

/* scan_text - plain text (format=flowed: its paragraphs joined), or the
 * text of a calendar, a contact, an XML document or JSON as its reader
 * shows it; the bytes as they stand are read too, and the better reading
 * counts */
static void scan_text(struct det_scan *sc, const char *d, size_t n, const char *ctype,
		      unsigned where)
{
	int flowed = sc->flowed && strcmp(ctype, "text/plain") == 0;
	int vobj = !flowed && detector_vobject_is(ctype, sc->content_name, d, n),
	    xml = !flowed && !vobj && is_xml(ctype, d, n);
	int json = !flowed && !vobj && !xml && is_json(ctype, sc->content_name, d, n);
	struct det_readings r;
	struct buf t;

	if (!vobj && !xml && !json && !flowed) {
		detector_scan_unit(sc, where, NULL, d, n);
		return;
	}
	detector_readings_begin(sc, &r);
	detector_scan_unit(sc, where, NULL, d, n);
	detector_readings_next(&r);
	buf_init(&t, n + 16);
	if (flowed)
		unflow(d, n, sc->flowed == 2, &t);
	else if (vobj)
		detector_vobject_to_text(d, n, &t);
	else if (json)
		json_unescape(d, n, &t);
	else
		detector_office_xml(d, n, &t, n + 16);
	detector_scan_unit(sc, where, NULL, t.data, t.len);
	if (xml && memmem(d, n < 4096 ? n : 4096, "<svg", 4)) {
		/* SVG: text in <tspan>s flows on one line */
		detector_readings_next(&r);
		buf_reset(&t);
		(void) detector_xml_to_text(d, n, &t, n + 16);
		detector_scan_unit(sc, where, NULL, t.data, t.len);
	}
	detector_readings_end(&r);
	buf_free(&t);
}

/* decode_as - text in a charset to UTF-8, with a second look at what
 * does not convert; into out */
static void decode_as(struct det_scan *sc, const char *cs, const char *d, size_t n,
		      struct buf *out, unsigned where)
{
	long bad = detector_charset_to_utf8(cs, d, n, out, n);

	if (bad > 0) {
		/* what is not valid in the charset: the raw bytes are read too */
		detector_scan_unit(sc, where, NULL, d, n);
		if ((size_t) bad * 16 > n)
			detector_unscannable(sc, "text not valid in charset %.40s in %s", cs,
					     sc->label ? sc->label : "the message");
	}
}

/* other_way - the text read a second way: in charset cs, or as 8-bit text (NULL) */
static void other_way(struct det_scan *sc, const char *cs, const char *d, size_t n, int html,
		      unsigned where, int depth)
{
	struct buf b;

	buf_init(&b, n * 2 + 16);
	if (cs)
		decode_as(sc, cs, d, n, &b, where);
	else if (detector_utf8_valid(d, n))
		buf_append(&b, d, n);
	else
		(void) detector_charset_to_utf8("windows-1252", d, n, &b, n);
	if (html)
		scan_markup(sc, b.data, b.len, where, depth);
	else
		detector_scan_unit(sc, where, NULL, b.data, b.len);
	buf_free(&b);
}

/* text_scan - text of any charset (declared or evident), markup or bytes */
static void text_scan(struct det_scan *sc, const char *data, size_t len, const char *ctype,
		      const char *charset, unsigned where, const char *sniffed, int depth)
{
	int textual = strncmp(ctype, "text/", 5) == 0, conv = 1;
	int html = strcmp(ctype, "text/html") == 0 || strcmp(ctype, "text/enriched") == 0
		|| strcmp(ctype, "text/richtext") == 0 || strcmp(sniffed, "html") == 0;
	int declared = (textual || html) && charset && *charset;
	size_t skip;
	const char *guess = detector_text_guess(data, len, &skip);
	const char *label = sc->label ? sc->label : "the message";
	const char *other = NULL; /* a second reading: this charset, "" 8-bit */
	char meta[48];
	struct det_readings r;
	struct buf u;

	buf_init(&u, 0);
	if (html && !declared && guess == NULL && meta_charset(data, len, meta, sizeof(meta))
	    && !detector_charset_is_utf8(meta) && detector_charset_known(meta)) {
		charset = meta; /* <meta charset=...>, when the part names none */
		declared = 1;
	}
	if (declared && detector_charset_known(charset)) {
		if (detector_charset_is_utf8(charset))
			conv = 0;
		else {
			buf_reserve(&u, len * 2 + 16);
			decode_as(sc, charset, data, len, &u, where);
		}
		/* a byte-order mark that contradicts the charset: read both ways */
		if (guess && skip && strncasecmp(charset, guess, 6) != 0)
			other = guess;
	} else if (guess && strcmp(guess, "UTF-8") != 0) {
		/* UTF-16 or UTF-32 that says so only by itself */
		buf_reserve(&u, len * 2 + 16);
		decode_as(sc, guess, data + skip, len - skip, &u, where);
		/* two bytes of a byte-order mark make no text UTF-16: what
		 * follows them is read as 8-bit text as well */
		if (skip)
			other = "";
	} else if ((textual || html) && !(declared && detector_charset_is_utf8(charset))
		   && !detector_utf8_valid(data, len)) {
		/* 8-bit text without a charset iconv knows: what a mail reader
		 * shows, Windows-1252, which maps every byte */
		buf_reserve(&u, len * 2 + 16);
		(void) detector_charset_to_utf8("windows-1252", data, len, &u, len);
		if (declared && !detector_charset_is_utf8(charset))
			detector_unscannable(sc, "unknown charset %.40s in %s", charset, label);
	} else
		conv = 0;
	if (other)
		detector_readings_begin(sc, &r);
	if (html) {
		scan_markup(sc, conv ? u.data : data, conv ? u.len : len, where, depth);
		if (strcmp(sniffed, "html") == 0 && strcmp(ctype, "text/html") != 0)
			detector_scan_unit(sc, where, NULL, conv ? u.data : data,
					   conv ? u.len : len); /* shown as it is */
	} else
		scan_text(sc, conv ? u.data : data, conv ? u.len : len, ctype, where);
	if (other) {
		detector_readings_next(&r);
		other_way(sc, *other ? other : NULL, data + skip, len - skip, html, where,
			  depth);
		detector_readings_end(&r);
	}
	if (!textual && !html && !conv && strcmp(sniffed, "binary") == 0) {
		/* Windows programs write their strings in UTF-16 */
		buf_reset(&u);
		detector_utf16_strings(data, len, &u, len);
		detector_scan_unit(sc, where, NULL, u.data, u.len);
	}
	buf_free(&u);
}

/* detector_content_scan - text, markup, archives or raw bytes of a part */
void detector_content_scan(struct det_scan *sc, const char *data, size_t len, const char *ctype,
			   const char *charset, unsigned where, int depth, const char *sniffed)
{
	if (len == 0 || detector_scan_expired(sc))
		return;
	if (sc->fp)
		detector_fp_file(sc, where, data, len); /* an indexed file, byte for byte */
	if (strcmp(sniffed, "pdf") == 0)
		return detector_pdf_scan(sc, data, len, where, depth);
	if (detector_container_scan(sc, data, len, where, depth + 1, sniffed, ctype))
		return;
	/* text, markup, UTF-16, or raw bytes (strings in binaries, PDFs) */
	text_scan(sc, data, len, ctype, charset, where, sniffed, depth);
}

static void mime_walk(struct det_scan *sc, const char *buf, size_t len, int depth,
		      unsigned scope, int top);

/* uu_begin - the next line from pos on that starts with "begin ", or n */
static size_t uu_begin(const char *d, size_t n, size_t pos)
{
	const char *b;

	/* memchr is fast where memmem is not: every 'b', then a look around */
	while (pos + 6 <= n && (b = memchr(d + pos, 'b', n - pos - 5)) != NULL) {
		pos = (size_t) (b - d);
		if ((pos == 0 || d[pos - 1] == '\n' || d[pos - 1] == '\r')
		    && memcmp(b, "begin ", 6) == 0)
			return pos;
		pos++;
	}
	return n;
}

/* uu_blocks - uuencoded files in a text part ("begin 644 name" ... "end"),
 * as mail readers show them: attachments */
static void uu_blocks(struct det_scan *sc, const char *d, size_t n, int depth)
{
	size_t pos = 0;
	int blocks = 0;

	while ((pos = uu_begin(d, n, pos)) < n) {
		const char *b = d + pos, *sp, *end;
		size_t eol, left;
		char name[256];
		struct buf dec;

		pos += 6;
		/* "begin", a mode of octal digits, a name */
		for (sp = b + 6; sp < d + n && *sp >= '0' && *sp <= '7'; sp++)
			/* void */;
		if (sp == b + 6 || sp >= d + n || *sp != ' ')
			continue;
		for (eol = (size_t) (sp - d); eol < n && d[eol] != '\n' && d[eol] != '\r';
		     eol++)
			/* void */;
		if (++blocks > MIME_UU_BLOCKS) {
			detector_unscannable(sc, "over %d uuencoded files in %s",
					     MIME_UU_BLOCKS,
					     sc->label ? sc->label : "the message");
			return;
		}
		snprintf(name, sizeof(name), "%.*s", (int) (d + eol - sp - 1), sp + 1);
		end = memmem(d + eol, n - eol, "\nend", 4);
		left = budget(sc);
		buf_init(&dec, 1024);
		detector_uu_decode(d + eol, (end ? (size_t) (end - d) + 4 : n) - eol, &dec,
				   left + 1);
		if (dec.len > left) {
			dec.len = left;
			detector_scan_limit(sc, "decoded size");
		}
		sc->decoded += dec.len;
		detector_note_attachment(sc, name,
					 dec.len ? detector_sniff(dec.data, dec.len) : "empty");
		if (++sc->parts > (unsigned) var_detector_part_limit) {
			detector_scan_limit(sc, "parts");
			buf_free(&dec);
			return;
		}
		detector_content_scan(sc, dec.data, dec.len, "application/octet-stream", NULL,
				      DET_W_ATTACH, depth,
				      dec.len ? detector_sniff(dec.data, dec.len) : "empty");
		buf_free(&dec);
		pos = end ? (size_t) (end - d) + 4 : n;
	}
}

/* unreadable_type - a part whose content cannot be read here; its reason */
static const char *unreadable_type(const struct mime_ctype *c)
{
	if (strcmp(c->type, "message/partial") == 0)
		return "message/partial fragment";
	if (strcmp(c->type, "application/pkcs7-mime") == 0
	    || strcmp(c->type, "application/x-pkcs7-mime") == 0)
		return "S/MIME encrypted or enveloped";
	if (strcmp(c->type, "application/pgp-encrypted") == 0
	    || strcmp(c->type, "multipart/encrypted") == 0)
		return "OpenPGP encrypted";
	return NULL;
}

/* leaf_content - one reading of a decoded leaf */
static void leaf_content(struct mime *m, const struct mime_entity *e,
			 const struct mime_ctype *c, const char *d, size_t n, int depth,
			 unsigned where, const char *sniffed)
{
	struct det_scan *sc = m->sc;
	const char *why;

	if (n == 0)
		return;
	if (is_message(c)) {
		if (depth + 1 > var_detector_depth_limit) {
			detector_scan_limit(sc, "depth");
			detector_scan_unit(sc, DET_W_ATTACH, NULL, d, n);
		} else
			mime_walk(sc, d, n, depth + 1, DET_W_ATTACH, 0);
		return;
	}
	if ((why = unreadable_type(c)) != NULL)
		detector_unscannable(sc, "%s content in %s", why, sc->label);
	else if (n >= 27 && memmem(d, n < 65536 ? n : 65536, "-----BEGIN PGP MESSAGE-----", 27))
		detector_unscannable(sc, "OpenPGP encrypted text in %s", sc->label);
	sc->content_name = e->nname ? e->name[0] : NULL;
	sc->flowed = c->flowed; /* scan_text reads it in text/plain only */
	detector_content_scan(sc, d, n, c->type, c->charset, where, depth, sniffed);
	sc->content_name = NULL;
	sc->flowed = 0;
	/* untyped text (no Content-Type) may hold uuencoded and BinHex
	 * files, which mail readers (Thunderbird, Outlook) show as
	 * attachments; an application/mac-binhex40 part is one */
	if (e->nct == 0 && n >= 10) {
		uu_blocks(sc, d, n, depth);
		detector_binhex_scan(sc, d, n, depth, 0);
	} else if (strcmp(c->type, "application/mac-binhex40") == 0)
		detector_binhex_scan(sc, d, n, depth, 1);
}

/* decode - a leaf's body in one transfer encoding, within the budget */
static void decode(struct mime *m, const struct mime_entity *e, enum mime_enc enc,
		   const char *data, size_t len, struct buf *dec, const char **d, size_t *n)
{
	struct det_scan *sc = m->sc;
	size_t left = budget(sc);

	*d = data;
	*n = len;
	switch (enc) {
	case ENC_BASE64:
		buf_init(dec, 1024);
		detector_b64_decode(data, len, dec, NULL, left + 1);
		break;
	case ENC_QP:
		buf_init(dec, len < left ? len + 16 : left + 16);
		detector_qp_decode(data, len, dec, left + 1);
		break;
	case ENC_UUENCODE:
		buf_init(dec, 1024);
		detector_uu_decode(data, len, dec, left + 1);
		break;
	case ENC_IDENTITY:
	case ENC_UNKNOWN:
		return;
	}
	*d = dec->data;
	*n = dec->len;
}

/* leaf - decode and scan the body of a leaf entity, each way it reads */
static void leaf(struct mime *m, const struct mime_entity *e, const char *data, size_t len,
		 int depth, unsigned scope)
{
	struct det_scan *sc = m->sc;
	static const struct mime_ctype plain = {"text/plain", "", "", 0};
	const struct mime_ctype *c0 = e->nct ? &e->ct[0] : &plain;
	int textual = strncmp(c0->type, "text/", 5) == 0;
	unsigned where;
	char lbl[160];
	const char *saved = sc->label;

	where = (scope == DET_W_ATTACH || e->attachment || e->nname
		 || !(textual || is_message(c0)))
		? DET_W_ATTACH
		: DET_W_BODY;
	sc->label = part_label(e, lbl, sizeof(lbl));
	detector_fp_part(sc, 1); /* documents: a part counts on its own */
	for (int x = 0; x < (e->nenc ? e->nenc : 1); x++) {
		enum mime_enc enc = e->nenc ? e->enc[x] : ENC_IDENTITY;
		struct buf dec = {0};
		const char *d, *sniffed;
		size_t n, left = budget(sc);

		if (enc == ENC_UNKNOWN)
			detector_unscannable(sc,
					     "unknown Content-Transfer-Encoding %.30s in %s",
					     e->enc_name[x], lbl);
		decode(m, e, enc, data, len, &dec, &d, &n);
		if (n > left) {
			n = left;
			detector_scan_limit(sc, "decoded size");
		}
		sc->decoded += n;
		sniffed = n ? detector_sniff(d, n) : "empty";
		if (x == 0 && where == DET_W_ATTACH) {
			for (int i = 0; i < e->nname; i++)
				detector_note_attachment(sc, e->name[i], sniffed);
			if (e->nname == 0)
				detector_note_attachment(sc, "", sniffed);
		}
		for (int y = 0; y < (e->nct ? e->nct : 1); y++)
			leaf_content(m, e, e->nct ? &e->ct[y] : &plain, d, n, depth, where,
				     sniffed);
		if (dec.data)
			buf_free(&dec);
	}
	detector_fp_part(sc, 0);
	sc->label = saved;
}

/* ---- the walk ---------------------------------------------------------- */

/* delimiter_at - is the line at pos a delimiter of an open frame? Its
 * frame, or -1. A line that only starts like one is noted. */
static int delimiter_at(struct mime *m, size_t pos, int *close, size_t *next)
{
	const char *s = m->buf + pos + 2;
	size_t rest = m->len - pos - 2;
	int prefix = -1;

	for (int k = m->nstack - 1; k >= 0; k--) {
		struct mime_frame *f = &m->stack[k];
		size_t i = f->blen, c;

		if (rest < f->blen || memcmp(s, f->boundary, f->blen) != 0)
			continue;
		*close = rest >= i + 2 && s[i] == '-' && s[i + 1] == '-';
		if (*close)
			i += 2;
		while (i < rest && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i < rest && s[i] != '\n' && s[i] != '\r') {
			prefix = k;
			continue;
		}
		*next = line_end(m->buf, m->len, pos, &c);
		return k;
	}
	if (prefix >= 0)
		detector_unscannable(m->sc,
				     "a line that begins like the delimiter --%.40s "
				     "but is none",
				     m->stack[prefix].boundary);
	return -1;
}

/* find_delimiter - the next delimiter line at or after pos; -1 if none */
static int find_delimiter(struct mime *m, size_t pos, size_t *at, int *close, size_t *next)
{
	if (m->nstack == 0)
		return -1;
	while (pos < m->len) {
		const char *d = memchr(m->buf + pos, '-', m->len - pos);
		size_t p;
		int k;

		if (d == NULL)
			return -1;
		p = (size_t) (d - m->buf);
		if (p + 2 < m->len && d[1] == '-' && (p == 0 || d[-1] == '\n' || d[-1] == '\r')
		    && (k = delimiter_at(m, p, close, next)) >= 0) {
			*at = p;
			return k;
		}
		pos = p + 1;
	}
	return -1;
}

/* body_end - the end of a part's body: the line break before a delimiter is not content */
static size_t body_end(const char *buf, size_t start, size_t at)
{
	if (at > start && buf[at - 1] == '\n')
		at--;
	if (at > start && buf[at - 1] == '\r')
		at--;
	return at;
}

/* text_span - text between the parts (preamble, epilogue), scanned as text */
static void text_span(struct mime *m, size_t start, size_t end, unsigned where, int depth)
{
	end = body_end(m->buf, start, end);
	if (end > start)
		detector_content_scan(m->sc, m->buf + start, end - start, "text/plain", NULL,
				      where, depth,
				      detector_sniff(m->buf + start, end - start));
}

/* other_readings - an entity read as a multipart or a message, that other
 * readers take as something else: its whole body that way too */
static void other_readings(struct mime *m, struct mime_entity *e, int depth, unsigned scope)
{
	struct mime_entity alt;
	size_t at, next;
	int close, k, odd_enc = e->nenc > 1 || (e->nenc == 1 && e->enc[0] != ENC_IDENTITY);
	char lbl[160];

	if (e->nct < 2 && !odd_enc)
		return;
	alt = *e;
	alt.nct = 0;
	if (e->nct == 2) {
		if (is_multipart(&e->ct[1]) || is_message(&e->ct[1]))
			detector_unscannable(
				m->sc, "conflicting Content-Type fields (%.40s, %.40s) in %s",
				e->ct[0].type, e->ct[1].type, part_label(e, lbl, sizeof(lbl)));
		else {
			alt.ct[0] = e->ct[1];
			alt.nct = 1;
		}
	}
	if (odd_enc) {
		/* RFC 2045 allows no encoding of a multipart: readers differ */
		detector_unscannable(m->sc, "%.40s with Content-Transfer-Encoding %.30s in %s",
				     e->ct[0].type, e->enc_name[e->nenc - 1],
				     part_label(e, lbl, sizeof(lbl)));
		if (alt.nct == 0) {
			snprintf(alt.ct[0].type, sizeof(alt.ct[0].type), "text/plain");
			alt.nct = 1;
		}
	}
	if (alt.nct == 0)
		return;
	k = find_delimiter(m, m->pos, &at, &close, &next);
	leaf(m, &alt, m->buf + m->pos, body_end(m->buf, m->pos, k >= 0 ? at : m->len) - m->pos,
	     depth, scope);
}

/* odd_lines - header lines that Python's email package takes as the body */
static void odd_lines(struct mime *m, const struct mime_entity *e, unsigned scope, int depth)
{
	if (e->odd_from && e->odd_to > e->odd_from)
		text_span(m, e->odd_from, e->odd_to, scope, depth);
}

/* mime_walk - parse one message (top level or attached) */
static void mime_walk(struct det_scan *sc, const char *buf, size_t len, int depth,
		      unsigned scope, int top)
{
	struct mime m = {.sc = sc, .buf = buf, .len = len};
	struct mime_entity e;
	int cur_depth = depth, message = 1;
	int digest = 0;

	for (;;) {
		size_t at, next, n2;
		int k, close;

		if (detector_scan_expired(sc))
			break;
		if (++sc->parts > (unsigned) var_detector_part_limit) {
			detector_scan_limit(sc, "parts");
			break;
		}
		memset(&e, 0, sizeof(e));
		e.number = sc->parts;
		parse_headers(&m, &e, top, message);
		if (digest && e.nct == 0) { /* RFC 2046 5.1.5: parts are messages */
			strcpy(e.ct[0].type, "message/rfc822");
			e.nct = 1;
		}
		top = 0;
		message = 0;
		odd_lines(&m, &e, scope, cur_depth);
		if (e.nct && is_multipart(&e.ct[0])
		    && cur_depth + 1 <= var_detector_depth_limit) {
			struct mime_frame *f;

			other_readings(&m, &e, cur_depth, scope);
			if (m.nstack == m.maxstack) {
				m.maxstack = m.maxstack ? m.maxstack * 2 : 8;
				m.stack = xrealloc(m.stack,
						   (size_t) m.maxstack * sizeof(*m.stack));
			}
			f = &m.stack[m.nstack++];
			memset(f, 0, sizeof(*f));
			snprintf(f->boundary, sizeof(f->boundary), "%s", e.ct[0].boundary);
			f->blen = strlen(f->boundary);
			f->depth = cur_depth;
			f->scope = e.attachment ? DET_W_ATTACH : scope;
			f->alternative = strcmp(e.ct[0].type, "multipart/alternative") == 0;
			f->digest = strcmp(e.ct[0].type, "multipart/digest") == 0;
			k = find_delimiter(&m, m.pos, &at, &close, &next);
			/* the preamble; all of it when no delimiter follows */
			text_span(&m, m.pos, k >= 0 ? at : m.len, f->scope, cur_depth);
		} else if (e.nct && is_message(&e.ct[0]) && e.nenc <= 1
			   && (e.nenc == 0 || e.enc[0] == ENC_IDENTITY)
			   && cur_depth + 1 <= var_detector_depth_limit) {
			other_readings(&m, &e, cur_depth, scope);
			detector_note_attachment(sc, e.nname ? e.name[0] : "", "message");
			cur_depth++;
			scope = DET_W_ATTACH;
			message = 1;
			digest = 0;
			continue; /* its headers follow */
		} else {
			size_t start = m.pos;

			/* (an encoded message is no limit: its leaf is decoded and walked) */
			if (e.nct && (is_multipart(&e.ct[0]) || is_message(&e.ct[0]))
			    && cur_depth + 1 > var_detector_depth_limit) {
				char lbl[160];

				detector_unscannable(sc,
						     "detector_depth_limit (%d) reached in %s",
						     var_detector_depth_limit,
						     part_label(&e, lbl, sizeof(lbl)));
			}
			k = find_delimiter(&m, m.pos, &at, &close, &next);
			leaf(&m, &e, buf + start,
			     body_end(buf, start, k >= 0 ? at : len) - start, cur_depth, scope);
		}
		/* at a delimiter of frame k (or at the end) */
		for (;;) {
			struct mime_frame *f;
			unsigned esc;

			if (k < 0)
				goto done;
			while (m.nstack - 1 > k)
				frame_pop(&m);
			f = &m.stack[k];
			alt_part_end(&m, f);
			if (!close)
				break;
			/* the epilogue, up to a delimiter of an outer frame */
			esc = f->scope;
			frame_pop(&m);
			k = find_delimiter(&m, next, &at, &close, &n2);
			text_span(&m, next, k >= 0 ? at : m.len, esc, cur_depth);
			next = n2;
		}
		m.pos = next;
		cur_depth = m.stack[k].depth + 1;
		scope = m.stack[k].scope;
		digest = m.stack[k].digest;
		alt_part_begin(&m, &m.stack[k]);
	}
done:
	while (m.nstack > 0)
		frame_pop(&m);
	free(m.stack);
}

/* detector_message_scan - a message saved as a file (an .eml in a zip) */
void detector_message_scan(struct det_scan *sc, const char *msg, size_t len, int depth)
{
	mime_walk(sc, msg, len, depth, DET_W_ATTACH, 0);
}

/* detector_mime_scan - scan a whole message */
void detector_mime_scan(struct det_scan *sc, const char *msg, size_t len)
{
	mime_walk(sc, msg, len, 0, DET_W_BODY, 1);
}
