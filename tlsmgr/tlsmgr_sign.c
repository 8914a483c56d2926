/*
 * tlsmgr_sign - what tlsmgr signs: TLS-shaped input only
 *
 * A worker may have tlsmgr sign exactly these things:
 *	TLS 1.3 server CertificateVerify content (RFC 8446 4.4.3):
 *		64 spaces, "TLS 1.3, server CertificateVerify", 0x00, and a
 *		transcript hash of 32 or 48 bytes
 *	with outbound_tls_client_cert = yes, the same with "client
 *		CertificateVerify": the client certificate toward a next hop
 *		(TLS 1.3 only: a TLS 1.2 client signs the whole transcript)
 *	TLS 1.2 ECDHE ServerKeyExchange parameters (RFC 8422 5.4):
 *		client_random[32], server_random[32], curve_type 3
 *		(named_curve), a curve we offer, and a public point of
 *		exactly that curve's length (NIST points must lie on it)
 * with a SignatureScheme that fits the key: RSA-PSS (either version),
 * RSA PKCS#1 v1.5 (TLS 1.2 only), ECDSA (TLS 1.3: the key's own curve).
 * Anything else is refused with a reason: tlsmgr is not a signing oracle
 * for arbitrary data, and it never decrypts.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "conf_params.h"
#include "tlsmgr.h"

#define TLS13_PAD_LEN 64
#define TLS13_CONTEXT "TLS 1.3, server CertificateVerify"
#define TLS13_CLIENT  "TLS 1.3, client CertificateVerify"

enum tbs_shape {
	TBS_NONE,
	TBS_TLS13,
	TBS_TLS12,
};

/* tlsmgr_ecdh_point_ok - a NIST curve point must decode on its curve */
static int tlsmgr_ecdh_point_ok(const char *group, const unsigned char *pt, size_t len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM params[3];
	int ok;

	params[0] =
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *) group, 0);
	params[1] =
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *) pt, len);
	params[2] = OSSL_PARAM_construct_end();
	ok = ctx && EVP_PKEY_fromdata_init(ctx) > 0
		&& EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) > 0;
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* tlsmgr_tbs_shape - which TLS structure the bytes are, if any */
static enum tbs_shape tlsmgr_tbs_shape(const unsigned char *tbs, size_t len, char *why,
				       size_t whylen)
{
	static const struct {
		unsigned id;
		size_t len;
		const char *group; /* NULL: any bytes are a point */
	} curves[] = {
		{23, 65, "P-256"}, {24, 97, "P-384"}, {25, 133, "P-521"},
		{29, 32, NULL},    {30, 56, NULL},
	};
	size_t clen = sizeof(TLS13_CONTEXT); /* with its NUL */

	if (len == TLS13_PAD_LEN + clen + 32 || len == TLS13_PAD_LEN + clen + 48) {
		for (size_t i = 0; i < TLS13_PAD_LEN; i++)
			if (tbs[i] != 0x20)
				goto not13;
		if (memcmp(tbs + TLS13_PAD_LEN, TLS13_CONTEXT, clen) == 0)
			return TBS_TLS13;
		if (memcmp(tbs + TLS13_PAD_LEN, TLS13_CLIENT, clen) == 0) {
			if (var_outbound_tls_client_cert)
				return TBS_TLS13;
			snprintf(why, whylen,
				 "a client CertificateVerify, but "
				 "outbound_tls_client_cert = no");
			return TBS_NONE;
		}
	}
not13:
	if (len >= 68 && tbs[64] == 3) {
		unsigned id = (unsigned) tbs[65] << 8 | tbs[66];
		size_t plen = tbs[67];

		for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
			if (curves[i].id != id)
				continue;
			if (plen != curves[i].len || len != 68 + plen) {
				snprintf(why, whylen, "ECDHE parameters of the wrong length");
				return TBS_NONE;
			}
			if (curves[i].group
			    && !tlsmgr_ecdh_point_ok(curves[i].group, tbs + 68, plen)) {
				snprintf(why, whylen, "ECDHE point not on curve %s",
					 curves[i].group);
				return TBS_NONE;
			}
			return TBS_TLS12;
		}
		snprintf(why, whylen, "ECDHE curve %u not offered", id);
		return TBS_NONE;
	}
	snprintf(why, whylen,
		 "%zu bytes that are neither a TLS 1.3 CertificateVerify "
		 "nor a TLS 1.2 ECDHE ServerKeyExchange",
		 len);
	return TBS_NONE;
}

