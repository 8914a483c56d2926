/*
 * inet - socket addresses, listeners, timed connects, CIDR lists
 *
 * See inet.h. Functions that can fail because of configuration or the
 * network return -1 and describe the reason in err; they do not log.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

#include "inet.h"
#include "mem.h"
#include "msg.h"

/* inet_split_hostport - split "host:port" forms into host and port */
int inet_split_hostport(const char *spec, char *host, size_t hostlen, char *port,
			size_t portlen, const char *defport)
{
	const char *colon;
	size_t hlen;

	if (*spec == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL)
			return -1;
		hlen = (size_t) (end - spec - 1);
		if (hlen == 0 || hlen >= hostlen)
			return -1;
		memcpy(host, spec + 1, hlen);
		host[hlen] = 0;
		if (end[1] == 0)
			return strlcpy(port, defport ? defport : "", portlen) < portlen ? 0
											: -1;
		if (end[1] != ':' || end[2] == 0)
			return -1;
		return strlcpy(port, end + 2, portlen) < portlen ? 0 : -1;
	}
	colon = strrchr(spec, ':');
	if (colon == NULL || strchr(spec, ':') != colon) {
		/* no port, or a bare IPv6 address */
		if (strlcpy(host, spec, hostlen) >= hostlen || *host == 0)
			return -1;
		return strlcpy(port, defport ? defport : "", portlen) < portlen ? 0 : -1;
	}
	hlen = (size_t) (colon - spec);
	if (hlen >= hostlen || colon[1] == 0)
		return -1;
	memcpy(host, spec, hlen);
	host[hlen] = 0;
	return strlcpy(port, colon + 1, portlen) < portlen ? 0 : -1;
}

/* inet_tune - socket options for SMTP sessions */
void inet_tune(int fd)
{
	int on = 1;

	/* We batch our own writes, so Nagle can only add delay. */
	(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

/* inet_listen - bind every address of spec; the count, or -1 with errno */
int inet_listen(const char *spec, const char *defport, int backlog, int *fds, int maxfds,
		char *err, size_t errlen)
{
	char host[256], port[32];
	struct addrinfo hints, *res, *ai;
	int count = 0, rc;

	if (inet_split_hostport(spec, host, sizeof(host), port, sizeof(port), defport) < 0
	    || *port == 0) {
		snprintf(err, errlen, "bad listen address \"%s\"", spec);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", spec, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && count < maxfds; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		int on = 1;

		if (fd < 0)
			continue;
		(void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (ai->ai_family == AF_INET6)
			(void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
			char addr[INET_ADDRSTR];
			int why = errno;

			inet_addr_str(ai->ai_addr, addr, sizeof(addr));
			snprintf(err, errlen, "bind %s: %s", addr, strerror(why));
			close(fd);
			while (count > 0)
				close(fds[--count]);
			freeaddrinfo(res);
			errno = why; /* the caller may wait out EADDRINUSE */
			return -1;
		}
		(void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		fds[count++] = fd;
	}
	freeaddrinfo(res);
	if (count == 0)
		snprintf(err, errlen, "%s: no usable address", spec);
	return count ? count : -1;
}

/* inet_connect - connect within timeout seconds; a blocking fd, or -1 */
int inet_connect(const struct sockaddr *sa, socklen_t salen, int timeout, const char *bind_addr,
		 char *err, size_t errlen)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_sec = timeout > 0 ? timeout : 1};
	struct pollfd pfd;
	int n, soerr = 0;
	socklen_t len = sizeof(soerr);

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind_addr && *bind_addr) {
		struct addrinfo hints = {.ai_family = sa->sa_family,
					 .ai_flags = AI_NUMERICHOST},
				*res;

		if (getaddrinfo(bind_addr, NULL, &hints, &res) == 0) {
			n = bind(fd, res->ai_addr, res->ai_addrlen);
			freeaddrinfo(res);
			if (n < 0) {
				snprintf(err, errlen, "bind %s: %s", bind_addr,
					 strerror(errno));
				close(fd);
				return -1;
			}
		}
	}
	/*
	 * A blocking connect waits at most SO_SNDTIMEO (Linux), and says
	 * EINPROGRESS when that passed: one system call where a non-blocking
	 * connect takes four. A signal (EINTR) leaves the connect going on:
	 * then it is waited for as a non-blocking one would be.
	 */
	(void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, sa, salen) == 0)
		goto done;
	if (errno == EINPROGRESS) {
		snprintf(err, errlen, "connect timed out after %ds", timeout);
		close(fd);
		return -1;
	}
	if (errno != EINTR) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	do {
		n = poll(&pfd, 1, timeout * 1000);
	} while (n < 0 && errno == EINTR);
	if (n == 0) {
		snprintf(err, errlen, "connect timed out after %ds", timeout);
		close(fd);
		return -1;
	}
	if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0) {
		snprintf(err, errlen, "%s", strerror(soerr ? soerr : errno));
		close(fd);
		return -1;
	}
