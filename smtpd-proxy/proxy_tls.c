/*
 * proxy_tls - TLS on both sides of a session
 *
 * The client side (inbound_tls, tls_wrapper_mode): STARTTLS is offered
 * in our EHLO reply when tlsmgr can give us a certificate
 * (proxy_tls_offer). The STARTTLS command itself is proxy_session.c's:
 * after its 220, proxy_tls_accept() runs the handshake. With inbound_tls
 * = encrypt, transaction commands before STARTTLS get 530 5.7.0
 * (proxy_tls_client_ok).
 *
 * The next-hop side (outbound_tls): proxy_tls_level() says what the
 * policy asks of this session (mirror means "exactly when the client
 * used TLS"), and proxy_tls_hop_handshake() runs the handshake and the
 * certificate check for that level, after proxy_nexthop.c's STARTTLS.
 *
 * The private key is not here: the server context's key comes from
 * tls_prov_key() (signing is done by tlsmgr), and this file has no call
 * that loads a key. proxy_tls_server_ctx() panics if the key it was
 * given is not a tlsmgr key.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <bsd/string.h>

#include "conf_params.h"
#include "evt.h"
#include "mem.h"
#include "msg.h"
#include "tls_mgr.h"
#include "tls_prov.h"
#include "server.h"
#include "proxy.h"

/* Always off, whatever tls_ciphers says: tlsmgr signs ECDHE only. */
#define PROXY_TLS_CIPHER_EXCLUDE \
	":!aNULL:!eNULL:!EXP:!LOW:!RC4:!3DES:!DES:!MD5:!PSK:!SRP:!kRSA:!kDHE:!kDH:!kECDH:!" \
	"aDSS"
#define PROXY_TLS_GROUPS "X25519:P-256:X448:P-384:P-521"
#define PROXY_TLS_SIGALGS \
	"RSA-PSS+SHA256:RSA-PSS+SHA384:RSA-PSS+SHA512:ECDSA+SHA256:ECDSA+SHA384:" \
	"ECDSA+SHA512:RSA+SHA256:RSA+SHA384:RSA+SHA512"
#define PROXY_TLS_MAX_TICKET_KEYS 4
#define PROXY_TLS_RETRY           10 /* seconds before asking a silent tlsmgr again */
#define PROXY_TLS_CHAIN_WAIT      3  /* seconds for the chain: tlsmgr answers at once */

static const char *const proxy_tls_level_names[] = {
	"none", "may", "encrypt", "verify", "secure",
};

static SSL_CTX *proxy_tls_server; /* our certificate, tlsmgr's key */
static SSL_CTX *proxy_tls_client; /* to next hops */
static struct tls_mgr_chain proxy_tls_chain;
static int proxy_tls_have_chain;
static struct tls_ticket_key proxy_tls_keys[PROXY_TLS_MAX_TICKET_KEYS];
static int proxy_tls_nkeys;
static time_t proxy_tls_keys_fetched;
static int proxy_tls_sess_idx = -1;

/* proxy_tls_protocols - min and max version from tls_protocols */
static void proxy_tls_protocols(SSL_CTX *ctx)
{
	int v12 = conf_list_has(&var_tls_protocols, "TLSv1.2");
	int v13 = conf_list_has(&var_tls_protocols, "TLSv1.3");

	SSL_CTX_set_min_proto_version(ctx, v12 ? TLS1_2_VERSION : TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx, v13 ? TLS1_3_VERSION : TLS1_2_VERSION);
}

/* proxy_tls_reason - the real reason of an OpenSSL failure */
static void proxy_tls_reason(char *why, size_t len, int ssl_err, const char *dflt)
{
	unsigned long e = ERR_peek_error();
	const char *r;

	if (*tls_mgr_error) {
		strlcpy(why, tls_mgr_error, len);
	} else if (e && (r = ERR_reason_error_string(e)) != NULL) {
		strlcpy(why, r, len);
	} else if (ssl_err == SSL_ERROR_SYSCALL || ssl_err == SSL_ERROR_ZERO_RETURN) {
		strlcpy(why, "peer closed the connection", len);
	} else {
		strlcpy(why, dflt, len);
	}
	ERR_clear_error();
}

