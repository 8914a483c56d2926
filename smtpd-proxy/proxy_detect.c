/*
 * proxy_detect - asking the detector for a verdict
 *
 * The message and its envelope go to the detector with one SCAN_REQ
 * record: inside it when they fit (common/scan.h; the message is sent
 * from the spool's memory, not copied into the record), else as sealed
 * memfds (a large message's own, sealed by the caller; also a message the
 * socket would not take in a record that long); one SCAN_VERDICT comes back
 * within detector_timeout. The detector's word is checked like any
 * peer's: a known action, a block reply that is a well-formed 5xx with an
 * enhanced code and printable text, header lines of the form "Name:
 * value" without control characters, redirect addresses in angle
 * brackets. Anything else, or no answer in time, is a detector failure.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "conf_params.h"
#include "evt.h"
#include "ipc.h"
#include "mem.h"
#include "msg.h"
#include "proxy.h"

/* verdict_free - release what a verdict holds */
void verdict_free(struct verdict *v)
{
	for (size_t i = 0; i < v->nrcpt; i++)
		free(v->rcpt[i]);
	for (size_t i = 0; i < v->nheaders; i++)
		free(v->headers[i]);
	free(v->rcpt);
	free(v->headers);
	free(v->subject);
	memset(v, 0, sizeof(*v));
}

/* verdict_reply_ok - "5DD 5.D.D text", printable */
static int verdict_reply_ok(const char *r)
{
	if (strlen(r) < 11 || r[0] != '5' || !isdigit((unsigned char) r[1])
	    || !isdigit((unsigned char) r[2]) || r[3] != ' ' || r[4] != '5' || r[5] != '.')
		return 0;
	for (const char *cp = r; *cp; cp++)
		if ((unsigned char) *cp < 0x20 || *cp == 0x7f)
			return 0;
	return 1;
}

/* verdict_header_ok - "Name: value" within a line */
static int verdict_header_ok(const char *h)
{
	const char *cp = h;

	while (*cp > 32 && *cp < 127 && *cp != ':')
		cp++;
	return cp > h && *cp == ':' && strlen(h) <= 998;
}

/* verdict_strings - collect a repeated text attribute */
static int verdict_strings(const struct ipc_msg *msg, uint16_t tag, size_t max, char ***out,
			   size_t *count)
{
	const struct ipc_attr *a;
	size_t pos = 0;

	while ((a = ipc_next(msg, tag, &pos)) != NULL) {
		if (*count >= max || a->len > 998 || memchr(a->val, 0, a->len))
			return -1;
		for (uint32_t i = 0; i < a->len; i++)
			if (a->val[i] < 0x20 || a->val[i] == 0x7f)
				return -1;
		*out = xrealloc(*out, (*count + 1) * sizeof(char *));
		(*out)[(*count)++] = xstrndup((const char *) a->val, a->len);
	}
	return 0;
}

