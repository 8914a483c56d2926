/*
 * conf - the parameter table and the dlpgate.conf loader
 *
 * See conf.h. Values are first parsed into a staging area; only when the
 * defaults, the file and every override are valid do they replace the
 * live variables, so a bad reload never leaves a half-applied config.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bsd/string.h>
#include <libconfig.h>

#include "buf.h"
#include "conf.h"
#include "inet.h"
#include "mem.h"
#include "msg.h"

union conf_value {
	int i;
	long long ll;
	char *s;
	struct conf_list l;
};

char *conf_dir;
static enum conf_source *conf_sources;
static int *conf_lines; /* line of each live value read from the file */

/* A copy of the live configuration, to put back (conf_save, conf_restore). */
struct conf_saved {
	union conf_value *val;
	enum conf_source *src;
	int *line;
	char *dir;
};

/* A staged configuration, as the checks across settings see it. */
struct conf_view {
	const union conf_value *stage;
	const enum conf_source *src;
	const int *line;  /* line in the file, for CONF_SRC_FILE */
	const char *file; /* the file, as errors name it */
};

/* conf_find - a parameter by name, or NULL */
const struct conf_param *conf_find(const char *name)
{
	for (size_t i = 0; i < conf_param_count; i++)
		if (strcmp(conf_params[i].name, name) == 0)
			return &conf_params[i];
	return NULL;
}

/* conf_distance - edit distance, for "did you mean" */
static size_t conf_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (lb >= 63 || la >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0], tmp;

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/* conf_suggest - the closest known parameter name, or NULL */
const char *conf_suggest(const char *name)
{
	const char *best = NULL;
	size_t best_d = 99;

	for (size_t i = 0; i < conf_param_count; i++) {
		size_t d = conf_distance(name, conf_params[i].name);

		if (d < best_d) {
			best_d = d;
			best = conf_params[i].name;
		}
	}
	return best_d <= 3 || (best && strstr(best, name)) ? best : NULL;
}

/* conf_source_of - where a parameter's live value came from */
enum conf_source conf_source_of(const struct conf_param *p)
{
	if (conf_sources == NULL)
		return CONF_SRC_DEFAULT;
	return conf_sources[p - conf_params];
}

/* conf_value_free - release what a staged value owns */
static void conf_value_free(const struct conf_param *p, union conf_value *v)
{
	switch (p->type) {
	case CONF_STR:
		free(v->s);
		v->s = NULL;
		break;
	case CONF_LIST:
		for (size_t i = 0; i < v->l.count; i++)
			free(v->l.items[i]);
		free(v->l.items);
		v->l.items = NULL;
		v->l.count = 0;
		break;
	default:
		break;
	}
}

/* conf_parse_number - a decimal number with an optional unit suffix */
static int conf_parse_number(const char *text, const char *units, const long long *mult,
			     long long *out)
{
	char *end;
	long long n;

	if (!isdigit((unsigned char) *text))
		return -1;
	errno = 0;
	n = strtoll(text, &end, 10);
	if (errno == ERANGE)
		return -1;
	if (*end) {
		const char *u = strchr(units, *end);

		if (u == NULL || end[1] != 0)
			return -1;
		if (n > LLONG_MAX / mult[u - units])
			return -1;
		n *= mult[u - units];
	}
	*out = n;
	return 0;
}

/* conf_check_text - no control characters in any value */
static int conf_check_text(const char *text, char *err, size_t errlen)
{
	for (const char *cp = text; *cp; cp++) {
		if ((unsigned char) *cp < 0x20 || *cp == 0x7f) {
			snprintf(err, errlen, "control character in value");
			return -1;
		}
	}
	return 0;
}

/* conf_split_list - split "a, b c" into items */
static void conf_split_list(const char *text, struct conf_list *l)
{
	char *copy = xstrdup(text), *cp = copy, *item;

	l->items = NULL;
	l->count = 0;
	while ((item = strsep(&cp, ", \t")) != NULL) {
		if (*item == 0)
			continue;
		l->items = xrealloc(l->items, (l->count + 1) * sizeof(char *));
		l->items[l->count++] = xstrdup(item);
	}
	free(copy);
}