/* proxy_tls_handshake - run SSL_accept/SSL_connect to the end or a deadline */
static int proxy_tls_handshake(SSL *ssl, int fd, int server_side, char *why, size_t len)
{
	struct timespec start, now;
	int fl = fcntl(fd, F_GETFL);

	/*
	 * A plain stream's socket blocks, with the kernel timeout of its last
	 * step (smtpd_timeout): SSL_accept() would wait that long for a silent
	 * client. Non-blocking, the poll() below keeps tls_handshake_timeout;
	 * after a failure the flags are put back, for a next hop that goes on
	 * in plain text.
	 */
	if (fl >= 0)
		(void) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	clock_gettime(CLOCK_MONOTONIC, &start);
	*tls_mgr_error = 0;
	for (;;) {
		struct pollfd pfd = {.fd = fd};
		int r, err, left;

		ERR_clear_error();
		r = server_side ? SSL_accept(ssl) : SSL_connect(ssl);
		if (r == 1)
			return 0; /* stream_set_ssl(): non-blocking from now on */
		err = SSL_get_error(ssl, r);
		if (err == SSL_ERROR_WANT_READ)
			pfd.events = POLLIN;
		else if (err == SSL_ERROR_WANT_WRITE)
			pfd.events = POLLOUT;
		else {
			proxy_tls_reason(why, len, err, "handshake failure");
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = var_tls_handshake_timeout * 1000
			- (int) ((now.tv_sec - start.tv_sec) * 1000
				 + (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, left) == 0) {
			snprintf(why, len, "timeout after %ds", var_tls_handshake_timeout);
			break;
		}
	}
	if (fl >= 0)
		(void) fcntl(fd, F_SETFL, fl);
	return -1;
}

/* proxy_tls_peer - "CN" of the peer certificate, or "none" */
static void proxy_tls_peer(SSL *ssl, char *buf, size_t len)
{
	X509 *x = SSL_get0_peer_certificate(ssl);

	strlcpy(buf, "none", len);
	if (x
	    && X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf,
					 (int) len)
		    < 0)
		strlcpy(buf, "unnamed", len);
	for (char *cp = buf; *cp; cp++)
		if (*cp <= ' ' || *cp >= 127)
			*cp = '_';
}

/* ---- session tickets (keys from tlsmgr) ---------------------------------- */

/* proxy_tls_fetch_keys - the ticket keys, fetched again when stale */
static int proxy_tls_fetch_keys(int force)
{
	time_t now = time(NULL);
	int n;

	if (!force && proxy_tls_nkeys > 0
	    && (unsigned long long) now < proxy_tls_keys[0].encrypt_until)
		return 0;
	if (force && now == proxy_tls_keys_fetched)
		return proxy_tls_nkeys > 0 ? 0 : -1;
	proxy_tls_keys_fetched = now;
	if ((n = tls_mgr_tickets(proxy_tls_keys, PROXY_TLS_MAX_TICKET_KEYS)) < 0)
		return -1;
	proxy_tls_nkeys = n;
	return 0;
}

/* proxy_tls_ticket_mac - HMAC-SHA256 with a ticket key */
static int proxy_tls_ticket_mac(EVP_MAC_CTX *hctx, struct tls_ticket_key *k)
{
	OSSL_PARAM p[3];

	p[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k->hmac, sizeof(k->hmac));
	p[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0);
	p[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(hctx, p);
}

/* proxy_tls_ticket_cb - encrypt a new ticket or find the key of an old one */
static int proxy_tls_ticket_cb(SSL *ssl, unsigned char *name, unsigned char *iv,
			       EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc)
{
	/*
	 * Keys past their time to encrypt are fetched again first: new tickets
	 * get the current key, and one under the key before it is renewed.
	 */
	int fresh = proxy_tls_fetch_keys(0);

	if (enc) {
		struct tls_ticket_key *k = &proxy_tls_keys[0];

		if (fresh < 0 || RAND_bytes(iv, 16) <= 0)
			return 0; /* no ticket this time */
		memcpy(name, k->name, TLS_TICKET_NAME_LEN);
		if (!EVP_EncryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k->aes, iv)
		    || !proxy_tls_ticket_mac(hctx, k))
			return -1;
		return 1;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < proxy_tls_nkeys; i++) {
			struct tls_ticket_key *k = &proxy_tls_keys[i];

			if (memcmp(name, k->name, TLS_TICKET_NAME_LEN) != 0
			    || (unsigned long long) time(NULL) >= k->decrypt_until)
				continue;
			if (!EVP_DecryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k->aes, iv)
			    || !proxy_tls_ticket_mac(hctx, k))
				return -1;
			return i == 0 ? 1 : 2; /* 2: issue a fresh ticket */
		}
		if (pass == 0 && proxy_tls_fetch_keys(1) < 0)
			break;
	}
	return 0; /* unknown key: full handshake */
}

