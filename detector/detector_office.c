/*
 * detector_office - the text of Office Open XML and OpenDocument parts
 *
 * detector_office_xml() turns one XML member of a docx, xlsx, pptx, odt,
 * ods or odp (or any other XML) into the text its reader shows:
 *
 *	character data		as is, entities decoded, CDATA kept; runs
 *				of one word split over elements (<w:r>,
 *				<text:span>...) stay one word
 *	paragraphs, rows	a line break after each (w:p, a:p, text:p,
 *				text:h, si, row, w:tr, table-row, w:br...)
 *	cells, tabs		a tab (c, w:tc, table-cell, w:tab, text:tab),
 *				so a sheet reads like a TSV export
 *	other elements		a line break after one that held text, so
 *				two property values do not run together
 *	attribute values	those a reader sees or a program computes
 *				with: cell values (office:value, v of pivot
 *				caches), names of sheets and tables, alt text
 *				(descr, title), link targets (Target, href),
 *				formulas, validation prompts and messages
 *	comments		their text, on a line of their own
 *
 * Other attributes are layout (sizes, styles, revision ids) and are not
 * text. Malformed markup is read as far as it goes; nothing is read
 * outside the input, the output stops at the caller's limit, and the
 * element stack is bounded (deeper elements count as inline).
 */
#include <string.h>

#include "buf.h"
#include "detector.h"

#define OFFICE_STACK	128

enum office_act {
	OFF_INLINE,			/* nothing: part of the running text */
	OFF_LINE,			/* a line break after the element */
	OFF_CELL,			/* a tab after the element */
	OFF_BREAK,			/* a line break where it stands (w:br) */
	OFF_TAB,			/* a tab where it stands (w:tab) */
	OFF_SPACE,			/* a space where it stands (text:s) */
	OFF_OTHER,			/* a line break after it if it held text */
};

static const struct office_elem {
	const char *name;		/* local name, without its prefix */
	enum office_act act;
} office_elems[] = {
	{"t", OFF_INLINE}, {"r", OFF_INLINE}, {"span", OFF_INLINE},
	{"a", OFF_INLINE}, {"delText", OFF_INLINE}, {"instrText", OFF_INLINE},
	{"hyperlink", OFF_INLINE}, {"ins", OFF_INLINE}, {"del", OFF_INLINE},
	{"smartTag", OFF_INLINE}, {"fldSimple", OFF_INLINE}, {"sdtContent", OFF_INLINE},
	{"customXml", OFF_INLINE}, {"v", OFF_INLINE}, {"is", OFF_INLINE},
	{"rPr", OFF_INLINE}, {"pPr", OFF_INLINE}, {"bookmark", OFF_INLINE},
	{"p", OFF_LINE}, {"h", OFF_LINE}, {"si", OFF_LINE}, {"row", OFF_LINE},
	{"tr", OFF_LINE}, {"table-row", OFF_LINE}, {"list-item", OFF_LINE},
	{"c", OFF_CELL}, {"tc", OFF_CELL}, {"table-cell", OFF_CELL},
	{"covered-table-cell", OFF_CELL}, {"f", OFF_CELL},
	{"br", OFF_BREAK}, {"cr", OFF_BREAK}, {"line-break", OFF_BREAK},
	{"tab", OFF_TAB}, {"s", OFF_SPACE},
};

/* Attributes whose values are content, by local name. */
static const char *const office_attrs[] = {
	"value", "string-value", "date-value", "time-value", "v", "descr", "title",
	"tooltip", "Target", "href", "formula", "prompt", "promptTitle", "error",
	"errorTitle", "author", NULL,
};

/* local_name - the part of a qualified name after its prefix */
static const char *local_name(const char *name, size_t len, size_t *llen)
{
	const char *colon = memchr(name, ':', len);

	if (colon == NULL) {
		*llen = len;
		return name;
	}
	*llen = len - (size_t) (colon + 1 - name);
	return colon + 1;
}

/* elem_act - what an element means for the text */
static enum office_act elem_act(const char *name, size_t len)
{
	size_t  llen;
	const char *l = local_name(name, len, &llen);

	for (size_t i = 0; i < sizeof(office_elems) / sizeof(office_elems[0]); i++)
		if (office_elems[i].name[0] == l[0] && strlen(office_elems[i].name) == llen
		    && memcmp(office_elems[i].name, l, llen) == 0)
			return office_elems[i].act;
	return OFF_OTHER;
}

