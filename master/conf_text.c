/*
 * conf_text - edit libconfig files as text, keeping every other byte
 *
 * See conf_text.h. The grammar is libconfig's:
 *
 *	file	= { setting | @include "path" }
 *	setting	= name ( "=" | ":" ) value [ ";" | "," ]
 *	value	= scalar | string { string } | "[" scalars "]"
 *		| "(" values ")" | "{" { setting } "}"
 *
 * A syntax error is reported as "file:line: what"; libconfig would refuse
 * the file too, and the caller never writes a file it could not parse.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "file_replace.h"
#include "mem.h"
#include "conf_text.h"

enum conf_tok_type {
	TOK_EOF,
	TOK_NAME,
	TOK_STRING,
	TOK_NUMBER,
	TOK_PUNCT,
	TOK_INCLUDE,
	TOK_ERROR,
};

struct conf_tok {
	enum conf_tok_type type;
	size_t start, end;
	int line;
	int ch;         /* TOK_PUNCT */
	struct buf str; /* TOK_STRING, decoded */
};

struct conf_lex {
	const char *s;
	size_t len, pos;
	int line;
	const char *shown;
	char *err;
	size_t errlen;
};

/* conf_lex_error - note the first syntax error */
static int conf_lex_error(struct conf_lex *l, int line, const char *what)
{
	if (*l->err == 0)
		snprintf(l->err, l->errlen, "%s:%d: %s", l->shown, line, what);
	return -1;
}

/* conf_lex_space - skip white space and comments */
static int conf_lex_space(struct conf_lex *l)
{
	while (l->pos < l->len) {
		const char *c = l->s + l->pos;

		if (*c == '\n') {
			l->line++;
			l->pos++;
		} else if (isspace((unsigned char) *c)) {
			l->pos++;
		} else if (*c == '#' || (*c == '/' && l->pos + 1 < l->len && c[1] == '/')) {
			while (l->pos < l->len && l->s[l->pos] != '\n')
				l->pos++;
		} else if (*c == '/' && l->pos + 1 < l->len && c[1] == '*') {
			int line = l->line;

			for (l->pos += 2;; l->pos++) {
				if (l->pos + 1 >= l->len)
					return conf_lex_error(l, line,
							      "unterminated /* comment");
				if (l->s[l->pos] == '\n')
					l->line++;
				if (l->s[l->pos] == '*' && l->s[l->pos + 1] == '/')
					break;
			}
			l->pos += 2;
		} else {
			break;
		}
	}
	return 0;
}

/* conf_lex_string - a "..." literal, decoded */
static int conf_lex_string(struct conf_lex *l, struct conf_tok *t)
{
	buf_reset(&t->str);
	for (l->pos++; l->pos < l->len; l->pos++) {
		char c = l->s[l->pos];

		if (c == '"') {
			l->pos++;
			t->end = l->pos;
			buf_putc(&t->str, 0);
			t->str.len--;
			return 0;
		}
		if (c == '\n')
			break;
		if (c == '\\' && l->pos + 1 < l->len) {
			c = l->s[++l->pos];
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			case 'f':
				c = '\f';
				break;
			case 'x':
				if (l->pos + 2 < l->len
				    && isxdigit((unsigned char) l->s[l->pos + 1])
				    && isxdigit((unsigned char) l->s[l->pos + 2])) {
					char hex[3] = {l->s[l->pos + 1], l->s[l->pos + 2], 0};

					c = (char) strtol(hex, NULL, 16);
					l->pos += 2;
				}
				break;
			default:
				break; /* \\ \" and the rest: the character */
			}
		}
		buf_putc(&t->str, c);
	}
	return conf_lex_error(l, t->line, "unterminated string");
}

/* conf_lex_next - the next token */
static int conf_lex_next(struct conf_lex *l, struct conf_tok *t)
{
	const char *c;

	if (conf_lex_space(l) < 0) {
		t->type = TOK_ERROR;
		return -1;
	}
	t->start = t->end = l->pos;
	t->line = l->line;
	if (l->pos >= l->len) {
		t->type = TOK_EOF;
		return 0;
	}
	c = l->s + l->pos;
	if (*c == '"') {
		t->type = TOK_STRING;
		return conf_lex_string(l, t);
	}
	if (strchr("=:;,[](){}", *c)) {
		t->type = TOK_PUNCT;
		t->ch = *c;
		t->end = ++l->pos;
		return 0;
	}
	if (*c == '@' && l->len - l->pos >= 8 && strncmp(c, "@include", 8) == 0) {
		t->type = TOK_INCLUDE;
		t->end = l->pos += 8;
		return 0;
	}
	if (isalpha((unsigned char) *c) || *c == '*') {
		t->type = TOK_NAME;
		while (l->pos < l->len
		       && (isalnum((unsigned char) l->s[l->pos])
			   || strchr("-_*", l->s[l->pos])))
			l->pos++;
		t->end = l->pos;
		return 0;
	}
	if (isdigit((unsigned char) *c) || strchr("+-.", *c)) {
		t->type = TOK_NUMBER;
		while (l->pos < l->len
		       && (isalnum((unsigned char) l->s[l->pos])
			   || strchr("+-.", l->s[l->pos])))
			l->pos++;
		t->end = l->pos;
		return 0;
	}
	t->type = TOK_ERROR;
	return conf_lex_error(l, l->line, "unexpected character");
}

