/*
 * tls_prov - the OpenSSL key provider stub: keys that live in tlsmgr
 *
 * See tls_prov.h. libssl signs a TLS 1.3 CertificateVerify or a TLS 1.2
 * ServerKeyExchange with EVP_DigestSign() on our key; our signature
 * implementation collects the to-be-signed bytes, names the TLS
 * SignatureScheme from the digest and padding libssl asked for, and asks
 * tlsmgr for the signature. Key-pair comparison (libssl checks that the
 * key matches the certificate) works on the public key alone.
 *
 * Everything the provider accepts is checked: a digest other than
 * SHA-256/384/512, a PSS salt other than the digest length, an MGF1 digest
 * other than the message digest, or input longer than a TLS handshake
 * signs refuse the operation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "mem.h"
#include "msg.h"
#include "tls_mgr.h"
#include "tls_prov.h"

#define TLS_PROV_NAME       "dlpgate-tlsmgr"
#define TLS_PROV_PROPS      "provider=dlpgate-tlsmgr"
#define TLS_PROV_PARAM_ID   "dlpgate-key-id"
#define TLS_PROV_PARAM_SPKI "dlpgate-spki"

/* A key: an id tlsmgr knows, and the public half. */
struct tls_prov_keydata {
	int is_ec;
	int remote; /* has a key id: can sign via tlsmgr */
	unsigned char key_id[TLSMGR_KEY_ID_LEN];
	EVP_PKEY *pub; /* default provider, public only */
};

/* A signature operation in progress. */
struct tls_prov_sigctx {
	struct tls_prov_keydata *key;
	int md_bits; /* 256, 384, 512 */
	int pss;
	int bad; /* a parameter we will not sign with */
	unsigned char tbs[TLSMGR_TBS_MAX];
	size_t tbslen;
	int overflow;
};

static OSSL_LIB_CTX *tls_prov_libctx;
static OSSL_PROVIDER *tls_prov_handle;

/* ---- key management ---------------------------------------------------- */

/* tls_prov_new_rsa - an empty RSA key */
static void *tls_prov_new_rsa(void *provctx)
{
	return xcalloc(1, sizeof(struct tls_prov_keydata));
}

/* tls_prov_new_ec - an empty EC key */
static void *tls_prov_new_ec(void *provctx)
{
	struct tls_prov_keydata *k = xcalloc(1, sizeof(*k));

	k->is_ec = 1;
	return k;
}

/* tls_prov_free - release a key (there is no secret to wipe) */
static void tls_prov_free(void *vkey)
{
	struct tls_prov_keydata *k = vkey;

	if (k) {
		EVP_PKEY_free(k->pub);
		free(k);
	}
}

/* tls_prov_has - which parts the key has; "private" means "tlsmgr signs" */
static int tls_prov_has(const void *vkey, int selection)
{
	const struct tls_prov_keydata *k = vkey;

	if (k == NULL || k->pub == NULL)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && !k->remote)
		return 0;
	return 1;
}

/* tls_prov_import - our key id + SPKI, or a plain public key to compare */
static int tls_prov_import(void *vkey, int selection, const OSSL_PARAM params[])
{
	struct tls_prov_keydata *k = vkey;
	const OSSL_PARAM *id = OSSL_PARAM_locate_const(params, TLS_PROV_PARAM_ID);
	const OSSL_PARAM *spki = OSSL_PARAM_locate_const(params, TLS_PROV_PARAM_SPKI);
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pub = NULL;

	if (k == NULL || k->pub != NULL)
		return 0;
	/* never private key material, whatever the caller offers */
	if (OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_D)
	    || OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_PRIV_KEY))
		return 0;
	if (id && spki) {
		const unsigned char *p = spki->data;

		if (id->data_type != OSSL_PARAM_OCTET_STRING
		    || spki->data_type != OSSL_PARAM_OCTET_STRING
		    || id->data_size != TLSMGR_KEY_ID_LEN || spki->data_size > 16384)
			return 0;
		pub = d2i_PUBKEY(NULL, &p, (long) spki->data_size);
		if (pub == NULL || p != (const unsigned char *) spki->data + spki->data_size
		    || !EVP_PKEY_is_a(pub, k->is_ec ? "EC" : "RSA")) {
			EVP_PKEY_free(pub);
			return 0;
		}
		memcpy(k->key_id, id->data, TLSMGR_KEY_ID_LEN);
		k->remote = 1;
		k->pub = pub;
		return 1;
	}
	if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) == 0)
		return 0;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, k->is_ec ? "EC" : "RSA", "provider=default");
	if (ctx == NULL)
		return 0;
	if (EVP_PKEY_fromdata_init(ctx) <= 0
	    || EVP_PKEY_fromdata(ctx, &pub, EVP_PKEY_PUBLIC_KEY, (OSSL_PARAM *) params) <= 0) {
		EVP_PKEY_CTX_free(ctx);
		return 0;
	}
	EVP_PKEY_CTX_free(ctx);
	k->pub = pub;
	return 1;
}