/* attr_wanted - is an attribute of this element content? */
static int attr_wanted(const char *ename, size_t elen, const char *name, size_t len)
{
	size_t  llen, el;
	const char *l = local_name(name, len, &llen), *e = local_name(ename, elen, &el);

	if (llen == 4 && memcmp(l, "name", 4) == 0)	/* names of sheets, tables, pages */
		return (el == 5 && memcmp(e, "sheet", 5) == 0)
			|| (el == 5 && memcmp(e, "table", 5) == 0)
			|| (el == 4 && memcmp(e, "page", 4) == 0);
	for (size_t i = 0; office_attrs[i]; i++)
		if (office_attrs[i][0] == l[0] && strlen(office_attrs[i]) == llen
		    && memcmp(office_attrs[i], l, llen) == 0)
			return 1;
	return 0;
}

/* put_utf8 - a code point as UTF-8 (invalid ones as U+FFFD) */
static void put_utf8(struct buf *out, unsigned long cp)
{
	char    u[4];

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		u[0] = (char) cp;
		buf_append(out, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char) (0xc0 | cp >> 6);
		u[1] = (char) (0x80 | (cp & 0x3f));
		buf_append(out, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char) (0xe0 | cp >> 12);
		u[1] = (char) (0x80 | (cp >> 6 & 0x3f));
		u[2] = (char) (0x80 | (cp & 0x3f));
		buf_append(out, u, 3);
	} else {
		u[0] = (char) (0xf0 | cp >> 18);
		u[1] = (char) (0x80 | (cp >> 12 & 0x3f));
		u[2] = (char) (0x80 | (cp >> 6 & 0x3f));
		u[3] = (char) (0x80 | (cp & 0x3f));
		buf_append(out, u, 4);
	}
}

