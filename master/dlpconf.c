/*
 * dlpconf - show and change dlpgate's settings, the way postconf does
 *
 * SYNOPSIS
 *	dlpconf [-c confdir] [-d | -n] [-h] [name...]
 *	dlpconf [-c confdir] -e name=value...
 *	dlpconf [-c confdir] -X name...
 *	dlpconf -H name...
 *	dlpconf [-c confdir] -M [-h] [service[.field]...]
 *	dlpconf [-c confdir] -M service.field=value...
 *	dlpconf [-c confdir] -MX service.field...
 *	dlpconf --man
 *
 * DESCRIPTION
 *	Without -e, -X or -M: every effective setting of dlpgate.conf as
 *	"name = value", or only the named ones. -d shows the built-in
 *	defaults, -n only what the file sets, -h values without names.
 *	-H explains settings: type, default, bounds or choices, who reads
 *	it, and the description of the man page.
 *
 *	-e edits dlpgate.conf in place: each value is checked against the
 *	parameter table (type, bounds, choices), the text of the setting is
 *	replaced (or the setting appended), every other byte of the file is
 *	kept, and the result is checked as a whole before it replaces the
 *	file (temporary file, then rename). -X removes settings.
 *
 *	-M works on the service table, master.conf: one line per service,
 *	every field of one service (service), one field (service.field);
 *	with name=value it edits a field (service.options.setting edits a
 *	per-service setting), with -X it removes one.
 *
 *	--man writes the parameter list of dlpgate.conf(5), in roff, from
 *	the parameter table, and --events the event list of dlpgate.log(5)
 *	from the event table (the build makes the man pages with them).
 *
 * DIAGNOSTICS
 *	An unknown name (with the closest known one), a bad value or an
 *	out-of-range number is one line on standard error; the exit status
 *	is then 1 and no file is changed. Usage errors exit with 2.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "buf.h"
#include "conf.h"
#include "conf_params.h"
#include "evt.h"
#include "mem.h"
#include "msg.h"
#include "conf_text.h"
#include "master_conf.h"

#ifndef DLP_SYSCONFDIR
#define DLP_SYSCONFDIR "/etc/dlpgate"
#endif

#define DLPCONF_EXIT_ERROR 1
#define DLPCONF_EXIT_USAGE 2

enum dlpconf_mode {
	DLPCONF_SHOW,
	DLPCONF_EDIT,
	DLPCONF_REMOVE,
	DLPCONF_EXPLAIN,
};

static const char *dlpconf_dir = DLP_SYSCONFDIR;
static int dlpconf_values_only; /* -h */

/* The fields of a service in master.conf, typed like settings. */
static const struct conf_choice dlpconf_types[] = {
	{"inet", 0},
	{"unix", 1},
	{NULL, 0},
};
static const struct conf_param dlpconf_fields[] = {
	{"type", CONF_ENUM, "inet", 0, 0, dlpconf_types, NULL, NULL, "master", NULL},
	{"listen", CONF_LIST, "", 0, 0, NULL, NULL, NULL, "master", NULL},
	{"command", CONF_STR, "", 0, 0, NULL, NULL, NULL, "master", NULL},
	{"process_limit", CONF_INT, "100", 1, 10000, NULL, NULL, NULL, "master", NULL},
	{"process_min_avail", CONF_INT, "0", 0, 10000, NULL, NULL, NULL, "master", NULL},
	{"max_use", CONF_INT, "100", 0, 1000000, NULL, NULL, NULL, "master", NULL},
	{"max_idle", CONF_TIME, "100s", 0, 86400, NULL, NULL, NULL, "master", NULL},
	{"user", CONF_STR, "dlpgate", 0, 0, NULL, NULL, NULL, "master", NULL},
	{"chroot", CONF_STR, "", 0, 0, NULL, NULL, conf_check_path, "master", NULL},
	{"name", CONF_STR, "", 0, 0, NULL, NULL, NULL, "master", NULL},
};