/* ---- the server context ---------------------------------------------------- */

/* proxy_tls_get_chain - our chain and trust store from tlsmgr, once */
static int proxy_tls_get_chain(void)
{
	static time_t failed;
	static char failed_why[sizeof(tls_mgr_error)];
	int rc;

	if (proxy_tls_have_chain)
		return 0;
	/* tlsmgr down: say so at once for a while, do not stall every EHLO */
	if (failed && time(NULL) - failed < PROXY_TLS_RETRY) {
		strlcpy(tls_mgr_error, failed_why, sizeof(tls_mgr_error));
		return -1;
	}
	tls_mgr_timeout = var_tlsmgr_timeout < PROXY_TLS_CHAIN_WAIT ? var_tlsmgr_timeout
								    : PROXY_TLS_CHAIN_WAIT;
	rc = tls_mgr_chain(&proxy_tls_chain);
	tls_mgr_timeout = var_tlsmgr_timeout;
	if (rc < 0) {
		failed = time(NULL);
		strlcpy(failed_why, tls_mgr_error, sizeof(failed_why));
		return -1;
	}
	failed = 0;
	proxy_tls_have_chain = 1;
	return 0;
}

/* proxy_tls_forget - drop what came from tlsmgr (the keystore changed) */
static void proxy_tls_forget(void)
{
	SSL_CTX_free(proxy_tls_server);
	SSL_CTX_free(proxy_tls_client);
	proxy_tls_server = proxy_tls_client = NULL;
	if (proxy_tls_have_chain)
		tls_mgr_chain_free(&proxy_tls_chain);
	proxy_tls_have_chain = 0;
	proxy_tls_nkeys = 0;
}

/* proxy_tls_server_ctx - our server context, built on first use */
static SSL_CTX *proxy_tls_server_ctx(char *why, size_t len)
{
	SSL_CTX *ctx;
	EVP_PKEY *key;
	X509 *leaf;
	char *ciphers;

	if (proxy_tls_server)
		return proxy_tls_server;
	tls_mgr_timeout = var_tlsmgr_timeout;
	if (proxy_tls_get_chain() < 0) {
		strlcpy(why, tls_mgr_error, len);
		return NULL;
	}
	leaf = sk_X509_value(proxy_tls_chain.certs, 0);
	if ((key = tls_prov_key(proxy_tls_chain.key_id, X509_get0_pubkey(leaf), why, len))
	    == NULL)
		return NULL;
	/* by construction: the key here is a handle, its signatures come from tlsmgr */
	if (!tls_prov_is_remote(key))
		msg_panic("proxy_tls_server_ctx: a private key in a network-facing process");
	ctx = SSL_CTX_new(TLS_server_method());
	ciphers = xasprintf("%s%s", var_tls_ciphers, PROXY_TLS_CIPHER_EXCLUDE);
	proxy_tls_protocols(ctx);
	SSL_CTX_set_options(ctx,
			    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION
				    | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (!SSL_CTX_set_cipher_list(ctx, ciphers)
	    || !SSL_CTX_set_ciphersuites(ctx, var_tls_ciphersuites)
	    || !SSL_CTX_set1_groups_list(ctx, PROXY_TLS_GROUPS)
	    || !SSL_CTX_set1_sigalgs_list(ctx, PROXY_TLS_SIGALGS)
	    || !SSL_CTX_use_certificate(ctx, leaf) || !SSL_CTX_use_PrivateKey(ctx, key)) {
		proxy_tls_reason(why, len, 0, "cannot set up the server context");
		free(ciphers);
		EVP_PKEY_free(key);
		SSL_CTX_free(ctx);
		return NULL;
	}
	free(ciphers);
	EVP_PKEY_free(key);
	for (int i = 1; i < sk_X509_num(proxy_tls_chain.certs); i++)
		SSL_CTX_add1_chain_cert(ctx, sk_X509_value(proxy_tls_chain.certs, i));
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *) "dlpgate", 7);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_timeout(ctx, var_tls_session_timeout);
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, proxy_tls_ticket_cb);
	return proxy_tls_server = ctx;
}