/* conf_lex_peek - the next token, without consuming it */
static int conf_lex_peek(struct conf_lex *l, struct conf_tok *t)
{
	size_t pos = l->pos;
	int line = l->line, rc = conf_lex_next(l, t);

	l->pos = pos;
	l->line = line;
	return rc;
}

/* conf_node_new - an empty node */
static struct conf_node *conf_node_new(void)
{
	return xcalloc(1, sizeof(struct conf_node));
}

/* conf_node_add - append a child */
static void conf_node_add(struct conf_node *parent, struct conf_node *kid)
{
	parent->kids = xrealloc(parent->kids, (parent->nkids + 1) * sizeof(kid));
	parent->kids[parent->nkids++] = kid;
}

/* conf_node_free - a node and everything under it */
static void conf_node_free(struct conf_node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		conf_node_free(n->kids[i]);
	free(n->kids);
	free(n->name);
	free(n->str);
	free(n);
}

static int conf_parse_value(struct conf_lex *l, struct conf_tok *t, struct conf_node *n,
			    int depth);

/* conf_parse_settings - the settings of a group, up to '}' or the end */
static int conf_parse_settings(struct conf_lex *l, struct conf_tok *t, struct conf_node *group,
			       int closing, int depth)
{
	for (;;) {
		struct conf_node *n;

		if (conf_lex_next(l, t) < 0)
			return -1;
		if (t->type == TOK_EOF) {
			if (closing)
				return conf_lex_error(l, t->line, "missing } at the end");
			group->val_end = t->start;
			return 0;
		}
		if (t->type == TOK_PUNCT && t->ch == '}' && closing) {
			group->val_end = t->end;
			return 0;
		}
		if (t->type == TOK_INCLUDE) {
			if (conf_lex_next(l, t) < 0 || t->type != TOK_STRING)
				return conf_lex_error(l, t->line, "@include needs a \"file\"");
			continue;
		}
		if (t->type != TOK_NAME)
			return conf_lex_error(l, t->line, "expected a setting name");
		n = conf_node_new();
		conf_node_add(group, n);
		n->name = xstrndup(l->s + t->start, t->end - t->start);
		n->start = t->start;
		n->line = t->line;
		if (conf_lex_next(l, t) < 0 || t->type != TOK_PUNCT
		    || (t->ch != '=' && t->ch != ':'))
			return conf_lex_error(l, t->line, "expected = after the setting name");
		if (conf_parse_value(l, t, n, depth) < 0)
			return -1;
		n->end = n->val_end;
		if (conf_lex_peek(l, t) < 0)
			return -1;
		if (t->type == TOK_PUNCT && (t->ch == ';' || t->ch == ',')) {
			(void) conf_lex_next(l, t);
			n->has_term = 1;
			n->end = t->end;
		}
	}
}

/* conf_parse_elements - the elements of an array or a list */
static int conf_parse_elements(struct conf_lex *l, struct conf_tok *t, struct conf_node *n,
			       int closing, int depth)
{
	if (conf_lex_peek(l, t) < 0)
		return -1;
	if (t->type == TOK_PUNCT && t->ch == closing) {
		(void) conf_lex_next(l, t);
		n->val_end = t->end;
		return 0;
	}
	for (;;) {
		struct conf_node *e = conf_node_new();

		conf_node_add(n, e);
		if (conf_parse_value(l, t, e, depth) < 0)
			return -1;
		if (n->kind == CONF_NODE_ARRAY && e->kind != CONF_NODE_SCALAR)
			return conf_lex_error(l, e->line, "an array [ ] holds scalars only");
		e->start = e->val_start;
		e->end = e->val_end;
		if (conf_lex_next(l, t) < 0)
			return -1;
		if (t->type == TOK_PUNCT && t->ch == ',') {
			e->has_term = 1;
			e->end = t->end;
			if (conf_lex_peek(l, t) < 0)
				return -1;
			if (t->type == TOK_PUNCT && t->ch == closing) {
				(void) conf_lex_next(l, t);
				n->val_end = t->end;
				return 0;
			}
			continue;
		}
		if (t->type == TOK_PUNCT && t->ch == closing) {
			n->val_end = t->end;
			return 0;
		}
		return conf_lex_error(l, t->line,
				      closing == ']' ? "expected , or ]" : "expected , or )");
	}
}