/* tls_prov_export - the public key only; a private export always fails */
static int tls_prov_export(void *vkey, int selection, OSSL_CALLBACK *cb, void *cbarg)
{
	struct tls_prov_keydata *k = vkey;
	OSSL_PARAM *params = NULL;
	int ok;

	if (k == NULL || k->pub == NULL || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY))
		return 0;
	if (EVP_PKEY_todata(k->pub, EVP_PKEY_PUBLIC_KEY, &params) <= 0)
		return 0;
	ok = cb(params, cbarg);
	OSSL_PARAM_free(params);
	return ok;
}

static const OSSL_PARAM tls_prov_rsa_types[] = {OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
						OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
						OSSL_PARAM_END};

static const OSSL_PARAM tls_prov_ec_types[] = {
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
	OSSL_PARAM_END};

/* tls_prov_rsa_types_fn - what an RSA key imports and exports */
static const OSSL_PARAM *tls_prov_rsa_types_fn(int selection)
{
	return tls_prov_rsa_types;
}

/* tls_prov_ec_types_fn - what an EC key imports and exports */
static const OSSL_PARAM *tls_prov_ec_types_fn(int selection)
{
	return tls_prov_ec_types;
}

/* tls_prov_get_params - sizes, group, default digest: from the public key */
static int tls_prov_get_params(void *vkey, OSSL_PARAM params[])
{
	struct tls_prov_keydata *k = vkey;

	if (k == NULL || k->pub == NULL)
		return 0;
	return EVP_PKEY_get_params(k->pub, params);
}

static const OSSL_PARAM tls_prov_gettable[] = {
	OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
	OSSL_PARAM_END};

/* tls_prov_gettable_params - what get_params answers */
static const OSSL_PARAM *tls_prov_gettable_params(void *provctx)
{
	return tls_prov_gettable;
}

/* tls_prov_match - same public key? (libssl: does the key fit the cert) */
static int tls_prov_match(const void *va, const void *vb, int selection)
{
	const struct tls_prov_keydata *a = va, *b = vb;

	if (a == NULL || b == NULL || a->pub == NULL || b->pub == NULL)
		return 0;
	return EVP_PKEY_eq(a->pub, b->pub) == 1;
}

/* tls_prov_rsa_opname - the signature algorithm for an RSA key */
static const char *tls_prov_rsa_opname(int op)
{
	return op == OSSL_OP_SIGNATURE ? "RSA" : NULL;
}

/* tls_prov_ec_opname - the signature algorithm for an EC key */
static const char *tls_prov_ec_opname(int op)
{
	return op == OSSL_OP_SIGNATURE ? "ECDSA" : NULL;
}

#define TLS_PROV_KEYMGMT(new_fn, types_fn, opname_fn) \
	{ \
		{OSSL_FUNC_KEYMGMT_NEW, (void (*)(void)) new_fn}, \
			{OSSL_FUNC_KEYMGMT_FREE, (void (*)(void)) tls_prov_free}, \
			{OSSL_FUNC_KEYMGMT_HAS, (void (*)(void)) tls_prov_has}, \
			{OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void)) tls_prov_import}, \
			{OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void)) types_fn}, \
			{OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void)) tls_prov_export}, \
			{OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void)) types_fn}, \
			{OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void)) tls_prov_get_params}, \
			{OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, \
			 (void (*)(void)) tls_prov_gettable_params}, \
			{OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void)) tls_prov_match}, \
			{OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void)) opname_fn}, \
		{ \
			0, NULL \
		} \
	}

static const OSSL_DISPATCH tls_prov_rsa_keymgmt[] =
	TLS_PROV_KEYMGMT(tls_prov_new_rsa, tls_prov_rsa_types_fn, tls_prov_rsa_opname);