/* conf_check_list - check every list item */
static int conf_check_list(const struct conf_param *p, struct conf_list *l, char *err,
			   size_t errlen)
{
	for (size_t i = 0; i < l->count; i++) {
		if (conf_check_text(l->items[i], err, errlen) < 0
		    || (p->check && p->check(l->items[i], err, errlen) < 0))
			return -1;
	}
	return 0;
}

/* conf_parse_text - parse a value in text form; out is a conf_value */
int conf_parse_text(const struct conf_param *p, const char *text, void *out, char *err,
		    size_t errlen)
{
	static const long long time_mult[] = {1, 60, 3600, 86400, 604800};
	static const long long size_mult[] = {1024,    1024,       1048576,
					      1048576, 1073741824, 1073741824};
	union conf_value *v = out;
	long long n;

	if (conf_check_text(text, err, errlen) < 0)
		return -1;
	switch (p->type) {
	case CONF_BOOL:
		if (!strcasecmp(text, "yes") || !strcasecmp(text, "true")
		    || !strcasecmp(text, "on") || !strcmp(text, "1"))
			v->i = 1;
		else if (!strcasecmp(text, "no") || !strcasecmp(text, "false")
			 || !strcasecmp(text, "off") || !strcmp(text, "0"))
			v->i = 0;
		else {
			snprintf(err, errlen, "\"%s\" is not yes or no", text);
			return -1;
		}
		return 0;
	case CONF_INT:
	case CONF_TIME:
	case CONF_SIZE:
		if ((p->type == CONF_INT && conf_parse_number(text, "", NULL, &n) < 0)
		    || (p->type == CONF_TIME
			&& conf_parse_number(text, "smhdw", time_mult, &n) < 0)
		    || (p->type == CONF_SIZE
			&& conf_parse_number(text, "kKmMgG", size_mult, &n) < 0)) {
			snprintf(err, errlen, "\"%s\" is not a%s", text,
				 p->type == CONF_INT            ? "n integer"
					 : p->type == CONF_TIME ? " time (e.g. 300s, 5m, 1h)"
								: " size (e.g. 10240000, 10m)");
			return -1;
		}
		if (n < p->min || n > p->max) {
			snprintf(err, errlen, "value %s out of range %lld..%lld", text, p->min,
				 p->max);
			return -1;
		}
		if (p->type == CONF_SIZE)
			v->ll = n;
		else
			v->i = (int) n;
		return 0;
	case CONF_ENUM: {
		const struct conf_choice *c = conf_name_code(p->choices, text);

		if (c == NULL) {
			struct buf all;

			buf_init(&all, 64);
			for (c = p->choices; c->name; c++)
				buf_printf(&all, "%s%s", c == p->choices ? "" : "|", c->name);
			snprintf(err, errlen, "\"%s\" is not one of %s", text, all.data);
			buf_free(&all);
			return -1;
		}
		v->i = c->code;
		return 0;
	}
	case CONF_STR:
		if (p->check && p->check(text, err, errlen) < 0)
			return -1;
		v->s = xstrdup(text);
		return 0;
	case CONF_LIST:
		conf_split_list(text, &v->l);
		if (conf_check_list(p, &v->l, err, errlen) < 0) {
			conf_value_free(p, v);
			return -1;
		}
		return 0;
	}
	msg_panic("conf_parse_text: bad type %d for %s", p->type, p->name);
}

/* conf_validate - would this text be a valid value? */
int conf_validate(const struct conf_param *p, const char *text, char *err, size_t errlen)
{
	union conf_value v;

	memset(&v, 0, sizeof(v));
	if (conf_parse_text(p, text, &v, err, errlen) < 0)
		return -1;
	conf_value_free(p, &v);
	return 0;
}