/* dlpconf_fail - one line, exit 1 */
static void __attribute__((noreturn, format(printf, 1, 2))) dlpconf_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("dlpconf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(DLPCONF_EXIT_ERROR);
}

/* dlpconf_param - a parameter by name, or a clear exit */
static const struct conf_param *dlpconf_param(const char *name)
{
	const struct conf_param *p = conf_find(name);
	const char *near;

	if (p)
		return p;
	if ((near = conf_suggest(name)) != NULL)
		dlpconf_fail("unknown setting \"%s\" (did you mean \"%s\"?)", name, near);
	dlpconf_fail("unknown setting \"%s\" (dlpconf -d lists them all)", name);
}

/* dlpconf_print - one "name = value" line */
static void dlpconf_print(const char *name, const char *value)
{
	if (dlpconf_values_only)
		printf("%s\n", value);
	else if (*value)
		printf("%s = %s\n", name, value);
	else
		printf("%s =\n", name);
}

/* dlpconf_main_path - DIR/dlpgate.conf */
static const char *dlpconf_main_path(char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dlpconf_dir, CONF_MAIN_FILE);
	return buf;
}

/* dlpconf_show - settings: effective, defaults, or what the file sets */
static int dlpconf_show(int defaults, int nondefault, char **names, int nnames)
{
	char err[CONF_ERR_MAX];

	for (int i = 0; i < nnames; i++)
		(void) dlpconf_param(names[i]);
	if (!defaults && conf_load(dlpconf_dir, NULL, 0, err, sizeof(err)) < 0)
		dlpconf_fail("%s", err);
	for (size_t i = 0; i < conf_param_count; i++) {
		const struct conf_param *p = &conf_params[i];
		int wanted = nnames == 0;
		char *value;

		for (int j = 0; j < nnames; j++)
			wanted |= strcmp(names[j], p->name) == 0;
		if (!wanted || (nondefault && conf_source_of(p) != CONF_SRC_FILE))
			continue;
		value = defaults ? xstrdup(p->def) : conf_value_text(p);
		dlpconf_print(p->name, value);
		free(value);
	}
	return 0;
}

static void dlpconf_usage(void) __attribute__((noreturn));

/* dlpconf_explain - what a setting is: type, default, bounds, description */
static int dlpconf_explain(char **names, int nnames)
{
	if (nnames == 0)
		dlpconf_usage();
	for (int i = 0; i < nnames; i++) {
		const struct conf_param *p = dlpconf_param(names[i]);
		const char *cp = p->desc;

		printf("%s (%s, default \"%s\"", p->name, conf_type_name(p->type), p->def);
		if (p->type == CONF_ENUM)
			for (const struct conf_choice *c = p->choices; c->name; c++)
				printf("%s%s", c == p->choices ? ", one of " : "|", c->name);
		else if (p->type == CONF_INT || p->type == CONF_TIME || p->type == CONF_SIZE)
			printf(", %lld to %lld%s", p->min, p->max,
			       p->type == CONF_TIME           ? " seconds"
				       : p->type == CONF_SIZE ? " bytes"
							      : "");
		printf("; read by %s)\n", p->role);
		/* the description, folded at 76 columns */
		while (*cp) {
			size_t n = strlen(cp), cut = n;

			if (n > 74) {
				for (cut = 74; cut > 0 && cp[cut] != ' '; cut--)
					/* void */;
				if (cut == 0)
					cut = 74;
			}
			printf("    %.*s\n", (int) cut, cp);
			cp += cut;
			while (*cp == ' ')
				cp++;
		}
	}
	return 0;
}

/* dlpconf_check_main - would the edited dlpgate.conf load? */
static int dlpconf_check_main(const char *tmp, const char *path, char *err, size_t errlen)
{
	return conf_check_file(tmp, path, err, errlen);
}

