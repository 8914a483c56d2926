/*
 * unit_haproxy - PROXY protocol headers, v1 and v2, as a load balancer sends them
 *
 * Each header is written into one end of a socket pair and read with
 * proxy_haproxy_read() from the other, followed by the client's first
 * bytes: a header is taken whole and not a byte more, and what is wrong
 * with a bad one is said.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy_haproxy.h"
#include "tap.h"

#define CLIENT "EHLO client\r\n"

static const unsigned char unit_v2sig[12] = {
	0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
};

struct unit_result {
	int rc;
	char why[256];
	char src[INET6_ADDRSTRLEN + 8]; /* "addr port", or "local" */
	char after[64];                 /* what the client said after the header */
};

/* unit_endpoint - "addr port" of a socket address */
static void unit_endpoint(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *) ss;

		inet_ntop(AF_INET, &v4->sin_addr, addr, sizeof(addr));
		port = ntohs(v4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *) ss;

		inet_ntop(AF_INET6, &v6->sin6_addr, addr, sizeof(addr));
		port = ntohs(v6->sin6_port);
	}
	snprintf(out, len, "%s %d", addr, port);
}

/* unit_read - send header then CLIENT (or hang up after it), read it back */
static void unit_read(const void *hdr, size_t len, int hang_up, struct unit_result *r)
{
	struct haproxy_info info;
	int sv[2];
	ssize_t n;

	memset(r, 0, sizeof(*r));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		snprintf(r->why, sizeof(r->why), "socketpair failed");
		r->rc = -3;
		return;
	}
	if (write(sv[1], hdr, len) != (ssize_t) len
	    || (!hang_up && write(sv[1], CLIENT, strlen(CLIENT)) < 0))
		r->rc = -3;
	if (hang_up)
		shutdown(sv[1], SHUT_WR);
	if (r->rc == 0
	    && (r->rc = proxy_haproxy_read(sv[0], 1, &info, r->why, sizeof(r->why))) == 0) {
		if (info.local)
			snprintf(r->src, sizeof(r->src), "local");
		else
			unit_endpoint(&info.src, r->src, sizeof(r->src));
		if ((n = recv(sv[0], r->after, sizeof(r->after) - 1, MSG_DONTWAIT)) > 0)
			r->after[n] = 0;
	}
	close(sv[0]);
	close(sv[1]);
}

/* unit_v1 - a v1 line that must give src, and the client's bytes after it */
static void unit_v1(const char *line, const char *src)
{
	struct unit_result r;

	unit_read(line, strlen(line), 0, &r);
	tap_ok(r.rc == 0, "v1 accepted: %.*s%s", (int) strcspn(line, "\r\n"), line, r.why);
	tap_is_str(r.src, src, "the client is %s", src);
	tap_is_str(r.after, CLIENT, "and the client's own bytes are left to read");
}

/* unit_bad - a header that must be refused with why */
static void unit_bad(const void *hdr, size_t len, int hang_up, const char *why,
		     const char *name)
{
	struct unit_result r;

	unit_read(hdr, len, hang_up, &r);
	tap_ok(r.rc == -1, "refused: %s", name);
	tap_is_str(r.why, why, "saying why");
}

/* unit_v2 - a v2 header: signature, command, family, block */
static size_t unit_v2(unsigned char *out, int cmd, int fam, const void *block, size_t len)
{
	memcpy(out, unit_v2sig, 12);
	out[12] = (unsigned char) (0x20 | cmd);
	out[13] = (unsigned char) fam;
	out[14] = (unsigned char) (len >> 8);
	out[15] = (unsigned char) len;
	memcpy(out + 16, block, len);
	return 16 + len;
}

