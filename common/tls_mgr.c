/*
 * tls_mgr - the worker's side of the tlsmgr protocol
 *
 * See tls_mgr.h. Every answer is checked like any peer's word: record
 * type, attribute sizes, bounds. A bad answer drops the connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "conf_params.h"
#include "inet.h"
#include "ipc.h"
#include "mem.h"
#include "msg.h"
#include "scan.h"
#include "tls_mgr.h"

char tls_mgr_error[256];
int tls_mgr_timeout = 10;

static int tls_mgr_fd = -1;
static struct ipc_msg *tls_mgr_msg;

/* tls_mgr_disconnect - drop the connection (tlsmgr died or misbehaved) */
void tls_mgr_disconnect(void)
{
	if (tls_mgr_fd >= 0)
		close(tls_mgr_fd);
	tls_mgr_fd = -1;
}

/* tls_mgr_connect - the connection, opened if needed; -1 on failure */
static int tls_mgr_connect(void)
{
	char path[512], err[256];

	if (tls_mgr_fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", var_run_directory, TLSMGR_SOCKET);
	tls_mgr_fd = unix_connect(path, SOCK_SEQPACKET, tls_mgr_timeout, err, sizeof(err));
	if (tls_mgr_fd < 0) {
		snprintf(tls_mgr_error, sizeof(tls_mgr_error), "tlsmgr unavailable: %s", err);
		return -1;
	}
	return 0;
}

/* tls_mgr_call_once - one request, one answer on the current connection */
static int tls_mgr_call_once(struct ipc_out *req, int *retry)
{
	char err[200];
	int rc;

	*retry = 0;
	if (tls_mgr_connect() < 0)
		return -1;
	rc = ipc_send(tls_mgr_fd, req, NULL, 0, tls_mgr_timeout);
	if (rc == IPC_OK)
		rc = ipc_recv(tls_mgr_fd, tls_mgr_msg, tls_mgr_timeout, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "cannot send the request");
	if (rc == IPC_OK)
		return 0;
	/* a stale connection (tlsmgr restarted) is worth one more try */
	*retry = rc == IPC_EOF || rc == IPC_ERROR;
	snprintf(tls_mgr_error, sizeof(tls_mgr_error), "tlsmgr %s",
		 rc == IPC_EOF               ? "closed the connection"
			 : rc == IPC_TIMEOUT ? "did not answer in time"
					     : err);
	tls_mgr_disconnect();
	return -1;
}

/* tls_mgr_call - a request and its checked answer of the expected type */
static int tls_mgr_call(struct ipc_out *req, int want)
{
	char reason[200];
	int retry;

	if (tls_mgr_msg == NULL)
		tls_mgr_msg = xmalloc(sizeof(*tls_mgr_msg));
	if (tls_mgr_call_once(req, &retry) < 0
	    && (!retry || tls_mgr_call_once(req, &retry) < 0))
		return -1;
	if (tls_mgr_msg->nfds > 0 && want != TLSMGR_CHAIN_OK) {
		ipc_close_fds(tls_mgr_msg);
		snprintf(tls_mgr_error, sizeof(tls_mgr_error), "tlsmgr sent descriptors");
		tls_mgr_disconnect();
		return -1;
	}
	if (tls_mgr_msg->type == TLSMGR_ERROR) {
		snprintf(
			tls_mgr_error, sizeof(tls_mgr_error), "tlsmgr: %s",
			ipc_get_str(tls_mgr_msg, TLSMGR_TAG_REASON, 190, reason, sizeof(reason))
				? reason
				: "error");
		ipc_close_fds(tls_mgr_msg);
		return -1;
	}
	if (tls_mgr_msg->type != want) {
		snprintf(tls_mgr_error, sizeof(tls_mgr_error), "tlsmgr answered record type %u",
			 tls_mgr_msg->type);
		ipc_close_fds(tls_mgr_msg);
		tls_mgr_disconnect();
		return -1;
	}
	return 0;
}

/* tls_mgr_bad - an answer that does not add up: drop the connection */
static int tls_mgr_bad(const char *what)
{
	snprintf(tls_mgr_error, sizeof(tls_mgr_error), "tlsmgr answer: %s", what);
	tls_mgr_disconnect();
	return -1;
}

/* tls_mgr_chain_free - release a chain */
void tls_mgr_chain_free(struct tls_mgr_chain *c)
{
	sk_X509_pop_free(c->certs, X509_free);
	sk_X509_pop_free(c->trust, X509_free);
	c->certs = c->trust = NULL;
}

/* tls_mgr_read_trust - the trusted certificates from the sealed memfd */
static int tls_mgr_read_trust(struct tls_mgr_chain *c, int fd, uint64_t size)
{
	unsigned char md[32], *map = NULL;
	char err[200];
	size_t pos = 0;

	c->trust = sk_X509_new_null();
	if (scan_memfd_check(fd, size, err, sizeof(err)) < 0 || size > TLSMGR_TRUST_MAX)
		return tls_mgr_bad("trust store is not a sealed memfd of the announced size");
	if (size > 0 && (map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
		return tls_mgr_bad("cannot map the trust store");
	while (pos + 4 <= size) {
		uint32_t len;
		const unsigned char *p;
		X509 *x;

		memcpy(&len, map + pos, 4);
		pos += 4;
		if (len > size - pos)
			break;
		p = map + pos;
		if ((x = d2i_X509(NULL, &p, len)) == NULL || p != map + pos + len) {
			X509_free(x);
			break;
		}
		sk_X509_push(c->trust, x);
		pos += len;
	}
	if (size > 0)
		EVP_Digest(map, size, md, NULL, EVP_sha256(), NULL);
	else
		EVP_Digest("", 0, md, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < 8; i++)
		snprintf(c->trust_digest + 2 * i, 3, "%02x", md[i]);
	if (map)
		munmap(map, size);
	if (pos != size)
		return tls_mgr_bad("malformed trust store");
	return 0;
}

/* tls_mgr_chain - our certificate chain and the trusted next-hop certs */
int tls_mgr_chain(struct tls_mgr_chain *out)
{
	const struct ipc_attr *a;
	struct ipc_out req;
	uint64_t tsize;
	size_t pos = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	ipc_out_init(&req, TLSMGR_REQ_CHAIN);
	rc = tls_mgr_call(&req, TLSMGR_CHAIN_OK);
	ipc_out_free(&req);
	if (rc < 0)
		return -1;
	if ((a = ipc_get(tls_mgr_msg, TLSMGR_TAG_KEY_ID)) == NULL || a->len != TLSMGR_KEY_ID_LEN
	    || ipc_get_str(tls_mgr_msg, TLSMGR_TAG_KEY_TYPE, 7, out->key_type,
			   sizeof(out->key_type))
		    == NULL
	    || (strcmp(out->key_type, "RSA") && strcmp(out->key_type, "EC"))
	    || ipc_get_u64(tls_mgr_msg, TLSMGR_TAG_TRUST_SIZE, &tsize) < 0
	    || tls_mgr_msg->nfds != 1) {
		ipc_close_fds(tls_mgr_msg);
		return tls_mgr_bad("malformed chain record");
	}
	memcpy(out->key_id, a->val, TLSMGR_KEY_ID_LEN);
	if (ipc_get_str(tls_mgr_msg, TLSMGR_TAG_ALIAS, 120, out->alias, sizeof(out->alias))
	    == NULL)
		strcpy(out->alias, "?");
	out->certs = sk_X509_new_null();
	while ((a = ipc_next(tls_mgr_msg, TLSMGR_TAG_CERT, &pos)) != NULL) {
		const unsigned char *p = a->val;
		X509 *x = d2i_X509(NULL, &p, a->len);

		if (x == NULL || p != a->val + a->len
		    || sk_X509_num(out->certs) >= TLSMGR_CHAIN_MAX) {
			X509_free(x);
			ipc_close_fds(tls_mgr_msg);
			tls_mgr_chain_free(out);
			return tls_mgr_bad("malformed certificate");
		}
		sk_X509_push(out->certs, x);
	}
	rc = sk_X509_num(out->certs) > 0 ? tls_mgr_read_trust(out, tls_mgr_msg->fds[0], tsize)
					 : tls_mgr_bad("no certificate");
	ipc_close_fds(tls_mgr_msg);
	if (rc < 0)
		tls_mgr_chain_free(out);
	return rc;
}

/* tls_mgr_sign - have tlsmgr sign TLS handshake bytes with our key */
int tls_mgr_sign(const unsigned char *key_id, unsigned scheme, const unsigned char *tbs,
		 size_t tbslen, unsigned char *sig, size_t *siglen, size_t sigmax)
{
	const struct ipc_attr *a;
	struct ipc_out req;
	int rc;

	if (tbslen > TLSMGR_TBS_MAX) {
		snprintf(tls_mgr_error, sizeof(tls_mgr_error),
			 "%zu bytes to sign is not a TLS handshake", tbslen);
		return -1;
	}
	ipc_out_init(&req, TLSMGR_REQ_SIGN);
	ipc_put_bytes(&req, TLSMGR_TAG_KEY_ID, key_id, TLSMGR_KEY_ID_LEN);
	ipc_put_u32(&req, TLSMGR_TAG_SCHEME, scheme);
	ipc_put_bytes(&req, TLSMGR_TAG_TBS, tbs, tbslen);
	rc = tls_mgr_call(&req, TLSMGR_SIGN_OK);
	ipc_out_free(&req);
	if (rc < 0)
		return -1;
	if ((a = ipc_get(tls_mgr_msg, TLSMGR_TAG_SIG)) == NULL || a->len == 0 || a->len > sigmax
	    || a->len > TLSMGR_SIG_MAX)
		return tls_mgr_bad("malformed signature record");
	memcpy(sig, a->val, a->len);
	*siglen = a->len;
	return 0;
}

/* tls_mgr_tickets - the session-ticket keys, current first; count or -1 */
int tls_mgr_tickets(struct tls_ticket_key *keys, int max)
{
	const struct ipc_attr *a;
	struct ipc_out req;
	size_t pos = 0;
	int n = 0, rc;

	ipc_out_init(&req, TLSMGR_REQ_TICKETS);
	rc = tls_mgr_call(&req, TLSMGR_TICKETS_OK);
	ipc_out_free(&req);
	if (rc < 0)
		return -1;
	while ((a = ipc_next(tls_mgr_msg, TLSMGR_TAG_TICKET_KEY, &pos)) != NULL && n < max) {
		if (a->len != sizeof(*keys))
			return tls_mgr_bad("malformed ticket key");
		memcpy(&keys[n++], a->val, sizeof(*keys));
	}
	if (n == 0)
		return tls_mgr_bad("no ticket key");
	return n;
}

/* tls_mgr_sess_get - a cached outbound session; 0 found, 1 none, -1 error */
int tls_mgr_sess_get(const char *key, unsigned char *data, size_t *len, size_t max)
{
	const struct ipc_attr *a;
	struct ipc_out req;
	int rc;

	ipc_out_init(&req, TLSMGR_REQ_SESS_GET);
	ipc_put_str(&req, TLSMGR_TAG_SESS_KEY, key);
	rc = tls_mgr_call(&req, TLSMGR_SESS_OK);
	ipc_out_free(&req);
	if (rc < 0)
		return -1;
	if ((a = ipc_get(tls_mgr_msg, TLSMGR_TAG_SESS_DATA)) == NULL)
		return 1;
	if (a->len == 0 || a->len > max)
		return tls_mgr_bad("malformed session record");
	memcpy(data, a->val, a->len);
	*len = a->len;
	return 0;
}

/* tls_mgr_sess_put - offer an outbound session to the cache */
int tls_mgr_sess_put(const char *key, const unsigned char *data, size_t len, unsigned lifetime)
{
	struct ipc_out req;
	int rc;

	if (len == 0 || len > TLSMGR_SESS_DATA_MAX || strlen(key) > TLSMGR_SESS_KEY_MAX)
		return -1;
	ipc_out_init(&req, TLSMGR_REQ_SESS_PUT);
	ipc_put_str(&req, TLSMGR_TAG_SESS_KEY, key);
	ipc_put_bytes(&req, TLSMGR_TAG_SESS_DATA, data, len);
	ipc_put_u32(&req, TLSMGR_TAG_LIFETIME, lifetime);
	rc = tls_mgr_call(&req, TLSMGR_SESS_OK);
	ipc_out_free(&req);
	return rc;
}
