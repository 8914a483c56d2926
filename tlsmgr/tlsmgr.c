/*
 * tlsmgr - the keystore owner: every private-key operation of dlpgate
 *
 * SYNOPSIS
 *	tlsmgr (started by master as a singleton unix service)
 *
 * DESCRIPTION
 *	tlsmgr opens the keystore (a password-protected PKCS#12 file, see
 *	dlpkey(1)) before it drops privileges to its own user, and keeps
 *	dlpgate's private key in its memory alone. The smtpd-proxy workers
 *	connect to run_directory/private/tlsmgr and ask, one request at a
 *	time (see common/tls_proto.h), for:
 *	    the certificate chain and the trusted next-hop certificates,
 *	    a signature over TLS handshake bytes (checked to be a TLS 1.3
 *	    CertificateVerify or a TLS 1.2 ECDHE ServerKeyExchange),
 *	    the session-ticket keys, and
 *	    cached next-hop TLS sessions.
 *	tlsmgr never decrypts and never hands out a private key. A peer
 *	that is not a worker (SO_PEERCRED) is refused; a malformed request
 *	gets an error and the connection is closed.
 *
 *	Without a keystore, tlsmgr creates one with a self-signed
 *	certificate for helo_name (and a random password file) and logs it.
 *
 * DIAGNOSTICS
 *	4003 keystore created, 4004 keystore loaded, 4005 keystore error,
 *	4006 certificate expires soon, 4007 certificate expired,
 *	4008 tlsmgr request refused, 4012 tlsmgr ready.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "conf.h"
#include "conf_params.h"
#include "evt.h"
#include "ipc.h"
#include "mem.h"
#include "msg.h"
#include "scan.h"
#include "server.h"
#include "tls_proto.h"
#include "keystore.h"
#include "tlsmgr.h"

#define TLSMGR_WORKER_USER   "dlpgate"
#define TLSMGR_MAX_CLIENTS   1000
#define TLSMGR_SEND_TIMEOUT  2
#define TLSMGR_DEFAULT_ALIAS "dlpgate"

static struct keystore tlsmgr_ks;
static struct ks_entry *tlsmgr_key; /* the entry we serve */
static unsigned char tlsmgr_key_id[TLSMGR_KEY_ID_LEN];
static char tlsmgr_path[PATH_MAX], tlsmgr_pass_path[PATH_MAX];
static int tlsmgr_created;
static int tlsmgr_trust_fd = -1;
static uint64_t tlsmgr_trust_size;
static int tlsmgr_ntrust;
static uid_t tlsmgr_worker_uid = (uid_t) -1;
static int tlsmgr_nclients;
static struct ipc_msg tlsmgr_msg;

/* tlsmgr_default_subject - CN of the self-signed certificate */
static void tlsmgr_default_subject(char *buf, size_t len)
{
	char host[256] = "localhost";

	if (*var_helo_name)
		snprintf(host, sizeof(host), "%s", var_helo_name);
	else if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "localhost");
	snprintf(buf, len, "CN=%s", host);
}

/* tlsmgr_create - a keystore with a self-signed certificate (first start) */
static void tlsmgr_create(uid_t uid, gid_t gid)
{
	struct keystore ks = {NULL, 0};
	struct ks_entry *e;
	unsigned char rnd[18];
	char pass[KS_PASS_MAX], dname[300], err[512];
	EVP_PKEY *key;
	X509 *x;

	if (access(tlsmgr_pass_path, F_OK) == 0) {
		if (ks_read_password(tlsmgr_pass_path, pass, sizeof(pass), err, sizeof(err))
		    < 0)
			msg_fatal("%s", err);
	} else {
		if (RAND_priv_bytes(rnd, sizeof(rnd)) <= 0)
			msg_fatal("no random bytes for a keystore password");
		EVP_EncodeBlock((unsigned char *) pass, rnd, sizeof(rnd));
		if (ks_write_password(tlsmgr_pass_path, pass, uid, gid, err, sizeof(err)) < 0)
			msg_fatal("cannot create keystore_password_file: %s", err);
	}
	tlsmgr_default_subject(dname, sizeof(dname));
	if ((key = ks_generate_key("RSA", 2048, err, sizeof(err))) == NULL
	    || (x = ks_self_signed(key, dname, 3650, err, sizeof(err))) == NULL)
		msg_fatal("cannot make a self-signed certificate: %s", err);
	e = ks_add(&ks, TLSMGR_DEFAULT_ALIAS, KS_KEY);
	e->key = key;
	sk_X509_push(e->chain, x);
	if (ks_save(&ks, tlsmgr_path, pass, uid, gid, err, sizeof(err)) < 0)
		msg_fatal("cannot create the keystore: %s", err);
	ks_free(&ks);
	OPENSSL_cleanse(pass, sizeof(pass));
	tlsmgr_created = 1;
}

