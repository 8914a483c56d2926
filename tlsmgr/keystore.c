/*
 * keystore - dlpgate's PKCS#12 keystore, in the form Java's keytool uses
 *
 * See keystore.h. Loading walks the safe bags itself (PKCS12_parse would
 * merge every key and certificate and lose the aliases): private key
 * bags and certificate bags are paired by localKeyID, a key's chain is
 * rebuilt from the other certificates by issuer, and certificate bags
 * with Oracle's trusted key usage attribute are the trusted entries.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "conf_params.h"
#include "file_replace.h"
#include "mem.h"
#include "msg.h"
#include "keystore.h"

/* Oracle's trustedKeyUsage attribute (keytool's trustedCertEntry). */
#define KS_ORACLE_TRUST_OID "2.16.840.1.113894.746875.1.1"
#define KS_CHAIN_MAX        10
#define KS_FILE_MAX         (8 * 1024 * 1024)

/* ks_openssl_error - "what: the OpenSSL reason" */
void ks_openssl_error(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256];

	if (e) {
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(err, errlen, "%s: %s", what,
			 ERR_reason_error_string(e) ? ERR_reason_error_string(e) : buf);
	} else {
		snprintf(err, errlen, "%s", what);
	}
	ERR_clear_error();
}

/* ks_trust_nid - the NID of Oracle's trusted key usage attribute */
static int ks_trust_nid(void)
{
	int nid = OBJ_txt2nid(KS_ORACLE_TRUST_OID);

	if (nid == NID_undef)
		nid = OBJ_create(KS_ORACLE_TRUST_OID, "oracle-jdk-trustedkeyusage",
				 "Trusted key usage (Oracle)");
	return nid;
}

/* ks_alias_ok - check and lower-case an alias as keytool does */
int ks_alias_ok(const char *alias, char *norm, size_t normlen)
{
	size_t i;

	if (*alias == 0 || strlen(alias) >= normlen || strlen(alias) >= KS_ALIAS_MAX)
		return 0;
	for (i = 0; alias[i]; i++) {
		unsigned char c = (unsigned char) alias[i];

		if (c < 0x20 || c == 0x7f)
			return 0;
		norm[i] = (char) tolower(c);
	}
	norm[i] = 0;
	return 1;
}

/* ks_free - release every entry */
void ks_free(struct keystore *ks)
{
	for (size_t i = 0; i < ks->n; i++) {
		free(ks->e[i].alias);
		EVP_PKEY_free(ks->e[i].key);
		sk_X509_pop_free(ks->e[i].chain, X509_free);
	}
	free(ks->e);
	ks->e = NULL;
	ks->n = 0;
}

/* ks_find - the entry of an alias (any case), or NULL */
struct ks_entry *ks_find(struct keystore *ks, const char *alias)
{
	for (size_t i = 0; i < ks->n; i++)
		if (strcasecmp(ks->e[i].alias, alias) == 0)
			return &ks->e[i];
	return NULL;
}

/* ks_add - a new empty entry (the caller checked the alias is free) */
struct ks_entry *ks_add(struct keystore *ks, const char *alias, enum ks_type type)
{
	struct ks_entry *e;
	char norm[KS_ALIAS_MAX];

	if (!ks_alias_ok(alias, norm, sizeof(norm)))
		msg_panic("ks_add: bad alias");
	ks->e = xrealloc(ks->e, (ks->n + 1) * sizeof(*ks->e));
	e = &ks->e[ks->n++];
	memset(e, 0, sizeof(*e));
	e->alias = xstrdup(norm);
	e->type = type;
	e->chain = sk_X509_new_null();
	return e;
}

/* ks_delete - remove an entry */
void ks_delete(struct keystore *ks, struct ks_entry *e)
{
	size_t i = (size_t) (e - ks->e);

	free(e->alias);
	EVP_PKEY_free(e->key);
	sk_X509_pop_free(e->chain, X509_free);
	memmove(&ks->e[i], &ks->e[i + 1], (ks->n - i - 1) * sizeof(*e));
	ks->n--;
}

