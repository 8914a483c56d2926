/*
 * dlpkey - keytool-style management of dlpgate's keystore
 *
 * SYNOPSIS
 *	dlpkey [-c confdir] COMMAND [options]	(options before or after it)
 *	    genkeypair -alias A -dname DN [-keyalg RSA|EC] [-keysize N] [-validity DAYS]
 *	    list [-v] [-rfc] [-alias A]
 *	    exportcert -alias A [-file F] [-rfc]	(DER; -rfc: PEM)
 *	    importcert -alias A -file F [-trustcacerts]
 *	    certreq -alias A [-file F] [-dname DN]
 *	    importkeystore -srckeystore F [-srcstorepass P] [-srcalias A [-destalias B]]
 *	    importkey -alias A -keyfile KEY.pem [-file CHAIN.pem]
 *	    delete -alias A
 *	    storepasswd -new NEWPASS
 *	    check
 *	    tlsverify DOMAIN [HOST[:PORT]] [-port N]
 *	common options: -keystore FILE (or -destkeystore), -storepass PASS,
 *	-storepass:file FILE, -storepass:env VAR, -keypass PASS, -storetype
 *	PKCS12, -noprompt, -v. keytool's spellings work too: -genkeypair,
 *	-genkey, -importcert, -import, -exportcert, -export, -list, ...
 *
 * DESCRIPTION
 *	dlpkey edits the keystore that tlsmgr serves, in the PKCS#12 form
 *	Java's keytool reads and writes; keytool works on the same file and
 *	dlpkey on keytool's. The keystore and its password default to the
 *	keystore and keystore_password_file settings; a -keystore other than
 *	the configured one without -storepass asks for its password (on the
 *	terminal, or one line of standard input), as keytool does. Every
 *	change goes to a temporary file that replaces the keystore only when
 *	complete; an error (wrong password, missing or duplicate alias, a
 *	file that is not a certificate, a -dname X.509 cannot hold) leaves
 *	the keystore untouched and is said before anything else is printed.
 *	Certificates and requests written to files are public: mode 0644.
 *	Run 'dlpgate reload' after a change so tlsmgr reads it.
 *
 *	tlsverify (dlpkey_tls.c) checks a next hop's TLS as dlpgate would.
 *
 * EXIT STATUS
 *	0 on success; 1 on an error, a failed check, or a failed tlsverify.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "keystore.h"
#include "dlpkey.h"

#ifndef DLP_SYSCONFDIR
#define DLP_SYSCONFDIR "/etc/dlpgate"
#endif

#define DLPKEY_TLS_USER "dlpgate-tls"

char dlpkey_path[PATH_MAX];
static char dlpkey_pass_path[PATH_MAX];
static int dlpkey_other_store; /* -keystore names another keystore */

