/*
 * proxy_transaction - DATA: spool, ask the detector, apply the verdict
 *
 * The client's DATA is answered with our 354; its content is spooled (in
 * memory when small, else into a memfd, sealed) and scanned. Only then
 * does the next hop see DATA:
 *
 *	pass, modify	DATA to the next hop, our headers first, the content;
 *			the next hop's final reply goes to the client verbatim
 *	redirect	RSET, the same sender, the verdict's recipients, then
 *			as pass
 *	block		RSET to the next hop, the policy's 5xx to the client
 *	tempfail	RSET, 451 4.3.0
 *
 * A detector that cannot be reached or answers late is handled per
 * detector_failure. Whatever happens, the client never hears 2xx unless
 * the next hop said it first.
 *
 * proxy_transaction() returns 0 when the transaction is over (the caller
 * forgets it with proxy_reset_mail), -1 when DATA was refused before it
 * began and the transaction stands.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "conf_params.h"
#include "evt.h"
#include "mem.h"
#include "msg.h"
#include "server.h"
#include "proxy.h"

/* proxy_elapsed - seconds since t */
static double proxy_elapsed(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double) (now.tv_sec - t->tv_sec) + (now.tv_nsec - t->tv_nsec) / 1e9;
}

/* proxy_reset_mail - forget the transaction */
void proxy_reset_mail(struct proxy_session *s)
{
	/* a transaction that ended (delivered, or RSET by us) resets XFORWARD */
	if (s->state == PS_MAIL && s->mail_ok)
		proxy_xforward_reset(s);
	envelope_reset_mail(&s->env);
	s->mail_ok = 0;
	s->rcpt_tried = 0;
	if (s->state == PS_MAIL)
		proxy_enter_state(s, PS_READY);
}

/* proxy_hop_lost - the next hop failed mid-transaction: say so, log it */
static void proxy_hop_lost(struct proxy_session *s, int rc, const char *doing, char *outcome,
			   size_t len)
{
	const char *reply = proxy_chat_hop_failed(s, rc, doing);

	snprintf(outcome, len, "%.9s next hop %s during %s", reply, hop_strerror(rc), doing);
}

/* proxy_send_failed - the content did not all go: no end of data was sent */
static void proxy_send_failed(struct proxy_session *s, int rc, size_t size, char *outcome,
			      size_t len)
{
	char doing[128];

	snprintf(doing, sizeof(doing), "message content, %llu bytes sent of %zu",
		 (unsigned long long) s->hop->wbytes, size);
	if (rc == HOP_GARBLED) {
		proxy_hop_lost(s, rc, doing, outcome, len);
		return;
	}
	/* 4.4.2, not 421: the client may go on; only this transfer failed */
	proxy_hop_failed(s, rc, doing);
	snprintf(outcome, len, "%.9s next hop %s during %s",
		 proxy_chat_stat(s, PROXY_STAT_HOP_SEND), hop_strerror(rc), doing);
}

/* proxy_hop_cmd - one command to the next hop and its reply */
static int proxy_hop_cmd(struct proxy_session *s, struct smtp_reply *r, const char *positive,
			 char *outcome, size_t len, const char *fmt, ...)
{
	char verb[16];
	va_list ap;
	int rc;

	if (s->hop == NULL)
		return -1; /* it said 421 and is gone: that was the reply */
	snprintf(verb, sizeof(verb), "%.*s", (int) strcspn(fmt, " :"), fmt);
	/* nothing is owed: anything it said now was said out of turn */
	if ((rc = proxy_hop_quiet(s)) == HOP_OK) {
		va_start(ap, fmt);
		buf_vprintf(&s->hop->wbuf, fmt, ap);
		va_end(ap);
		buf_append(&s->hop->wbuf, "\r\n", 2);
		rc = proxy_hop_reply(s, r, var_next_hop_timeout, positive);
	}
	if (rc == HOP_OK && stream_pending(s->hop) > 0)
		rc = HOP_GARBLED; /* more than one reply */
	if (rc != HOP_OK) {
		proxy_hop_lost(s, rc, verb, outcome, len);
		return -1;
	}
	return 0;
}

/* proxy_hop_rset - end the next hop's transaction; -1 if it failed */
static int proxy_hop_rset(struct proxy_session *s, char *outcome, size_t len)
{
	struct smtp_reply r;
	int rc;

	smtp_reply_init(&r);
	rc = proxy_hop_cmd(s, &r, "250", outcome, len, "RSET");
	smtp_reply_free(&r);
	return rc;
}