/* One bag as found in the file, before pairing. */
struct ks_bag {
	char *name; /* friendlyName */
	unsigned char keyid[64];
	int keyid_len;
	int trusted;
	int used;
	EVP_PKEY *key;
	X509 *cert;
};

struct ks_bags {
	struct ks_bag *b;
	size_t n;
};

/* ks_bag_attrs - friendlyName, localKeyID and trust of a safe bag */
static void ks_bag_attrs(PKCS12_SAFEBAG *bag, struct ks_bag *out)
{
	const ASN1_TYPE *id = PKCS12_SAFEBAG_get0_attr(bag, NID_localKeyID);
	char *name = PKCS12_get_friendlyname(bag);

	if (name) {
		out->name = xstrdup(name);
		OPENSSL_free(name);
	}
	if (id && id->type == V_ASN1_OCTET_STRING
	    && id->value.octet_string->length <= (int) sizeof(out->keyid)) {
		out->keyid_len = id->value.octet_string->length;
		memcpy(out->keyid, id->value.octet_string->data, (size_t) out->keyid_len);
	}
	out->trusted = PKCS12_SAFEBAG_get0_attr(bag, ks_trust_nid()) != NULL;
}

/* ks_collect - every key and certificate bag of one safe */
static int ks_collect(const STACK_OF(PKCS12_SAFEBAG) * bags, const char *pass,
		      struct ks_bags *out, char *err, size_t errlen)
{
	for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); i++) {
		PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);
		struct ks_bag b;

		memset(&b, 0, sizeof(b));
		switch (PKCS12_SAFEBAG_get_nid(bag)) {
		case NID_pkcs8ShroudedKeyBag: {
			PKCS8_PRIV_KEY_INFO *p8 = PKCS12_decrypt_skey(bag, pass, -1);

			if (p8 == NULL) {
				ks_openssl_error(
					err, errlen,
					"cannot decrypt a private key "
					"(the key password must be the store password)");
				return -1;
			}
			b.key = EVP_PKCS82PKEY(p8);
			PKCS8_PRIV_KEY_INFO_free(p8);
			break;
		}
		case NID_keyBag:
			b.key = EVP_PKCS82PKEY(PKCS12_SAFEBAG_get0_p8inf(bag));
			break;
		case NID_certBag:
			if (PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate)
				continue;
			b.cert = PKCS12_SAFEBAG_get1_cert(bag);
			break;
		default:
			continue;
		}
		if (b.key == NULL && b.cert == NULL) {
			ks_openssl_error(err, errlen, "unreadable entry");
			return -1;
		}
		ks_bag_attrs(bag, &b);
		if (out->n >= 10000) {
			snprintf(err, errlen, "too many entries");
			return -1;
		}
		out->b = xrealloc(out->b, (out->n + 1) * sizeof(*out->b));
		out->b[out->n++] = b;
	}
	return 0;
}

/* ks_build_chain - leaf, then issuers found among the certificates */
static void ks_build_chain(struct ks_entry *e, X509 *leaf, struct ks_bags *bags)
{
	X509 *cur = leaf;

	X509_up_ref(leaf);
	sk_X509_push(e->chain, leaf);
	while (sk_X509_num(e->chain) < KS_CHAIN_MAX
	       && X509_check_issued(cur, cur) != X509_V_OK) {
		X509 *next = NULL;

		for (size_t i = 0; i < bags->n && next == NULL; i++) {
			X509 *c = bags->b[i].cert;

			if (c && c != cur && !bags->b[i].trusted && bags->b[i].keyid_len == 0
			    && X509_check_issued(c, cur) == X509_V_OK)
				next = c;
		}
		if (next == NULL)
			break;
		for (int i = 0; i < sk_X509_num(e->chain); i++)
			if (X509_cmp(sk_X509_value(e->chain, i), next) == 0)
				return; /* a loop */
		X509_up_ref(next);
		sk_X509_push(e->chain, next);
		cur = next;
	}
}