int main(void)
{
	/* 192.0.2.1 -> 198.51.100.2, ports 40312 and 25 */
	static const unsigned char v4[12] = {192, 0, 2, 1, 198, 51, 100, 2, 0x9d, 0x78, 0, 25};
	/* ... with a CRC32C TLV (0x50fe19e8, over the header with the value zeroed) */
	static const unsigned char v4crc[19] = {192, 0,    2,    1,    198, 51, 100,
						2,   0x9d, 0x78, 0,    25,  3,  0,
						4,   0x50, 0xfe, 0x19, 0xe8};
	/* v1 lines that must be refused, and why */
	static const struct {
		const char *line, *why, *name;
	} v1bad[] = {
		{"PROXY TCP4 192.0.2.1  198.51.100.2 40312 25\r\n",
		 "v1 header needs exactly 6 fields separated by single spaces", "two spaces"},
		{"PROXY TCP4 192.0.2.1 198.51.100.2 040312 25\r\n",
		 "bad TCP4 address or port in v1 header", "a port with a leading zero"},
		{"PROXY TCP4 192.0.2.1 198.51.100.2 65536 25\r\n",
		 "bad TCP4 address or port in v1 header", "port 65536"},
		{"PROXY TCP4 2001:db8::1 198.51.100.2 1 25\r\n",
		 "bad TCP4 address or port in v1 header", "an IPv6 address in TCP4"},
		{"PROXY UDP4 192.0.2.1 198.51.100.2 1 25\r\n", "bad v1 protocol 'UDP4'", "UDP"},
		{"PROXY TCP4 192.0.2.1 198.51.100.2 1 25\n", "v1 header does not end in CRLF",
		 "a bare LF"},
	};
	unsigned char hdr[2100], block[2100] = {0};
	struct unit_result r;
	size_t n;
	char v1long[200];

	unit_v1("PROXY TCP4 192.0.2.1 198.51.100.2 40312 25\r\n", "192.0.2.1 40312");
	unit_v1("PROXY TCP6 2001:db8::1 2001:db8::2 65535 25\r\n", "2001:db8::1 65535");
	unit_v1("PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2\r\n", "local");
	for (size_t i = 0; i < sizeof(v1bad) / sizeof(v1bad[0]); i++)
		unit_bad(v1bad[i].line, strlen(v1bad[i].line), 0, v1bad[i].why, v1bad[i].name);
	memset(v1long, '1', sizeof(v1long));
	memcpy(v1long, "PROXY TCP4 ", 11);
	unit_bad(v1long, sizeof(v1long), 0, "v1 header longer than 107 bytes", "a long line");
	unit_bad("EHLO client\r\n", 13, 0,
		 "no PROXY header (the connection starts with something else)",
		 "a client that speaks SMTP at once");
	unit_bad("PROXY TCP4 192.0.2.1", 20, 1,
		 "connection closed before the end of the PROXY header", "a header cut short");
	{
		struct unit_result r;

		unit_read("", 0, 1, &r);
		tap_ok(r.rc == -2, "a peer gone before its first byte is told apart (rc %d)",
		       r.rc);
	}

	n = unit_v2(hdr, 1, 0x11, v4, sizeof(v4));
	memcpy(hdr + n, CLIENT, strlen(CLIENT));
	unit_read(hdr, n, 0, &r);
	tap_ok(r.rc == 0, "v2 TCP4 accepted %s", r.why);
	tap_is_str(r.src, "192.0.2.1 40312", "the client is 192.0.2.1 40312");
	tap_is_str(r.after, CLIENT, "and its bytes are left to read");
	n = unit_v2(hdr, 1, 0x11, v4crc, sizeof(v4crc));
	unit_read(hdr, n, 0, &r);
	tap_ok(r.rc == 0 && strcmp(r.src, "192.0.2.1 40312") == 0,
	       "v2 with a good CRC32C TLV accepted %s", r.why);
	hdr[n - 1] ^= 1;
	unit_bad(hdr, n, 0, "CRC32C mismatch in v2 header", "v2 with a bad CRC32C");
	n = unit_v2(hdr, 0, 0x00, "", 0);
	unit_read(hdr, n, 0, &r);
	tap_is_str(r.src, "local", "v2 LOCAL: the connection's own endpoints stand");
	n = unit_v2(hdr, 1, 0x12, v4, sizeof(v4));
	unit_bad(hdr, n, 0, "v2 header for a datagram connection", "v2 UDP");
	n = unit_v2(hdr, 1, 0x11, v4, 8);
	unit_bad(hdr, n, 0, "v2 address block too short for family 0x11", "v2 short block");
	n = unit_v2(hdr, 2, 0x11, v4, sizeof(v4));
	unit_bad(hdr, n, 0, "unknown v2 command 2", "v2 command 2");
	n = unit_v2(hdr, 1, 0x11, block, 2049);
	memcpy(hdr + 16, v4, sizeof(v4));
	unit_bad(hdr, n, 0, "v2 header of 2049 bytes (limit 2048)", "v2 too long");
	n = unit_v2(hdr, 1, 0x11, v4crc, sizeof(v4crc) - 1);
	unit_bad(hdr, n, 0, "TLV longer than the v2 header", "v2 TLV past the end");
	return tap_done();
}