/* ---- the client side ---------------------------------------------------------- */

static void proxy_tls_hop_host(const struct proxy_session *s, char *buf, size_t len,
			       int *is_addr);

/* proxy_tls_mirror_key - tlsmgr's key for "this hop failed mirrored TLS" */
static int proxy_tls_mirror_key(const struct proxy_session *s, char *key, size_t len)
{
	char host[256];
	int is_addr;

	if (!proxy_tls_have_chain)
		return -1;
	proxy_tls_hop_host(s, host, sizeof(host), &is_addr);
	snprintf(key, len, "mirror-failed|%s|%s|%s", s->hop_name, host,
		 proxy_tls_chain.trust_digest);
	return 0;
}

/* proxy_tls_mirror_failed - remember, for every worker, that this hop failed */
void proxy_tls_mirror_failed(struct proxy_session *s, const char *why)
{
	char key[TLSMGR_SESS_KEY_MAX];
	size_t len = strlen(why);

	if (len == 0 || proxy_tls_mirror_key(s, key, sizeof(key)) < 0)
		return;
	if (len > TLSMGR_SESS_DATA_MAX)
		len = TLSMGR_SESS_DATA_MAX;
	(void) tls_mgr_sess_put(key, (const unsigned char *) why, len,
				(unsigned) var_tls_session_timeout);
}

/* proxy_tls_mirror_ok - can the next hop carry the client's TLS? */
static int proxy_tls_mirror_ok(struct proxy_session *s, char *why, size_t len)
{
	char key[TLSMGR_SESS_KEY_MAX];
	unsigned char data[TLSMGR_SESS_DATA_MAX];
	size_t dlen;

	if (!(s->hop_caps & CAP_STARTTLS)) {
		snprintf(why, len, "next hop offers no STARTTLS");
		return 0;
	}
	/* a hop whose TLS failed lately (its certificate, say) fails again */
	if (proxy_tls_mirror_key(s, key, sizeof(key)) == 0
	    && tls_mgr_sess_get(key, data, &dlen, sizeof(data)) == 0 && dlen > 0) {
		snprintf(why, len, "TLS to the next hop failed lately: %.*s",
			 (int) (dlen < 200 ? dlen : 200), (const char *) data);
		return 0;
	}
	return 1;
}

/* proxy_tls_offer - may our EHLO reply offer STARTTLS? */
int proxy_tls_offer(struct proxy_session *s)
{
	char why[256];

	if (s->tls_client || var_inbound_tls == INBOUND_TLS_NONE)
		return 0;
	static time_t logged, unmirrored;

	if (proxy_tls_server_ctx(why, sizeof(why)) != NULL) {
		/*
		 * mirror: a client that takes STARTTLS needs TLS to the next hop
		 * too; offer it only when the hop can carry it, or the client
		 * hears 451 4.7.5 and a may-TLS client (Postfix) defers forever.
		 * With encrypt the client must use TLS anyway: the 451 says why.
		 */
		if (var_outbound_tls != OUTBOUND_TLS_MIRROR
		    || var_inbound_tls != INBOUND_TLS_MAY
		    || proxy_tls_mirror_ok(s, why, sizeof(why)))
			return 1;
		if (time(NULL) - unmirrored >= 60) {
			unmirrored = time(NULL);
			evt_info(TLS_NOT_OFFERED, s->cid,
				 "client=%s hop=%s outbound_tls=mirror "
				 "reason=%s",
				 s->client_addr, s->hop_name, evt_quote(why));
		}
		return 0;
	}
	/* once a minute per worker is enough to say tlsmgr is missing */
	if (time(NULL) - logged >= 60) {
		logged = time(NULL);
		evt_warn(TLS_UNAVAILABLE, s->cid, "client=%s reason=\"%s\"%s", s->client_addr,
			 why,
			 var_inbound_tls == INBOUND_TLS_ENCRYPT ? " inbound_tls=encrypt"
								: " STARTTLS not offered");
	}
	/* with encrypt, offer it anyway: the client hears 454, then 530 */
	return var_inbound_tls == INBOUND_TLS_ENCRYPT;
}

/* proxy_tls_client_ok - may this command go before STARTTLS? */
int proxy_tls_client_ok(struct proxy_session *s)
{
	return s->tls_client || var_inbound_tls != INBOUND_TLS_ENCRYPT;
}

