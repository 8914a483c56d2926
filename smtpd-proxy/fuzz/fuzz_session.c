/*
 * fuzz_session - libFuzzer harness for a whole smtpd-proxy session
 *
 * proxy_session_run() from the banner to the end, with every peer played
 * by the input (fuzz_proxy.h), synchronously and deterministically:
 *	the client	says the client section, in chunks the input chooses,
 *			then hangs up;
 *	the next hop	(inet_connect is wrapped; two next hops, so a bad
 *			banner moves on to the second) answers every command
 *			the proxy sends with the next piece of the hop section,
 *			or with the usual reply when that piece is empty; a
 *			piece "\x01" hangs up, "\x02" stays silent, "\x03"
 *			gives the usual reply twice;
 *	the detector	(unix_connect and ipc_recv are wrapped) takes each
 *			request, checks it like the real one (sealed memfds of
 *			the announced sizes, an envelope it can parse) and
 *			answers with a verdict made from the next piece of the
 *			verdict section.
 * Input: a flags byte, chunk sizes, then client, hop and verdict sections
 * separated by 0xFE; pieces within a section are separated by 0xFF.
 *
 * Checked, besides what ASan and UBSan see: every byte to the next hop is
 * a command we know or content, never a bare CR or LF, never a "." line
 * but at the end of the content; every byte to the client is a well-formed
 * reply line of at most 512 octets, and nothing follows a reply that ends
 * the session (421, 521, 221, 554 5.5.0); a reply of the next hop reaches
 * the client only for the command it answered (the hop's usual replies
 * say which: "[re MAIL]", and the client's commands and replies are paired
 * in order up to its first DATA), so a doubled or late reply is never
 * taken for the next command's; no pending entry, descriptor or
 * memory outlives a session. The flags byte also turns
 * smtpd_forbid_unauth_pipelining off (bit 2; most fuzzed clients do not
 * wait for replies) and non_header_line_action to reject (bit 6).
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "../proxy_session.c"
#include "../proxy_nexthop.c"
#include "../proxy_detect.c"
#include "fuzz_proxy.h"
#include "server.h"

#define SEP_SECTION 0xFE
#define FUZZ_TAG    "[re " /* "[re MAIL]": the hop's usual reply to MAIL */
#define SEP_PIECE   0xFF

/* The pieces of one section, handed out in turn. */
struct fuzz_script {
	const uint8_t *p;
	size_t left;
	int done; /* no piece left: the usual answer */
};

/* fuzz_script_next - the next piece (NULL and 0 when none is left) */
static const uint8_t *fuzz_script_next(struct fuzz_script *sc, size_t *len)
{
	const uint8_t *start = sc->p, *sep;

	if (sc->done || sc->left == 0) {
		sc->done = 1;
		*len = 0;
		return NULL;
	}
	sep = memchr(sc->p, SEP_PIECE, sc->left);
	*len = sep ? (size_t) (sep - start) : sc->left;
	sc->p += *len + (sep != NULL);
	sc->left -= *len + (sep != NULL);
	if (sep == NULL)
		sc->done = 1;
	return start;
}

/* ---- the next hop ---------------------------------------------------------- */

struct fuzz_hop {
	struct fuzz_script *script;
	size_t parsed; /* of what the proxy sent */
	int greeted;
	int in_data; /* reading content */
	int gone;    /* hung up or fell silent */
	unsigned flags;
};

static struct fuzz_script fuzz_hop_script, fuzz_det_script;
static unsigned fuzz_flags;

