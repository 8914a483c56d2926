/*
 * proxy_session - the client side: commands, state machine, pipelining
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
 * proxy_transaction().
 *
 * XFORWARD (Postfix's content-filter logging extension) is offered only
 * when the next hop offers it and the client is in xforward_hosts. Each
 * attribute is xtext-decoded, checked (NAME a host name, ADDR an address,
 * PORT a number, PROTO a short word, SOURCE LOCAL or REMOTE, or
 * [UNAVAILABLE]; NAME=[TEMPUNAVAIL], XCLIENT's word for a name lookup
 * that failed for now, goes on as [UNAVAILABLE], the only word XFORWARD
 * servers know; HELO and IDENT have characters that are special in
 * headers replaced by '?', as Postfix does) and re-encoded. The commands
 * the next hop accepted are kept until the transaction ends, so that a
 * redirect, which starts a new one with RSET, can send them again.
 * XCLIENT is never offered and always refused.
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

enum verb {
	V_HELO, V_EHLO, V_MAIL, V_RCPT, V_DATA, V_RSET, V_NOOP, V_QUIT,
	V_VRFY, V_HELP, V_XFORWARD, V_STARTTLS, V_XCLIENT, V_UNIMPL, V_UNKNOWN,
};

#define XFWD_CMDS_MAX	8		/* XFORWARD commands per transaction */
#define XFWD_VALUE_MAX	255		/* one attribute value, encoded or not */

static const struct {
	const char *name;
	enum verb verb;
} proxy_verbs[] = {
	{"HELO", V_HELO}, {"EHLO", V_EHLO}, {"MAIL", V_MAIL}, {"RCPT", V_RCPT},
	{"DATA", V_DATA}, {"RSET", V_RSET}, {"NOOP", V_NOOP}, {"QUIT", V_QUIT},
	{"VRFY", V_VRFY}, {"HELP", V_HELP}, {"XFORWARD", V_XFORWARD},
	{"STARTTLS", V_STARTTLS}, {"AUTH", V_UNIMPL}, {"BDAT", V_UNIMPL},
	{"ETRN", V_UNIMPL}, {"EXPN", V_UNIMPL}, {"TURN", V_UNIMPL},
	{"XCLIENT", V_XCLIENT}, {"SEND", V_UNIMPL}, {"SAML", V_UNIMPL},
	{"SOML", V_UNIMPL}, {"ATRN", V_UNIMPL},
};

/* One command waiting for its reply, or one reply of ours waiting its turn. */
struct pending {
	enum verb verb;
	char   *local;			/* our reply; NULL: the next hop's */
	char   *addr;			/* MAIL, RCPT */
	char   *params;
};

static struct pending *pq;
static size_t pq_len, pq_cap;

/* proxy_pending_push - queue an entry */
static void proxy_pending_push(enum verb verb, char *local, const char *addr,
			       const char *params)
{
	if (pq_len == pq_cap) {
		pq_cap = pq_cap ? pq_cap * 2 : 64;
		pq = xrealloc(pq, pq_cap * sizeof(*pq));
	}
	pq[pq_len].verb = verb;
	pq[pq_len].local = local;
	pq[pq_len].addr = addr ? xstrdup(addr) : NULL;
	pq[pq_len].params = params ? xstrdup(params) : NULL;
	pq_len++;
}

/* proxy_reply_local - our own reply, in its turn */
void proxy_reply_local(struct proxy_session *s, const char *fmt, ...)
{
	va_list ap;
	char   *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		msg_fatal("out of memory");
	va_end(ap);
	if (text[0] == '5')
		s->errors++;
	if (pq_len == 0) {
		stream_puts(s->client, text);
		stream_write(s->client, "\r\n", 2);
		free(text);
	} else {
		proxy_pending_push(V_UNKNOWN, text, NULL, NULL);
	}
}

/* proxy_send - relay a rebuilt command to the next hop */
static void proxy_send(struct proxy_session *s, enum verb verb, const char *addr,
		       const char *params, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&s->hop->wbuf, fmt, ap);
	va_end(ap);
	buf_append(&s->hop->wbuf, "\r\n", 2);
	proxy_pending_push(verb, NULL, addr, params);
}

