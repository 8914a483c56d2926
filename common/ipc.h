/*
 * ipc - records between dlpgate processes over SOCK_SEQPACKET sockets
 *
 * A record is one datagram: a 12-byte header {magic "DLPG", version,
 * type, payload length} and a payload of attributes {u16 tag, u32 length,
 * bytes}. Up to IPC_MAX_FDS descriptors travel with a record (SCM_RIGHTS).
 * Bulk data (messages, envelopes) goes in sealed memfds, never in records.
 *
 * ipc_recv() checks everything before the caller sees a field: the whole
 * record arrived (no MSG_TRUNC, no MSG_CTRUNC), magic, version, length,
 * every attribute inside the payload. A bad record closes the descriptors
 * that came with it and is reported as an error; the caller then drops the
 * connection. Getters check the tag exists and the length is exact;
 * ipc_get_str() also refuses embedded NULs and control characters.
 */
#ifndef DLP_IPC_H
#define DLP_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define IPC_MAGIC     0x444c5047 /* "DLPG" */
#define IPC_VERSION   1
#define IPC_MAX_MSG   (256 * 1024)
#define IPC_MAX_ATTRS 512
#define IPC_MAX_FDS   4
#define IPC_HDR_LEN   12

struct ipc_attr {
	uint16_t tag;
	uint32_t len;
	const unsigned char *val;
};

struct ipc_msg {
	uint16_t type;
	size_t nattr;
	struct ipc_attr attr[IPC_MAX_ATTRS];
	int fds[IPC_MAX_FDS];
	int nfds;
	unsigned char raw[IPC_MAX_MSG];
};

struct ipc_out {
	struct buf b;
	const void *tail; /* the last attribute's value, not copied */
	size_t tail_len;
};

enum ipc_status {
	IPC_OK = 0,
	IPC_EOF = -1,
	IPC_TIMEOUT = -2,
	IPC_ERROR = -3,  /* socket error */
	IPC_BAD = -4,    /* malformed record */
	IPC_TOOBIG = -5, /* longer than the socket takes: nothing sent */
};

void ipc_out_init(struct ipc_out *out, uint16_t type);
void ipc_out_free(struct ipc_out *out);
void ipc_put_bytes(struct ipc_out *out, uint16_t tag, const void *val, size_t len);
void ipc_put_str(struct ipc_out *out, uint16_t tag, const char *str);
void ipc_put_u32(struct ipc_out *out, uint16_t tag, uint32_t val);
void ipc_put_u64(struct ipc_out *out, uint16_t tag, uint64_t val);
void ipc_put_tail(struct ipc_out *out, uint16_t tag, const void *val, size_t len);
int ipc_send(int fd, struct ipc_out *out, const int *fds, int nfds, int timeout);
int ipc_recv(int fd, struct ipc_msg *msg, int timeout, char *err, size_t errlen);
void ipc_close_fds(struct ipc_msg *msg);

const struct ipc_attr *ipc_get(const struct ipc_msg *msg, uint16_t tag);
const struct ipc_attr *ipc_next(const struct ipc_msg *msg, uint16_t tag, size_t *pos);
int ipc_get_u32(const struct ipc_msg *msg, uint16_t tag, uint32_t *val);
int ipc_get_u64(const struct ipc_msg *msg, uint16_t tag, uint64_t *val);
const char *ipc_get_str(const struct ipc_msg *msg, uint16_t tag, size_t maxlen, char *copy,
			size_t copylen);
int ipc_peer_cred(int fd, uid_t *uid, pid_t *pid);

#endif