/* verdict_parse - check and copy a SCAN_VERDICT record */
static int verdict_parse(const struct ipc_msg *msg, struct verdict *v, char *why, size_t len)
{
	uint32_t action;
	char subject[1000];

	if (msg->type != SCAN_VERDICT || msg->nfds != 0
	    || ipc_get_u32(msg, SCAN_TAG_ACTION, &action) < 0 || action < SCAN_PASS
	    || action > SCAN_TEMPFAIL) {
		snprintf(why, len, "malformed verdict");
		return -1;
	}
	v->action = (enum scan_action) action;
	if (verdict_strings(msg, SCAN_TAG_HEADER, SCAN_MAX_HEADERS, &v->headers, &v->nheaders)
		    < 0
	    || verdict_strings(msg, SCAN_TAG_RCPT, SCAN_MAX_REDIRECT, &v->rcpt, &v->nrcpt)
		    < 0) {
		snprintf(why, len, "bad header or redirect list in verdict");
		return -1;
	}
	for (size_t i = 0; i < v->nheaders; i++)
		if (!verdict_header_ok(v->headers[i])) {
			snprintf(why, len, "bad header in verdict");
			return -1;
		}
	for (size_t i = 0; i < v->nrcpt; i++)
		if (v->rcpt[i][0] != '<' || v->rcpt[i][strlen(v->rcpt[i]) - 1] != '>'
		    || strlen(v->rcpt[i]) > SCAN_ADDR_MAX || strchr(v->rcpt[i], ' ')) {
			snprintf(why, len, "bad redirect address in verdict");
			return -1;
		}
	if (ipc_get(msg, SCAN_TAG_SUBJECT)) {
		if (ipc_get_str(msg, SCAN_TAG_SUBJECT, 990, subject, sizeof(subject)) == NULL) {
			snprintf(why, len, "bad subject in verdict");
			return -1;
		}
		v->subject = xstrdup(subject);
	}
	if (v->action == SCAN_BLOCK
	    && (ipc_get_str(msg, SCAN_TAG_REPLY, sizeof(v->reply) - 1, v->reply,
			    sizeof(v->reply))
			== NULL
		|| !verdict_reply_ok(v->reply))) {
		snprintf(why, len, "block verdict without a valid 5xx reply");
		return -1;
	}
	if (v->action == SCAN_REDIRECT && v->nrcpt == 0) {
		snprintf(why, len, "redirect verdict without addresses");
		return -1;
	}
	{
		const struct ipc_attr *a;
		size_t pos = 0, used = 0;

		while ((a = ipc_next(msg, SCAN_TAG_POLICY, &pos)) != NULL
		       && used + 2 < sizeof(v->policies)) {
			char name[128];
			size_t n = a->len < sizeof(name) - 1 ? a->len : sizeof(name) - 1;

			memcpy(name, a->val, n);
			name[n] = 0;
			for (char *cp = name; *cp; cp++)
				if (!isgraph((unsigned char) *cp))
					*cp = '_';
			used += (size_t) snprintf(v->policies + used,
						  sizeof(v->policies) - used, "%s%s",
						  used ? "," : "", name);
		}
	}
	return 0;
}

/* The worker's connection to a detector, kept from message to message. */
static int proxy_det_fd = -1;

/* proxy_detect_drop - forget the detector connection */
static void proxy_detect_drop(void)
{
	if (proxy_det_fd >= 0)
		close(proxy_det_fd);
	proxy_det_fd = -1;
}

/* proxy_detect_exchange - send the request, get the answer; an ipc_status */
static int proxy_detect_exchange(struct ipc_out *out, const int *fds, int nfds,
				 struct ipc_msg *msg, char *why, size_t len)
{
	char path[512];
	int rc = IPC_ERROR;

	snprintf(path, sizeof(path), "%s/%s", var_run_directory, SCAN_SOCKET);
	/* a kept connection may find its detector gone: then one fresh try */
	for (int fresh = proxy_det_fd < 0; fresh < 2; fresh++) {
		if (proxy_det_fd < 0) {
			int sndbuf = IPC_MAX_MSG;

			if ((proxy_det_fd = unix_connect(path, SOCK_SEQPACKET,
							 var_detector_timeout, why, len))
			    < 0)
				return IPC_ERROR;
			/* room for a record with a message inside (the kernel caps it) */
			(void) setsockopt(proxy_det_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
					  sizeof(sndbuf));
		}
		rc = ipc_send(proxy_det_fd, out, fds, nfds, var_detector_timeout);
		if (rc == IPC_TOOBIG)
			return rc; /* nothing went: the connection is good */
		if (rc == IPC_OK)
			rc = ipc_recv(proxy_det_fd, msg, var_detector_timeout, why, len);
		if (rc == IPC_OK)
			return rc;
		proxy_detect_drop(); /* never reuse after an error */
		if (rc != IPC_EOF)
			break;
	}
	if (rc == IPC_EOF)
		snprintf(why, len, "detector closed the connection");
	else if (rc == IPC_TIMEOUT)
		snprintf(why, len, "no verdict within detector_timeout (%ds)",
			 var_detector_timeout);
	else if (*why == 0)
		snprintf(why, len, "cannot send the request");
	return rc;
}

