/*
 * fuzz_data - libFuzzer harness for DATA: the content in, the verdict,
 * the content out
 *
 * Input: a flags byte (Subject in the verdict, how many headers, which
 * line and size limits), a byte for the chunk size proxy_data_send reads
 * the spool with (and whether small content stays in memory), chunk sizes (fuzz_proxy.h), the verdict's Subject and headers
 * (each a 2-byte length and bytes), then what the client sends after 354.
 *
 * proxy_data_receive() is checked against a model of RFC 5321 DATA as
 * proxy_data.c states it: the data ends at the first "." line that follows
 * a CRLF line (and reading stops exactly there, whatever the chunks); the
 * message is accepted iff no line before it has a bare CR or LF, no line
 * is longer than line_length_limit, the un-stuffed size is within
 * message_size_limit; and what is spooled is exactly the un-stuffed
 * lines, with an empty line before the first line of the header section
 * that is neither a field nor a continuation (non_header_line_action =
 * normalise; with reject, the chunk byte's top bit, such a message is
 * refused), and "X-Mailbox-Line: " before a Unix "From " line first.
 *
 * The verdict is a SCAN_VERDICT record through verdict_parse(); for one it
 * accepts, proxy_data_send() must write our headers, the content and the
 * end of data such that: every CR is followed by LF and every LF preceded
 * by CR, the only "." line is the last, and un-stuffed again it is our
 * headers followed by the spooled content (with a new Subject: the body
 * after the header section is unchanged, and our Subject is there once).
 * The chunk byte may also make the next hop speak before the end (the
 * result must be HOP_GARBLED) or stop taking bytes after a point (a
 * failed write, HOP_LOST): then no end of data was written, and after the
 * first failed write no other was tried.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static size_t fuzz_data_chunk = 256 * 1024;
static size_t fuzz_data_mem = 32 * 1024;

#define DATA_CHUNK fuzz_data_chunk
#define DATA_MEM   fuzz_data_mem
#include "../proxy_data.c"
#include "../proxy_detect.c"
#include "../proxy_session.c"
#include "../proxy_nexthop.c"
#include "fuzz_proxy.h"

static int fuzz_sp[2];
static struct ipc_msg fuzz_msg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet("fuzz-data");
	fuzz_defaults(NULL, 0);
	fuzz_peers_init();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fuzz_sp) < 0)
		abort();
	return 0;
}

/* What the client's bytes should come to. */
struct fuzz_model {
	int ended;        /* a "." line after a CRLF line */
	size_t end;       /* bytes up to and including it */
	int ok;           /* no bare CR/LF, long line, too big */
	struct buf spool; /* the un-stuffed lines (when ok) */
};

/* fuzz_field - RFC 5322: a name of printable ASCII but ':', maybe blanks, ':' */
static int fuzz_field(const uint8_t *t, size_t len)
{
	size_t i;

	for (i = 0; i < len && t[i] >= 33 && t[i] <= 126 && t[i] != ':'; i++)
		/* void */;
	if (i == 0)
		return 0;
	while (i < len && (t[i] == ' ' || t[i] == '\t'))
		i++;
	return i < len && t[i] == ':';
}

/* fuzz_model_run - DATA as proxy_data.c says it works */
static void fuzz_model_run(const uint8_t *d, size_t n, struct fuzz_model *m)
{
	size_t pos = 0, size = 0;
	int after_crlf = 1, in_header = 1, first = 1;

	m->ended = 0;
	m->ok = 1;
	buf_init(&m->spool, n + 1);
	while (pos < n) {
		const uint8_t *lf = memchr(d + pos, '\n', n - pos);
		size_t len, content;
		int crlf;

		if (lf == NULL)
			return;
		len = (size_t) (lf - (d + pos)) + 1;
		crlf = len >= 2 && d[pos + len - 2] == '\r';
		content = len - (crlf ? 2 : 1);
		if (crlf && content == 1 && d[pos] == '.' && after_crlf) {
			m->ended = 1;
			m->end = pos + len;
			return;
		}
		after_crlf = crlf;
		if (!crlf || memchr(d + pos, '\r', content)
		    || content > (size_t) var_line_length_limit)
			m->ok = 0;
		if (in_header) {
			const uint8_t *t = d + pos + (d[pos] == '.');
			size_t tc = content - (d[pos] == '.');

			size_t gt = 0;

			while (gt < tc && t[gt] == '>')
				gt++;
			if (first && tc >= gt + 5 && memcmp(t + gt, "From ", 5) == 0) {
				size += 16; /* Postfix's X-Mailbox-Line: */
				buf_append(&m->spool, "X-Mailbox-Line: ", 16);
			} else if (tc == 0) {
				in_header = 0;
			} else if (!fuzz_field(t, tc)
				   && (first || (t[0] != ' ' && t[0] != '\t'))) {
				in_header = 0;
				if (var_non_header_line_action == NON_HEADER_LINE_REJECT)
					m->ok = 0;
				size += 2;
				buf_append(&m->spool, "\r\n", 2);
			}
			first = 0;
		}
		if (d[pos] == '.') {
			size += len - 1;
			buf_append(&m->spool, d + pos + 1, len - 1);
		} else {
			size += len;
			buf_append(&m->spool, d + pos, len);
		}
		if ((long long) size > var_message_size_limit)
			m->ok = 0;
		pos += len;
	}
}