/* proxy_tls_server_ready - can we answer STARTTLS? (logs why not) */
int proxy_tls_server_ready(struct proxy_session *s)
{
	char why[256];

	if (proxy_tls_server_ctx(why, sizeof(why)) != NULL)
		return 1;
	evt_warn(TLS_UNAVAILABLE, s->cid, "client=%s reason=\"%s\"", s->client_addr, why);
	return 0;
}

/* proxy_tls_accept - the client's handshake on our server context */
int proxy_tls_accept(struct proxy_session *s, const char *how)
{
	char why[256], peer[128];
	SSL_CTX *ctx = proxy_tls_server_ctx(why, sizeof(why));
	SSL *ssl;

	if (ctx == NULL) {
		evt_warn(TLS_FAILED, s->cid, "side=client client=%s reason=\"%s\"",
			 s->client_addr, why);
		return -1;
	}
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, s->client->fd);
	if (proxy_tls_handshake(ssl, s->client->fd, 1, why, sizeof(why)) < 0) {
		evt_warn(TLS_FAILED, s->cid, "side=client client=%s via=%s reason=\"%s\"",
			 s->client_addr, how, why);
		if (strstr(why, "unknown key id"))
			proxy_tls_forget();
		SSL_free(ssl);
		return -1;
	}
	stream_set_ssl(s->client, ssl);
	s->tls_client = 1;
	strlcpy(s->env.tls_in, SSL_get_version(ssl), sizeof(s->env.tls_in));
	server_stats_add(SERVER_STAT_TLS_IN, 1);
	proxy_tls_peer(ssl, peer, sizeof(peer));
	evt_info(TLS_DONE, s->cid,
		 "side=client client=%s peer=%s unverified "
		 "protocol=%s cipher=%s resumed=%s via=%s",
		 s->client_addr, evt_quote(peer), SSL_get_version(ssl),
		 SSL_get_cipher_name(ssl), SSL_session_reused(ssl) ? "yes" : "no", how);
	return 0;
}

/* proxy_tls_wrapper - implicit TLS: the handshake before the banner */
int proxy_tls_wrapper(struct proxy_session *s)
{
	if (!var_tls_wrapper_mode)
		return 0;
	return proxy_tls_accept(s, "implicit-TLS");
}

/* ---- the next-hop side --------------------------------------------------------- */

/* proxy_tls_level_name - a level's word, for logs */
const char *proxy_tls_level_name(enum hop_level level)
{
	return proxy_tls_level_names[level];
}

/* proxy_tls_level - what outbound_tls asks of this session */
enum hop_level proxy_tls_level(const struct proxy_session *s)
{
	switch (var_outbound_tls) {
	case OUTBOUND_TLS_MIRROR:
		return !s->tls_client       ? HOP_TLS_NONE
			: var_mirror_verify ? HOP_TLS_VERIFY
					    : HOP_TLS_ENCRYPT;
	case OUTBOUND_TLS_NONE:
		return HOP_TLS_NONE;
	case OUTBOUND_TLS_MAY:
		return HOP_TLS_MAY;
	case OUTBOUND_TLS_ENCRYPT:
		return HOP_TLS_ENCRYPT;
	case OUTBOUND_TLS_VERIFY:
		return HOP_TLS_VERIFY;
	case OUTBOUND_TLS_SECURE:
		break;
	}
	return HOP_TLS_SECURE;
}

/* proxy_tls_hop_host - the next hop's name (or address) for SNI and checks */
static void proxy_tls_hop_host(const struct proxy_session *s, char *buf, size_t len,
			       int *is_addr)
{
	const char *b = strchr(s->hop_name, '[');

	*is_addr = 0;
	if (*var_outbound_tls_match_name) {
		strlcpy(buf, var_outbound_tls_match_name, len);
	} else if (b && b != s->hop_name) {
		snprintf(buf, len, "%.*s", (int) (b - s->hop_name), s->hop_name);
	} else if (s->hop_name[0] == '[') {
		snprintf(buf, len, "%.*s", (int) strcspn(s->hop_name + 1, "]"),
			 s->hop_name + 1);
		*is_addr = 1;
	} else {
		snprintf(buf, len, "%.*s", (int) strcspn(s->hop_name, ":"), s->hop_name);
		*is_addr = 1;
	}
	if (!*is_addr) {
		/* a name that is really an address literal */
		unsigned char tmp[16];

		*is_addr =
			inet_pton(AF_INET, buf, tmp) == 1 || inet_pton(AF_INET6, buf, tmp) == 1;
	}
}