/* tlsmgr_pick_key - the private key entry we serve */
static struct ks_entry *tlsmgr_pick_key(char *err, size_t errlen)
{
	struct ks_entry *found = NULL;
	int nkeys = 0;

	if (*var_tls_key_alias) {
		found = ks_find(&tlsmgr_ks, var_tls_key_alias);
		if (found == NULL || found->type != KS_KEY) {
			snprintf(err, errlen,
				 "tls_key_alias \"%s\" is not a private key "
				 "entry of %s",
				 var_tls_key_alias, tlsmgr_path);
			return NULL;
		}
		return found;
	}
	for (size_t i = 0; i < tlsmgr_ks.n; i++)
		if (tlsmgr_ks.e[i].type == KS_KEY && nkeys++ == 0)
			found = &tlsmgr_ks.e[i];
	if (nkeys == 1)
		return found;
	/* several: the one named like the entry tlsmgr itself creates */
	if ((found = ks_find(&tlsmgr_ks, TLSMGR_DEFAULT_ALIAS)) != NULL
	    && found->type == KS_KEY)
		return found;
	snprintf(err, errlen,
		 "%s has %d private key entries and none is \"%s\": set "
		 "tls_key_alias",
		 tlsmgr_path, nkeys, TLSMGR_DEFAULT_ALIAS);
	return NULL;
}

/* tlsmgr_pre_init - as root: create the keystore if missing, then load it */
static void tlsmgr_pre_init(void)
{
	struct passwd *pw = server.user ? getpwnam(server.user) : NULL;
	uid_t uid = pw ? pw->pw_uid : (uid_t) -1;
	gid_t gid = pw ? pw->pw_gid : (gid_t) -1;
	char pass[KS_PASS_MAX], err[512];
	struct stat st;
	unsigned len = 0;

	ks_paths(tlsmgr_path, sizeof(tlsmgr_path), tlsmgr_pass_path, sizeof(tlsmgr_pass_path));
	if (stat(tlsmgr_path, &st) < 0 && errno == ENOENT && *var_keystore) {
		/* the administrator's keystore: never replaced by a self-signed one */
		evt_error(KS_ERROR, NULL,
			  "keystore=%s reason=\"missing; make it with "
			  "dlpkey genkeypair, importkey or importkeystore\"",
			  tlsmgr_path);
		msg_fatal("keystore %s (set in dlpgate.conf) does not exist; make it with: "
			  "dlpkey genkeypair -alias dlpgate -dname \"CN=%s\" -keystore %s",
			  tlsmgr_path, *var_helo_name ? var_helo_name : "mail.example.com",
			  tlsmgr_path);
	}
	if (stat(tlsmgr_path, &st) < 0 && errno == ENOENT)
		tlsmgr_create(uid, gid);
	else if (stat(tlsmgr_path, &st) == 0 && (st.st_mode & 077))
		msg_warn("keystore %s can be read by other users (mode %03o): "
			 "chmod 600 it, owned by %s",
			 tlsmgr_path, (unsigned) st.st_mode & 0777,
			 server.user ? server.user : "tlsmgr's user");
	if (ks_read_password(tlsmgr_pass_path, pass, sizeof(pass), err, sizeof(err)) < 0
	    || ks_load(tlsmgr_path, pass, &tlsmgr_ks, err, sizeof(err)) < 0) {
		OPENSSL_cleanse(pass, sizeof(pass));
		evt_error(KS_ERROR, NULL, "keystore=%s reason=\"%s\"", tlsmgr_path, err);
		msg_fatal("cannot open the keystore: %s", err);
	}
	OPENSSL_cleanse(pass, sizeof(pass));
	if ((tlsmgr_key = tlsmgr_pick_key(err, sizeof(err))) == NULL) {
		evt_error(KS_ERROR, NULL, "keystore=%s reason=\"%s\"", tlsmgr_path, err);
		msg_fatal("%s", err);
	}
	if (!ks_key_matches(tlsmgr_key->key, sk_X509_value(tlsmgr_key->chain, 0))) {
		evt_error(KS_ERROR, NULL,
			  "keystore=%s alias=%s reason=\"the private key "
			  "does not match its certificate\"",
			  tlsmgr_path, tlsmgr_key->alias);
		msg_fatal("keystore entry %s: key and certificate do not match",
			  tlsmgr_key->alias);
	}
	X509_digest(sk_X509_value(tlsmgr_key->chain, 0), EVP_sha256(), tlsmgr_key_id, &len);
	if ((pw = getpwnam(TLSMGR_WORKER_USER)) != NULL)
		tlsmgr_worker_uid = pw->pw_uid;
}

