/*
 * ipc - records between dlpgate processes over SOCK_SEQPACKET sockets
 *
 * See ipc.h. All integers are in host byte order: both ends are on the
 * same host by construction (Unix sockets).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"
#include "mem.h"
#include "msg.h"

/* ipc_out_init - start a record of the given type */
void ipc_out_init(struct ipc_out *out, uint16_t type)
{
	uint32_t magic = IPC_MAGIC, len = 0;
	uint16_t version = IPC_VERSION;

	buf_init(&out->b, 256);
	out->tail = NULL;
	out->tail_len = 0;
	buf_append(&out->b, &magic, 4);
	buf_append(&out->b, &version, 2);
	buf_append(&out->b, &type, 2);
	buf_append(&out->b, &len, 4);
}

/* ipc_out_free - release a record under construction */
void ipc_out_free(struct ipc_out *out)
{
	buf_free(&out->b);
}

/* ipc_put_bytes - add an attribute */
void ipc_put_bytes(struct ipc_out *out, uint16_t tag, const void *val, size_t len)
{
	uint32_t l = (uint32_t) len;

	if (len > IPC_MAX_MSG)
		msg_panic("ipc_put_bytes: attribute %u too long (%zu)", tag, len);
	if (out->tail)
		msg_panic("ipc_put_bytes: attribute %u after the tail", tag);
	buf_append(&out->b, &tag, 2);
	buf_append(&out->b, &l, 4);
	buf_append(&out->b, val, len);
}

/* ipc_put_tail - the last attribute, sent from val (kept until ipc_send) */
void ipc_put_tail(struct ipc_out *out, uint16_t tag, const void *val, size_t len)
{
	uint32_t l = (uint32_t) len;

	if (len > IPC_MAX_MSG)
		msg_panic("ipc_put_tail: attribute %u too long (%zu)", tag, len);
	if (out->tail)
		msg_panic("ipc_put_tail: attribute %u after the tail", tag);
	buf_append(&out->b, &tag, 2);
	buf_append(&out->b, &l, 4);
	out->tail = val;
	out->tail_len = len;
}

/* ipc_put_str - add a string attribute (without its NUL) */
void ipc_put_str(struct ipc_out *out, uint16_t tag, const char *str)
{
	ipc_put_bytes(out, tag, str, strlen(str));
}

/* ipc_put_u32 - add a 32-bit attribute */
void ipc_put_u32(struct ipc_out *out, uint16_t tag, uint32_t val)
{
	ipc_put_bytes(out, tag, &val, sizeof(val));
}

/* ipc_put_u64 - add a 64-bit attribute */
void ipc_put_u64(struct ipc_out *out, uint16_t tag, uint64_t val)
{
	ipc_put_bytes(out, tag, &val, sizeof(val));
}

/* ipc_wait - poll one fd; IPC_OK, IPC_TIMEOUT or IPC_ERROR */
static int ipc_wait(int fd, short events, int timeout)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int n;

	do {
		n = poll(&pfd, 1, timeout < 0 ? -1 : timeout * 1000);
	} while (n < 0 && errno == EINTR);
	return n > 0 ? IPC_OK : n == 0 ? IPC_TIMEOUT : IPC_ERROR;
}

/* ipc_send - send a record and descriptors within timeout seconds */
int ipc_send(int fd, struct ipc_out *out, const int *fds, int nfds, int timeout)
{
	size_t total = out->b.len + out->tail_len;
	uint32_t len = (uint32_t) (total - IPC_HDR_LEN);
	struct iovec iov[2] = {{.iov_base = out->b.data, .iov_len = out->b.len},
			       {.iov_base = (void *) out->tail, .iov_len = out->tail_len}};
	union {
		struct cmsghdr hdr;
		char space[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
	} ctl;
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = out->tail_len ? 2 : 1};
	ssize_t n;

	if (total > IPC_MAX_MSG)
		msg_panic("ipc_send: record of %zu bytes", total);
	if (nfds < 0 || nfds > IPC_MAX_FDS)
		msg_panic("ipc_send: %d descriptors", nfds);
	memcpy(out->b.data + 8, &len, 4);
	if (nfds > 0) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.space;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t) nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t) nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t) nfds);
	}
	for (;;) {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == (ssize_t) total)
			return IPC_OK;
		if (n >= 0)
			return IPC_ERROR; /* SEQPACKET never sends part */
		if (errno == EINTR)
			continue;
		if (errno == EPIPE || errno == ECONNRESET)
			return IPC_EOF;
		if (errno == EMSGSIZE)
			return IPC_TOOBIG; /* the socket's send buffer is smaller */
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return IPC_ERROR;
		if ((n = ipc_wait(fd, POLLOUT, timeout)) != IPC_OK)
			return (int) n;
	}
}

/* ipc_close_fds - close the descriptors that came with a record */
void ipc_close_fds(struct ipc_msg *msg)
{
	for (int i = 0; i < msg->nfds; i++)
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
	msg->nfds = 0;
}

/* ipc_take_fds - collect SCM_RIGHTS descriptors; -1 if unexpected */
static int ipc_take_fds(struct msghdr *mh, struct ipc_msg *msg)
{
	int bad = 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (msg->nfds < IPC_MAX_FDS)
				msg->fds[msg->nfds++] = fd;
			else {
				close(fd);
				bad = 1;
			}
		}
	}
	return bad ? -1 : 0;
}

