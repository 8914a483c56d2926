/*
 * conf_text - edit libconfig files as text, keeping every other byte
 *
 * libconfig's own writer drops comments and reformats everything, so
 * dlpconf edits the text: conf_text_parse() finds every setting with the
 * byte spans of its name, value and terminator (strings with escapes and
 * adjacent-string concatenation, arrays, lists, groups, @include lines,
 * and comments #, // and slash-star); conf_text_replace(), _insert() and
 * _remove() change one setting and leave the rest of the file as it was.
 * After an edit the tree is stale: parse again before the next one.
 *
 * The parser is strict about structure but knows no types; the caller
 * checks the result with libconfig itself (conf_check_file(),
 * master_conf_load_path()) before it replaces the file.
 */
#ifndef DLP_CONF_TEXT_H
#define DLP_CONF_TEXT_H

#include <stddef.h>

#include "buf.h"

#define CONF_TEXT_MAX   (4 * 1024 * 1024) /* largest file we edit */
#define CONF_TEXT_DEPTH 32                /* nesting bound */

enum conf_node_kind {
	CONF_NODE_SCALAR,
	CONF_NODE_ARRAY, /* [ ... ] */
	CONF_NODE_LIST,  /* ( ... ) */
	CONF_NODE_GROUP, /* { ... } (and the file itself) */
};

struct conf_node {
	enum conf_node_kind kind;
	char *name;                /* NULL: an element of a list or array */
	size_t start;              /* name, or value of an element */
	size_t val_start, val_end; /* the value */
	size_t end;                /* after the terminator, if any */
	int has_term;              /* ';' or ',' after the value */
	char *str;                 /* a string value, decoded; else NULL */
	int line;
	struct conf_node **kids; /* settings of a group, elements */
	size_t nkids;
};

struct conf_text {
	struct buf text;        /* the whole file, NUL-terminated */
	struct conf_node *root; /* the file as a group */
};

int conf_text_read(struct conf_text *ct, const char *path, char *err, size_t errlen);
int conf_text_parse(struct conf_text *ct, const char *shown, char *err, size_t errlen);
void conf_text_free(struct conf_text *ct);
struct conf_node *conf_text_get(const struct conf_node *group, const char *name);
void conf_text_replace(struct conf_text *ct, const struct conf_node *n, const char *value);
void conf_text_insert(struct conf_text *ct, const struct conf_node *group, const char *name,
		      const char *value);
void conf_text_remove(struct conf_text *ct, const struct conf_node *n);
int conf_text_write(const struct conf_text *ct, const char *path,
		    int (*check)(const char *tmp, const char *path, char *err, size_t errlen),
		    char *err, size_t errlen);

#endif
