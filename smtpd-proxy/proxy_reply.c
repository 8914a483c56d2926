/*
 * proxy_reply - reading and checking next-hop replies
 *
 * A reply is accepted only if every line is "DDD-text" or "DDD text" (or
 * a bare "DDD", as smtp-sink ends its EHLO reply), no line is longer than
 * RFC 5321 allows (512 octets with its CRLF), all lines carry the same
 * code, the code is 2xx..5xx, the text is printable (UTF-8 allowed), and
 * the reply fits PROXY_REPLY_LINES_MAX lines. proxy_hop_reply() also
 * checks that a positive reply is one the command may get (a 221 or 220
 * to RCPT could only belong to something else). Anything else is
 * HOP_GARBLED: the caller answers 451 4.3.0 and drops the next hop, so a
 * confused or hostile next hop can never make us say 2xx.
 *
 * The next hop speaks only when asked: proxy_hop_quiet() says whether it
 * said anything while no command was outstanding (HOP_GARBLED) or went
 * away (HOP_LOST); it is asked before each command and between the
 * chunks of a message. Relaying a reply to the client is proxy_chat.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bsd/string.h>

#include "conf_params.h"
#include "evt.h"
#include "msg.h"
#include "proxy.h"

/* smtp_reply_init - an empty reply */
void smtp_reply_init(struct smtp_reply *r)
{
	r->code = 0;
	r->nlines = 0;
	r->first[0] = 0;
	buf_init(&r->text, 256);
}

/* smtp_reply_free - release a reply */
void smtp_reply_free(struct smtp_reply *r)
{
	buf_free(&r->text);
}

/* hop_strerror - a few words for a failed exchange */
const char *hop_strerror(int status)
{
	switch (status) {
	case HOP_OK:
		return "ok";
	case HOP_GARBLED:
		return "malformed or unexpected reply";
	case HOP_LOST:
		return "lost connection";
	case HOP_TIMEOUT:
		return "timeout";
	}
	return "error";
}

/* proxy_hop_quiet - HOP_OK if the next hop said nothing out of turn */
int proxy_hop_quiet(struct proxy_session *s)
{
	int rc = stream_peek_ready(s->hop);

	if (rc == 0)
		return HOP_OK;
	return rc > 0 ? HOP_GARBLED : HOP_LOST;
}

/* proxy_code_listed - is code one of "250 251 ..."? */
static int proxy_code_listed(const char *list, int code)
{
	char word[4];

	snprintf(word, sizeof(word), "%03d", code);
	for (const char *cp = list; (cp = strstr(cp, word)) != NULL; cp += 3)
		if ((cp == list || cp[-1] == ' ') && (cp[3] == 0 || cp[3] == ' '))
			return 1;
	return 0;
}

/* proxy_hop_reply - a reply to a command whose positive replies are listed */
int proxy_hop_reply(struct proxy_session *s, struct smtp_reply *r, int timeout,
		    const char *positive)
{
	int rc = proxy_read_reply(s, r, timeout);

	/* a 2xx or 3xx the command cannot get belongs to another one, or none */
	if (rc == HOP_OK && r->code < 400 && !proxy_code_listed(positive, r->code))
		return HOP_GARBLED;
	return rc;
}

/* proxy_reply_line_ok - is this one well-formed reply line? */
static int proxy_reply_line_ok(const char *line, size_t len, int flags, int *code, int *last)
{
	if (flags & (STREAM_LINE_NUL | STREAM_LINE_BARE_CR))
		return 0;
	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9'
	    || line[2] < '0' || line[2] > '9')
		return 0;
	if (len > 3 && line[3] != '-' && line[3] != ' ')
		return 0;
	for (size_t i = 4; i < len; i++)
		if ((unsigned char) line[i] < 0x20 && line[i] != '\t')
			return 0;
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	*last = len == 3 || line[3] == ' ';
	return 1;
}

/* proxy_read_reply - read one whole reply from the next hop */
int proxy_read_reply(struct proxy_session *s, struct smtp_reply *r, int timeout)
{
	r->code = 0;
	r->nlines = 0;
	r->first[0] = 0;
	buf_reset(&r->text);
	s->hop->timeout = timeout;
	for (;;) {
		char *line;
		size_t len;
		int flags, code, last, rc;

		if (stream_flush(s->hop) != STREAM_OK)
			return s->hop->err == STREAM_TIMEOUT ? HOP_TIMEOUT : HOP_LOST;
		rc = stream_getline(s->hop, &line, &len, PROXY_REPLY_LINE_MAX, &flags);
		if (rc == STREAM_TIMEOUT)
			return HOP_TIMEOUT;
		if (rc == STREAM_EOF || rc == STREAM_IOERR)
			return HOP_LOST;
		if (rc == STREAM_TOOLONG)
			return HOP_GARBLED;
		if (!proxy_reply_line_ok(line, len, flags, &code, &last)
		    || (r->nlines > 0 && code != r->code) || r->nlines >= PROXY_REPLY_LINES_MAX)
			return HOP_GARBLED;
		if (r->nlines == 0) {
			r->code = code;
			strlcpy(r->first, line, sizeof(r->first));
		}
		r->nlines++;
		buf_append(&r->text, line, len);
		buf_append(&r->text, "\r\n", 2);
		if (last)
			return HOP_OK;
	}
}
