/*
 * dlpkey_tls - dlpkey tlsverify: a next hop's TLS, checked as dlpgate would
 *
 * dlpkey_tlsverify() takes DOMAIN and optionally HOST[:PORT]. Without a
 * host it looks up the MX hosts of DOMAIN (dns_servers, as forwarding
 * mode does: lowest preference first, the domain's own address without
 * MX) and checks every one of them in that order. For each host it
 * connects (port 25, or -port), says EHLO, STARTTLS, and prints whether
 * TLS is offered, the protocol and cipher, the chain, the verification
 * against the keystore's trusted certificates (and the system CAs with
 * tls_use_system_ca), whether the certificate names DOMAIN or the host,
 * and when it expires. Every wait is bounded (30 s per reply).
 *
 * Exit status (returned): 0 when every host verified, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>

#include <bsd/string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf_params.h"
#include "inet.h"
#include "keystore.h"
#include "dlpkey.h"
#include "../smtpd-proxy/proxy_dns.h"

#define DLPKEY_REPLY_WAIT 30000 /* ms for one SMTP reply */

/* dlpkey_smtp_reply - one SMTP reply from a blocking socket; its code */
static int dlpkey_smtp_reply(int fd, char *last, size_t len)
{
	char line[1024];
	size_t n = 0;
	int lines = 0;

	for (;;) {
		char ch;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		if (poll(&pfd, 1, DLPKEY_REPLY_WAIT) <= 0 || read(fd, &ch, 1) != 1)
			return -1;
		if (ch != '\n') {
			if (n < sizeof(line) - 1)
				line[n++] = ch;
			continue;
		}
		line[n] = 0;
		if (n && line[n - 1] == '\r')
			line[--n] = 0;
		if (n < 3 || ++lines > 100)
			return -1;
		if (n == 3 || line[3] == ' ') {
			strlcpy(last, line, len);
			return atoi(line);
		}
		n = 0;
	}
}

/* dlpkey_trust - an SSL_CTX that verifies as dlpgate's outbound TLS does */
static SSL_CTX *dlpkey_trust(struct keystore *ks, int *ntrust)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);

	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	*ntrust = 0;
	for (size_t i = 0; i < ks->n; i++)
		if (ks->e[i].type == KS_TRUSTED && ++*ntrust)
			X509_STORE_add_cert(store, sk_X509_value(ks->e[i].chain, 0));
	if (var_tls_use_system_ca)
		X509_STORE_set_default_paths(store);
	return ctx;
}

/* dlpkey_print_chain - the peer's chain, subject and issuer */
static void dlpkey_print_chain(SSL *ssl)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);

	for (int i = 0; chain && i < sk_X509_num(chain); i++) {
		char s[512], is[512];

		X509_NAME_oneline(X509_get_subject_name(sk_X509_value(chain, i)), s, sizeof(s));
		X509_NAME_oneline(X509_get_issuer_name(sk_X509_value(chain, i)), is,
				  sizeof(is));
		printf("  chain[%d]: %s\n            issued by %s\n", i, s, is);
	}
}