/* proxy_tls_new_session - TLS 1.3 tickets arrive late: hand them to tlsmgr */
static int proxy_tls_new_session(SSL *ssl, SSL_SESSION *sess)
{
	const char *key = SSL_get_ex_data(ssl, proxy_tls_sess_idx);
	unsigned char buf[TLSMGR_SESS_DATA_MAX], *p = buf;
	int len = i2d_SSL_SESSION(sess, NULL);

	if (key && len > 0 && len <= (int) sizeof(buf) && i2d_SSL_SESSION(sess, &p) == len)
		(void) tls_mgr_sess_put(key, buf, (size_t) len,
					(unsigned) SSL_SESSION_get_timeout(sess));
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0; /* we did not keep a reference */
}

/* proxy_tls_free_key - the cache key kept with a next-hop SSL */
static void proxy_tls_free_key(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			       void *argp)
{
	free(ptr);
}

/* proxy_tls_client_cert_cb - our certificate, when a next hop asks (TLS 1.3) */
static int proxy_tls_client_cert_cb(SSL *ssl, void *arg)
{
	struct proxy_session *s = SSL_get_app_data(ssl);
	char why[256];
	EVP_PKEY *key;
	X509 *leaf;

	if (!proxy_tls_have_chain)
		return 1;
	if (SSL_version(ssl) != TLS1_3_VERSION) {
		evt_warn(HOP_TLS_NO_CCERT, s ? s->cid : NULL,
			 "hop=%s protocol=%s reason=\"dlpgate "
			 "signs client certificates in TLS 1.3 only\"",
			 s ? s->hop_name : "-", SSL_get_version(ssl));
		return 1;
	}
	leaf = sk_X509_value(proxy_tls_chain.certs, 0);
	if ((key = tls_prov_key(proxy_tls_chain.key_id, X509_get0_pubkey(leaf), why,
				sizeof(why)))
	    == NULL) {
		evt_warn(HOP_TLS_NO_CCERT, s ? s->cid : NULL, "hop=%s reason=\"%s\"",
			 s ? s->hop_name : "-", why);
		return 1;
	}
	if (!tls_prov_is_remote(key))
		msg_panic(
			"proxy_tls_client_cert_cb: a private key in a network-facing process");
	if (!SSL_use_certificate(ssl, leaf) || !SSL_use_PrivateKey(ssl, key)) {
		EVP_PKEY_free(key);
		ERR_clear_error();
		return 1;
	}
	EVP_PKEY_free(key);
	for (int i = 1; i < sk_X509_num(proxy_tls_chain.certs); i++)
		SSL_add1_chain_cert(ssl, sk_X509_value(proxy_tls_chain.certs, i));
	return 1;
}

