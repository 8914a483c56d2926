/*
 * stream - buffered, bounded, deadline-driven line I/O over TCP or TLS
 *
 * A stream wraps a non-blocking socket and, after a STARTTLS, an SSL
 * object. Reads fill a fixed 64 KB buffer; lines are returned in place,
 * NUL-terminated where their CRLF (or bare LF) was, and never longer than
 * the caller's limit. Writes are collected and go out in large chunks when
 * the caller flushes at a protocol boundary (no line-per-write stalls);
 * stream_writev() sends what is collected and then the caller's pieces
 * (a message's content where it lies) in as few system calls as the
 * socket takes, and returns when all went or the write failed.
 *
 * Every blocking step waits at most s->timeout seconds. A plain-text
 * stream uses a blocking socket (stream_open() wants one): a read is one
 * system call with the socket's receive timeout, which is set only when
 * it must go down (a longer wait reads again until our own deadline), so
 * changing s->timeout from state to state costs nothing; a write never
 * blocks in the kernel (MSG_DONTWAIT) and polls only when the socket
 * buffer is full. Under TLS the socket is non-blocking and each step
 * polls, as OpenSSL needs. A closed stream's memory is kept for the next
 * one (two of them: a session's client and next hop). Errors are sticky
 * in s->err: once a stream failed, every later call fails the same way
 * (but a read timeout still lets us write the 421 that says so). A write
 * that failed or timed out is final: s->werr is set, bytes may have been
 * lost, and nothing more is ever written (a later write could make what
 * was cut short look whole).
 *
 * stream_peek_ready() says, without waiting, whether the peer has sent
 * anything: for a peer that may speak only when asked; stream_peek()
 * copies what it sent without taking it (a line returned before stays
 * valid: the read buffer does not move).
 */
#ifndef DLP_STREAM_H
#define DLP_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <openssl/ssl.h>

#include "buf.h"

#define STREAM_RBUF_SIZE  65536
#define STREAM_WBUF_FLUSH 65536
#define STREAM_IOV_MAX    64 /* pieces of one stream_writev() */

enum stream_status {
	STREAM_OK = 0,
	STREAM_EOF = -1,     /* peer closed */
	STREAM_TIMEOUT = -2, /* deadline passed */
	STREAM_IOERR = -3,   /* socket or TLS error */
	STREAM_TOOLONG = -4, /* line over the caller's limit */
};

/* Flags returned with a line. */
#define STREAM_LINE_BARE_LF (1 << 0) /* ended in LF without CR */
#define STREAM_LINE_NUL     (1 << 1) /* holds a NUL byte */
#define STREAM_LINE_BARE_CR (1 << 2) /* holds a CR before its end */

struct stream {
	int fd;
	SSL *ssl;
	char *rbuf;
	size_t rpos; /* first unread byte */
	size_t rlen; /* end of buffered bytes */
	struct buf wbuf;
	int timeout;           /* seconds, per blocking step */
	long long rcv_timeout; /* SO_RCVTIMEO in milliseconds, or -1 */
	int err;               /* sticky enum stream_status */
	int werr;              /* a write failed: nothing more goes out */
	int ssl_err;           /* last SSL_get_error() when err is IOERR */
	uint64_t rbytes;       /* bytes read */
	uint64_t wbytes;       /* bytes written */
};

struct stream *stream_open(int fd, int timeout);
void stream_close(struct stream *s);
void stream_set_ssl(struct stream *s, SSL *ssl);
int stream_fill(struct stream *s);
int stream_getline(struct stream *s, char **line, size_t *len, size_t limit, int *flags);
int stream_skipline(struct stream *s);
int stream_has_line(const struct stream *s);
size_t stream_pending(const struct stream *s);
void stream_discard_input(struct stream *s);
void stream_write(struct stream *s, const void *data, size_t len);
void stream_puts(struct stream *s, const char *str);
void stream_printf(struct stream *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int stream_flush(struct stream *s);
int stream_writev(struct stream *s, const struct iovec *piece, int n);
int stream_wait_readable(struct stream *s, int timeout_ms);
int stream_peek_ready(struct stream *s);
size_t stream_peek(struct stream *s, char *buf, size_t len);
const char *stream_strerror(int status);

#endif