/* dlpkey_check_host - one host: connect, EHLO, STARTTLS, verify; 0 if ok */
static int dlpkey_check_host(SSL_CTX *ctx, int ntrust, const char *domain, const char *host,
			     const struct sockaddr *sa, socklen_t salen)
{
	char last[1024], err[256], addr[INET_ADDRSTR], when[64];
	SSL *ssl;
	X509 *peer;
	long vr;
	int fd, name_ok, ok;

	inet_addr_str(sa, addr, sizeof(addr));
	printf("Connecting to %s [%s].\n", host, addr);
	if ((fd = inet_connect(sa, salen, 30, NULL, err, sizeof(err))) < 0) {
		printf("Failed to connect: %s\nTLS verification FAILED.\n", err);
		return 1;
	}
	(void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (dlpkey_smtp_reply(fd, last, sizeof(last)) != 220) {
		printf("No SMTP banner\nTLS verification FAILED.\n");
		close(fd);
		return 1;
	}
	printf("Connected: %s\nChecking TLS connection.\n", last);
	dprintf(fd, "EHLO %s\r\n", *var_helo_name ? var_helo_name : "dlpkey.tlsverify");
	if (dlpkey_smtp_reply(fd, last, sizeof(last)) != 250) {
		printf("EHLO refused: %s\nTLS verification FAILED.\n", last);
		close(fd);
		return 1;
	}
	dprintf(fd, "STARTTLS\r\n");
	if (dlpkey_smtp_reply(fd, last, sizeof(last)) != 220) {
		printf("TLS offered: no (%s)\nTLS was required but could not be "
		       "negotiated.\nTLS verification FAILED.\n",
		       last);
		close(fd);
		return 1;
	}
	printf("TLS offered: yes\n");
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, host);
	if (SSL_connect(ssl) != 1) {
		unsigned long e = ERR_peek_error();

		printf("TLS handshake failed: %s\nTLS verification FAILED.\n",
		       e ? ERR_reason_error_string(e) : "connection closed");
		ERR_clear_error();
		SSL_free(ssl);
		close(fd);
		return 1;
	}
	printf("TLS connection established: protocol %s, cipher %s.\n", SSL_get_version(ssl),
	       SSL_get_cipher_name(ssl));
	dlpkey_print_chain(ssl);
	vr = SSL_get_verify_result(ssl);
	printf("Verifying peer certificate against %d trusted keystore certificate%s%s.\n",
	       ntrust, ntrust == 1 ? "" : "s",
	       var_tls_use_system_ca ? " and the system CAs" : "");
	peer = SSL_get0_peer_certificate(ssl);
	name_ok = peer
		&& (X509_check_host(peer, domain, 0, 0, NULL) == 1
		    || (strcmp(host, domain) != 0
			&& X509_check_host(peer, host, 0, 0, NULL) == 1));
	printf("TLS certificate %s.\n",
	       vr == X509_V_OK ? "verified" : X509_verify_cert_error_string(vr));
	printf("TLS certificate name %s %s%s%s.\n", name_ok ? "matches" : "does NOT match",
	       domain, strcmp(host, domain) ? " or " : "", strcmp(host, domain) ? host : "");
	if (peer) {
		int days = dlpkey_days_left(peer);

		dlpkey_time(X509_get0_notAfter(peer), when, sizeof(when));
		printf("TLS certificate expires %s (%s%d days).\n", when,
		       days < 0 ? "EXPIRED " : "", days < 0 ? -days : days);
	}
	ok = vr == X509_V_OK && name_ok;
	printf("Verdict: outbound_tls=encrypt ok, verify %s, secure %s\n",
	       vr == X509_V_OK ? "ok" : "FAILS", ok ? "ok" : "FAILS");
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	printf("TLS verification %s.\n", ok ? "completed" : "FAILED");
	return ok ? 0 : 1;
}

/* dlpkey_set_port - the port of an IPv4 or IPv6 address */
static void dlpkey_set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *) ss)->sin6_port = htons((uint16_t) port);
	else
		((struct sockaddr_in *) ss)->sin_port = htons((uint16_t) port);
}

/* dlpkey_tlsverify - one named host, or every MX host of the domain */
int dlpkey_tlsverify(const struct dlpkey_opts *o)
{
	struct keystore ks;
	char pass[KS_PASS_MAX], host[256], port[32], defport[32];
	struct dns_result *res;
	SSL_CTX *ctx;
	int ntrust, bad = 0, nport = o->port ? o->port : 25;

	if (o->nargs < 1 || o->nargs > 2 || nport > 65535)
		dlpkey_die("usage: dlpkey tlsverify DOMAIN [HOST[:PORT]] [-port N]");
	dlpkey_load(o, &ks, pass, sizeof(pass));
	ctx = dlpkey_trust(&ks, &ntrust);
	if (o->nargs == 2) {
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;

		snprintf(defport, sizeof(defport), "%d", nport);
		if (inet_split_hostport(o->args[1], host, sizeof(host), port, sizeof(port),
					defport)
		    < 0)
			dlpkey_die("bad host \"%s\"", o->args[1]);
		if (getaddrinfo(host, port, &hints, &ai) != 0)
			dlpkey_die("cannot resolve %s", host);
		bad = dlpkey_check_host(ctx, ntrust, o->args[0], host, ai->ai_addr,
					ai->ai_addrlen);
		freeaddrinfo(ai);
	} else {
		res = calloc(1, sizeof(*res));
		if (res == NULL)
			dlpkey_die("out of memory");
		proxy_dns_init();
		proxy_dns_mx("tlsverify", o->args[0], res);
		if (res->status != DNS_OK)
			dlpkey_die("no mail host for %s: %s", o->args[0], res->answer);
		printf("%s: %zu address%s of its mail hosts, in MX preference order.\n",
		       o->args[0], res->ntarget, res->ntarget == 1 ? "" : "es");
		for (size_t i = 0; i < res->ntarget; i++) {
			struct dns_target *t = &res->target[i];

			dlpkey_set_port(&t->sa, nport);
			printf("\n== MX %s (preference %u)\n", t->host, t->pref);
			bad |= dlpkey_check_host(ctx, ntrust, o->args[0], t->host,
						 (struct sockaddr *) &t->sa, t->salen);
		}
		printf("\n%s: %s.\n", o->args[0],
		       bad ? "TLS verification FAILED for at "
			     "least one mail host"
			   : "every mail host verified");
		free(res);
	}
	SSL_CTX_free(ctx);
	ks_free(&ks);
	OPENSSL_cleanse(pass, sizeof(pass));
	return bad;
}
