/*
 * master_conf - the service table (master.conf)
 *
 * See master_conf.h. Every field is checked here, with the line number of
 * the service it belongs to, so that master never starts a half-valid
 * table and `dlpgate check` says exactly what is wrong.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "conf.h"
#include "mem.h"
#include "msg.h"
#include "master_conf.h"

/* The built-in service table: keep it equal to etc/master.conf. */
const char master_conf_builtin[] =
	"services = (\n"
	"  { name = \"smtpd\"; type = \"inet\"; listen = [\"127.0.0.1:10025\"];\n"
	"    command = \"smtpd-proxy\"; process_limit = 100; process_min_avail = 0;\n"
	"    max_use = 100; max_idle = \"100s\"; user = \"dlpgate\"; },\n"
	"  { name = \"detector\"; type = \"unix\"; listen = [\"detector\"];\n"
	"    command = \"detector\"; process_limit = 4; process_min_avail = 2;\n"
	"    max_use = 1000; max_idle = \"300s\"; user = \"dlpgate-detect\"; },\n"
	"  { name = \"tlsmgr\"; type = \"unix\"; listen = [\"tlsmgr\"];\n"
	"    command = \"tlsmgr\"; process_limit = 1; process_min_avail = 1;\n"
	"    max_use = 0; max_idle = 0; user = \"dlpgate-tls\"; }\n"
	");\n";

static const char *const master_fields[] = {
	"name",    "type",     "listen", "command", "process_limit", "process_min_avail",
	"max_use", "max_idle", "user",   "chroot",  "options",       NULL,
};

/* master_conf_free - release a table */
void master_conf_free(struct master_conf *mc)
{
	for (size_t i = 0; i < mc->nsvc; i++) {
		struct master_svc_conf *s = &mc->svc[i];

		for (size_t j = 0; j < s->nlisten; j++)
			free(s->listen[j]);
		for (size_t j = 0; j < s->noptions; j++)
			free(s->options[j]);
		free(s->listen);
		free(s->options);
		free(s->name);
		free(s->type);
		free(s->command);
		free(s->user);
		free(s->chroot);
	}
	free(mc->svc);
	mc->svc = NULL;
	mc->nsvc = 0;
}

/* master_word - a name made of [a-z0-9_.-] */
static int master_word(const char *s)
{
	if (*s == 0 || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char) *s) && !isdigit((unsigned char) *s)
		    && !strchr("_.-", *s))
			return 0;
	return 1;
}

/* master_get_str - an optional string field */
static int master_get_str(config_setting_t *g, const char *field, const char *def, char **out,
			  char *why, size_t len)
{
	config_setting_t *s = config_setting_get_member(g, field);

	if (s == NULL) {
		if (def == NULL) {
			snprintf(why, len, "%s is missing", field);
			return -1;
		}
		*out = xstrdup(def);
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		snprintf(why, len, "%s must be a string", field);
		return -1;
	}
	*out = xstrdup(config_setting_get_string(s));
	return 0;
}

/* master_get_num - an optional integer or time field, within bounds */
static int master_get_num(config_setting_t *g, const char *field, int def, int min, int max,
			  int is_time, int *out, char *why, size_t len)
{
	config_setting_t *s = config_setting_get_member(g, field);
	long long n;

	if (s == NULL) {
		*out = def;
		return 0;
	}
	if (config_setting_type(s) == CONFIG_TYPE_INT
	    || config_setting_type(s) == CONFIG_TYPE_INT64) {
		n = config_setting_get_int64(s);
	} else if (is_time && config_setting_type(s) == CONFIG_TYPE_STRING) {
		struct conf_param p = {
			.name = field, .type = CONF_TIME, .min = min, .max = max};
		union {
			int i;
			char pad[32];
		} v;

		if (conf_parse_text(&p, config_setting_get_string(s), &v, why, len) < 0)
			return -1;
		n = v.i;
	} else {
		snprintf(why, len, "%s must be a number%s", field,
			 is_time ? " or a time such as \"100s\"" : "");
		return -1;
	}
	if (n < min || n > max) {
		snprintf(why, len, "%s %lld out of range %d..%d", field, n, min, max);
		return -1;
	}
	*out = (int) n;
	return 0;
}

/* master_get_listen - the listen list */
static int master_get_listen(config_setting_t *g, struct master_svc_conf *s, char *why,
			     size_t len)
{
	config_setting_t *l = config_setting_get_member(g, "listen");
	int n;

	if (l == NULL
	    || (config_setting_type(l) != CONFIG_TYPE_ARRAY
		&& config_setting_type(l) != CONFIG_TYPE_LIST)) {
		snprintf(why, len, "listen must be a list such as [\"127.0.0.1:10025\"]");
		return -1;
	}
	n = config_setting_length(l);
	if (n < 1 || n > 16) {
		snprintf(why, len, "listen needs 1 to 16 addresses");
		return -1;
	}
	s->listen = xcalloc((size_t) n, sizeof(char *));
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(l, (unsigned) i);
		const char *v;
		char ignore[CONF_ERR_MAX];

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			snprintf(why, len, "listen items must be strings");
			return -1;
		}
		v = config_setting_get_string(e);
		if (strcmp(s->type, "unix") == 0
			    ? !master_word(v)
			    : conf_check_hostport(v, ignore, sizeof(ignore)) < 0) {
			snprintf(why, len, "bad listen address \"%s\"%s", v,
				 strcmp(s->type, "unix") == 0
					 ? " (a socket name such as \"detector\")"
					 : " (expected host:port or [address]:port)");
			return -1;
		}
		s->listen[s->nlisten++] = xstrdup(v);
	}
	return 0;
}