/* tlsmgr_subject - one-line subject of a certificate */
static void tlsmgr_subject(X509 *x, char *buf, size_t len)
{
	X509_NAME_oneline(X509_get_subject_name(x), buf, (int) len);
}

/* tlsmgr_check_dates - warn about what expires within 30 days */
static void tlsmgr_check_dates(void)
{
	for (size_t i = 0; i < tlsmgr_ks.n; i++) {
		X509 *x = sk_X509_value(tlsmgr_ks.e[i].chain, 0);
		int days = 0, secs = 0;
		char subj[256];

		if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)))
			continue;
		tlsmgr_subject(x, subj, sizeof(subj));
		if (days < 0 || (days == 0 && secs < 0))
			evt_error(CERT_EXPIRED, NULL, "alias=%s subject=\"%s\" days=%d",
				  tlsmgr_ks.e[i].alias, subj, -days);
		else if (days < 30)
			evt_warn(CERT_EXPIRING, NULL, "alias=%s subject=\"%s\" days=%d",
				 tlsmgr_ks.e[i].alias, subj, days);
	}
}

/* tlsmgr_build_trust - the trusted certificates in a sealed memfd */
static void tlsmgr_build_trust(void)
{
	struct buf b;

	buf_init(&b, 4096);
	for (size_t i = 0; i < tlsmgr_ks.n; i++) {
		unsigned char *der = NULL;
		int len;
		uint32_t l;

		if (tlsmgr_ks.e[i].type != KS_TRUSTED)
			continue;
		if ((len = i2d_X509(sk_X509_value(tlsmgr_ks.e[i].chain, 0), &der)) <= 0)
			continue;
		l = (uint32_t) len;
		buf_append(&b, &l, 4);
		buf_append(&b, der, (size_t) len);
		OPENSSL_free(der);
		tlsmgr_ntrust++;
	}
	if (b.len > TLSMGR_TRUST_MAX)
		msg_fatal("trusted certificates take more than %d bytes", TLSMGR_TRUST_MAX);
	tlsmgr_trust_size = b.len;
	if ((tlsmgr_trust_fd = scan_memfd_from("dlpgate-trust", b.data, b.len)) < 0)
		msg_fatal("cannot create the trust store memfd");
	buf_free(&b);
}

