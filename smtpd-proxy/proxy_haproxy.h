/*
 * proxy_haproxy - the PROXY protocol (v1 text, v2 binary), receiving side
 *
 * proxy_haproxy_read() reads one PROXY header from a freshly accepted
 * connection, within timeout seconds, and never a byte beyond it: what
 * follows belongs to the SMTP client. It accepts v1 ("PROXY TCP4|TCP6|
 * UNKNOWN ...\r\n", at most 107 bytes) and v2 (the 12-byte signature,
 * version 2, PROXY or LOCAL, at most HAPROXY_V2_MAX bytes of addresses
 * and TLVs). The parse is strict: exact tokens and single spaces in v1,
 * lengths that add up in v2, TLVs walked to the last byte and counted, a
 * CRC32C TLV checked. UDP is refused (SMTP is a stream).
 *
 * On success, info->local says the load balancer spoke for itself (v2
 * LOCAL, as in health checks; v1 UNKNOWN; v2 UNSPEC or UNIX addresses):
 * the connection's own endpoints stand. Otherwise info->src is the real
 * client and info->dst the address it connected to. On failure, -1 and
 * why says what was wrong, for the log; the caller closes the connection.
 * A peer that closes before its first byte gets -2: no header was
 * refused, the peer left (a balancer whose health check timed out while
 * connecting does that).
 */
#ifndef DLP_PROXY_HAPROXY_H
#define DLP_PROXY_HAPROXY_H

#include <sys/socket.h>

#define HAPROXY_V1_MAX  107  /* the whole v1 line, CRLF included */
#define HAPROXY_V2_MAX  2048 /* v2 bytes after the 16-byte header */
#define HAPROXY_TLV_MAX 64   /* TLVs in one v2 header */

struct haproxy_info {
	int version;                 /* 1 or 2 */
	int local;                   /* keep the connection's own endpoints */
	struct sockaddr_storage src; /* the real client */
	socklen_t srclen;
	struct sockaddr_storage dst; /* where it connected */
	socklen_t dstlen;
};

int proxy_haproxy_read(int fd, int timeout, struct haproxy_info *info, char *why,
		       size_t whylen);

#endif
