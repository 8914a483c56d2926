/*
 * master_check - checks shared by master and `dlpgate check`
 *
 * See master_check.c. Every function returns 0, or -1 with one line in
 * err that names the path and the fix.
 */
#ifndef DLP_MASTER_CHECK_H
#define DLP_MASTER_CHECK_H

#include <stddef.h>

#include "master_conf.h"

enum master_secret {
	MASTER_SECRET_KEYSTORE,
	MASTER_SECRET_PASSWORD,
};

const char *master_tls_user(const struct master_conf *mc);
int master_has_tlsmgr(const struct master_conf *mc);
const char *master_secret_path(enum master_secret which, const char *confdir, char *buf,
			       size_t len);
int master_check_loop(const struct master_conf *mc, char *err, size_t errlen);
int master_check_secrets(const char *confdir, const struct master_conf *mc, int privsep,
			 char *err, size_t errlen);

#endif
