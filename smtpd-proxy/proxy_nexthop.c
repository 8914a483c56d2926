/*
 * proxy_nexthop - choosing and connecting the next hop, and its EHLO
 *
 * Reflecting mode: the client's own address on resubmit_port (the real
 * client's, behind a PROXY header), so the message returns to the MTA
 * that sent it. Forwarding mode: the next_hop list in order; each entry
 * becomes addresses per next_hop_lookup (static: the host's addresses;
 * mx: the domain's MX hosts in RFC 5321 order, see proxy_dns.c; a
 * [bracketed] entry or an address literal is never an MX lookup) and
 * every address is tried until one answers 220, at most
 * next_hop_address_limit of them. An address that is our own listening
 * socket is skipped: it would loop.
 *
 * Every failed attempt is remembered and, when none answered, logged in
 * one line naming each hop and why. The client's greeting then says why:
 * 421 4.4.1 when hosts were tried and none answered 220; 451 4.4.3 when a
 * lookup failed temporarily (SERVFAIL, timeout); 451 4.4.4 when a name
 * has no address at all (NXDOMAIN, null MX, no A/AAAA). After a 451 the
 * session waits for QUIT, answering anything else with the same 451
 * (proxy_chat_refuse).
 *
 * Our EHLO goes out as soon as the client has the greeting (it names us,
 * not the client), so its reply is there when the client's EHLO comes; a
 * client that says anything else first makes us read and drop it.
 *
 * After our EHLO, when outbound_tls wants TLS (proxy_hop_starttls): we
 * send STARTTLS, refuse a next hop that sends anything behind its 220 (a
 * reply injected before the handshake), handshake and verify per level
 * (proxy_tls.c), and EHLO again inside TLS. When TLS is required and
 * cannot be had, nothing goes out in the clear: the next-hop connection
 * is closed, the client's EHLO gets 451 4.7.5 with the reason, and 4010
 * says which hop and why.
 *
 * proxy_hop_failed() logs why a next hop that failed is gone (2004, 2005,
 * 2006) and closes it; what the client hears is proxy_chat.c's.
 */
#include <ctype.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "conf_params.h"
#include "evt.h"
#include "inet.h"
#include "mem.h"
#include "msg.h"
#include "proxy.h"
#include "proxy_dns.h"

/* proxy_hop_close - drop the next-hop connection */
void proxy_hop_close(struct proxy_session *s)
{
	if (s->hop) {
		stream_close(s->hop);
		s->hop = NULL;
	}
	s->hop_dead = 1;
	s->ehlo_sent = 0;
}

/* proxy_hop_failed - log why the next hop is gone, drop it */
void proxy_hop_failed(struct proxy_session *s, int status, const char *doing)
{
	if (status == HOP_GARBLED)
		evt_warn(HOP_PROTO, s->cid, "hop=%s during=%s", s->hop_name, evt_quote(doing));
	else if (status == HOP_TIMEOUT)
		evt_warn(HOP_TIMEOUT, s->cid, "hop=%s during=%s", s->hop_name,
			 evt_quote(doing));
	else
		evt_warn(HOP_LOST, s->cid, "hop=%s during=%s", s->hop_name, evt_quote(doing));
	proxy_hop_close(s);
}

/* What the attempts of one session came to. */
struct hop_tries {
	struct buf why;       /* every failure, for the log */
	int connects;         /* addresses we tried to connect to */
	int budget;           /* next_hop_address_limit left */
	int loops;            /* addresses that were our own */
	enum dns_status dns;  /* worst lookup: TEMPFAIL > NOTFOUND > OK */
	char dns_entry[256];  /* the next_hop entry it was about */
	char dns_answer[256]; /* and what DNS said */
	const char *lookup;   /* "mx", "dns", "native", "literal" */
	char entry[256];      /* the entry that answered */
};

/* proxy_hop_why - note one failure for the log line */
static void proxy_hop_why(struct hop_tries *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void proxy_hop_why(struct hop_tries *t, const char *fmt, ...)
{
	va_list ap;

	if (t->why.len > 2048)
		return; /* enough to diagnose */
	if (t->why.len)
		buf_puts(&t->why, "; ");
	va_start(ap, fmt);
	buf_vprintf(&t->why, fmt, ap);
	va_end(ap);
}

/* proxy_same_addr - the same address and port (v4-mapped as v4) */
static int proxy_same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	struct cidr c;
	char host[INET6_ADDRSTRLEN];

	if (inet_port(a) != inet_port(b))
		return 0;
	inet_host_str(a, host, sizeof(host));
	if (cidr_parse(host, &c) < 0)
		return 0;
	return cidr_match(&c, b);
}

