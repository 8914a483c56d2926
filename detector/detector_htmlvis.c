/*
 * detector_htmlvis - HTML without what a browser does not show
 *
 * detector_html_visible() copies HTML leaving out the content of every
 * element that is there but not shown: the hidden attribute, an inline
 * style of display:none, visibility:hidden, font-size:0, opacity:0 or
 * max-height:0 (and the same for a class that a <style> element of the
 * document hides that way: ".x { display: none }"). Text salted with such
 * elements ("fal<span style=display:none>x</span>con") reads whole in the
 * copy, as a reader sees it; the caller scans both.
 *
 * The tags themselves stay (the HTML-to-text step reads them as usual);
 * comments, scripts and styles are copied as they stand. Returns 1 when
 * something was left out (out holds the copy), 0 when nothing is hidden
 * (out holds nothing new). One pass; the element nesting, the classes and
 * the scan of a style are bounded; the output is never longer than the
 * input.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "detector.h"

#define VIS_CLASSES   64 /* hiding classes read from <style> */
#define VIS_CLASS_LEN 40

struct vis {
	char classes[VIS_CLASSES][VIS_CLASS_LEN];
	int nclasses;
};

/* ci_find - the first place of a lower-case needle in d, ignoring case */
static const char *ci_find(const char *d, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (tolower((unsigned char) d[i]) == needle[0]
		    && strncasecmp(d + i, needle, n) == 0)
			return d + i;
	return NULL;
}

/* hides - does a CSS declaration block hide its element? */
static int hides(const char *css, size_t len)
{
	static const char *const prop[] = {"display",    "visibility", "font-size", "opacity",
					   "max-height", "height",     NULL};

	for (size_t i = 0; i < len; i++) {
		for (int k = 0; prop[k]; k++) {
			size_t pl = strlen(prop[k]), j;

			if (i + pl > len || strncasecmp(css + i, prop[k], pl) != 0
			    || (i > 0
				&& (isalnum((unsigned char) css[i - 1]) || css[i - 1] == '-')))
				continue;
			for (j = i + pl; j < len
			     && (css[j] == ' ' || css[j] == '\t' || css[j] == '\n'
				 || css[j] == '\r');
			     j++)
				/* void */;
			if (j >= len || css[j] != ':')
				continue;
			for (j++; j < len
			     && (css[j] == ' ' || css[j] == '\t' || css[j] == '\n'
				 || css[j] == '\r');
			     j++)
				/* void */;
			if (k == 0 && len - j >= 4 && strncasecmp(css + j, "none", 4) == 0)
				return 1;
			if (k == 1 && len - j >= 6 && strncasecmp(css + j, "hidden", 6) == 0)
				return 1;
			if (k >= 2 && j < len && css[j] == '0'
			    && (j + 1 >= len
				|| !(isdigit((unsigned char) css[j + 1]) || css[j + 1] == '.')))
				return k != 5 || ci_find(css, len, "overflow") != NULL;
		}
	}
	return 0;
}

/* style_classes - the classes a <style> element's rules hide */
static void style_classes(struct vis *v, const char *css, size_t len)
{
	size_t i = 0;

	while (i < len && v->nclasses < VIS_CLASSES) {
		const char *open = memchr(css + i, '{', len - i), *close;
		size_t s;

		if (open == NULL)
			return;
		close = memchr(open, '}', len - (size_t) (open - css));
		if (close == NULL)
			return;
		if (hides(open + 1, (size_t) (close - open - 1))) {
			/* every ".name" of the selectors before the block */
			for (s = i; s < (size_t) (open - css) && v->nclasses < VIS_CLASSES;
			     s++) {
				size_t k = 0;

				if (css[s] != '.')
					continue;
				for (s++; s < (size_t) (open - css) && k + 1 < VIS_CLASS_LEN
				     && (isalnum((unsigned char) css[s]) || css[s] == '-'
					 || css[s] == '_');
				     s++)
					v->classes[v->nclasses][k++] = css[s];
				v->classes[v->nclasses][k] = 0;
				/* a compound selector (".a .b", ".a:hover") hides only sometimes */
				if (k > 0
				    && (s >= (size_t) (open - css) || css[s] == ','
					|| css[s] == '{' || isspace((unsigned char) css[s])))
					v->nclasses++;
			}
		}
		i = (size_t) (close - css) + 1;
	}
}

/* attr_value - the value of an attribute in a tag's text, into out; 1 if present */
static int attr_value(const char *tag, size_t len, const char *name, char *out, size_t olen)
{
	size_t n = strlen(name);

	for (size_t i = 1; i + n <= len; i++) {
		size_t j = i + n, k = 0;
		char q = 0;

		if (!isspace((unsigned char) tag[i - 1]) && tag[i - 1] != '"'
		    && tag[i - 1] != '\'')
			continue;
		if (strncasecmp(tag + i, name, n) != 0)
			continue;
		if (j < len && (isalnum((unsigned char) tag[j]) || tag[j] == '-'))
			continue;
		while (j < len && isspace((unsigned char) tag[j]))
			j++;
		if (j >= len || tag[j] != '=') {
			out[0] = 0;
			return 1; /* present, no value: "hidden" */
		}
		for (j++; j < len && isspace((unsigned char) tag[j]); j++)
			/* void */;
		if (j < len && (tag[j] == '"' || tag[j] == '\''))
			q = tag[j++];
		for (; j < len && k + 1 < olen
		     && (q ? tag[j] != q : !isspace((unsigned char) tag[j]) && tag[j] != '>');
		     j++)
			out[k++] = tag[j];
		out[k] = 0;
		return 1;
	}
	return 0;
}

