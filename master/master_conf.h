/*
 * master_conf - the service table (master.conf)
 *
 * A service is a program master runs as a pool of children on a set of
 * listen sockets:
 *
 *	services = (
 *	  { name = "smtpd"; type = "inet"; listen = ["127.0.0.1:10025"];
 *	    command = "smtpd-proxy"; process_limit = 100;
 *	    process_min_avail = 0; max_use = 100; max_idle = "100s";
 *	    user = "dlpgate"; chroot = ""; options = { log_level = "debug"; }; }
 *	);
 *
 * type inet listens on TCP addresses; type unix on socket names inside
 * run_directory/private. options are dlpgate.conf settings for that
 * service alone (Postfix's -o). A missing master.conf means the built-in
 * table, which is the same as etc/master.conf.
 *
 * master_conf_load() is all or nothing and reports "file:line: reason".
 */
#ifndef DLP_MASTER_CONF_H
#define DLP_MASTER_CONF_H

#include <stddef.h>

#include "conf.h"

#define MASTER_CONF_FILE "master.conf"

struct master_svc_conf {
	char *name;
	char *type; /* "inet" or "unix" */
	char **listen;
	size_t nlisten;
	char *command;
	int process_limit;
	int process_min_avail;
	int max_use;
	int max_idle; /* seconds */
	char *user;
	char *chroot;
	char **options; /* "name=value" */
	size_t noptions;
};

struct master_conf {
	struct master_svc_conf *svc;
	size_t nsvc;
	int builtin; /* no master.conf: the built-in table */
};

extern const char master_conf_builtin[];

int master_conf_load(const char *dir, struct master_conf *mc, char *err, size_t errlen);
int master_conf_load_path(const char *path, const char *shown, struct master_conf *mc,
			  char *err, size_t errlen);
void master_conf_free(struct master_conf *mc);
size_t master_conf_contexts(const char *dir, struct conf_context **out);
int master_svc_same_listen(const struct master_svc_conf *a, const struct master_svc_conf *b);

#endif