/* xml_entity - decode the entity at p ('&'); its length, 0 if none */
static size_t xml_entity(const char *p, size_t len, struct buf *out)
{
	static const struct {
		const char *name;
		size_t  len;
		char    c;
	}       named[] = {
		{"amp;", 4, '&'}, {"lt;", 3, '<'}, {"gt;", 3, '>'},
		{"quot;", 5, '"'}, {"apos;", 5, '\''},
	};
	unsigned long cp = 0;
	size_t  n;

	if (len >= 3 && p[1] == '#') {
		int     hex = p[2] == 'x' || p[2] == 'X';

		for (n = hex ? 3 : 2; n < len && n < 12; n++) {
			int     c = (unsigned char) p[n], v;

			if (c >= '0' && c <= '9')
				v = c - '0';
			else if (hex && ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'))
				v = (c | 0x20) - 'a' + 10;
			else
				break;
			cp = cp * (hex ? 16 : 10) + (unsigned long) v;
		}
		if (n == (hex ? 3u : 2u))
			return 0;
		put_utf8(out, cp);
		return n < len && p[n] == ';' ? n + 1 : n;
	}
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (len > named[i].len && memcmp(p + 1, named[i].name, named[i].len) == 0) {
			buf_append(out, &named[i].c, 1);
			return named[i].len + 1;
		}
	return 0;
}

/* put_text - character data, entities decoded */
static void put_text(struct buf *out, const char *p, size_t len)
{
	while (len > 0) {
		const char *amp = memchr(p, '&', len);
		size_t  run = amp ? (size_t) (amp - p) : len, n;

		buf_append(out, p, run);
		p += run;
		len -= run;
		if (len == 0)
			break;
		if ((n = xml_entity(p, len, out)) == 0) {
			buf_append(out, p, 1);
			n = 1;
		}
		p += n;
		len -= n;
	}
}

/* put_sep - a separator, unless the text ends in white space already */
static void put_sep(struct buf *out, char c)
{
	if (out->len > 0) {
		char    last = out->data[out->len - 1];

		if (last == '\n' || (last == c && c != '\t'))
			return;
	}
	buf_append(out, &c, 1);
}

/* skip_to - past the first occurrence of a terminator, or the end */
static size_t skip_to(const char *in, size_t len, size_t i, const char *term, size_t tlen,
		      struct buf *out)
{
	const char *end = memmem(in + i, len - i, term, tlen);
	size_t  stop = end ? (size_t) (end - in) : len;

	if (out)
		put_text(out, in + i, stop - i);
	return end ? stop + tlen : len;
}

/* is_ws - XML white space */
static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* tag - one start or end tag at in[i] ('<'); the index past it */
static size_t tag(const char *in, size_t len, size_t i, struct buf *out,
		  size_t *stack, int *depth)
{
	int     closing = i + 1 < len && in[i + 1] == '/';
	size_t  j = i + 1 + (size_t) closing, name = j, nlen;
	int     empty = 0;
	enum office_act act;

	while (j < len && !is_ws(in[j]) && in[j] != '>' && in[j] != '/')
		j++;
	nlen = j - name;
	/* attributes: name = "value" */
	while (j < len && in[j] != '>') {
		size_t  an, alen;
		const char *q;
		char    quote;

		if (in[j] == '/') {
			empty = 1;
			j++;
			continue;
		}
		if (is_ws(in[j])) {
			j++;
			continue;
		}
		empty = 0;
		an = j;
		while (j < len && !is_ws(in[j]) && in[j] != '=' && in[j] != '>' && in[j] != '/')
			j++;
		alen = j - an;
		while (j < len && is_ws(in[j]))
			j++;
		if (j >= len || in[j] != '=')
			continue;
		for (j++; j < len && is_ws(in[j]); j++)
			 /* void */ ;
		if (j >= len || (in[j] != '"' && in[j] != '\''))
			continue;
		quote = in[j++];
		q = memchr(in + j, quote, len - j);
		if (q == NULL)
			return len;
		if (!closing && q > in + j && attr_wanted(in + name, nlen, in + an, alen)) {
			put_sep(out, ' ');
			put_text(out, in + j, (size_t) (q - (in + j)));
			put_sep(out, ' ');
		}
		j = (size_t) (q - in) + 1;
	}
	act = elem_act(in + name, nlen);
	switch (act) {
	case OFF_BREAK:
		put_sep(out, '\n');
		break;
	case OFF_TAB:
		buf_append(out, "\t", 1);
		break;
	case OFF_SPACE:
		buf_append(out, " ", 1);
		break;
	default:
		if (!closing && !empty) {
			if (*depth < OFFICE_STACK)
				stack[*depth] = out->len;
			(*depth)++;
		} else if (closing) {
			size_t  start = 0;

			if (*depth > 0 && --(*depth) < OFFICE_STACK)
				start = stack[*depth];
			if (act == OFF_LINE)
				put_sep(out, '\n');
			else if (act == OFF_CELL)
				put_sep(out, '\t');
			else if (act == OFF_OTHER && out->len > start)
				put_sep(out, '\n');
		}
		break;
	}
	return j < len ? j + 1 : len;
}

/* detector_office_xml - the text a reader sees in an XML part */
void    detector_office_xml(const char *in, size_t len, struct buf *out, size_t limit)
{
	size_t  i = 0, stack[OFFICE_STACK];
	int     depth = 0;

	buf_reserve(out, (len < limit ? len : limit) / 2 + 16);
	while (i < len && out->len < limit) {
		const char *lt = memchr(in + i, '<', len - i);
		size_t  run = lt ? (size_t) (lt - (in + i)) : len - i;

		/* character data; white space alone between tags is layout */
		if (run > 0) {
			size_t  k = 0;

			while (k < run && is_ws(in[i + k]))
				k++;
			if (k < run)
				put_text(out, in + i, run);
		}
		i += run;
		if (i >= len)
			break;
		if (len - i >= 4 && memcmp(in + i, "<!--", 4) == 0) {
			put_sep(out, '\n');
			i = skip_to(in, len, i + 4, "-->", 3, out);
			put_sep(out, '\n');
		} else if (len - i >= 9 && memcmp(in + i, "<![CDATA[", 9) == 0) {
			i = skip_to(in, len, i + 9, "]]>", 3, out);
		} else if (len - i >= 2 && in[i + 1] == '?') {
			i = skip_to(in, len, i + 2, "?>", 2, NULL);
		} else if (len - i >= 2 && in[i + 1] == '!') {
			i = skip_to(in, len, i + 2, ">", 1, NULL);
		} else {
			i = tag(in, len, i, out, stack, &depth);
		}
	}
	if (out->len > limit)
		out->len = limit;
	out->data[out->len] = 0;
}