/* fuzz_hop_say - the scripted reply, or the usual one ("\x03": that twice) */
static int fuzz_hop_say(struct fuzz_peer *p, struct fuzz_hop *h, const char *usual)
{
	size_t len, at = p->in.len;
	const uint8_t *piece = fuzz_script_next(h->script, &len);
	char *tag;

	if (piece && len == 1 && (piece[0] == 1 || piece[0] == 2)) {
		h->gone = 1;
		p->silent = piece[0] == 2;
		return 0;
	}
	if (piece && len == 1 && piece[0] == 3) {
		buf_puts(&p->in, usual); /* a doubled reply */
		buf_puts(&p->in, usual);
		return usual[0] == '3';
	}
	if (piece && len > 0) {
		buf_append(&p->in, piece, len);
		/* only a usual reply says what it answers (fuzz_client_answers) */
		while ((tag = memmem(p->in.data + at, p->in.len - at, FUZZ_TAG,
				     strlen(FUZZ_TAG)))
		       != NULL)
			*tag = '(';
		return len >= 3 && memcmp(piece, "354", 3) == 0;
	}
	buf_puts(&p->in, usual);
	return usual[0] == '3';
}

/* fuzz_hop_usual - the reply a well-behaved next hop gives, tagged with its command */
static const char *fuzz_hop_usual(const char *verb, unsigned flags)
{
	static char reply[64];
	const char *text = "250 2.0.0 Ok";

	if (!strcasecmp(verb, "EHLO"))
		return flags & 1
			? "250-hop.example\r\n250-PIPELINING\r\n250-SIZE 50000\r\n"
			  "250-DSN\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-XFORWARD NAME ADDR "
			  "PROTO HELO SOURCE PORT IDENT\r\n250-STARTTLS\r\n250 "
			  "ENHANCEDSTATUSCODES\r\n"
			: "250-hop.example\r\n250-SIZE\r\n250 8BITMIME\r\n";
	if (!strcasecmp(verb, "DATA"))
		return "354 End data with <CR><LF>.<CR><LF>\r\n";
	if (!strcasecmp(verb, "QUIT"))
		text = "221 2.0.0 Bye";
	else if (!strcasecmp(verb, "VRFY"))
		text = "252 2.0.0 Cannot VRFY";
	else if (!strcasecmp(verb, "HELP"))
		text = "214 2.0.0 see RFC 5321";
	else if (!strcasecmp(verb, "STARTTLS"))
		text = "454 4.7.0 TLS not available";
	snprintf(reply, sizeof(reply), "%s %s%s]\r\n", text, FUZZ_TAG, verb);
	return reply;
}

/* fuzz_hop_line_ok - a line of ours to the next hop: CRLF, printable */
static void fuzz_hop_line_ok(const char *line, size_t len)
{
	if (len < 2 || line[len - 2] != '\r' || line[len - 1] != '\n')
		abort();
	for (size_t i = 0; i + 2 < len; i++)
		if (line[i] == '\r' || line[i] == '\n' || line[i] == 0)
			abort();
}

/* fuzz_hop_more - answer what the proxy has sent since we last looked */
static int fuzz_hop_more(struct fuzz_peer *p)
{
	static const char *const verbs[] = {
		"EHLO", "HELO", "MAIL", "RCPT",     "DATA",     "RSET", "NOOP",
		"QUIT", "VRFY", "HELP", "XFORWARD", "STARTTLS", NULL,
	};
	struct fuzz_hop *h = p->ctx;
	size_t before = p->in.len;

	if (h->gone)
		return 0;
	if (!h->greeted) {
		h->greeted = 1;
		(void) fuzz_hop_say(p, h, "220 hop.example ESMTP\r\n");
		return p->in.len > before;
	}
	while (!h->gone && h->parsed < p->out.len) {
		const char *line = p->out.data + h->parsed;
		const char *lf = memchr(line, '\n', p->out.len - h->parsed);
		size_t len;
		char verb[16];
		int k;

		if (lf == NULL)
			abort(); /* we flush whole lines only */
		len = (size_t) (lf - line) + 1;
		h->parsed += len;
		if (h->in_data) {
			/* content: CRLF lines; the end only as the last line */
			if (len < 2 || line[len - 2] != '\r' || memchr(line, '\r', len - 2))
				abort();
			if (len == 3 && line[0] == '.') {
				h->in_data = 0;
				if (h->parsed != p->out.len)
					abort(); /* nothing is pipelined after the data */
				(void) fuzz_hop_say(p, h, "250 2.0.0 Ok: queued\r\n");
			}
			continue;
		}
		fuzz_hop_line_ok(line, len);
		for (k = 0; k < (int) sizeof(verb) - 1 && isalpha((unsigned char) line[k]); k++)
			verb[k] = line[k];
		verb[k] = 0;
		for (k = 0; verbs[k] && strcmp(verbs[k], verb); k++)
			/* void */;
		if (verbs[k] == NULL) {
			fprintf(stderr, "to the next hop: '%.*s' after:\n%.*s", (int) len, line,
				(int) (h->parsed - len), p->out.data);
			abort();
		}
		if (fuzz_hop_say(p, h, fuzz_hop_usual(verb, h->flags)) && !strcmp(verb, "DATA"))
			h->in_data = 1;
	}
	return p->in.len > before;
}

