/*
 * fuzz_reply - libFuzzer harness for next-hop replies and the EHLO filter
 *
 * Input: chunk sizes (fuzz_proxy.h), then whatever a next hop sends, read
 * reply after reply with proxy_read_reply() until it fails. Checked for
 * each reply accepted:
 *	- it is what proxy_reply.c promises: 1..PROXY_REPLY_LINES_MAX lines
 *	  of "DDD-text" / "DDD text" / "DDD", one code 200..599, each line
 *	  ending in CRLF, no other CR or LF, no NUL, the last one final;
 *	- for a 2xx: proxy_parse_caps() finds the extensions the lines name
 *	  and takes SIZE from its own line only; proxy_ehlo_reply() gives
 *	  the client a well-formed 250 reply that offers nothing but the
 *	  extensions we carry (and only those the next hop offered), SIZE
 *	  at most message_size_limit.
 */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../proxy_session.c"
#include "../proxy_nexthop.c"
#include "../proxy_detect.c"
#include "fuzz_proxy.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char *ov[] = {"inbound_tls=none", "outbound_tls=none"};

	fuzz_quiet("fuzz-reply");
	fuzz_defaults(ov, 2);
	fuzz_peers_init();
	return 0;
}

/* fuzz_check_reply - the reply is what proxy_reply.c promises */
static void fuzz_check_reply(const struct smtp_reply *r)
{
	const char *line = r->text.data, *end = r->text.data + r->text.len;
	int n = 0;

	if (r->code < 200 || r->code > 599 || r->nlines < 1 || r->nlines > PROXY_REPLY_LINES_MAX
	    || strlen(r->text.data) != r->text.len)
		abort();
	while (line < end) {
		const char *crlf = memmem(line, (size_t) (end - line), "\r\n", 2);
		size_t len;

		if (crlf == NULL)
			abort();
		len = (size_t) (crlf - line);
		if (len < 3
		    || (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0') != r->code
		    || !isdigit((unsigned char) line[1]) || !isdigit((unsigned char) line[2]))
			abort();
		if (memchr(line, '\r', len) || memchr(line, '\n', len))
			abort();
		n++;
		/* the last line, and only it, is final */
		if ((len == 3 || line[3] == ' ') != (n == r->nlines))
			abort();
		if (len > 3 && line[3] != ' ' && line[3] != '-')
			abort();
		if (n == 1 && strncmp(r->first, line, len) != 0)
			abort();
		line = crlf + 2;
	}
	if (n != r->nlines)
		abort();
}

/* fuzz_expect_size - SIZE as its own line says it, or 0 */
static long long fuzz_expect_size(const struct smtp_reply *r)
{
	const char *line = r->text.data;
	long long size = 0;

	for (int n = 0; n < r->nlines; n++) {
		const char *end = strstr(line, "\r\n");

		if (n > 0 && end - line >= 9 && strncasecmp(line + 4, "SIZE ", 5) == 0) {
			long long v = 0;
			const char *cp = line + 9;

			while (cp < end && isdigit((unsigned char) *cp) && v >= 0) {
				v = v > (LLONG_MAX - 9) / 10 ? -1 : v * 10 + (*cp - '0');
				cp++;
			}
			size = cp > line + 9 && (cp == end || *cp == ' ') && v > 0 ? v : 0;
		}
		line = end + 2;
	}
	return size;
}

/* fuzz_check_ehlo - what the client hears of the next hop's EHLO reply */
static void fuzz_check_ehlo(const struct proxy_session *s, const struct buf *out)
{
	static const char *const ours[] = {
		"8BITMIME", "DSN",  "PIPELINING", "ENHANCEDSTATUSCODES",
		"HELP",     "VRFY", "SMTPUTF8",   "XFORWARD",
		"SIZE",     NULL,
	};
	static const unsigned caps[] = {
		CAP_8BITMIME, CAP_DSN,      CAP_PIPELINING,
		CAP_ENHANCED, CAP_HELP,     CAP_VRFY,
		CAP_SMTPUTF8, CAP_XFORWARD, 0,
	};
	const char *line = out->data, *end = out->data + out->len;
	int n = 0, last = 0;

	if (out->len == 0 || strlen(out->data) != out->len)
		abort();
	while (line < end) {
		const char *crlf = memmem(line, (size_t) (end - line), "\r\n", 2);
		size_t len;
		int k;

		if (crlf == NULL || last)
			abort();
		len = (size_t) (crlf - line);
		if (len < 4 || strncmp(line, "250", 3) != 0
		    || (line[3] != '-' && line[3] != ' ') || memchr(line, '\r', len)
		    || memchr(line, '\n', len))
			abort();
		last = line[3] == ' ';
		if (n++ > 0) {
			/* an extension we carry, offered by the next hop (SIZE: ours) */
			for (k = 0; ours[k]; k++) {
				size_t klen = strlen(ours[k]);

				if (len - 4 >= klen && strncasecmp(line + 4, ours[k], klen) == 0
				    && (len - 4 == klen || line[4 + klen] == ' '))
					break;
			}
			if (ours[k] == NULL)
				abort();
			if (caps[k] && !(s->hop_caps & caps[k]))
				abort();
			if (caps[k] == CAP_XFORWARD && !s->xforward_ok)
				abort();
			if (ours[k + 1] == NULL) {
				long long size = strtoll(line + 9, NULL, 10);

				if (size <= 0 || size > var_message_size_limit
				    || (s->hop_size > 0 && size > s->hop_size))
					abort();
			}
		}
		line = crlf + 2;
	}
	if (!last || n < 2)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *chunks, *rest;
	size_t nchunks, restlen;
	struct proxy_session s;
	struct fuzz_peer *hop, *client;
	struct smtp_reply r;

	if (size > 1 << 20)
		return 0;
	fuzz_split(data, size, &chunks, &nchunks, &rest, &restlen);
	memset(&s, 0, sizeof(s));
	strcpy(s.cid, "FUZZ");
	strcpy(s.client_addr, "192.0.2.1");
	s.helo_name = "fuzz.example";
	s.xforward_ok = nchunks & 1;
	buf_init(&s.xforward, 64);
	hop = fuzz_peer_new(rest, restlen, chunks, nchunks);
	hop->silent = nchunks & 2;
	client = fuzz_peer_new("", 0, NULL, 0);
	s.hop = stream_open(hop->fd, 1);
	s.client = stream_open(client->fd, 1);
	smtp_reply_init(&r);
	for (int i = 0; i < 100 && s.hop; i++) {
		int rc = proxy_read_reply(&s, &r, 1);

		if (rc != HOP_OK)
			break;
		fuzz_check_reply(&r);
		if (r.code / 100 != 2)
			continue;
		proxy_parse_caps(&s, &r);
		if (s.hop_size != fuzz_expect_size(&r)) {
			fprintf(stderr, "SIZE %lld, its line says %lld\n", s.hop_size,
				fuzz_expect_size(&r));
			abort();
		}
		buf_reset(&client->out);
		proxy_ehlo_reply(&s, &r);
		if (stream_flush(s.client) != STREAM_OK)
			abort();
		fuzz_check_ehlo(&s, &client->out);
	}
	smtp_reply_free(&r);
	stream_close(s.hop);
	stream_close(s.client);
	fuzz_peer_free(hop);
	fuzz_peer_free(client);
	buf_free(&s.xforward);
	return 0;
}
