/*
 * proxy_haproxy - the PROXY protocol (v1 text, v2 binary), receiving side
 *
 * See proxy_haproxy.h. Reading never goes past the header: the first 8
 * bytes (shorter than any valid header of either version) decide the
 * version and are checked as they arrive, so a plain SMTP client is
 * turned away at its first bytes instead of at the timeout; v2 then
 * reads exactly the length it announces; v1 peeks for its LF and takes
 * the line up to it. Bytes that arrive before a header is complete are
 * part of it or make it invalid, so consuming them can never eat client
 * data that follows a good header.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "proxy_haproxy.h"

#define V2_HDR          16 /* signature, ver/cmd, family, length */
#define V2_SIG_LEN      12
#define PP2_TYPE_CRC32C 0x03

static const uint8_t haproxy_v2sig[V2_SIG_LEN] = {
	0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
};

/* haproxy_now_ms - a monotonic clock in milliseconds */
static int64_t haproxy_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* haproxy_wait - wait until readable; 0 ready, -1 with why */
static int haproxy_wait(int fd, int64_t until, char *why, size_t whylen)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	for (;;) {
		int64_t left = until - haproxy_now_ms();
		int n;

		if (left <= 0) {
			snprintf(why, whylen, "timeout before the end of the PROXY header");
			return -1;
		}
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int) left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR) {
			snprintf(why, whylen, "poll: %s", strerror(errno));
			return -1;
		}
	}
}

/* haproxy_recv - one recv of at most len bytes; >0, or -1 with why (-2: peer closed) */
static ssize_t haproxy_recv(int fd, uint8_t *buf, size_t len, int flags, int64_t until,
			    char *why, size_t whylen)
{
	for (;;) {
		ssize_t n;

		if (haproxy_wait(fd, until, why, whylen) < 0)
			return -1;
		n = recv(fd, buf, len, flags | MSG_DONTWAIT);
		if (n > 0)
			return n;
		if (n == 0) {
			snprintf(why, whylen,
				 "connection closed before the end of the "
				 "PROXY header");
			return -2;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			snprintf(why, whylen, "recv: %s", strerror(errno));
			return errno == ECONNRESET ? -2 : -1;
		}
	}
}

/* haproxy_read_exact - read until buf holds want bytes */
static int haproxy_read_exact(int fd, uint8_t *buf, size_t *have, size_t want, int64_t until,
			      char *why, size_t whylen)
{
	while (*have < want) {
		ssize_t n = haproxy_recv(fd, buf + *have, want - *have, 0, until, why, whylen);

		if (n < 0)
			return -1;
		*have += (size_t) n;
	}
	return 0;
}

/* haproxy_prefix_ok - could these first bytes start a header? */
static int haproxy_prefix_ok(const uint8_t *buf, size_t have)
{
	size_t n1 = have < 6 ? have : 6, n2 = have < V2_SIG_LEN ? have : V2_SIG_LEN;

	return memcmp(buf, "PROXY ", n1) == 0 || memcmp(buf, haproxy_v2sig, n2) == 0;
}

/* haproxy_port - a decimal port, 0..65535, no sign, no leading zeros */
static int haproxy_port(const char *text, uint16_t *port)
{
	unsigned long n = 0;
	size_t len = strlen(text);

	if (len == 0 || len > 5 || (len > 1 && text[0] == '0'))
		return -1;
	for (const char *cp = text; *cp; cp++) {
		if (*cp < '0' || *cp > '9')
			return -1;
		n = n * 10 + (unsigned long) (*cp - '0');
	}
	if (n > 65535)
		return -1;
	*port = (uint16_t) n;
	return 0;
}

/* haproxy_v1_addr - one address and port of a v1 line */
static int haproxy_v1_addr(int family, const char *addr, const char *port,
			   struct sockaddr_storage *ss, socklen_t *len)
{
	uint16_t p;

	memset(ss, 0, sizeof(*ss));
	if (haproxy_port(port, &p) < 0)
		return -1;
	if (family == AF_INET) {
		struct sockaddr_in *v4 = (struct sockaddr_in *) ss;

		if (inet_pton(AF_INET, addr, &v4->sin_addr) != 1)
			return -1;
		v4->sin_family = AF_INET;
		v4->sin_port = htons(p);
		*len = sizeof(*v4);
	} else {
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) ss;

		if (inet_pton(AF_INET6, addr, &v6->sin6_addr) != 1)
			return -1;
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(p);
		*len = sizeof(*v6);
	}
	return 0;
}