/* conf_parse_setting - parse a libconfig setting into a staged value */
static int conf_parse_setting(const struct conf_param *p, config_setting_t *s,
			      union conf_value *v, char *err, size_t errlen)
{
	char text[64];

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		snprintf(text, sizeof(text), "%lld", config_setting_get_int64(s));
		return conf_parse_text(p, text, v, err, errlen);
	case CONFIG_TYPE_BOOL:
		return conf_parse_text(p, config_setting_get_bool(s) ? "yes" : "no", v, err,
				       errlen);
	case CONFIG_TYPE_STRING:
		return conf_parse_text(p, config_setting_get_string(s), v, err, errlen);
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		if (p->type != CONF_LIST)
			break;
		v->l.count = 0;
		v->l.items = xcalloc((size_t) config_setting_length(s) + 1, sizeof(char *));
		for (int i = 0; i < config_setting_length(s); i++) {
			config_setting_t *e = config_setting_get_elem(s, (unsigned) i);

			if (config_setting_type(e) == CONFIG_TYPE_STRING)
				v->l.items[v->l.count++] =
					xstrdup(config_setting_get_string(e));
			else if (config_setting_type(e) == CONFIG_TYPE_INT) {
				snprintf(text, sizeof(text), "%d", config_setting_get_int(e));
				v->l.items[v->l.count++] = xstrdup(text);
			} else {
				conf_value_free(p, v);
				snprintf(err, errlen, "list items must be strings");
				return -1;
			}
		}
		if (conf_check_list(p, &v->l, err, errlen) < 0) {
			conf_value_free(p, v);
			return -1;
		}
		return 0;
	default:
		break;
	}
	snprintf(err, errlen, "wrong kind of value (expected %s)",
		 p->type == CONF_LIST           ? "a list or a string"
			 : p->type == CONF_BOOL ? "yes or no"
			 : p->type == CONF_STR || p->type == CONF_ENUM
			 ? "a string"
			 : "a number or a string");
	return -1;
}

/* conf_file_exists - does DIR/dlpgate.conf exist? */
int conf_file_exists(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, CONF_MAIN_FILE);
	return stat(path, &st) == 0;
}

/* conf_read_path - stage the settings of a file; errors name it "shown" */
static int conf_read_path(const char *path, const char *shown, union conf_value *stage,
			  enum conf_source *src, int *line, char *err, size_t errlen)
{
	config_t cfg;
	config_setting_t *root;
	int rc = 0;

	config_init(&cfg);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read: %s", shown, strerror(errno));
		else
			snprintf(err, errlen, "%s:%d: %s",
				 config_error_file(&cfg)
						 && strcmp(config_error_file(&cfg), path) != 0
					 ? config_error_file(&cfg)
					 : shown,
				 config_error_line(&cfg), config_error_text(&cfg));
		config_destroy(&cfg);
		return -1;
	}
	root = config_root_setting(&cfg);
	for (int i = 0; rc == 0 && i < config_setting_length(root); i++) {
		config_setting_t *s = config_setting_get_elem(root, (unsigned) i);
		const char *name = config_setting_name(s);
		const struct conf_param *p = conf_find(name);
		char why[CONF_ERR_MAX];
		union conf_value v;

		if (p == NULL) {
			const char *near = conf_suggest(name);

			snprintf(err, errlen, "%s:%d: %s: unknown setting%s%s%s", shown,
				 config_setting_source_line(s), name,
				 near ? " (did you mean " : "", near ? near : "",
				 near ? "?)" : "");
			rc = -1;
			break;
		}
		memset(&v, 0, sizeof(v));
		if (conf_parse_setting(p, s, &v, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%d: %s: %s", shown,
				 config_setting_source_line(s), name, why);
			rc = -1;
			break;
		}
		conf_value_free(p, &stage[p - conf_params]);
		stage[p - conf_params] = v;
		src[p - conf_params] = CONF_SRC_FILE;
		line[p - conf_params] = config_setting_source_line(s);
	}
	config_destroy(&cfg);
	return rc;
}

static conf_contexts_fn conf_contexts;
static int conf_rules_on;

/* conf_rules_enable - check across settings; fn names the services, if any */
void conf_rules_enable(conf_contexts_fn fn)
{
	conf_rules_on = 1;
	conf_contexts = fn;
}