/* master_get_options - per-service settings, checked against the table */
static int master_get_options(config_setting_t *g, struct master_svc_conf *s, char *why,
			      size_t len)
{
	config_setting_t *o = config_setting_get_member(g, "options");

	if (o == NULL)
		return 0;
	if (config_setting_type(o) != CONFIG_TYPE_GROUP) {
		snprintf(why, len,
			 "options must be a group such as { log_level = \"debug\"; }");
		return -1;
	}
	s->options = xcalloc((size_t) config_setting_length(o) + 1, sizeof(char *));
	for (int i = 0; i < config_setting_length(o); i++) {
		config_setting_t *e = config_setting_get_elem(o, (unsigned) i);
		const struct conf_param *p = conf_find(config_setting_name(e));
		char text[1024], err[CONF_ERR_MAX];

		if (p == NULL) {
			const char *near = conf_suggest(config_setting_name(e));

			snprintf(why, len, "options: %s: unknown setting%s%s%s",
				 config_setting_name(e), near ? " (did you mean " : "",
				 near ? near : "", near ? "?)" : "");
			return -1;
		}
		switch (config_setting_type(e)) {
		case CONFIG_TYPE_INT:
		case CONFIG_TYPE_INT64:
			snprintf(text, sizeof(text), "%lld", config_setting_get_int64(e));
			break;
		case CONFIG_TYPE_BOOL:
			snprintf(text, sizeof(text), "%s",
				 config_setting_get_bool(e) ? "yes" : "no");
			break;
		case CONFIG_TYPE_STRING:
			snprintf(text, sizeof(text), "%s", config_setting_get_string(e));
			break;
		default:
			snprintf(why, len, "options: %s: use a number, yes/no or a string",
				 p->name);
			return -1;
		}
		if (conf_validate(p, text, err, sizeof(err)) < 0) {
			snprintf(why, len, "options: %s: %s", p->name, err);
			return -1;
		}
		s->options[s->noptions++] = xasprintf("%s=%s", p->name, text);
	}
	return 0;
}

/* master_parse_service - one entry of the services list */
static int master_parse_service(config_setting_t *g, struct master_svc_conf *s, char *why,
				size_t len)
{
	/* the name first, so that every later complaint can say whose it is */
	if (master_get_str(g, "name", NULL, &s->name, why, len) < 0)
		return -1;
	for (int i = 0; i < config_setting_length(g); i++) {
		const char *f = config_setting_name(config_setting_get_elem(g, (unsigned) i));
		int known = 0;

		for (int j = 0; master_fields[j]; j++)
			known |= strcmp(f, master_fields[j]) == 0;
		if (!known) {
			snprintf(why, len, "unknown field \"%s\"", f);
			return -1;
		}
	}
	if (master_get_str(g, "type", NULL, &s->type, why, len) < 0
	    || master_get_str(g, "command", NULL, &s->command, why, len) < 0
	    || master_get_str(g, "user", "dlpgate", &s->user, why, len) < 0
	    || master_get_str(g, "chroot", "", &s->chroot, why, len) < 0)
		return -1;
	if (!master_word(s->name)) {
		snprintf(why, len, "bad service name \"%s\"", s->name);
		return -1;
	}
	if (strcmp(s->type, "inet") && strcmp(s->type, "unix")) {
		snprintf(why, len, "type \"%s\" is not inet or unix", s->type);
		return -1;
	}
	if (!master_word(s->command)) {
		snprintf(why, len, "bad command \"%s\" (a program name, no path)", s->command);
		return -1;
	}
	if (*s->chroot && *s->chroot != '/') {
		snprintf(why, len, "chroot \"%s\" is not an absolute path", s->chroot);
		return -1;
	}
	if (master_get_listen(g, s, why, len) < 0
	    || master_get_num(g, "process_limit", 100, 1, 10000, 0, &s->process_limit, why, len)
		    < 0
	    || master_get_num(g, "process_min_avail", 0, 0, 10000, 0, &s->process_min_avail,
			      why, len)
		    < 0
	    || master_get_num(g, "max_use", 100, 0, 1000000, 0, &s->max_use, why, len) < 0
	    || master_get_num(g, "max_idle", 100, 0, 86400, 1, &s->max_idle, why, len) < 0
	    || master_get_options(g, s, why, len) < 0)
		return -1;
	if (s->process_min_avail > s->process_limit) {
		snprintf(why, len, "process_min_avail %d is over process_limit %d",
			 s->process_min_avail, s->process_limit);
		return -1;
	}
	return 0;
}

