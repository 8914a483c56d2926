/*
 * proxy_chat - every reply to the client, in order, through one door
 *
 * Each client command gets exactly one reply, in the order the commands
 * came: our own (proxy_chat_reply, proxy_chat_stat) or the next hop's
 * (proxy_chat_send queues the command, proxy_chat_collect reads and
 * relays its reply). While a pipelined group is being read, replies wait
 * in the pending queue; they go out in one write when the client has
 * nothing more to say (proxy_chat_flush). A group's replies are all read
 * before any is relayed: a next hop that said more than the group asked
 * for (a doubled or late reply) leaves no way to tell whose each one is,
 * so none is relayed, the first gets 451 4.3.0 and the hop is dropped.
 *
 * What each internal status tells the client is in one table,
 * proxy_chat_stats[]; "the next hop failed" is answered in one place,
 * proxy_chat_hop_failed(). The hang-up rule is here too: after a 421 or
 * 521 reply, ours or relayed, nothing more is said and the session ends;
 * so is the error count (a 5xx of ours to a command counts, a message's
 * final reply does not).
 *
 * proxy_chat_dialogue() is the short dialogue of a session that relays
 * nothing (a refused client, no next hop, a load balancer's check).
 *
 * The session's state changes here only, in proxy_enter_state(), which
 * logs each transition at debug level (log_level = debug).
 *
 * Errors toward the client are the client stream's (sticky): a reply to
 * a client that went away is dropped and the session loop sees the
 * error at the next flush.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_params.h"
#include "evt.h"
#include "mem.h"
#include "msg.h"
#include "proxy.h"

/* What an internal status tells the client (cleanup_stat_detail style). */
static const struct proxy_stat_detail {
	enum proxy_stat stat;
	int named;         /* our name after the status code */
	const char *reply; /* "code dsn", then "Error: text" */
	const char *text;
} proxy_chat_stats[] = {
	{PROXY_STAT_HOP_PROTO, 1, "451 4.3.0", "next hop protocol error"},
	{PROXY_STAT_HOP_LOST, 1, "421 4.4.2", "lost connection to next hop"},
	{PROXY_STAT_HOP_GONE, 1, "421 4.4.2", "next hop connection lost"},
	{PROXY_STAT_HOP_SEND, 1, "451 4.4.2",
	 "message transfer to next hop failed, "
	 "try again later"},
	{PROXY_STAT_HOP_TLS, 1, "421 4.7.5", "TLS to the next hop failed, try again later"},
	{PROXY_STAT_TIMEOUT, 1, "421 4.4.2", "timeout exceeded"},
	{PROXY_STAT_ERRORS, 1, "421 4.7.0", "too many errors"},
	{PROXY_STAT_RESOURCE, 0, "451 4.3.0", "insufficient system resources"},
	{PROXY_STAT_SCAN_DEFER, 1, "451 4.3.0", "message scan deferred, try again later"},
	{PROXY_STAT_SCAN_FAIL, 1, "451 4.3.0", "content scanner unavailable, try again later"},
	{PROXY_STAT_TOOBIG, 0, "552 5.3.4", "message file too big"},
	{PROXY_STAT_LONGLINE, 0, "554 5.6.0", "message line too long (line_length_limit)"},
	{PROXY_STAT_BARE, 0, "554 5.6.0", "bare CR or LF in message content"},
	{PROXY_STAT_HEADER, 0, "554 5.6.0",
	 "message header section not terminated by "
	 "an empty line"},
};

/* Commands waiting for their replies, and replies of ours waiting their turn. */
static struct pending *pq;
static size_t pq_len, pq_cap;
static int pq_answering; /* proxy_chat_collect() is writing them */