/* conf_rules_contexts - the rules over dlpgate.conf, or over each service's view */
static int conf_rules_contexts(struct conf_view *view, const char *dir, char *err,
			       size_t errlen)
{
	struct conf_context *ctx = NULL;
	size_t n;
	int rc = 0;

	if (!conf_rules_on)
		return 0;
	n = conf_contexts ? conf_contexts(dir, &ctx) : 0;
	if (n == 0)
		return conf_rules_check(view, err, errlen);
	for (size_t c = 0; c < n && rc == 0; c++) {
		union conf_value *own = xcalloc(conf_param_count, sizeof(*own));
		enum conf_source *src = xcalloc(conf_param_count, sizeof(*src));
		char *mine = xcalloc(conf_param_count, 1);
		struct conf_view v = {own, src, view->line, view->file};
		char why[CONF_ERR_MAX];

		memcpy(own, view->stage, conf_param_count * sizeof(*own));
		memcpy(src, view->src, conf_param_count * sizeof(*src));
		for (size_t i = 0; i < ctx[c].n; i++) {
			char name[128];
			const char *value;
			const struct conf_param *p;
			union conf_value val;

			memset(&val, 0, sizeof(val));
			if (conf_split_override(ctx[c].opts[i], name, sizeof(name), &value) < 0
			    || (p = conf_find(name)) == NULL
			    || conf_parse_text(p, value, &val, why, sizeof(why)) < 0)
				continue; /* master.conf's own check reports these */
			if (mine[p - conf_params])
				conf_value_free(p, &own[p - conf_params]);
			own[p - conf_params] = val;
			src[p - conf_params] = CONF_SRC_OVERRIDE;
			mine[p - conf_params] = 1;
		}
		if (conf_rules_check(&v, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "service %s: %s", ctx[c].name, why);
			rc = -1;
		}
		for (size_t i = 0; i < conf_param_count; i++)
			if (mine[i])
				conf_value_free(&conf_params[i], &own[i]);
		free(own);
		free(src);
		free(mine);
	}
	for (size_t c = 0; c < n; c++) {
		for (size_t i = 0; i < ctx[c].n; i++)
			free(ctx[c].opts[i]);
		free(ctx[c].opts);
		free(ctx[c].name);
	}
	free(ctx);
	return rc;
}

/* conf_read_file - stage the settings of DIR/dlpgate.conf */
static int conf_read_file(const char *path, union conf_value *stage, enum conf_source *src,
			  int *line, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return 0;
	return conf_read_path(path, path, stage, src, line, err, errlen);
}

/* conf_staged - a staged value by name (the table has it) */
static const union conf_value *conf_staged(const struct conf_view *v, const char *name,
					   enum conf_type want)
{
	const struct conf_param *p = conf_find(name);

	if (p == NULL || p->type != want)
		msg_panic("conf_view: no %s setting %s", conf_type_name(want), name);
	return &v->stage[p - conf_params];
}

/* conf_view_str - a staged string or choice */
const char *conf_view_str(const struct conf_view *v, const char *name)
{
	const struct conf_param *p = conf_find(name);

	if (p && p->type == CONF_ENUM)
		return conf_code_name(p->choices, conf_staged(v, name, CONF_ENUM)->i);
	return conf_staged(v, name, CONF_STR)->s;
}

/* conf_view_num - a staged yes/no, number, time or size */
long long conf_view_num(const struct conf_view *v, const char *name)
{
	const struct conf_param *p = conf_find(name);

	if (p && p->type == CONF_SIZE)
		return conf_staged(v, name, CONF_SIZE)->ll;
	return conf_staged(v, name, p ? p->type : CONF_INT)->i;
}

/* conf_view_list - a staged list */
const struct conf_list *conf_view_list(const struct conf_view *v, const char *name)
{
	return &conf_staged(v, name, CONF_LIST)->l;
}

/* conf_view_where - "file:line: name" where a setting came from */
const char *conf_view_where(const struct conf_view *v, const char *name, char *buf, size_t len)
{
	const struct conf_param *p = conf_find(name);
	size_t i = p ? (size_t) (p - conf_params) : 0;

	if (p && v->src[i] == CONF_SRC_FILE)
		snprintf(buf, len, "%s:%d: %s", v->file, v->line[i], name);
	else if (p && v->src[i] == CONF_SRC_OVERRIDE)
		snprintf(buf, len, "-o %s", name);
	else
		snprintf(buf, len, "%s: %s (default)", v->file, name);
	return buf;
}

