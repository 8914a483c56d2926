/*
 * conf_params - every setting of dlpgate, declared once
 *
 * To add a setting: add one row to CONF_PARAMS in conf_params.h, in its
 * role's section: X(KIND, name, default, ..., role, description), with
 * bounds for INT/TIME/SIZE and a check function for STR/LIST when the
 * value has a shape (the checks live here). That row makes var_name, its
 * extern and its row in the table below; the loader, dlpconf, `dlpgate
 * check` and dlpgate.conf(5) follow. A setting with choices is an ENUM:
 * list them as CONF_CHOICES_name(C) with rows C(CONSTANT, "text") above
 * CONF_PARAMS, and compare var_name with the constants (the loader has
 * turned the text into one). The description is what an administrator
 * reads in the man page. A rebase conflict in CONF_PARAMS is resolved by
 * keeping both sides' rows.
 */
#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "conf.h"
#include "conf_params.h"
#include "inet.h"

#ifndef DLP_LIBEXECDIR
#define DLP_LIBEXECDIR "/usr/local/libexec/dlpgate"
#endif

/* conf_helo_name - helo_name, or the host name: how dlpgate names itself */
void conf_helo_name(char *buf, size_t len)
{
	if (*var_helo_name) {
		snprintf(buf, len, "%s", var_helo_name);
		return;
	}
	if (gethostname(buf, len) < 0 || *buf == 0)
		snprintf(buf, len, "localhost");
	buf[len - 1] = 0;
}

/* conf_check_bind_address - a numeric address this host has */
static int conf_check_bind_address(const char *value, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res;
	int fd, rc = -1;

	if (getaddrinfo(value, NULL, &hints, &res) != 0) {
		snprintf(err, errlen, "\"%s\" is not a numeric IPv4 or IPv6 address", value);
		return -1;
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		if (bind(fd, res->ai_addr, res->ai_addrlen) == 0)
			rc = 0;
		else
			snprintf(err, errlen,
				 "%s is not an address of this host (%s): "
				 "connections could not start from it",
				 value, strerror(errno));
		close(fd);
	} else {
		snprintf(err, errlen, "%s: %s", value, strerror(errno));
	}
	freeaddrinfo(res);
	return rc;
}

/* conf_check_syslog_server - /path, udp:host:port or tcp:host:port */
int conf_check_syslog_server(const char *value, char *err, size_t errlen)
{
	char host[256], port[32];

	if (*value == '/')
		return strlen(value) < 108 ? 0
					   : (snprintf(err, errlen,
						       "socket path "
						       "too long"),
					      -1);
	if ((strncmp(value, "udp:", 4) == 0 || strncmp(value, "tcp:", 4) == 0)
	    && inet_split_hostport(value + 4, host, sizeof(host), port, sizeof(port), "") == 0
	    && *host && atoi(port) > 0 && atoi(port) < 65536)
		return 0;
	snprintf(err, errlen,
		 "\"%s\": use a socket path (/dev/log), udp:host:port or "
		 "tcp:host:port",
		 value);
	return -1;
}

/* conf_check_reply5xx - "5XX 5.X.X text": printable, no CR, LF or controls */
int conf_check_reply5xx(const char *value, char *err, size_t errlen)
{
	const unsigned char *cp = (const unsigned char *) value;

	if (!(cp[0] == '5' && cp[1] >= '0' && cp[1] <= '9' && cp[2] >= '0' && cp[2] <= '9'
	      && cp[3] == ' ' && cp[4] == '5' && cp[5] == '.' && cp[6] >= '0'
	      && cp[6] <= '9')) {
		snprintf(err, errlen, "bad reply \"%.60s\" (expected 5XX 5.X.X text)", value);
		return -1;
	}
	for (; *cp; cp++)
		if (*cp < 0x20 || *cp > 0x7e) {
			snprintf(err, errlen,
				 "reply holds a control or non-ASCII "
				 "character (no CR, LF, tabs or 8-bit text)");
			return -1;
		}
	if (strlen(value) > 500) {
		snprintf(err, errlen, "reply longer than 500 characters");
		return -1;
	}
	return 0;
}

/* conf_check_header_name - an RFC 5322 field name, or empty */
static int conf_check_header_name(const char *value, char *err, size_t errlen)
{
	for (const char *cp = value; *cp; cp++)
		if (*cp <= 32 || *cp >= 127 || *cp == ':') {
			snprintf(err, errlen, "bad header name \"%s\"", value);
			return -1;
		}
	return strlen(value) > 76 ? (snprintf(err, errlen, "header name too long"), -1) : 0;
}

/* conf_check_domain - a domain name for internal_domains */
static int conf_check_domain(const char *value, char *err, size_t errlen)
{
	if (*value == 0 || strchr(value, '@')
	    || conf_check_hostname(value + (value[0] == '.'), err, errlen) < 0) {
		snprintf(err, errlen, "bad domain \"%s\"", value);
		return -1;
	}
	return 0;
}