/* proxy_bind_address - next_hop_bind_address for a family, or NULL */
static const char *proxy_bind_address(int family)
{
	for (size_t i = 0; i < var_next_hop_bind_address.count; i++) {
		const char *a = var_next_hop_bind_address.items[i];

		if ((strchr(a, ':') != NULL) == (family == AF_INET6))
			return a;
	}
	return NULL;
}

/* proxy_hop_try - connect to one address and read a 220 banner */
static int proxy_hop_try(struct proxy_session *s, const struct sockaddr *sa, socklen_t salen,
			 const char *name, struct smtp_reply *banner, struct hop_tries *t)
{
	char err[256], addr[INET6_ADDRSTRLEN];
	int fd, rc;

	/* Postfix style: "name[address]:port", or the address alone */
	inet_host_str(sa, addr, sizeof(addr));
	if (name && strcmp(name, addr) != 0)
		snprintf(s->hop_name, sizeof(s->hop_name), "%s[%s]:%d", name, addr,
			 inet_port(sa));
	else
		inet_addr_str(sa, s->hop_name, sizeof(s->hop_name));
	if (s->local_salen && proxy_same_addr(sa, (struct sockaddr *) &s->local_sa)) {
		/* an MX or next_hop that names ourselves would loop forever */
		evt_warn(HOP_LOOP, s->cid, "hop=%s", s->hop_name);
		proxy_hop_why(t, "%s: loops back to myself", s->hop_name);
		t->loops++;
		return -1;
	}
	if (t->budget <= 0)
		return -1;
	t->budget--;
	t->connects++;
	fd = inet_connect(sa, salen, var_next_hop_connect_timeout,
			  proxy_bind_address(sa->sa_family), err, sizeof(err));
	if (fd < 0) {
		proxy_hop_why(t, "%s: %s", s->hop_name, err);
		return -1;
	}
	s->hop = stream_open(fd, var_next_hop_timeout);
	s->hop_dead = 0;
	rc = proxy_read_reply(s, banner, var_next_hop_timeout);
	/* nothing may follow the greeting before we speak */
	if (rc == HOP_OK && stream_pending(s->hop) > 0)
		rc = HOP_GARBLED;
	if (rc == HOP_OK && banner->code == 220)
		return 0;
	if (rc == HOP_OK)
		proxy_hop_why(t, "%s: banner '%s'", s->hop_name, banner->first);
	else
		proxy_hop_why(t, "%s: %s while reading the banner", s->hop_name,
			      hop_strerror(rc));
	proxy_hop_close(s);
	return -1;
}

/* proxy_hop_native - a host's addresses from the system resolver */
static void proxy_hop_native(const char *host, struct dns_result *res)
{
	struct addrinfo hints, *ai0, *ai;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &ai0)) != 0) {
		res->status = rc == EAI_NONAME || rc == EAI_NODATA || rc == EAI_ADDRFAMILY
			? DNS_NOTFOUND
			: DNS_TEMPFAIL;
		snprintf(res->answer, sizeof(res->answer), "%s", gai_strerror(rc));
		return;
	}
	for (ai = ai0; ai && res->ntarget < DNS_ADDRS_MAX; ai = ai->ai_next) {
		struct dns_target *tg = &res->target[res->ntarget];

		if (ai->ai_addrlen > sizeof(tg->sa))
			continue;
		memcpy(&tg->sa, ai->ai_addr, ai->ai_addrlen);
		tg->salen = ai->ai_addrlen;
		strlcpy(tg->host, host, sizeof(tg->host));
		res->ntarget++;
	}
	freeaddrinfo(ai0);
	res->status = res->ntarget ? DNS_OK : DNS_NOTFOUND;
	snprintf(res->answer, sizeof(res->answer), "%zu address%s", res->ntarget,
		 res->ntarget == 1 ? "" : "es");
}

/* proxy_hop_literal - is host a numeric address? then that is the target */
static int proxy_hop_literal(const char *host, struct dns_result *res)
{
	struct addrinfo hints, *ai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &ai) != 0)
		return 0;
	memset(res, 0, sizeof(*res));
	if (ai->ai_addrlen <= sizeof(res->target[0].sa)) {
		memcpy(&res->target[0].sa, ai->ai_addr, ai->ai_addrlen);
		res->target[0].salen = ai->ai_addrlen;
		res->ntarget = 1;
	}
	freeaddrinfo(ai);
	res->status = res->ntarget ? DNS_OK : DNS_NOTFOUND;
	return 1;
}