static const OSSL_DISPATCH tls_prov_ec_keymgmt[] =
	TLS_PROV_KEYMGMT(tls_prov_new_ec, tls_prov_ec_types_fn, tls_prov_ec_opname);

/* ---- signature ----------------------------------------------------------- */

/* tls_prov_sig_new - a signature context */
static void *tls_prov_sig_new(void *provctx, const char *propq)
{
	return xcalloc(1, sizeof(struct tls_prov_sigctx));
}

/* tls_prov_sig_free - release a signature context */
static void tls_prov_sig_free(void *vctx)
{
	free(vctx);
}

/* tls_prov_sig_dup - copy a signature context */
static void *tls_prov_sig_dup(void *vctx)
{
	struct tls_prov_sigctx *c = xmalloc(sizeof(*c));

	memcpy(c, vctx, sizeof(*c));
	return c;
}

/* tls_prov_md_bits - 256, 384, 512 for the SHA-2 digests we sign with; 0 else */
static int tls_prov_md_bits(const char *name)
{
	EVP_MD *md;
	int bits = 0;

	if (name == NULL || (md = EVP_MD_fetch(NULL, name, NULL)) == NULL)
		return 0;
	if (EVP_MD_is_a(md, "SHA2-256"))
		bits = 256;
	else if (EVP_MD_is_a(md, "SHA2-384"))
		bits = 384;
	else if (EVP_MD_is_a(md, "SHA2-512"))
		bits = 512;
	EVP_MD_free(md);
	return bits;
}

/* tls_prov_sig_set_params - digest, RSA padding, PSS salt and MGF1 */
static int tls_prov_sig_set_params(void *vctx, const OSSL_PARAM params[])
{
	struct tls_prov_sigctx *c = vctx;
	const OSSL_PARAM *p;

	if (params == NULL)
		return 1;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST)) != NULL) {
		const char *name = NULL;

		if (!OSSL_PARAM_get_utf8_string_ptr(p, &name)
		    || (c->md_bits = tls_prov_md_bits(name)) == 0)
			return 0;
	}
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL) {
		const char *s = NULL;
		int mode = 0;

		if (p->data_type == OSSL_PARAM_UTF8_STRING
		    && OSSL_PARAM_get_utf8_string_ptr(p, &s))
			mode = strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0
				? RSA_PKCS1_PSS_PADDING
				: strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0
				? RSA_PKCS1_PADDING
				: 0;
		else if (!OSSL_PARAM_get_int(p, &mode))
			return 0;
		if (mode != RSA_PKCS1_PSS_PADDING && mode != RSA_PKCS1_PADDING)
			return 0;
		c->pss = mode == RSA_PKCS1_PSS_PADDING;
	}
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL) {
		const char *s = NULL;
		int len = 0;

		/* libssl asks for the digest length; tlsmgr signs with nothing else */
		if (p->data_type == OSSL_PARAM_UTF8_STRING
		    && OSSL_PARAM_get_utf8_string_ptr(p, &s)) {
			if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) != 0
			    && atoi(s) != c->md_bits / 8)
				c->bad = 1;
		} else if (!OSSL_PARAM_get_int(p, &len)
			   || (len != RSA_PSS_SALTLEN_DIGEST && len != c->md_bits / 8)) {
			c->bad = 1;
		}
	}
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) != NULL) {
		const char *name = NULL;

		if (!OSSL_PARAM_get_utf8_string_ptr(p, &name)
		    || tls_prov_md_bits(name) != c->md_bits)
			c->bad = 1;
	}
	return 1;
}

static const OSSL_PARAM tls_prov_sig_settable[] = {
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0), OSSL_PARAM_END};

/* tls_prov_sig_settable_params - what set_ctx_params takes */
static const OSSL_PARAM *tls_prov_sig_settable_params(void *vctx, void *provctx)
{
	return tls_prov_sig_settable;
}

/* tls_prov_sig_get_params - nothing to report */
static int tls_prov_sig_get_params(void *vctx, OSSL_PARAM params[])
{
	return 1;
}

static const OSSL_PARAM tls_prov_sig_gettable[] = {OSSL_PARAM_END};

/* tls_prov_sig_gettable_params - what get_ctx_params answers: nothing */
static const OSSL_PARAM *tls_prov_sig_gettable_params(void *vctx, void *provctx)
{
	return tls_prov_sig_gettable;
}