/* proxy_xforward_reset - the next hop forgot our XFORWARD: so do we */
static void proxy_xforward_reset(struct proxy_session *s)
{
	buf_reset(&s->xforward);
	s->nxforward = 0;
}

/* proxy_reset_mail - forget the transaction */
void    proxy_reset_mail(struct proxy_session *s)
{
	/* a transaction that ended (delivered, or RSET by us) resets XFORWARD */
	if (s->state == PS_MAIL && s->mail_ok)
		proxy_xforward_reset(s);
	envelope_reset_mail(&s->env);
	s->mail_ok = 0;
	s->rcpt_tried = 0;
	if (s->state == PS_MAIL)
		s->state = PS_READY;
}

/* proxy_on_reply - what a next-hop reply means for our state */
static int proxy_on_reply(struct proxy_session *s, struct pending *p,
			  const struct smtp_reply *r)
{
	int     ok = r->code / 100 == 2;

	/* no command of these may get 3xx: only DATA does, and DATA is ours */
	if (r->code / 100 == 3)
		return HOP_GARBLED;
	switch (p->verb) {
	case V_MAIL:
		if (ok) {
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
		break;
	case V_RCPT:
		if (ok && s->mail_ok)
			envelope_add_rcpt(&s->env, p->addr, p->params);
		break;
	case V_XFORWARD:
		if (ok && s->nxforward < XFWD_CMDS_MAX) {
			buf_puts(&s->xforward, p->params);
			buf_append(&s->xforward, "\r\n", 2);
			s->nxforward++;
		}
		break;
	default:
		break;
	}
	if (r->code == 421)
		s->hop_dead = 1;		/* relayed, then we close too */
	return HOP_OK;
}

/* proxy_collect - answer every queued entry, in order */
static void proxy_collect(struct proxy_session *s)
{
	struct smtp_reply r;
	size_t  i;

	smtp_reply_init(&r);
	for (i = 0; i < pq_len; i++) {
		struct pending *p = &pq[i];
		int     rc;

		if (p->local) {
			stream_puts(s->client, p->local);
			stream_write(s->client, "\r\n", 2);
			continue;
		}
		if (s->hop == NULL) {
			/* the next hop failed earlier in this batch */
			continue;
		}
		rc = proxy_read_reply(s, &r, var_next_hop_timeout);
		if (rc == HOP_OK)
			rc = proxy_on_reply(s, p, &r);
		if (rc == HOP_OK) {
			proxy_relay_reply(s, &r);
			continue;
		}
		proxy_hop_failed(s, rc, "command");
		if (rc == HOP_GARBLED)
			stream_printf(s->client, "451 4.3.0 %s Error: next hop protocol "
				      "error\r\n", s->helo_name);
		else
			stream_printf(s->client, "421 4.4.2 %s Error: lost connection "
				      "to next hop\r\n", s->helo_name);
		if (rc != HOP_GARBLED || i + 1 < pq_len) {
			if (rc == HOP_GARBLED)
				stream_printf(s->client, "421 4.4.2 %s Error: next hop "
					      "connection closed\r\n", s->helo_name);
			s->state = PS_QUIT;
		}
	}
	/* every reply was read: anything more is unsolicited, the hop is unsafe */
	if (s->hop && stream_pending(s->hop) > 0) {
		proxy_hop_failed(s, HOP_GARBLED, "reply (unsolicited data)");
		s->hop_dead = 1;
	}
	for (i = 0; i < pq_len; i++) {
		free(pq[i].local);
		free(pq[i].addr);
		free(pq[i].params);
	}
	pq_len = 0;
	smtp_reply_free(&r);
	if (s->hop_dead && s->state != PS_QUIT && s->hop) {
		/* the next hop said 421: it is closing, and so do we */
		proxy_hop_close(s);
		s->state = PS_QUIT;
	}
}

/* proxy_path - "<address>" after FROM: or TO:, and what follows it */
static int proxy_path(const char *arg, const char *prefix, char *addr,
		      size_t addrlen, const char **rest)
{
	size_t  plen = strlen(prefix), n;
	const char *cp;
	int     quoted = 0;

	if (strncasecmp(arg, prefix, plen) != 0)
		return -1;
	for (cp = arg + plen; *cp == ' '; cp++)
		 /* void */ ;
	if (*cp != '<')
		return -1;
	for (n = 1; cp[n] && (quoted || cp[n] != '>'); n++) {
		if (cp[n] == '"')
			quoted = !quoted;
		else if (cp[n] == '\\' && quoted && cp[n + 1])
			n++;
		else if (!quoted && (cp[n] == ' ' || cp[n] == '<'))
			return -1;
	}
	if (cp[n] != '>' || n + 2 > addrlen || n > 256 + 1)
		return -1;
	memcpy(addr, cp, n + 1);
	addr[n + 1] = 0;
	cp += n + 1;
	if (*cp && *cp != ' ')
		return -1;
	while (*cp == ' ')
		cp++;
	*rest = cp;
	return 0;
}

/* proxy_params - check ESMTP parameters; 0, or -1 with a reply in why */
static int proxy_params(struct proxy_session *s, enum verb verb, const char *text,
			char *out, size_t outlen, char *why, size_t whylen)
{
	char    copy[1024], *cp = copy, *param;
	size_t  used = 0;

	if (strlcpy(copy, text, sizeof(copy)) >= sizeof(copy)) {
		snprintf(why, whylen, "501 5.5.4 Error: parameters too long");
		return -1;
	}
	*out = 0;
	while ((param = strsep(&cp, " ")) != NULL) {
		char   *eq = strchr(param, '=');
		const char *val = eq ? eq + 1 : "";
		unsigned need = 0;
		int     known = 0;

		if (*param == 0)
			continue;
		if (eq)
			*eq = 0;
		if (verb == V_MAIL) {
			if (!strcasecmp(param, "SIZE")) {
				char   *end;
				long long n = strtoll(val, &end, 10);

				if (!eq || *val == 0 || *end || n < 0) {
					snprintf(why, whylen, "501 5.5.4 Bad SIZE parameter");
					return -1;
				}
				if (n > var_message_size_limit
				    || (s->hop_size > 0 && n > s->hop_size)) {
					snprintf(why, whylen, "552 5.3.4 Message size exceeds "
						 "fixed limit");
					return -1;
				}
				known = 1;
			} else if (!strcasecmp(param, "BODY")) {
				known = !strcasecmp(val, "7BIT") || !strcasecmp(val, "8BITMIME");
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
static void proxy_do_mail(struct proxy_session *s, const char *arg)
{
	char    addr[SCAN_ADDR_MAX], params[SCAN_PARAMS_MAX], why[128];
	const char *rest;

	if (s->state == PS_GREETED) {
		proxy_reply_local(s, "503 5.5.1 Error: send HELO/EHLO first");
		return;
	}
	if (s->state == PS_MAIL) {
		proxy_reply_local(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (proxy_path(arg, "FROM:", addr, sizeof(addr), &rest) < 0) {
		proxy_reply_local(s, "501 5.1.7 Bad sender address syntax");
		return;
	}
	if (proxy_params(s, V_MAIL, rest, params, sizeof(params), why, sizeof(why)) < 0) {
		proxy_reply_local(s, "%s", why);
		return;
	}
	s->state = PS_MAIL;
	s->mail_ok = 0;
	s->rcpt_tried = 0;
	proxy_send(s, V_MAIL, addr, params, "MAIL FROM:%s%s%s", addr,
		   *params ? " " : "", params);
}

/* proxy_do_rcpt - RCPT TO */
static void proxy_do_rcpt(struct proxy_session *s, const char *arg)
{
	char    addr[SCAN_ADDR_MAX], params[SCAN_PARAMS_MAX], why[128];
	const char *rest;

	if (s->state != PS_MAIL) {
		proxy_reply_local(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (proxy_path(arg, "TO:", addr, sizeof(addr), &rest) < 0
	    || strcmp(addr, "<>") == 0) {
		proxy_reply_local(s, "501 5.1.3 Bad recipient address syntax");
		return;
	}
	if (s->rcpt_tried >= (size_t) var_smtpd_recipient_limit) {
		proxy_reply_local(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if (proxy_params(s, V_RCPT, rest, params, sizeof(params), why, sizeof(why)) < 0) {
		proxy_reply_local(s, "%s", why);
		return;
	}
	s->rcpt_tried++;
	proxy_send(s, V_RCPT, addr, params, "RCPT TO:%s%s%s", addr,
		   *params ? " " : "", params);
}

/* proxy_ehlo_reply - the next hop's EHLO reply, filtered, for the client */
static void proxy_ehlo_reply(struct proxy_session *s, const struct smtp_reply *r)
{
	static const char *const keep[] = {
		"8BITMIME", "DSN", "PIPELINING", "ENHANCEDSTATUSCODES", "HELP",
		"VRFY", "SMTPUTF8", "XFORWARD", NULL,
	};
	long long size = var_message_size_limit;
	const char *line = r->text.data;
	struct buf out;
	char   *last;

	if (s->hop_size > 0 && s->hop_size < size)
		size = s->hop_size;
	buf_init(&out, 512);
	for (int n = 0; n < r->nlines; n++) {
		const char *end = strstr(line, "\r\n");
		const char *text = end - line > 4 ? line + 4 : "";
		size_t  tlen = end - line > 4 ? (size_t) (end - line - 4) : 0;

		if (n == 0) {
			buf_printf(&out, "250-%.*s\r\n", (int) tlen, text);
		} else {
			for (int k = 0; keep[k]; k++) {
				size_t  klen = strlen(keep[k]);

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
	stream_write(s->client, out.data, out.len);
	buf_free(&out);
}

/* proxy_do_helo - HELO or EHLO: ours to the next hop, theirs to the client */
static void proxy_do_helo(struct proxy_session *s, enum verb verb, const char *arg)
{
	struct smtp_reply r;
	int     rc;

	if (*arg == 0 || strlen(arg) > 255) {
		proxy_reply_local(s, "501 5.5.4 Syntax: %s hostname",
				  verb == V_EHLO ? "EHLO" : "HELO");
		return;
	}
	proxy_reset_mail(s);
	proxy_xforward_reset(s);
	smtp_reply_init(&r);
	rc = proxy_hop_ehlo(s, &r);
	if (rc == HOP_OK && s->hop && stream_pending(s->hop) > 0)
		rc = HOP_GARBLED;
	if (rc != HOP_OK) {
		proxy_hop_failed(s, rc, "EHLO");
		if (rc == HOP_GARBLED) {
			proxy_reply_local(s, "451 4.3.0 %s Error: next hop protocol error",
					  s->helo_name);
		} else {
			proxy_reply_local(s, "421 4.4.2 %s Error: lost connection to "
					  "next hop", s->helo_name);
			s->state = PS_QUIT;
		}
	} else if (r.code / 100 != 2) {
		proxy_relay_reply(s, &r);
	} else {
		strlcpy(s->env.helo, arg, sizeof(s->env.helo));
		s->esmtp = verb == V_EHLO;
		s->state = PS_READY;
		if (verb == V_EHLO)
			proxy_ehlo_reply(s, &r);
		else
			stream_printf(s->client, "250 %s\r\n",
				      strlen(r.first) > 4 ? r.first + 4 : s->helo_name);
	}
	smtp_reply_free(&r);
}

/* proxy_do_quit - QUIT: say goodbye on both sides */
static void proxy_do_quit(struct proxy_session *s)
{
	struct smtp_reply r;
	int     rc;

	s->state = PS_QUIT;
	smtp_reply_init(&r);
	if (s->hop) {
		stream_puts(s->hop, "QUIT\r\n");
		rc = proxy_read_reply(s, &r, 10);
		proxy_hop_close(s);
		if (rc == HOP_OK && r.code == 221) {
			proxy_relay_reply(s, &r);
			smtp_reply_free(&r);
			return;
		}
	}
	smtp_reply_free(&r);
	stream_printf(s->client, "221 2.0.0 Bye\r\n");
}

/* proxy_verb - look up a command word */
static enum verb proxy_verb(const char *word, size_t len)
{
	for (size_t i = 0; i < sizeof(proxy_verbs) / sizeof(proxy_verbs[0]); i++)
		if (strlen(proxy_verbs[i].name) == len
		    && strncasecmp(proxy_verbs[i].name, word, len) == 0)
			return proxy_verbs[i].verb;
	return V_UNKNOWN;
}

/* proxy_xtext_decode - RFC 3461 xtext to text; -1 if malformed */
static int proxy_xtext_decode(const char *in, char *out, size_t outlen)
{
	size_t  n = 0;

	for (const char *cp = in; *cp; cp++) {
		int     ch = (unsigned char) *cp;

		if (ch == '+') {
			char    hex[3] = {cp[1], cp[1] ? cp[2] : 0, 0};

			if (!isxdigit((unsigned char) hex[0]) || !isxdigit((unsigned char) hex[1]))
				return -1;
			ch = (int) strtol(hex, NULL, 16);
			cp += 2;
		} else if (ch < 33 || ch > 126 || ch == '=') {
			return -1;
		}
		if (ch == 0 || n + 1 >= outlen)
			return -1;
		out[n++] = (char) ch;
	}
	out[n] = 0;
	return 0;
}

/* proxy_xtext_encode - text to RFC 3461 xtext */
static void proxy_xtext_encode(struct buf *b, const char *in)
{
	for (const unsigned char *cp = (const unsigned char *) in; *cp; cp++) {
		if (*cp < 33 || *cp > 126 || *cp == '+' || *cp == '=')
			buf_printf(b, "+%02X", *cp);
		else
			buf_putc(b, *cp);
	}
}

/* proxy_xfwd_value - check or clean one decoded value; NULL, or why not */
static const char *proxy_xfwd_value(const char *attr, char *val)
{
	if (strcmp(val, "[UNAVAILABLE]") == 0
	    || (strcmp(attr, "NAME") == 0 && strcmp(val, "[TEMPUNAVAIL]") == 0))
		return NULL;
	if (strcmp(attr, "NAME") == 0) {
		for (const char *cp = val; *cp; cp++)
			if (!isalnum((unsigned char) *cp) && !strchr("-._", *cp))
				return "Bad NAME syntax";
	} else if (strcmp(attr, "ADDR") == 0) {
		unsigned char a[16];
		const char *ip = strncasecmp(val, "IPv6:", 5) == 0 ? val + 5 : val;

		if (inet_pton(AF_INET6, ip, a) != 1
		    && (ip != val || inet_pton(AF_INET, ip, a) != 1))
			return "Bad ADDR syntax";
	} else if (strcmp(attr, "PORT") == 0) {
		if (strlen(val) > 5 || strspn(val, "0123456789") != strlen(val)
		    || atol(val) > 65535)
			return "Bad PORT syntax";
	} else if (strcmp(attr, "PROTO") == 0) {
		if (strlen(val) > 64)
			return "Bad PROTO syntax";
		for (const char *cp = val; *cp; cp++)
			if (!isalnum((unsigned char) *cp) && !strchr("-_", *cp))
				return "Bad PROTO syntax";
	} else if (strcmp(attr, "SOURCE") == 0) {
		if (strcasecmp(val, "LOCAL") != 0 && strcasecmp(val, "REMOTE") != 0)
			return "Bad SOURCE syntax";
	} else {
		/* HELO, IDENT: free text; neuter what could mess up headers */
		for (char *cp = val; *cp; cp++)
			if ((unsigned char) *cp < 33 || (unsigned char) *cp > 126
			    || strchr("<>()\\\";@,", *cp))
				*cp = '?';
	}
	return NULL;
}

/* proxy_xforward_build - the checked, re-encoded command; NULL, or why not */
static const char *proxy_xforward_build(const char *arg, struct buf *out)
{
	static const char *const names[] = {
		"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE", NULL,
	};
	char    copy[1024], *cp = copy, *attr;
	unsigned seen = 0;

	if (strlcpy(copy, arg, sizeof(copy)) >= sizeof(copy))
		return "command too long";
	buf_puts(out, "XFORWARD");
	while ((attr = strsep(&cp, " ")) != NULL) {
		char    val[XFWD_VALUE_MAX + 1], *eq = strchr(attr, '=');
		const char *why;
		int     idx = -1;

		if (*attr == 0)
			continue;
		if (eq == NULL || eq == attr || eq[1] == 0)
			return "attribute=value expected";
		*eq = 0;
		for (int i = 0; names[i]; i++)
			if (strcasecmp(attr, names[i]) == 0)
				idx = i;
		if (idx < 0)
			return "unknown attribute name";
		if (seen & (1u << idx))
			return "attribute given twice";
		seen |= 1u << idx;
		if (strlen(eq + 1) > XFWD_VALUE_MAX)
			return "attribute value too long";
		if (proxy_xtext_decode(eq + 1, val, sizeof(val)) < 0)
			return "bad xtext in attribute value";
		if ((why = proxy_xfwd_value(names[idx], val)) != NULL)
			return why;
		/* XCLIENT's "name lookup failed for now"; XFORWARD knows one word */
		if (strcmp(val, "[TEMPUNAVAIL]") == 0)
			strlcpy(val, "[UNAVAILABLE]", sizeof(val));
		buf_printf(out, " %s=", names[idx]);
		proxy_xtext_encode(out, val);
	}
	return seen ? NULL : "no attribute";
}

/* proxy_do_xforward - XFORWARD: checked, rebuilt, relayed */
static void proxy_do_xforward(struct proxy_session *s, const char *arg)
{
	struct buf cmd;
	const char *why;

	if (!(s->hop_caps & CAP_XFORWARD) || s->state == PS_GREETED) {
		proxy_reply_local(s, "502 5.5.1 Error: command not implemented");
		return;
	}
	if (!s->xforward_ok) {
		evt_warn(XFWD_REFUSED, s->cid, "client=%s reason=\"not in xforward_hosts\"",
			 s->client_addr);
		proxy_reply_local(s, "550 5.7.0 Error: insufficient authorization");
		return;
	}
	if (s->state == PS_MAIL) {
		proxy_reply_local(s, "503 5.5.1 Error: MAIL transaction in progress");
		return;
	}
	if (*arg == 0) {
		proxy_reply_local(s, "501 5.5.4 Syntax: XFORWARD attribute=value...");
		return;
	}
	if (s->nxforward >= XFWD_CMDS_MAX) {
		proxy_reply_local(s, "503 5.5.1 Error: too many XFORWARD commands");
		return;
	}
	buf_init(&cmd, 128);
	if ((why = proxy_xforward_build(arg, &cmd)) != NULL) {
		evt_warn(XFWD_REFUSED, s->cid, "client=%s reason=\"%s\"", s->client_addr, why);
		proxy_reply_local(s, "501 5.5.4 Bad XFORWARD command: %s", why);
	} else {
		proxy_send(s, V_XFORWARD, NULL, cmd.data, "%s", cmd.data);
	}
	buf_free(&cmd);
}

/* proxy_xforward_replay - XFORWARD again after our own RSET (a redirect) */
int     proxy_xforward_replay(struct proxy_session *s)
{
	struct smtp_reply r;
	const char *line = s->xforward.data;
	int     rc = HOP_OK;

	if (s->nxforward == 0 || s->hop == NULL)
		return HOP_OK;
	smtp_reply_init(&r);
	for (int i = 0; i < s->nxforward && rc == HOP_OK; i++) {
		const char *end = strstr(line, "\r\n");

		if (end == NULL)
			break;
		stream_write(s->hop, line, (size_t) (end - line) + 2);
		rc = proxy_read_reply(s, &r, var_next_hop_timeout);
		if (rc == HOP_OK && r.code / 100 == 3)
			rc = HOP_GARBLED;
		if (rc == HOP_OK && r.code / 100 != 2)
			evt_warn(XFWD_REFUSED, s->cid, "hop=%s during=replay reply=\"%s\"",
				 s->hop_name, r.first);
		line = end + 2;
	}
	smtp_reply_free(&r);
	return rc;
}

/* proxy_dispatch - one command line */
static void proxy_dispatch(struct proxy_session *s, char *line)
{
	size_t  wlen = strcspn(line, " ");
	const char *arg = line + wlen;
	enum verb verb = proxy_verb(line, wlen);

	while (*arg == ' ')
		arg++;
	/* everything but MAIL, RCPT, RSET ends a pipelined group */
	if (verb != V_MAIL && verb != V_RCPT && verb != V_RSET)
		proxy_collect(s);
	if (s->state == PS_QUIT)
		return;				/* that group's replies ended the session */
	/* a next hop gone before, or while reading that group's replies */
	if (s->hop_dead && verb != V_QUIT) {
		proxy_collect(s);
		stream_printf(s->client, "421 4.4.2 %s Error: next hop connection "
			      "lost\r\n", s->helo_name);
		s->state = PS_QUIT;
		return;
	}
	if (!proxy_tls_client_ok(s) && (verb == V_MAIL || verb == V_RCPT || verb == V_DATA
					|| verb == V_VRFY || verb == V_XFORWARD)) {
		proxy_reply_local(s, "530 5.7.0 Must issue a STARTTLS command first");
		return;
	}
	switch (verb) {
	case V_HELO:
	case V_EHLO:
		proxy_do_helo(s, verb, arg);
		break;
	case V_MAIL:
		proxy_do_mail(s, arg);
		break;
	case V_RCPT:
		proxy_do_rcpt(s, arg);
		break;
	case V_DATA:
		if (*arg)
			proxy_reply_local(s, "501 5.5.4 Syntax: DATA");
		else
			proxy_transaction(s);
		break;
	case V_RSET:
		if (*arg) {
			proxy_reply_local(s, "501 5.5.4 Syntax: RSET");
			break;
		}
		proxy_reset_mail(s);
		proxy_xforward_reset(s);
		proxy_send(s, V_RSET, NULL, NULL, "RSET");
		break;
	case V_NOOP:
		proxy_send(s, V_NOOP, NULL, NULL, "NOOP");
		break;
	case V_VRFY:
		if (*arg == 0)
			proxy_reply_local(s, "501 5.5.4 Syntax: VRFY address");
		else
			proxy_send(s, V_VRFY, NULL, NULL, "VRFY %s", arg);
		break;
	case V_HELP:
		proxy_send(s, V_HELP, NULL, NULL, "HELP%s%s", *arg ? " " : "", arg);
		break;
	case V_XFORWARD:
		proxy_do_xforward(s, arg);
		break;
	case V_XCLIENT:
		/* never offered: only the MTA itself may say who the client is */
		evt_warn(XCLIENT_REFUSED, s->cid, "client=%s", s->client_addr);
		proxy_reply_local(s, "502 5.5.1 Error: command not implemented");
		break;
	case V_QUIT:
		proxy_do_quit(s);
		break;
	case V_STARTTLS:
		proxy_tls_starttls(s, arg);
		break;
	case V_UNIMPL:
		proxy_reply_local(s, "502 5.5.1 Error: command not implemented");
		break;
	case V_UNKNOWN:
		proxy_reply_local(s, "500 5.5.2 Error: command not recognized");
		break;
	}
	if ((verb == V_MAIL || verb == V_RCPT || verb == V_RSET)
	    && !(s->hop_caps & CAP_PIPELINING))
		proxy_collect(s);
}

/* proxy_read_command - the next command line; 0, or -1 when the session ends */
static int proxy_read_command(struct proxy_session *s, char **line)
{
	size_t  len;
	int     flags, rc;

	if (!stream_has_line(s->client)) {
		proxy_collect(s);
		if (stream_flush(s->client) != STREAM_OK)
			return -1;
		if (s->state == PS_QUIT)
			return -1;
	}
	s->client->timeout = var_smtpd_timeout;
	rc = stream_getline(s->client, line, &len, (size_t) var_command_length_limit,
			    &flags);
	if (rc == STREAM_TOOLONG) {
		proxy_reply_local(s, "500 5.5.0 Error: line too long");
		return stream_skipline(s->client) == STREAM_OK ? 1 : -1;
	}
	if (rc == STREAM_TIMEOUT) {
		evt_warn(CLIENT_TIMEOUT, s->cid, "client=%s state=%d", s->client_addr,
			 s->state);
		proxy_collect(s);
		stream_printf(s->client, "421 4.4.2 %s Error: timeout exceeded\r\n",
			      s->helo_name);
		(void) stream_flush(s->client);
		return -1;
	}
	if (rc != STREAM_OK) {
		if (s->state == PS_MAIL)
			evt_warn(CLIENT_LOST, s->cid, "client=%s during=%s", s->client_addr,
				 "MAIL transaction");
		return -1;
	}
	if (flags & (STREAM_LINE_NUL | STREAM_LINE_BARE_CR)) {
		proxy_reply_local(s, "500 5.5.2 Error: bad character in command");
		return 1;
	}
	for (char *cp = *line; *cp; cp++) {
		if ((unsigned char) *cp < 0x20 && *cp != '\t') {
			proxy_reply_local(s, "500 5.5.2 Error: bad character in command");
			return 1;
		}
		if (*cp == '\t')
			*cp = ' ';
	}
	return 0;
}

/* proxy_local_dialogue - a short dialogue of our own, when nothing is relayed */
void proxy_local_dialogue(struct proxy_session *s, const char *banner,
			  const char *(*answer)(struct proxy_session *s, const char *line))
{
	/*
	 * The banner, then each command answered until QUIT: a client that is
	 * refused at the greeting may still say QUIT (RFC 5321 3.1), and
	 * nothing it tries can reach a next hop. Bounded in count and time.
	 */
	stream_printf(s->client, "%s\r\n", banner);
	for (int i = 0; i < 10 && stream_flush(s->client) == STREAM_OK; i++) {
		char   *line;
		size_t  len;

		s->client->timeout = var_smtpd_timeout < 30 ? var_smtpd_timeout : 30;
		if (stream_getline(s->client, &line, &len,
				   (size_t) var_command_length_limit, NULL) != STREAM_OK)
			return;
		if (strncasecmp(line, "QUIT", 4) == 0 && (line[4] == 0 || line[4] == ' ')) {
			stream_puts(s->client, "221 2.0.0 Bye\r\n");
			(void) stream_flush(s->client);
			return;
		}
		stream_printf(s->client, "%s\r\n", answer(s, line));
	}
	stream_printf(s->client, "421 4.7.0 %s Error: too many errors\r\n", s->helo_name);
	(void) stream_flush(s->client);
}

/* proxy_session_run - the whole session, banner to goodbye */
void proxy_session_run(struct proxy_session *s)
{
	struct smtp_reply banner;
	char   *line;

	if (proxy_tls_wrapper(s) < 0)
		return;				/* implicit TLS failed: logged */
	smtp_reply_init(&banner);
	if (proxy_hop_connect(s, &banner) < 0) {
		proxy_hop_refuse(s);
		smtp_reply_free(&banner);
		return;
	}
	proxy_relay_reply(s, &banner);
	smtp_reply_free(&banner);
	s->state = PS_GREETED;
	while (s->state != PS_QUIT) {
		int     rc = proxy_read_command(s, &line);

		if (rc < 0)
			break;
		if (rc == 0)
			proxy_dispatch(s, line);
		if (s->errors >= var_smtpd_hard_error_limit && s->state != PS_QUIT) {
			proxy_collect(s);
			evt_warn(CLIENT_LIMIT, s->cid, "client=%s errors=%d",
				 s->client_addr, s->errors);
			stream_printf(s->client, "421 4.7.0 %s Error: too many errors\r\n",
				      s->helo_name);
			s->state = PS_QUIT;
		}
	}
	proxy_collect(s);
	(void) stream_flush(s->client);
	if (s->hop && !s->hop_dead) {
		stream_puts(s->hop, "QUIT\r\n");
		(void) stream_flush(s->hop);
	}
	proxy_hop_close(s);
}
