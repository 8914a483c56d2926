/*
 * proxy_data - DATA: spooling the client's content, sending it on
 *
 * proxy_data_receive() reads content until the exact line ".<CR><LF>"
 * that follows a <CR><LF> — nothing else ends the message, so "\n.\n",
 * "\n.\r\n", "\r.\r" and friends are content, not an end (SMTP
 * smuggling). Lines are
 * un-stuffed into the spool: a message of up to SCAN_MSG_INLINE_MAX bytes
 * stays in memory (no memfd to create, seal, read back and close: most
 * mail), a larger one goes to a memfd, made when it is needed (none to be
 * had: 451 4.3.0 after the data). A bare CR or LF, a line over
 * line_length_limit or content over message_size_limit is noted, the rest
 * is read and discarded up to the end, and the message is refused as a
 * whole: so no bare CR or LF ever reaches the next hop.
 *
 * The header section is read one way for the detector and the next hop:
 * a line in it that is neither a header field ("Name:", RFC 5322) nor a
 * continuation (white space first, but not on the first line) ends it. With
 * non_header_line_action = normalise an empty line is spooled before it,
 * as Postfix's cleanup does (and a Unix "From " line first becomes the
 * field "X-Mailbox-Line: From ...", as Postfix's smtpd makes it), so the spool, which both read, has the
 * structure every reader agrees on; with reject the message is refused
 * (554 5.6.0).
 *
 * proxy_data_send() writes our headers, then the content with dots
 * re-stuffed (the Subject replaced when the verdict says so), then the
 * end of data. The content comes from memory, or is read back from the
 * sealed memfd in chunks (nobody can change it under us); a line split
 * between two chunks is still stuffed right. The pieces are sent where
 * they lie, together: a message in memory goes with our headers and the
 * end of data in one system call (one segment for the next hop to wake
 * up for, not three). The end of data goes out only after every byte
 * before it did: a write that failed or timed out is final (the stream
 * writes nothing more), and so is a next hop that speaks before the end
 * of data (nothing asked it to: its words are no reply to anything). The
 * result is a hop_status; the next hop is then the caller's to drop.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf_params.h"
#include "evt.h"
#include "msg.h"
#include "scan.h"
#include "proxy.h"

/* (a fuzz harness that includes this file sets its own, to test the splits) */
#ifndef DATA_STAGE
#define DATA_STAGE (256 * 1024) /* content goes to the memfd in chunks */
#endif
#ifndef DATA_CHUNK
#define DATA_CHUNK (256 * 1024) /* and comes back from it in chunks */
#endif
#ifndef DATA_MEM
#define DATA_MEM SCAN_MSG_INLINE_MAX /* content up to this stays in memory */
#endif

struct data_in {
	struct proxy_spool *sp;
	struct buf stage; /* content not yet written */
	size_t size;      /* bytes stored (or that would be) */
	int status;       /* first problem seen */
	int skipping;     /* inside an over-long line */
	int skipped_cr;   /* ... whose last byte dropped was a CR */
	int after_crlf;   /* the previous line ended in CRLF */
	int in_header;    /* still in the header section */
	int first;        /* the next line is the message's first */
};

/* data_note - remember the first problem with the content */
static void data_note(struct data_in *d, int status)
{
	if (d->status == DATA_OK)
		d->status = status;
}

/* proxy_spool_init - an empty spool: no memfd, no memory yet */
void proxy_spool_init(struct proxy_spool *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->fd = -1;
}

/* proxy_spool_free - let go of the content */
void proxy_spool_free(struct proxy_spool *sp)
{
	if (sp->fd >= 0)
		close(sp->fd);
	if (sp->mem.data)
		buf_free(&sp->mem);
	proxy_spool_init(sp);
}

/* proxy_spool_seal - no change from now on (content in memory is ours alone) */
int proxy_spool_seal(struct proxy_spool *sp)
{
	return sp->fd >= 0 ? scan_memfd_seal(sp->fd) : 0;
}

/* data_flush - write the staged content to the memfd; -1 on error */
static int data_flush(struct data_in *d)
{
	const char *p = d->stage.data;
	size_t len = d->stage.len;

	if (d->sp->fd < 0 && len > 0
	    && (d->sp->fd = scan_memfd_create("dlpgate-message")) < 0) {
		msg_warn("memfd_create: %m");
		data_note(d, DATA_RESOURCE); /* read on, refuse it at the end */
		buf_reset(&d->stage);
		return 0;
	}
	while (len > 0) {
		ssize_t n = write(d->sp->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			msg_warn("write to spool memfd: %m");
			return -1;
		}
		p += n;
		len -= (size_t) n;
	}
	buf_reset(&d->stage);
	return 0;
}