/* ks_pair - keys with their certificates, and the trusted certificates */
static int ks_pair(struct keystore *ks, struct ks_bags *bags, char *err, size_t errlen)
{
	for (size_t i = 0; i < bags->n; i++) {
		struct ks_bag *k = &bags->b[i];
		struct ks_bag *leaf = NULL;
		const char *alias;
		char norm[KS_ALIAS_MAX];
		struct ks_entry *e;

		if (k->key == NULL)
			continue;
		for (size_t j = 0; j < bags->n && leaf == NULL; j++)
			if (bags->b[j].cert && k->keyid_len > 0
			    && bags->b[j].keyid_len == k->keyid_len
			    && memcmp(bags->b[j].keyid, k->keyid, (size_t) k->keyid_len) == 0)
				leaf = &bags->b[j];
		if (leaf == NULL) {
			snprintf(err, errlen, "private key \"%s\" has no certificate",
				 k->name ? k->name : "(no alias)");
			return -1;
		}
		leaf->used = 1;
		alias = k->name ? k->name : leaf->name ? leaf->name : "mykey";
		if (!ks_alias_ok(alias, norm, sizeof(norm)) || ks_find(ks, norm)) {
			snprintf(err, errlen, "bad or duplicate alias \"%.60s\"", alias);
			return -1;
		}
		e = ks_add(ks, norm, KS_KEY);
		e->key = k->key;
		k->key = NULL;
		ks_build_chain(e, leaf->cert, bags);
	}
	for (size_t i = 0; i < bags->n; i++) {
		struct ks_bag *c = &bags->b[i];
		char norm[KS_ALIAS_MAX];
		struct ks_entry *e;

		if (c->cert == NULL || !c->trusted || c->used)
			continue;
		if (!ks_alias_ok(c->name ? c->name : "", norm, sizeof(norm))
		    || ks_find(ks, norm)) {
			snprintf(err, errlen,
				 "trusted certificate with a bad or duplicate alias");
			return -1;
		}
		e = ks_add(ks, norm, KS_TRUSTED);
		X509_up_ref(c->cert);
		sk_X509_push(e->chain, c->cert);
	}
	return 0;
}

/* ks_bags_free - release what ks_collect found */
static void ks_bags_free(struct ks_bags *bags)
{
	for (size_t i = 0; i < bags->n; i++) {
		free(bags->b[i].name);
		EVP_PKEY_free(bags->b[i].key);
		X509_free(bags->b[i].cert);
	}
	free(bags->b);
}

/* ks_read_file - a whole (bounded) file */
static unsigned char *ks_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned char *data;
	size_t got = 0;

	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > KS_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most %d bytes", path,
			 KS_FILE_MAX);
		close(fd);
		return NULL;
	}
	data = xmalloc((size_t) st.st_size + 1);
	while (got < (size_t) st.st_size) {
		ssize_t n = read(fd, data + got, (size_t) st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t) n;
	}
	close(fd);
	if (got != (size_t) st.st_size) {
		snprintf(err, errlen, "cannot read %s", path);
		free(data);
		return NULL;
	}
	*len = got;
	return data;
}

/* ks_foreign - a Java JKS/JCEKS keystore or a PEM file: what to do instead */
static int ks_foreign(const char *path, const unsigned char *data, size_t len, char *err,
		      size_t errlen)
{
	static const unsigned char jks[] = {0xfe, 0xed, 0xfe, 0xed};
	static const unsigned char jceks[] = {0xce, 0xce, 0xce, 0xce};
	int is_jks = len >= 4 && memcmp(data, jks, 4) == 0;

	if (is_jks || (len >= 4 && memcmp(data, jceks, 4) == 0)) {
		const char *dot = strrchr(path, '.');
		int stem = dot && dot > path && strchr(dot, '/') == NULL ? (int) (dot - path)
									 : (int) strlen(path);

		snprintf(err, errlen,
			 "%s is a Java %s keystore, not PKCS#12; convert it "
			 "with: keytool -importkeystore -srckeystore %s -srcstoretype %s "
			 "-destkeystore %.*s.p12 -deststoretype pkcs12 (then use %.*s.p12)",
			 path, is_jks ? "JKS" : "JCEKS", path, is_jks ? "JKS" : "JCEKS", stem,
			 path, stem, path);
		return -1;
	}
	if (len >= 11 && memmem(data, len < 4096 ? len : 4096, "-----BEGIN ", 11)) {
		snprintf(err, errlen,
			 "%s is a PEM file, not a PKCS#12 keystore; import a "
			 "key and its chain with: dlpkey importkey -alias dlpgate -keyfile "
			 "KEY.pem -file CHAIN.pem",
			 path);
		return -1;
	}
	return 0;
}