done:
	inet_tune(fd);
	return fd;
}

/* inet_host_str - the numeric host of an address */
void inet_host_str(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a = sa->sa_family == AF_INET6
		? (const void *) &((const struct sockaddr_in6 *) sa)->sin6_addr
		: (const void *) &((const struct sockaddr_in *) sa)->sin_addr;

	if (sa->sa_family == AF_UNIX) {
		strlcpy(buf, "local", len);
		return;
	}
	if (inet_ntop(sa->sa_family, a, buf, (socklen_t) len) == NULL)
		strlcpy(buf, "unknown", len);
}

/* inet_port - the port of an address */
int inet_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *) sa)->sin6_port);
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *) sa)->sin_port);
	return 0;
}

/* inet_addr_str - "1.2.3.4:25" or "[2001:db8::1]:25" */
void inet_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	inet_host_str(sa, host, sizeof(host));
	if (sa->sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%d", host, inet_port(sa));
	else
		snprintf(buf, len, "%s:%d", host, inet_port(sa));
}

/* unix_listen - bind a Unix socket at path with the given mode */
int unix_listen(const char *path, int type, int mode, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	(void) unlink(path);
	if (bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0
	    || chmod(path, (mode_t) mode) < 0 || listen(fd, 1024) < 0) {
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	(void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* unix_connect - connect to a Unix socket within timeout seconds */
int unix_connect(const char *path, int type, int timeout, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* A Unix connect either succeeds, fails, or waits for backlog room. */
	{
		struct timeval tv = {.tv_sec = timeout};

		(void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
		snprintf(err, errlen, "connect %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* cidr_parse - "10.0.0.0/8", "::1/128", or a plain address */
int cidr_parse(const char *text, struct cidr *c)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t) (slash - text) : strlen(text);
	int max;

	if (alen == 0 || alen >= sizeof(addr))
		return -1;
	memcpy(addr, text, alen);
	addr[alen] = 0;
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, addr, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	if (slash) {
		char *end;
		long bits = strtol(slash + 1, &end, 10);

		if (slash[1] == 0 || *end != 0 || bits < 0 || bits > max)
			return -1;
		c->bits = (int) bits;
	} else {
		c->bits = max;
	}
	/* Host bits must be zero: "10.1.2.3/8" is a typo, not a network. */
	for (int i = c->bits; i < max; i++)
		if (c->addr[i / 8] & (0x80 >> (i % 8)))
			return -1;
	return 0;
}

/* cidr_match - does the address fall in the network? */
int cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	const uint8_t *a;
	uint8_t mapped[4];
	int family = sa->sa_family;

	if (family == AF_INET) {
		a = (const uint8_t *) &((const struct sockaddr_in *) sa)->sin_addr;
	} else if (family == AF_INET6) {
		a = (const uint8_t *) &((const struct sockaddr_in6 *) sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *) a)) {
			memcpy(mapped, a + 12, 4);
			a = mapped;
			family = AF_INET;
		}
	} else {
		return 0;
	}
	if (family != c->family)
		return 0;
	for (int i = 0; i < c->bits; i++) {
		uint8_t mask = (uint8_t) (0x80 >> (i % 8));

		if ((a[i / 8] & mask) != (c->addr[i / 8] & mask))
			return 0;
	}
	return 1;
}

/* cidr_list_parse - parse count networks; -1 names the bad one in err */
int cidr_list_parse(struct cidr_list *list, char *const *items, size_t count, char *err,
		    size_t errlen)
{
	list->items = xcalloc(count ? count : 1, sizeof(struct cidr));
	list->count = 0;
	for (size_t i = 0; i < count; i++) {
		if (cidr_parse(items[i], &list->items[list->count]) < 0) {
			snprintf(err, errlen,
				 "bad network \"%s\" (expected "
				 "address/prefix with zero host bits)",
				 items[i]);
			cidr_list_free(list);
			return -1;
		}
		list->count++;
	}
	return 0;
}

/* cidr_list_match - does any network of the list hold the address? */
int cidr_list_match(const struct cidr_list *list, const struct sockaddr *sa)
{
	for (size_t i = 0; i < list->count; i++)
		if (cidr_match(&list->items[i], sa))
			return 1;
	return 0;
}

/* cidr_list_free - release a list */
void cidr_list_free(struct cidr_list *list)
{
	free(list->items);
	list->items = NULL;
	list->count = 0;
}
