/*
 * proxy_session - the client side: commands, state machine, pipelining
 *
 * Each command is a row of proxy_cmds[]: its handler, what the next hop's
 * reply to it means, and flags that say where it may come (before TLS,
 * before HELO, outside a transaction, inside a pipelined group).
 * proxy_dispatch() applies the flags; the handlers do the rest.
 *
 * Commands are relayed to the next hop in lock-step and its replies come
 * back verbatim, in order. Pipelining is kept end to end: while the client
 * has more complete commands buffered and the next hop offers PIPELINING,
 * MAIL, RCPT and RSET go out together and their replies are read after;
 * replies to the client are written in one batch when it has nothing more
 * to say. Our own replies (syntax errors, limits) wait in the same queue,
 * so every client command gets exactly one reply, in order.
 *
 * Only commands we understand are relayed, rebuilt from their parsed form
 * with parameters checked against the extensions we offered: nothing the
 * client sends reaches the next hop unchecked. DATA is ours: see
 * proxy_transaction(). XFORWARD is checked and rebuilt by proxy_xforward.c;
 * XCLIENT is never offered and always refused. STARTTLS is answered here,
 * its handshake is proxy_tls.c's. Every reply goes through proxy_chat.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "conf_params.h"
#include "evt.h"
#include "mem.h"
#include "msg.h"
#include "proxy.h"

/* Whose parameters proxy_params() checks. */
enum param_cmd {
	P_MAIL,
	P_RCPT,
};

/* proxy_mail_replied - the next hop's word on MAIL */
static void proxy_mail_replied(struct proxy_session *s, const struct pending *p,
			       const struct smtp_reply *r)
{
	if (r->code / 100 == 2) {
		/*
		 * A new transaction: whatever an earlier one left (a pipelined
		 * RSET reset the envelope before that one's replies were read)
		 * is not this one's.
		 */
		envelope_reset_mail(&s->env);
		s->mail_ok = 1;
		s->env.mail_from = xstrdup(p->addr);
		s->env.mail_params = xstrdup(p->params);
	} else if (s->state == PS_MAIL) {
		proxy_reset_mail(s);
	}
}

/* proxy_rcpt_replied - the next hop's word on RCPT */
static void proxy_rcpt_replied(struct proxy_session *s, const struct pending *p,
			       const struct smtp_reply *r)
{
	if (r->code / 100 == 2 && s->mail_ok)
		envelope_add_rcpt(&s->env, p->addr, p->params);
}

/* proxy_xforward_replied - the next hop's word on XFORWARD */
static void proxy_xforward_replied(struct proxy_session *s, const struct pending *p,
				   const struct smtp_reply *r)
{
	if (r->code / 100 == 2)
		proxy_xforward_keep(s, p->params);
}

/* Why proxy_path() refused a path (RFC 5321 4.5.3.1 for the sizes). */
enum path_err {
	PATH_SYNTAX = -1,
	PATH_LONG = -2,   /* over 256 octets, <> included */
	PATH_LOCAL = -3,  /* local part over 64 */
	PATH_DOMAIN = -4, /* domain over 255 */
};

/* proxy_path_parts - are the local part and the domain within RFC 5321's sizes? */
static int proxy_path_parts(const char *addr, size_t len)
{
	const char *cp = addr + 1, *end = addr + len - 1, *at = NULL;
	int quoted = 0;

	/* a source route "@a,@b:" comes first (RFC 5321 4.1.2, ignored by all) */
	if (*cp == '@' && (cp = memchr(cp, ':', (size_t) (end - cp))) != NULL)
		cp++;
	else
		cp = addr + 1;
	for (const char *p = cp; p < end; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '\\' && quoted && p + 1 < end)
			p++;
		else if (*p == '@' && !quoted)
			at = p;
	}
	if ((at ? at : end) - cp > 64)
		return PATH_LOCAL;
	if (at && end - at - 1 > 255)
		return PATH_DOMAIN;
	return 0;
}

/* proxy_path - "<address>" after FROM: or TO:, and what follows it */
static int proxy_path(const char *arg, const char *prefix, char *addr, size_t addrlen,
		      const char **rest)
{
	size_t plen = strlen(prefix), n;
	const char *cp;
	int quoted = 0, rc;

	if (strncasecmp(arg, prefix, plen) != 0)
		return PATH_SYNTAX;
	for (cp = arg + plen; *cp == ' '; cp++)
		/* void */;
	if (*cp != '<')
		return PATH_SYNTAX;
	for (n = 1; cp[n] && (quoted || cp[n] != '>'); n++) {
		if (cp[n] == '"')
			quoted = !quoted;
		else if (cp[n] == '\\' && quoted && cp[n + 1])
			n++;
		else if (!quoted && (cp[n] == ' ' || cp[n] == '<'))
			return PATH_SYNTAX;
	}
	if (cp[n] != '>')
		return PATH_SYNTAX;
	if ((rc = proxy_path_parts(cp, n + 1)) < 0)
		return rc;
	if (n + 1 > 256 || n + 2 > addrlen)
		return PATH_LONG;
	memcpy(addr, cp, n + 1);
	addr[n + 1] = 0;
	cp += n + 1;
	if (*cp && *cp != ' ')
		return PATH_SYNTAX;
	while (*cp == ' ')
		cp++;
	*rest = cp;
	return 0;
}

