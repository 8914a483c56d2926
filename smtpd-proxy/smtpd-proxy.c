/*
 * smtpd-proxy - the SMTP proxy worker
 *
 * SYNOPSIS
 *	smtpd-proxy (started by master; see master.conf)
 *
 * DESCRIPTION
 *	One process serves one SMTP session at a time, max_use sessions in
 *	all, Postfix style. For each client it reads the load balancer's
 *	PROXY header first when the service has proxy_protocol = yes (only
 *	from proxy_protocol_hosts), so that everything after sees the real
 *	client (a header without one, v2 LOCAL or v1 UNKNOWN, is the
 *	balancer's health check: answered here, never relayed, no mail);
 *	then it checks allow_hosts, connects
 *	to the next hop (reflecting or forwarding mode), relays the dialogue
 *	in lock-step, spools each message, has it scanned by the detector
 *	and applies the verdict before the client's transaction is answered.
 *	See proxy.h for the parts.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "conf.h"
#include "conf_params.h"
#include "evt.h"
#include "inet.h"
#include "mem.h"
#include "msg.h"
#include "server.h"
#include "proxy.h"
#include "proxy_dns.h"
#include "proxy_haproxy.h"

static struct cidr_list proxy_allow;
static struct cidr_list proxy_pp_hosts;   /* may send PROXY headers */
static struct cidr_list proxy_xfwd_hosts; /* may send XFORWARD */
static char proxy_helo_name[256];

/* proxy_new_cid - a connection id, unique enough to grep for */
static void proxy_new_cid(char *cid, size_t len)
{
	snprintf(cid, len, "%06X%06X", arc4random() & 0xffffff, arc4random() & 0xffffff);
}

/* proxy_denied - every command of a refused client gets 503 */
static const char *proxy_denied(struct proxy_session *s, const char *line)
{
	return "503 5.7.1 Error: access denied";
}

/* proxy_deny - 554 to a client outside allow_hosts, until it leaves */
static void proxy_deny(struct proxy_session *s)
{
	char banner[512];

	snprintf(banner, sizeof(banner), "554 5.7.1 %s Error: access denied for %s",
		 s->helo_name, s->client_addr);
	proxy_chat_dialogue(s, banner, proxy_denied);
}

/* proxy_health_answer - a load balancer's health check talks, carries no mail */
static const char *proxy_health_answer(struct proxy_session *s, const char *line)
{
	static char hello[300];

	if (strncasecmp(line, "HELO ", 5) == 0 || strncasecmp(line, "EHLO ", 5) == 0) {
		snprintf(hello, sizeof(hello), "250 %s", s->helo_name);
		return hello;
	}
	if (strcasecmp(line, "NOOP") == 0 || strcasecmp(line, "RSET") == 0)
		return "250 2.0.0 Ok";
	return "503 5.7.0 Error: a load balancer's own connection carries no mail";
}

/* proxy_health - the balancer's own connection: answered here, never relayed */
static void proxy_health(struct proxy_session *s)
{
	char banner[300];

	snprintf(banner, sizeof(banner), "220 %s ESMTP dlpgate", s->helo_name);
	proxy_chat_dialogue(s, banner, proxy_health_answer);
}

/* proxy_upstream - the load balancer's PROXY header; -1: close */
static int proxy_upstream(struct proxy_session *s, int fd, const struct sockaddr *peer,
			  struct haproxy_info *hp)
{
	char addr[INET_ADDRSTR], why[256];

	inet_addr_str(peer, addr, sizeof(addr));
	if (!cidr_list_match(&proxy_pp_hosts, peer)) {
		evt_warn(PROXY_UNAUTH, s->cid, "peer=%s", addr);
		return -1;
	}
	server_title("%s: %s (PROXY header)", server.service, addr);
	switch (proxy_haproxy_read(fd, var_proxy_protocol_timeout, hp, why, sizeof(why))) {
	case 0:
		break;
	case -2:
		/* gone before its first byte: a balancer's check that gave up */
		evt_info(CLIENT_LOST, s->cid, "client=%s during=%s", addr,
			 evt_quote("PROXY header"));
		return -1;
	default:
		evt_warn(PROXY_REFUSED, s->cid, "peer=%s reason=%s", addr, evt_quote(why));
		return -1;
	}
	snprintf(s->via, sizeof(s->via), "%s proxy=v%d%s", addr, hp->version,
		 hp->local ? " local" : "");
	return 0;
}