static struct fuzz_hop fuzz_hops[2];
static int fuzz_nhops;

int __real_inet_connect(const struct sockaddr *sa, socklen_t salen, int timeout,
			const char *bind_addr, char *err, size_t errlen);
int __wrap_inet_connect(const struct sockaddr *sa, socklen_t salen, int timeout,
			const char *bind_addr, char *err, size_t errlen);

/* __wrap_inet_connect - a next hop played by the input */
int __wrap_inet_connect(const struct sockaddr *sa, socklen_t salen, int timeout,
			const char *bind_addr, char *err, size_t errlen)
{
	struct fuzz_peer *p;
	struct fuzz_hop *h;

	if (fuzz_nhops >= 2) {
		snprintf(err, errlen, "no more next hops");
		return -1;
	}
	h = &fuzz_hops[fuzz_nhops++];
	memset(h, 0, sizeof(*h));
	h->script = &fuzz_hop_script;
	h->flags = fuzz_flags;
	p = fuzz_peer_new("", 0, NULL, 0);
	p->more = fuzz_hop_more;
	p->ctx = h;
	p->silent = 1;
	return p->fd;
}

/* ---- the detector ---------------------------------------------------------- */

static int fuzz_det_ours = -1, fuzz_det_theirs = -1;
static struct ipc_msg fuzz_det_req;

int __real_unix_connect(const char *path, int type, int timeout, char *err, size_t errlen);
int __wrap_unix_connect(const char *path, int type, int timeout, char *err, size_t errlen);
int __real_ipc_recv(int fd, struct ipc_msg *msg, int timeout, char *err, size_t errlen);
int __wrap_ipc_recv(int fd, struct ipc_msg *msg, int timeout, char *err, size_t errlen);

/* __wrap_unix_connect - the detector is a socketpair we answer on */
int __wrap_unix_connect(const char *path, int type, int timeout, char *err, size_t errlen)
{
	int sp[2];

	if (strstr(path, SCAN_SOCKET) == NULL) {
		snprintf(err, errlen, "%s: not in this harness", path);
		return -1;
	}
	if (fuzz_det_ours >= 0)
		close(fuzz_det_ours);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		abort();
	fuzz_det_ours = sp[0];
	fuzz_det_theirs = sp[1];
	return sp[1];
}

/* fuzz_det_check - the request is what the real detector accepts */
static void fuzz_det_check(const struct ipc_msg *m)
{
	uint64_t msize, esize;
	const struct ipc_attr *env = ipc_get(m, SCAN_TAG_ENVELOPE);
	const struct ipc_attr *body = ipc_get(m, SCAN_TAG_MESSAGE);
	struct envelope e;
	char err[256], cid[32];

	if (m->type != SCAN_REQ || m->nfds != (env ? 0 : 1) + (body ? 0 : 1)
	    || ipc_get_u64(m, SCAN_TAG_MSG_SIZE, &msize) < 0
	    || ipc_get_u64(m, SCAN_TAG_ENV_SIZE, &esize) < 0
	    || ipc_get_str(m, SCAN_TAG_CID, 31, cid, sizeof(cid)) == NULL
	    || (body ? body->len != msize
		     : scan_memfd_check(m->fds[0], msize, err, sizeof(err)) < 0))
		abort();
	if (env == NULL || env->len != esize
	    || envelope_parse(&e, (const char *) env->val, env->len, err, sizeof(err)) < 0) {
		fprintf(stderr, "the detector would refuse the envelope: %s\n", err);
		abort();
	}
	envelope_free(&e);
}