/* proxy_path_refused - the reply to a path proxy_path() refused */
static void proxy_path_refused(struct proxy_session *s, int err, const char *dsn,
			       const char *who)
{
	switch (err) {
	case PATH_LONG:
		proxy_chat_reply(s, "501 %s Error: path over 256 octets (RFC 5321)", dsn);
		break;
	case PATH_LOCAL:
		proxy_chat_reply(s, "501 %s Error: local part over 64 octets (RFC 5321)", dsn);
		break;
	case PATH_DOMAIN:
		proxy_chat_reply(s, "501 %s Error: domain over 255 octets (RFC 5321)", dsn);
		break;
	default:
		proxy_chat_reply(s, "501 %s Bad %s address syntax", dsn, who);
		break;
	}
}

/* proxy_params - check ESMTP parameters; 0, or -1 with a reply in why */
static int proxy_params(struct proxy_session *s, enum param_cmd verb, const char *text,
			char *out, size_t outlen, char *why, size_t whylen)
{
	static const char *const once[] = {
		"SIZE", "BODY", "RET", "ENVID", "SMTPUTF8", "NOTIFY", "ORCPT",
	};
	char copy[1024], *cp = copy, *param;
	size_t used = 0;
	unsigned seen = 0;

	if (strlcpy(copy, text, sizeof(copy)) >= sizeof(copy)) {
		snprintf(why, whylen, "501 5.5.4 Error: parameters too long");
		return -1;
	}
	*out = 0;
	while ((param = strsep(&cp, " ")) != NULL) {
		char *eq = strchr(param, '=');
		const char *val = eq ? eq + 1 : "";
		unsigned need = 0;
		int known = 0;

		if (*param == 0)
			continue;
		if (eq)
			*eq = 0;
		/* each at most once: which of two would the next hop believe? */
		for (unsigned i = 0; i < sizeof(once) / sizeof(once[0]); i++) {
			if (strcasecmp(param, once[i]) != 0)
				continue;
			if (seen & (1u << i)) {
				snprintf(why, whylen, "501 5.5.4 Error: duplicate %s parameter",
					 once[i]);
				return -1;
			}
			seen |= 1u << i;
		}
		if (verb == P_MAIL) {
			if (!strcasecmp(param, "SIZE")) {
				char *end;
				long long n = strtoll(val, &end, 10);

				if (!eq || *val == 0 || *end || n < 0) {
					snprintf(why, whylen, "501 5.5.4 Bad SIZE parameter");
					return -1;
				}
				if (n > var_message_size_limit
				    || (s->hop_size > 0 && n > s->hop_size)) {
					snprintf(why, whylen,
						 "552 5.3.4 Message size exceeds "
						 "fixed limit");
					return -1;
				}
				known = 1;
			} else if (!strcasecmp(param, "BODY")) {
				known = !strcasecmp(val, "7BIT")
					|| !strcasecmp(val, "8BITMIME");
				need = strcasecmp(val, "8BITMIME") ? 0 : CAP_8BITMIME;
			} else if (!strcasecmp(param, "RET") || !strcasecmp(param, "ENVID")) {
				known = 1;
				need = CAP_DSN;
			} else if (!strcasecmp(param, "SMTPUTF8")) {
				known = !eq;
				need = CAP_SMTPUTF8;
			}
		} else if (!strcasecmp(param, "NOTIFY") || !strcasecmp(param, "ORCPT")) {
			known = eq != NULL;
			need = CAP_DSN;
		}
		if (!known || (need && !(s->hop_caps & need))) {
			snprintf(why, whylen, "555 5.5.4 Unsupported option: %.60s", param);
			return -1;
		}
		used += (size_t) snprintf(out + used, outlen - used, "%s%s%s%s",
					  used ? " " : "", param, eq ? "=" : "", val);
		if (used >= outlen) {
			snprintf(why, whylen, "501 5.5.4 Error: parameters too long");
			return -1;
		}
	}
	return 0;
}

