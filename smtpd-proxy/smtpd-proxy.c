/*
 * smtpd-proxy - the SMTP proxy worker
 *
 * SYNOPSIS
 *	smtpd-proxy (started by master; see master.conf)
 *
 * DESCRIPTION
 *	One process serves one SMTP session at a time, max_use sessions in
 *	all, Postfix style. For each client it checks allow_hosts, connects
 *	to the next hop (reflecting or forwarding mode), relays the dialogue
 *	in lock-step, spools each message, has it scanned by the detector
 *	and applies the verdict before the client's transaction is answered.
 *	See proxy.h for the parts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "conf_params.h"
#include "evt.h"
#include "inet.h"
#include "mem.h"
#include "msg.h"
#include "server.h"
#include "proxy.h"

static struct cidr_list proxy_allow;
static char proxy_helo_name[256];

/* proxy_new_cid - a connection id, unique enough to grep for */
static void proxy_new_cid(char *cid, size_t len)
{
	snprintf(cid, len, "%06X%06X", arc4random() & 0xffffff,
		 arc4random() & 0xffffff);
}

/* proxy_deny - 554 to a client outside allow_hosts, until it leaves */
static void proxy_deny(struct proxy_session *s)
{
	stream_printf(s->client, "554 5.7.1 %s Error: access denied for %s\r\n",
		      s->helo_name, s->client_addr);
	for (int i = 0; i < 10 && stream_flush(s->client) == STREAM_OK; i++) {
		char   *line;
		size_t  len;

		s->client->timeout = 10;
		if (stream_getline(s->client, &line, &len, 512, NULL) != STREAM_OK)
			break;
		if (strncasecmp(line, "QUIT", 4) == 0) {
			stream_puts(s->client, "221 2.0.0 Bye\r\n");
			(void) stream_flush(s->client);
			break;
		}
		stream_puts(s->client, "503 5.7.1 Error: access denied\r\n");
	}
}

/* proxy_serve - one client connection */
static void proxy_serve(int fd, const struct sockaddr *sa, socklen_t salen,
			int listen_index)
{
	struct proxy_session s;
	struct timespec now;

	memset(&s, 0, sizeof(s));
	proxy_new_cid(s.cid, sizeof(s.cid));
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
	server_title("%s: %s", server.service, s.client_addr);
	if (!cidr_list_match(&proxy_allow, sa)) {
		evt_warn(CONN_DENIED, s.cid, "client=%s:%d", s.client_addr, s.client_port);
		proxy_deny(&s);
	} else {
		evt_info(CONN_ACCEPT, s.cid, "client=%s:%d", s.client_addr, s.client_port);
		proxy_session_run(&s);
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	evt_info(CONN_CLOSED, s.cid, "client=%s messages=%u time=%.3f", s.client_addr,
		 s.messages, (double) (now.tv_sec - s.t_start.tv_sec)
		 + (now.tv_nsec - s.t_start.tv_nsec) / 1e9);
	envelope_free(&s.env);
	stream_close(s.client);
	server_title("%s", server.service);
}

int     main(int argc, char **argv)
{
	char    err[256];

	server_init(argc, argv, "smtpd-proxy");
	if (cidr_list_parse(&proxy_allow, var_allow_hosts.items, var_allow_hosts.count,
			    err, sizeof(err)) < 0)
		msg_fatal("allow_hosts: %s", err);
	if (*var_helo_name)
		strlcpy(proxy_helo_name, var_helo_name, sizeof(proxy_helo_name));
	else if (gethostname(proxy_helo_name, sizeof(proxy_helo_name) - 1) < 0)
		strlcpy(proxy_helo_name, "localhost", sizeof(proxy_helo_name));
	server_single_loop(proxy_serve);
	return 0;
}