/* proxy_detect_request - build the request, send it, get the answer; an ipc_status */
static int proxy_detect_request(struct proxy_session *s, const struct proxy_spool *sp,
				const struct buf *env, int inline_ok, struct ipc_msg *msg,
				char *why, size_t len)
{
	struct ipc_out out;
	int fds[2], nfds = 0, rc, msg_inline;
	int env_inline = env->len <= SCAN_ENV_INLINE_MAX;
	size_t size = sp->size;

	ipc_out_init(&out, SCAN_REQ);
	ipc_put_str(&out, SCAN_TAG_CID, s->cid);
	ipc_put_u64(&out, SCAN_TAG_MSG_SIZE, size);
	ipc_put_u64(&out, SCAN_TAG_ENV_SIZE, env->len);
	ipc_put_u32(&out, SCAN_TAG_DEADLINE, (uint32_t) var_detector_timeout);
	/* a usual message rides in the record, sent from where it is; a large one in its memfd */
	msg_inline = inline_ok && sp->fd < 0 && size <= SCAN_MSG_INLINE_MAX
		&& out.b.len + size + (env_inline ? env->len : 0) + SCAN_REQ_ROOM
			<= IPC_MAX_MSG;
	if (sp->fd >= 0)
		fds[nfds++] = sp->fd;
	else if (!msg_inline
		 && (fds[nfds++] = scan_memfd_from("dlpgate-message", sp->mem.data, size)) < 0)
		snprintf(why, len, "cannot create the message memfd");
	/* a usual envelope rides in the record; a huge one in a memfd, after the message's */
	if (*why == 0 && env_inline)
		ipc_put_bytes(&out, SCAN_TAG_ENVELOPE, env->data, env->len);
	else if (*why == 0
		 && (fds[nfds++] = scan_memfd_from("dlpgate-envelope", env->data, env->len))
			 < 0)
		snprintf(why, len, "cannot create the envelope memfd");
	if (*why == 0 && msg_inline)
		ipc_put_tail(&out, SCAN_TAG_MESSAGE, sp->mem.data, size);
	rc = *why ? IPC_ERROR : proxy_detect_exchange(&out, fds, nfds, msg, why, len);
	ipc_out_free(&out);
	for (int i = 0; i < nfds; i++)
		if (fds[i] >= 0 && fds[i] != sp->fd)
			close(fds[i]);
	return rc;
}

/* proxy_detect - a verdict for the spooled message; -1 on failure */
int proxy_detect(struct proxy_session *s, const struct proxy_spool *sp, struct verdict *v)
{
	static struct ipc_msg msg;
	char why[256] = "";
	struct buf env;
	int rc;

	memset(v, 0, sizeof(*v));
	buf_init(&env, 1024);
	envelope_format(&s->env, &env);
	rc = proxy_detect_request(s, sp, &env, 1, &msg, why, sizeof(why));
	/* a socket that takes no record that long: the message goes in a memfd */
	if (rc == IPC_TOOBIG)
		rc = proxy_detect_request(s, sp, &env, 0, &msg, why, sizeof(why));
	if (rc == IPC_TOOBIG)
		snprintf(why, sizeof(why), "request too long for the detector socket");
	buf_free(&env);
	if (rc != IPC_OK)
		goto fail;
	if (msg.type == SCAN_ERROR) {
		char reason[200];

		snprintf(why, sizeof(why), "detector refused the request: %s",
			 ipc_get_str(&msg, SCAN_TAG_REASON, 190, reason, sizeof(reason))
				 ? reason
				 : "no reason");
		proxy_detect_drop();
		goto fail;
	}
	if (verdict_parse(&msg, v, why, sizeof(why)) < 0) {
		ipc_close_fds(&msg);
		verdict_free(v);
		proxy_detect_drop();
		goto fail;
	}
	return 0;
fail:
	evt_warn(DET_FAILURE, s->cid, "reason=%s action=%s", evt_quote(why),
		 CONF_NAME(detector_failure));
	return -1;
}
