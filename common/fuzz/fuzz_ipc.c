/*
 * fuzz_ipc - libFuzzer harness for ipc_recv() and the attribute getters
 *
 * Input: one byte that says how many descriptors go with the record
 * (0..7, more than IPC_MAX_FDS on purpose), then the datagram itself, sent
 * over a SOCK_SEQPACKET socketpair exactly as a peer would send it, and
 * received with ipc_recv(). Checked:
 *	- a record that is accepted is indexed exactly: attributes in order,
 *	  inside the record, covering its payload to the last byte;
 *	- every getter stays inside its attribute and ipc_get_str() returns
 *	  only what it promises (no control characters, exact length);
 *	- an accepted record sent again with ipc_put_bytes() and ipc_send()
 *	  comes back byte for byte;
 *	- no descriptor leaks, whatever the record (accepted records' own
 *	  descriptors are closed by the harness, refused ones by ipc_recv).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"
#include "fuzz_util.h"

static int fuzz_sp[2];
static struct ipc_msg fuzz_msg, fuzz_msg2;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int size = 1 << 20;

	fuzz_quiet("fuzz-ipc");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fuzz_sp) < 0)
		abort();
	(void) setsockopt(fuzz_sp[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	(void) setsockopt(fuzz_sp[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return 0;
}

/* fuzz_send - one datagram with nfds descriptors (copies of stdin) */
static void fuzz_send(const uint8_t *data, size_t size, int nfds)
{
	struct iovec iov = {.iov_base = (void *) data, .iov_len = size};
	union {
		struct cmsghdr hdr;
		char space[CMSG_SPACE(sizeof(int) * 8)];
	} ctl;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	int fds[8];

	if (nfds > 0) {
		struct cmsghdr *cm;

		for (int i = 0; i < nfds; i++)
			if ((fds[i] = dup(0)) < 0)
				abort();
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.space;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t) nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t) nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t) nfds);
	}
	if (sendmsg(fuzz_sp[0], &mh, MSG_DONTWAIT) != (ssize_t) size)
		abort();
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

/* fuzz_check_index - the attributes cover the payload exactly */
static void fuzz_check_index(const struct ipc_msg *m, size_t n)
{
	const unsigned char *pos = m->raw + IPC_HDR_LEN;

	if (m->nattr > IPC_MAX_ATTRS)
		abort();
	for (size_t i = 0; i < m->nattr; i++) {
		const struct ipc_attr *a = &m->attr[i];

		if (a->val != pos + 6 || a->val + a->len > m->raw + n)
			abort();
		pos = a->val + a->len;
	}
	if (pos != m->raw + n)
		abort();
}

/* fuzz_check_getters - every getter on every tag that is there */
static void fuzz_check_getters(const struct ipc_msg *m)
{
	static const size_t maxlens[] = {0, 7, 31, 190, 512, 65536};
	char copy[513];

	for (size_t i = 0; i < m->nattr; i++) {
		uint16_t tag = m->attr[i].tag;
		const struct ipc_attr *first = ipc_get(m, tag), *a;
		uint32_t u32;
		uint64_t u64;
		size_t pos = 0, count = 0;

		if (first == NULL || first > &m->attr[i] || first->tag != tag)
			abort();
		while ((a = ipc_next(m, tag, &pos)) != NULL) {
			if (a->tag != tag || pos > m->nattr)
				abort();
			count++;
		}
		if (count == 0)
			abort();
		if ((ipc_get_u32(m, tag, &u32) == 0) != (first->len == 4))
			abort();
		if ((ipc_get_u64(m, tag, &u64) == 0) != (first->len == 8))
			abort();
		for (size_t k = 0; k < sizeof(maxlens) / sizeof(maxlens[0]); k++) {
			const char *s = ipc_get_str(m, tag, maxlens[k], copy, sizeof(copy));

			if (s == NULL)
				continue;
			if (s != copy || strlen(s) != first->len || first->len > maxlens[k]
			    || memcmp(s, first->val, first->len) != 0)
				abort();
			for (const char *cp = s; *cp; cp++)
				if ((unsigned char) *cp < 0x20 || *cp == 0x7f)
					abort();
		}
	}
	(void) ipc_get(m, 0xffff);
}

/* fuzz_round_trip - the accepted record, rebuilt and sent, comes back */
static void fuzz_round_trip(const struct ipc_msg *m, const uint8_t *raw, size_t n)
{
	struct ipc_out out;
	char err[256];

	ipc_out_init(&out, m->type);
	for (size_t i = 0; i < m->nattr; i++)
		ipc_put_bytes(&out, m->attr[i].tag, m->attr[i].val, m->attr[i].len);
	if (ipc_send(fuzz_sp[0], &out, NULL, 0, 1) != IPC_OK)
		abort();
	ipc_out_free(&out);
	if (ipc_recv(fuzz_sp[1], &fuzz_msg2, 0, err, sizeof(err)) != IPC_OK)
		abort();
	if (fuzz_msg2.type != m->type || fuzz_msg2.nattr != m->nattr
	    || memcmp(fuzz_msg2.raw, raw, n) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	int nfds, before, rc;

	if (size < 1 || size > IPC_MAX_MSG + 1024)
		return 0;
	nfds = data[0] % 8;
	data++;
	size--;
	if (size == 0 && nfds == 0)
		return 0; /* that is EOF on a SEQPACKET socket */
	before = fuzz_open_fds();
	fuzz_send(data, size, nfds);
	rc = ipc_recv(fuzz_sp[1], &fuzz_msg, 0, err, sizeof(err));
	if (rc == IPC_OK) {
		if (size > IPC_MAX_MSG || fuzz_msg.nfds > IPC_MAX_FDS || fuzz_msg.nfds != nfds)
			abort();
		fuzz_check_index(&fuzz_msg, size);
		fuzz_check_getters(&fuzz_msg);
		ipc_close_fds(&fuzz_msg);
		fuzz_round_trip(&fuzz_msg, data, size);
	} else if (rc == IPC_BAD) {
		if (*err == 0 || fuzz_msg.nfds != 0)
			abort();
	} else if (!(rc == IPC_EOF && size == 0)) {
		abort(); /* a datagram was there: no timeout, no error */
	}
	if (fuzz_open_fds() != before)
		abort(); /* a descriptor leaked */
	return 0;
}
