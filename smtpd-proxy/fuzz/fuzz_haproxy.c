/*
 * fuzz_haproxy - libFuzzer harness for the PROXY protocol header
 *
 * Input: chunk sizes (fuzz_proxy.h), then what a load balancer (or anyone
 * who reaches the port) sends on a fresh connection, followed by EOF.
 * proxy_haproxy_read() is checked against what proxy_haproxy.h promises:
 *	- it never reads a byte beyond the header: on success exactly the
 *	  v1 line (up to its first CRLF) or the 16 bytes of a v2 header
 *	  and the length they announce were taken, never more;
 *	- a v1 line is at most HAPROXY_V1_MAX bytes, a v2 header at most
 *	  16 + HAPROXY_V2_MAX;
 *	- an accepted header either keeps the connection's endpoints
 *	  (local) or gives an IPv4 or IPv6 source and destination of the
 *	  family's own length;
 *	- a refused one says why (the caller then closes the connection, so
 *	  what was read of it no longer matters).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "../proxy_haproxy.h"
#include "fuzz_proxy.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet("fuzz-haproxy");
	fuzz_peers_init();
	return 0;
}

/* fuzz_header_len - how long the header at the start of in is; 0: none */
static size_t fuzz_header_len(const uint8_t *in, size_t len)
{
	if (len >= 16 && in[0] == 0x0D) {
		size_t n = 16 + ((size_t) in[14] << 8 | in[15]);

		return n <= len ? n : 0;
	}
	for (size_t i = 0; i + 1 < len; i++)
		if (in[i] == '\r' && in[i + 1] == '\n')
			return i + 2;
	return 0;
}

/* fuzz_addr_ok - a family and length that go together */
static int fuzz_addr_ok(const struct sockaddr_storage *sa, socklen_t len)
{
	return (sa->ss_family == AF_INET && len == sizeof(struct sockaddr_in))
		|| (sa->ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *chunks, *rest;
	size_t nchunks, restlen, hlen;
	struct fuzz_peer *lb;
	struct haproxy_info info;
	char why[256] = "";
	int rc;

	if (size > 1 << 16)
		return 0;
	fuzz_split(data, size, &chunks, &nchunks, &rest, &restlen);
	lb = fuzz_peer_new(rest, restlen, chunks, nchunks);
	rc = proxy_haproxy_read(lb->fd, 5, &info, why, sizeof(why));
	if (rc == 0) {
		hlen = fuzz_header_len(rest, restlen);
		if (hlen == 0 || lb->taken != hlen)
			abort();
		if (info.version == 1           ? hlen > HAPROXY_V1_MAX
			    : info.version == 2 ? hlen > 16 + HAPROXY_V2_MAX
						: 1)
			abort();
		if (!info.local
		    && (!fuzz_addr_ok(&info.src, info.srclen)
			|| !fuzz_addr_ok(&info.dst, info.dstlen)
			|| info.src.ss_family != info.dst.ss_family))
			abort();
	} else if (rc != -1 || why[0] == 0 || strlen(why) >= sizeof(why)) {
		abort();
	} else if (lb->taken > restlen) {
		abort();
	}
	__wrap_close(lb->fd);
	fuzz_peer_free(lb);
	return 0;
}