/* proxy_hop_resolve - one next_hop entry to addresses, per next_hop_lookup */
static void proxy_hop_resolve(struct proxy_session *s, const char *spec, const char *host,
			      struct dns_result *res, struct hop_tries *t)
{
	int bracketed = *spec == '[';

	if (proxy_hop_literal(host, res)) {
		t->lookup = "literal";
		return;
	}
	if (!bracketed && var_next_hop_lookup == NEXT_HOP_LOOKUP_MX) {
		t->lookup = "mx";
		proxy_dns_mx(s->cid, host, res);
	} else if (var_next_hop_host_lookup == NEXT_HOP_HOST_DNS) {
		t->lookup = "dns";
		proxy_dns_host(s->cid, host, res);
	} else {
		t->lookup = "native";
		proxy_hop_native(host, res);
	}
	/* every session that meets a DNS failure logs it with the answer */
	if (res->status == DNS_TEMPFAIL)
		evt_warn(DNS_TEMPFAIL, s->cid, "domain=%s lookup=%s answer=%s%s", host,
			 t->lookup, evt_quote(res->answer), res->cached ? " cached=yes" : "");
	else if (res->status == DNS_NOTFOUND)
		evt_warn(DNS_NOTFOUND, s->cid, "domain=%s lookup=%s answer=%s%s", host,
			 t->lookup, evt_quote(res->answer), res->cached ? " cached=yes" : "");
	else if (!res->cached && strcmp(t->lookup, "native") != 0)
		evt_info(DNS_RESOLVED, s->cid,
			 "domain=%s lookup=%s answer=%s "
			 "addresses=%zu ttl=%u",
			 host, t->lookup, evt_quote(res->answer), res->ntarget, res->ttl);
	if (res->status != DNS_OK) {
		proxy_hop_why(t, "%s: %s", spec, res->answer);
		if (res->status > t->dns) {
			/* the client hears about the worst one: TEMPFAIL first */
			t->dns = res->status;
			strlcpy(t->dns_entry, host, sizeof(t->dns_entry));
			strlcpy(t->dns_answer, res->answer, sizeof(t->dns_answer));
		}
	}
}

/* proxy_hop_try_name - every address of one next_hop entry in turn */
static int proxy_hop_try_name(struct proxy_session *s, const char *spec,
			      struct smtp_reply *banner, struct hop_tries *t)
{
	char host[256], port[32];
	struct dns_result *res;
	int rc = -1;
	long portnum;

	if (inet_split_hostport(spec, host, sizeof(host), port, sizeof(port), "25") < 0
	    || (portnum = strtol(port, NULL, 10)) < 1 || portnum > 65535) {
		proxy_hop_why(t, "%s: bad next hop", spec);
		return -1;
	}
	res = xmalloc(sizeof(*res));
	proxy_hop_resolve(s, spec, host, res, t);
	for (size_t i = 0; res->status == DNS_OK && i < res->ntarget && rc < 0 && t->budget > 0;
	     i++) {
		struct dns_target *tg = &res->target[i];

		if (tg->sa.ss_family == AF_INET6)
			((struct sockaddr_in6 *) &tg->sa)->sin6_port =
				htons((uint16_t) portnum);
		else
			((struct sockaddr_in *) &tg->sa)->sin_port = htons((uint16_t) portnum);
		rc = proxy_hop_try(s, (struct sockaddr *) &tg->sa, tg->salen,
				   *tg->host ? tg->host : NULL, banner, t);
	}
	if (rc == 0)
		strlcpy(t->entry, spec, sizeof(t->entry));
	free(res);
	return rc;
}