/* dlpkey_die - an error for the administrator, and exit 1 */
void dlpkey_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("dlpkey: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* dlpkey_ask - a password from the terminal (no echo) or a line of stdin */
static void dlpkey_ask(const char *prompt, char *pass, size_t len)
{
	FILE *in = fopen("/dev/tty", "r+");
	struct termios old, quiet;
	int tty = in != NULL && tcgetattr(fileno(in), &old) == 0;
	size_t n;

	if (!tty) {
		if (in)
			fclose(in);
		in = stdin;
	}
	fprintf(tty ? in : stderr, "%s", prompt);
	fflush(tty ? in : stderr);
	if (tty) {
		quiet = old;
		quiet.c_lflag &= (tcflag_t) ~ECHO;
		tcsetattr(fileno(in), TCSAFLUSH, &quiet);
	}
	if (fgets(pass, (int) len, in) == NULL)
		*pass = 0;
	if (tty) {
		tcsetattr(fileno(in), TCSAFLUSH, &old);
		fputc('\n', in);
		fclose(in);
	}
	n = strcspn(pass, "\r\n");
	if (pass[n] == 0 && n + 1 >= len)
		dlpkey_die("password too long (at most %d bytes)", KS_PASS_MAX - 1);
	pass[n] = 0;
	if (*pass == 0)
		dlpkey_die("no password given: use -storepass, -storepass:file or "
			   "keystore_password_file");
}

/* dlpkey_secret - a PASS, PASS:file or PASS:env option value */
static const char *dlpkey_secret(const char *opt, const char *how, const char *v)
{
	static char buf[8][KS_PASS_MAX];
	static int next;
	char *out = buf[next++ % 8], err[512];

	if (how == NULL) {
		if (strlen(v) >= KS_PASS_MAX)
			dlpkey_die("%s: password too long", opt);
		strlcpy(out, v, KS_PASS_MAX);
	} else if (strcmp(how, "file") == 0) {
		if (ks_read_password(v, out, KS_PASS_MAX, err, sizeof(err)) < 0)
			dlpkey_die("%s:file: %s", opt, err);
	} else if (strcmp(how, "env") == 0) {
		const char *e = getenv(v);

		if (e == NULL || strlen(e) >= KS_PASS_MAX)
			dlpkey_die("%s:env: no variable %s in the environment", opt, v);
		strlcpy(out, e, KS_PASS_MAX);
	} else {
		dlpkey_die("unknown option %s:%s (use %s, %s:file or %s:env)", opt, how, opt,
			   opt, opt);
	}
	if (*out == 0)
		dlpkey_die("%s: empty password", opt);
	return out;
}

/* dlpkey_password - -storepass, keystore_password_file, or ask */
static void dlpkey_password(const struct dlpkey_opts *o, char *pass, size_t len, int creating)
{
	char err[512];

	if (o->storepass) {
		strlcpy(pass, o->storepass, len);
	} else if (!dlpkey_other_store && access(dlpkey_pass_path, F_OK) == 0) {
		if (ks_read_password(dlpkey_pass_path, pass, len, err, sizeof(err)) < 0)
			dlpkey_die("%s (or give -storepass)", err);
		return;
	} else {
		dlpkey_ask(creating ? "Enter a password for the new keystore: "
				    : "Enter keystore password: ",
			   pass, len);
	}
	if (creating && strlen(pass) < 6)
		dlpkey_die("a new keystore's password needs at least 6 characters");
}

/* dlpkey_load - open the keystore or die with the reason */
void dlpkey_load(const struct dlpkey_opts *o, struct keystore *ks, char *pass, size_t len)
{
	char err[512];

	if (access(dlpkey_path, F_OK) < 0 && errno == ENOENT)
		dlpkey_die("keystore %s does not exist; make one with: dlpkey genkeypair "
			   "-alias dlpgate -dname \"CN=%s\"%s%s",
			   dlpkey_path, *var_helo_name ? var_helo_name : "mail.example.com",
			   dlpkey_other_store ? " -keystore " : "",
			   dlpkey_other_store ? dlpkey_path : "");
	dlpkey_password(o, pass, len, 0);
	if (ks_load(dlpkey_path, pass, ks, err, sizeof(err)) < 0)
		dlpkey_die("%s", err);
}

/* dlpkey_load_or_new - open the keystore, or start a new one */
static int dlpkey_load_or_new(const struct dlpkey_opts *o, struct keystore *ks, char *pass,
			      size_t len)
{
	if (access(dlpkey_path, F_OK) == 0) {
		dlpkey_load(o, ks, pass, len);
		return 0;
	}
	memset(ks, 0, sizeof(*ks));
	dlpkey_password(o, pass, len, 1);
	return 1;
}

/* dlpkey_owner - who owns a new keystore: the tlsmgr user when root */
static void dlpkey_owner(uid_t *uid, gid_t *gid)
{
	struct passwd *pw = geteuid() == 0 ? getpwnam(DLPKEY_TLS_USER) : NULL;

	*uid = pw ? pw->pw_uid : (uid_t) -1;
	*gid = pw ? pw->pw_gid : (gid_t) -1;
}

/* dlpkey_save - write the keystore atomically or die */
static void dlpkey_save(struct keystore *ks, const char *pass, int created)
{
	char err[512];
	uid_t uid;
	gid_t gid;

	dlpkey_owner(&uid, &gid);
	if (ks_save(ks, dlpkey_path, pass, uid, gid, err, sizeof(err)) < 0)
		dlpkey_die("%s (the keystore is unchanged)", err);
	if (created)
		printf("Created the keystore %s\n", dlpkey_path);
}

/* dlpkey_need_alias - the -alias option, normalised */
static const char *dlpkey_need_alias(const struct dlpkey_opts *o, char *norm, size_t len)
{
	if (o->alias == NULL)
		dlpkey_die("-alias is required");
	if (!ks_alias_ok(o->alias, norm, len))
		dlpkey_die("bad alias \"%s\"", o->alias);
	return norm;
}

/* dlpkey_public_file - create a public output file, mode 0644 */
static FILE *dlpkey_public_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FILE *fp;

	if (fd < 0 || fchmod(fd, 0644) < 0 || (fp = fdopen(fd, "w")) == NULL)
		dlpkey_die("cannot create %s: %s", path, strerror(errno));
	return fp;
}

/* dlpkey_close_public - finish a file from dlpkey_public_file */
static void dlpkey_close_public(FILE *fp, const char *path)
{
	if (fflush(fp) != 0 || fsync(fileno(fp)) < 0 || fclose(fp) != 0)
		dlpkey_die("cannot write %s: %s", path, strerror(errno));
}

/* dlpkey_time - a certificate time as text */
void dlpkey_time(const ASN1_TIME *t, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n;

	ASN1_TIME_print(b, t);
	n = BIO_read(b, buf, (int) len - 1);
	buf[n > 0 ? n : 0] = 0;
	BIO_free(b);
}

/* dlpkey_days_left - days until notAfter (negative when expired) */
int dlpkey_days_left(X509 *x)
{
	int days = 0, secs = 0;

	ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x));
	return days < 0 || secs < 0 ? (days < 0 ? days : -1) : days;
}

/* dlpkey_print_cert - subject, issuer, dates, fingerprint */
void dlpkey_print_cert(X509 *x, const char *indent)
{
	char buf[512], fp[128];
	int days = dlpkey_days_left(x);

	X509_NAME_oneline(X509_get_subject_name(x), buf, sizeof(buf));
	printf("%sOwner: %s\n", indent, buf);
	X509_NAME_oneline(X509_get_issuer_name(x), buf, sizeof(buf));
	printf("%sIssuer: %s\n", indent, buf);
	dlpkey_time(X509_get0_notBefore(x), buf, sizeof(buf));
	printf("%sValid from: %s", indent, buf);
	dlpkey_time(X509_get0_notAfter(x), buf, sizeof(buf));
	printf(" until: %s\n", buf);
	ks_fingerprint(x, fp, sizeof(fp));
	printf("%sSHA256: %s\n", indent, fp);
	if (days < 0)
		printf("%sWARNING: this certificate has EXPIRED\n", indent);
	else if (days < 30)
		printf("%sWARNING: this certificate expires in %d days\n", indent, days);
}

