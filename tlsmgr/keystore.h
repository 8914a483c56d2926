/*
 * keystore - dlpgate's PKCS#12 keystore, in the form Java's keytool uses
 *
 * A keystore is a password-protected PKCS#12 file of entries, each under
 * an alias (lower case, as keytool's PKCS12 store keeps them):
 *	KS_KEY		a private key and its certificate chain, leaf first
 *			(keytool's PrivateKeyEntry)
 *	KS_TRUSTED	one certificate trusted for next hops (keytool's
 *			trustedCertEntry: a cert bag with Oracle's trusted key
 *			usage attribute)
 * Keys and certificates are stored PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC)
 * with an HMAC-SHA256 MAC, the store password also protecting the keys,
 * as keytool does: files made by either tool open with the other.
 *
 * ks_save() and ks_write_password() replace their file with file_replace()
 * (a temporary file beside it, fsync'd and renamed over it, keeping its
 * owner and mode): a failure leaves the old file untouched. Only tlsmgr and dlpkey link this module.
 */
#ifndef DLP_KEYSTORE_H
#define DLP_KEYSTORE_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define KS_ALIAS_MAX 128
#define KS_PASS_MAX  1024
#define KS_ITER      10000

enum ks_type {
	KS_KEY,
	KS_TRUSTED,
};

struct ks_entry {
	char *alias;
	enum ks_type type;
	EVP_PKEY *key;          /* KS_KEY only */
	STACK_OF(X509) * chain; /* KS_KEY: leaf first; KS_TRUSTED: one */
};

struct keystore {
	struct ks_entry *e;
	size_t n;
};

int ks_load(const char *path, const char *pass, struct keystore *ks, char *err, size_t errlen);
int ks_save(const struct keystore *ks, const char *path, const char *pass, uid_t uid, gid_t gid,
	    char *err, size_t errlen);
void ks_free(struct keystore *ks);
struct ks_entry *ks_find(struct keystore *ks, const char *alias);
struct ks_entry *ks_add(struct keystore *ks, const char *alias, enum ks_type type);
void ks_delete(struct keystore *ks, struct ks_entry *e);
int ks_alias_ok(const char *alias, char *norm, size_t normlen);
int ks_read_password(const char *path, char *pass, size_t len, char *err, size_t errlen);
int ks_write_password(const char *path, const char *pass, uid_t uid, gid_t gid, char *err,
		      size_t errlen);
EVP_PKEY *ks_generate_key(const char *alg, int bits, char *err, size_t errlen);
X509_NAME *ks_dname_parse(const char *dname, char *note, size_t notelen, char *err,
			  size_t errlen);
X509 *ks_self_signed(EVP_PKEY *key, const char *dname, int days, char *err, size_t errlen);
int ks_key_matches(EVP_PKEY *key, X509 *cert);
void ks_fingerprint(X509 *x, char *buf, size_t len);
void ks_paths(char *ks, size_t kslen, char *pw, size_t pwlen);
void ks_openssl_error(char *err, size_t errlen, const char *what);

#endif