/* conf_view_file - the dlpgate.conf the view was read from */
const char *conf_view_file(const struct conf_view *v)
{
	return v->file;
}

/* conf_view_set - was a setting given (file or -o), not left at its default? */
int conf_view_set(const struct conf_view *v, const char *name)
{
	const struct conf_param *p = conf_find(name);

	return p && v->src[p - conf_params] != CONF_SRC_DEFAULT;
}

/* conf_check_file - would this file load? (dlpconf -e checks its result) */
int conf_check_file(const char *path, const char *shown, char *err, size_t errlen)
{
	union conf_value *stage = xcalloc(conf_param_count, sizeof(*stage));
	enum conf_source *src = xcalloc(conf_param_count, sizeof(*src));
	int *line = xcalloc(conf_param_count, sizeof(*line));
	struct conf_view view = {stage, src, line, shown};
	char why[CONF_ERR_MAX];
	int rc;

	for (size_t i = 0; i < conf_param_count; i++)
		if (conf_parse_text(&conf_params[i], conf_params[i].def, &stage[i], why,
				    sizeof(why))
		    < 0)
			msg_panic("default of %s: %s", conf_params[i].name, why);
	rc = conf_read_path(path, shown, stage, src, line, err, errlen);
	if (rc == 0) {
		char dir[PATH_MAX], *slash;

		strlcpy(dir, shown, sizeof(dir));
		if ((slash = strrchr(dir, '/')) != NULL)
			*slash = 0;
		else
			strlcpy(dir, ".", sizeof(dir));
		rc = conf_rules_contexts(&view, dir, err, errlen);
	}
	for (size_t i = 0; i < conf_param_count; i++)
		conf_value_free(&conf_params[i], &stage[i]);
	free(stage);
	free(src);
	free(line);
	return rc;
}

/* conf_split_override - split "name=value"; -1 if malformed */
int conf_split_override(const char *arg, char *name, size_t namelen, const char **value)
{
	const char *eq = strchr(arg, '=');
	size_t len;

	if (eq == NULL)
		return -1;
	len = (size_t) (eq - arg);
	while (len > 0 && isspace((unsigned char) arg[len - 1]))
		len--;
	if (len == 0 || len >= namelen)
		return -1;
	memcpy(name, arg, len);
	name[len] = 0;
	for (*value = eq + 1; isspace((unsigned char) **value); (*value)++)
		/* void */;
	return 0;
}

/* conf_commit - replace the live values with the staged ones */
static void conf_commit(union conf_value *stage)
{
	for (size_t i = 0; i < conf_param_count; i++) {
		const struct conf_param *p = &conf_params[i];

		switch (p->type) {
		case CONF_BOOL:
		case CONF_INT:
		case CONF_TIME:
		case CONF_ENUM:
			*(int *) p->var = stage[i].i;
			break;
		case CONF_SIZE:
			*(long long *) p->var = stage[i].ll;
			break;
		case CONF_STR:
			free(*(char **) p->var);
			*(char **) p->var = stage[i].s;
			break;
		case CONF_LIST: {
			struct conf_list *l = p->var;
			union conf_value old = {.l = *l};

			conf_value_free(p, &old);
			*l = stage[i].l;
			break;
		}
		}
	}
}