/* dlpkey_list - the entries, keytool style */
static int dlpkey_list(const struct dlpkey_opts *o)
{
	struct keystore ks;
	char pass[KS_PASS_MAX], fp[128];

	dlpkey_load(o, &ks, pass, sizeof(pass));
	printf("Keystore: %s\nKeystore type: PKCS12\n\nYour keystore contains %zu entr%s\n\n",
	       dlpkey_path, ks.n, ks.n == 1 ? "y" : "ies");
	for (size_t i = 0; i < ks.n; i++) {
		struct ks_entry *e = &ks.e[i];
		X509 *leaf = sk_X509_value(e->chain, 0);
		int days = dlpkey_days_left(leaf);

		if (o->alias && strcasecmp(o->alias, e->alias) != 0)
			continue;
		if (!o->verbose && !o->rfc) {
			ks_fingerprint(leaf, fp, sizeof(fp));
			printf("%s, %s,\nCertificate fingerprint (SHA-256): %s\n", e->alias,
			       e->type == KS_KEY ? "PrivateKeyEntry" : "trustedCertEntry", fp);
			if (days < 30)
				printf("WARNING: %s %s\n", e->alias,
				       days < 0 ? "has EXPIRED" : "expires within 30 days");
			continue;
		}
		printf("Alias name: %s\nEntry type: %s\n", e->alias,
		       e->type == KS_KEY ? "PrivateKeyEntry" : "trustedCertEntry");
		if (e->type == KS_KEY)
			printf("Key: %s %d bits\nCertificate chain length: %d\n",
			       EVP_PKEY_is_a(e->key, "EC") ? "EC" : "RSA",
			       EVP_PKEY_get_bits(e->key), sk_X509_num(e->chain));
		for (int j = 0; j < sk_X509_num(e->chain); j++) {
			if (e->type == KS_KEY)
				printf("Certificate[%d]:\n", j + 1);
			if (o->rfc)
				PEM_write_X509(stdout, sk_X509_value(e->chain, j));
			else
				dlpkey_print_cert(sk_X509_value(e->chain, j), "");
		}
		printf("\n*******************************************\n\n");
	}
	ks_free(&ks);
	OPENSSL_cleanse(pass, sizeof(pass));
	return 0;
}

/* dlpkey_genkeypair - a new key and self-signed certificate */
static int dlpkey_genkeypair(const struct dlpkey_opts *o)
{
	struct keystore ks;
	char pass[KS_PASS_MAX], alias[KS_ALIAS_MAX], err[512], note[256];
	int created, days = o->validity ? o->validity : 90;
	X509_NAME *name;
	struct ks_entry *e;
	EVP_PKEY *key;
	X509 *x;

	/* everything the command line can get wrong is said before anything else */
	dlpkey_need_alias(o, alias, sizeof(alias));
	if (o->dname == NULL)
		dlpkey_die("-dname is required, e.g. -dname \"CN=mail.example.com, O=Example, "
			   "C=US\"");
	if ((name = ks_dname_parse(o->dname, note, sizeof(note), err, sizeof(err))) == NULL)
		dlpkey_die("%s", err);
	X509_NAME_free(name);
	if (days < 1 || days > 36500)
		dlpkey_die("-validity %d: use 1 to 36500 days", days);
	created = dlpkey_load_or_new(o, &ks, pass, sizeof(pass));
	if (ks_find(&ks, alias))
		dlpkey_die("alias <%s> already exists", alias);
	if (o->keypass && strcmp(o->keypass, pass) != 0)
		fprintf(stderr,
			"Warning: a PKCS#12 keystore has one password for the store "
			"and its keys: -keypass is ignored, the key takes the store "
			"password\n");
	if (*note)
		fprintf(stderr, "Note: %s\n", note);
	if ((key = ks_generate_key(o->keyalg ? o->keyalg : "RSA", o->keysize, err, sizeof(err)))
		    == NULL
	    || (x = ks_self_signed(key, o->dname, days, err, sizeof(err))) == NULL)
		dlpkey_die("%s", err);
	e = ks_add(&ks, alias, KS_KEY);
	e->key = key;
	sk_X509_push(e->chain, x);
	dlpkey_save(&ks, pass, created);
	X509_NAME_oneline(X509_get_subject_name(x), err, sizeof(err));
	printf("Generated %s %d-bit key pair and a self-signed certificate (SHA256) for "
	       "%s, valid %d days, alias %s\n",
	       EVP_PKEY_is_a(key, "EC") ? "EC" : "RSA", EVP_PKEY_get_bits(key), err, days,
	       alias);
	ks_free(&ks);
	OPENSSL_cleanse(pass, sizeof(pass));
	return 0;
}

/* dlpkey_exportcert - the certificate of an alias: DER as keytool writes it, PEM with -rfc */
static int dlpkey_exportcert(const struct dlpkey_opts *o)
{
	struct keystore ks;
	struct ks_entry *e;
	char pass[KS_PASS_MAX], alias[KS_ALIAS_MAX];
	FILE *fp = stdout;
	X509 *cert;
	int ok;

	dlpkey_need_alias(o, alias, sizeof(alias));
	dlpkey_load(o, &ks, pass, sizeof(pass));
	if ((e = ks_find(&ks, alias)) == NULL)
		dlpkey_die("alias <%s> does not exist", alias);
	if (o->file)
		fp = dlpkey_public_file(o->file);
	cert = sk_X509_value(e->chain, 0);
	ok = o->rfc ? PEM_write_X509(fp, cert) : i2d_X509_fp(fp, cert);
	if (!ok)
		dlpkey_die("cannot write the certificate to %s",
			   o->file ? o->file : "standard output");
	if (o->file)
		dlpkey_close_public(fp, o->file);
	else if (fflush(stdout) != 0)
		dlpkey_die("cannot write to standard output: %s", strerror(errno));
	if (o->file)
		fprintf(stderr, "Certificate stored in file <%s>\n", o->file);
	ks_free(&ks);
	return 0;
}