/* proxy_reflect_addr - the client's address on resubmit_port */
static socklen_t proxy_reflect_addr(const struct proxy_session *s, struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *c6 = (const struct sockaddr_in6 *) &s->client_sa;

	memcpy(ss, &s->client_sa, sizeof(*ss));
	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&c6->sin6_addr)) {
		struct sockaddr_in *v4 = (struct sockaddr_in *) ss;
		struct in6_addr a6 = c6->sin6_addr;

		memset(ss, 0, sizeof(*ss));
		v4->sin_family = AF_INET;
		memcpy(&v4->sin_addr, a6.s6_addr + 12, 4);
	}
	if (ss->ss_family == AF_INET6) {
		((struct sockaddr_in6 *) ss)->sin6_port = htons((uint16_t) var_resubmit_port);
		return sizeof(struct sockaddr_in6);
	}
	((struct sockaddr_in *) ss)->sin_port = htons((uint16_t) var_resubmit_port);
	return sizeof(struct sockaddr_in);
}

/* proxy_hop_refusal - the greeting for a client we found no next hop for */
static void proxy_hop_refusal(struct proxy_session *s, const struct hop_tries *t)
{
	if (t->connects > 0 || (t->dns == DNS_OK && t->loops == 0)) {
		snprintf(s->hop_refusal, sizeof(s->hop_refusal),
			 "421 4.4.1 %s Error: "
			 "no next hop available, try again later",
			 s->helo_name);
	} else if (t->dns == DNS_TEMPFAIL) {
		snprintf(s->hop_refusal, sizeof(s->hop_refusal),
			 "451 4.4.3 %s Error: "
			 "next hop lookup failed for %s: %.200s, try again later",
			 s->helo_name, t->dns_entry, t->dns_answer);
	} else if (t->dns == DNS_NOTFOUND) {
		snprintf(s->hop_refusal, sizeof(s->hop_refusal),
			 "451 4.4.4 %s Error: "
			 "no address for next hop %s: %.200s, try again later",
			 s->helo_name, t->dns_entry, t->dns_answer);
	} else {
		snprintf(s->hop_refusal, sizeof(s->hop_refusal),
			 "451 4.4.6 %s Error: "
			 "next hop loops back to myself, try again later",
			 s->helo_name);
	}
}

/* proxy_hop_connect - reach a next hop that says 220; -1 if none did */
int proxy_hop_connect(struct proxy_session *s, struct smtp_reply *banner)
{
	struct hop_tries t;
	int rc = -1;

	memset(&t, 0, sizeof(t));
	buf_init(&t.why, 256);
	t.budget = var_next_hop_address_limit;
	t.dns = DNS_OK;
	if (var_operating_mode == OPERATING_MODE_REFLECT) {
		struct sockaddr_storage ss;
		socklen_t len = proxy_reflect_addr(s, &ss);

		rc = proxy_hop_try(s, (struct sockaddr *) &ss, len, NULL, banner, &t);
	} else if (var_next_hop.count == 0) {
		proxy_hop_why(&t, "forwarding mode but next_hop is empty");
	} else {
		for (size_t i = 0; i < var_next_hop.count && rc < 0 && t.budget > 0; i++)
			rc = proxy_hop_try_name(s, var_next_hop.items[i], banner, &t);
		if (rc < 0 && t.budget <= 0)
			proxy_hop_why(&t, "next_hop_address_limit (%d) reached",
				      var_next_hop_address_limit);
	}
	if (rc == 0) {
		if (*t.entry)
			evt_info(HOP_CONNECTED, s->cid,
				 "hop=%s mode=%s next_hop=%s "
				 "lookup=%s%s%s",
				 s->hop_name, CONF_NAME(operating_mode), t.entry, t.lookup,
				 t.why.len ? " skipped=" : "",
				 t.why.len ? evt_quote(t.why.data) : "");
		else
			evt_info(HOP_CONNECTED, s->cid, "hop=%s mode=%s%s%s", s->hop_name,
				 CONF_NAME(operating_mode), t.why.len ? " skipped=" : "",
				 t.why.len ? evt_quote(t.why.data) : "");
	} else {
		proxy_hop_refusal(s, &t);
		evt_warn(HOP_NONE, s->cid, "client=%s mode=%s tried=%s reply=\"%.3s\"",
			 s->client_addr, CONF_NAME(operating_mode), evt_quote(t.why.data),
			 s->hop_refusal);
	}
	buf_free(&t.why);
	return rc;
}

/* proxy_caps_size - SIZE's number, from its own line only; 0: none given */
static long long proxy_caps_size(const char *p, const char *end)
{
	const char *cp;
	long long n = 0;

	/* strtoll() would skip the CRLF and read the next line's reply code */
	for (cp = p; cp < end && isdigit((unsigned char) *cp); cp++) {
		if (n > (LLONG_MAX - 9) / 10)
			return 0; /* beyond any message: no limit */
		n = n * 10 + (*cp - '0');
	}
	return cp > p && (cp == end || *cp == ' ') ? n : 0;
}

