/*
 * detector_vobject - the text of iCalendar and vCard objects
 *
 * detector_vobject_is() says whether content is an iCalendar (RFC 5545:
 * meeting invitations, .ics) or vCard (RFC 6350 and vCard 2.1: contacts,
 * .vcf) object, by its type, its file name or its first line.
 *
 * detector_vobject_to_text() gives what a calendar or address book shows
 * of one: its folded lines joined (a line that starts with a space or a
 * tab continues the one before, without that character), each property's
 * parameters and then its value, the value decoded from quoted-printable
 * (vCard 2.1, whose soft line breaks join lines too) or base64 (ENCODING=B)
 * and from a CHARSET parameter, and its escapes undone (\n, \, \; \\).
 *
 * The output is never longer than the input plus one line break per line;
 * nothing is read outside the input.
 */
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "detector.h"

/* starts_ci - does data start with the prefix, ignoring case? */
static int starts_ci(const char *d, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && strncasecmp(d, prefix, n) == 0;
}

/* ends_ci - does a name end with the suffix, ignoring case? */
static int ends_ci(const char *name, const char *suffix)
{
	size_t n = strlen(name), m = strlen(suffix);

	return n >= m && strcasecmp(name + n - m, suffix) == 0;
}

/* detector_vobject_is - an iCalendar or vCard object? */
int detector_vobject_is(const char *ctype, const char *name, const char *d, size_t len)
{
	size_t i = 0;

	if (strcmp(ctype, "text/calendar") == 0 || strcmp(ctype, "text/vcard") == 0
	    || strcmp(ctype, "text/x-vcard") == 0 || strcmp(ctype, "text/directory") == 0
	    || strcmp(ctype, "application/ics") == 0 || strcmp(ctype, "text/x-vcalendar") == 0)
		return 1;
	if (name && (ends_ci(name, ".ics") || ends_ci(name, ".vcf") || ends_ci(name, ".vcs")))
		return 1;
	if (len >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && i < 64
	       && (d[i] == ' ' || d[i] == '\r' || d[i] == '\n' || d[i] == '\t'))
		i++;
	return starts_ci(d + i, len - i, "BEGIN:VCALENDAR")
		|| starts_ci(d + i, len - i, "BEGIN:VCARD");
}

/* unfold - the logical lines: folds joined, and vCard 2.1 soft breaks */
static void unfold(const char *in, size_t len, struct buf *out)
{
	size_t i = 0, start = out->len;
	int qp = -1; /* the line's value is quoted-printable */

	while (i < len) {
		const char *lf = memchr(in + i, '\n', len - i);
		size_t e = lf ? (size_t) (lf - in) : len, c = e;

		if (c > i && in[c - 1] == '\r')
			c--;
		buf_append(out, in + i, c - i);
		i = lf ? e + 1 : len;
		/* quoted-printable's "=" at the end of a line joins the next */
		if (out->len > start && out->data[out->len - 1] == '=' && i < len) {
			if (qp < 0) {
				const char *colon =
					memchr(out->data + start, ':', out->len - start);

				qp = colon
					&& memmem(out->data + start,
						  (size_t) (colon - out->data) - start,
						  "QUOTED-PRINTABLE", 16)
						!= NULL;
			}
			if (qp) {
				out->len--;
				continue;
			}
		}
		if (i < len && (in[i] == ' ' || in[i] == '\t')) {
			i++; /* a folded line goes on */
			continue;
		}
		buf_putc(out, '\n');
		start = out->len;
		qp = -1;
	}
}

/* hexval - a hex digit's value, or -1 */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* param_value - the value of a parameter NAME= in the parameters, into v */
static int param_value(const char *p, size_t len, const char *name, char *v, size_t vlen)
{
	size_t n = strlen(name);

	for (size_t i = 0; i + n < len; i++) {
		if ((i == 0 || p[i - 1] == ';') && strncasecmp(p + i, name, n) == 0
		    && p[i + n] == '=') {
			size_t k = 0;

			for (size_t j = i + n + 1; j < len && p[j] != ';' && k + 1 < vlen; j++)
				if (p[j] != '"')
					v[k++] = p[j];
			v[k] = 0;
			return 1;
		}
	}
	return 0;
}

/* value_text - one property value: decoded, converted, unescaped */
static void value_text(const char *params, size_t plen, const char *v, size_t vlen,
		       struct buf *out)
{
	char enc[32], cs[48];
	struct buf raw, conv;
	const char *t = v;
	size_t tlen = vlen;

	buf_init(&raw, vlen + 16);
	buf_init(&conv, 16);
	if (param_value(params, plen, "ENCODING", enc, sizeof(enc))
	    && strcasecmp(enc, "QUOTED-PRINTABLE") == 0) {
		for (size_t i = 0; i < vlen; i++)
			if (v[i] == '=' && i + 2 < vlen && hexval(v[i + 1]) >= 0
			    && hexval(v[i + 2]) >= 0) {
				buf_putc(&raw, hexval(v[i + 1]) << 4 | hexval(v[i + 2]));
				i += 2;
			} else
				buf_putc(&raw, v[i]);
		t = raw.data;
		tlen = raw.len;
	} else if (param_value(params, plen, "ENCODING", enc, sizeof(enc))
		   && (strcasecmp(enc, "B") == 0 || strcasecmp(enc, "BASE64") == 0)) {
		detector_b64_decode(v, vlen, &raw, NULL, vlen);
		t = raw.data;
		tlen = raw.len;
	}
	if (param_value(params, plen, "CHARSET", cs, sizeof(cs))
	    && !detector_charset_is_utf8(cs) && detector_charset_known(cs)) {
		buf_reserve(&conv, tlen * 2 + 16);
		(void) detector_charset_to_utf8(cs, t, tlen, &conv, tlen);
		t = conv.data;
		tlen = conv.len;
	}
	for (size_t i = 0; i < tlen; i++) {
		if (t[i] == '\\' && i + 1 < tlen) {
			char c = t[++i];

			buf_putc(out, c == 'n' || c == 'N' ? '\n' : c);
		} else
			buf_putc(out, t[i]);
	}
	buf_free(&raw);
	buf_free(&conv);
}

/* detector_vobject_to_text - what a calendar or address book shows */
void detector_vobject_to_text(const char *in, size_t len, struct buf *out)
{
	struct buf lines;
	size_t i = 0;

	buf_init(&lines, len + 16);
	unfold(in, len, &lines);
	buf_reserve(out, lines.len + 16);
	while (i < lines.len) {
		const char *l = lines.data + i, *nl = memchr(l, '\n', lines.len - i);
		size_t n = nl ? (size_t) (nl - l) : lines.len - i, colon = n;
		int quoted = 0;

		for (size_t k = 0; k < n; k++) {
			if (l[k] == '"')
				quoted = !quoted;
			else if (l[k] == ':' && !quoted) {
				colon = k;
				break;
			}
		}
		if (colon < n) {
			/* the name and parameters (CN="...", a reader shows them too) */
			buf_append(out, l, colon);
			buf_putc(out, ' ');
			value_text(l, colon, l + colon + 1, n - colon - 1, out);
		} else
			buf_append(out, l, n);
		buf_putc(out, '\n');
		i += n + 1;
	}
	out->data[out->len] = 0;
	buf_free(&lines);
}