/* conf_parse_value - one value of any kind */
static int conf_parse_value(struct conf_lex *l, struct conf_tok *t, struct conf_node *n,
			    int depth)
{
	if (depth > CONF_TEXT_DEPTH)
		return conf_lex_error(l, l->line, "nested too deeply");
	if (conf_lex_next(l, t) < 0)
		return -1;
	n->val_start = t->start;
	n->val_end = t->end;
	if (n->line == 0)
		n->line = t->line;
	switch (t->type) {
	case TOK_PUNCT:
		if (t->ch == '{') {
			n->kind = CONF_NODE_GROUP;
			return conf_parse_settings(l, t, n, '}', depth + 1);
		}
		if (t->ch == '[') {
			n->kind = CONF_NODE_ARRAY;
			return conf_parse_elements(l, t, n, ']', depth + 1);
		}
		if (t->ch == '(') {
			n->kind = CONF_NODE_LIST;
			return conf_parse_elements(l, t, n, ')', depth + 1);
		}
		break;
	case TOK_STRING: {
		struct buf all;

		buf_init(&all, t->str.len + 1);
		buf_append(&all, t->str.data, t->str.len);
		/* "a" "b" is one string: "ab" */
		while (conf_lex_peek(l, t) == 0 && t->type == TOK_STRING) {
			(void) conf_lex_next(l, t);
			buf_append(&all, t->str.data, t->str.len);
			n->val_end = t->end;
		}
		buf_putc(&all, 0);
		n->kind = CONF_NODE_SCALAR;
		n->str = all.data;
		return *l->err ? -1 : 0;
	}
	case TOK_NAME:
	case TOK_NUMBER:
		n->kind = CONF_NODE_SCALAR;
		return 0;
	default:
		break;
	}
	return conf_lex_error(l, t->line, "expected a value");
}

/* conf_text_read - load a file (a missing one is empty) */
int conf_text_read(struct conf_text *ct, const char *path, char *err, size_t errlen)
{
	FILE *fp;
	char chunk[8192];
	size_t n;

	memset(ct, 0, sizeof(*ct));
	buf_init(&ct->text, 8192);
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT) {
			buf_putc(&ct->text, 0);
			ct->text.len = 0;
			return 0;
		}
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (ct->text.len + n > CONF_TEXT_MAX) {
			snprintf(err, errlen, "%s: larger than %d bytes", path, CONF_TEXT_MAX);
			fclose(fp);
			return -1;
		}
		buf_append(&ct->text, chunk, n);
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(fp);
		return -1;
	}
	fclose(fp);
	if (memchr(ct->text.data, 0, ct->text.len)) {
		snprintf(err, errlen, "%s: a NUL byte: not a configuration file", path);
		return -1;
	}
	buf_putc(&ct->text, 0);
	ct->text.len--;
	return 0;
}

/* conf_text_parse - (re)build the tree of the current text */
int conf_text_parse(struct conf_text *ct, const char *shown, char *err, size_t errlen)
{
	struct conf_lex l = {ct->text.data, ct->text.len, 0, 1, shown, err, errlen};
	struct conf_tok t;
	int rc;

	*err = 0;
	conf_node_free(ct->root);
	ct->root = conf_node_new();
	ct->root->kind = CONF_NODE_GROUP;
	memset(&t, 0, sizeof(t));
	buf_init(&t.str, 64);
	rc = conf_parse_settings(&l, &t, ct->root, 0, 0);
	buf_free(&t.str);
	return rc;
}

/* conf_text_free - release the text and the tree */
void conf_text_free(struct conf_text *ct)
{
	conf_node_free(ct->root);
	ct->root = NULL;
	buf_free(&ct->text);
}

/* conf_text_get - a setting of a group by name, or NULL */
struct conf_node *conf_text_get(const struct conf_node *group, const char *name)
{
	for (size_t i = 0; group && i < group->nkids; i++)
		if (group->kids[i]->name && strcmp(group->kids[i]->name, name) == 0)
			return group->kids[i];
	return NULL;
}

