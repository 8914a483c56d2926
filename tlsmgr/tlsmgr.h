/*
 * tlsmgr - the keystore owner's shared state
 *
 * tlsmgr.c		the process: keystore at start-up, the event loop,
 *			one dispatch function for worker requests
 * tlsmgr_sign.c	what may be signed (TLS-shaped input only), signing
 * tlsmgr_cache.c	session-ticket keys and the next-hop session cache
 */
#ifndef DLP_TLSMGR_H
#define DLP_TLSMGR_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "tls_proto.h"

/* tlsmgr_sign.c */
int tlsmgr_sign(EVP_PKEY *key, unsigned scheme, const unsigned char *tbs, size_t tbslen,
		unsigned char *sig, size_t *siglen, char *why, size_t whylen);

/* tlsmgr_cache.c */
int tlsmgr_ticket_keys(struct tls_ticket_key *keys, int max, time_t now);
void tlsmgr_cache_init(int size);
const unsigned char *tlsmgr_cache_get(const char *key, size_t *len, time_t now);
void tlsmgr_cache_put(const char *key, const unsigned char *data, size_t len, unsigned lifetime,
		      time_t now);

#endif
