/*
 * stream - buffered, bounded, deadline-driven line I/O over TCP or TLS
 *
 * See stream.h. The read buffer is one fixed allocation; a line that does
 * not fit within the caller's limit is reported as STREAM_TOOLONG before
 * the buffer can grow, and stream_skipline() drops it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mem.h"
#include "msg.h"
#include "stream.h"

/*
 * A worker opens two streams per session and closes them at its end:
 * keep their memory for the next ones instead of giving back the read
 * buffers (and the heap top with them) every time.
 */
#define STREAM_SPARES 2
static struct stream *stream_spare[STREAM_SPARES];

static int stream_fail(struct stream *s, int status);

/* stream_open - wrap a connected, blocking socket */
struct stream *stream_open(int fd, int timeout)
{
	struct stream *s = NULL;

	for (int i = 0; i < STREAM_SPARES && s == NULL; i++) {
		s = stream_spare[i];
		stream_spare[i] = NULL;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->rbuf = xmalloc(STREAM_RBUF_SIZE + 1);
		buf_init(&s->wbuf, 8192);
	} else {
		/* a spare: its buffers, nothing of its state */
		char *rbuf = s->rbuf;
		struct buf wbuf = s->wbuf;

		memset(s, 0, sizeof(*s));
		s->rbuf = rbuf;
		s->wbuf = wbuf;
		buf_reset(&s->wbuf);
	}
	s->fd = fd;
	s->rcv_timeout = -1;
	s->timeout = timeout;
	return s;
}

/* stream_close - free the stream, its TLS state and its socket */
void stream_close(struct stream *s)
{
	if (s == NULL)
		return;
	if (s->ssl)
		SSL_free(s->ssl);
	if (s->fd >= 0)
		close(s->fd);
	/* a write buffer that grew for a big reply is not worth keeping */
	for (int i = 0; i < STREAM_SPARES && s->wbuf.cap <= STREAM_WBUF_FLUSH; i++) {
		if (stream_spare[i] == NULL) {
			stream_spare[i] = s;
			return;
		}
	}
	free(s->rbuf);
	buf_free(&s->wbuf);
	free(s);
}

/* stream_set_ssl - from now on, read and write through TLS */
void stream_set_ssl(struct stream *s, SSL *ssl)
{
	int fl = fcntl(s->fd, F_GETFL);

	/* OpenSSL wants to hear "would block", and we poll with a deadline */
	if (fl >= 0 && !(fl & O_NONBLOCK))
		(void) fcntl(s->fd, F_SETFL, fl | O_NONBLOCK);
	s->ssl = ssl;
}

/* stream_ms - monotonic milliseconds (the vDSO's clock: no system call) */
static long long stream_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define STREAM_TIMER_SLACK 50 /* ms: clock granularity, early wakeups */

/* stream_rcv_timeout - set the socket's receive timeout, in milliseconds */
static void stream_rcv_timeout(struct stream *s, long long ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	if (ms < 1)
		tv.tv_usec = 1000;
	(void) setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	s->rcv_timeout = ms < 1 ? 1 : ms;
}

/* stream_read_plain - one read() within s->timeout; >0 bytes, or a stream_status */
static int stream_read_plain(struct stream *s, char *buf, size_t len)
{
	long long limit = (long long) (s->timeout > 0 ? s->timeout : 1) * 1000;
	long long deadline = 0;

	/*
	 * The socket's receive timeout only ever goes down: while it is no
	 * longer than ours, a read is one system call. A read that outlasts a
	 * shorter one looks at our own deadline and waits again.
	 */
	if (s->rcv_timeout < 0 || s->rcv_timeout > limit)
		stream_rcv_timeout(s, limit);
	if (s->rcv_timeout < limit)
		deadline = stream_ms() + limit;
	for (;;) {
		long long start = deadline ? stream_ms() : 0, left;
		ssize_t n = read(s->fd, buf, len);

		if (n > 0)
			return (int) n;
		if (n == 0)
			return stream_fail(s, STREAM_EOF);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return stream_fail(s, errno == ECONNRESET ? STREAM_EOF : STREAM_IOERR);
		if (deadline == 0 || (left = deadline - stream_ms()) <= 0)
			return stream_fail(s, STREAM_TIMEOUT);
		/* sooner than the kernel's wait (a non-blocking socket): never spin */
		if (stream_ms() - start + STREAM_TIMER_SLACK < s->rcv_timeout)
			return stream_fail(s, STREAM_TIMEOUT);
		if (left < s->rcv_timeout)
			stream_rcv_timeout(s, left);
	}
}