/* tlsmgr_error - answer TLSMGR_ERROR with a reason */
static void tlsmgr_error(int fd, const char *reason)
{
	struct ipc_out out;

	ipc_out_init(&out, TLSMGR_ERROR);
	ipc_put_str(&out, TLSMGR_TAG_REASON, reason);
	(void) ipc_send(fd, &out, NULL, 0, TLSMGR_SEND_TIMEOUT);
	ipc_out_free(&out);
}

/* tlsmgr_do_chain - the chain, key id and trust store */
static int tlsmgr_do_chain(int fd)
{
	struct ipc_out out;
	int rc;

	ipc_out_init(&out, TLSMGR_CHAIN_OK);
	ipc_put_bytes(&out, TLSMGR_TAG_KEY_ID, tlsmgr_key_id, sizeof(tlsmgr_key_id));
	ipc_put_str(&out, TLSMGR_TAG_KEY_TYPE,
		    EVP_PKEY_is_a(tlsmgr_key->key, "EC") ? "EC" : "RSA");
	ipc_put_u32(&out, TLSMGR_TAG_KEY_BITS, (uint32_t) EVP_PKEY_get_bits(tlsmgr_key->key));
	ipc_put_str(&out, TLSMGR_TAG_ALIAS, tlsmgr_key->alias);
	for (int i = 0; i < sk_X509_num(tlsmgr_key->chain) && i < TLSMGR_CHAIN_MAX; i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(sk_X509_value(tlsmgr_key->chain, i), &der);

		if (len > 0 && out.b.len + (size_t) len < IPC_MAX_MSG - 1024)
			ipc_put_bytes(&out, TLSMGR_TAG_CERT, der, (size_t) len);
		OPENSSL_free(der);
	}
	ipc_put_u64(&out, TLSMGR_TAG_TRUST_SIZE, tlsmgr_trust_size);
	ipc_put_u32(&out, TLSMGR_TAG_NTRUST, (uint32_t) tlsmgr_ntrust);
	rc = ipc_send(fd, &out, &tlsmgr_trust_fd, 1, TLSMGR_SEND_TIMEOUT);
	ipc_out_free(&out);
	return rc == IPC_OK ? 0 : -1;
}

/* tlsmgr_do_sign - a signature over TLS handshake bytes, if they are that */
static int tlsmgr_do_sign(int fd, const struct ipc_msg *m, char *why, size_t whylen)
{
	const struct ipc_attr *id = ipc_get(m, TLSMGR_TAG_KEY_ID);
	const struct ipc_attr *tbs = ipc_get(m, TLSMGR_TAG_TBS);
	unsigned char sig[TLSMGR_SIG_MAX];
	size_t siglen = sizeof(sig);
	struct ipc_out out;
	uint32_t scheme;
	int rc;

	if (id == NULL || id->len != TLSMGR_KEY_ID_LEN || tbs == NULL
	    || tbs->len > TLSMGR_TBS_MAX || ipc_get_u32(m, TLSMGR_TAG_SCHEME, &scheme) < 0) {
		snprintf(why, whylen, "malformed signing request");
		return -1;
	}
	if (memcmp(id->val, tlsmgr_key_id, TLSMGR_KEY_ID_LEN) != 0) {
		/* the keystore changed under a worker: it fetches the chain again */
		tlsmgr_error(fd, "unknown key id");
		return 0;
	}
	if (tlsmgr_sign(tlsmgr_key->key, scheme, tbs->val, tbs->len, sig, &siglen, why, whylen)
	    < 0)
		return -1;
	ipc_out_init(&out, TLSMGR_SIGN_OK);
	ipc_put_bytes(&out, TLSMGR_TAG_SIG, sig, siglen);
	rc = ipc_send(fd, &out, NULL, 0, TLSMGR_SEND_TIMEOUT);
	ipc_out_free(&out);
	return rc == IPC_OK ? 0 : -1;
}