/* tag_hidden - is the element this start tag opens not shown? */
static int tag_hidden(const struct vis *v, const char *tag, size_t len)
{
	char val[1024], *save = NULL;

	if (attr_value(tag, len, "hidden", val, sizeof(val)))
		return 1;
	if (attr_value(tag, len, "style", val, sizeof(val)) && hides(val, strlen(val)))
		return 1;
	if (v->nclasses && attr_value(tag, len, "class", val, sizeof(val))) {
		for (char *w = strtok_r(val, " \t\r\n", &save); w;
		     w = strtok_r(NULL, " \t\r\n", &save))
			for (int i = 0; i < v->nclasses; i++)
				if (strcmp(w, v->classes[i]) == 0)
					return 1;
	}
	return 0;
}

/* tag_at - the end of the tag at in[i] (quote-aware), its name and whether it closes */
static size_t tag_at(const char *in, size_t len, size_t i, char *name, size_t nlen,
		     int *closing)
{
	size_t j = i + 1, k = 0;

	*closing = j < len && in[j] == '/';
	if (*closing)
		j++;
	for (; j < len && (isalnum((unsigned char) in[j]) || in[j] == '-' || in[j] == ':'); j++)
		if (k + 1 < nlen)
			name[k++] = (char) tolower((unsigned char) in[j]);
	name[k] = 0;
	while (j < len && in[j] != '>') {
		if (in[j] == '"' || in[j] == '\'') {
			const char *q = memchr(in + j + 1, in[j], len - j - 1);

			j = q ? (size_t) (q - in) + 1 : len;
		} else
			j++;
	}
	return j < len ? j + 1 : len;
}

/* is_void - an element without content */
static int is_void(const char *name)
{
	static const char *const v[] = {"area",  "base",   "br",    "col",  "embed",
					"hr",    "img",    "input", "link", "meta",
					"param", "source", "track", "wbr",  NULL};

	for (int i = 0; v[i]; i++)
		if (strcmp(name, v[i]) == 0)
			return 1;
	return 0;
}

/* maybe_hidden - is there any word of hiding in the HTML at all? (cheap) */
static int maybe_hidden(const char *in, size_t len)
{
	return ci_find(in, len, "hidden") || ci_find(in, len, "none")
		|| ci_find(in, len, "font-size") || ci_find(in, len, "opacity")
		|| ci_find(in, len, "height");
}

/* detector_html_visible - the HTML without the content a browser hides */
int detector_html_visible(const char *in, size_t len, struct buf *out)
{
	struct vis v = {.nclasses = 0};
	char hidden_name[24] = "", name[24];
	size_t i = 0;
	int nest = 0, dropped = 0;

	if (!maybe_hidden(in, len))
		return 0;
	/* the classes the document's styles hide */
	for (const char *p = in; (p = ci_find(p, len - (size_t) (p - in), "<style")) != NULL;) {
		const char *gt = memchr(p, '>', len - (size_t) (p - in)), *end;

		if (gt == NULL)
			break;
		end = ci_find(gt, len - (size_t) (gt - in), "</style");
		style_classes(&v, gt + 1, (size_t) ((end ? end : in + len) - gt - 1));
		p = end ? end : in + len;
	}
	buf_reserve(out, len + 1);
	while (i < len) {
		const char *lt = memchr(in + i, '<', len - i);
		size_t run = lt ? (size_t) (lt - in) - i : len - i, e;
		int closing;

		if (nest == 0)
			buf_append(out, in + i, run);
		else if (run)
			dropped = 1;
		i += run;
		if (i >= len)
			break;
		if (len - i >= 4 && memcmp(in + i, "<!--", 4) == 0) {
			const char *end = memmem(in + i + 4, len - i - 4, "-->", 3);

			e = end ? (size_t) (end - in) + 3 : len;
		} else if (i + 1 >= len
			   || !(isalpha((unsigned char) in[i + 1]) || in[i + 1] == '/')) {
			e = i + 1; /* a '<' that opens no tag */
		} else {
			e = tag_at(in, len, i, name, sizeof(name), &closing);
			if (nest > 0 && strcmp(name, hidden_name) == 0)
				nest += closing ? -1 : (in[e - 2] == '/' ? 0 : 1);
			else if (nest == 0 && !closing && name[0] && !is_void(name)
				 && in[e - 2] != '/' && tag_hidden(&v, in + i, e - i)) {
				snprintf(hidden_name, sizeof(hidden_name), "%s", name);
				nest = 1;
				dropped = 1;
			}
		}
		/* tags are kept, even in hidden content: the text step reads them */
		buf_append(out, in + i, e - i);
		i = e;
	}
	if (out->data)
		out->data[out->len] = 0;
	return dropped;
}
