/*
 * inet - socket addresses, listeners, timed connects, CIDR lists
 *
 * inet_split_hostport() reads "host", "host:port", "1.2.3.4:25",
 * "[2001:db8::1]:25" and "[2001:db8::1]"; a bare IPv6 address without
 * brackets is taken whole as the host. inet_listen() binds every address a
 * listen specification resolves to, with a large backlog. inet_connect()
 * connects with a deadline and returns a blocking socket (with that
 * deadline as its SO_SNDTIMEO). cidr_parse() and cidr_list_match() implement
 * allow lists such as "127.0.0.0/8, ::1/128".
 */
#ifndef DLP_INET_H
#define DLP_INET_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#define INET_ADDRSTR 64 /* "[v6 address]:port" fits */

struct cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int bits;
};

struct cidr_list {
	struct cidr *items;
	size_t count;
};

int inet_split_hostport(const char *spec, char *host, size_t hostlen, char *port,
			size_t portlen, const char *defport);
int inet_listen(const char *spec, const char *defport, int backlog, int *fds, int maxfds,
		char *err, size_t errlen);
int inet_connect(const struct sockaddr *sa, socklen_t salen, int timeout, const char *bind_addr,
		 char *err, size_t errlen);
void inet_addr_str(const struct sockaddr *sa, char *buf, size_t len);
void inet_host_str(const struct sockaddr *sa, char *buf, size_t len);
int inet_port(const struct sockaddr *sa);
void inet_tune(int fd);

int unix_listen(const char *path, int type, int mode, char *err, size_t errlen);
int unix_connect(const char *path, int type, int timeout, char *err, size_t errlen);

int cidr_parse(const char *text, struct cidr *c);
int cidr_match(const struct cidr *c, const struct sockaddr *sa);
int cidr_list_parse(struct cidr_list *list, char *const *items, size_t count, char *err,
		    size_t errlen);
int cidr_list_match(const struct cidr_list *list, const struct sockaddr *sa);
void cidr_list_free(struct cidr_list *list);

#endif