/* proxy_parse_caps - the extensions of an EHLO reply that we can carry */
static void proxy_parse_caps(struct proxy_session *s, const struct smtp_reply *r)
{
	static const struct {
		const char *word;
		unsigned cap;
	} known[] = {
		{"8BITMIME", CAP_8BITMIME},
		{"SIZE", CAP_SIZE},
		{"DSN", CAP_DSN},
		{"PIPELINING", CAP_PIPELINING},
		{"ENHANCEDSTATUSCODES", CAP_ENHANCED},
		{"HELP", CAP_HELP},
		{"VRFY", CAP_VRFY},
		{"SMTPUTF8", CAP_SMTPUTF8},
		{"XFORWARD", CAP_XFORWARD},
		{"STARTTLS", CAP_STARTTLS},
	};
	const char *line = r->text.data;

	s->hop_caps = 0;
	s->hop_size = 0;
	/* the first line is the greeting; each later line one extension */
	for (int n = 0; n < r->nlines; n++) {
		const char *end = strstr(line, "\r\n");
		char word[64];
		size_t len = 0;

		if (n > 0 && end - line > 4) {
			const char *kw = line + 4;

			while (kw + len < end && len < sizeof(word) - 1 && kw[len] != ' ') {
				word[len] = (char) toupper((unsigned char) kw[len]);
				len++;
			}
			word[len] = 0;
			for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
				if (strcmp(word, known[i].word) == 0)
					s->hop_caps |= known[i].cap;
			if (strcmp(word, "SIZE") == 0 && kw[len] == ' ')
				s->hop_size = proxy_caps_size(kw + len + 1, end);
		}
		line = end + 2;
	}
}

/* proxy_hop_tls_fail - required TLS failed: close the hop, 451 for the client */
static int proxy_hop_tls_fail(struct proxy_session *s, enum hop_level level,
			      struct smtp_reply *r, const char *why)
{
	char text[512];

	evt_warn(HOP_TLS_FAILED, s->cid, "hop=%s outbound_tls=%s level=%s reason=%s",
		 s->hop_name, CONF_NAME(outbound_tls), proxy_tls_level_name(level),
		 evt_quote(why));
	proxy_hop_close(s);
	s->tls_hop_failed = 1;
	if (var_outbound_tls == OUTBOUND_TLS_MIRROR)
		proxy_tls_mirror_failed(s, why); /* not offered again for a while */
	snprintf(text, sizeof(text), "451 4.7.5 %s Error: TLS to the next hop %s failed: %s",
		 s->helo_name, s->hop_name, why);
	for (char *cp = text; *cp; cp++)
		if ((unsigned char) *cp < 0x20 || (unsigned char) *cp >= 0x7f)
			*cp = '?';
	r->code = 451;
	r->nlines = 1;
	strlcpy(r->first, text, sizeof(r->first));
	buf_reset(&r->text);
	buf_puts(&r->text, text);
	buf_puts(&r->text, "\r\n");
	return HOP_OK;
}

/* proxy_hop_tls_plain - may: the handshake failed, so connect again in clear */
static int proxy_hop_tls_plain(struct proxy_session *s, struct smtp_reply *r, const char *why)
{
	evt_info(HOP_TLS_PLAIN, s->cid, "hop=%s reason=%s action=reconnect", s->hop_name,
		 evt_quote(why));
	proxy_hop_close(s);
	s->tls_hop_plain = 1;
	if (proxy_hop_connect(s, r) < 0)
		return HOP_LOST;
	return proxy_hop_ehlo(s, r);
}

