/*
 * proxy_xforward - XFORWARD attributes: checked, rebuilt, replayed
 *
 * XFORWARD (Postfix's content-filter logging extension) is offered only
 * when the next hop offers it and the client is in xforward_hosts. Each
 * attribute is xtext-decoded, checked (NAME a host name, ADDR an address,
 * PORT a number, PROTO a short word, SOURCE LOCAL or REMOTE, or
 * [UNAVAILABLE]; NAME=[TEMPUNAVAIL], XCLIENT's word for a name lookup
 * that failed for now, goes on as [UNAVAILABLE], the only word XFORWARD
 * servers know; HELO and IDENT have characters that are special in
 * headers replaced by '?', as Postfix does) and re-encoded:
 * proxy_xforward_build() gives the command to relay, or why not.
 *
 * The commands the next hop accepted are kept (proxy_xforward_keep) until
 * the transaction ends, so that a redirect, which starts a new one with
 * RSET, can send them again (proxy_xforward_replay). A next-hop failure
 * during the replay is returned as a hop_status; a refusal is logged.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bsd/string.h>

#include "conf_params.h"
#include "evt.h"
#include "proxy.h"

#define XFWD_VALUE_MAX 255 /* one attribute value, encoded or not */

/* proxy_xtext_decode - RFC 3461 xtext to text; -1 if malformed */
static int proxy_xtext_decode(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	for (const char *cp = in; *cp; cp++) {
		int ch = (unsigned char) *cp;

		if (ch == '+') {
			char hex[3] = {cp[1], cp[1] ? cp[2] : 0, 0};

			if (!isxdigit((unsigned char) hex[0])
			    || !isxdigit((unsigned char) hex[1]))
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
const char *proxy_xforward_build(const char *arg, struct buf *out)
{
	static const char *const names[] = {
		"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE", NULL,
	};
	char copy[1024], *cp = copy, *attr;
	unsigned seen = 0;

	if (strlcpy(copy, arg, sizeof(copy)) >= sizeof(copy))
		return "command too long";
	buf_puts(out, "XFORWARD");
	while ((attr = strsep(&cp, " ")) != NULL) {
		char val[XFWD_VALUE_MAX + 1], *eq = strchr(attr, '=');
		const char *why;
		int idx = -1;

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

/* proxy_xforward_keep - the next hop accepted this one: remember it */
void proxy_xforward_keep(struct proxy_session *s, const char *cmd)
{
	if (s->nxforward >= PROXY_XFWD_CMDS_MAX)
		return;
	buf_puts(&s->xforward, cmd);
	buf_append(&s->xforward, "\r\n", 2);
	s->nxforward++;
}

/* proxy_xforward_reset - the next hop forgot our XFORWARD: so do we */
void proxy_xforward_reset(struct proxy_session *s)
{
	buf_reset(&s->xforward);
	s->nxforward = 0;
}

/* proxy_xforward_replay - XFORWARD again after our own RSET (a redirect) */
int proxy_xforward_replay(struct proxy_session *s)
{
	struct smtp_reply r;
	const char *line = s->xforward.data;
	int rc = HOP_OK;

	if (s->nxforward == 0 || s->hop == NULL)
		return HOP_OK;
	smtp_reply_init(&r);
	for (int i = 0; i < s->nxforward && rc == HOP_OK; i++) {
		const char *end = strstr(line, "\r\n");

		if (end == NULL || (rc = proxy_hop_quiet(s)) != HOP_OK)
			break;
		stream_write(s->hop, line, (size_t) (end - line) + 2);
		rc = proxy_hop_reply(s, &r, var_next_hop_timeout, "250");
		if (rc == HOP_OK && r.code / 100 != 2)
			evt_warn(XFWD_REFUSED, s->cid, "hop=%s during=replay reply=%s",
				 s->hop_name, evt_quote(r.first));
		line = end + 2;
	}
	smtp_reply_free(&r);
	return rc;
}