/* ks_load - open a keystore with its password */
int ks_load(const char *path, const char *pass, struct keystore *ks, char *err, size_t errlen)
{
	unsigned char *data;
	const unsigned char *p;
	size_t len;
	PKCS12 *p12;
	STACK_OF(PKCS7) * safes;
	struct ks_bags bags = {NULL, 0};
	int rc = -1;

	memset(ks, 0, sizeof(*ks));
	if ((data = ks_read_file(path, &len, err, errlen)) == NULL)
		return -1;
	if (ks_foreign(path, data, len, err, errlen) < 0) {
		free(data);
		return -1;
	}
	p = data;
	p12 = d2i_PKCS12(NULL, &p, (long) len);
	free(data);
	if (p12 == NULL) {
		snprintf(err, errlen, "%s is not a PKCS#12 keystore", path);
		ERR_clear_error();
		return -1;
	}
	if (!PKCS12_mac_present(p12) || !PKCS12_verify_mac(p12, pass, -1)) {
		snprintf(err, errlen,
			 "%s: wrong keystore password (or the file is "
			 "damaged)",
			 path);
		ERR_clear_error();
		PKCS12_free(p12);
		return -1;
	}
	if ((safes = PKCS12_unpack_authsafes(p12)) == NULL) {
		ks_openssl_error(err, errlen, "cannot read the keystore contents");
		PKCS12_free(p12);
		return -1;
	}
	for (int i = 0; i < sk_PKCS7_num(safes); i++) {
		PKCS7 *p7 = sk_PKCS7_value(safes, i);
		STACK_OF(PKCS12_SAFEBAG) *sb = NULL;
		int nid = OBJ_obj2nid(p7->type);

		if (nid == NID_pkcs7_data)
			sb = PKCS12_unpack_p7data(p7);
		else if (nid == NID_pkcs7_encrypted)
			sb = PKCS12_unpack_p7encdata(p7, pass, -1);
		else
			continue;
		if (sb == NULL) {
			ks_openssl_error(err, errlen, "cannot decrypt the keystore contents");
			goto out;
		}
		rc = ks_collect(sb, pass, &bags, err, errlen);
		sk_PKCS12_SAFEBAG_pop_free(sb, PKCS12_SAFEBAG_free);
		if (rc < 0)
			goto out;
		rc = -1;
	}
	if (ks_pair(ks, &bags, err, errlen) == 0)
		rc = 0;
out:
	ks_bags_free(&bags);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	PKCS12_free(p12);
	if (rc < 0)
		ks_free(ks);
	return rc;
}

/* ks_bag_name - friendlyName and, when given, localKeyID on a bag */
static int ks_bag_name(PKCS12_SAFEBAG *bag, const char *alias, const unsigned char *keyid,
		       int keyid_len)
{
	return bag && PKCS12_add_friendlyname_utf8(bag, alias, -1)
		&& (keyid == NULL
		    || PKCS12_add_localkeyid(bag, (unsigned char *) keyid, keyid_len));
}