/* data_store - stage a run of content for the memfd */
static int data_store(struct data_in *d, const char *p, size_t len)
{
	if ((long long) (d->size + len) > var_message_size_limit)
		data_note(d, DATA_TOOBIG);
	d->size += len;
	if (d->status != DATA_OK)
		return 0; /* keep reading, stop storing */
	buf_append(&d->stage, p, len);
	return d->stage.len >= DATA_STAGE ? data_flush(d) : 0;
}

/* data_is_field - "Name:" (obsolete white space before the colon allowed) */
static int data_is_field(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && p[i] > ' ' && p[i] < 0x7f && p[i] != ':')
		i++;
	if (i == 0)
		return 0;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i < len && p[i] == ':';
}

/* data_header_line - a line of the header section; -1 on a spool error */
static int data_header_line(struct data_in *d, const char *p, size_t content)
{
	int first = d->first;

	d->first = 0;
	/* a Unix "From " line first becomes a field, as Postfix's smtpd makes it */
	if (first && content >= 5 + strspn(p, ">")
	    && strncmp(p + strspn(p, ">"), "From ", 5) == 0)
		return data_store(d, "X-Mailbox-Line: ", 16);
	if (content == 0) {
		d->in_header = 0; /* the empty line: the body follows */
		return 0;
	}
	if (data_is_field(p, content) || (!first && (p[0] == ' ' || p[0] == '\t')))
		return 0;
	/* neither a field nor a continuation: the header section ends here */
	d->in_header = 0;
	if (var_non_header_line_action == NON_HEADER_LINE_REJECT) {
		data_note(d, DATA_HEADER);
		return 0;
	}
	return data_store(d, "\r\n", 2);
}

/* data_line - one complete line (ending in LF); 1 at the end of data */
static int data_line(struct data_in *d, const char *p, size_t n)
{
	int crlf = n >= 2 && p[n - 2] == '\r';
	size_t content = crlf ? n - 2 : n - 1;
	int after_crlf = d->after_crlf;

	/* only <CR><LF>.<CR><LF> ends the data: "\n.\r\n" is content */
	d->after_crlf = crlf;
	if (crlf && content == 1 && p[0] == '.' && after_crlf)
		return 1;
	if (!crlf || memchr(p, '\r', content))
		data_note(d, DATA_BARE);
	if (content > (size_t) var_line_length_limit)
		data_note(d, DATA_LONGLINE);
	if (p[0] == '.') { /* un-stuff */
		p++;
		n--;
		content--;
	}
	if (d->in_header && data_header_line(d, p, content) < 0)
		return -1;
	return data_store(d, p, n) < 0 ? -1 : 0;
}

/* proxy_data_receive - spool content to fd; a data_status */
int proxy_data_receive(struct proxy_session *s, struct proxy_spool *sp)
{
	struct stream *c = s->client;
	struct data_in d = {.sp = sp, .after_crlf = 1, .in_header = 1, .first = 1};
	size_t room = (size_t) var_line_length_limit + 2;
	int rc = 0, timed_out = 0;

	c->timeout = var_smtpd_data_timeout;
	buf_init(&d.stage, 16384);
	for (;;) {
		char *p = c->rbuf + c->rpos;
		size_t avail = c->rlen - c->rpos;
		char *lf = avail ? memchr(p, '\n', avail) : NULL;

		if (lf == NULL) {
			if (d.skipping || avail > room) {
				/* over-long: drop it up to its LF; the next line is read normally */
				data_note(&d, DATA_LONGLINE);
				d.skipping = 1;
				if (avail > 0)
					d.skipped_cr = p[avail - 1] == '\r';
				c->rpos = c->rlen;
			}
			if (stream_fill(c) < 0) {
				if ((timed_out = c->err == STREAM_TIMEOUT) != 0)
					evt_warn(CLIENT_TIMEOUT, s->cid,
						 "client=%s during=DATA "
						 "received=%zu",
						 s->client_addr, d.size);
				else
					evt_warn(CLIENT_LOST, s->cid,
						 "client=%s during=DATA "
						 "reason=\"%s\" received=%zu",
						 s->client_addr, stream_strerror(c->err),
						 d.size);
				rc = -1;
				break;
			}
			continue;
		}
		c->rpos += (size_t) (lf - p) + 1;
		if (d.skipping) {
			/* its CR may have gone with the bytes dropped before its LF */
			d.skipping = 0;
			d.after_crlf = lf > p ? lf[-1] == '\r' : d.skipped_cr;
			continue;
		}
		if ((rc = data_line(&d, p, (size_t) (lf - p) + 1)) != 0)
			break;
	}
	if (rc >= 0 && d.status == DATA_OK && sp->fd < 0 && d.size <= DATA_MEM) {
		/* small: it stays where it is */
		if (sp->mem.data)
			buf_free(&sp->mem);
		sp->mem = d.stage;
		memset(&d.stage, 0, sizeof(d.stage));
	} else if (rc >= 0 && d.status == DATA_OK && data_flush(&d) < 0) {
		rc = -1;
	}
	if (d.stage.data)
		buf_free(&d.stage);
	sp->size = d.size;
	return rc < 0 ? (timed_out ? DATA_TIMEOUT : DATA_LOST) : d.status;
}