/* master_conf_parse - the services list of a parsed file */
static int master_conf_parse(config_t *cfg, const char *path, struct master_conf *mc, char *err,
			     size_t errlen)
{
	config_setting_t *root = config_root_setting(cfg);
	config_setting_t *list = config_setting_get_member(root, "services");
	char why[CONF_ERR_MAX];

	for (int i = 0; i < config_setting_length(root); i++) {
		config_setting_t *e = config_setting_get_elem(root, (unsigned) i);

		if (strcmp(config_setting_name(e), "services") != 0) {
			snprintf(err, errlen,
				 "%s:%d: unknown setting \"%s\" (only "
				 "services = ( ... ); belongs here)",
				 path, config_setting_source_line(e), config_setting_name(e));
			return -1;
		}
	}
	if (list == NULL || config_setting_type(list) != CONFIG_TYPE_LIST) {
		snprintf(err, errlen, "%s: expected services = ( { ... }, ... );", path);
		return -1;
	}
	mc->svc = xcalloc((size_t) config_setting_length(list) + 1, sizeof(*mc->svc));
	for (int i = 0; i < config_setting_length(list); i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned) i);
		struct master_svc_conf *s = &mc->svc[mc->nsvc++];

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			snprintf(err, errlen, "%s:%d: each service is a group { ... }", path,
				 config_setting_source_line(g));
			return -1;
		}
		if (master_parse_service(g, s, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%d: service %s: %s", path,
				 config_setting_source_line(g), s->name ? s->name : "(unnamed)",
				 why);
			return -1;
		}
		for (size_t j = 0; j + 1 < mc->nsvc; j++) {
			if (strcmp(mc->svc[j].name, s->name) == 0) {
				snprintf(err, errlen, "%s:%d: service %s is defined twice",
					 path, config_setting_source_line(g), s->name);
				return -1;
			}
		}
	}
	if (mc->nsvc == 0) {
		snprintf(err, errlen, "%s: no services", path);
		return -1;
	}
	return 0;
}

/* master_conf_read - a file, or the built-in table when path is NULL */
static int master_conf_read(const char *path, const char *shown, struct master_conf *mc,
			    char *err, size_t errlen)
{
	config_t cfg;
	int ok;

	memset(mc, 0, sizeof(*mc));
	config_init(&cfg);
	if (path == NULL) {
		mc->builtin = 1;
		shown = "(built-in master.conf)";
		ok = config_read_string(&cfg, master_conf_builtin);
	} else {
		ok = config_read_file(&cfg, path);
	}
	if (ok != CONFIG_TRUE) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read: %s", shown, strerror(errno));
		else
			snprintf(err, errlen, "%s:%d: %s", shown, config_error_line(&cfg),
				 config_error_text(&cfg));
		config_destroy(&cfg);
		return -1;
	}
	ok = master_conf_parse(&cfg, shown, mc, err, errlen);
	config_destroy(&cfg);
	if (ok < 0)
		master_conf_free(mc);
	return ok;
}

/* master_conf_load - DIR/master.conf, or the built-in table */
int master_conf_load(const char *dir, struct master_conf *mc, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, MASTER_CONF_FILE);
	if (stat(path, &st) < 0 && errno == ENOENT)
		return master_conf_read(NULL, NULL, mc, err, errlen);
	return master_conf_read(path, path, mc, err, errlen);
}

/* master_conf_load_path - one file; errors name it "shown" (dlpconf -M) */
int master_conf_load_path(const char *path, const char *shown, struct master_conf *mc,
			  char *err, size_t errlen)
{
	return master_conf_read(path, shown, mc, err, errlen);
}

/* master_svc_same_listen - can a service keep its sockets across reload? */
int master_svc_same_listen(const struct master_svc_conf *a, const struct master_svc_conf *b)
{
	if (strcmp(a->type, b->type) != 0 || a->nlisten != b->nlisten)
		return 0;
	for (size_t i = 0; i < a->nlisten; i++)
		if (strcmp(a->listen[i], b->listen[i]) != 0)
			return 0;
	return 1;
}

/* master_conf_contexts - each SMTP service's options, for the rules in conf */
size_t master_conf_contexts(const char *dir, struct conf_context **out)
{
	struct master_conf mc;
	char err[CONF_ERR_MAX];
	size_t n = 0;

	*out = NULL;
	if (master_conf_load(dir, &mc, err, sizeof(err)) < 0)
		return 0;
	*out = xcalloc(mc.nsvc + 1, sizeof(**out));
	for (size_t i = 0; i < mc.nsvc; i++) {
		const struct master_svc_conf *sc = &mc.svc[i];
		struct conf_context *c = &(*out)[n];

		if (strcmp(sc->command, "smtpd-proxy") != 0)
			continue;
		c->name = xstrdup(sc->name);
		c->opts = xcalloc(sc->noptions + 1, sizeof(char *));
		for (size_t j = 0; j < sc->noptions; j++)
			c->opts[c->n++] = xstrdup(sc->options[j]);
		n++;
	}
	master_conf_free(&mc);
	if (n == 0) {
		free(*out);
		*out = NULL;
	}
	return n;
}