/* dlpkey_read_certs - every certificate of a PEM or DER file */
static STACK_OF(X509) * dlpkey_read_certs(const char *path)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *b = BIO_new_file(path, "r");
	X509 *x;

	if (b == NULL)
		dlpkey_die("cannot open %s: %s", path, strerror(errno));
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		sk_X509_push(sk, x);
	ERR_clear_error();
	if (sk_X509_num(sk) == 0) {
		(void) BIO_reset(b);
		if ((x = d2i_X509_bio(b, NULL)) != NULL)
			sk_X509_push(sk, x);
		ERR_clear_error();
	}
	for (int der = 0; der < 2 && sk_X509_num(sk) == 0; der++) {
		PKCS7 *p7;

		/* a CA's reply as PKCS#7 (.p7b, .p7c), PEM or DER */
		(void) BIO_reset(b);
		p7 = der ? d2i_PKCS7_bio(b, NULL) : PEM_read_bio_PKCS7(b, NULL, NULL, NULL);
		if (p7 && OBJ_obj2nid(p7->type) == NID_pkcs7_signed && p7->d.sign
		    && p7->d.sign->cert)
			for (int i = 0; i < sk_X509_num(p7->d.sign->cert) && i < 20; i++) {
				x = sk_X509_value(p7->d.sign->cert, i);
				X509_up_ref(x);
				sk_X509_push(sk, x);
			}
		PKCS7_free(p7);
		ERR_clear_error();
	}
	BIO_free(b);
	if (sk_X509_num(sk) == 0)
		dlpkey_die("%s is not an X.509 certificate (PEM, DER or PKCS#7)", path);
	return sk;
}

/* dlpkey_chain_check - each certificate issued by the next one */
static int dlpkey_chain_check(STACK_OF(X509) * chain, int verbose, const char *who)
{
	int bad = 0;

	for (int i = 0; i + 1 < sk_X509_num(chain); i++) {
		if (X509_check_issued(sk_X509_value(chain, i + 1), sk_X509_value(chain, i))
		    != X509_V_OK) {
			printf("%s: certificate %d is not issued by certificate %d: "
			       "chain out of order or incomplete\n",
			       who, i + 1, i + 2);
			bad = 1;
		}
	}
	if (!bad && verbose)
		printf("%s: chain of %d in order\n", who, sk_X509_num(chain));
	return bad;
}

/* dlpkey_verify_chain - -trustcacerts: the chain verifies to a root */
static void dlpkey_verify_chain(STACK_OF(X509) * certs)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *top = sk_X509_value(certs, sk_X509_num(certs) - 1);
	int ok;

	X509_STORE_set_default_paths(store);
	if (X509_check_issued(top, top) == X509_V_OK)
		X509_STORE_add_cert(store, top);
	X509_STORE_CTX_init(ctx, store, sk_X509_value(certs, 0), certs);
	ok = X509_verify_cert(ctx);
	if (ok != 1)
		dlpkey_die("-trustcacerts: the chain does not verify: %s",
			   X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
}

/* dlpkey_find_issuer - the issuer of x among certs, then the keystore's */
static X509 *dlpkey_find_issuer(X509 *x, STACK_OF(X509) * certs, struct keystore *ks)
{
	for (int i = 0; i < sk_X509_num(certs); i++)
		if (X509_cmp(sk_X509_value(certs, i), x) != 0
		    && X509_check_issued(sk_X509_value(certs, i), x) == X509_V_OK)
			return sk_X509_value(certs, i);
	for (size_t k = 0; ks && k < ks->n; k++)
		for (int i = 0; i < sk_X509_num(ks->e[k].chain); i++)
			if (X509_cmp(sk_X509_value(ks->e[k].chain, i), x) != 0
			    && X509_check_issued(sk_X509_value(ks->e[k].chain, i), x)
				    == X509_V_OK)
				return sk_X509_value(ks->e[k].chain, i);
	return NULL;
}

/* dlpkey_order_chain - key's certificate first, then each issuer, as keytool does */
static STACK_OF(X509)
	* dlpkey_order_chain(EVP_PKEY *key, STACK_OF(X509) * certs, struct keystore *ks,
			     const char *file, const char *alias)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *x = NULL, *up;

	for (int i = 0; i < sk_X509_num(certs) && x == NULL; i++)
		if (ks_key_matches(key, sk_X509_value(certs, i)))
			x = sk_X509_value(certs, i);
	if (x == NULL)
		dlpkey_die("the certificate in %s does not belong to the key of <%s>: is "
			   "it the CA's reply to this key's certreq?",
			   file, alias);
	while (x && sk_X509_num(chain) < 10) {
		X509_up_ref(x);
		sk_X509_push(chain, x);
		if (X509_check_issued(x, x) == X509_V_OK)
			return chain;
		up = dlpkey_find_issuer(x, certs, ks);
		if (up == NULL) {
			char is[256];

			X509_NAME_oneline(X509_get_issuer_name(x), is, sizeof(is));
			fprintf(stderr,
				"Warning: the chain ends at %s, which is neither in %s "
				"nor in the keystore; clients get an incomplete chain. Import "
				"the CA certificate first (dlpkey importcert -alias ca -file "
				"ca.pem), then the reply again.\n",
				is, file);
		}
		x = up;
	}
	return chain;
}