/* dlpconf_load_text - a file's text and tree, or a clear exit */
static void dlpconf_load_text(struct conf_text *ct, const char *path)
{
	char err[CONF_ERR_MAX];

	if (conf_text_read(ct, path, err, sizeof(err)) < 0
	    || conf_text_parse(ct, path, err, sizeof(err)) < 0)
		dlpconf_fail("%s", err);
}

/* dlpconf_reparse - the tree after an edit */
static void dlpconf_reparse(struct conf_text *ct, const char *path)
{
	char err[CONF_ERR_MAX];

	if (conf_text_parse(ct, path, err, sizeof(err)) < 0)
		dlpconf_fail("internal error: the edited text does not parse: %s", err);
}

/* dlpconf_edit - -e name=value... and -X name... on dlpgate.conf */
static int dlpconf_edit(enum dlpconf_mode mode, char **args, int nargs)
{
	char path[PATH_MAX], err[CONF_ERR_MAX], name[128];
	const char *value;
	struct conf_text ct;
	struct buf text;
	int changed = 0;

	dlpconf_main_path(path, sizeof(path));
	/* every argument is checked before the file is touched */
	for (int i = 0; i < nargs; i++) {
		const struct conf_param *p;

		if (mode == DLPCONF_EDIT) {
			if (conf_split_override(args[i], name, sizeof(name), &value) < 0)
				dlpconf_fail("\"%s\": expected name=value", args[i]);
			p = dlpconf_param(name);
			if (conf_validate(p, value, err, sizeof(err)) < 0)
				dlpconf_fail("%s: %s", p->name, err);
		} else {
			(void) dlpconf_param(args[i]);
		}
	}
	dlpconf_load_text(&ct, path);
	buf_init(&text, 256);
	for (int i = 0; i < nargs; i++) {
		struct conf_node *n;

		if (mode == DLPCONF_REMOVE) {
			if ((n = conf_text_get(ct.root, args[i])) == NULL) {
				fprintf(stderr, "dlpconf: %s is not set in %s\n", args[i],
					path);
				continue;
			}
			conf_text_remove(&ct, n);
		} else {
			const struct conf_param *p;

			(void) conf_split_override(args[i], name, sizeof(name), &value);
			p = conf_find(name);
			buf_reset(&text);
			if (conf_format_value(p, value, &text, err, sizeof(err)) < 0)
				dlpconf_fail("%s: %s", p->name, err);
			buf_putc(&text, 0);
			if ((n = conf_text_get(ct.root, p->name)) != NULL)
				conf_text_replace(&ct, n, text.data);
			else
				conf_text_insert(&ct, ct.root, p->name, text.data);
		}
		changed = 1;
		dlpconf_reparse(&ct, path);
	}
	buf_free(&text);
	if (changed && conf_text_write(&ct, path, dlpconf_check_main, err, sizeof(err)) < 0)
		dlpconf_fail("%s (%s unchanged)", err, path);
	conf_text_free(&ct);
	return 0;
}

/* dlpconf_field - a service field by name, or a clear exit */
static const struct conf_param *dlpconf_field(const char *name)
{
	const char *best = NULL;
	size_t n = sizeof(dlpconf_fields) / sizeof(dlpconf_fields[0]);

	for (size_t i = 0; i < n; i++)
		if (strcmp(dlpconf_fields[i].name, name) == 0)
			return &dlpconf_fields[i];
	for (size_t i = 0; i < n && best == NULL; i++)
		if (strncmp(dlpconf_fields[i].name, name, 3) == 0)
			best = dlpconf_fields[i].name;
	if (best)
		dlpconf_fail("unknown service field \"%s\" (did you mean \"%s\"?)", name, best);
	dlpconf_fail("unknown service field \"%s\" (type, listen, command, "
		     "process_limit, process_min_avail, max_use, max_idle, user, "
		     "chroot, options.SETTING)",
		     name);
}