/* conf_load - defaults, then DIR/dlpgate.conf, then overrides */
int conf_load(const char *dir, char *const *overrides, size_t noverride, char *err,
	      size_t errlen)
{
	union conf_value *stage = xcalloc(conf_param_count, sizeof(*stage));
	enum conf_source *src = xcalloc(conf_param_count, sizeof(*src));
	int *line = xcalloc(conf_param_count, sizeof(*line));
	char why[CONF_ERR_MAX], path[PATH_MAX];
	struct conf_view view = {stage, src, line, path};
	const char *dirp = dir;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, CONF_MAIN_FILE);
	for (size_t i = 0; i < conf_param_count; i++)
		if (conf_parse_text(&conf_params[i], conf_params[i].def, &stage[i], why,
				    sizeof(why))
		    < 0)
			msg_panic("default of %s: %s", conf_params[i].name, why);
	if (conf_read_file(path, stage, src, line, err, errlen) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < noverride; i++) {
		char name[128];
		const char *value;
		const struct conf_param *p;
		union conf_value v;

		if (conf_split_override(overrides[i], name, sizeof(name), &value) < 0) {
			snprintf(err, errlen, "-o %s: expected name=value", overrides[i]);
			rc = -1;
		} else if ((p = conf_find(name)) == NULL) {
			const char *near = conf_suggest(name);

			snprintf(err, errlen, "-o %s: unknown setting%s%s%s", name,
				 near ? " (did you mean " : "", near ? near : "",
				 near ? "?)" : "");
			rc = -1;
		} else if (memset(&v, 0, sizeof(v)),
			   conf_parse_text(p, value, &v, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "-o %s: %s", name, why);
			rc = -1;
		} else {
			conf_value_free(p, &stage[p - conf_params]);
			stage[p - conf_params] = v;
			src[p - conf_params] = CONF_SRC_OVERRIDE;
		}
	}
	if (rc == 0)
		rc = conf_rules_contexts(&view, dirp, err, errlen);
	if (rc < 0) {
		for (size_t i = 0; i < conf_param_count; i++)
			conf_value_free(&conf_params[i], &stage[i]);
		free(src);
		free(line);
	} else {
		conf_commit(stage);
		free(conf_sources);
		conf_sources = src;
		free(conf_lines);
		conf_lines = line;
		if (conf_dir != dir) {
			free(conf_dir);
			conf_dir = xstrdup(dir);
		}
	}
	free(stage);
	return rc;
}

/* conf_where - "file:line: name" where a live setting came from */
const char *conf_where(const char *name, char *buf, size_t len)
{
	const struct conf_param *p = conf_find(name);
	size_t i = p ? (size_t) (p - conf_params) : 0;
	const char *dir = conf_dir ? conf_dir : ".";

	if (p && conf_source_of(p) == CONF_SRC_FILE && conf_lines)
		snprintf(buf, len, "%s/%s:%d: %s", dir, CONF_MAIN_FILE, conf_lines[i], name);
	else if (p && conf_source_of(p) == CONF_SRC_OVERRIDE)
		snprintf(buf, len, "-o %s", name);
	else
		snprintf(buf, len, "%s/%s: %s (default)", dir, CONF_MAIN_FILE, name);
	return buf;
}

/* conf_live_copy - a copy of a parameter's live value */
static union conf_value conf_live_copy(const struct conf_param *p)
{
	union conf_value v;

	memset(&v, 0, sizeof(v));
	switch (p->type) {
	case CONF_BOOL:
	case CONF_INT:
	case CONF_TIME:
	case CONF_ENUM:
		v.i = *(int *) p->var;
		break;
	case CONF_SIZE:
		v.ll = *(long long *) p->var;
		break;
	case CONF_STR:
		v.s = *(char **) p->var ? xstrdup(*(char **) p->var) : NULL;
		break;
	case CONF_LIST: {
		const struct conf_list *l = p->var;

		v.l.count = l->count;
		v.l.items = l->count ? xcalloc(l->count, sizeof(char *)) : NULL;
		for (size_t k = 0; k < l->count; k++)
			v.l.items[k] = xstrdup(l->items[k]);
		break;
	}
	}
	return v;
}

/* conf_save - a copy of the live configuration (conf_restore puts it back) */
struct conf_saved *conf_save(void)
{
	struct conf_saved *sv = xcalloc(1, sizeof(*sv));

	sv->val = xcalloc(conf_param_count, sizeof(*sv->val));
	for (size_t i = 0; i < conf_param_count; i++)
		sv->val[i] = conf_live_copy(&conf_params[i]);
	if (conf_sources) {
		sv->src = xcalloc(conf_param_count, sizeof(*sv->src));
		memcpy(sv->src, conf_sources, conf_param_count * sizeof(*sv->src));
	}
	if (conf_lines) {
		sv->line = xcalloc(conf_param_count, sizeof(*sv->line));
		memcpy(sv->line, conf_lines, conf_param_count * sizeof(*sv->line));
	}
	sv->dir = conf_dir ? xstrdup(conf_dir) : NULL;
	return sv;
}

