/*
 * dlpkey - keytool-style management of dlpgate's keystore
 *
 * SYNOPSIS
 *	dlpkey [-c confdir] COMMAND [options]
 *	    genkeypair -alias A -dname DN [-keyalg RSA|EC] [-keysize N] [-validity DAYS]
 *	    list [-v] [-alias A]
 *	    exportcert -alias A [-file F]
 *	    importcert -alias A -file F [-trustcacerts]
 *	    delete -alias A
 *	    storepasswd -new NEWPASS
 *	    check
 *	    tlsverify DOMAIN HOST[:PORT]
 *	common options: -keystore FILE, -storepass PASS, -storepass:file FILE,
 *	-storetype PKCS12 (accepted for keytool habits), -noprompt
 *
 * DESCRIPTION
 *	dlpkey edits the keystore that tlsmgr serves, in the PKCS#12 form
 *	Java's keytool reads and writes; keytool works on the same file and
 *	dlpkey on keytool's. The keystore and its password default to the
 *	keystore and keystore_password_file settings. Every change goes to
 *	a temporary file that replaces the keystore only when complete; an
 *	error (wrong password, missing or duplicate alias, a file that is
 *	not a certificate) leaves the keystore untouched. Run 'dlpgate
 *	reload' after a change so tlsmgr reads it.
 *
 *	tlsverify connects to HOST (port 25), says EHLO, STARTTLS, and
 *	verifies the certificate as dlpgate would: against the keystore's
 *	trusted certificates (and the system CAs with tls_use_system_ca),
 *	and the name DOMAIN for outbound_tls = secure.
 *
 * EXIT STATUS
 *	0 on success; 1 on an error, a failed check, or a failed tlsverify.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "conf_params.h"
#include "inet.h"
#include "mem.h"
#include "msg.h"
#include "keystore.h"

#ifndef DLP_SYSCONFDIR
#define DLP_SYSCONFDIR "/etc/dlpgate"
#endif

#define DLPKEY_TLS_USER	"dlpgate-tls"

struct dlpkey_opts {
	const char *alias;
	const char *dname;
	const char *keyalg;
	int     keysize;
	int     validity;
	const char *file;
	const char *storepass;
	const char *newpass;
	int     verbose;
	int     trustcacerts;
	char  **args;
	int     nargs;
};

static char dlpkey_path[PATH_MAX], dlpkey_pass_path[PATH_MAX];

/* dlpkey_die - an error for the administrator, and exit 1 */
static void __attribute__((noreturn, format(printf, 1, 2))) dlpkey_die(const char *fmt, ...)
{
	va_list ap;

	fputs("dlpkey: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* dlpkey_usage - the synopsis */
static void __attribute__((noreturn)) dlpkey_usage(void)
{
	fprintf(stderr,
		"usage: dlpkey [-c confdir] COMMAND [options]\n"
		"  genkeypair -alias A -dname DN [-keyalg RSA|EC] [-keysize N] [-validity DAYS]\n"
		"  list [-v] [-alias A]\n"
		"  exportcert -alias A [-file F]\n"
		"  importcert -alias A -file F [-trustcacerts]\n"
		"  delete -alias A\n"
		"  storepasswd -new NEWPASS\n"
		"  check\n"
		"  tlsverify DOMAIN HOST[:PORT]\n"
		"options: -keystore FILE -storepass PASS -storepass:file FILE\n");
	exit(1);
}

/* dlpkey_password - -storepass, -storepass:file, or keystore_password_file */
static void dlpkey_password(const struct dlpkey_opts *o, char *pass, size_t len)
{
	char    err[512];

	if (o->storepass) {
		if (strlen(o->storepass) >= len || *o->storepass == 0)
			dlpkey_die("bad -storepass");
		strlcpy(pass, o->storepass, len);
		return;
	}
	if (ks_read_password(dlpkey_pass_path, pass, len, err, sizeof(err)) < 0)
		dlpkey_die("%s (or give -storepass)", err);
}

/* dlpkey_load - open the keystore or die with the reason */
static void dlpkey_load(const struct dlpkey_opts *o, struct keystore *ks, char *pass,
			size_t len)
{
	char    err[512];

	dlpkey_password(o, pass, len);
	if (ks_load(dlpkey_path, pass, ks, err, sizeof(err)) < 0)
		dlpkey_die("%s", err);
}

/* dlpkey_owner - who owns a new keystore: the tlsmgr user when root */
static void dlpkey_owner(uid_t *uid, gid_t *gid)
{
	struct passwd *pw = geteuid() == 0 ? getpwnam(DLPKEY_TLS_USER) : NULL;

	*uid = pw ? pw->pw_uid : (uid_t) -1;
	*gid = pw ? pw->pw_gid : (gid_t) -1;
}

/* dlpkey_save - write the keystore atomically or die */
static void dlpkey_save(struct keystore *ks, const char *pass)
{
	char    err[512];
	uid_t   uid;
	gid_t   gid;

	dlpkey_owner(&uid, &gid);
	if (ks_save(ks, dlpkey_path, pass, uid, gid, err, sizeof(err)) < 0)
		dlpkey_die("%s (the keystore is unchanged)", err);
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

/* dlpkey_time - a certificate time as text */
static void dlpkey_time(const ASN1_TIME *t, char *buf, size_t len)
{
	BIO    *b = BIO_new(BIO_s_mem());
	int     n;

	ASN1_TIME_print(b, t);
	n = BIO_read(b, buf, (int) len - 1);
	buf[n > 0 ? n : 0] = 0;
	BIO_free(b);
}

/* dlpkey_days_left - days until notAfter (negative when expired) */
static int dlpkey_days_left(X509 *x)
{
	int     days = 0, secs = 0;

	ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x));
	return days < 0 || secs < 0 ? (days < 0 ? days : -1) : days;
}

/* dlpkey_print_cert - subject, issuer, dates, fingerprint */
static void dlpkey_print_cert(X509 *x, const char *indent)
{
	char    buf[512], fp[128];
	int     days = dlpkey_days_left(x);

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
	char    pass[KS_PASS_MAX], fp[128];

	dlpkey_load(o, &ks, pass, sizeof(pass));
	printf("Keystore: %s\nKeystore type: PKCS12\n\nYour keystore contains %zu entr%s\n\n",
	       dlpkey_path, ks.n, ks.n == 1 ? "y" : "ies");
	for (size_t i = 0; i < ks.n; i++) {
		struct ks_entry *e = &ks.e[i];
		X509   *leaf = sk_X509_value(e->chain, 0);
		int     days = dlpkey_days_left(leaf);

		if (o->alias && strcasecmp(o->alias, e->alias) != 0)
			continue;
		if (!o->verbose) {
			ks_fingerprint(leaf, fp, sizeof(fp));
			printf("%s, %s,\nCertificate fingerprint (SHA-256): %s\n", e->alias,
			       e->type == KS_KEY ? "PrivateKeyEntry" : "trustedCertEntry", fp);
			if (days < 30)
				printf("WARNING: %s %s\n", e->alias, days < 0 ? "has EXPIRED"
				       : "expires within 30 days");
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
	struct keystore ks = {NULL, 0};
	char    pass[KS_PASS_MAX], alias[KS_ALIAS_MAX], err[512];
	struct ks_entry *e;
	EVP_PKEY *key;
	X509   *x;

	dlpkey_need_alias(o, alias, sizeof(alias));
	if (o->dname == NULL)
		dlpkey_die("-dname is required, e.g. -dname \"CN=mail.example.com, O=Example\"");
	if (access(dlpkey_path, F_OK) == 0) {
		dlpkey_load(o, &ks, pass, sizeof(pass));
	} else {
		dlpkey_password(o, pass, sizeof(pass));
		printf("creating the keystore %s\n", dlpkey_path);
	}
	if (ks_find(&ks, alias))
		dlpkey_die("alias <%s> already exists", alias);
	if ((key = ks_generate_key(o->keyalg ? o->keyalg : "RSA", o->keysize, err,
				   sizeof(err))) == NULL
	    || (x = ks_self_signed(key, o->dname, o->validity ? o->validity : 90, err,
				   sizeof(err))) == NULL)
		dlpkey_die("%s", err);
	e = ks_add(&ks, alias, KS_KEY);
	e->key = key;
	sk_X509_push(e->chain, x);
	dlpkey_save(&ks, pass);
	printf("Generated %s %d-bit key pair and a self-signed certificate for %s, "
	       "valid %d days, alias %s\n", EVP_PKEY_is_a(key, "EC") ? "EC" : "RSA",
	       EVP_PKEY_get_bits(key), o->dname, o->validity ? o->validity : 90, alias);
	ks_free(&ks);
	return 0;
}

/* dlpkey_exportcert - the certificate of an alias, PEM */
static int dlpkey_exportcert(const struct dlpkey_opts *o)
{
	struct keystore ks;
	struct ks_entry *e;
	char    pass[KS_PASS_MAX], alias[KS_ALIAS_MAX];
	FILE   *fp = stdout;

	dlpkey_need_alias(o, alias, sizeof(alias));
	dlpkey_load(o, &ks, pass, sizeof(pass));
	if ((e = ks_find(&ks, alias)) == NULL)
		dlpkey_die("alias <%s> does not exist", alias);
	if (o->file && (fp = fopen(o->file, "w")) == NULL)
		dlpkey_die("cannot create %s: %s", o->file, strerror(errno));
	PEM_write_X509(fp, sk_X509_value(e->chain, 0));
	if (o->file && fclose(fp) != 0)
		dlpkey_die("cannot write %s: %s", o->file, strerror(errno));
	if (o->file)
		fprintf(stderr, "Certificate stored in file <%s>\n", o->file);
	ks_free(&ks);
	return 0;
}

/* dlpkey_read_certs - every certificate of a PEM or DER file */
static STACK_OF(X509) *dlpkey_read_certs(const char *path)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO    *b = BIO_new_file(path, "r");
	X509   *x;

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
	BIO_free(b);
	if (sk_X509_num(sk) == 0)
		dlpkey_die("%s is not an X.509 certificate (PEM or DER)", path);
	return sk;
}

/* dlpkey_chain_check - each certificate issued by the next one */
static int dlpkey_chain_check(STACK_OF(X509) *chain, int verbose, const char *who)
{
	int     bad = 0;

	for (int i = 0; i + 1 < sk_X509_num(chain); i++) {
		if (X509_check_issued(sk_X509_value(chain, i + 1), sk_X509_value(chain, i))
		    != X509_V_OK) {
			printf("%s: certificate %d is not issued by certificate %d: "
			       "chain out of order or incomplete\n", who, i + 1, i + 2);
			bad = 1;
		}
	}
	if (!bad && verbose)
		printf("%s: chain of %d in order\n", who, sk_X509_num(chain));
	return bad;
}

/* dlpkey_verify_chain - -trustcacerts: the chain verifies to a root */
static void dlpkey_verify_chain(STACK_OF(X509) *certs)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509   *top = sk_X509_value(certs, sk_X509_num(certs) - 1);
	int     ok;

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

/* dlpkey_importcert - a trusted certificate, or a CA reply for a key */
static int dlpkey_importcert(const struct dlpkey_opts *o)
{
	struct keystore ks;
	struct ks_entry *e;
	char    pass[KS_PASS_MAX], alias[KS_ALIAS_MAX], fp[128];
	STACK_OF(X509) *certs;
	X509   *first;

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
		if (!ks_key_matches(e->key, first))
			dlpkey_die("the certificate in %s does not belong to the key of <%s>",
				   o->file, alias);
		if (dlpkey_chain_check(certs, 0, o->file))
			dlpkey_die("put the chain in order: the key's certificate first, "
				   "then each issuer");
		sk_X509_pop_free(e->chain, X509_free);
		e->chain = certs;
		dlpkey_save(&ks, pass);
		printf("Certificate reply was installed in keystore (alias %s, chain of %d)\n",
		       alias, sk_X509_num(certs));
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
	dlpkey_save(&ks, pass);
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
	char    pass[KS_PASS_MAX], alias[KS_ALIAS_MAX];

	dlpkey_need_alias(o, alias, sizeof(alias));
	dlpkey_load(o, &ks, pass, sizeof(pass));
	if ((e = ks_find(&ks, alias)) == NULL)
		dlpkey_die("alias <%s> does not exist", alias);
	ks_delete(&ks, e);
	dlpkey_save(&ks, pass);
	printf("Deleted <%s>\n", alias);
	ks_free(&ks);
	return 0;
}

/* dlpkey_storepasswd - a new store (and key) password */
static int dlpkey_storepasswd(const struct dlpkey_opts *o)
{
	struct keystore ks;
	char    pass[KS_PASS_MAX], err[512];
	uid_t   uid;
	gid_t   gid;

	if (o->newpass == NULL || strlen(o->newpass) < 6 || strlen(o->newpass) >= KS_PASS_MAX
	    || strpbrk(o->newpass, "\r\n"))
		dlpkey_die("-new needs a password of at least 6 characters, one line");
	dlpkey_load(o, &ks, pass, sizeof(pass));
	dlpkey_save(&ks, o->newpass);
	if (o->storepass == NULL) {
		dlpkey_owner(&uid, &gid);
		if (ks_write_password(dlpkey_pass_path, o->newpass, uid, gid, err, sizeof(err)) < 0)
			dlpkey_die("the keystore has the new password but %s could not be "
				   "updated: %s", dlpkey_pass_path, err);
		printf("Keystore password changed; %s updated\n", dlpkey_pass_path);
	} else {
		printf("Keystore password changed; put it in %s for tlsmgr\n", dlpkey_pass_path);
	}
	ks_free(&ks);
	return 0;
}

/* dlpkey_check - key/certificate match, chain order, expiry */
static int dlpkey_check(const struct dlpkey_opts *o)
{
	struct keystore ks;
	char    pass[KS_PASS_MAX];
	int     bad = 0, keys = 0;

	dlpkey_load(o, &ks, pass, sizeof(pass));
	for (size_t i = 0; i < ks.n; i++) {
		struct ks_entry *e = &ks.e[i];

		if (e->type == KS_KEY) {
			keys++;
			if (!ks_key_matches(e->key, sk_X509_value(e->chain, 0))) {
				printf("%s: the private key does NOT match its certificate\n", e->alias);
				bad = 1;
			} else {
				printf("%s: the private key matches its certificate\n", e->alias);
			}
			bad |= dlpkey_chain_check(e->chain, 1, e->alias);
		}
		for (int j = 0; j < sk_X509_num(e->chain); j++) {
			int     days = dlpkey_days_left(sk_X509_value(e->chain, j));

			if (days < 0) {
				printf("%s: certificate %d has EXPIRED\n", e->alias, j + 1);
				bad = 1;
			} else if (days < 30) {
				printf("%s: certificate %d expires in %d days\n", e->alias, j + 1, days);
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

/* dlpkey_smtp_reply - one SMTP reply from a blocking socket; its code */
static int dlpkey_smtp_reply(int fd, char *last, size_t len)
{
	char    line[1024];
	size_t  n = 0;

	for (;;) {
		char    ch;
		struct pollfd pfd = {.fd = fd,.events = POLLIN};

		if (poll(&pfd, 1, 30000) <= 0 || read(fd, &ch, 1) != 1)
			return -1;
		if (ch != '\n') {
			if (n < sizeof(line) - 1)
				line[n++] = ch;
			continue;
		}
		line[n] = 0;
		if (n && line[n - 1] == '\r')
			line[--n] = 0;
		if (n < 3)
			return -1;
		if (n == 3 || line[3] == ' ') {
			strlcpy(last, line, len);
			return atoi(line);
		}
		n = 0;
	}
}

/* dlpkey_tlsverify - connect, STARTTLS, verify as dlpgate would */
static int dlpkey_tlsverify(const struct dlpkey_opts *o)
{
	struct keystore ks;
	char    pass[KS_PASS_MAX], host[256], port[32], last[1024], err[256], addr[INET_ADDRSTR];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	SSL_CTX *ctx;
	SSL    *ssl;
	X509_STORE *store;
	long    vr;
	int     fd, ntrust = 0, name_ok;

	if (o->nargs != 2)
		dlpkey_die("usage: dlpkey tlsverify DOMAIN HOST[:PORT]");
	if (inet_split_hostport(o->args[1], host, sizeof(host), port, sizeof(port), "25") < 0)
		dlpkey_die("bad host \"%s\"", o->args[1]);
	dlpkey_load(o, &ks, pass, sizeof(pass));
	if (getaddrinfo(host, port, &hints, &res) != 0)
		dlpkey_die("cannot resolve %s", host);
	inet_addr_str(res->ai_addr, addr, sizeof(addr));
	printf("Connecting to %s.\n", addr);
	if ((fd = inet_connect(res->ai_addr, res->ai_addrlen, 30, NULL, err, sizeof(err))) < 0) {
		printf("Failed to connect: %s\nTLS verification FAILED.\n", err);
		return 1;
	}
	freeaddrinfo(res);
	{
		int     fl = fcntl(fd, F_GETFL);

		(void) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	if (dlpkey_smtp_reply(fd, last, sizeof(last)) != 220) {
		printf("No SMTP banner\nTLS verification FAILED.\n");
		return 1;
	}
	printf("Connected: %s\nChecking TLS connection.\n", last);
	dprintf(fd, "EHLO dlpkey.tlsverify\r\n");
	if (dlpkey_smtp_reply(fd, last, sizeof(last)) != 250) {
		printf("EHLO refused: %s\nTLS verification FAILED.\n", last);
		return 1;
	}
	dprintf(fd, "STARTTLS\r\n");
	if (dlpkey_smtp_reply(fd, last, sizeof(last)) != 220) {
		printf("STARTTLS not supported: %s\nTLS was required but could not be "
		       "negotiated.\nTLS verification FAILED.\n", last);
		return 1;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	store = SSL_CTX_get_cert_store(ctx);
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	for (size_t i = 0; i < ks.n; i++)
		if (ks.e[i].type == KS_TRUSTED && ++ntrust)
			X509_STORE_add_cert(store, sk_X509_value(ks.e[i].chain, 0));
	if (var_tls_use_system_ca)
		X509_STORE_set_default_paths(store);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, o->args[0]);
	if (SSL_connect(ssl) != 1) {
		unsigned long e = ERR_peek_error();

		printf("TLS handshake failed: %s\nTLS verification FAILED.\n",
		       e ? ERR_reason_error_string(e) : "connection closed");
		return 1;
	}
	printf("TLS connection established: protocol %s, cipher %s.\n",
	       SSL_get_version(ssl), SSL_get_cipher_name(ssl));
	{
		STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);

		for (int i = 0; chain && i < sk_X509_num(chain); i++) {
			char    s[512], is[512];

			X509_NAME_oneline(X509_get_subject_name(sk_X509_value(chain, i)), s, sizeof(s));
			X509_NAME_oneline(X509_get_issuer_name(sk_X509_value(chain, i)), is, sizeof(is));
			printf("  chain[%d]: %s\n            issued by %s\n", i, s, is);
		}
	}
	vr = SSL_get_verify_result(ssl);
	printf("Verifying peer certificate against %d trusted keystore certificate%s%s.\n",
	       ntrust, ntrust == 1 ? "" : "s", var_tls_use_system_ca ? " and the system CAs" : "");
	name_ok = SSL_get0_peer_certificate(ssl)
		&& X509_check_host(SSL_get0_peer_certificate(ssl), o->args[0], 0, 0, NULL) == 1;
	printf("TLS certificate %s.\n", vr == X509_V_OK ? "verified"
	       : X509_verify_cert_error_string(vr));
	printf("TLS certificate name %s %s.\n", name_ok ? "matches" : "does NOT match",
	       o->args[0]);
	printf("Verdict: outbound_tls=encrypt ok, verify %s, secure %s\n",
	       vr == X509_V_OK ? "ok" : "FAILS", vr == X509_V_OK && name_ok ? "ok" : "FAILS");
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	ks_free(&ks);
	printf("TLS verification %s.\n", vr == X509_V_OK && name_ok ? "completed" : "FAILED");
	return vr == X509_V_OK && name_ok ? 0 : 1;
}

/* dlpkey_parse - keytool-style options after the command */
static void dlpkey_parse(int argc, char **argv, struct dlpkey_opts *o)
{
	o->args = xcalloc((size_t) argc + 1, sizeof(char *));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

#define TAKE(name, field) if (strcmp(a, name) == 0) { if (!v) dlpkey_usage(); field = v; i++; continue; }
		TAKE("-alias", o->alias);
		TAKE("-dname", o->dname);
		TAKE("-keyalg", o->keyalg);
		TAKE("-file", o->file);
		TAKE("-storepass", o->storepass);
		TAKE("-new", o->newpass);
#undef TAKE
		if (strcmp(a, "-keystore") == 0 && v) {
			i++;			/* main() took it */
		} else if (strcmp(a, "-keysize") == 0 && v) {
			o->keysize = atoi(v);
			i++;
		} else if (strcmp(a, "-validity") == 0 && v) {
			o->validity = atoi(v);
			i++;
		} else if (strcmp(a, "-storepass:file") == 0 && v) {
			static char pass[KS_PASS_MAX];
			char    err[512];

			if (ks_read_password(v, pass, sizeof(pass), err, sizeof(err)) < 0)
				dlpkey_die("%s", err);
			o->storepass = pass;
			i++;
		} else if ((strcmp(a, "-storetype") == 0 || strcmp(a, "-keypass") == 0) && v) {
			i++;			/* PKCS12; the key password is the store's */
		} else if (strcmp(a, "-v") == 0) {
			o->verbose = 1;
		} else if (strcmp(a, "-trustcacerts") == 0 || strcmp(a, "-noprompt") == 0) {
			o->trustcacerts |= strcmp(a, "-trustcacerts") == 0;
		} else if (*a == '-') {
			dlpkey_die("unknown option %s", a);
		} else {
			o->args[o->nargs++] = argv[i];
		}
	}
}

int     main(int argc, char **argv)
{
	struct dlpkey_opts o;
	const char *confdir = DLP_SYSCONFDIR, *cmd, *keystore = NULL;
	char    err[CONF_ERR_MAX];
	int     i = 1;

	msg_open("dlpkey", MSG_TO_STDERR, LOG_MAIL);
	memset(&o, 0, sizeof(o));
	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		confdir = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		dlpkey_usage();
	cmd = argv[i++];
	for (int j = i; j + 1 < argc; j++)
		if (strcmp(argv[j], "-keystore") == 0)
			keystore = argv[j + 1];
	if (conf_load(confdir, NULL, 0, err, sizeof(err)) < 0)
		dlpkey_die("%s", err);
	ks_paths(dlpkey_path, sizeof(dlpkey_path), dlpkey_pass_path, sizeof(dlpkey_pass_path));
	if (keystore)
		strlcpy(dlpkey_path, keystore, sizeof(dlpkey_path));
	dlpkey_parse(argc - i, argv + i, &o);
	umask(077);
	if (strcmp(cmd, "genkeypair") == 0 || strcmp(cmd, "-genkeypair") == 0)
		return dlpkey_genkeypair(&o);
	if (strcmp(cmd, "list") == 0 || strcmp(cmd, "-list") == 0)
		return dlpkey_list(&o);
	if (strcmp(cmd, "exportcert") == 0 || strcmp(cmd, "-exportcert") == 0)
		return dlpkey_exportcert(&o);
	if (strcmp(cmd, "importcert") == 0 || strcmp(cmd, "-importcert") == 0)
		return dlpkey_importcert(&o);
	if (strcmp(cmd, "delete") == 0 || strcmp(cmd, "-delete") == 0)
		return dlpkey_delete(&o);
	if (strcmp(cmd, "storepasswd") == 0 || strcmp(cmd, "-storepasswd") == 0)
		return dlpkey_storepasswd(&o);
	if (strcmp(cmd, "check") == 0)
		return dlpkey_check(&o);
	if (strcmp(cmd, "tlsverify") == 0)
		return dlpkey_tlsverify(&o);
	dlpkey_usage();
}