/* tlsmgr_ec_curve_scheme - the TLS 1.3 ECDSA scheme of the key's curve */
static unsigned tlsmgr_ec_curve_scheme(EVP_PKEY *key)
{
	char group[64];

	if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
					    sizeof(group), NULL))
		return 0;
	if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
		return TLS_SIG_ECDSA_SHA256;
	if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
		return TLS_SIG_ECDSA_SHA384;
	if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0)
		return TLS_SIG_ECDSA_SHA512;
	return 0;
}

/* tlsmgr_scheme_md - digest and padding of a scheme that fits the key */
static const char *tlsmgr_scheme_md(EVP_PKEY *key, unsigned scheme, enum tbs_shape shape,
				    int *pss, char *why, size_t whylen)
{
	int is_ec = EVP_PKEY_is_a(key, "EC");

	*pss = 0;
	switch (scheme) {
	case TLS_SIG_RSA_PSS_SHA256:
	case TLS_SIG_RSA_PSS_SHA384:
	case TLS_SIG_RSA_PSS_SHA512:
		if (is_ec)
			break;
		*pss = 1;
		return scheme == TLS_SIG_RSA_PSS_SHA256    ? "SHA256"
			: scheme == TLS_SIG_RSA_PSS_SHA384 ? "SHA384"
							   : "SHA512";
	case TLS_SIG_RSA_PKCS1_SHA256:
	case TLS_SIG_RSA_PKCS1_SHA384:
	case TLS_SIG_RSA_PKCS1_SHA512:
		if (is_ec || shape != TBS_TLS12)
			break;
		return scheme == TLS_SIG_RSA_PKCS1_SHA256    ? "SHA256"
			: scheme == TLS_SIG_RSA_PKCS1_SHA384 ? "SHA384"
							     : "SHA512";
	case TLS_SIG_ECDSA_SHA256:
	case TLS_SIG_ECDSA_SHA384:
	case TLS_SIG_ECDSA_SHA512:
		if (!is_ec || (shape == TBS_TLS13 && tlsmgr_ec_curve_scheme(key) != scheme))
			break;
		return scheme == TLS_SIG_ECDSA_SHA256    ? "SHA256"
			: scheme == TLS_SIG_ECDSA_SHA384 ? "SHA384"
							 : "SHA512";
	}
	snprintf(why, whylen, "signature scheme 0x%04x does not fit a %s key in TLS %s", scheme,
		 is_ec ? "EC" : "RSA", shape == TBS_TLS13 ? "1.3" : "1.2");
	return NULL;
}

/* tlsmgr_sign - check the request and sign it; 0, or -1 with a reason */
int tlsmgr_sign(EVP_PKEY *key, unsigned scheme, const unsigned char *tbs, size_t tbslen,
		unsigned char *sig, size_t *siglen, char *why, size_t whylen)
{
	enum tbs_shape shape = tlsmgr_tbs_shape(tbs, tbslen, why, whylen);
	EVP_MD_CTX *mctx;
	EVP_PKEY_CTX *pctx = NULL;
	const char *md;
	int pss, ok;

	if (shape == TBS_NONE)
		return -1;
	if ((md = tlsmgr_scheme_md(key, scheme, shape, &pss, why, whylen)) == NULL)
		return -1;
	if ((size_t) EVP_PKEY_get_size(key) > *siglen) {
		snprintf(why, whylen, "signature buffer too small");
		return -1;
	}
	mctx = EVP_MD_CTX_new();
	ok = mctx && EVP_DigestSignInit_ex(mctx, &pctx, md, NULL, NULL, key, NULL) > 0
		&& (!pss
		    || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0
			&& EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0))
		&& EVP_DigestSign(mctx, sig, siglen, tbs, tbslen) > 0;
	EVP_MD_CTX_free(mctx);
	if (!ok) {
		unsigned long e = ERR_get_error();

		snprintf(why, whylen, "signing failed: %s",
			 e ? ERR_reason_error_string(e) : "unknown error");
		ERR_clear_error();
		return -1;
	}
	return 0;
}
