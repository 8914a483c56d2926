/*
 * conf - the parameter table and the dlpgate.conf loader
 *
 * Every setting of dlpgate is declared once, in conf_params.c: name, type,
 * default, bounds or choices, the variable that holds it, and a
 * description. The loader (conf_load), dlpconf, `dlpgate check` and the
 * dlpgate.conf(5) man page all read that table.
 *
 * conf_load() sets every variable to its default, applies the libconfig
 * file DIR/dlpgate.conf (a missing file means all defaults), then
 * "name=value" overrides (the -o options of master and its children). It
 * is all or nothing: on any error the variables keep their previous
 * values and err says "file:line: name: reason" (with the closest known
 * name for a typo). The values are then valid until the next conf_load().
 *
 * Text forms (defaults, -o, dlpconf -e): bool yes/no; time 300, 300s, 5m,
 * 2h, 1d; size 10240000, 10240k, 10m; list "a, b c" (commas or spaces);
 * enum one of its choices, which the loader turns into the choice's code
 * (conf_name_code(), as Postfix's name_code(); conf_code_name() is the
 * way back).
 *
 * conf_where() says where a live setting came from ("file:line: name",
 * "-o name" or "file: name (default)"), for errors that name the setting
 * to fix. conf_save() copies the live values and conf_restore() makes such
 * a copy live again: master loads a new configuration, checks what only
 * it can check (files, its service table), and puts the old one back
 * when the new one is refused.
 *
 * For dlpconf: conf_check_file() says whether a file would load, without
 * touching the live values (errors name it "shown"); conf_format_value()
 * turns a valid text value into libconfig source text (true, 300, "5m",
 * "text", [ "a", "b" ]); conf_quote() writes a libconfig string literal.
 */
#ifndef DLP_CONF_H
#define DLP_CONF_H

#include <stddef.h>

#include "buf.h"

enum conf_type {
	CONF_BOOL,
	CONF_INT,
	CONF_TIME, /* seconds */
	CONF_SIZE, /* bytes */
	CONF_STR,
	CONF_ENUM,
	CONF_LIST,
};

struct conf_list {
	char **items;
	size_t count;
};

/* A choice of an ENUM setting: its text and the code the variable holds. */
struct conf_choice {
	const char *name;
	int code;
};

/* Extra validation of a string or of each list item: 0 or -1 with err. */
typedef int (*conf_check_fn)(const char *value, char *err, size_t errlen);

struct conf_param {
	const char *name;
	enum conf_type type;
	const char *def;                   /* default, in text form */
	long long min, max;                /* INT, TIME, SIZE bounds */
	const struct conf_choice *choices; /* ENUM: ends with a NULL name */
	void *var;                         /* int * (BOOL, INT, TIME, ENUM), long long *,
					 * char **, struct conf_list * */
	conf_check_fn check;
	const char *role; /* who reads it: "all", "smtpd-proxy", ... */
	const char *desc;
};

enum conf_source {
	CONF_SRC_DEFAULT,
	CONF_SRC_FILE,
	CONF_SRC_OVERRIDE,
};

#define CONF_MAIN_FILE "dlpgate.conf"
#define CONF_ERR_MAX   512

extern const struct conf_param conf_params[];
extern const size_t conf_param_count;
extern char *conf_dir; /* the directory that was loaded */

int conf_load(const char *dir, char *const *overrides, size_t noverride, char *err,
	      size_t errlen);
int conf_file_exists(const char *dir);
const char *conf_where(const char *name, char *buf, size_t len);
struct conf_saved;
struct conf_saved *conf_save(void);
void conf_restore(struct conf_saved *saved);
void conf_saved_free(struct conf_saved *saved);
const struct conf_param *conf_find(const char *name);
const char *conf_suggest(const char *name);
enum conf_source conf_source_of(const struct conf_param *p);
int conf_parse_text(const struct conf_param *p, const char *text, void *out, char *err,
		    size_t errlen);
int conf_validate(const struct conf_param *p, const char *text, char *err, size_t errlen);
char *conf_value_text(const struct conf_param *p);
int conf_list_has(const struct conf_list *list, const char *item);
int conf_split_override(const char *arg, char *name, size_t namelen, const char **value);
int conf_check_file(const char *path, const char *shown, char *err, size_t errlen);
int conf_format_value(const struct conf_param *p, const char *text, struct buf *out, char *err,
		      size_t errlen);
void conf_quote(struct buf *out, const char *text);
const char *conf_type_name(enum conf_type type);
const struct conf_choice *conf_name_code(const struct conf_choice *table, const char *name);
const char *conf_code_name(const struct conf_choice *table, int code);

/*
 * Checks across settings (conf_rules.c): conf_load() and conf_check_file()
 * refuse a configuration whose values each parse but cannot work together.
 * A rule reads the staged values through a view; err names where the
 * setting came from (conf_view_where) and the fix.
 */
struct conf_view;
const char *conf_view_str(const struct conf_view *v, const char *name);
long long conf_view_num(const struct conf_view *v, const char *name);
const struct conf_list *conf_view_list(const struct conf_view *v, const char *name);
const char *conf_view_where(const struct conf_view *v, const char *name, char *buf, size_t len);
int conf_view_set(const struct conf_view *v, const char *name);
const char *conf_view_file(const struct conf_view *v);
int conf_rules_check(const struct conf_view *v, char *err, size_t errlen);

/*
 * The rules are about the SMTP service: master, dlpgate, dlpconf and
 * smtpd-proxy enable them; the other roles do not refuse a configuration
 * for what only the proxy reads. Services may refine dlpgate.conf with
 * their own options (master.conf): a program that reads master.conf
 * passes a function that lists, for a configuration directory, each SMTP
 * service's name and "name=value" options (malloc'd; conf frees them);
 * the rules then run once per service over dlpgate.conf plus its
 * options. smtpd-proxy, which gets its options as overrides, passes NULL.
 */
struct conf_context {
	char *name;
	char **opts;
	size_t n;
};
typedef size_t (*conf_contexts_fn)(const char *dir, struct conf_context **out);
void conf_rules_enable(conf_contexts_fn fn);

/*
 * A rule that must start a library to judge a value (OpenSSL's cipher
 * tables: milliseconds of CPU and megabytes of memory in a process that
 * may never use TLS) runs where the configuration is checked before it is
 * used: master at start and reload, dlpgate check, dlpconf -e. A worker
 * calls conf_rules_no_library() before conf_load(): it starts a hundred
 * times an hour, and meets such a value where it uses it (a TLS context
 * that cannot be built is logged, and STARTTLS answered 454).
 */
void conf_rules_no_library(void);

/* Validators shared by the table and by other loaders. */
int conf_check_cidr(const char *value, char *err, size_t errlen);
int conf_check_hostport(const char *value, char *err, size_t errlen);
int conf_check_header(const char *value, char *err, size_t errlen);
int conf_check_hostname(const char *value, char *err, size_t errlen);
int conf_check_path(const char *value, char *err, size_t errlen);
int conf_check_loopback(const char *value, char *err, size_t errlen);

#endif
