/*
 * tls_mgr - the worker's side of the tlsmgr protocol
 *
 * One connection to tlsmgr per process, opened on first use and opened
 * again once when tlsmgr went away (master restarts it; the listen
 * socket stays bound, so the new tlsmgr takes the retried request).
 * Every request waits at most tls_mgr_timeout seconds. Failures return
 * -1 and leave a reason in tls_mgr_error, for the handshake log.
 *
 * See tls_proto.h for the records. Nothing here touches a private key.
 */
#ifndef DLP_TLS_MGR_H
#define DLP_TLS_MGR_H

#include <stddef.h>

#include <openssl/x509.h>

#include "tls_proto.h"

struct tls_mgr_chain {
	unsigned char key_id[TLSMGR_KEY_ID_LEN];
	char key_type[8]; /* "RSA" or "EC" */
	char alias[128];
	STACK_OF(X509) * certs; /* leaf first */
	STACK_OF(X509) * trust; /* trusted next-hop certificates */
	char trust_digest[17];  /* hex prefix of SHA-256 of the trust set */
};

extern char tls_mgr_error[256];
extern int tls_mgr_timeout;

int tls_mgr_chain(struct tls_mgr_chain *out);
void tls_mgr_chain_free(struct tls_mgr_chain *c);
int tls_mgr_sign(const unsigned char *key_id, unsigned scheme, const unsigned char *tbs,
		 size_t tbslen, unsigned char *sig, size_t *siglen, size_t sigmax);
int tls_mgr_tickets(struct tls_ticket_key *keys, int max);
int tls_mgr_sess_get(const char *key, unsigned char *data, size_t *len, size_t max);
int tls_mgr_sess_put(const char *key, const unsigned char *data, size_t len, unsigned lifetime);
void tls_mgr_disconnect(void);

#endif