/* proxy_hop_starttls - after the next hop's EHLO: STARTTLS and EHLO again */
static int proxy_hop_starttls(struct proxy_session *s, struct smtp_reply *r)
{
	enum hop_level level = proxy_tls_level(s);
	struct smtp_reply st;
	char why[300];
	int rc;

	if (level == HOP_TLS_NONE || s->tls_hop || s->tls_hop_plain || s->hop == NULL)
		return HOP_OK;
	/* the SSL session reads the socket itself: nothing may wait in plain text */
	if (proxy_hop_quiet(s) == HOP_GARBLED)
		return proxy_hop_tls_fail(s, level, r,
					  "next hop sent data after its EHLO reply");
	if (!(s->hop_caps & CAP_STARTTLS)) {
		if (level == HOP_TLS_MAY) {
			evt_info(HOP_TLS_PLAIN, s->cid,
				 "hop=%s reason=\"STARTTLS not offered\"", s->hop_name);
			return HOP_OK;
		}
		return proxy_hop_tls_fail(s, level, r, "next hop offers no STARTTLS");
	}
	stream_puts(s->hop, "STARTTLS\r\n");
	smtp_reply_init(&st);
	if ((rc = proxy_hop_reply(s, &st, var_next_hop_timeout, "220")) != HOP_OK) {
		smtp_reply_free(&st);
		return rc;
	}
	if (st.code != 220) {
		snprintf(why, sizeof(why), "STARTTLS refused: %s", st.first);
		smtp_reply_free(&st);
		if (level == HOP_TLS_MAY && s->hop) {
			/* a refused STARTTLS leaves the session as it was (RFC 3207) */
			evt_info(HOP_TLS_PLAIN, s->cid, "hop=%s reason=%s", s->hop_name,
				 evt_quote(why));
			s->tls_hop_plain = 1;
			return HOP_OK;
		}
		return proxy_hop_tls_fail(s, level, r, why);
	}
	smtp_reply_free(&st);
	if (proxy_hop_quiet(s) == HOP_GARBLED)
		return proxy_hop_tls_fail(s, level, r,
					  "next hop sent data after its 220 to STARTTLS");
	if (proxy_tls_hop_handshake(s, level, why, sizeof(why)) < 0) {
		if (level == HOP_TLS_MAY)
			return proxy_hop_tls_plain(s, r, why);
		return proxy_hop_tls_fail(s, level, r, why);
	}
	return proxy_hop_ehlo(s, r); /* again, inside TLS */
}

/*
 * proxy_hop_ehlo_early - our EHLO as soon as the client has the greeting:
 * the next hop answers while the client reads the greeting and writes
 * its own EHLO, a round trip less in every session. Our EHLO names us,
 * not the client, so it need not wait for the client's.
 */
void proxy_hop_ehlo_early(struct proxy_session *s)
{
	if (s->hop == NULL || s->hop_dead || s->ehlo_sent || proxy_hop_quiet(s) != HOP_OK)
		return; /* then proxy_hop_ehlo() finds out */
	stream_printf(s->hop, "EHLO %s\r\n", s->helo_name);
	s->ehlo_sent = stream_flush(s->hop) == STREAM_OK;
}

/* proxy_hop_ehlo_drop - the client spoke first of something else: the early EHLO's reply goes */
void proxy_hop_ehlo_drop(struct proxy_session *s)
{
	struct smtp_reply r;
	int rc;

	if (!s->ehlo_sent || s->hop == NULL)
		return;
	s->ehlo_sent = 0;
	smtp_reply_init(&r);
	/* its client's HELO or EHLO, when it comes, gets an EHLO of its own */
	if ((rc = proxy_hop_reply(s, &r, var_next_hop_timeout, "250")) != HOP_OK)
		proxy_hop_failed(s, rc, "EHLO");
	smtp_reply_free(&r);
}

/* proxy_hop_ehlo - our EHLO (HELO if refused) to the next hop */
int proxy_hop_ehlo(struct proxy_session *s, struct smtp_reply *r)
{
	int rc;

	if (s->ehlo_sent) {
		s->ehlo_sent = 0; /* sent with the greeting: its reply is below */
	} else {
		if ((rc = proxy_hop_quiet(s)) != HOP_OK)
			return rc; /* it spoke before we did */
		stream_printf(s->hop, "EHLO %s\r\n", s->helo_name);
	}
	if ((rc = proxy_hop_reply(s, r, var_next_hop_timeout, "250")) != HOP_OK)
		return rc;
	if (r->code / 100 == 2) {
		proxy_parse_caps(s, r);
		return proxy_hop_starttls(s, r); /* outbound_tls: STARTTLS, EHLO again */
	}
	if (r->code / 100 != 5)
		return HOP_OK; /* 4xx: relayed as it is */
	s->hop_caps = 0;
	stream_printf(s->hop, "HELO %s\r\n", s->helo_name);
	if ((rc = proxy_hop_reply(s, r, var_next_hop_timeout, "250")) != HOP_OK
	    || r->code / 100 != 2)
		return rc;
	return proxy_hop_starttls(s, r); /* no STARTTLS: fails if required */
}