/* ks_build - the PKCS12 structure of a keystore */
static PKCS12 *ks_build(const struct keystore *ks, const char *pass, char *err, size_t errlen)
{
	STACK_OF(PKCS12_SAFEBAG) *certs = NULL, *keys = NULL;
	STACK_OF(PKCS7) *safes = NULL;
	PKCS12 *p12 = NULL;
	int trust_nid = ks_trust_nid();
	ASN1_OBJECT *any_eku = OBJ_txt2obj("2.5.29.37.0", 1);

	for (size_t i = 0; i < ks->n; i++) {
		const struct ks_entry *e = &ks->e[i];
		X509 *leaf = sk_X509_value(e->chain, 0);
		unsigned char keyid[EVP_MAX_MD_SIZE];
		unsigned idlen = 0;
		PKCS12_SAFEBAG *bag;

		if (e->type == KS_TRUSTED) {
			bag = PKCS12_add_cert(&certs, leaf);
			if (!ks_bag_name(bag, e->alias, NULL, 0)
			    || !PKCS12_add1_attr_by_NID(bag, trust_nid, V_ASN1_OBJECT,
							(const unsigned char *) any_eku, -1))
				goto fail;
			continue;
		}
		X509_digest(leaf, EVP_sha1(), keyid, &idlen);
		bag = PKCS12_add_cert(&certs, leaf);
		if (!ks_bag_name(bag, e->alias, keyid, (int) idlen))
			goto fail;
		for (int j = 1; j < sk_X509_num(e->chain); j++)
			if (PKCS12_add_cert(&certs, sk_X509_value(e->chain, j)) == NULL)
				goto fail;
		bag = PKCS12_add_key(&keys, e->key, 0, KS_ITER, NID_aes_256_cbc, pass);
		if (!ks_bag_name(bag, e->alias, keyid, (int) idlen))
			goto fail;
	}
	if ((certs && !PKCS12_add_safe(&safes, certs, NID_aes_256_cbc, KS_ITER, pass))
	    || (keys && !PKCS12_add_safe(&safes, keys, -1, 0, NULL)))
		goto fail;
	if (safes == NULL && (safes = sk_PKCS7_new_null()) == NULL)
		goto fail;
	if ((p12 = PKCS12_add_safes(safes, 0)) == NULL
	    || !PKCS12_set_mac(p12, pass, -1, NULL, 0, KS_ITER, EVP_sha256())) {
		PKCS12_free(p12);
		p12 = NULL;
		goto fail;
	}
	goto done;
fail:
	ks_openssl_error(err, errlen, "cannot build the keystore");
done:
	ASN1_OBJECT_free(any_eku);
	sk_PKCS12_SAFEBAG_pop_free(certs, PKCS12_SAFEBAG_free);
	sk_PKCS12_SAFEBAG_pop_free(keys, PKCS12_SAFEBAG_free);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	return p12;
}

/* ks_save - write the keystore atomically (see keystore.h) */
int ks_save(const struct keystore *ks, const char *path, const char *pass, uid_t uid, gid_t gid,
	    char *err, size_t errlen)
{
	PKCS12 *p12 = ks_build(ks, pass, err, errlen);
	unsigned char *der = NULL;
	int len, rc;

	if (p12 == NULL)
		return -1;
	len = i2d_PKCS12(p12, &der);
	PKCS12_free(p12);
	if (len <= 0) {
		ks_openssl_error(err, errlen, "cannot encode the keystore");
		return -1;
	}
	rc = file_replace(path, der, (size_t) len, 0600, uid, gid, err, errlen);
	OPENSSL_free(der);
	return rc;
}