/* dlpkey_importcert - a trusted certificate, or a CA reply for a key */
static int dlpkey_importcert(const struct dlpkey_opts *o)
{
	struct keystore ks;
	struct ks_entry *e;
	char pass[KS_PASS_MAX], alias[KS_ALIAS_MAX], fp[128];
	STACK_OF(X509) * certs;
	X509 *first;

	dlpkey_need_alias(o, alias, sizeof(alias));
	if (o->file == NULL)
		dlpkey_die("-file is required");
	certs = dlpkey_read_certs(o->file);
	first = sk_X509_value(certs, 0);
	dlpkey_load(o, &ks, pass, sizeof(pass));
	if (o->trustcacerts)
		dlpkey_verify_chain(certs);
	e = ks_find(&ks, alias);
	if (e && e->type == KS_KEY) {
		/* keytool: a certificate reply replaces the chain of a key entry */
		STACK_OF(X509) *chain = dlpkey_order_chain(e->key, certs, &ks, o->file, alias);

		sk_X509_pop_free(certs, X509_free);
		sk_X509_pop_free(e->chain, X509_free);
		e->chain = chain;
		dlpkey_save(&ks, pass, 0);
		printf("Certificate reply was installed in keystore (alias %s, chain of %d)\n",
		       alias, sk_X509_num(chain));
		ks_free(&ks);
		return 0;
	}
	if (e)
		dlpkey_die("alias <%s> already exists", alias);
	for (size_t i = 0; i < ks.n; i++)
		if (X509_cmp(sk_X509_value(ks.e[i].chain, 0), first) == 0)
			printf("note: this certificate is already in the keystore as <%s>\n",
			       ks.e[i].alias);
	e = ks_add(&ks, alias, KS_TRUSTED);
	X509_up_ref(first);
	sk_X509_push(e->chain, first);
	dlpkey_save(&ks, pass, 0);
	ks_fingerprint(first, fp, sizeof(fp));
	printf("Certificate was added to keystore as trusted <%s> (SHA256 %s)\n", alias, fp);
	if (sk_X509_num(certs) > 1)
		printf("note: %d further certificates in %s were not imported; import a "
		       "CA certificate under its own alias to trust what it signs\n",
		       sk_X509_num(certs) - 1, o->file);
	sk_X509_pop_free(certs, X509_free);
	ks_free(&ks);
	return 0;
}

/* dlpkey_delete - remove an entry */
static int dlpkey_delete(const struct dlpkey_opts *o)
{
	struct keystore ks;
	struct ks_entry *e;
	char pass[KS_PASS_MAX], alias[KS_ALIAS_MAX];

	dlpkey_need_alias(o, alias, sizeof(alias));
	dlpkey_load(o, &ks, pass, sizeof(pass));
	if ((e = ks_find(&ks, alias)) == NULL)
		dlpkey_die("alias <%s> does not exist", alias);
	ks_delete(&ks, e);
	dlpkey_save(&ks, pass, 0);
	printf("Deleted <%s>\n", alias);
	ks_free(&ks);
	return 0;
}

/* dlpkey_storepasswd - a new store (and key) password */
static int dlpkey_storepasswd(const struct dlpkey_opts *o)
{
	struct keystore ks;
	char pass[KS_PASS_MAX], err[512];
	uid_t uid;
	gid_t gid;

	if (o->newpass == NULL || strlen(o->newpass) < 6 || strlen(o->newpass) >= KS_PASS_MAX
	    || strpbrk(o->newpass, "\r\n"))
		dlpkey_die("-new needs a password of at least 6 characters, one line");
	dlpkey_load(o, &ks, pass, sizeof(pass));
	dlpkey_save(&ks, o->newpass, 0);
	if (o->storepass == NULL) {
		dlpkey_owner(&uid, &gid);
		if (ks_write_password(dlpkey_pass_path, o->newpass, uid, gid, err, sizeof(err))
		    < 0)
			dlpkey_die("the keystore has the new password but %s could not be "
				   "updated: %s",
				   dlpkey_pass_path, err);
		printf("Keystore password changed; %s updated\n", dlpkey_pass_path);
	} else {
		printf("Keystore password changed; put it in %s for tlsmgr\n",
		       dlpkey_pass_path);
	}
	ks_free(&ks);
	return 0;
}

/* dlpkey_check - key/certificate match, chain order, expiry */
static int dlpkey_check(const struct dlpkey_opts *o)
{
	struct keystore ks;
	char pass[KS_PASS_MAX];
	int bad = 0, keys = 0;

	dlpkey_load(o, &ks, pass, sizeof(pass));
	for (size_t i = 0; i < ks.n; i++) {
		struct ks_entry *e = &ks.e[i];

		if (e->type == KS_KEY) {
			keys++;
			if (!ks_key_matches(e->key, sk_X509_value(e->chain, 0))) {
				printf("%s: the private key does NOT match its certificate\n",
				       e->alias);
				bad = 1;
			} else {
				printf("%s: the private key matches its certificate\n",
				       e->alias);
			}
			bad |= dlpkey_chain_check(e->chain, 1, e->alias);
		}
		for (int j = 0; j < sk_X509_num(e->chain); j++) {
			int days = dlpkey_days_left(sk_X509_value(e->chain, j));

			if (days < 0) {
				printf("%s: certificate %d has EXPIRED\n", e->alias, j + 1);
				bad = 1;
			} else if (days < 30) {
				printf("%s: certificate %d expires in %d days\n", e->alias,
				       j + 1, days);
			}
		}
	}
	if (keys == 0) {
		printf("no private key entry: dlpgate has no certificate to serve\n");
		bad = 1;
	}
	printf("%s\n", bad ? "check FAILED" : "check passed");
	ks_free(&ks);
	return bad;
}