/* conf_restore - make a saved configuration live again; frees it */
void conf_restore(struct conf_saved *sv)
{
	conf_commit(sv->val);
	free(sv->val);
	free(conf_sources);
	conf_sources = sv->src;
	free(conf_lines);
	conf_lines = sv->line;
	free(conf_dir);
	conf_dir = sv->dir;
	free(sv);
}

/* conf_saved_free - forget a saved configuration */
void conf_saved_free(struct conf_saved *sv)
{
	if (sv == NULL)
		return;
	for (size_t i = 0; i < conf_param_count; i++)
		conf_value_free(&conf_params[i], &sv->val[i]);
	free(sv->val);
	free(sv->src);
	free(sv->line);
	free(sv->dir);
	free(sv);
}

/* conf_value_text - the live value in text form (caller frees) */
char *conf_value_text(const struct conf_param *p)
{
	struct buf b;

	switch (p->type) {
	case CONF_BOOL:
		return xstrdup(*(int *) p->var ? "yes" : "no");
	case CONF_INT:
		return xasprintf("%d", *(int *) p->var);
	case CONF_TIME:
		return xasprintf("%ds", *(int *) p->var);
	case CONF_SIZE:
		return xasprintf("%lld", *(long long *) p->var);
	case CONF_STR:
		return xstrdup(*(char **) p->var ? *(char **) p->var : "");
	case CONF_ENUM:
		return xstrdup(conf_code_name(p->choices, *(int *) p->var));
	case CONF_LIST:
		buf_init(&b, 64);
		for (size_t i = 0; i < ((struct conf_list *) p->var)->count; i++)
			buf_printf(&b, "%s%s", i ? ", " : "",
				   ((struct conf_list *) p->var)->items[i]);
		return b.data;
	}
	msg_panic("conf_value_text: bad type");
}

/* conf_name_code - the choice named name, or NULL (Postfix's name_code) */
const struct conf_choice *conf_name_code(const struct conf_choice *table, const char *name)
{
	for (; table->name; table++)
		if (strcmp(table->name, name) == 0)
			return table;
	return NULL;
}

/* conf_code_name - the text of a choice's code, "?" if none has it */
const char *conf_code_name(const struct conf_choice *table, int code)
{
	for (; table->name; table++)
		if (table->code == code)
			return table->name;
	return "?";
}

/* conf_list_has - is item in the list? */
int conf_list_has(const struct conf_list *list, const char *item)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i], item) == 0)
			return 1;
	return 0;
}

/* conf_check_cidr - a network in address/prefix form */
int conf_check_cidr(const char *value, char *err, size_t errlen)
{
	struct cidr c;

	if (cidr_parse(value, &c) < 0) {
		snprintf(err, errlen,
			 "bad network \"%s\" (expected address/prefix "
			 "with zero host bits, e.g. 192.0.2.0/24)",
			 value);
		return -1;
	}
	return 0;
}

/* conf_check_hostport - host, host:port, [v6]:port */
int conf_check_hostport(const char *value, char *err, size_t errlen)
{
	char host[256], port[32];
	char *end;
	long n;

	if (inet_split_hostport(value, host, sizeof(host), port, sizeof(port), "25") < 0) {
		snprintf(err, errlen,
			 "bad address \"%s\" (expected host, host:port "
			 "or [address]:port)",
			 value);
		return -1;
	}
	n = strtol(port, &end, 10);
	if (*end || n < 1 || n > 65535) {
		snprintf(err, errlen, "bad port in \"%s\"", value);
		return -1;
	}
	return conf_check_hostname(host, err, errlen);
}

/* conf_check_hostname - letters, digits, '-', '.', ':' (IPv6), '_' */
int conf_check_hostname(const char *value, char *err, size_t errlen)
{
	if (*value == 0)
		return 0;
	for (const char *cp = value; *cp; cp++) {
		if (!isalnum((unsigned char) *cp) && !strchr("-._:", *cp)) {
			snprintf(err, errlen, "bad host name \"%s\"", value);
			return -1;
		}
	}
	return 0;
}