/* fuzz_det_answer - a verdict from the next piece of the verdict section */
static void fuzz_det_answer(int fd)
{
	size_t len;
	const uint8_t *piece = fuzz_script_next(&fuzz_det_script, &len);
	unsigned kind = piece && len ? piece[0] : (fuzz_flags >> 4) & 3;
	struct ipc_out out;

	if (kind == 0xfd && len > 1) {
		/* raw bytes, record or not */
		if (send(fd, piece + 1, len - 1, MSG_DONTWAIT) < 0)
			abort();
		return;
	}
	piece = piece && len ? piece + 1 : (const uint8_t *) "";
	len = len ? len - 1 : 0;
	if (kind % 6 == 5) {
		ipc_out_init(&out, SCAN_ERROR);
		ipc_put_bytes(&out, SCAN_TAG_REASON, piece, len);
	} else {
		ipc_out_init(&out, SCAN_VERDICT);
		ipc_put_u32(&out, SCAN_TAG_ACTION, kind % 6 == 0 ? SCAN_PASS : kind % 6);
		ipc_put_str(&out, SCAN_TAG_HEADER, "X-Filter-Loop: Reflected");
		ipc_put_str(&out, SCAN_TAG_POLICY, "fuzz");
		switch (kind % 6) {
		case SCAN_BLOCK:
			ipc_put_bytes(&out, SCAN_TAG_REPLY,
				      len ? (const void *) piece : "550 5.7.1 blocked by fuzz",
				      len ? len : 25);
			break;
		case SCAN_REDIRECT:
			ipc_put_bytes(&out, SCAN_TAG_RCPT,
				      len ? (const void *) piece : "<q@example.net>",
				      len ? len : 15);
			break;
		case SCAN_MODIFY:
			ipc_put_bytes(&out, SCAN_TAG_SUBJECT, piece, len);
			break;
		}
	}
	if (ipc_send(fd, &out, NULL, 0, 1) != IPC_OK)
		abort();
	ipc_out_free(&out);
}

/* __wrap_ipc_recv - before the proxy waits for its verdict, give it one */
int __wrap_ipc_recv(int fd, struct ipc_msg *msg, int timeout, char *err, size_t errlen)
{
	if (fd == fuzz_det_theirs && fd >= 0) {
		char why[256];

		if (__real_ipc_recv(fuzz_det_ours, &fuzz_det_req, 0, why, sizeof(why))
		    != IPC_OK)
			abort();
		fuzz_det_check(&fuzz_det_req);
		ipc_close_fds(&fuzz_det_req);
		fuzz_det_answer(fuzz_det_ours);
		timeout = 0;
	}
	return __real_ipc_recv(fd, msg, timeout, err, errlen);
}

/* ---- the client and the session --------------------------------------------- */

