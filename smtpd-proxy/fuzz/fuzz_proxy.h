/*
 * fuzz_proxy - peers that say exactly what the fuzzer says, in its chunks
 *
 * The smtpd-proxy harnesses are linked with -Wl,--wrap=read,--wrap=recv,
 * --wrap=send,--wrap=close: a descriptor registered here as a fuzz_peer is not a real
 * connection. Its "input" arrives in chunks whose sizes the input itself
 * chooses (a read never returns bytes of two chunks, so every way a TCP
 * peer's bytes may be split is reachable, deterministically), and what
 * the proxy sends to it is collected in "output". When a peer has said
 * all it has, its more() callback may answer what the proxy sent so far
 * (a next hop, a detector); otherwise the peer hangs up (EOF) or stays
 * silent (EAGAIN: the proxy's timeout, at once). A peer with a send_limit
 * takes that many bytes and then fails every send (EPIPE), counting the
 * sends tried after the first failure. Other descriptors go to the real
 * calls.
 *
 * The registered descriptor is a real eventfd with a count, so poll()
 * finds it readable and fcntl() and setsockopt() do no harm.
 *
 * The harnesses include the proxy's .c files with static parsers
 * (proxy_session.c, proxy_nexthop.c, proxy_detect.c) and link the others.
 */
#ifndef DLP_FUZZ_PROXY_H
#define DLP_FUZZ_PROXY_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "fuzz_util.h"

#define FUZZ_PEERS 4

struct fuzz_peer {
	int fd;                /* what the proxy holds; -1: unused */
	struct buf in;         /* everything the peer will have said */
	size_t arrived;        /* of which this much has arrived */
	size_t taken;          /* and this much was read */
	const uint8_t *chunks; /* chunk sizes, cycled */
	size_t nchunks, ci;
	int silent;                       /* at the end: 1 EAGAIN, 0 EOF */
	struct buf out;                   /* what the proxy sent to it */
	int (*more)(struct fuzz_peer *p); /* add to in; 0: nothing */
	void *ctx;
	size_t send_limit; /* 0: none; else sends fail beyond it */
	int send_failed;   /* a send failed */
	int sends_after;   /* sends tried after that */
};

static struct fuzz_peer fuzz_peers[FUZZ_PEERS];

int __real_close(int fd);
int __wrap_close(int fd);
ssize_t __real_read(int fd, void *buf, size_t len);
ssize_t __real_recv(int fd, void *buf, size_t len, int flags);
ssize_t __real_send(int fd, const void *buf, size_t len, int flags);
ssize_t __wrap_read(int fd, void *buf, size_t len);
ssize_t __wrap_recv(int fd, void *buf, size_t len, int flags);
ssize_t __wrap_send(int fd, const void *buf, size_t len, int flags);
ssize_t __real_sendmsg(int fd, const struct msghdr *mh, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags);

/* fuzz_peer_new - a fake connection; its descriptor is the caller's to close */
static inline struct fuzz_peer *fuzz_peer_new(const void *in, size_t inlen,
					      const uint8_t *chunks, size_t nchunks)
{
	for (int i = 0; i < FUZZ_PEERS; i++) {
		struct fuzz_peer *p = &fuzz_peers[i];

		if (p->in.data)
			continue;
		memset(p, 0, sizeof(*p));
		if ((p->fd = eventfd(1, EFD_CLOEXEC)) < 0)
			abort();
		buf_init(&p->in, inlen + 1);
		buf_append(&p->in, in, inlen);
		buf_init(&p->out, 4096);
		p->chunks = chunks;
		p->nchunks = nchunks;
		return p;
	}
	abort();
}

/* fuzz_peer_free - forget a peer (its descriptor closed or to be closed) */
static inline void fuzz_peer_free(struct fuzz_peer *p)
{
	buf_free(&p->in);
	buf_free(&p->out);
	p->fd = -1;
}

/* __wrap_close - a peer's descriptor closed: its number may come back */
int __wrap_close(int fd)
{
	for (int i = 0; i < FUZZ_PEERS; i++)
		if (fuzz_peers[i].fd == fd && fd >= 0)
			fuzz_peers[i].fd = -2; /* closed; what it got stays */
	return __real_close(fd);
}