/* proxy_do_mail - MAIL FROM */
static void proxy_do_mail(struct proxy_session *s, const struct proxy_cmd *cmd, const char *arg)
{
	char addr[SCAN_ADDR_MAX], params[SCAN_PARAMS_MAX], why[128];
	const char *rest;
	int rc;

	if (s->state == PS_MAIL) {
		proxy_chat_reply(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if ((rc = proxy_path(arg, "FROM:", addr, sizeof(addr), &rest)) < 0) {
		proxy_path_refused(s, rc, "5.1.7", "sender");
		return;
	}
	if (proxy_params(s, P_MAIL, rest, params, sizeof(params), why, sizeof(why)) < 0) {
		proxy_chat_reply(s, "%s", why);
		return;
	}
	proxy_enter_state(s, PS_MAIL);
	s->mail_ok = 0;
	s->rcpt_tried = 0;
	proxy_chat_send(s, cmd, addr, params, "MAIL FROM:%s%s%s", addr, *params ? " " : "",
			params);
}

/* proxy_do_rcpt - RCPT TO */
static void proxy_do_rcpt(struct proxy_session *s, const struct proxy_cmd *cmd, const char *arg)
{
	char addr[SCAN_ADDR_MAX], params[SCAN_PARAMS_MAX], why[128];
	const char *rest;
	int rc;

	if ((rc = proxy_path(arg, "TO:", addr, sizeof(addr), &rest)) < 0
	    || strcmp(addr, "<>") == 0) {
		proxy_path_refused(s, rc < 0 ? rc : PATH_SYNTAX, "5.1.3", "recipient");
		return;
	}
	if (s->rcpt_tried >= (size_t) var_smtpd_recipient_limit) {
		proxy_chat_reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if (proxy_params(s, P_RCPT, rest, params, sizeof(params), why, sizeof(why)) < 0) {
		proxy_chat_reply(s, "%s", why);
		return;
	}
	s->rcpt_tried++;
	proxy_chat_send(s, cmd, addr, params, "RCPT TO:%s%s%s", addr, *params ? " " : "",
			params);
}

/* proxy_ehlo_reply - the next hop's EHLO reply, filtered, for the client */
static void proxy_ehlo_reply(struct proxy_session *s, const struct smtp_reply *r)
{
	static const char *const keep[] = {
		"8BITMIME", "DSN",      "PIPELINING", "ENHANCEDSTATUSCODES", "HELP", "VRFY",
		"SMTPUTF8", "XFORWARD", NULL,
	};
	long long size = var_message_size_limit;
	const char *line = r->text.data;
	struct buf out;
	char *last;

	if (s->hop_size > 0 && s->hop_size < size)
		size = s->hop_size;
	buf_init(&out, 512);
	for (int n = 0; n < r->nlines; n++) {
		const char *end = strstr(line, "\r\n");
		const char *text = end - line > 4 ? line + 4 : "";
		size_t tlen = end - line > 4 ? (size_t) (end - line - 4) : 0;

		if (n == 0) {
			buf_printf(&out, "250-%.*s\r\n", (int) tlen, text);
		} else {
			for (int k = 0; keep[k]; k++) {
				size_t klen = strlen(keep[k]);

				if (!s->xforward_ok && strcmp(keep[k], "XFORWARD") == 0)
					continue;

				if (tlen >= klen && strncasecmp(text, keep[k], klen) == 0
				    && (tlen == klen || text[klen] == ' '))
					buf_printf(&out, "250-%.*s\r\n", (int) tlen, text);
			}
		}
		line = end + 2;
	}
	buf_printf(&out, "250-SIZE %lld\r\n", size);
	if (proxy_tls_offer(s))
		buf_puts(&out, "250-STARTTLS\r\n");
	/* the last line says "250 " */
	out.data[out.len - 2] = 0;
	last = strrchr(out.data, '\n');
	out.data[out.len - 2] = '\r';
	last[4] = ' ';
	proxy_chat_text(s, &out);
	buf_free(&out);
}

/* proxy_hello - HELO or EHLO: ours to the next hop, theirs to the client */
static void proxy_hello(struct proxy_session *s, int ehlo, const char *arg)
{
	struct smtp_reply r;
	int rc;

	if (*arg == 0 || strlen(arg) > 255) {
		proxy_chat_reply(s, "501 5.5.4 Syntax: %s hostname", ehlo ? "EHLO" : "HELO");
		return;
	}
	proxy_reset_mail(s);
	proxy_xforward_reset(s);
	smtp_reply_init(&r);
	rc = proxy_hop_ehlo(s, &r);
	if (rc == HOP_OK && s->hop && stream_pending(s->hop) > 0)
		rc = HOP_GARBLED;
	if (rc != HOP_OK) {
		(void) proxy_chat_hop_failed(s, rc, "EHLO");
	} else if (r.code / 100 != 2) {
		proxy_chat_relay(s, &r);
	} else {
		strlcpy(s->env.helo, arg, sizeof(s->env.helo));
		s->esmtp = ehlo;
		proxy_enter_state(s, PS_READY);
		if (ehlo)
			proxy_ehlo_reply(s, &r);
		else
			proxy_chat_reply(s, "250 %s",
					 strlen(r.first) > 4 ? r.first + 4 : s->helo_name);
	}
	smtp_reply_free(&r);
}

/* proxy_do_helo - HELO */
static void proxy_do_helo(struct proxy_session *s, const struct proxy_cmd *cmd, const char *arg)
{
	proxy_hello(s, 0, arg);
}

/* proxy_do_ehlo - EHLO */
static void proxy_do_ehlo(struct proxy_session *s, const struct proxy_cmd *cmd, const char *arg)
{
	proxy_hello(s, 1, arg);
}

/* proxy_do_quit - QUIT: say goodbye on both sides */
static void proxy_do_quit(struct proxy_session *s, const struct proxy_cmd *cmd, const char *arg)
{
	struct smtp_reply r;
	int rc;

	proxy_enter_state(s, PS_QUIT);
	proxy_chat_reply(s, "221 2.0.0 Bye");
	if (s->hop == NULL)
		return;
	/*
	 * Every transaction had its final reply: the next hop's 221 tells the
	 * client nothing, so ours goes as soon as the next hop has our QUIT
	 * (Postfix's smtpd does not wait for its proxy filter's either). Its
	 * 221 is still read, and anything after it is a protocol error.
	 */
	stream_puts(s->hop, "QUIT\r\n");
	(void) stream_flush(s->hop);
	(void) proxy_chat_flush(s);
	smtp_reply_init(&r);
	rc = proxy_hop_reply(s, &r, 10, "221");
	/* after 221 the next hop has nothing more to say */
	if (rc == HOP_OK && proxy_hop_quiet(s) == HOP_GARBLED)
		proxy_hop_failed(s, HOP_GARBLED, "QUIT (data after 221)");
	proxy_hop_close(s);
	smtp_reply_free(&r);
}

/* proxy_do_starttls - STARTTLS: 220, then the handshake on a clean slate */
static void proxy_do_starttls(struct proxy_session *s, const struct proxy_cmd *cmd,
			      const char *arg)
{
	size_t junk;

	if (var_inbound_tls == INBOUND_TLS_NONE) {
		proxy_chat_reply(s, "502 5.5.1 Error: command not implemented");
		return;
	}
	if (*arg) {
		proxy_chat_reply(s, "501 5.5.4 Syntax: STARTTLS");
		return;
	}
	if (s->tls_client) {
		proxy_chat_reply(s, "554 5.5.1 Error: TLS already active");
		return;
	}
	if (s->state == PS_MAIL) {
		proxy_chat_reply(s, "503 5.5.1 Error: MAIL transaction in progress");
		return;
	}
	if (!proxy_tls_server_ready(s)) {
		proxy_chat_reply(s, "454 4.7.0 TLS not available due to local problem");
		return;
	}
	proxy_chat_reply(s, "220 2.0.0 Ready to start TLS");
	if (proxy_chat_flush(s) != STREAM_OK) {
		proxy_enter_state(s, PS_QUIT);
		return;
	}
	/* RFC 3207: nothing said before the handshake counts after it */
	if ((junk = stream_pending(s->client)) > 0) {
		evt_warn(TLS_DISCARDED, s->cid, "client=%s bytes=%zu", s->client_addr, junk);
		stream_discard_input(s->client);
	}
	if (proxy_tls_accept(s, "STARTTLS") < 0) {
		proxy_enter_state(s, PS_QUIT); /* nothing more can be said: close */
		return;
	}
	proxy_reset_mail(s);
	proxy_enter_state(s, PS_GREETED);
	s->esmtp = 0;
	s->env.helo[0] = 0;
}

/* proxy_do_xforward - XFORWARD: checked, rebuilt, relayed */
static void proxy_do_xforward(struct proxy_session *s, const struct proxy_cmd *cmd,
			      const char *arg)
{
	struct buf xf;
	const char *why;

	if (!(s->hop_caps & CAP_XFORWARD) || s->state == PS_GREETED) {
		proxy_chat_reply(s, "502 5.5.1 Error: command not implemented");
		return;
	}
	if (!s->xforward_ok) {
		evt_warn(XFWD_REFUSED, s->cid, "client=%s reason=\"not in xforward_hosts\"",
			 s->client_addr);
		proxy_chat_reply(s, "550 5.7.0 Error: insufficient authorization");
		return;
	}
	if (s->state == PS_MAIL) {
		proxy_chat_reply(s, "503 5.5.1 Error: MAIL transaction in progress");
		return;
	}
	if (*arg == 0) {
		proxy_chat_reply(s, "501 5.5.4 Syntax: XFORWARD attribute=value...");
		return;
	}
	if (s->nxforward >= PROXY_XFWD_CMDS_MAX) {
		proxy_chat_reply(s, "503 5.5.1 Error: too many XFORWARD commands");
		return;
	}
	buf_init(&xf, 128);
	if ((why = proxy_xforward_build(arg, &xf)) != NULL) {
		evt_warn(XFWD_REFUSED, s->cid, "client=%s reason=\"%s\"", s->client_addr, why);
		proxy_chat_reply(s, "501 5.5.4 Bad XFORWARD command: %s", why);
	} else {
		proxy_chat_send(s, cmd, NULL, xf.data, "%s", xf.data);
	}
	buf_free(&xf);
}

/* proxy_do_data - DATA: the transaction is ours (proxy_transaction.c) */
static void proxy_do_data(struct proxy_session *s, const struct proxy_cmd *cmd, const char *arg)
{
	if (*arg)
		proxy_chat_reply(s, "501 5.5.4 Syntax: DATA");
	else if (proxy_transaction(s) == 0)
		proxy_reset_mail(s);
}

/* proxy_do_rset - RSET: forget the transaction here and there */
static void proxy_do_rset(struct proxy_session *s, const struct proxy_cmd *cmd, const char *arg)
{
	if (*arg) {
		proxy_chat_reply(s, "501 5.5.4 Syntax: RSET");
		return;
	}
	proxy_reset_mail(s);
	proxy_xforward_reset(s);
	proxy_chat_send(s, cmd, NULL, NULL, "RSET");
}

/* proxy_do_noop - NOOP: the next hop says whether it is still there */
static void proxy_do_noop(struct proxy_session *s, const struct proxy_cmd *cmd, const char *arg)
{
	proxy_chat_send(s, cmd, NULL, NULL, "NOOP");
}

/* proxy_do_vrfy - VRFY: the next hop's answer */
static void proxy_do_vrfy(struct proxy_session *s, const struct proxy_cmd *cmd, const char *arg)
{
	if (*arg == 0)
		proxy_chat_reply(s, "501 5.5.4 Syntax: VRFY address");
	else
		proxy_chat_send(s, cmd, NULL, NULL, "VRFY %s", arg);
}

/* proxy_do_help - HELP: the next hop's answer */
static void proxy_do_help(struct proxy_session *s, const struct proxy_cmd *cmd, const char *arg)
{
	proxy_chat_send(s, cmd, NULL, NULL, "HELP%s%s", *arg ? " " : "", arg);
}

/* proxy_do_xclient - XCLIENT: never offered, always refused */
static void proxy_do_xclient(struct proxy_session *s, const struct proxy_cmd *cmd,
			     const char *arg)
{
	/* only the MTA itself may say who the client is */
	evt_warn(XCLIENT_REFUSED, s->cid, "client=%s", s->client_addr);
	proxy_chat_reply(s, "502 5.5.1 Error: command not implemented");
}

/* proxy_do_unimpl - a command we know and do not do */
static void proxy_do_unimpl(struct proxy_session *s, const struct proxy_cmd *cmd,
			    const char *arg)
{
	proxy_chat_reply(s, "502 5.5.1 Error: command not implemented");
}

/* proxy_do_bdat - BDAT: never offered; its chunk cannot be told from commands */
static void proxy_do_bdat(struct proxy_session *s, const struct proxy_cmd *cmd, const char *arg)
{
	evt_warn(CLIENT_PROTO, s->cid, "client=%s reason=\"BDAT, never offered\"",
		 s->client_addr);
	/* 521: the session ends, the chunk's bytes are never read as commands */
	proxy_chat_reply(s, "521 5.5.1 Error: command not implemented");
}

/* proxy_do_unknown - anything else */
static void proxy_do_unknown(struct proxy_session *s, const struct proxy_cmd *cmd,
			     const char *arg)
{
	proxy_chat_reply(s, "500 5.5.2 Error: command not recognized");
}

/*
 * The commands, one row each (Postfix's smtpd_cmd_table, OpenSMTPD's
 * commands[]): the handler, what its next-hop reply means, flags, and
 * for a relayed command the positive replies it may get (RFC 5321 4.3.2).
 * RFC 2920 lets RSET, MAIL and RCPT wait in a pipelined group (BATCH);
 * a LAST command must end its group: anything behind it is a client that
 * did not wait for our reply (smtpd_forbid_unauth_pipelining: 554 5.5.0,
 * close); with inbound_tls = encrypt only PRE_TLS commands may come
 * before STARTTLS; NEED_HELO and NEED_MAIL commands are refused with 503
 * out of order; JUNK commands cost nothing to send and are counted
 * against smtpd_junk_command_limit; FORBIDDEN lines are no SMTP at all
 * (a web request, or a message header in command state: content a broken
 * client sent after a refused DATA) and close the session at once; a
 * NO_HOP command is answered when the next hop is gone. The last row,
 * without a name, is every command not in the table.
 */
static const struct proxy_cmd proxy_cmds[] = {
	{"HELO", proxy_do_helo, NULL, CMD_PRE_TLS | CMD_JUNK | CMD_LAST, NULL},
	{"EHLO", proxy_do_ehlo, NULL, CMD_PRE_TLS | CMD_JUNK | CMD_LAST, NULL},
	{"MAIL", proxy_do_mail, proxy_mail_replied, CMD_BATCH | CMD_NEED_HELO, "250"},
	{"RCPT", proxy_do_rcpt, proxy_rcpt_replied, CMD_BATCH | CMD_NEED_MAIL, "250 251"},
	{"DATA", proxy_do_data, NULL, CMD_NEED_MAIL | CMD_LAST, NULL},
	{"RSET", proxy_do_rset, NULL, CMD_BATCH | CMD_PRE_TLS | CMD_JUNK, "250"},
	{"NOOP", proxy_do_noop, NULL, CMD_PRE_TLS | CMD_JUNK | CMD_LAST, "250"},
	{"QUIT", proxy_do_quit, NULL, CMD_PRE_TLS | CMD_NO_HOP | CMD_LAST, NULL},
	{"VRFY", proxy_do_vrfy, NULL, CMD_JUNK | CMD_LAST, "250 251 252"},
	{"HELP", proxy_do_help, NULL, CMD_PRE_TLS | CMD_JUNK, "211 214"},
	{"XFORWARD", proxy_do_xforward, proxy_xforward_replied, 0, "250"},
	{"STARTTLS", proxy_do_starttls, NULL, CMD_PRE_TLS | CMD_LAST, NULL},
	{"XCLIENT", proxy_do_xclient, NULL, CMD_PRE_TLS, NULL},
	{"BDAT", proxy_do_bdat, NULL, CMD_PRE_TLS | CMD_NO_HOP, NULL},
	{"AUTH", proxy_do_unimpl, NULL, CMD_PRE_TLS, NULL},
	{"ETRN", proxy_do_unimpl, NULL, CMD_PRE_TLS | CMD_JUNK, NULL},
	{"EXPN", proxy_do_unimpl, NULL, CMD_PRE_TLS | CMD_JUNK | CMD_LAST, NULL},
	{"TURN", proxy_do_unimpl, NULL, CMD_PRE_TLS | CMD_LAST, NULL},
	{"ATRN", proxy_do_unimpl, NULL, CMD_PRE_TLS | CMD_LAST, NULL},
	{"SEND", proxy_do_unimpl, NULL, CMD_PRE_TLS, NULL},
	{"SAML", proxy_do_unimpl, NULL, CMD_PRE_TLS, NULL},
	{"SOML", proxy_do_unimpl, NULL, CMD_PRE_TLS, NULL},
	/* web requests: a browser or a proxy abused to talk to us */
	{"GET", NULL, NULL, CMD_FORBIDDEN, NULL},
	{"POST", NULL, NULL, CMD_FORBIDDEN, NULL},
	{"HEAD", NULL, NULL, CMD_FORBIDDEN, NULL},
	{"PUT", NULL, NULL, CMD_FORBIDDEN, NULL},
	{"CONNECT", NULL, NULL, CMD_FORBIDDEN, NULL},
	{NULL, proxy_do_unknown, NULL, CMD_PRE_TLS | CMD_JUNK, NULL},
};

/* A line that looks like a message header ("Subject: ..."): content, not SMTP. */
static const struct proxy_cmd proxy_cmd_header = {NULL, NULL, NULL, CMD_FORBIDDEN, NULL};

/* proxy_is_header - "Name:" at the start of the line, as in a message header */
static int proxy_is_header(const char *word, size_t len)
{
	size_t i = 0;

	/* RFC 5322 field name: printable ASCII but ':' (Postfix's is_header) */
	while (i < len && word[i] > ' ' && word[i] < 0x7f && word[i] != ':')
		i++;
	return i > 0 && i < len && word[i] == ':';
}

/* proxy_cmd_find - the row of a command word (the last row: unknown) */
static const struct proxy_cmd *proxy_cmd_find(const char *word, size_t len)
{
	const struct proxy_cmd *cmd;

	for (cmd = proxy_cmds; cmd->name; cmd++)
		if (strlen(cmd->name) == len && strncasecmp(cmd->name, word, len) == 0)
			return cmd;
	return proxy_is_header(word, len) ? &proxy_cmd_header : cmd;
}

/* proxy_cmd_refused - is the command out of place? then say why */
static int proxy_cmd_refused(struct proxy_session *s, const struct proxy_cmd *cmd)
{
	if (!(cmd->flags & CMD_PRE_TLS) && !proxy_tls_client_ok(s))
		proxy_chat_reply(s, "530 5.7.0 Must issue a STARTTLS command first");
	else if ((cmd->flags & CMD_NEED_HELO) && s->state == PS_GREETED)
		proxy_chat_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
	else if ((cmd->flags & CMD_NEED_MAIL) && s->state != PS_MAIL)
		proxy_chat_reply(s, "503 5.5.1 Error: need %s command",
				 cmd->action == proxy_do_data ? "RCPT" : "MAIL");
	else
		return 0;
	return 1;
}

/* proxy_out_of_turn - the client spoke before our reply: log it once; 1: close */
static int proxy_out_of_turn(struct proxy_session *s, const char *after)
{
	char said[100];

	/* (a peek: the command line being run lives in the read buffer) */
	if (!s->out_of_turn++)
		evt_warn(CLIENT_PROTO, s->cid,
			 "client=%s reason=\"improper pipelining\" "
			 "after=%s data=%s",
			 s->client_addr, after,
			 evt_quote_len(said, stream_peek(s->client, said, sizeof(said))));
	if (!var_smtpd_forbid_unauth_pipelining)
		return 0;
	proxy_chat_reply(s, "554 5.5.0 Error: SMTP protocol synchronization");
	proxy_enter_state(s, PS_QUIT);
	return 1;
}

/* proxy_cmd_pipelined - did the client say more than RFC 2920 lets it? 1: close */
static int proxy_cmd_pipelined(struct proxy_session *s, const struct proxy_cmd *cmd)
{
	int announced = s->esmtp && (s->hop_caps & CAP_PIPELINING);

	/* a group ends with a LAST command; without PIPELINING every command does */
	if (announced && !(cmd->flags & CMD_LAST))
		return 0;
	if (stream_peek_ready(s->client) <= 0)
		return 0;
	return proxy_out_of_turn(s, cmd->name ? cmd->name : "unknown command");
}

/* proxy_cmd_too_long - over RFC 5321's 512 octets and what our extensions add? */
static int proxy_cmd_too_long(struct proxy_session *s, const struct proxy_cmd *cmd, size_t len)
{
	size_t max = 512; /* the command, its arguments and CRLF */

	/* RFC 1870 SIZE, RFC 6152 BODY, RFC 3461 DSN, RFC 6531 SMTPUTF8 */
	if (s->esmtp && cmd->action == proxy_do_mail)
		max += 26 + (s->hop_caps & CAP_8BITMIME ? 16 : 0)
			+ (s->hop_caps & CAP_DSN ? 100 : 0)
			+ (s->hop_caps & CAP_SMTPUTF8 ? 10 : 0);
	else if (s->esmtp && cmd->action == proxy_do_rcpt && (s->hop_caps & CAP_DSN))
		max += 500;
	if (len + 2 <= max)
		return 0;
	proxy_chat_reply(s, "500 5.5.2 Error: command line over %zu octets (RFC 5321)", max);
	return 1;
}

/* proxy_cmd_forbidden - not SMTP at all (a web request, a message header) */
static void proxy_cmd_forbidden(struct proxy_session *s, const char *line)
{
	evt_warn(CLIENT_PROTO, s->cid, "client=%s reason=\"not an SMTP command\" line=%s",
		 s->client_addr, evt_quote_len(line, strlen(line) < 100 ? strlen(line) : 100));
	/* Postfix's answer: what follows is no SMTP either, never run it */
	proxy_chat_reply(s, "221 2.7.0 Error: not an SMTP command, closing");
	proxy_enter_state(s, PS_QUIT);
}

/* proxy_dispatch - one command line */
static void proxy_dispatch(struct proxy_session *s, char *line)
{
	size_t wlen = strcspn(line, " ");
	const char *arg = line + wlen;
	const struct proxy_cmd *cmd = proxy_cmd_find(line, wlen);

	while (*arg == ' ')
		arg++;
	/* the early EHLO's reply is for the client's HELO or EHLO alone */
	if (s->ehlo_sent && cmd->action != proxy_do_helo && cmd->action != proxy_do_ehlo)
		proxy_hop_ehlo_drop(s);
	/* a command that may not wait in a group ends the group before it */
	if (!(cmd->flags & CMD_BATCH))
		proxy_chat_collect(s);
	if (s->state == PS_QUIT)
		return; /* that group's replies ended the session */
	if (cmd->flags & CMD_FORBIDDEN) {
		proxy_cmd_forbidden(s, line);
		return;
	}
	if (proxy_cmd_pipelined(s, cmd))
		return;
	/* a next hop gone before, or while reading that group's replies */
	if (s->hop_dead && !(cmd->flags & CMD_NO_HOP)) {
		proxy_chat_collect(s);
		proxy_chat_stat(s,
				s->tls_hop_failed ? PROXY_STAT_HOP_TLS : PROXY_STAT_HOP_GONE);
		return;
	}
	if (proxy_cmd_too_long(s, cmd, strlen(line)) || proxy_cmd_refused(s, cmd))
		return;
	cmd->action(s, cmd, arg);
	/* free to send, and sent without end: each beyond the limit is an error */
	if ((cmd->flags & CMD_JUNK) && ++s->junk > var_smtpd_junk_command_limit)
		s->errors++;
	if ((cmd->flags & CMD_BATCH) && !(s->hop_caps & CAP_PIPELINING))
		proxy_chat_collect(s);
}

/* proxy_read_command - the next command line; 0, or -1 when the session ends */
static int proxy_read_command(struct proxy_session *s, char **line)
{
	size_t len;
	int flags, rc;

	if (!stream_has_line(s->client)) {
		if (proxy_chat_flush(s) != STREAM_OK)
			return -1;
		if (s->state == PS_QUIT)
			return -1;
	}
	s->client->timeout = var_smtpd_timeout;
	rc = stream_getline(s->client, line, &len, (size_t) var_command_length_limit, &flags);
	if (rc == STREAM_TOOLONG) {
		proxy_chat_reply(s, "500 5.5.0 Error: line too long");
		return stream_skipline(s->client) == STREAM_OK ? 1 : -1;
	}
	if (rc == STREAM_TIMEOUT) {
		evt_warn(CLIENT_TIMEOUT, s->cid, "client=%s state=%d", s->client_addr,
			 s->state);
		proxy_chat_collect(s);
		proxy_chat_stat(s, PROXY_STAT_TIMEOUT);
		(void) stream_flush(s->client);
		return -1;
	}
	if (rc != STREAM_OK) {
		if (s->state == PS_MAIL)
			evt_warn(CLIENT_LOST, s->cid, "client=%s during=%s", s->client_addr,
				 evt_quote("MAIL transaction"));
		return -1;
	}
	if (flags & (STREAM_LINE_NUL | STREAM_LINE_BARE_CR)) {
		proxy_chat_reply(s, "500 5.5.2 Error: bad character in command");
		return 1;
	}
	for (char *cp = *line; *cp; cp++) {
		if ((unsigned char) *cp < 0x20 && *cp != '\t') {
			proxy_chat_reply(s, "500 5.5.2 Error: bad character in command");
			return 1;
		}
		if (*cp == '\t')
			*cp = ' ';
	}
	return 0;
}

/* proxy_session_run - the whole session, banner to goodbye */
void proxy_session_run(struct proxy_session *s)
{
	struct smtp_reply banner;
	char *line;

	if (proxy_tls_wrapper(s) < 0)
		return; /* implicit TLS failed: logged */
	smtp_reply_init(&banner);
	if (proxy_hop_connect(s, &banner) < 0) {
		proxy_chat_refuse(s);
		smtp_reply_free(&banner);
		return;
	}
	/* a client that talks before the greeting does not wait for replies */
	if (var_tls_wrapper_mode || stream_peek_ready(s->client) <= 0
	    || !proxy_out_of_turn(s, "CONNECT"))
		proxy_chat_relay(s, &banner);
	smtp_reply_free(&banner);
	if (s->state != PS_QUIT) {
		proxy_enter_state(s, PS_GREETED);
		/* the greeting first, then our EHLO: answered while the client reads it */
		if (proxy_chat_flush(s) == STREAM_OK)
			proxy_hop_ehlo_early(s);
	}
	while (s->state != PS_QUIT) {
		int rc = proxy_read_command(s, &line);

		if (rc < 0)
			break;
		if (rc == 0)
			proxy_dispatch(s, line);
		if (s->errors >= var_smtpd_hard_error_limit && s->state != PS_QUIT) {
			proxy_chat_collect(s);
			evt_warn(CLIENT_LIMIT, s->cid, "client=%s errors=%d", s->client_addr,
				 s->errors);
			proxy_chat_stat(s, PROXY_STAT_ERRORS);
		}
	}
	(void) proxy_chat_flush(s);
	if (s->hop && !s->hop_dead) {
		stream_puts(s->hop, "QUIT\r\n");
		(void) stream_flush(s->hop);
	}
	proxy_hop_close(s);
}