/* haproxy_v1_parse - "PROXY TCP4 src dst sport dport" (CRLF removed) */
static int haproxy_v1_parse(char *line, struct haproxy_info *info, char *why, size_t whylen)
{
	char *tok[7], *cp = line;
	int ntok = 0, family;

	info->version = 1;
	for (char *p = line; *p; p++) {
		if (((unsigned char) *p < 0x21 && *p != ' ') || (unsigned char) *p > 0x7e) {
			snprintf(why, whylen, "control character in v1 header");
			return -1;
		}
	}
	while (ntok < 7 && cp) {
		tok[ntok++] = strsep(&cp, " ");
		/* UNKNOWN may be followed by anything; the rest is ignored */
		if (ntok == 2 && strcmp(tok[1], "UNKNOWN") == 0) {
			info->local = 1;
			return 0;
		}
	}
	if (strcmp(tok[0], "PROXY") != 0 || ntok < 2) {
		snprintf(why, whylen, "bad v1 header");
		return -1;
	}
	if (strcmp(tok[1], "TCP4") == 0)
		family = AF_INET;
	else if (strcmp(tok[1], "TCP6") == 0)
		family = AF_INET6;
	else {
		snprintf(why, whylen, "bad v1 protocol '%.10s'", tok[1]);
		return -1;
	}
	if (ntok != 6 || cp != NULL) {
		snprintf(why, whylen,
			 "v1 header needs exactly 6 fields separated by "
			 "single spaces");
		return -1;
	}
	if (haproxy_v1_addr(family, tok[2], tok[4], &info->src, &info->srclen) < 0
	    || haproxy_v1_addr(family, tok[3], tok[5], &info->dst, &info->dstlen) < 0) {
		snprintf(why, whylen, "bad %s address or port in v1 header", tok[1]);
		return -1;
	}
	return 0;
}

/* haproxy_v1 - read the rest of a v1 line and parse it */
static int haproxy_v1(int fd, uint8_t *buf, size_t have, int64_t until,
		      struct haproxy_info *info, char *why, size_t whylen)
{
	uint8_t *lf = memchr(buf, '\n', have);

	while (lf == NULL && have < HAPROXY_V1_MAX) {
		ssize_t n = haproxy_recv(fd, buf + have, HAPROXY_V1_MAX - have, MSG_PEEK, until,
					 why, whylen);
		size_t take;

		if (n < 0)
			return -1;
		lf = memchr(buf + have, '\n', (size_t) n);
		take = lf ? (size_t) (lf - (buf + have)) + 1 : (size_t) n;
		/* the bytes were peeked: they are there to take */
		if (recv(fd, buf + have, take, MSG_DONTWAIT) != (ssize_t) take) {
			snprintf(why, whylen, "recv: %s", strerror(errno));
			return -1;
		}
		lf = lf ? buf + have + take - 1 : NULL;
		have += take;
	}
	if (lf == NULL) {
		snprintf(why, whylen, "v1 header longer than %d bytes", HAPROXY_V1_MAX);
		return -1;
	}
	if (lf == buf || lf[-1] != '\r') {
		snprintf(why, whylen, "v1 header does not end in CRLF");
		return -1;
	}
	lf[-1] = 0;
	if (memchr(buf, 0, (size_t) (lf - 1 - buf)) != NULL) {
		snprintf(why, whylen, "NUL in v1 header");
		return -1;
	}
	return haproxy_v1_parse((char *) buf, info, why, whylen);
}

/* haproxy_crc32c - CRC-32C (Castagnoli), as PP2_TYPE_CRC32C uses it */
static uint32_t haproxy_crc32c(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xFFFFFFFFu;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	return ~crc;
}

/* haproxy_v2_tlvs - walk the TLVs to the last byte; check a CRC32C */
static int haproxy_v2_tlvs(uint8_t *hdr, size_t total, size_t off, char *why, size_t whylen)
{
	int count = 0;

	while (off < total) {
		size_t vlen;
		uint8_t type;

		if (total - off < 3) {
			snprintf(why, whylen, "truncated TLV in v2 header");
			return -1;
		}
		if (++count > HAPROXY_TLV_MAX) {
			snprintf(why, whylen, "more than %d TLVs in v2 header",
				 HAPROXY_TLV_MAX);
			return -1;
		}
		type = hdr[off];
		vlen = ((size_t) hdr[off + 1] << 8) | hdr[off + 2];
		if (vlen > total - off - 3) {
			snprintf(why, whylen, "TLV longer than the v2 header");
			return -1;
		}
		if (type == PP2_TYPE_CRC32C) {
			uint8_t *v = hdr + off + 3;
			uint32_t want;

			if (vlen != 4) {
				snprintf(why, whylen, "bad CRC32C TLV length");
				return -1;
			}
			want = ((uint32_t) v[0] << 24) | ((uint32_t) v[1] << 16)
				| ((uint32_t) v[2] << 8) | v[3];
			memset(v, 0, 4);
			if (haproxy_crc32c(hdr, total) != want) {
				snprintf(why, whylen, "CRC32C mismatch in v2 header");
				return -1;
			}
		}
		off += 3 + vlen;
	}
	return 0;
}