/* stream_strerror - a word for a status, for logs */
const char *stream_strerror(int status)
{
	switch (status) {
	case STREAM_OK:
		return "ok";
	case STREAM_EOF:
		return "lost connection";
	case STREAM_TIMEOUT:
		return "timeout";
	case STREAM_IOERR:
		return "I/O error";
	case STREAM_TOOLONG:
		return "line too long";
	}
	return "unknown error";
}

/* stream_poll - wait for readiness; 1 ready, 0 timeout, -1 error */
static int stream_poll(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int n;

	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	return n;
}

/* stream_wait_readable - 1 if input is (or becomes) available in time */
int stream_wait_readable(struct stream *s, int timeout_ms)
{
	if (s->rpos < s->rlen || (s->ssl && SSL_pending(s->ssl) > 0))
		return 1;
	return stream_poll(s->fd, POLLIN, timeout_ms) > 0;
}

/* stream_fail - make an error sticky and return it */
static int stream_fail(struct stream *s, int status)
{
	if (s->err == STREAM_OK)
		s->err = status;
	return s->err;
}

/* stream_wfail - a write failed: no byte will ever follow the lost ones */
static int stream_wfail(struct stream *s, int status)
{
	(void) stream_fail(s, status);
	if (s->werr == STREAM_OK)
		s->werr = status;
	return s->werr;
}

/* stream_peek - up to len bytes the peer sent, not taken, without a wait */
size_t stream_peek(struct stream *s, char *buf, size_t len)
{
	size_t n = s->rlen - s->rpos;
	ssize_t r;

	if (n > 0) {
		n = n < len ? n : len;
		memcpy(buf, s->rbuf + s->rpos, n);
		return n;
	}
	if (s->err || len == 0)
		return 0;
	if (s->ssl) {
		ERR_clear_error();
		r = SSL_peek(s->ssl, buf, len > INT32_MAX ? INT32_MAX : (int) len);
		ERR_clear_error();
		return r > 0 ? (size_t) r : 0;
	}
	r = recv(s->fd, buf, len, MSG_PEEK | MSG_DONTWAIT);
	return r > 0 ? (size_t) r : 0;
}

/* stream_peek_ready - 1 if the peer sent something, 0 if not (no wait) */
int stream_peek_ready(struct stream *s)
{
	char c;

	if (s->rpos < s->rlen)
		return 1;
	if (s->err)
		return s->err;
	if (s->ssl) {
		int r;

		/* the socket may hold records that carry no data (TLS 1.3 tickets) */
		if (SSL_pending(s->ssl) > 0)
			return 1;
		if (stream_poll(s->fd, POLLIN, 0) <= 0)
			return 0;
		ERR_clear_error();
		r = SSL_peek(s->ssl, &c, 1);
		if (r > 0)
			return 1;
		switch (SSL_get_error(s->ssl, r)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			return 0;
		case SSL_ERROR_ZERO_RETURN:
			return STREAM_EOF;
		default:
			return STREAM_IOERR;
		}
	}
	for (;;) {
		ssize_t n = recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

		if (n > 0)
			return 1;
		if (n == 0)
			return STREAM_EOF;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : STREAM_IOERR;
	}
}

/* stream_read_some - one read into buf; >0 bytes, or a stream_status */
static int stream_read_some(struct stream *s, char *buf, size_t len)
{
	short want = POLLIN;

	if (s->ssl == NULL)
		return stream_read_plain(s, buf, len);
	for (;;) {
		int r;

		ERR_clear_error();
		r = SSL_read(s->ssl, buf, len > INT32_MAX ? INT32_MAX : (int) len);
		if (r > 0)
			return r;
		switch (s->ssl_err = SSL_get_error(s->ssl, r)) {
		case SSL_ERROR_WANT_READ:
			want = POLLIN;
			break;
		case SSL_ERROR_WANT_WRITE:
			want = POLLOUT;
			break;
		case SSL_ERROR_ZERO_RETURN:
			return stream_fail(s, STREAM_EOF);
		case SSL_ERROR_SYSCALL:
			if (ERR_peek_error() == 0)
				return stream_fail(s, STREAM_EOF);
			return stream_fail(s, STREAM_IOERR);
		default:
			return stream_fail(s, STREAM_IOERR);
		}
		switch (stream_poll(s->fd, want, s->timeout * 1000)) {
		case 0:
			return stream_fail(s, STREAM_TIMEOUT);
		case -1:
			return stream_fail(s, STREAM_IOERR);
		}
	}
}