/* proxy_redirect - a new envelope: same sender, the verdict's recipients */
static int proxy_redirect(struct proxy_session *s, const struct verdict *v, char *outcome,
			  size_t len)
{
	struct smtp_reply r, refused;
	size_t accepted = 0;
	int rc = -1, xrc;

	if (proxy_hop_rset(s, outcome, len) < 0)
		return -1;
	/* RSET made the next hop forget the client's XFORWARD: say it again */
	if ((xrc = proxy_xforward_replay(s)) != HOP_OK) {
		proxy_hop_lost(s, xrc, "XFORWARD", outcome, len);
		return -1;
	}
	smtp_reply_init(&r);
	smtp_reply_init(&refused);
	if (proxy_hop_cmd(s, &r, "250", outcome, len, "MAIL FROM:%s%s%s", s->env.mail_from,
			  *s->env.mail_params ? " " : "", s->env.mail_params)
	    < 0)
		goto out;
	if (r.code / 100 != 2) {
		proxy_chat_relay(s, &r);
		snprintf(outcome, len, "%s", r.first);
		goto out;
	}
	for (size_t i = 0; i < v->nrcpt; i++) {
		if (proxy_hop_cmd(s, &r, "250 251", outcome, len, "RCPT TO:%s", v->rcpt[i]) < 0)
			goto out;
		if (r.code / 100 == 2)
			accepted++;
		else {
			buf_reset(&refused.text);
			buf_append(&refused.text, r.text.data, r.text.len);
			refused.code = r.code;
			strlcpy(refused.first, r.first, sizeof(refused.first));
		}
	}
	if (accepted == 0) {
		proxy_chat_relay(s, &refused);
		snprintf(outcome, len, "%s", refused.first);
		(void) proxy_hop_rset(s, outcome, len);
		goto out;
	}
	rc = 0;
out:
	smtp_reply_free(&r);
	smtp_reply_free(&refused);
	return rc;
}

/* proxy_deliver - DATA, content, and the next hop's final reply */
static void proxy_deliver(struct proxy_session *s, const struct proxy_spool *sp,
			  const struct verdict *v, char *outcome, size_t len)
{
	struct smtp_reply r;
	int rc;

	smtp_reply_init(&r);
	if (proxy_hop_cmd(s, &r, "354", outcome, len, "DATA") < 0)
		goto out;
	if (r.code != 354) {
		if (r.code / 100 == 2) {
			proxy_hop_lost(s, HOP_GARBLED, "DATA", outcome, len);
		} else {
			proxy_chat_relay(s, &r);
			snprintf(outcome, len, "%s", r.first);
			(void) proxy_hop_rset(s, outcome, len);
		}
		goto out;
	}
	if ((rc = proxy_data_send(s, sp, v)) != HOP_OK) {
		proxy_send_failed(s, rc, sp->size, outcome, len);
		goto out;
	}
	rc = proxy_hop_reply(s, &r, var_next_hop_data_done_timeout, "250");
	if (rc != HOP_OK) {
		proxy_hop_lost(s, rc, "end of data", outcome, len);
		goto out;
	}
	proxy_chat_relay(s, &r); /* a 421 closes the hop */
	snprintf(outcome, len, "%s", r.first);
	if (r.code / 100 == 2)
		s->errors = s->junk = 0; /* delivered: what went before is forgiven */
	if (s->hop && stream_pending(s->hop) > 0) {
		/* its verdict on the message stands; the connection does not */
		proxy_hop_failed(s, HOP_GARBLED, "end of data (unsolicited data)");
	}
out:
	smtp_reply_free(&r);
}

/* proxy_reject_content - the content itself is refused */
static void proxy_reject_content(struct proxy_session *s, int status, size_t size,
				 char *outcome, size_t len)
{
	const char *reply =
		proxy_chat_stat(s,
				status == DATA_TOOBIG             ? PROXY_STAT_TOOBIG
					: status == DATA_LONGLINE ? PROXY_STAT_LONGLINE
					: status == DATA_HEADER   ? PROXY_STAT_HEADER
					: status == DATA_RESOURCE ? PROXY_STAT_RESOURCE
								  : PROXY_STAT_BARE);

	evt_warn(MSG_REJECTED, s->cid, "client=%s from=%s size=%zu reply=%s", s->client_addr,
		 evt_quote(s->env.mail_from), size, evt_quote(reply));
	snprintf(outcome, len, "%s", reply);
	(void) proxy_hop_rset(s, outcome, len);
}

/* proxy_detect_failed - the verdict when the detector could not give one */
static void proxy_detect_failed(struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (var_detector_failure != DETECTOR_FAILURE_PASS) {
		v->action = SCAN_TEMPFAIL;
		return;
	}
	v->action = SCAN_PASS;
	v->headers = xcalloc(2, sizeof(char *));
	if (var_add_default_header && *var_default_pass_header)
		v->headers[v->nheaders++] = xstrdup(var_default_pass_header);
	/* say that this one went unscanned (detector_failure_header) */
	if (*var_detector_failure_header)
		v->headers[v->nheaders++] = xstrdup(var_detector_failure_header);
}