/* dlpconf_svc - a service of the table by name, or a clear exit */
static const struct master_svc_conf *dlpconf_svc(const struct master_conf *mc, const char *name)
{
	struct buf names;

	for (size_t i = 0; i < mc->nsvc; i++)
		if (strcmp(mc->svc[i].name, name) == 0)
			return &mc->svc[i];
	buf_init(&names, 128);
	for (size_t i = 0; i < mc->nsvc; i++)
		buf_printf(&names, "%s%s", i ? ", " : "", mc->svc[i].name);
	buf_putc(&names, 0);
	dlpconf_fail("no service \"%s\" in master.conf (services: %s)", name, names.data);
}

/* dlpconf_field_text - the value of a field as text */
static char *dlpconf_field_text(const struct master_svc_conf *s, const char *field)
{
	struct buf b;

	buf_init(&b, 128);
	if (strcmp(field, "name") == 0)
		buf_puts(&b, s->name);
	else if (strcmp(field, "type") == 0)
		buf_puts(&b, s->type);
	else if (strcmp(field, "listen") == 0)
		for (size_t i = 0; i < s->nlisten; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", s->listen[i]);
	else if (strcmp(field, "command") == 0)
		buf_puts(&b, s->command);
	else if (strcmp(field, "process_limit") == 0)
		buf_printf(&b, "%d", s->process_limit);
	else if (strcmp(field, "process_min_avail") == 0)
		buf_printf(&b, "%d", s->process_min_avail);
	else if (strcmp(field, "max_use") == 0)
		buf_printf(&b, "%d", s->max_use);
	else if (strcmp(field, "max_idle") == 0)
		buf_printf(&b, "%ds", s->max_idle);
	else if (strcmp(field, "user") == 0)
		buf_puts(&b, s->user);
	else if (strcmp(field, "chroot") == 0)
		buf_puts(&b, s->chroot);
	buf_putc(&b, 0);
	return b.data;
}

/* dlpconf_show_field - "service.field = value" (options: one per setting) */
static void dlpconf_show_field(const struct master_svc_conf *s, const char *field)
{
	char label[256], *v;

	if (strncmp(field, "options", 7) == 0) {
		const char *want = field[7] == '.' ? field + 8 : NULL;
		int found = 0;

		for (size_t i = 0; i < s->noptions; i++) {
			size_t nl = strcspn(s->options[i], "=");

			if (want && (strlen(want) != nl || strncmp(want, s->options[i], nl)))
				continue;
			snprintf(label, sizeof(label), "%s.options.%.*s", s->name, (int) nl,
				 s->options[i]);
			dlpconf_print(label, s->options[i] + nl + 1);
			found = 1;
		}
		if (want && !found)
			fprintf(stderr, "dlpconf: %s.options.%s is not set\n", s->name, want);
		return;
	}
	(void) dlpconf_field(field);
	v = dlpconf_field_text(s, field);
	snprintf(label, sizeof(label), "%s.%s", s->name, field);
	dlpconf_print(label, v);
	free(v);
}

/* dlpconf_show_services - the service table, one line per service */
static int dlpconf_show_services(char **args, int nargs)
{
	static const char *const fields[] = {
		"type",    "listen",   "command", "process_limit", "process_min_avail",
		"max_use", "max_idle", "user",    "chroot",        "options"};
	struct master_conf mc;
	char err[CONF_ERR_MAX];

	if (master_conf_load(dlpconf_dir, &mc, err, sizeof(err)) < 0)
		dlpconf_fail("%s", err);
	if (nargs == 0) {
		if (!dlpconf_values_only)
			printf("# %-14s %-4s %-24s %-12s %5s %4s %7s %8s %-15s %s\n", "service",
			       "type", "listen", "command", "limit", "min", "max_use",
			       "max_idle", "user", "chroot/options");
		for (size_t i = 0; i < mc.nsvc; i++) {
			const struct master_svc_conf *s = &mc.svc[i];
			char *listen = dlpconf_field_text(s, "listen");

			printf("%-16s %-4s %-24s %-12s %5d %4d %7d %7ds %-15s %s", s->name,
			       s->type, listen, s->command, s->process_limit,
			       s->process_min_avail, s->max_use, s->max_idle, s->user,
			       *s->chroot ? s->chroot : "-");
			for (size_t j = 0; j < s->noptions; j++)
				printf(" -o %s", s->options[j]);
			printf("\n");
			free(listen);
		}
	}
	for (int a = 0; a < nargs; a++) {
		char svc[128], *dot;
		const struct master_svc_conf *s;

		strlcpy(svc, args[a], sizeof(svc));
		if ((dot = strchr(svc, '.')) != NULL)
			*dot++ = 0;
		s = dlpconf_svc(&mc, svc);
		if (dot)
			dlpconf_show_field(s, dot);
		else
			for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
				dlpconf_show_field(s, fields[f]);
	}
	master_conf_free(&mc);
	return 0;
}

/* dlpconf_check_master - would the edited master.conf load? */
static int dlpconf_check_master(const char *tmp, const char *path, char *err, size_t errlen)
{
	struct master_conf mc;

	if (master_conf_load_path(tmp, path, &mc, err, errlen) < 0)
		return -1;
	master_conf_free(&mc);
	return 0;
}

/* dlpconf_svc_node - the group of a service in master.conf's text */
static struct conf_node *dlpconf_svc_node(struct conf_text *ct, const char *name)
{
	struct conf_node *list = conf_text_get(ct->root, "services");

	for (size_t i = 0; list && i < list->nkids; i++) {
		struct conf_node *g = list->kids[i], *n;

		if (g->kind == CONF_NODE_GROUP && (n = conf_text_get(g, "name")) != NULL
		    && n->str && strcmp(n->str, name) == 0)
			return g;
	}
	return NULL;
}

/* dlpconf_edit_field - one service.field[=value] on master.conf's text */
static void dlpconf_edit_field(struct conf_text *ct, const char *path,
			       const struct master_conf *mc, const char *arg,
			       enum dlpconf_mode mode)
{
	char spec[256], err[CONF_ERR_MAX], *field, *opt = NULL;
	const char *value = NULL;
	const struct conf_param *p;
	struct conf_node *g, *n, *opts = NULL;
	struct buf text;

	if (mode == DLPCONF_EDIT) {
		if (conf_split_override(arg, spec, sizeof(spec), &value) < 0)
			dlpconf_fail("\"%s\": expected service.field=value", arg);
	} else {
		strlcpy(spec, arg, sizeof(spec));
	}
	if ((field = strchr(spec, '.')) == NULL)
		dlpconf_fail("\"%s\": expected service.field", spec);
	*field++ = 0;
	(void) dlpconf_svc(mc, spec);
	if (strncmp(field, "options.", 8) == 0) {
		opt = field + 8;
		p = dlpconf_param(opt);
	} else {
		p = dlpconf_field(field);
		if (strcmp(field, "name") == 0)
			dlpconf_fail("%s.name: rename a service by editing master.conf", spec);
	}
	buf_init(&text, 256);
	if (mode == DLPCONF_EDIT) {
		if (conf_validate(p, value, err, sizeof(err)) < 0
		    || conf_format_value(p, value, &text, err, sizeof(err)) < 0)
			dlpconf_fail("%s.%s: %s", spec, field, err);
		buf_putc(&text, 0);
	}
	if ((g = dlpconf_svc_node(ct, spec)) == NULL)
		dlpconf_fail("%s: cannot find service %s in the text (@include?)", path, spec);
	if (opt) {
		opts = conf_text_get(g, "options");
		if (opts && opts->kind != CONF_NODE_GROUP)
			dlpconf_fail("%s: service %s: options is not a group { }", path, spec);
		n = conf_text_get(opts, opt);
	} else {
		n = conf_text_get(g, field);
	}
	if (mode == DLPCONF_REMOVE) {
		if (n == NULL)
			fprintf(stderr, "dlpconf: %s.%s is not set in %s\n", spec, field, path);
		else
			conf_text_remove(ct, n);
	} else if (n) {
		conf_text_replace(ct, n, text.data);
	} else if (opt && opts == NULL) {
		struct buf grp;

		buf_init(&grp, 256);
		buf_printf(&grp, "{ %s = %s; }", opt, text.data);
		conf_text_insert(ct, g, "options", grp.data);
		buf_free(&grp);
	} else {
		conf_text_insert(ct, opt ? opts : g, opt ? opt : field, text.data);
	}
	buf_free(&text);
	dlpconf_reparse(ct, path);
}

/* dlpconf_edit_services - -M service.field=value... or -MX service.field... */
static int dlpconf_edit_services(enum dlpconf_mode mode, char **args, int nargs)
{
	char path[PATH_MAX], err[CONF_ERR_MAX];
	struct master_conf mc;
	struct conf_text ct;

	snprintf(path, sizeof(path), "%s/%s", dlpconf_dir, MASTER_CONF_FILE);
	if (master_conf_load(dlpconf_dir, &mc, err, sizeof(err)) < 0)
		dlpconf_fail("%s", err);
	dlpconf_load_text(&ct, path);
	if (mc.builtin) {
		/* no master.conf yet: start from the built-in table */
		buf_reset(&ct.text);
		buf_puts(&ct.text,
			 "# master.conf - the dlpgate service table (see "
			 "master.conf(5)); written by dlpconf -M\n\n");
		buf_puts(&ct.text, master_conf_builtin);
		buf_putc(&ct.text, 0);
		ct.text.len--;
		dlpconf_reparse(&ct, path);
	}
	for (int i = 0; i < nargs; i++)
		dlpconf_edit_field(&ct, path, &mc, args[i], mode);
	if (conf_text_write(&ct, path, dlpconf_check_master, err, sizeof(err)) < 0)
		dlpconf_fail("%s (%s unchanged)", err, path);
	conf_text_free(&ct);
	master_conf_free(&mc);
	return 0;
}

/* dlpconf_roff - text for a roff line: escapes, `command` in bold */
static void dlpconf_roff(const char *text, int breakable)
{
	int bold = 0;

	if (*text == '.' || *text == '\'')
		fputs("\\&", stdout);
	for (const char *cp = text; *cp; cp++) {
		if (*cp == '\\')
			fputs("\\e", stdout);
		else if (*cp == '`') {
			fputs(bold ? "\\fR" : "\\fB", stdout);
			bold = !bold;
		} else if (*cp == '-')
			fputs("\\-", stdout);
		else
			putchar(*cp);
		/* long values (cipher lists, paths) may break after : , / */
		if (breakable && strchr(":,/", *cp) && cp[1])
			fputs("\\:", stdout);
	}
	if (bold)
		fputs("\\fR", stdout);
}

/* dlpconf_roff_text - text for a roff line: '-' as \-, no leading '.' */
static void dlpconf_roff_text(const char *text)
{
	if (*text == '.' || *text == '\'')
		fputs("\\&", stdout);
	for (; *text; text++)
		if (*text == '-' || *text == '\\')
			printf("\\%c", *text == '-' ? '-' : 'e');
		else
			putchar(*text);
}

/* dlpconf_events - the event list of dlpgate.log(5), from EVT_TABLE */
static int dlpconf_events(void)
{
#define DLPCONF_EVENT(name, code, text) \
	printf(".TP\n.B %d\n", code); \
	dlpconf_roff_text(text); \
	putchar('\n');
	EVT_TABLE(DLPCONF_EVENT)
#undef DLPCONF_EVENT
	return 0;
}

/* dlpconf_man - the parameter list of dlpgate.conf(5), from the table */
static int dlpconf_man(void)
{
	for (size_t i = 0; i < conf_param_count; i++) {
		const struct conf_param *p = &conf_params[i];

		printf(".TP\n.B %s\n", p->name);
		printf("(%s", conf_type_name(p->type));
		if (p->type == CONF_ENUM) {
			for (const struct conf_choice *c = p->choices; c->name; c++)
				printf("%s%s", c == p->choices ? ": " : ", ", c->name);
		} else if (p->type == CONF_INT || p->type == CONF_TIME
			   || p->type == CONF_SIZE) {
			printf(", %lld to %lld%s", p->min, p->max,
			       p->type == CONF_TIME           ? " seconds"
				       : p->type == CONF_SIZE ? " bytes"
							      : "");
		}
		fputs("; default: ", stdout);
		if (*p->def) {
			fputs("\\fB", stdout);
			dlpconf_roff(p->def, 1);
			fputs("\\fR", stdout);
		} else {
			fputs("empty", stdout);
		}
		printf("; read by %s)\n.br\n", p->role);
		dlpconf_roff(p->desc, 0);
		putchar('\n');
	}
	return 0;
}

/* dlpconf_usage - explain the command line */
static void __attribute__((noreturn)) dlpconf_usage(void)
{
	fprintf(stderr,
		"usage: dlpconf [-c confdir] [-d | -n] [-h] [name...]\n"
		"       dlpconf -H name...\n"
		"       dlpconf [-c confdir] -e name=value...\n"
		"       dlpconf [-c confdir] -X name...\n"
		"       dlpconf [-c confdir] -M [-h] [service[.field]...]\n"
		"       dlpconf [-c confdir] -M service.field=value...\n"
		"       dlpconf [-c confdir] -MX service.field...\n"
		"       dlpconf --man\n");
	exit(DLPCONF_EXIT_USAGE);
}

int main(int argc, char **argv)
{
	int ch, defaults = 0, nondefault = 0, services = 0;
	enum dlpconf_mode mode = DLPCONF_SHOW;

	msg_open("dlpconf", MSG_TO_STDERR, LOG_MAIL);
	conf_rules_enable(master_conf_contexts);
	if (argc == 2 && strcmp(argv[1], "--man") == 0)
		return dlpconf_man();
	if (argc == 2 && strcmp(argv[1], "--events") == 0)
		return dlpconf_events();
	while ((ch = getopt(argc, argv, "c:deHhMnX")) != -1) {
		switch (ch) {
		case 'c':
			dlpconf_dir = optarg;
			break;
		case 'd':
			defaults = 1;
			break;
		case 'e':
			mode = DLPCONF_EDIT;
			break;
		case 'h':
			dlpconf_values_only = 1;
			break;
		case 'H':
			mode = DLPCONF_EXPLAIN;
			break;
		case 'M':
			services = 1;
			break;
		case 'n':
			nondefault = 1;
			break;
		case 'X':
			mode = DLPCONF_REMOVE;
			break;
		default:
			dlpconf_usage();
		}
	}
	argv += optind;
	argc -= optind;
	if (defaults && nondefault)
		dlpconf_usage();
	if (services) {
		int edit = mode == DLPCONF_REMOVE;

		for (int i = 0; i < argc; i++)
			edit |= strchr(argv[i], '=') != NULL;
		if (defaults || nondefault || (edit && argc == 0))
			dlpconf_usage();
		if (!edit)
			return dlpconf_show_services(argv, argc);
		for (int i = 0; i < argc; i++)
			if ((mode == DLPCONF_REMOVE) == (strchr(argv[i], '=') != NULL))
				dlpconf_usage();
		return dlpconf_edit_services(
			mode == DLPCONF_REMOVE ? DLPCONF_REMOVE : DLPCONF_EDIT, argv, argc);
	}
	if (mode == DLPCONF_EXPLAIN)
		return dlpconf_explain(argv, argc);
	if (mode != DLPCONF_SHOW) {
		if (argc == 0 || defaults || nondefault || dlpconf_values_only)
			dlpconf_usage();
		return dlpconf_edit(mode, argv, argc);
	}
	return dlpconf_show(defaults, nondefault, argv, argc);
}