/* haproxy_v2_addrs - the address block of a v2 PROXY command */
static int haproxy_v2_addrs(const uint8_t *a, uint8_t fam, size_t len,
			    struct haproxy_info *info, size_t *used, char *why, size_t whylen)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *) &info->src;
	struct sockaddr_in *d4 = (struct sockaddr_in *) &info->dst;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &info->src;
	struct sockaddr_in6 *d6 = (struct sockaddr_in6 *) &info->dst;

	switch (fam) {
	case 0x11: /* TCP over IPv4 */
		if (len < 12)
			break;
		s4->sin_family = d4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a, 4);
		memcpy(&d4->sin_addr, a + 4, 4);
		memcpy(&s4->sin_port, a + 8, 2);
		memcpy(&d4->sin_port, a + 10, 2);
		info->srclen = info->dstlen = sizeof(struct sockaddr_in);
		*used = 12;
		return 0;
	case 0x21: /* TCP over IPv6 */
		if (len < 36)
			break;
		s6->sin6_family = d6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a, 16);
		memcpy(&d6->sin6_addr, a + 16, 16);
		memcpy(&s6->sin6_port, a + 32, 2);
		memcpy(&d6->sin6_port, a + 34, 2);
		info->srclen = info->dstlen = sizeof(struct sockaddr_in6);
		*used = 36;
		return 0;
	case 0x00: /* UNSPEC: keep the real endpoints */
		info->local = 1;
		*used = 0;
		return 0;
	case 0x31: /* UNIX stream: no IP to speak of */
		if (len < 216)
			break;
		info->local = 1;
		*used = 216;
		return 0;
	case 0x12:
	case 0x22:
	case 0x32:
		snprintf(why, whylen, "v2 header for a datagram connection");
		return -1;
	default:
		snprintf(why, whylen, "unknown v2 address family 0x%02x", fam);
		return -1;
	}
	snprintf(why, whylen, "v2 address block too short for family 0x%02x", fam);
	return -1;
}

/* haproxy_v2 - read the rest of a v2 header and parse it */
static int haproxy_v2(int fd, uint8_t *buf, size_t have, int64_t until,
		      struct haproxy_info *info, char *why, size_t whylen)
{
	size_t len, used = 0;
	uint8_t cmd, fam;

	info->version = 2;
	if (haproxy_read_exact(fd, buf, &have, V2_HDR, until, why, whylen) < 0)
		return -1;
	if (memcmp(buf, haproxy_v2sig, V2_SIG_LEN) != 0) {
		snprintf(why, whylen, "bad v2 signature");
		return -1;
	}
	if ((buf[12] & 0xF0) != 0x20) {
		snprintf(why, whylen, "unsupported PROXY protocol version %d", buf[12] >> 4);
		return -1;
	}
	cmd = buf[12] & 0x0F;
	fam = buf[13];
	len = ((size_t) buf[14] << 8) | buf[15];
	if (cmd > 1) {
		snprintf(why, whylen, "unknown v2 command %d", cmd);
		return -1;
	}
	if (len > HAPROXY_V2_MAX) {
		snprintf(why, whylen, "v2 header of %zu bytes (limit %d)", len, HAPROXY_V2_MAX);
		return -1;
	}
	if (haproxy_read_exact(fd, buf, &have, V2_HDR + len, until, why, whylen) < 0)
		return -1;
	if (cmd == 0) {
		/* LOCAL: the balancer itself (health checks); block ignored */
		info->local = 1;
		return 0;
	}
	if (haproxy_v2_addrs(buf + V2_HDR, fam, len, info, &used, why, whylen) < 0)
		return -1;
	return haproxy_v2_tlvs(buf, V2_HDR + len, V2_HDR + used, why, whylen);
}

/* proxy_haproxy_read - one PROXY header, v1 or v2, within timeout seconds */
int proxy_haproxy_read(int fd, int timeout, struct haproxy_info *info, char *why, size_t whylen)
{
	uint8_t buf[V2_HDR + HAPROXY_V2_MAX + 1];
	int64_t until = haproxy_now_ms() + (int64_t) timeout * 1000;
	size_t have = 0;

	memset(info, 0, sizeof(*info));
	while (have < 8) {
		ssize_t n = haproxy_recv(fd, buf + have, 8 - have, 0, until, why, whylen);

		if (n == -2 && have == 0)
			return -2;
		if (n < 0)
			return -1;
		have += (size_t) n;
		if (!haproxy_prefix_ok(buf, have)) {
			snprintf(why, whylen,
				 "no PROXY header (the connection starts "
				 "with something else)");
			return -1;
		}
	}
	if (buf[0] == 'P')
		return haproxy_v1(fd, buf, have, until, info, why, whylen);
	return haproxy_v2(fd, buf, have, until, info, why, whylen);
}