/* tlsmgr_do_tickets - the session-ticket keys */
static int tlsmgr_do_tickets(int fd)
{
	struct tls_ticket_key keys[4];
	struct ipc_out out;
	int n = tlsmgr_ticket_keys(keys, 4, time(NULL)), rc;

	ipc_out_init(&out, TLSMGR_TICKETS_OK);
	for (int i = 0; i < n; i++)
		ipc_put_bytes(&out, TLSMGR_TAG_TICKET_KEY, &keys[i], sizeof(keys[i]));
	rc = ipc_send(fd, &out, NULL, 0, TLSMGR_SEND_TIMEOUT);
	ipc_out_free(&out);
	OPENSSL_cleanse(keys, sizeof(keys));
	return rc == IPC_OK ? 0 : -1;
}

/* tlsmgr_do_session - get or put a next-hop session */
static int tlsmgr_do_session(int fd, const struct ipc_msg *m, char *why, size_t whylen)
{
	char key[TLSMGR_SESS_KEY_MAX + 1];
	const struct ipc_attr *data = ipc_get(m, TLSMGR_TAG_SESS_DATA);
	struct ipc_out out;
	uint32_t life = 0;
	int rc;

	if (ipc_get_str(m, TLSMGR_TAG_SESS_KEY, TLSMGR_SESS_KEY_MAX, key, sizeof(key)) == NULL
	    || (m->type == TLSMGR_REQ_SESS_PUT
		&& (data == NULL || data->len == 0 || data->len > TLSMGR_SESS_DATA_MAX
		    || ipc_get_u32(m, TLSMGR_TAG_LIFETIME, &life) < 0))) {
		snprintf(why, whylen, "malformed session request");
		return -1;
	}
	ipc_out_init(&out, TLSMGR_SESS_OK);
	if (m->type == TLSMGR_REQ_SESS_PUT) {
		tlsmgr_cache_put(key, data->val, data->len, life, time(NULL));
	} else {
		size_t len;
		const unsigned char *p = tlsmgr_cache_get(key, &len, time(NULL));

		if (p)
			ipc_put_bytes(&out, TLSMGR_TAG_SESS_DATA, p, len);
	}
	rc = ipc_send(fd, &out, NULL, 0, TLSMGR_SEND_TIMEOUT);
	ipc_out_free(&out);
	return rc == IPC_OK ? 0 : -1;
}

/* tlsmgr_dispatch - one request from a worker; -1 drops the connection */
static int tlsmgr_dispatch(int fd)
{
	char why[256] = "";
	int rc;

	rc = ipc_recv(fd, &tlsmgr_msg, 0, why, sizeof(why));
	if (rc == IPC_TIMEOUT)
		return 0; /* spurious wakeup */
	if (rc == IPC_EOF)
		return -1;
	if (rc != IPC_OK) {
		evt_warn(TLSMGR_REFUSED, NULL, "reason=\"%s\"", why);
		tlsmgr_error(fd, why);
		return -1;
	}
	if (tlsmgr_msg.nfds > 0) {
		ipc_close_fds(&tlsmgr_msg);
		snprintf(why, sizeof(why), "unexpected descriptors");
		rc = -1;
	} else {
		switch (tlsmgr_msg.type) {
		case TLSMGR_REQ_CHAIN:
			rc = tlsmgr_do_chain(fd);
			break;
		case TLSMGR_REQ_SIGN:
			rc = tlsmgr_do_sign(fd, &tlsmgr_msg, why, sizeof(why));
			break;
		case TLSMGR_REQ_TICKETS:
			rc = tlsmgr_do_tickets(fd);
			break;
		case TLSMGR_REQ_SESS_GET:
		case TLSMGR_REQ_SESS_PUT:
			rc = tlsmgr_do_session(fd, &tlsmgr_msg, why, sizeof(why));
			break;
		default:
			snprintf(why, sizeof(why), "unknown request type %u", tlsmgr_msg.type);
			rc = -1;
		}
	}
	if (rc < 0 && *why) {
		evt_warn(TLSMGR_REFUSED, NULL, "reason=\"%s\"", why);
		tlsmgr_error(fd, why);
	}
	return rc;
}