/* conf_check_tls_protocol - the TLS versions dlpgate can serve */
static int conf_check_tls_protocol(const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "TLSv1.2") && strcmp(value, "TLSv1.3")) {
		snprintf(err, errlen,
			 "\"%s\": use TLSv1.2 and/or TLSv1.3 (older "
			 "versions need signatures tlsmgr does not make)",
			 value);
		return -1;
	}
	return 0;
}

/* conf_check_tls_text - a cipher string: printable, no spaces or quotes */
static int conf_check_tls_text(const char *value, char *err, size_t errlen)
{
	for (const char *cp = value; *cp; cp++) {
		if (*cp <= ' ' || *cp >= 127 || *cp == '"' || *cp == '\\') {
			snprintf(err, errlen,
				 "\"%s\": an OpenSSL cipher string has no "
				 "spaces or quotes",
				 value);
			return -1;
		}
	}
	return 0;
}

/* conf_check_dns_server - a numeric address, address:port or [address]:port */
static int conf_check_dns_server(const char *value, char *err, size_t errlen)
{
	char host[256], port[32], *end;
	struct cidr c;
	long n;

	if (inet_split_hostport(value, host, sizeof(host), port, sizeof(port), "53") < 0
	    || cidr_parse(host, &c) < 0 || strchr(host, '/')) {
		snprintf(err, errlen,
			 "bad DNS server \"%s\" (expected a numeric "
			 "address, address:port or [address]:port)",
			 value);
		return -1;
	}
	n = strtol(port, &end, 10);
	if (*end || n < 1 || n > 65535) {
		snprintf(err, errlen, "bad port in \"%s\"", value);
		return -1;
	}
	return 0;
}

/* The variables, and the name -> code table of each ENUM and CODE setting. */
#define CONF_CHOICE_ROW(constant, text) {text, constant},
#define CONF_DEFINE(kind, name, ...)    CONF_DEFINE_##kind(name, __VA_ARGS__)
#define CONF_DEFINE_STR(name, ...)      char *var_##name;
#define CONF_DEFINE_LIST(name, ...)     struct conf_list var_##name;
#define CONF_DEFINE_BOOL(name, ...)     int var_##name;
#define CONF_DEFINE_INT(name, ...)      int var_##name;
#define CONF_DEFINE_TIME(name, ...)     int var_##name;
#define CONF_DEFINE_SIZE(name, ...)     long long var_##name;
#define CONF_DEFINE_CHOICES(name) \
	const struct conf_choice conf_choices_##name[] = { \
		CONF_CHOICES_##name(CONF_CHOICE_ROW){NULL, 0}}; \
	_Static_assert(sizeof(var_##name) == sizeof(int), "conf.c stores an int");
#define CONF_DEFINE_ENUM(name, ...) \
	enum conf_##name var_##name; \
	CONF_DEFINE_CHOICES(name)
#define CONF_DEFINE_CODE(name, type, ...) \
	type var_##name; \
	CONF_DEFINE_CHOICES(name)

CONF_PARAMS(CONF_DEFINE)

/* The table: one row per setting, in the order of CONF_PARAMS. */
#define CONF_ROW(kind, name, ...) CONF_ROW_##kind(name, __VA_ARGS__)
#define CONF_ROW_STR(name, def, check, role, desc) \
	{#name, CONF_STR, def, 0, 0, NULL, &var_##name, check, role, desc},
#define CONF_ROW_LIST(name, def, check, role, desc) \
	{#name, CONF_LIST, def, 0, 0, NULL, &var_##name, check, role, desc},
#define CONF_ROW_BOOL(name, def, role, desc) \
	{#name, CONF_BOOL, def, 0, 1, NULL, &var_##name, NULL, role, desc},
#define CONF_ROW_INT(name, def, min, max, role, desc) \
	{#name, CONF_INT, def, min, max, NULL, &var_##name, NULL, role, desc},
#define CONF_ROW_TIME(name, def, min, max, role, desc) \
	{#name, CONF_TIME, def, min, max, NULL, &var_##name, NULL, role, desc},
#define CONF_ROW_SIZE(name, def, min, max, role, desc) \
	{#name, CONF_SIZE, def, min, max, NULL, &var_##name, NULL, role, desc},
#define CONF_ROW_ENUM(name, def, role, desc) \
	{#name, CONF_ENUM, def, 0, 0, conf_choices_##name, &var_##name, NULL, role, desc},
#define CONF_ROW_CODE(name, type, def, role, desc) CONF_ROW_ENUM(name, def, role, desc)

const struct conf_param conf_params[] = {CONF_PARAMS(CONF_ROW)};

const size_t conf_param_count = sizeof(conf_params) / sizeof(conf_params[0]);