/* tls_prov_sign_init - start EVP_DigestSign with a digest name */
static int tls_prov_sign_init(void *vctx, const char *mdname, void *vkey,
			      const OSSL_PARAM params[])
{
	struct tls_prov_sigctx *c = vctx;
	struct tls_prov_keydata *k = vkey;

	if (k == NULL || !k->remote)
		return 0;
	memset(c, 0, sizeof(*c));
	c->key = k;
	c->md_bits = tls_prov_md_bits(mdname ? mdname : "SHA256");
	if (c->md_bits == 0)
		return 0;
	return tls_prov_sig_set_params(c, params);
}

/* tls_prov_sign_update - collect the bytes to sign (bounded) */
static int tls_prov_sign_update(void *vctx, const unsigned char *data, size_t len)
{
	struct tls_prov_sigctx *c = vctx;

	if (len > sizeof(c->tbs) - c->tbslen) {
		c->overflow = 1;
		return 0;
	}
	memcpy(c->tbs + c->tbslen, data, len);
	c->tbslen += len;
	return 1;
}

/* tls_prov_scheme - the TLS SignatureScheme for this key and context */
static unsigned tls_prov_scheme(const struct tls_prov_sigctx *c)
{
	int i = c->md_bits == 256 ? 0 : c->md_bits == 384 ? 1 : 2;
	static const unsigned ec[] = {TLS_SIG_ECDSA_SHA256, TLS_SIG_ECDSA_SHA384,
				      TLS_SIG_ECDSA_SHA512};
	static const unsigned pss[] = {TLS_SIG_RSA_PSS_SHA256, TLS_SIG_RSA_PSS_SHA384,
				       TLS_SIG_RSA_PSS_SHA512};
	static const unsigned v15[] = {TLS_SIG_RSA_PKCS1_SHA256, TLS_SIG_RSA_PKCS1_SHA384,
				       TLS_SIG_RSA_PKCS1_SHA512};

	return c->key->is_ec ? ec[i] : c->pss ? pss[i] : v15[i];
}

/* tls_prov_do_sign - ask tlsmgr; sig NULL asks for the largest size */
static int tls_prov_do_sign(struct tls_prov_sigctx *c, unsigned char *sig, size_t *siglen,
			    size_t sigsize, const unsigned char *tbs, size_t tbslen)
{
	if (c->key == NULL)
		return 0;
	if (sig == NULL) {
		*siglen = (size_t) EVP_PKEY_get_size(c->key->pub);
		return 1;
	}
	if (c->bad || c->overflow) {
		snprintf(tls_mgr_error, sizeof(tls_mgr_error),
			 "signature parameters outside what tlsmgr signs");
		return 0;
	}
	if (tls_mgr_sign(c->key->key_id, tls_prov_scheme(c), tbs, tbslen, sig, siglen, sigsize)
	    < 0) {
		msg_warn("TLS signature by tlsmgr failed: %s", tls_mgr_error);
		return 0;
	}
	return 1;
}

/* tls_prov_sign_final - sign what update collected */
static int tls_prov_sign_final(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize)
{
	struct tls_prov_sigctx *c = vctx;

	return tls_prov_do_sign(c, sig, siglen, sigsize, c->tbs, c->tbslen);
}

/* tls_prov_sign_oneshot - EVP_DigestSign(): libssl's path */
static int tls_prov_sign_oneshot(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize,
				 const unsigned char *tbs, size_t tbslen)
{
	struct tls_prov_sigctx *c = vctx;

	if (tbslen > TLSMGR_TBS_MAX)
		c->overflow = 1;
	return tls_prov_do_sign(c, sig, siglen, sigsize, tbs, tbslen);
}

static const OSSL_DISPATCH tls_prov_signature[] = {
	{OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void)) tls_prov_sig_new},
	{OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void)) tls_prov_sig_free},
	{OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void)) tls_prov_sig_dup},
	{OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void)) tls_prov_sign_init},
	{OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*)(void)) tls_prov_sign_update},
	{OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, (void (*)(void)) tls_prov_sign_final},
	{OSSL_FUNC_SIGNATURE_DIGEST_SIGN, (void (*)(void)) tls_prov_sign_oneshot},
	{OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, (void (*)(void)) tls_prov_sig_set_params},
	{OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS,
	 (void (*)(void)) tls_prov_sig_settable_params},
	{OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*)(void)) tls_prov_sig_get_params},
	{OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS,
	 (void (*)(void)) tls_prov_sig_gettable_params},
	{0, NULL}};