/* stream_fill - read more input; bytes added, or a stream_status */
int stream_fill(struct stream *s)
{
	int n;

	if (s->err)
		return s->err;
	if (s->rpos == s->rlen) {
		s->rpos = s->rlen = 0;
	} else if (s->rlen == STREAM_RBUF_SIZE && s->rpos > 0) {
		memmove(s->rbuf, s->rbuf + s->rpos, s->rlen - s->rpos);
		s->rlen -= s->rpos;
		s->rpos = 0;
	}
	if (s->rlen == STREAM_RBUF_SIZE)
		msg_panic("stream_fill: buffer full");
	n = stream_read_some(s, s->rbuf + s->rlen, STREAM_RBUF_SIZE - s->rlen);
	if (n > 0) {
		s->rlen += (size_t) n;
		s->rbytes += (uint64_t) n;
	}
	return n;
}

/* stream_has_line - is a whole line buffered? */
int stream_has_line(const struct stream *s)
{
	return memchr(s->rbuf + s->rpos, '\n', s->rlen - s->rpos) != NULL;
}

/* stream_pending - bytes buffered but not yet consumed */
size_t stream_pending(const struct stream *s)
{
	return s->rlen - s->rpos + (s->ssl ? (size_t) SSL_pending(s->ssl) : 0);
}

/* stream_discard_input - drop buffered input (e.g. after STARTTLS) */
void stream_discard_input(struct stream *s)
{
	s->rpos = s->rlen = 0;
}

/* stream_getline - the next line, NUL-terminated in place */
int stream_getline(struct stream *s, char **line, size_t *len, size_t limit, int *flags)
{
	size_t room = limit + 2 > STREAM_RBUF_SIZE ? STREAM_RBUF_SIZE : limit + 2;

	for (;;) {
		char *start = s->rbuf + s->rpos;
		size_t avail = s->rlen - s->rpos;
		char *lf = memchr(start, '\n', avail < room ? avail : room);

		if (lf) {
			size_t n = (size_t) (lf - start);
			int f = 0;

			if (n > 0 && lf[-1] == '\r')
				n--;
			else
				f |= STREAM_LINE_BARE_LF;
			if (n > limit)
				return STREAM_TOOLONG; /* not sticky */
			start[n] = 0;
			if (memchr(start, 0, n))
				f |= STREAM_LINE_NUL;
			if (memchr(start, '\r', n))
				f |= STREAM_LINE_BARE_CR;
			s->rpos += (size_t) (lf - start) + 1;
			*line = start;
			*len = n;
			if (flags)
				*flags = f;
			return STREAM_OK;
		}
		if (avail >= room)
			return STREAM_TOOLONG; /* not sticky: see stream_skipline */
		if (stream_fill(s) < 0)
			return s->err;
	}
}

/* stream_skipline - discard input through the next LF */
int stream_skipline(struct stream *s)
{
	for (;;) {
		char *lf = memchr(s->rbuf + s->rpos, '\n', s->rlen - s->rpos);

		if (lf) {
			s->rpos = (size_t) (lf - s->rbuf) + 1;
			return STREAM_OK;
		}
		s->rpos = s->rlen;
		if (stream_fill(s) < 0)
			return s->err;
	}
}

/* stream_write_all - write everything in buf; 0 or a stream_status */
static int stream_write_all(struct stream *s, const char *buf, size_t len)
{
	while (len > 0) {
		short want = POLLOUT;
		ssize_t n;

		if (s->ssl) {
			int r;

			ERR_clear_error();
			r = SSL_write(s->ssl, buf, len > INT32_MAX ? INT32_MAX : (int) len);
			if (r > 0) {
				n = r;
			} else {
				switch (s->ssl_err = SSL_get_error(s->ssl, r)) {
				case SSL_ERROR_WANT_READ:
					want = POLLIN;
					break;
				case SSL_ERROR_WANT_WRITE:
					break;
				case SSL_ERROR_ZERO_RETURN:
					return stream_wfail(s, STREAM_EOF);
				default:
					return stream_wfail(s, STREAM_IOERR);
				}
				n = 0;
			}
		} else {
			/* no kernel timeout: a full socket buffer is waited for below */
			n = send(s->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				n = 0;
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EPIPE || errno == ECONNRESET)
					return stream_wfail(s, STREAM_EOF);
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return stream_wfail(s, STREAM_TIMEOUT);
				return stream_wfail(s, STREAM_IOERR);
			}
		}
		if (n > 0) {
			buf += n;
			len -= (size_t) n;
			s->wbytes += (uint64_t) n;
			continue;
		}
		switch (stream_poll(s->fd, want, s->timeout * 1000)) {
		case 0:
			return stream_wfail(s, STREAM_TIMEOUT);
		case -1:
			return stream_wfail(s, STREAM_IOERR);
		}
	}
	return STREAM_OK;
}