/* data_is_subject - does the header line at p start a Subject field? */
static int data_is_subject(const char *p, size_t len)
{
	return len >= 8 && strncasecmp(p, "Subject:", 8) == 0;
}

/* data_header_end - offset just past the header section's blank line */
static size_t data_header_end(const char *m, size_t size)
{
	size_t pos = 0;

	while (pos < size) {
		const char *lf = memchr(m + pos, '\n', size - pos);
		size_t next = lf ? (size_t) (lf - m) + 1 : size;

		if (next - pos <= 2) /* "\r\n": the end of the headers */
			return next;
		/* a line that is not a header field nor a continuation ends them */
		if (m[pos] != ' ' && m[pos] != '\t' && !memchr(m + pos, ':', next - pos))
			return pos;
		pos = next;
	}
	return size;
}

/*
 * The pieces of what goes to the next hop, gathered where they lie (the
 * spool, our headers, the stuffing dots) and sent together: headers,
 * content and end of data of a usual message in one system call.
 */
struct data_out {
	struct stream *h;
	struct iovec iov[STREAM_IOV_MAX];
	int n;
};

/* data_out_flush - send the pieces gathered; a stream_status (sticky in h) */
static int data_out_flush(struct data_out *o)
{
	int n = o->n;

	o->n = 0;
	return stream_writev(o->h, o->iov, n);
}

/* data_out_add - one more piece, which must stay where it is until sent */
static void data_out_add(struct data_out *o, const char *p, size_t len)
{
	if (len == 0)
		return;
	if (o->n == STREAM_IOV_MAX)
		(void) data_out_flush(o);
	o->iov[o->n++] = (struct iovec){.iov_base = (void *) p, .iov_len = len};
}

/* data_write_stuffed - content with every leading dot doubled */
static int data_write_stuffed(struct data_out *o, const char *m, size_t len, int bol)
{
	size_t pos = 0;

	while (pos < len) {
		const char *lf;
		size_t end;

		if (bol && m[pos] == '.')
			data_out_add(o, ".", 1);
		lf = memchr(m + pos, '\n', len - pos);
		end = lf ? (size_t) (lf - m) + 1 : len;
		/* write up to the next line that starts with a dot */
		while (lf && end < len && m[end] != '.') {
			lf = memchr(m + end, '\n', len - end);
			end = lf ? (size_t) (lf - m) + 1 : len;
		}
		data_out_add(o, m + pos, end - pos);
		pos = end;
		bol = 1;
	}
	/* a chunk may end inside a line: say whether the next byte starts one */
	return len > 0 ? m[len - 1] == '\n' : bol;
}

/* data_rewrite_headers - the header section with our Subject */
static void data_rewrite_headers(struct data_out *o, const char *m, size_t hend,
				 const char *subject)
{
	size_t pos = 0;
	int replaced = 0;

	/* drop Subject (and its folds), add ours in its place */
	while (pos < hend) {
		const char *lf = memchr(m + pos, '\n', hend - pos);
		size_t next = lf ? (size_t) (lf - m) + 1 : hend;

		if (data_is_subject(m + pos, next - pos)) {
			if (!replaced) {
				/* ours is formatted into the stream: what came before goes first */
				(void) data_out_flush(o);
				stream_printf(o->h, "Subject: %s\r\n", subject);
			}
			replaced = 1;
			while (next < hend && (m[next] == ' ' || m[next] == '\t')) {
				lf = memchr(m + next, '\n', hend - next);
				next = lf ? (size_t) (lf - m) + 1 : hend;
			}
		} else {
			(void) data_write_stuffed(o, m + pos, next - pos, 1);
		}
		pos = next;
	}
	if (!replaced) {
		(void) data_out_flush(o);
		stream_printf(o->h, "Subject: %s\r\n", subject);
	}
}