/* fuzz_verdict - a modify (or pass) verdict with these strings, if accepted */
static int fuzz_verdict(const char *subject, size_t slen, char **hdr, size_t *hlen, int nhdr,
			struct verdict *v)
{
	struct ipc_out out;
	char why[256];

	ipc_out_init(&out, SCAN_VERDICT);
	ipc_put_u32(&out, SCAN_TAG_ACTION, subject ? SCAN_MODIFY : SCAN_PASS);
	for (int i = 0; i < nhdr; i++)
		ipc_put_bytes(&out, SCAN_TAG_HEADER, hdr[i], hlen[i]);
	if (subject)
		ipc_put_bytes(&out, SCAN_TAG_SUBJECT, subject, slen);
	if (ipc_send(fuzz_sp[0], &out, NULL, 0, 1) != IPC_OK
	    || ipc_recv(fuzz_sp[1], &fuzz_msg, 0, why, sizeof(why)) != IPC_OK)
		abort();
	ipc_out_free(&out);
	memset(v, 0, sizeof(*v));
	if (verdict_parse(&fuzz_msg, v, why, sizeof(why)) < 0) {
		verdict_free(v);
		return -1;
	}
	return 0;
}

/* fuzz_unstuff - the lines of what went out, dots un-stuffed, end removed */
static void fuzz_unstuff(const struct buf *out, struct buf *text)
{
	size_t pos = 0;

	/* every CR before an LF, every LF after a CR */
	for (size_t i = 0; i < out->len; i++)
		if ((out->data[i] == '\r') != (i + 1 < out->len && out->data[i + 1] == '\n'))
			abort();
	if (out->len < 3 || memcmp(out->data + out->len - 3, ".\r\n", 3) != 0
	    || (out->len > 3 && out->data[out->len - 4] != '\n'))
		abort();
	while (pos < out->len) {
		const char *lf = memchr(out->data + pos, '\n', out->len - pos);
		size_t len = (size_t) (lf - (out->data + pos)) + 1;

		if (len == 3 && out->data[pos] == '.') {
			if (pos + 3 != out->len)
				abort(); /* an end of data before the end */
			break;
		}
		if (out->data[pos] == '.')
			buf_append(text, out->data + pos + 1, len - 1);
		else
			buf_append(text, out->data + pos, len);
		pos += len;
	}
}

/* fuzz_has_end - is there an end-of-data line in what was sent? */
static int fuzz_has_end(const struct buf *out)
{
	return (out->len >= 3 && memcmp(out->data, ".\r\n", 3) == 0)
		|| memmem(out->data, out->len, "\r\n.\r\n", 5) != NULL;
}