/* conf_check_header - "Name: value", an RFC 5322 field name */
int conf_check_header(const char *value, char *err, size_t errlen)
{
	const char *cp = value;

	if (*value == 0)
		return 0;
	while (*cp > 32 && *cp < 127 && *cp != ':')
		cp++;
	if (cp == value || *cp != ':') {
		snprintf(err, errlen, "bad header \"%s\" (expected Name: value)", value);
		return -1;
	}
	if (strlen(value) > 900) {
		snprintf(err, errlen, "header longer than 900 characters");
		return -1;
	}
	return 0;
}

/* conf_check_path - an absolute path */
int conf_check_path(const char *value, char *err, size_t errlen)
{
	if (*value && *value != '/') {
		snprintf(err, errlen, "\"%s\" is not an absolute path", value);
		return -1;
	}
	return 0;
}

/* conf_quote - a libconfig string literal */
void conf_quote(struct buf *out, const char *text)
{
	buf_putc(out, '"');
	for (const char *cp = text; *cp; cp++) {
		if (*cp == '"' || *cp == '\\')
			buf_putc(out, '\\');
		buf_putc(out, *cp);
	}
	buf_putc(out, '"');
}

/* conf_format_value - a valid text value as libconfig source text */
int conf_format_value(const struct conf_param *p, const char *text, struct buf *out, char *err,
		      size_t errlen)
{
	union conf_value v;

	memset(&v, 0, sizeof(v));
	if (conf_parse_text(p, text, &v, err, errlen) < 0)
		return -1;
	switch (p->type) {
	case CONF_BOOL:
		buf_puts(out, v.i ? "true" : "false");
		break;
	case CONF_INT:
		buf_printf(out, "%d", v.i);
		break;
	case CONF_TIME:
	case CONF_SIZE:
		/* a plain number stays a number; "5m", "10m" stay as written */
		if (strspn(text, "0123456789") == strlen(text)) {
			long long n = p->type == CONF_TIME ? v.i : v.ll;

			buf_printf(out, "%lld%s", n, n > 2147483647LL ? "L" : "");
		} else {
			conf_quote(out, text);
		}
		break;
	case CONF_STR:
		conf_quote(out, v.s);
		break;
	case CONF_ENUM:
		conf_quote(out, conf_code_name(p->choices, v.i));
		break;
	case CONF_LIST:
		buf_puts(out, "[");
		for (size_t i = 0; i < v.l.count; i++) {
			buf_puts(out, i ? ", " : " ");
			conf_quote(out, v.l.items[i]);
		}
		buf_puts(out, v.l.count ? " ]" : "]");
		break;
	}
	conf_value_free(p, &v);
	return 0;
}

/* conf_type_name - a parameter type as a word (dlpconf, the man page) */
const char *conf_type_name(enum conf_type type)
{
	static const char *const names[] = {
		[CONF_BOOL] = "boolean", [CONF_INT] = "integer", [CONF_TIME] = "time",
		[CONF_SIZE] = "size",    [CONF_STR] = "string",  [CONF_ENUM] = "choice",
		[CONF_LIST] = "list",
	};

	return (unsigned) type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

/* conf_check_loopback - host:port on a loopback address, or empty */
int conf_check_loopback(const char *value, char *err, size_t errlen)
{
	char host[256], port[32];
	struct in6_addr a6;
	struct in_addr a4;

	if (*value == 0)
		return 0;
	if (inet_split_hostport(value, host, sizeof(host), port, sizeof(port), "") < 0
	    || *port == 0 || strspn(port, "0123456789") != strlen(port) || atoi(port) < 1
	    || atoi(port) > 65535) {
		snprintf(err, errlen,
			 "bad address \"%s\" (expected 127.0.0.1:port "
			 "or [::1]:port)",
			 value);
		return -1;
	}
	if (strcmp(host, "localhost") == 0
	    || (inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127)
	    || (inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6)))
		return 0;
	snprintf(err, errlen,
		 "\"%s\" is not a loopback address: metrics are "
		 "served on 127.0.0.0/8 or ::1 only",
		 host);
	return -1;
}