/* dlpkey_certreq - a PKCS#10 request signed with an entry's key, for a CA */
static int dlpkey_certreq(const struct dlpkey_opts *o)
{
	struct keystore ks;
	struct ks_entry *e;
	char pass[KS_PASS_MAX], alias[KS_ALIAS_MAX], err[512], note[256];
	X509_NAME *name = NULL;
	X509_REQ *req = X509_REQ_new();
	X509 *leaf;
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	int san;
	FILE *fp = stdout;

	dlpkey_need_alias(o, alias, sizeof(alias));
	if (o->dname
	    && (name = ks_dname_parse(o->dname, note, sizeof(note), err, sizeof(err))) == NULL)
		dlpkey_die("%s", err);
	dlpkey_load(o, &ks, pass, sizeof(pass));
	if ((e = ks_find(&ks, alias)) == NULL)
		dlpkey_die("alias <%s> does not exist", alias);
	if (e->type != KS_KEY)
		dlpkey_die("<%s> is a trusted certificate, not a key: a request needs a "
			   "key entry (dlpkey genkeypair)",
			   alias);
	leaf = sk_X509_value(e->chain, 0);
	X509_REQ_set_version(req, 0);
	X509_REQ_set_subject_name(req, name ? name : X509_get_subject_name(leaf));
	X509_REQ_set_pubkey(req, e->key);
	/* the names the certificate serves: the CA copies them into its reply */
	if ((san = X509_get_ext_by_NID(leaf, NID_subject_alt_name, -1)) >= 0)
		sk_X509_EXTENSION_push(exts, X509_EXTENSION_dup(X509_get_ext(leaf, san)));
	if (sk_X509_EXTENSION_num(exts) > 0)
		X509_REQ_add_extensions(req, exts);
	if (!X509_REQ_sign(req, e->key, EVP_sha256())) {
		ks_openssl_error(err, sizeof(err), "cannot sign the request");
		dlpkey_die("%s", err);
	}
	if (o->file)
		fp = dlpkey_public_file(o->file);
	PEM_write_X509_REQ(fp, req);
	if (o->file) {
		dlpkey_close_public(fp, o->file);
		fprintf(stderr,
			"Certificate request stored in file <%s>: have your CA sign "
			"it, then: dlpkey importcert -alias %s -file REPLY\n",
			o->file, alias);
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	X509_NAME_free(name);
	ks_free(&ks);
	OPENSSL_cleanse(pass, sizeof(pass));
	return 0;
}

/* dlpkey_copy_entry - a deep copy of an entry into ks under alias */
static void dlpkey_copy_entry(struct keystore *ks, const struct ks_entry *from,
			      const char *alias)
{
	struct ks_entry *e = ks_add(ks, alias, from->type);

	if (from->key) {
		EVP_PKEY_up_ref(from->key);
		e->key = from->key;
	}
	for (int i = 0; i < sk_X509_num(from->chain); i++) {
		X509_up_ref(sk_X509_value(from->chain, i));
		sk_X509_push(e->chain, sk_X509_value(from->chain, i));
	}
}

/* dlpkey_importkeystore - entries of another PKCS#12 keystore into this one */
static int dlpkey_importkeystore(const struct dlpkey_opts *o)
{
	struct keystore src, ks;
	char pass[KS_PASS_MAX], spass[KS_PASS_MAX], err[512], alias[KS_ALIAS_MAX];
	char want[KS_ALIAS_MAX] = "";
	int created, n = 0;

	if (o->srckeystore == NULL)
		dlpkey_die("-srckeystore is required, e.g. -srckeystore other.p12");
	if (o->srcstoretype && strcasecmp(o->srcstoretype, "PKCS12") != 0)
		dlpkey_die("-srcstoretype %s: dlpkey reads PKCS12; convert it with: keytool "
			   "-importkeystore -srckeystore %s -srcstoretype %s -destkeystore "
			   "%s.p12 -deststoretype pkcs12",
			   o->srcstoretype, o->srckeystore, o->srcstoretype, o->srckeystore);
	if (o->deststoretype && strcasecmp(o->deststoretype, "PKCS12") != 0)
		dlpkey_die("-deststoretype %s: dlpgate's keystore is PKCS12", o->deststoretype);
	if (o->srcalias && !ks_alias_ok(o->srcalias, want, sizeof(want)))
		dlpkey_die("bad alias \"%s\"", o->srcalias);
	if (o->destalias && o->srcalias == NULL)
		dlpkey_die("-destalias needs -srcalias");
	if (o->srcstorepass)
		strlcpy(spass, o->srcstorepass, sizeof(spass));
	else
		dlpkey_ask("Enter source keystore password: ", spass, sizeof(spass));
	if (ks_load(o->srckeystore, spass, &src, err, sizeof(err)) < 0)
		dlpkey_die("%s", err);
	created = dlpkey_load_or_new(o, &ks, pass, sizeof(pass));
	for (size_t i = 0; i < src.n; i++) {
		const char *to = src.e[i].alias;

		if (*want && strcmp(want, src.e[i].alias) != 0)
			continue;
		if (*want && o->destalias) {
			if (!ks_alias_ok(o->destalias, alias, sizeof(alias)))
				dlpkey_die("bad alias \"%s\"", o->destalias);
			to = alias;
		}
		if (ks_find(&ks, to)) {
			if (!o->noprompt)
				dlpkey_die("alias <%s> already exists in %s: give -destalias, "
					   "delete it first, or -noprompt to replace it "
					   "(the keystore is unchanged)",
					   to, dlpkey_path);
			ks_delete(&ks, ks_find(&ks, to));
		}
		dlpkey_copy_entry(&ks, &src.e[i], to);
		printf("Entry for alias %s successfully imported.\n", to);
		n++;
	}
	if (n == 0)
		dlpkey_die(*want ? "alias <%s> does not exist in %s" : "%s%s holds no entries",
			   want, o->srckeystore);
	dlpkey_save(&ks, pass, created);
	printf("Import command completed: %d entr%s imported into %s\n", n,
	       n == 1 ? "y" : "ies", dlpkey_path);
	ks_free(&src);
	ks_free(&ks);
	OPENSSL_cleanse(spass, sizeof(spass));
	OPENSSL_cleanse(pass, sizeof(pass));
	return 0;
}

/* dlpkey_pem_pass - the password of an encrypted PEM key: -keypass, or ask */
static int dlpkey_pem_pass(char *buf, int size, int rwflag, void *u)
{
	const struct dlpkey_opts *o = u;
	char pass[KS_PASS_MAX];

	if (o->keypass)
		strlcpy(pass, o->keypass, sizeof(pass));
	else
		dlpkey_ask("Enter the password of the key file: ", pass, sizeof(pass));
	if ((int) strlen(pass) >= size)
		return -1;
	strlcpy(buf, pass, (size_t) size);
	OPENSSL_cleanse(pass, sizeof(pass));
	return (int) strlen(buf);
}

/* dlpkey_importkey - a key and its chain from PEM files (a CA, another MTA) */
static int dlpkey_importkey(const struct dlpkey_opts *o)
{
	struct keystore ks;
	struct ks_entry *e;
	char pass[KS_PASS_MAX], alias[KS_ALIAS_MAX], err[512];
	STACK_OF(X509) * certs, *chain;
	EVP_PKEY *key;
	BIO *b;
	int created;

	dlpkey_need_alias(o, alias, sizeof(alias));
	if (o->keyfile == NULL)
		dlpkey_die("-keyfile is required: the private key, PEM (PKCS#8, RSA or EC)");
	if ((b = BIO_new_file(o->keyfile, "r")) == NULL)
		dlpkey_die("cannot open %s: %s", o->keyfile, strerror(errno));
	key = PEM_read_bio_PrivateKey(b, NULL, dlpkey_pem_pass, (void *) o);
	BIO_free(b);
	if (key == NULL) {
		ks_openssl_error(err, sizeof(err), "no private key");
		dlpkey_die("%s: %s (a PEM private key, with its password as -keypass when "
			   "encrypted)",
			   o->keyfile, err);
	}
	certs = dlpkey_read_certs(o->file ? o->file : o->keyfile);
	created = dlpkey_load_or_new(o, &ks, pass, sizeof(pass));
	if (ks_find(&ks, alias))
		dlpkey_die("alias <%s> already exists", alias);
	chain = dlpkey_order_chain(key, certs, &ks, o->file ? o->file : o->keyfile, alias);
	sk_X509_pop_free(certs, X509_free);
	e = ks_add(&ks, alias, KS_KEY);
	e->key = key;
	sk_X509_pop_free(e->chain, X509_free);
	e->chain = chain;
	dlpkey_save(&ks, pass, created);
	printf("Key and certificate chain of %d imported as <%s>\n", sk_X509_num(chain), alias);
	ks_free(&ks);
	OPENSSL_cleanse(pass, sizeof(pass));
	return 0;
}

/*
 * The commands, under dlpkey's names and keytool's: the man page and its
 * test read this table.
 */
static const struct dlpkey_verb {
	const char *name;
	const char *alias; /* keytool's older spelling, or NULL */
	int (*run)(const struct dlpkey_opts *);
	const char *usage;
} dlpkey_verbs[] = {
	{"genkeypair", "genkey", dlpkey_genkeypair,
	 "-alias A -dname DN [-keyalg RSA|EC] [-keysize N] [-validity DAYS]"},
	{"list", NULL, dlpkey_list, "[-v] [-rfc] [-alias A]"},
	{"exportcert", "export", dlpkey_exportcert, "-alias A [-file F] [-rfc]"},
	{"importcert", "import", dlpkey_importcert, "-alias A -file F [-trustcacerts]"},
	{"certreq", NULL, dlpkey_certreq, "-alias A [-file F] [-dname DN]"},
	{"importkeystore", NULL, dlpkey_importkeystore,
	 "-srckeystore F [-srcstorepass P] [-srcalias A [-destalias B]] [-noprompt]"},
	{"importkey", NULL, dlpkey_importkey, "-alias A -keyfile KEY.pem [-file CHAIN.pem]"},
	{"delete", NULL, dlpkey_delete, "-alias A"},
	{"storepasswd", NULL, dlpkey_storepasswd, "-new NEWPASS"},
	{"check", NULL, dlpkey_check, ""},
	{"tlsverify", NULL, dlpkey_tlsverify, "DOMAIN [HOST[:PORT]] [-port N]"},
};

#define DLPKEY_NVERBS (sizeof(dlpkey_verbs) / sizeof(dlpkey_verbs[0]))

/* dlpkey_usage - the synopsis */
static void __attribute__((noreturn)) dlpkey_usage(void)
{
	fprintf(stderr, "usage: dlpkey [-c confdir] COMMAND [options]\n");
	for (size_t i = 0; i < DLPKEY_NVERBS; i++)
		fprintf(stderr, "  %s %s\n", dlpkey_verbs[i].name, dlpkey_verbs[i].usage);
	fprintf(stderr,
		"options: -keystore FILE -storepass PASS (or -storepass:file FILE, "
		"-storepass:env VAR); keytool's -genkeypair, -list, ... spellings work, "
		"options before or after the command\n");
	exit(1);
}

/* dlpkey_verb - a command by dlpkey's or keytool's name, with or without '-' */
static const struct dlpkey_verb *dlpkey_verb(const char *word)
{
	word += *word == '-';
	for (size_t i = 0; i < DLPKEY_NVERBS; i++)
		if (strcmp(word, dlpkey_verbs[i].name) == 0
		    || (dlpkey_verbs[i].alias && strcmp(word, dlpkey_verbs[i].alias) == 0))
			return &dlpkey_verbs[i];
	return NULL;
}

enum dlpkey_kind {
	OPT_STR,        /* -name value */
	OPT_INT,        /* -name number */
	OPT_SECRET,     /* -name pass, -name:file F, -name:env V */
	OPT_FLAG,       /* -name */
	OPT_SKIP_VALUE, /* keytool's, no meaning here: -name value */
};

#define OPT(name, kind, field) \
	{ \
		name, kind, offsetof(struct dlpkey_opts, field) \
	}

static const struct dlpkey_option {
	const char *name;
	enum dlpkey_kind kind;
	size_t off;
} dlpkey_options[] = {
	OPT("-alias", OPT_STR, alias),
	OPT("-dname", OPT_STR, dname),
	OPT("-keyalg", OPT_STR, keyalg),
	OPT("-keysize", OPT_INT, keysize),
	OPT("-validity", OPT_INT, validity),
	OPT("-port", OPT_INT, port),
	OPT("-file", OPT_STR, file),
	OPT("-keyfile", OPT_STR, keyfile),
	OPT("-storepass", OPT_SECRET, storepass),
	OPT("-deststorepass", OPT_SECRET, storepass),
	OPT("-keypass", OPT_SECRET, keypass),
	OPT("-destkeypass", OPT_SECRET, keypass),
	OPT("-new", OPT_SECRET, newpass),
	OPT("-srckeystore", OPT_STR, srckeystore),
	OPT("-srcstoretype", OPT_STR, srcstoretype),
	OPT("-srcstorepass", OPT_SECRET, srcstorepass),
	OPT("-srcalias", OPT_STR, srcalias),
	OPT("-destalias", OPT_STR, destalias),
	OPT("-storetype", OPT_STR, storetype),
	OPT("-deststoretype", OPT_STR, deststoretype),
	OPT("-v", OPT_FLAG, verbose),
	OPT("-rfc", OPT_FLAG, rfc),
	OPT("-trustcacerts", OPT_FLAG, trustcacerts),
	OPT("-noprompt", OPT_FLAG, noprompt),
	OPT("-sigalg", OPT_SKIP_VALUE, file),     /* SHA256with...: what dlpkey signs with */
	OPT("-srckeypass", OPT_SKIP_VALUE, file), /* PKCS12: the store's */
	OPT("-keystore", OPT_SKIP_VALUE, file),   /* main() took it */
	OPT("-destkeystore", OPT_SKIP_VALUE, file),
};

/* dlpkey_parse - the command and keytool-style options, in any order */
static const struct dlpkey_verb *dlpkey_parse(int argc, char **argv, struct dlpkey_opts *o)
{
	const struct dlpkey_verb *verb = NULL;

	o->args = xcalloc((size_t) argc + 1, sizeof(char *));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char *colon = strchr(a, ':');
		size_t nlen = colon ? (size_t) (colon - a) : strlen(a);
		const struct dlpkey_option *d = NULL;

		if (verb == NULL && dlpkey_verb(a)) {
			verb = dlpkey_verb(a);
			continue;
		}
		if (*a != '-' || a[1] == 0) {
			if (verb == NULL)
				dlpkey_die("unknown command \"%s\" (dlpkey without arguments "
					   "lists the commands)",
					   a);
			o->args[o->nargs++] = argv[i];
			continue;
		}
		for (size_t j = 0; j < sizeof(dlpkey_options) / sizeof(dlpkey_options[0]); j++)
			if (strlen(dlpkey_options[j].name) == nlen
			    && strncmp(a, dlpkey_options[j].name, nlen) == 0)
				d = &dlpkey_options[j];
		if (d == NULL || (colon && d->kind != OPT_SECRET))
			dlpkey_die("unknown option %s", a);
		if (d->kind == OPT_FLAG) {
			*(int *) ((char *) o + d->off) = 1;
			continue;
		}
		if (v == NULL)
			dlpkey_die("%s needs a value", a);
		i++;
		if (d->kind == OPT_STR) {
			*(const char **) ((char *) o + d->off) = v;
		} else if (d->kind == OPT_INT) {
			char *end;
			long n = strtol(v, &end, 10);

			if (*v == 0 || *end || n < 1 || n > 1000000)
				dlpkey_die("%s %s: not a number", a, v);
			*(int *) ((char *) o + d->off) = (int) n;
		} else if (d->kind == OPT_SECRET) {
			*(const char **) ((char *) o + d->off) =
				dlpkey_secret(d->name, colon ? colon + 1 : NULL, v);
		}
	}
	if (o->storetype && strcasecmp(o->storetype, "PKCS12") != 0)
		dlpkey_die("-storetype %s: dlpgate's keystore is PKCS12 (keytool's default); "
			   "convert a JKS keystore with: keytool -importkeystore -srckeystore "
			   "FILE.jks -srcstoretype JKS -destkeystore FILE.p12 -deststoretype "
			   "pkcs12",
			   o->storetype);
	return verb;
}