/* data_pread - exactly len bytes at off; -1 on error */
static int data_pread(int fd, char *buf, size_t len, size_t off)
{
	while (len > 0) {
		ssize_t n = pread(fd, buf, len, (off_t) off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t) n;
		off += (size_t) n;
	}
	return 0;
}

/* data_hop_ok - HOP_OK while every byte went out and the hop kept quiet */
static int data_hop_ok(struct proxy_session *s)
{
	if (s->hop->werr)
		return s->hop->werr == STREAM_TIMEOUT ? HOP_TIMEOUT : HOP_LOST;
	return proxy_hop_quiet(s);
}

/* data_get - n bytes of the content at off: in memory, or read into chunk */
static const char *data_get(const struct proxy_spool *sp, struct buf *chunk, size_t off,
			    size_t n)
{
	if (sp->fd < 0)
		return sp->mem.data + off;
	buf_reserve(chunk, n);
	return data_pread(sp->fd, chunk->data, n, off) < 0 ? NULL : chunk->data;
}

/* proxy_data_send - headers, content and end of data; a hop_status */
int proxy_data_send(struct proxy_session *s, const struct proxy_spool *sp,
		    const struct verdict *v)
{
	struct stream *h = s->hop;
	struct data_out o = {.h = h};
	struct buf chunk;
	size_t off = 0, size = sp->size;
	int bol = 1, rc = HOP_LOST;
	const char *p;

	h->timeout = var_next_hop_data_timeout;
	for (size_t i = 0; i < v->nheaders; i++) {
		/* ".X: y" is a valid field: stuffed like any line, or it loses its dot */
		(void) data_write_stuffed(&o, v->headers[i], strlen(v->headers[i]), 1);
		data_out_add(&o, "\r\n", 2);
	}
	buf_init(&chunk, sp->fd < 0 ? 16 : size < DATA_CHUNK ? size : DATA_CHUNK);
	if (v->subject) {
		size_t hend, mlen;

		/* the header section, however long, then the rest in chunks */
		if (sp->fd < 0) {
			if ((rc = data_hop_ok(s)) != HOP_OK)
				goto out;
			p = sp->mem.data;
			mlen = off = size;
		} else {
			do {
				size_t n = size - off < DATA_CHUNK ? size - off : DATA_CHUNK;

				buf_reserve(&chunk, n);
				if ((rc = data_hop_ok(s)) != HOP_OK)
					goto out;
				rc = HOP_LOST;
				if (data_pread(sp->fd, chunk.data + chunk.len, n, off) < 0)
					goto out;
				chunk.len += n;
				off += n;
				hend = data_header_end(chunk.data, chunk.len);
			} while (hend == chunk.len && off < size);
			p = chunk.data;
			mlen = chunk.len;
		}
		hend = data_header_end(p, mlen);
		data_rewrite_headers(&o, p, hend, v->subject);
		bol = data_write_stuffed(&o, p + hend, mlen - hend, 1);
	}
	while (off < size) {
		size_t n = size - off < DATA_CHUNK ? size - off : DATA_CHUNK;

		/* the chunk buffer is read into again: what points into it goes first */
		if (sp->fd >= 0)
			(void) data_out_flush(&o);
		if ((rc = data_hop_ok(s)) != HOP_OK)
			goto out;
		rc = HOP_LOST;
		if ((p = data_get(sp, &chunk, off, n)) == NULL)
			goto out;
		bol = data_write_stuffed(&o, p, n, bol);
		off += n;
	}
	/*
	 * Never an end of data after a lost byte (a failed send is final), or
	 * after an unasked reply. The end goes in the same send as the last
	 * content: cut short anywhere, what went is no end of data (the
	 * content, stuffed, has no "." line).
	 */
	if ((rc = data_hop_ok(s)) != HOP_OK)
		goto out;
	data_out_add(&o, ".\r\n", 3);
	if (data_out_flush(&o) != STREAM_OK)
		rc = h->werr == STREAM_TIMEOUT ? HOP_TIMEOUT : HOP_LOST;
out:
	if (off < size && rc == HOP_LOST && !h->werr && !h->err)
		msg_warn("cid=%s read spool at %zu of %zu: %m", s->cid, off, size);
	buf_free(&chunk);
	return rc;
}