/* fuzz_peers_init - no peers yet */
static inline void fuzz_peers_init(void)
{
	for (int i = 0; i < FUZZ_PEERS; i++)
		fuzz_peers[i].fd = -1;
}

/* fuzz_peer_of - the peer behind a descriptor, or NULL */
static inline struct fuzz_peer *fuzz_peer_of(int fd)
{
	for (int i = 0; i < FUZZ_PEERS; i++)
		if (fuzz_peers[i].fd == fd && fd >= 0 && fuzz_peers[i].in.data)
			return &fuzz_peers[i];
	return NULL;
}

/* fuzz_peer_chunk - the size of the next chunk to arrive */
static inline size_t fuzz_peer_chunk(struct fuzz_peer *p)
{
	unsigned b;

	if (p->nchunks == 0)
		return 65536;
	b = p->chunks[p->ci++ % p->nchunks];
	return b < 128 ? b + 1 : (size_t) (b - 127) * 97;
}

/* fuzz_peer_get - read or peek; what read() and recv() would return */
static inline ssize_t fuzz_peer_get(struct fuzz_peer *p, void *buf, size_t len, int peek)
{
	size_t n;

	if (p->taken == p->arrived) {
		if (p->arrived == p->in.len && (p->more == NULL || p->more(p) == 0)) {
			if (p->silent) {
				errno = EAGAIN;
				return -1;
			}
			return 0;
		}
		n = fuzz_peer_chunk(p);
		p->arrived += n < p->in.len - p->arrived ? n : p->in.len - p->arrived;
	}
	n = p->arrived - p->taken < len ? p->arrived - p->taken : len;
	memcpy(buf, p->in.data + p->taken, n);
	if (!peek)
		p->taken += n;
	return (ssize_t) n;
}

ssize_t __wrap_read(int fd, void *buf, size_t len)
{
	struct fuzz_peer *p = fuzz_peer_of(fd);

	return p ? fuzz_peer_get(p, buf, len, 0) : __real_read(fd, buf, len);
}

ssize_t __wrap_recv(int fd, void *buf, size_t len, int flags)
{
	struct fuzz_peer *p = fuzz_peer_of(fd);

	return p ? fuzz_peer_get(p, buf, len, flags & MSG_PEEK)
		 : __real_recv(fd, buf, len, flags);
}

ssize_t __wrap_send(int fd, const void *buf, size_t len, int flags)
{
	struct fuzz_peer *p = fuzz_peer_of(fd);

	if (p == NULL)
		return __real_send(fd, buf, len, flags);
	if (p->send_limit && p->out.len + len > p->send_limit) {
		size_t room = p->send_limit - p->out.len;

		if (room == 0) {
			p->sends_after += p->send_failed;
			p->send_failed = 1;
			errno = EPIPE;
			return -1;
		}
		len = room; /* a short write, then the end */
	}
	buf_append(&p->out, buf, len);
	return (ssize_t) len;
}

/* __wrap_sendmsg - a peer's: the pieces one after the other, as send() takes them */
ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags)
{
	struct fuzz_peer *p = fuzz_peer_of(fd);
	ssize_t total = 0;

	if (p == NULL)
		return __real_sendmsg(fd, mh, flags);
	for (size_t i = 0; i < mh->msg_iovlen; i++) {
		const struct iovec *v = &mh->msg_iov[i];
		ssize_t n;

		if (v->iov_len == 0)
			continue;
		/* a call that sent something returns short; only the next one fails */
		if (total > 0 && p->send_limit && p->out.len >= p->send_limit)
			break;
		n = __wrap_send(fd, v->iov_base, v->iov_len, flags);
		if (n < 0)
			return total > 0 ? total : n;
		total += n;
		if ((size_t) n < v->iov_len)
			break; /* a short write */
	}
	return total;
}

/* fuzz_split - the input as chunk sizes (first byte: how many) and the rest */
static inline void fuzz_split(const uint8_t *data, size_t size, const uint8_t **chunks,
			      size_t *nchunks, const uint8_t **rest, size_t *restlen)
{
	size_t n = size ? data[0] % 16 : 0;

	if (n + 1 > size)
		n = size ? size - 1 : 0;
	*chunks = data + 1;
	*nchunks = n;
	*rest = data + 1 + n;
	*restlen = size > n + 1 ? size - n - 1 : 0;
}

#endif