/* ipc_parse - check the header and index the attributes */
static int ipc_parse(struct ipc_msg *msg, size_t n, char *err, size_t errlen)
{
	uint32_t magic, plen;
	uint16_t version;
	size_t pos = IPC_HDR_LEN;

	if (n < IPC_HDR_LEN) {
		snprintf(err, errlen, "short record (%zu bytes)", n);
		return IPC_BAD;
	}
	memcpy(&magic, msg->raw, 4);
	memcpy(&version, msg->raw + 4, 2);
	memcpy(&msg->type, msg->raw + 6, 2);
	memcpy(&plen, msg->raw + 8, 4);
	if (magic != IPC_MAGIC || version != IPC_VERSION) {
		snprintf(err, errlen, "bad magic or version");
		return IPC_BAD;
	}
	if (plen != n - IPC_HDR_LEN) {
		snprintf(err, errlen, "length %u does not match record size %zu", plen, n);
		return IPC_BAD;
	}
	msg->nattr = 0;
	while (pos < n) {
		struct ipc_attr *a;
		uint32_t alen;

		if (n - pos < 6 || msg->nattr >= IPC_MAX_ATTRS) {
			snprintf(err, errlen, "truncated or too many attributes");
			return IPC_BAD;
		}
		a = &msg->attr[msg->nattr++];
		memcpy(&a->tag, msg->raw + pos, 2);
		memcpy(&alen, msg->raw + pos + 2, 4);
		pos += 6;
		if (alen > n - pos) {
			snprintf(err, errlen, "attribute %u overruns the record", a->tag);
			return IPC_BAD;
		}
		a->len = alen;
		a->val = msg->raw + pos;
		pos += alen;
	}
	return IPC_OK;
}

/* ipc_recv - receive and check one record within timeout seconds */
int ipc_recv(int fd, struct ipc_msg *msg, int timeout, char *err, size_t errlen)
{
	struct iovec iov = {.iov_base = msg->raw, .iov_len = sizeof(msg->raw)};
	union {
		struct cmsghdr hdr;
		char space[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
	} ctl;
	struct msghdr mh;
	ssize_t n;
	int rc;

	msg->nfds = 0;
	msg->nattr = 0;
	*err = 0;
	/* a caller that may wait usually does: poll first, skip a failed read */
	if (timeout != 0 && (rc = ipc_wait(fd, POLLIN, timeout)) != IPC_OK) {
		snprintf(err, errlen, rc == IPC_TIMEOUT ? "timeout" : "poll error");
		return rc;
	}
	for (;;) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.space;
		mh.msg_controllen = sizeof(ctl.space);
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET)
			return IPC_EOF;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(err, errlen, "recvmsg: %s", strerror(errno));
			return IPC_ERROR;
		}
		if ((rc = ipc_wait(fd, POLLIN, timeout)) != IPC_OK) {
			snprintf(err, errlen, rc == IPC_TIMEOUT ? "timeout" : "poll error");
			return rc;
		}
	}
	if (ipc_take_fds(&mh, msg) < 0 || (mh.msg_flags & MSG_CTRUNC)) {
		ipc_close_fds(msg);
		snprintf(err, errlen, "unexpected or truncated control data");
		return IPC_BAD;
	}
	if (n == 0 && msg->nfds == 0)
		return IPC_EOF;
	if (mh.msg_flags & MSG_TRUNC) {
		ipc_close_fds(msg);
		snprintf(err, errlen, "record longer than %d bytes", IPC_MAX_MSG);
		return IPC_BAD;
	}
	if ((rc = ipc_parse(msg, (size_t) n, err, errlen)) != IPC_OK)
		ipc_close_fds(msg);
	return rc;
}

/* ipc_next - the next attribute with tag at or after *pos, or NULL */
const struct ipc_attr *ipc_next(const struct ipc_msg *msg, uint16_t tag, size_t *pos)
{
	for (; *pos < msg->nattr; (*pos)++)
		if (msg->attr[*pos].tag == tag)
			return &msg->attr[(*pos)++];
	return NULL;
}

/* ipc_get - the first attribute with tag, or NULL */
const struct ipc_attr *ipc_get(const struct ipc_msg *msg, uint16_t tag)
{
	size_t pos = 0;

	return ipc_next(msg, tag, &pos);
}

/* ipc_get_u32 - a 32-bit attribute; -1 if missing or of the wrong size */
int ipc_get_u32(const struct ipc_msg *msg, uint16_t tag, uint32_t *val)
{
	const struct ipc_attr *a = ipc_get(msg, tag);

	if (a == NULL || a->len != sizeof(*val))
		return -1;
	memcpy(val, a->val, sizeof(*val));
	return 0;
}

/* ipc_get_u64 - a 64-bit attribute; -1 if missing or of the wrong size */
int ipc_get_u64(const struct ipc_msg *msg, uint16_t tag, uint64_t *val)
{
	const struct ipc_attr *a = ipc_get(msg, tag);

	if (a == NULL || a->len != sizeof(*val))
		return -1;
	memcpy(val, a->val, sizeof(*val));
	return 0;
}

/* ipc_get_str - copy a text attribute; NULL if missing, long, or binary */
const char *ipc_get_str(const struct ipc_msg *msg, uint16_t tag, size_t maxlen, char *copy,
			size_t copylen)
{
	const struct ipc_attr *a = ipc_get(msg, tag);

	if (a == NULL || a->len > maxlen || a->len >= copylen)
		return NULL;
	for (uint32_t i = 0; i < a->len; i++)
		if (a->val[i] < 0x20 || a->val[i] == 0x7f)
			return NULL;
	memcpy(copy, a->val, a->len);
	copy[a->len] = 0;
	return copy;
}

/* ipc_peer_cred - the uid and pid of the process at the other end */
int ipc_peer_cred(int fd, uid_t *uid, pid_t *pid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -1;
	*uid = cred.uid;
	*pid = cred.pid;
	return 0;
}