/* tlsmgr_peer_ok - only workers (and our own uid, without privsep) */
static int tlsmgr_peer_ok(int fd)
{
	uid_t uid;
	pid_t pid;

	if (ipc_peer_cred(fd, &uid, &pid) < 0) {
		evt_warn(TLSMGR_REFUSED, NULL, "reason=\"no peer credentials\"");
		return 0;
	}
	if (uid == getuid() || uid == tlsmgr_worker_uid)
		return 1;
	evt_warn(TLSMGR_REFUSED, NULL, "reason=\"peer uid %ld pid %ld is not a worker\"",
		 (long) uid, (long) pid);
	return 0;
}

/* tlsmgr_accept - a new worker connection */
static void tlsmgr_accept(int ep)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int fd = accept4(SERVER_LISTEN_FD, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (tlsmgr_nclients >= TLSMGR_MAX_CLIENTS || !tlsmgr_peer_ok(fd)) {
		if (tlsmgr_nclients >= TLSMGR_MAX_CLIENTS)
			evt_warn(TLSMGR_REFUSED, NULL, "reason=\"%d connections\"",
				 tlsmgr_nclients);
		close(fd);
		return;
	}
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return;
	}
	tlsmgr_nclients++;
}

/* tlsmgr_loop - serve workers until master goes away */
static void tlsmgr_loop(void)
{
	struct epoll_event ev, evs[64];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || server.nlisten != 1)
		msg_fatal("tlsmgr needs exactly one listen socket");
	ev.events = EPOLLIN;
	ev.data.fd = SERVER_LISTEN_FD;
	epoll_ctl(ep, EPOLL_CTL_ADD, SERVER_LISTEN_FD, &ev);
	ev.data.fd = SERVER_STATUS_FD;
	epoll_ctl(ep, EPOLL_CTL_ADD, SERVER_STATUS_FD, &ev);
	/* a singleton is always "busy": master keeps exactly this one */
	server_report(SERVER_BUSY);
	while (!server_master_gone()) {
		int n = epoll_wait(ep, evs, 64, 60000);

		if (n < 0 && errno != EINTR)
			msg_fatal("epoll_wait: %m");
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == SERVER_LISTEN_FD) {
				tlsmgr_accept(ep);
			} else if (fd == SERVER_STATUS_FD) {
				(void) server_master_gone();
			} else if (tlsmgr_dispatch(fd) < 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
				tlsmgr_nclients--;
			}
		}
	}
}

int main(int argc, char **argv)
{
	X509 *leaf;
	char subj[256], fp[128];

	server_pre_init = tlsmgr_pre_init;
	server_init(argc, argv, "tlsmgr");
	leaf = sk_X509_value(tlsmgr_key->chain, 0);
	tlsmgr_subject(leaf, subj, sizeof(subj));
	ks_fingerprint(leaf, fp, sizeof(fp));
	if (tlsmgr_created)
		evt_info(KS_CREATED, NULL,
			 "keystore=%s password_file=%s alias=%s "
			 "subject=\"%s\" self-signed: replace it with dlpkey",
			 tlsmgr_path, tlsmgr_pass_path, tlsmgr_key->alias, subj);
	tlsmgr_build_trust();
	evt_info(KS_LOADED, NULL,
		 "keystore=%s alias=%s key=%s-%d subject=\"%s\" "
		 "sha256=%s chain=%d trusted=%d",
		 tlsmgr_path, tlsmgr_key->alias,
		 EVP_PKEY_is_a(tlsmgr_key->key, "EC") ? "EC" : "RSA",
		 EVP_PKEY_get_bits(tlsmgr_key->key), subj, fp, sk_X509_num(tlsmgr_key->chain),
		 tlsmgr_ntrust);
	tlsmgr_check_dates();
	tlsmgr_cache_init(var_tls_session_cache_size);
	evt_info(TLSMGR_READY, NULL, "pid=%ld", (long) getpid());
	tlsmgr_loop();
	return 0;
}