/* fuzz_check_send - what proxy_data_send wrote */
static void fuzz_check_send(const struct verdict *v, const struct buf *out,
			    const struct buf *spool)
{
	struct buf text, want;

	buf_init(&text, out->len + 1);
	buf_init(&want, spool->len + 1024);
	fuzz_unstuff(out, &text);
	for (size_t i = 0; i < v->nheaders; i++) {
		buf_puts(&want, v->headers[i]);
		buf_append(&want, "\r\n", 2);
	}
	if (v->subject == NULL) {
		buf_append(&want, spool->data, spool->len);
		if (text.len != want.len || memcmp(text.data, want.data, want.len) != 0) {
			fprintf(stderr, "sent %zu bytes, un-stuffed %zu, want %zu\n", out->len,
				text.len, want.len);
			abort();
		}
	} else {
		const char *body = memmem(spool->data, spool->len, "\r\n\r\n", 4);
		char *ours = xasprintf("Subject: %s\r\n", v->subject);

		if (text.len < want.len || memcmp(text.data, want.data, want.len) != 0
		    || memmem(text.data, text.len, ours, strlen(ours)) == NULL)
			abort();
		if (body) {
			size_t blen = spool->len - (size_t) (body + 4 - spool->data);

			if (text.len < blen
			    || memcmp(text.data + text.len - blen, body + 4, blen) != 0)
				abort();
		}
		free(ours);
	}
	buf_free(&text);
	buf_free(&want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int lines[] = {998, 78, 200, 2000};
	static const long long sizes[] = {10240000, 1024, 4096, 40000};
	static const size_t chunks[] = {256 * 1024, 1, 7, 64};
	struct fuzz_in in = {data, size};
	unsigned flags = fuzz_byte(&in), chunk = fuzz_byte(&in);
	const uint8_t *cs, *body;
	size_t ncs, blen, got, slen = 0, hlen[8], spooled = 0;
	char *subject = NULL, *hdr[8];
	int nhdr = (flags >> 1) & 7, status;
	struct proxy_spool sp;
	struct proxy_session s;
	struct fuzz_peer *client, *hop;
	struct fuzz_model m;
	struct verdict v;

	var_line_length_limit = lines[(flags >> 4) & 3];
	var_non_header_line_action =
		chunk & 0x80 ? NON_HEADER_LINE_REJECT : NON_HEADER_LINE_NORMALISE;
	var_message_size_limit = sizes[(flags >> 6) & 3];
	fuzz_data_chunk = chunks[chunk & 3];
	/* small content stays in memory, or (odd chunk choices) goes to a memfd */
	fuzz_data_mem = (chunk & 1) ? 0 : SCAN_MSG_INLINE_MAX;
	fuzz_split(in.p, in.left, &cs, &ncs, &in.p, &in.left);
	if (flags & 1) {
		size_t want = fuzz_byte(&in) | fuzz_byte(&in) << 8;
		const uint8_t *p = fuzz_take(&in, want % 1100, &slen);

		subject = xmalloc(slen + 1);
		memcpy(subject, p, slen);
		subject[slen] = 0;
	}
	for (int i = 0; i < nhdr; i++) {
		size_t want = fuzz_byte(&in) | fuzz_byte(&in) << 8;
		const uint8_t *p = fuzz_take(&in, want % 1100, &got);

		hdr[i] = xmalloc(got + 1);
		memcpy(hdr[i], p, got);
		hdr[i][got] = 0;
		hlen[i] = got;
	}
	body = fuzz_take(&in, in.left, &blen);

	memset(&s, 0, sizeof(s));
	strcpy(s.cid, "FUZZ");
	client = fuzz_peer_new(body, blen, cs, ncs);
	s.client = stream_open(client->fd, 1);
	proxy_spool_init(&sp);
	status = proxy_data_receive(&s, &sp);
	spooled = sp.size;
	fuzz_model_run(body, blen, &m);

	/* stopped where the data ends, and said what the model says (a client
	 * that hangs up or falls silent before the end: no data to judge) */
	if (m.ended != (status != DATA_LOST && status != DATA_TIMEOUT)
	    || (m.ended && s.client->rbytes - (s.client->rlen - s.client->rpos) != m.end)
	    || (m.ended && m.ok != (status == DATA_OK))) {
		fprintf(stderr,
			"status %d, model ended %d at %zu ok %d; read %llu, "
			"left %zu\n",
			status, m.ended, m.end, m.ok, (unsigned long long) s.client->rbytes,
			s.client->rlen - s.client->rpos);
		abort();
	}
	if (status == DATA_OK) {
		char *copy = xmalloc(spooled + 1);

		if (sp.fd >= 0 ? pread(sp.fd, copy, spooled, 0) != (ssize_t) spooled
			       : (memcpy(copy, sp.mem.data, spooled), 0))
			abort();
		if (spooled != m.spool.len || memcmp(copy, m.spool.data, spooled) != 0
		    || (sp.fd < 0) != (spooled <= fuzz_data_mem))
			abort();
		free(copy);
		if (fuzz_verdict(subject, slen, hdr, hlen, nhdr, &v) == 0) {
			int speaks = chunk & 4, rc;

			hop = fuzz_peer_new(speaks ? "554 5.0.0 not now\r\n" : "",
					    speaks ? 19 : 0, NULL, 0);
			hop->silent = 1; /* a hop that waits for the end */
			hop->send_limit = (size_t) ((chunk >> 3) & 15) * 97;
			s.hop = stream_open(hop->fd, 1);
			rc = proxy_data_send(&s, &sp, &v);
			if (speaks                     ? rc != HOP_GARBLED
				    : hop->send_failed ? rc != HOP_LOST
						       : rc != HOP_OK) {
				fprintf(stderr,
					"proxy_data_send %d; the hop %s, its sends %s\n", rc,
					speaks ? "spoke" : "kept quiet",
					hop->send_failed ? "failed" : "went");
				abort();
			}
			if (rc == HOP_OK)
				fuzz_check_send(&v, &hop->out, &m.spool);
			else if (hop->sends_after || fuzz_has_end(&hop->out))
				abort(); /* a write after a lost byte, or an end */
			stream_close(s.hop);
			fuzz_peer_free(hop);
			verdict_free(&v);
		}
	}
	proxy_spool_free(&sp);
	stream_close(s.client);
	fuzz_peer_free(client);
	buf_free(&m.spool);
	free(subject);
	for (int i = 0; i < nhdr; i++)
		free(hdr[i]);
	return 0;
}
