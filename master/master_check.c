/*
 * master_check - checks shared by master and `dlpgate check`
 *
 * master_check_secrets() makes sure that the files only tlsmgr may read
 * (the keystore and its password file) are private to tlsmgr's user:
 * owned by it (by the invoking user without privilege separation), no
 * access for group or others, in a directory nobody else may write to.
 * Anything else fails with the path and the command that fixes it, so
 * that neither `dlpgate check` nor a start goes on with a key that
 * another role could read.
 *
 * master_check_loop() refuses reflecting mode whose resubmit_port is
 * a port an smtpd-proxy service of master.conf listens on. Both name the
 * setting where it was set (conf_where: file and line) and the fix; they
 * read the live values, so master's reload loads the new configuration
 * before it runs them (and puts the running one back when they refuse).
 *
 * master_secret_path() names those files: the keystore and
 * keystore_password_file settings (TLS) when the parameter
 * table has them and they are set, else CONFDIR/keystore.p12 and
 * CONFDIR/keystore.pass (the defaults tlsmgr uses too).
 * master_tls_user() is the user of the service whose command is tlsmgr,
 * or dlpgate-tls.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

#include "conf.h"
#include "conf_params.h"
#include "master_check.h"

#define MASTER_TLS_USER "dlpgate-tls"

/* master_tls_user - the user tlsmgr runs as */
const char *master_tls_user(const struct master_conf *mc)
{
	for (size_t i = 0; mc && i < mc->nsvc; i++)
		if (strcmp(mc->svc[i].command, "tlsmgr") == 0)
			return mc->svc[i].user;
	return MASTER_TLS_USER;
}

/* master_has_tlsmgr - does the service table run tlsmgr? */
int master_has_tlsmgr(const struct master_conf *mc)
{
	for (size_t i = 0; mc && i < mc->nsvc; i++)
		if (strcmp(mc->svc[i].command, "tlsmgr") == 0)
			return 1;
	return 0;
}

/* master_secret_path - where a secret file is; NULL for an unknown one */
const char *master_secret_path(enum master_secret which, const char *confdir, char *buf,
			       size_t len)
{
	static const char *const param[] = {"keystore", "keystore_password_file"};
	static const char *const file[] = {"keystore.p12", "keystore.pass"};
	const struct conf_param *p;

	if ((unsigned) which > MASTER_SECRET_PASSWORD)
		return NULL;
	/* the TLS settings, once the parameter table has them */
	if ((p = conf_find(param[which])) != NULL && p->type == CONF_STR) {
		const char *v = *(char **) p->var;

		if (v && *v) {
			strlcpy(buf, v, len);
			return buf;
		}
	}
	snprintf(buf, len, "%s/%s", confdir, file[which]);
	return buf;
}

/* master_check_dir - may nobody else replace files in this directory? */
static int master_check_dir(const char *path, uid_t owner, char *err, size_t errlen)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	strlcpy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else if (slash == dir)
		dir[1] = 0;
	else
		*slash = 0;
	if (stat(dir, &st) < 0)
		return 0; /* the file check reports it */
	if ((st.st_mode & 0022) && !(st.st_mode & S_ISVTX)) {
		snprintf(err, errlen,
			 "%s: its directory %s is writable by group or "
			 "others, who could replace it; fix: chmod go-w %s",
			 path, dir, dir);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != owner && st.st_uid != geteuid()) {
		snprintf(err, errlen,
			 "%s: its directory %s belongs to uid %ld, who "
			 "could replace it; fix: chown root %s",
			 path, dir, (long) st.st_uid, dir);
		return -1;
	}
	return 0;
}

