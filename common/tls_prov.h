/*
 * tls_prov - the OpenSSL key provider stub: keys that live in tlsmgr
 *
 * A built-in OpenSSL 3 provider ("dlpgate-tlsmgr") with a key manager and
 * a signature implementation for RSA and EC. Its keys hold a key id and
 * the public key only; signing sends the to-be-signed bytes to tlsmgr
 * (tls_mgr_sign) and returns tlsmgr's signature. It has no decrypt, no
 * key generation, no import of private key material, and no export of
 * anything but the public key: the process that uses it never holds a
 * private key.
 *
 * The provider lives in a library context of its own, so that no other
 * operation in the process (certificate verification, say) can ever be
 * routed to it; libssl reaches it through the key's own key manager.
 *
 * tls_prov_key() returns an EVP_PKEY for SSL_CTX_use_PrivateKey().
 */
#ifndef DLP_TLS_PROV_H
#define DLP_TLS_PROV_H

#include <openssl/evp.h>

EVP_PKEY *tls_prov_key(const unsigned char *key_id, EVP_PKEY *pub, char *why, size_t whylen);
int tls_prov_is_remote(const EVP_PKEY *pkey);

#endif