/* proxy_serve - one client connection */
static void proxy_serve(int fd, const struct sockaddr *sa, socklen_t salen, int listen_index)
{
	struct proxy_session s;
	struct haproxy_info hp;
	struct timespec now;
	char peer[INET_ADDRSTR];

	memset(&s, 0, sizeof(s));
	memset(&hp, 0, sizeof(hp));
	proxy_new_cid(s.cid, sizeof(s.cid));
	s.local_salen = sizeof(s.local_sa);
	if (getsockname(fd, (struct sockaddr *) &s.local_sa, &s.local_salen) < 0)
		s.local_salen = 0;
	if (var_proxy_protocol) {
		if (proxy_upstream(&s, fd, sa, &hp) < 0) {
			close(fd);
			server_title("%s", server.service);
			return;
		}
		if (!hp.local) {
			sa = (const struct sockaddr *) &hp.src;
			salen = hp.srclen;
		}
	}
	memcpy(&s.client_sa, sa, salen < sizeof(s.client_sa) ? salen : sizeof(s.client_sa));
	inet_host_str(sa, s.client_addr, sizeof(s.client_addr));
	s.client_port = inet_port(sa);
	s.helo_name = proxy_helo_name;
	inet_tune(fd);
	s.client = stream_open(fd, var_smtpd_timeout);
	clock_gettime(CLOCK_MONOTONIC, &s.t_start);
	server_stats_add(SERVER_STAT_SESSIONS, 1);
	envelope_init(&s.env);
	strlcpy(s.env.cid, s.cid, sizeof(s.env.cid));
	strlcpy(s.env.client_addr, s.client_addr, sizeof(s.env.client_addr));
	s.env.client_port = s.client_port;
	strlcpy(s.env.client_name, "unknown", sizeof(s.env.client_name));
	/* like Postfix's smtpd_authorized_xforward_hosts: nobody unless named */
	s.xforward_ok = cidr_list_match(&proxy_xfwd_hosts, sa);
	buf_init(&s.xforward, 256);
	inet_addr_str(sa, peer, sizeof(peer));
	server_title("%s: %s", server.service, s.client_addr);
	if (var_proxy_protocol && hp.local) {
		/* v2 LOCAL, v1 UNKNOWN: a health check, with no client to serve */
		evt_log(MSG_DEBUG, EVT_CONN_ACCEPT, s.cid, "client=%s via=%s", peer, s.via);
		proxy_health(&s);
	} else if (!cidr_list_match(&proxy_allow, sa)) {
		evt_warn(CONN_DENIED, s.cid, "client=%s%s%s", peer, *s.via ? " via=" : "",
			 s.via);
		proxy_deny(&s);
	} else {
		evt_info(CONN_ACCEPT, s.cid, "client=%s%s%s", peer, *s.via ? " via=" : "",
			 s.via);
		proxy_session_run(&s);
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	evt_log(var_proxy_protocol && hp.local ? MSG_DEBUG : MSG_INFO, EVT_CONN_CLOSED, s.cid,
		"client=%s messages=%u time=%.3f", s.client_addr, s.messages,
		(double) (now.tv_sec - s.t_start.tv_sec)
			+ (now.tv_nsec - s.t_start.tv_nsec) / 1e9);
	envelope_free(&s.env);
	buf_free(&s.xforward);
	stream_close(s.client);
	server_title("%s", server.service);
}

/* proxy_check_loop - reflecting to a port we listen on would bring mail back to us */
static void proxy_check_loop(void)
{
	char where[PATH_MAX + 64];

	if (var_operating_mode != OPERATING_MODE_REFLECT)
		return;
	for (int i = 0; i < server.nlisten; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int port;

		if (getsockname(SERVER_LISTEN_FD + i, (struct sockaddr *) &ss, &len) < 0)
			continue;
		if (ss.ss_family == AF_INET)
			port = ntohs(((struct sockaddr_in *) &ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			port = ntohs(((struct sockaddr_in6 *) &ss)->sin6_port);
		else
			continue;
		/* master refuses this too; a child started after a refused reload reads the file */
		if (port == var_resubmit_port)
			msg_fatal("%s: %d is the port this service listens on: reflected mail "
				  "would come back to dlpgate; fix: dlpconf -e "
				  "resubmit_port=10026 "
				  "(the MTA's reinjection listener)",
				  conf_where("resubmit_port", where, sizeof(where)), port);
	}
}

int main(int argc, char **argv)
{
	char err[256];

	server_init(argc, argv, "smtpd-proxy");
	proxy_check_loop();
	if (cidr_list_parse(&proxy_allow, var_allow_hosts.items, var_allow_hosts.count, err,
			    sizeof(err))
	    < 0)
		msg_fatal("allow_hosts: %s", err);
	if (cidr_list_parse(&proxy_pp_hosts, var_proxy_protocol_hosts.items,
			    var_proxy_protocol_hosts.count, err, sizeof(err))
	    < 0)
		msg_fatal("proxy_protocol_hosts: %s", err);
	if (cidr_list_parse(&proxy_xfwd_hosts, var_xforward_hosts.items,
			    var_xforward_hosts.count, err, sizeof(err))
	    < 0)
		msg_fatal("xforward_hosts: %s", err);
	if (var_operating_mode == OPERATING_MODE_FORWARD)
		proxy_dns_init();
	if (*var_helo_name)
		strlcpy(proxy_helo_name, var_helo_name, sizeof(proxy_helo_name));
	else if (gethostname(proxy_helo_name, sizeof(proxy_helo_name) - 1) < 0)
		strlcpy(proxy_helo_name, "localhost", sizeof(proxy_helo_name));
	server_single_loop(proxy_serve);
	return 0;
}