/* proxy_tls_client_ctx - the context for next hops, with the trust store */
static SSL_CTX *proxy_tls_client_ctx(enum hop_level level, char *why, size_t len)
{
	SSL_CTX *ctx;
	X509_STORE *store;

	if (proxy_tls_client)
		return proxy_tls_client;
	tls_mgr_timeout = var_tlsmgr_timeout;
	if (proxy_tls_get_chain() < 0 && level >= HOP_TLS_VERIFY) {
		snprintf(why, len, "no trust store: %s", tls_mgr_error);
		return NULL;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	proxy_tls_protocols(ctx);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	if (!SSL_CTX_set_cipher_list(ctx, var_outbound_tls_ciphers)
	    || !SSL_CTX_set_ciphersuites(ctx, var_tls_ciphersuites)) {
		proxy_tls_reason(why, len, 0, "bad outbound_tls_ciphers");
		SSL_CTX_free(ctx);
		return NULL;
	}
	store = SSL_CTX_get_cert_store(ctx);
	/* a trusted keystore entry anchors the chain, even a next hop's own cert */
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	for (int i = 0; proxy_tls_have_chain && i < sk_X509_num(proxy_tls_chain.trust); i++)
		X509_STORE_add_cert(store, sk_X509_value(proxy_tls_chain.trust, i));
	if (var_tls_use_system_ca)
		X509_STORE_set_default_paths(store);
	ERR_clear_error();
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* checked per level below */
	if (var_outbound_tls_client_cert)
		SSL_CTX_set_cert_cb(ctx, proxy_tls_client_cert_cb, NULL);
	SSL_CTX_set_session_cache_mode(
		ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, proxy_tls_new_session);
	SSL_CTX_set_timeout(ctx, var_tls_session_timeout);
	if (proxy_tls_sess_idx < 0)
		proxy_tls_sess_idx =
			SSL_get_ex_new_index(0, NULL, NULL, NULL, proxy_tls_free_key);
	if (!proxy_tls_have_chain)
		return ctx; /* not cached: no trust store yet */
	return proxy_tls_client = ctx;
}

/* proxy_tls_hop_verify - the certificate check the level asks for */
static int proxy_tls_hop_verify(SSL *ssl, enum hop_level level, char *why, size_t len)
{
	long rc;

	if (level < HOP_TLS_VERIFY)
		return 0;
	if (SSL_get0_peer_certificate(ssl) == NULL) {
		snprintf(why, len, "no certificate from the next hop");
		return -1;
	}
	if ((rc = SSL_get_verify_result(ssl)) != X509_V_OK) {
		snprintf(why, len, "certificate not verified: %s",
			 X509_verify_cert_error_string(rc));
		return -1;
	}
	return 0;
}

/* proxy_tls_hop_handshake - after STARTTLS, the handshake and the check */
int proxy_tls_hop_handshake(struct proxy_session *s, enum hop_level level, char *why,
			    size_t len)
{
	SSL_CTX *ctx = proxy_tls_client_ctx(level, why, len);
	char host[256], key[TLSMGR_SESS_KEY_MAX], peer[128];
	unsigned char sbuf[TLSMGR_SESS_DATA_MAX];
	size_t slen;
	int is_addr;
	SSL *ssl;

	if (ctx == NULL)
		return -1;
	proxy_tls_hop_host(s, host, sizeof(host), &is_addr);
	ssl = SSL_new(ctx);
	if (ctx != proxy_tls_client)
		SSL_CTX_free(ctx); /* the SSL keeps its reference */
	SSL_set_fd(ssl, s->hop->fd);
	SSL_set_app_data(ssl, s); /* for the client certificate callback */
	if (!is_addr)
		SSL_set_tlsext_host_name(ssl, host);
	if (level == HOP_TLS_SECURE) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);

		if (is_addr ? !X509_VERIFY_PARAM_set1_ip_asc(vp, host)
			    : !SSL_set1_host(ssl, host)) {
			snprintf(why, len, "cannot check the name \"%s\"", host);
			SSL_free(ssl);
			return -1;
		}
	}
	snprintf(key, sizeof(key), "%s|%s|%s|%s", s->hop_name, proxy_tls_level_names[level],
		 host, proxy_tls_have_chain ? proxy_tls_chain.trust_digest : "-");
	SSL_set_ex_data(ssl, proxy_tls_sess_idx, xstrdup(key));
	if (tls_mgr_sess_get(key, sbuf, &slen, sizeof(sbuf)) == 0) {
		const unsigned char *p = sbuf;
		SSL_SESSION *sess = d2i_SSL_SESSION(NULL, &p, (long) slen);

		if (sess)
			SSL_set_session(ssl, sess);
		SSL_SESSION_free(sess);
	}
	*tls_mgr_error = 0;
	if (proxy_tls_handshake(ssl, s->hop->fd, 0, why, len) < 0
	    || proxy_tls_hop_verify(ssl, level, why, len) < 0) {
		evt_warn(TLS_FAILED, s->cid, "side=next-hop hop=%s reason=\"%s\"", s->hop_name,
			 why);
		SSL_free(ssl);
		return -1;
	}
	stream_set_ssl(s->hop, ssl);
	s->tls_hop = 1;
	server_stats_add(SERVER_STAT_TLS_OUT, 1);
	proxy_tls_peer(ssl, peer, sizeof(peer));
	evt_info(TLS_DONE, s->cid,
		 "side=next-hop hop=%s peer=%s %s protocol=%s cipher=%s "
		 "resumed=%s level=%s",
		 s->hop_name, evt_quote(peer),
		 SSL_get_verify_result(ssl) == X509_V_OK && SSL_get0_peer_certificate(ssl)
			 ? "verified"
			 : "unverified",
		 SSL_get_version(ssl), SSL_get_cipher_name(ssl),
		 SSL_session_reused(ssl) ? "yes" : "no", proxy_tls_level_names[level]);
	return 0;
}