/* ---- the provider ---------------------------------------------------------- */

static const OSSL_ALGORITHM tls_prov_keymgmt_algs[] = {
	{"RSA:rsaEncryption:1.2.840.113549.1.1.1", TLS_PROV_PROPS, tls_prov_rsa_keymgmt,
	 "RSA keys held by tlsmgr"},
	{"EC:id-ecPublicKey:1.2.840.10045.2.1", TLS_PROV_PROPS, tls_prov_ec_keymgmt,
	 "EC keys held by tlsmgr"},
	{NULL, NULL, NULL, NULL}};

static const OSSL_ALGORITHM tls_prov_sig_algs[] = {
	{"RSA:rsaEncryption:1.2.840.113549.1.1.1", TLS_PROV_PROPS, tls_prov_signature,
	 "RSA signatures by tlsmgr"},
	{"ECDSA", TLS_PROV_PROPS, tls_prov_signature, "ECDSA signatures by tlsmgr"},
	{NULL, NULL, NULL, NULL}};

/* tls_prov_query - the operations we implement: key management, signing */
static const OSSL_ALGORITHM *tls_prov_query(void *provctx, int op, int *no_cache)
{
	*no_cache = 0;
	switch (op) {
	case OSSL_OP_KEYMGMT:
		return tls_prov_keymgmt_algs;
	case OSSL_OP_SIGNATURE:
		return tls_prov_sig_algs;
	}
	return NULL;
}

static const OSSL_DISPATCH tls_prov_dispatch[] = {
	{OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void)) tls_prov_query},
	{0, NULL}};

/* tls_prov_init - the provider's entry point (OSSL_provider_init) */
static int tls_prov_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
			 const OSSL_DISPATCH **out, void **provctx)
{
	*out = tls_prov_dispatch;
	*provctx = (void *) handle;
	return 1;
}

/* tls_prov_setup - our private library context with only our provider */
static int tls_prov_setup(char *why, size_t whylen)
{
	if (tls_prov_handle)
		return 0;
	if ((tls_prov_libctx = OSSL_LIB_CTX_new()) == NULL
	    || !OSSL_PROVIDER_add_builtin(tls_prov_libctx, TLS_PROV_NAME, tls_prov_init)
	    || (tls_prov_handle = OSSL_PROVIDER_load(tls_prov_libctx, TLS_PROV_NAME)) == NULL) {
		snprintf(why, whylen, "cannot load the tlsmgr key provider");
		return -1;
	}
	return 0;
}

/* tls_prov_key - a key whose signatures tlsmgr makes, for the cert's pub */
EVP_PKEY *tls_prov_key(const unsigned char *key_id, EVP_PKEY *pub, char *why, size_t whylen)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	unsigned char *spki = NULL;
	int spki_len, is_ec;
	OSSL_PARAM params[3];

	if (tls_prov_setup(why, whylen) < 0)
		return NULL;
	is_ec = EVP_PKEY_is_a(pub, "EC");
	if (!is_ec && !EVP_PKEY_is_a(pub, "RSA")) {
		snprintf(why, whylen, "certificate key is neither RSA nor EC");
		return NULL;
	}
	if ((spki_len = i2d_PUBKEY(pub, &spki)) <= 0) {
		snprintf(why, whylen, "cannot encode the certificate's public key");
		return NULL;
	}
	params[0] = OSSL_PARAM_construct_octet_string(TLS_PROV_PARAM_ID, (void *) key_id,
						      TLSMGR_KEY_ID_LEN);
	params[1] =
		OSSL_PARAM_construct_octet_string(TLS_PROV_PARAM_SPKI, spki, (size_t) spki_len);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(tls_prov_libctx, is_ec ? "EC" : "RSA", TLS_PROV_PROPS);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0
	    || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0) {
		snprintf(why, whylen, "the tlsmgr key provider refused the key");
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OPENSSL_free(spki);
	return pkey;
}

/* tls_prov_is_remote - is this key one of ours (no private key here)? */
int tls_prov_is_remote(const EVP_PKEY *pkey)
{
	return tls_prov_handle != NULL && pkey != NULL
		&& EVP_PKEY_get0_provider(pkey) == tls_prov_handle;
}