/* proxy_chat_push - queue an entry */
static void proxy_chat_push(const struct proxy_cmd *cmd, char *local, const char *addr,
			    const char *params)
{
	if (pq_len == pq_cap) {
		pq_cap = pq_cap ? pq_cap * 2 : 64;
		pq = xrealloc(pq, pq_cap * sizeof(*pq));
	}
	pq[pq_len].cmd = cmd;
	pq[pq_len].local = local;
	pq[pq_len].addr = addr ? xstrdup(addr) : NULL;
	pq[pq_len].params = params ? xstrdup(params) : NULL;
	pq_len++;
}

/* proxy_chat_pending - replies still owed to the client */
size_t proxy_chat_pending(void)
{
	return pq_len;
}

/* proxy_state_name - a state's word, for logs */
static const char *proxy_state_name(enum proxy_state state)
{
	static const char *const names[] = {
		[PS_CONNECTED] = "CONNECTED", [PS_GREETED] = "GREETED", [PS_READY] = "READY",
		[PS_MAIL] = "MAIL",           [PS_QUIT] = "QUIT",
	};

	return (unsigned) state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

/* proxy_enter_state - the one place where the session's state changes */
void proxy_enter_state(struct proxy_session *s, enum proxy_state state)
{
	if (s->state == state)
		return;
	msg_debug("cid=%s state %s -> %s", s->cid, proxy_state_name(s->state),
		  proxy_state_name(state));
	s->state = state;
}

/* proxy_chat_hangs_up - does this reply end the session? */
static int proxy_chat_hangs_up(const char *text, size_t len)
{
	/* RFC 5321 3.8, Postfix's smtpd_chat_reply: 421 and 521 close */
	return len >= 3 && (strncmp(text, "421", 3) == 0 || strncmp(text, "521", 3) == 0);
}

/* proxy_chat_write - the only write of reply bytes to the client */
static void proxy_chat_write(struct proxy_session *s, const char *text, size_t len)
{
	if (pq_len > 0 && !pq_answering)
		msg_panic("proxy_chat_write: a reply would overtake %zu owed", pq_len);
	if (s->hangup)
		return; /* said 421/521: nothing more */
	stream_write(s->client, text, len);
	if (proxy_chat_hangs_up(text, len)) {
		s->hangup = 1;
		proxy_enter_state(s, PS_QUIT);
	}
}

/* proxy_chat_line - one reply line of ours, CRLF added */
static void proxy_chat_line(struct proxy_session *s, const char *text)
{
	struct buf b;

	buf_init(&b, strlen(text) + 3);
	buf_puts(&b, text);
	buf_append(&b, "\r\n", 2);
	proxy_chat_write(s, b.data, b.len);
	buf_free(&b);
}

/* proxy_chat_vreply - our reply, now or in its turn */
static void proxy_chat_vreply(struct proxy_session *s, const char *fmt, va_list ap)
{
	char *text;

	if (vasprintf(&text, fmt, ap) < 0)
		msg_fatal("out of memory");
	if (proxy_chat_hangs_up(text, strlen(text)))
		proxy_enter_state(s, PS_QUIT); /* read no more: the last word */
	if (pq_len == 0 || pq_answering) {
		proxy_chat_line(s, text);
		free(text);
	} else {
		proxy_chat_push(NULL, text, NULL, NULL);
	}
}

/* proxy_chat_reply - our reply to a command; a 5xx counts as an error */
void proxy_chat_reply(struct proxy_session *s, const char *fmt, ...)
{
	va_list ap;

	if (fmt[0] == '5')
		s->errors++;
	va_start(ap, fmt);
	proxy_chat_vreply(s, fmt, ap);
	va_end(ap);
}

/* proxy_chat_final - a message's outcome: not the client's error */
void proxy_chat_final(struct proxy_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	proxy_chat_vreply(s, fmt, ap);
	va_end(ap);
}

/* proxy_chat_relay - a next-hop reply to the client, verbatim */
void proxy_chat_relay(struct proxy_session *s, const struct smtp_reply *r)
{
	proxy_chat_write(s, r->text.data, r->text.len);
	if (r->code == 421 && s->hop)
		proxy_hop_close(s); /* it is closing, and so do we */
}

/* proxy_chat_text - a multi-line reply of ours, CRLFs included */
void proxy_chat_text(struct proxy_session *s, const struct buf *b)
{
	proxy_chat_write(s, b->data, b->len);
}

/* proxy_chat_stat - the reply for an internal status; the text, for logs */
const char *proxy_chat_stat(struct proxy_session *s, enum proxy_stat stat)
{
	static char text[512];
	const struct proxy_stat_detail *d = NULL;

	for (size_t i = 0; i < sizeof(proxy_chat_stats) / sizeof(proxy_chat_stats[0]); i++)
		if (proxy_chat_stats[i].stat == stat)
			d = &proxy_chat_stats[i];
	if (d == NULL)
		msg_panic("proxy_chat_stat: unknown status %d", stat);
	if (d->named)
		snprintf(text, sizeof(text), "%s %s Error: %s", d->reply, s->helo_name,
			 d->text);
	else
		snprintf(text, sizeof(text), "%s Error: %s", d->reply, d->text);
	proxy_chat_final(s, "%s", text);
	return text;
}

/* proxy_chat_hop_failed - the next hop failed: log, drop it, tell the client */
const char *proxy_chat_hop_failed(struct proxy_session *s, int status, const char *doing)
{
	proxy_hop_failed(s, status, doing);
	return proxy_chat_stat(
		s, status == HOP_GARBLED ? PROXY_STAT_HOP_PROTO : PROXY_STAT_HOP_LOST);
}

/* proxy_chat_awaited - is a next-hop reply owed? */
static int proxy_chat_awaited(void)
{
	for (size_t i = 0; i < pq_len; i++)
		if (pq[i].cmd)
			return 1;
	return 0;
}

/* proxy_chat_send - relay a rebuilt command; its reply takes its turn */
void proxy_chat_send(struct proxy_session *s, const struct proxy_cmd *cmd, const char *addr,
		     const char *params, const char *fmt, ...)
{
	va_list ap;
	int rc;

	/* with no reply owed, anything the next hop said was said out of turn */
	if (!proxy_chat_awaited() && (rc = proxy_hop_quiet(s)) != HOP_OK) {
		(void) proxy_chat_hop_failed(
			s, rc, rc == HOP_GARBLED ? "reply (unsolicited data)" : cmd->name);
		return;
	}
	va_start(ap, fmt);
	buf_vprintf(&s->hop->wbuf, fmt, ap);
	va_end(ap);
	buf_append(&s->hop->wbuf, "\r\n", 2);
	proxy_chat_push(cmd, NULL, addr, params);
}

/* Each entry's next-hop reply, read before any is relayed (slots reused). */
static struct smtp_reply *pq_reply;
static size_t pq_reply_cap;

/* proxy_chat_read - read the group's replies; HOP_OK, or why entry *bad failed */
static int proxy_chat_read(struct proxy_session *s, size_t *bad, const char **doing)
{
	size_t i, first = pq_len;
	int rc = HOP_OK;

	if (pq_reply_cap < pq_cap) {
		pq_reply = xrealloc(pq_reply, pq_cap * sizeof(*pq_reply));
		for (i = pq_reply_cap; i < pq_cap; i++)
			smtp_reply_init(&pq_reply[i]);
		pq_reply_cap = pq_cap;
	}
	*bad = pq_len;
	*doing = "command";
	for (i = 0; i < pq_len && s->hop; i++) {
		if (pq[i].local)
			continue;
		if (first == pq_len)
			first = i;
		rc = proxy_hop_reply(s, &pq_reply[i], var_next_hop_timeout,
				     pq[i].cmd->positive);
		if (rc != HOP_OK) {
			*bad = i;
			return rc;
		}
		if (pq_reply[i].code == 421)
			return HOP_OK; /* it is closing: nothing more to read */
	}
	/*
	 * One reply more than the group asked for: any of them may be another
	 * command's (a doubled or late reply), so none of them is relayed.
	 */
	if (first < pq_len && s->hop && stream_pending(s->hop) > 0) {
		*bad = first;
		*doing = "reply (unsolicited data)";
		return HOP_GARBLED;
	}
	return HOP_OK;
}

/* proxy_chat_collect - answer every queued entry, in order */
void proxy_chat_collect(struct proxy_session *s)
{
	size_t i, bad;
	const char *doing;
	int rc;

	rc = proxy_chat_read(s, &bad, &doing);
	pq_answering = 1;
	for (i = 0; i < pq_len && !s->hangup; i++) {
		if (pq[i].local) {
			proxy_chat_line(s, pq[i].local);
		} else if (s->hop == NULL) {
			/* the next hop failed earlier in this group */
			proxy_chat_stat(s, PROXY_STAT_HOP_GONE);
		} else if (i == bad) {
			(void) proxy_chat_hop_failed(s, rc, doing);
		} else {
			if (pq[i].cmd->replied)
				pq[i].cmd->replied(s, &pq[i], &pq_reply[i]);
			proxy_chat_relay(s, &pq_reply[i]);
		}
	}
	pq_answering = 0;
	/* every reply was read: anything more is unsolicited, the hop is unsafe */
	if (s->hop && stream_pending(s->hop) > 0)
		proxy_hop_failed(s, HOP_GARBLED, "reply (unsolicited data)");
	for (i = 0; i < pq_len; i++) {
		free(pq[i].local);
		free(pq[i].addr);
		free(pq[i].params);
	}
	pq_len = 0;
}

/* proxy_chat_flush - every reply owed, on the wire; a stream_status */
int proxy_chat_flush(struct proxy_session *s)
{
	proxy_chat_collect(s);
	return stream_flush(s->client);
}

/* proxy_chat_dialogue - a short dialogue of our own, when nothing is relayed */
void proxy_chat_dialogue(struct proxy_session *s, const char *banner,
			 const char *(*answer)(struct proxy_session *s, const char *line))
{
	/*
	 * The banner, then each command answered until QUIT: a client that is
	 * refused at the greeting may still say QUIT (RFC 5321 3.1), and
	 * nothing it tries can reach a next hop. Bounded in count and time.
	 */
	proxy_chat_line(s, banner);
	for (int i = 0; i < 10 && !s->hangup && stream_flush(s->client) == STREAM_OK; i++) {
		char *line;
		size_t len;

		s->client->timeout = var_smtpd_timeout < 30 ? var_smtpd_timeout : 30;
		if (stream_getline(s->client, &line, &len, (size_t) var_command_length_limit,
				   NULL)
		    != STREAM_OK)
			return;
		if (strncasecmp(line, "QUIT", 4) == 0 && (line[4] == 0 || line[4] == ' ')) {
			proxy_chat_line(s, "221 2.0.0 Bye");
			(void) stream_flush(s->client);
			return;
		}
		proxy_chat_line(s, answer(s, line));
	}
	if (!s->hangup)
		proxy_chat_stat(s, PROXY_STAT_ERRORS);
	(void) stream_flush(s->client);
}

/* proxy_chat_same_reply - every command after a 4xx greeting gets the same 4xx */
static const char *proxy_chat_same_reply(struct proxy_session *s, const char *line)
{
	return s->hop_refusal;
}

/* proxy_chat_refuse - say why there is no next hop; wait for QUIT after 451 */
void proxy_chat_refuse(struct proxy_session *s)
{
	if (strncmp(s->hop_refusal, "421", 3) == 0) {
		proxy_chat_line(s, s->hop_refusal);
		(void) stream_flush(s->client);
		return;
	}
	/* 451 is no reason to hang up: nothing the client tries can bounce */
	proxy_chat_dialogue(s, s->hop_refusal, proxy_chat_same_reply);
}