/* conf_text_splice - replace text[from, to) with new text */
static void conf_text_splice(struct conf_text *ct, size_t from, size_t to, const char *with)
{
	struct buf b;

	buf_init(&b, ct->text.len + strlen(with) + 1);
	buf_append(&b, ct->text.data, from);
	buf_puts(&b, with);
	buf_append(&b, ct->text.data + to, ct->text.len - to);
	buf_putc(&b, 0);
	b.len--;
	buf_free(&ct->text);
	ct->text = b;
}

/* conf_text_replace - a new value for a setting, nothing else changes */
void conf_text_replace(struct conf_text *ct, const struct conf_node *n, const char *value)
{
	conf_text_splice(ct, n->val_start, n->val_end, value);
}

/* conf_text_line_start - the offset where the line holding pos begins */
static size_t conf_text_line_start(const struct conf_text *ct, size_t pos)
{
	while (pos > 0 && ct->text.data[pos - 1] != '\n')
		pos--;
	return pos;
}

/* conf_text_line_end - the offset of the newline after pos (or the end) */
static size_t conf_text_line_end(const struct conf_text *ct, size_t pos)
{
	const char *nl = memchr(ct->text.data + pos, '\n', ct->text.len - pos);

	return nl ? (size_t) (nl - ct->text.data) : ct->text.len;
}

/* conf_text_insert - a new setting at the end of a group (or the file) */
void conf_text_insert(struct conf_text *ct, const struct conf_node *group, const char *name,
		      const char *value)
{
	struct buf add;
	const struct conf_node *last;
	size_t close, ls, le, at;

	buf_init(&add, 256);
	if (group == ct->root) {
		if (ct->text.len > 0 && ct->text.data[ct->text.len - 1] != '\n')
			buf_putc(&add, '\n');
		buf_printf(&add, "%s = %s;\n", name, value);
		conf_text_splice(ct, ct->text.len, ct->text.len, add.data);
		buf_free(&add);
		return;
	}
	close = group->val_end - 1; /* the '}' */
	if (group->nkids == 0) {
		buf_printf(&add, " %s = %s;", name, value);
		conf_text_splice(ct, group->val_start + 1, group->val_start + 1, add.data);
		buf_free(&add);
		return;
	}
	last = group->kids[group->nkids - 1];
	le = conf_text_line_end(ct, last->end);
	if (le > close) {
		/* "{ a = 1; b = 2; }" on one line: stay on it */
		buf_printf(&add, " %s = %s;", name, value);
		at = last->end;
	} else {
		/* a line of its own, indented like the last setting, after its comment */
		ls = conf_text_line_start(ct, last->start);
		buf_putc(&add, '\n');
		for (size_t i = ls;
		     i < last->start && isspace((unsigned char) ct->text.data[i]); i++)
			buf_putc(&add, ct->text.data[i]);
		buf_printf(&add, "%s = %s;", name, value);
		at = le;
	}
	conf_text_splice(ct, at, at, add.data);
	if (!last->has_term)
		conf_text_splice(ct, last->val_end, last->val_end, ";");
	buf_free(&add);
}

/* conf_text_remove - delete a setting (and its line when it is alone there) */
void conf_text_remove(struct conf_text *ct, const struct conf_node *n)
{
	size_t ls = conf_text_line_start(ct, n->start);
	size_t le = conf_text_line_end(ct, n->end);
	size_t after = n->end, from = ls;
	int alone = 1;

	for (size_t i = ls; i < n->start; i++)
		alone &= isspace((unsigned char) ct->text.data[i]) != 0;
	while (after < le && (ct->text.data[after] == ' ' || ct->text.data[after] == '\t'))
		after++;
	/* a comment after the setting on its line goes with it */
	alone &= after == le || ct->text.data[after] == '#'
		|| (ct->text.data[after] == '/' && after + 1 < le
		    && ct->text.data[after + 1] == '/');
	if (alone) {
		conf_text_splice(ct, from, le < ct->text.len ? le + 1 : le, "");
		return;
	}
	conf_text_splice(ct, n->start, after, "");
}

/* conf_text_write - temp file, check, rename: the file is never half-written */
int conf_text_write(const struct conf_text *ct, const char *path,
		    int (*check)(const char *tmp, const char *path, char *err, size_t errlen),
		    char *err, size_t errlen)
{
	struct file_replace fr;

	if (file_replace_open(&fr, path, 0644, (uid_t) -1, (gid_t) -1, err, errlen) < 0
	    || file_replace_write(&fr, ct->text.data, ct->text.len, err, errlen) < 0)
		return -1;
	if (check && check(fr.tmp, path, err, errlen) < 0) {
		file_replace_abort(&fr);
		return -1;
	}
	return file_replace_commit(&fr, err, errlen);
}