/* ks_read_password - the first line of the password file */
int ks_read_password(const char *path, char *pass, size_t len, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "re");

	if (fp == NULL) {
		snprintf(err, errlen, "cannot open keystore_password_file %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (fgets(pass, (int) len, fp) == NULL)
		*pass = 0;
	/* a line that does not fit is refused, never cut short */
	if (strchr(pass, '\n') == NULL && strlen(pass) == len - 1 && fgetc(fp) != EOF) {
		fclose(fp);
		OPENSSL_cleanse(pass, len);
		snprintf(err, errlen,
			 "keystore_password_file %s: password longer "
			 "than %zu characters",
			 path, len - 2);
		return -1;
	}
	fclose(fp);
	pass[strcspn(pass, "\r\n")] = 0;
	if (*pass == 0) {
		snprintf(err, errlen, "keystore_password_file %s is empty", path);
		return -1;
	}
	return 0;
}

/* ks_write_password - a password file, mode 0600 */
int ks_write_password(const char *path, const char *pass, uid_t uid, gid_t gid, char *err,
		      size_t errlen)
{
	char *text = xasprintf("%s\n", pass);
	int rc = file_replace(path, text, strlen(text), 0600, uid, gid, err, errlen);

	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return rc;
}

/* ks_generate_key - a new RSA or EC key pair */
EVP_PKEY *ks_generate_key(const char *alg, int bits, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;

	if (strcasecmp(alg, "RSA") == 0) {
		if (bits == 0)
			bits = 2048;
		if (bits < 2048 || bits > 8192) {
			snprintf(err, errlen, "RSA key size %d: use 2048 to 8192", bits);
			return NULL;
		}
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) bits);
	} else if (strcasecmp(alg, "EC") == 0) {
		const char *curve = bits == 0 || bits == 256 ? "P-256"
			: bits == 384                        ? "P-384"
			: bits == 521                        ? "P-521"
							     : NULL;

		if (curve == NULL) {
			snprintf(err, errlen, "EC key size %d: use 256, 384 or 521", bits);
			return NULL;
		}
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
	} else {
		snprintf(err, errlen, "key algorithm \"%s\": use RSA or EC", alg);
		return NULL;
	}
	if (key == NULL)
		ks_openssl_error(err, errlen, "key generation failed");
	return key;
}

/* ks_self_signed - a self-signed server certificate for a key */
X509 *ks_self_signed(EVP_PKEY *key, const char *dname, int days, char *err, size_t errlen)
{
	X509 *x = X509_new();
	X509_NAME *name = ks_dname_parse(dname, NULL, 0, err, errlen);
	BIGNUM *serial = BN_new();
	X509V3_CTX v3;
	char cn[256] = "";
	X509_EXTENSION *ext;

	if (name == NULL)
		goto fail;
	if (days < 1 || days > 36500) {
		snprintf(err, errlen, "-validity %d: use 1 to 36500 days", days);
		goto fail;
	}
	BN_rand(serial, 63, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY);
	X509_set_version(x, 2);
	BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x));
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof(cn));
	if (*cn && strchr(cn, ' ') == NULL) {
		char *san = xasprintf("DNS:%s", cn);

		if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san)) != NULL) {
			X509_add_ext(x, ext, -1);
			X509_EXTENSION_free(ext);
		}
		free(san);
		ERR_clear_error();
	}
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_key_identifier, "hash"))) {
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (!X509_sign(x, key, EVP_sha256())) {
		ks_openssl_error(err, errlen, "cannot sign the certificate");
		goto fail;
	}
	X509_NAME_free(name);
	BN_free(serial);
	return x;
fail:
	X509_NAME_free(name);
	BN_free(serial);
	X509_free(x);
	return NULL;
}

/* ks_key_matches - does the private key belong to the certificate? */
int ks_key_matches(EVP_PKEY *key, X509 *cert)
{
	int ok = X509_check_private_key(cert, key);

	ERR_clear_error();
	return ok == 1;
}

/* ks_fingerprint - SHA-256 fingerprint, AA:BB:... as keytool prints it */
void ks_fingerprint(X509 *x, char *buf, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	size_t used = 0;

	X509_digest(x, EVP_sha256(), md, &n);
	buf[0] = 0;
	for (unsigned i = 0; i < n && used + 4 < len; i++)
		used += (size_t) snprintf(buf + used, len - used, "%s%02X", i ? ":" : "",
					  md[i]);
}

/* ks_paths - the keystore and password file named by the settings */
void ks_paths(char *ks, size_t kslen, char *pw, size_t pwlen)
{
	const char *dir = conf_dir && *conf_dir ? conf_dir : ".";

	if (*var_keystore)
		snprintf(ks, kslen, "%s", var_keystore);
	else
		snprintf(ks, kslen, "%s/keystore.p12", dir);
	if (*var_keystore_password_file)
		snprintf(pw, pwlen, "%s", var_keystore_password_file);
	else
		snprintf(pw, pwlen, "%s/keystore.pass", dir);
}