/* master_check_secret - one file, which must be private to owner */
static int master_check_secret(const char *path, const char *owner_name, int privsep,
			       int must_exist, char *err, size_t errlen)
{
	struct passwd *pw;
	struct stat st;
	uid_t owner;

	if (privsep) {
		if ((pw = getpwnam(owner_name)) == NULL) {
			snprintf(err, errlen, "user \"%s\" does not exist; fix: dlpgate setup",
				 owner_name);
			return -1;
		}
		owner = pw->pw_uid;
	} else {
		owner_name = NULL;
		owner = geteuid();
	}
	if (stat(path, &st) < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
			 errno == ENOENT ? "; fix: dlpgate setup" : "");
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_mode & 0077) {
		snprintf(err, errlen, "%s: mode %04o lets %s read it; fix: chmod 600 %s", path,
			 (unsigned) (st.st_mode & 07777),
			 st.st_mode & 0007 ? "every user" : "its group", path);
		return -1;
	}
	if (st.st_uid != owner) {
		struct passwd *who = getpwuid(st.st_uid);
		char name[64];

		snprintf(name, sizeof(name), "%s", who ? who->pw_name : "?");
		if (owner_name)
			snprintf(err, errlen,
				 "%s: owned by %s (uid %ld), but only %s "
				 "(tlsmgr) may read it; fix: chown %s %s",
				 path, name, (long) st.st_uid, owner_name, owner_name, path);
		else
			snprintf(err, errlen,
				 "%s: owned by %s (uid %ld), not by the user "
				 "dlpgate runs as (uid %ld); fix: chown %ld %s",
				 path, name, (long) st.st_uid, (long) owner, (long) owner,
				 path);
		return -1;
	}
	return master_check_dir(path, owner, err, errlen);
}

/* master_check_named_secrets - keystore files set in dlpgate.conf must exist */
static int master_check_named_secrets(const char *confdir, char *err, size_t errlen)
{
	struct stat st;
	char where[PATH_MAX + 64];

	if (var_keystore && *var_keystore && stat(var_keystore, &st) < 0 && errno == ENOENT) {
		snprintf(err, errlen,
			 "%s: %s does not exist; fix: make it with "
			 "dlpkey -c %s genkeypair -alias dlpgate -dname \"CN=%s\" (or dlpkey "
			 "importkey, importkeystore), or dlpconf -X keystore for a self-signed "
			 "one made at the first start",
			 conf_where("keystore", where, sizeof(where)), var_keystore, confdir,
			 var_helo_name && *var_helo_name ? var_helo_name : "mail.example.com");
		return -1;
	}
	if (var_keystore_password_file && *var_keystore_password_file
	    && stat(var_keystore_password_file, &st) < 0 && errno == ENOENT) {
		snprintf(err, errlen,
			 "%s: %s does not exist; fix: "
			 "write the keystore password in it (one line, mode 600), or dlpconf "
			 "-X keystore_password_file",
			 conf_where("keystore_password_file", where, sizeof(where)),
			 var_keystore_password_file);
		return -1;
	}
	return 0;
}

/* master_check_loop - reflecting mode must not send mail back to dlpgate */
int master_check_loop(const struct master_conf *mc, char *err, size_t errlen)
{
	if (var_operating_mode != OPERATING_MODE_REFLECT)
		return 0;
	for (size_t i = 0; i < mc->nsvc; i++) {
		const struct master_svc_conf *sc = &mc->svc[i];

		if (strcmp(sc->type, "inet") != 0 || strcmp(sc->command, "smtpd-proxy") != 0)
			continue;
		for (size_t j = 0; j < sc->nlisten; j++) {
			const char *colon = strrchr(sc->listen[j], ':');

			if (colon && atoi(colon + 1) == var_resubmit_port) {
				char where[PATH_MAX + 64];

				snprintf(
					err, errlen,
					"%s: %d is the port dlpgate itself "
					"listens on (service %s, %s in master.conf): reflected "
					"mail would come back to dlpgate; fix: dlpconf -e "
					"resubmit_port=10026 (the MTA's reinjection listener)",
					conf_where("resubmit_port", where, sizeof(where)),
					var_resubmit_port, sc->name, sc->listen[j]);
				return -1;
			}
		}
	}
	return 0;
}

/* master_check_secrets - the keystore and its password file */
int master_check_secrets(const char *confdir, const struct master_conf *mc, int privsep,
			 char *err, size_t errlen)
{
	char path[PATH_MAX];
	const char *user = master_tls_user(mc);

	/*
	 * Missing files are fine at their built-in paths: dlpgate setup
	 * creates the password file, tlsmgr a keystore (and a password) at its
	 * first start. A keystore named in dlpgate.conf is the administrator's:
	 * missing, it is a mistake to say, not to paper over.
	 */
	if (master_has_tlsmgr(mc) && master_check_named_secrets(confdir, err, errlen) < 0)
		return -1;
	if (master_check_secret(
		    master_secret_path(MASTER_SECRET_KEYSTORE, confdir, path, sizeof(path)),
		    user, privsep, 0, err, errlen)
	    < 0)
		return -1;
	if (master_check_secret(
		    master_secret_path(MASTER_SECRET_PASSWORD, confdir, path, sizeof(path)),
		    user, privsep, 0, err, errlen)
	    < 0)
		return -1;
	return 0;
}
