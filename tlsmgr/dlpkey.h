/*
 * dlpkey.h - what dlpkey's command files share
 *
 * dlpkey.c reads the command line into struct dlpkey_opts and runs one
 * command; dlpkey_tls.c holds tlsverify. dlpkey_die() prints one error
 * line and exits 1; dlpkey_load() opens the keystore or dies.
 */
#ifndef DLP_DLPKEY_H
#define DLP_DLPKEY_H

#include <limits.h>

#include <openssl/x509.h>

#include "keystore.h"

struct dlpkey_opts {
	const char *alias;
	const char *dname;
	const char *keyalg;
	int keysize;
	int validity;
	int port;
	const char *file;
	const char *keyfile;
	const char *storepass;
	const char *keypass;
	const char *newpass;
	const char *srckeystore;
	const char *srcstoretype;
	const char *srcstorepass;
	const char *srcalias;
	const char *destalias;
	const char *storetype;
	const char *deststoretype;
	int verbose;
	int rfc;
	int trustcacerts;
	int noprompt;
	char **args;
	int nargs;
};

extern char dlpkey_path[PATH_MAX];

void dlpkey_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void dlpkey_load(const struct dlpkey_opts *o, struct keystore *ks, char *pass, size_t len);
void dlpkey_time(const ASN1_TIME *t, char *buf, size_t len);
int dlpkey_days_left(X509 *x);
int dlpkey_tlsverify(const struct dlpkey_opts *o);

#endif