/* proxy_count_message - the counters of dlpgate status */
static void proxy_count_message(const struct verdict *v, size_t size, int scanned)
{
	static const enum server_stat by_action[] = {
		[SCAN_PASS] = SERVER_STAT_PASS,         [SCAN_BLOCK] = SERVER_STAT_BLOCK,
		[SCAN_REDIRECT] = SERVER_STAT_REDIRECT, [SCAN_MODIFY] = SERVER_STAT_MODIFY,
		[SCAN_TEMPFAIL] = SERVER_STAT_TEMPFAIL,
	};

	server_stats_add(SERVER_STAT_MESSAGES, 1);
	server_stats_add(SERVER_STAT_BYTES, size);
	if ((unsigned) v->action < sizeof(by_action) / sizeof(by_action[0]) && v->action != 0)
		server_stats_add(by_action[v->action], 1);
	if (!scanned)
		server_stats_add(SERVER_STAT_DET_FAIL, 1);
}

/* proxy_transaction - the DATA command; 0: the transaction is over */
int proxy_transaction(struct proxy_session *s)
{
	struct timespec t0, t1, t2;
	struct verdict v;
	char outcome[PROXY_REPLY_LINE_MAX + 64] = "";
	struct proxy_spool sp;
	size_t size = 0;
	int status, scanned;
	double rtime, dtime;

	if (s->state != PS_MAIL || !s->mail_ok) {
		proxy_chat_reply(s, "503 5.5.1 Error: need RCPT command");
		return -1;
	}
	if (s->env.nrcpt == 0) {
		proxy_chat_reply(s, "554 5.5.1 Error: no valid recipients");
		return -1;
	}
	proxy_chat_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	if (proxy_chat_flush(s) != STREAM_OK) {
		proxy_enter_state(s, PS_QUIT);
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	proxy_spool_init(&sp);
	status = proxy_data_receive(s, &sp);
	size = sp.size;
	rtime = proxy_elapsed(&t0);
	if (status == DATA_LOST || status == DATA_TIMEOUT) {
		proxy_spool_free(&sp);
		if (status == DATA_TIMEOUT) {
			/* a silent client may still listen: say why, as Postfix does */
			(void) proxy_chat_stat(s, PROXY_STAT_TIMEOUT);
			(void) stream_flush(s->client);
		}
		proxy_enter_state(s, PS_QUIT);
		return 0;
	}
	if (status != DATA_OK) {
		proxy_reject_content(s, status, size, outcome, sizeof(outcome));
		server_stats_add(SERVER_STAT_REJECTED, 1);
		proxy_spool_free(&sp);
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	scanned = proxy_spool_seal(&sp) == 0 && proxy_detect(s, &sp, &v) == 0;
	if (!scanned)
		proxy_detect_failed(&v);
	dtime = proxy_elapsed(&t1);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	switch (v.action) {
	case SCAN_TEMPFAIL:
		proxy_chat_stat(s, scanned ? PROXY_STAT_SCAN_DEFER : PROXY_STAT_SCAN_FAIL);
		snprintf(outcome, sizeof(outcome), "451 4.3.0 %s",
			 scanned ? "scan deferred" : "detector failure");
		(void) proxy_hop_rset(s, outcome, sizeof(outcome));
		break;
	case SCAN_BLOCK:
		proxy_chat_final(s, "%s", v.reply);
		snprintf(outcome, sizeof(outcome), "%s", v.reply);
		(void) proxy_hop_rset(s, outcome, sizeof(outcome));
		break;
	case SCAN_REDIRECT:
		if (proxy_redirect(s, &v, outcome, sizeof(outcome)) < 0)
			break;
		/* FALLTHROUGH */
	case SCAN_PASS:
	case SCAN_MODIFY:
		proxy_deliver(s, &sp, &v, outcome, sizeof(outcome));
		break;
	}
	proxy_spool_free(&sp);
	s->messages++;
	evt_info(MSG_COMPLETE, s->cid,
		 "client=%s from=%s rcpts=%zu size=%zu "
		 "tls_in=%s tls_out=%s verdict=%s%s policies=%s hop=%s reply=%s "
		 "rtime=%.3f dtime=%.3f stime=%.3f",
		 s->client_addr, evt_quote(s->env.mail_from), s->env.nrcpt, size,
		 s->client->ssl ? SSL_get_version(s->client->ssl) : "none",
		 s->hop && s->hop->ssl ? SSL_get_version(s->hop->ssl) : "none",
		 scan_action_name(v.action), scanned ? "" : " (detector failure)",
		 evt_quote(*v.policies ? v.policies : "-"), s->hop_name, evt_quote(outcome),
		 rtime, dtime, proxy_elapsed(&t2));
	proxy_count_message(&v, size, scanned);
	verdict_free(&v);
	return 0;
}