int main(int argc, char **argv)
{
	struct dlpkey_opts o;
	const struct dlpkey_verb *verb;
	const char *confdir = DLP_SYSCONFDIR, *keystore = NULL;
	char err[CONF_ERR_MAX], configured[PATH_MAX];
	int i = 1;

	msg_open("dlpkey", MSG_TO_STDERR, LOG_MAIL);
	memset(&o, 0, sizeof(o));
	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		confdir = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		dlpkey_usage();
	for (int j = i; j + 1 < argc; j++)
		if (strcmp(argv[j], "-keystore") == 0 || strcmp(argv[j], "-destkeystore") == 0)
			keystore = argv[j + 1];
	verb = dlpkey_parse(argc - i, argv + i, &o);
	if (verb == NULL)
		dlpkey_usage();
	if (conf_load(confdir, NULL, 0, err, sizeof(err)) < 0)
		dlpkey_die("%s", err);
	ks_paths(dlpkey_path, sizeof(dlpkey_path), dlpkey_pass_path, sizeof(dlpkey_pass_path));
	if (keystore) {
		if (strlcpy(configured, dlpkey_path, sizeof(configured)) >= sizeof(configured)
		    || strlcpy(dlpkey_path, keystore, sizeof(dlpkey_path))
			    >= sizeof(dlpkey_path))
			dlpkey_die("keystore path too long");
		dlpkey_other_store = strcmp(configured, dlpkey_path) != 0;
	}
	umask(077);
	return verb->run(&o);
}
