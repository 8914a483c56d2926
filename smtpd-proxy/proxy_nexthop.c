/*
 * proxy_nexthop - choosing and connecting the next hop, and its EHLO
 *
 * Reflecting mode: the client's own address on resubmit_port, so the
 * message returns to the MTA that sent it. Forwarding mode: the next_hop
 * list, each entry's addresses in order, until one answers 220. Every
 * failed attempt is remembered and, when none answered, logged in one
 * line naming each hop and why, and the client gets 421 4.4.1.
 */
#include <ctype.h>
#include <netdb.h>
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

/* proxy_hop_close - drop the next-hop connection */
void proxy_hop_close(struct proxy_session *s)
{
	if (s->hop) {
		stream_close(s->hop);
		s->hop = NULL;
	}
	s->hop_dead = 1;
}

/* proxy_hop_try - connect to one address and read a 220 banner */
static int proxy_hop_try(struct proxy_session *s, const struct sockaddr *sa,
			 socklen_t salen, const char *name,
			 struct smtp_reply *banner, struct buf *why)
{
	char    err[256], addr[INET_ADDRSTR];
	int     fd, rc;

	inet_addr_str(sa, addr, sizeof(addr));
	if (name && strcmp(name, addr) != 0)
		snprintf(s->hop_name, sizeof(s->hop_name), "%s[%s]", name, addr);
	else
		strlcpy(s->hop_name, addr, sizeof(s->hop_name));
	fd = inet_connect(sa, salen, var_next_hop_connect_timeout, NULL,
			  err, sizeof(err));
	if (fd < 0) {
		buf_printf(why, "%s%s: %s", why->len ? "; " : "", s->hop_name, err);
		return -1;
	}
	s->hop = stream_open(fd, var_next_hop_timeout);
	s->hop_dead = 0;
	rc = proxy_read_reply(s, banner, var_next_hop_timeout);
	if (rc == HOP_OK && banner->code == 220)
		return 0;
	if (rc == HOP_OK)
		buf_printf(why, "%s%s: banner \"%s\"", why->len ? "; " : "",
			   s->hop_name, banner->first);
	else
		buf_printf(why, "%s%s: %s while reading the banner",
			   why->len ? "; " : "", s->hop_name, hop_strerror(rc));
	proxy_hop_close(s);
	return -1;
}

/* proxy_hop_try_name - every address of "host[:port]" in turn */
static int proxy_hop_try_name(struct proxy_session *s, const char *spec,
			      struct smtp_reply *banner, struct buf *why)
{
	char    host[256], port[32];
	struct addrinfo hints, *res, *ai;
	int     rc;

	if (inet_split_hostport(spec, host, sizeof(host), port, sizeof(port), "25") < 0) {
		buf_printf(why, "%s%s: bad next hop", why->len ? "; " : "", spec);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		buf_printf(why, "%s%s: %s", why->len ? "; " : "", spec, gai_strerror(rc));
		return -1;
	}
	rc = -1;
	for (ai = res; ai && rc < 0; ai = ai->ai_next)
		rc = proxy_hop_try(s, ai->ai_addr, ai->ai_addrlen, host, banner, why);
	freeaddrinfo(res);
	return rc;
}

/* proxy_reflect_addr - the client's address on resubmit_port */
static socklen_t proxy_reflect_addr(const struct proxy_session *s,
				    struct sockaddr_storage *ss)
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

/* proxy_hop_connect - reach a next hop that says 220; -1 if none did */
int proxy_hop_connect(struct proxy_session *s, struct smtp_reply *banner)
{
	struct buf why;
	int     rc = -1;

	buf_init(&why, 256);
	if (strcmp(var_operating_mode, "reflect") == 0) {
		struct sockaddr_storage ss;
		socklen_t len = proxy_reflect_addr(s, &ss);

		rc = proxy_hop_try(s, (struct sockaddr *) &ss, len, NULL, banner, &why);
	} else if (var_next_hop.count == 0) {
		buf_puts(&why, "forwarding mode but next_hop is empty");
	} else {
		for (size_t i = 0; i < var_next_hop.count && rc < 0; i++)
			rc = proxy_hop_try_name(s, var_next_hop.items[i], banner, &why);
	}
	if (rc == 0)
		evt_info(HOP_CONNECTED, s->cid, "hop=%s mode=%s%s%s", s->hop_name,
			 var_operating_mode, why.len ? " skipped=\"" : "",
			 why.len ? why.data : "");
	else
		evt_warn(HOP_NONE, s->cid, "client=%s mode=%s tried=\"%s\"",
			 s->client_addr, var_operating_mode, why.data);
	buf_free(&why);
	return rc;
}

/* proxy_parse_caps - the extensions of an EHLO reply that we can carry */
static void proxy_parse_caps(struct proxy_session *s, const struct smtp_reply *r)
{
	static const struct {
		const char *word;
		unsigned cap;
	}       known[] = {
		{"8BITMIME", CAP_8BITMIME}, {"SIZE", CAP_SIZE}, {"DSN", CAP_DSN},
		{"PIPELINING", CAP_PIPELINING}, {"ENHANCEDSTATUSCODES", CAP_ENHANCED},
		{"HELP", CAP_HELP}, {"VRFY", CAP_VRFY}, {"SMTPUTF8", CAP_SMTPUTF8},
		{"XFORWARD", CAP_XFORWARD}, {"STARTTLS", CAP_STARTTLS},
	};
	const char *line = r->text.data;

	s->hop_caps = 0;
	s->hop_size = 0;
	/* the first line is the greeting; each later line one extension */
	for (int n = 0; n < r->nlines; n++) {
		const char *end = strstr(line, "\r\n");
		char    word[64];
		size_t  len = 0;

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
				s->hop_size = strtoll(kw + len + 1, NULL, 10);
		}
		line = end + 2;
	}
}

/* proxy_hop_ehlo - our EHLO (HELO if refused) to the next hop */
int proxy_hop_ehlo(struct proxy_session *s, struct smtp_reply *r)
{
	int     rc;

	stream_printf(s->hop, "EHLO %s\r\n", s->helo_name);
	if ((rc = proxy_read_reply(s, r, var_next_hop_timeout)) != HOP_OK)
		return rc;
	if (r->code / 100 == 2) {
		proxy_parse_caps(s, r);
		return proxy_tls_hop(s, r);	/* outbound_tls: STARTTLS, EHLO again */
	}
	if (r->code / 100 != 5)
		return HOP_OK;			/* 4xx: relayed as it is */
	s->hop_caps = 0;
	stream_printf(s->hop, "HELO %s\r\n", s->helo_name);
	if ((rc = proxy_read_reply(s, r, var_next_hop_timeout)) != HOP_OK || r->code / 100 != 2)
		return rc;
	return proxy_tls_hop(s, r);		/* no STARTTLS: fails if required */
}