/* stream_write_ok - may we still write? (a read timeout does not stop us) */
static int stream_write_ok(const struct stream *s)
{
	return s->werr == STREAM_OK && (s->err == STREAM_OK || s->err == STREAM_TIMEOUT);
}

/* stream_flush - send everything collected; 0 or a stream_status */
int stream_flush(struct stream *s)
{
	int r;

	if (!stream_write_ok(s))
		return s->werr ? s->werr : s->err;
	if (s->wbuf.len == 0)
		return STREAM_OK;
	r = stream_write_all(s, s->wbuf.data, s->wbuf.len);
	buf_reset(&s->wbuf);
	return r;
}

/* stream_write - collect bytes; big writes go out directly */
void stream_write(struct stream *s, const void *data, size_t len)
{
	if (!stream_write_ok(s))
		return;
	if (s->wbuf.len + len <= STREAM_WBUF_FLUSH) {
		buf_append(&s->wbuf, data, len);
		return;
	}
	if (stream_flush(s) == STREAM_OK) {
		if (len <= STREAM_WBUF_FLUSH)
			buf_append(&s->wbuf, data, len);
		else
			(void) stream_write_all(s, data, len);
	}
}

/* stream_writev_plain - wbuf, then every piece, in as few sends as the socket takes */
static int stream_writev_plain(struct stream *s, const struct iovec *piece, int n)
{
	struct iovec iov[STREAM_IOV_MAX + 1];
	struct msghdr mh = {.msg_iov = iov};
	int first = 0, count = 0;

	if (s->wbuf.len > 0)
		iov[count++] = (struct iovec){.iov_base = s->wbuf.data, .iov_len = s->wbuf.len};
	for (int i = 0; i < n; i++)
		if (piece[i].iov_len > 0)
			iov[count++] = piece[i];
	while (first < count) {
		ssize_t sent;

		mh.msg_iov = iov + first;
		mh.msg_iovlen = (size_t) (count - first);
		/* no kernel timeout: a full socket buffer is waited for below */
		sent = sendmsg(s->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (sent < 0 && errno == EINTR)
			continue;
		if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return stream_wfail(s,
					    errno == EPIPE || errno == ECONNRESET
						    ? STREAM_EOF
						    : STREAM_IOERR);
		if (sent > 0) {
			s->wbytes += (uint64_t) sent;
			while (first < count && (size_t) sent >= iov[first].iov_len)
				sent -= (ssize_t) iov[first++].iov_len;
			if (first < count) {
				iov[first].iov_base = (char *) iov[first].iov_base + sent;
				iov[first].iov_len -= (size_t) sent;
			}
			continue;
		}
		switch (stream_poll(s->fd, POLLOUT, s->timeout * 1000)) {
		case 0:
			return stream_wfail(s, STREAM_TIMEOUT);
		case -1:
			return stream_wfail(s, STREAM_IOERR);
		}
	}
	return STREAM_OK;
}

/* stream_writev - send what is collected, then the pieces; 0 or a stream_status */
int stream_writev(struct stream *s, const struct iovec *piece, int n)
{
	int r;

	if (n < 0 || n > STREAM_IOV_MAX)
		msg_panic("stream_writev: %d pieces", n);
	if (!stream_write_ok(s))
		return s->werr ? s->werr : s->err;
	if (s->ssl) {
		/* TLS records: through the write buffer, as any write */
		for (int i = 0; i < n; i++)
			stream_write(s, piece[i].iov_base, piece[i].iov_len);
		return stream_flush(s);
	}
	r = stream_writev_plain(s, piece, n);
	buf_reset(&s->wbuf);
	return r;
}

/* stream_puts - collect a string */
void stream_puts(struct stream *s, const char *str)
{
	stream_write(s, str, strlen(str));
}

/* stream_printf - collect formatted text */
void stream_printf(struct stream *s, const char *fmt, ...)
{
	va_list ap;

	if (!stream_write_ok(s))
		return;
	va_start(ap, fmt);
	buf_vprintf(&s->wbuf, fmt, ap);
	va_end(ap);
	if (s->wbuf.len > STREAM_WBUF_FLUSH)
		(void) stream_flush(s);
}