/* fuzz_client_ok - every line to the client is a reply line */
static void fuzz_client_ok(const struct buf *out)
{
	size_t pos = 0;

	while (pos < out->len) {
		const char *line = out->data + pos;
		const char *lf = memchr(line, '\n', out->len - pos);
		size_t len;

		if (lf == NULL)
			abort();
		len = (size_t) (lf - line) + 1;
		if (len < 5 || len > 512 || line[len - 2] != '\r'
		    || !isdigit((unsigned char) line[0]) || !isdigit((unsigned char) line[1])
		    || !isdigit((unsigned char) line[2]) || line[0] < '2' || line[0] > '5'
		    || (len > 5 && line[3] != ' ' && line[3] != '-'))
			abort();
		for (size_t i = 0; i + 2 < len; i++)
			if (line[i] == '\r' || line[i] == '\n' || line[i] == 0)
				abort();
		pos += len;
		/* after a last word (421, 521, 554 5.5.0, 221) nothing more is said */
		if ((len < 4 || line[3] != '-') && pos < out->len
		    && (!strncmp(line, "421", 3) || !strncmp(line, "521", 3)
			|| !strncmp(line, "221", 3)
			|| !strncmp(line, "554 5.5.0 Error: SMTP protocol synchronization",
				    46))) {
			fprintf(stderr, "to the client after '%.*s': %.*s", (int) len - 2, line,
				(int) (out->len - pos), out->data + pos);
			abort();
		}
	}
}

/* fuzz_client_answers - a reply the next hop gave to command X answers X */
static void fuzz_client_answers(const struct buf *out, const uint8_t *in, size_t inlen)
{
	size_t pos = 0, ipos = 0;
	int greeting = 1;

	/* one reply per command line, in order: until DATA, which the model leaves */
	while (pos < out->len) {
		const char *reply = out->data + pos, *line, *lf, *tag;
		size_t llen, rlen;
		char verb[16];
		int k;

		/* the reply's lines (fuzz_client_ok: each ends in LF) */
		do {
			line = out->data + pos;
			lf = memchr(line, '\n', out->len - pos);
			pos += (size_t) (lf - line) + 1;
		} while (lf - line > 3 && line[3] == '-' && pos < out->len);
		rlen = (size_t) (out->data + pos - reply);
		if (greeting) {
			greeting = 0;
			continue;
		}
		if (ipos >= inlen || (lf = memchr(in + ipos, '\n', inlen - ipos)) == NULL)
			return;
		line = (const char *) in + ipos;
		llen = (size_t) (lf - line);
		ipos += llen + 1;
		/* lines the proxy may cut or read another way: the model stops */
		if (llen > 500 || memchr(line, 0, llen)
		    || (llen > 1 && memchr(line, '\r', llen - 1)))
			return;
		for (k = 0; k < (int) sizeof(verb) - 1 && isalpha((unsigned char) line[k]); k++)
			verb[k] = (char) toupper((unsigned char) line[k]);
		verb[k] = 0;
		if (!strcmp(verb, "DATA") || !strcmp(verb, "BDAT") || !strcmp(verb, "STARTTLS"))
			return;
		/* the client's EHLO may become our HELO, and its HELO our EHLO */
		if (!strcmp(verb, "EHLO"))
			strcpy(verb, "HELO");
		if ((tag = memmem(reply, rlen, FUZZ_TAG, strlen(FUZZ_TAG))) != NULL
		    && !strncmp(tag += strlen(FUZZ_TAG), "EHLO]", 5))
			tag = "HELO]";
		if (tag
		    && (strncmp(tag, verb, strlen(verb)) != 0 || tag[strlen(verb)] != ']')) {
			fprintf(stderr, "to the client for '%.*s': %.*s", (int) llen, line,
				(int) rlen, reply);
			abort();
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char *ov[] = {
		"inbound_tls=none",
		"outbound_tls=none",
		"operating_mode=forward",
		"next_hop=192.0.2.1:25, [192.0.2.2]:2525",
		"smtpd_recipient_limit=5",
		"smtpd_hard_error_limit=10",
		"message_size_limit=100000",
		/*
		 * A silent peer's read fails at once here (EAGAIN); a stream that
		 * waited less before waits again until its own deadline, in real
		 * time: one timeout per side, the shortest the proxy uses (QUIT's).
		 */
		"next_hop_timeout=10s",
		"next_hop_data_done_timeout=10s",
		"smtpd_timeout=30s",
		"smtpd_data_timeout=30s",
	};
	int sp[2];

	fuzz_quiet("fuzz-session");
	fuzz_defaults(ov, sizeof(ov) / sizeof(ov[0]));
	fuzz_peers_init();
	/* counters go to "master": a socket whose other end is gone */
	if (fcntl(SERVER_STATUS_FD, F_GETFD) >= 0) {
		fprintf(stderr, "fuzz-session: descriptor %d is in use\n", SERVER_STATUS_FD);
		abort();
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0
	    || dup2(sp[0], SERVER_STATUS_FD) < 0)
		abort();
	close(sp[0]);
	close(sp[1]);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *chunks, *rest, *sep;
	size_t nchunks, restlen, clen;
	struct proxy_session s;
	struct fuzz_peer *client;
	struct sockaddr_in *sin = (struct sockaddr_in *) &s.client_sa;
	int before;

	if (size < 1 || size > 1 << 20)
		return 0;
	fuzz_flags = data[0];
	fuzz_split(data + 1, size - 1, &chunks, &nchunks, &rest, &restlen);
	sep = memchr(rest, SEP_SECTION, restlen);
	clen = sep ? (size_t) (sep - rest) : restlen;
	memset(&fuzz_hop_script, 0, sizeof(fuzz_hop_script));
	memset(&fuzz_det_script, 0, sizeof(fuzz_det_script));
	if (sep) {
		const uint8_t *hop = sep + 1, *det;
		size_t hlen = restlen - clen - 1;

		det = memchr(hop, SEP_SECTION, hlen);
		fuzz_hop_script.p = hop;
		fuzz_hop_script.left = det ? (size_t) (det - hop) : hlen;
		if (det) {
			fuzz_det_script.p = det + 1;
			fuzz_det_script.left = hlen - fuzz_hop_script.left - 1;
		}
	}
	var_smtpd_forbid_unauth_pipelining = !(fuzz_flags & 4);
	var_non_header_line_action =
		fuzz_flags & 64 ? NON_HEADER_LINE_REJECT : NON_HEADER_LINE_NORMALISE;
	var_detector_failure =
		fuzz_flags & 8 ? DETECTOR_FAILURE_PASS : DETECTOR_FAILURE_TEMPFAIL;
	fuzz_nhops = 0;
	before = fuzz_open_fds();

	/* what proxy_serve() does around a session */
	memset(&s, 0, sizeof(s));
	strcpy(s.cid, "FUZZ");
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40000);
	sin->sin_addr.s_addr = htonl(0xC0000264); /* 192.0.2.100 */
	strcpy(s.client_addr, "192.0.2.100");
	s.client_port = 40000;
	s.helo_name = "proxy.example";
	client = fuzz_peer_new(rest, clen, chunks, nchunks);
	s.client = stream_open(client->fd, 1);
	envelope_init(&s.env);
	strcpy(s.env.cid, s.cid);
	strcpy(s.env.client_addr, s.client_addr);
	s.env.client_port = s.client_port;
	strcpy(s.env.client_name, "unknown");
	s.xforward_ok = fuzz_flags & 2;
	buf_init(&s.xforward, 256);
	proxy_session_run(&s);
	if (stream_flush(s.client) != STREAM_OK && s.client->err != STREAM_TIMEOUT
	    && s.client->err != STREAM_EOF)
		abort();
	fuzz_client_ok(&client->out);
	fuzz_client_answers(&client->out, rest, clen);
	if (proxy_chat_pending() != 0 || s.hop != NULL)
		abort();
	envelope_free(&s.env);
	buf_free(&s.xforward);
	stream_close(s.client);
	fuzz_peer_free(client);
	for (int i = 0; i < FUZZ_PEERS; i++)
		if (fuzz_peers[i].in.data)
			fuzz_peer_free(&fuzz_peers[i]); /* next hops: closed by the proxy */
	/* the worker keeps its detector connection; the harness does not */
	proxy_detect_drop();
	if (fuzz_det_ours >= 0)
		close(fuzz_det_ours);
	fuzz_det_ours = fuzz_det_theirs = -1;
	if (fuzz_open_fds() != before)
		abort();
	return 0;
}
