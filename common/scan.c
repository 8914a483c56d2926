/*
 * scan - the smtpd-proxy <-> detector contract
 *
 * See scan.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

#include "mem.h"
#include "msg.h"
#include "scan.h"

#define SCAN_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* scan_action_name - a verdict as a word */
const char *scan_action_name(enum scan_action action)
{
	switch (action) {
	case SCAN_PASS:
		return "pass";
	case SCAN_BLOCK:
		return "block";
	case SCAN_REDIRECT:
		return "redirect";
	case SCAN_MODIFY:
		return "modify";
	case SCAN_TEMPFAIL:
		return "tempfail";
	}
	return "unknown";
}

/* envelope_init - an empty envelope */
void envelope_init(struct envelope *env)
{
	memset(env, 0, sizeof(*env));
}

/* envelope_reset_mail - forget sender and recipients, keep the session */
void envelope_reset_mail(struct envelope *env)
{
	free(env->mail_from);
	free(env->mail_params);
	env->mail_from = env->mail_params = NULL;
	for (size_t i = 0; i < env->nrcpt; i++) {
		free(env->rcpt[i].addr);
		free(env->rcpt[i].params);
	}
	free(env->rcpt);
	env->rcpt = NULL;
	env->nrcpt = 0;
}

/* envelope_free - release everything */
void envelope_free(struct envelope *env)
{
	envelope_reset_mail(env);
	memset(env, 0, sizeof(*env));
}

/* envelope_add_rcpt - append a recipient */
void envelope_add_rcpt(struct envelope *env, const char *addr, const char *params)
{
	if ((env->nrcpt & (env->nrcpt - 1)) == 0) /* 0, 1, 2, 4, ... */
		env->rcpt = xrealloc(env->rcpt,
				     (env->nrcpt ? env->nrcpt * 2 : 1) * sizeof(*env->rcpt));
	env->rcpt[env->nrcpt].addr = xstrdup(addr);
	env->rcpt[env->nrcpt].params = xstrdup(params ? params : "");
	env->nrcpt++;
}

/* envelope_format - the text form */
void envelope_format(const struct envelope *env, struct buf *out)
{
	buf_printf(out,
		   "cid\t%s\nclient_addr\t%s\nclient_port\t%d\n"
		   "client_name\t%s\nhelo\t%s\ntls_in\t%s\n",
		   env->cid, env->client_addr, env->client_port, env->client_name, env->helo,
		   env->tls_in);
	buf_printf(out, "mail_from\t%s\nmail_params\t%s\n",
		   env->mail_from ? env->mail_from : "<>",
		   env->mail_params ? env->mail_params : "");
	for (size_t i = 0; i < env->nrcpt; i++)
		buf_printf(out, "rcpt\t%s\t%s\n", env->rcpt[i].addr, env->rcpt[i].params);
}

/* envelope_copy - bounded copy into a fixed field; -1 if too long */
static int envelope_copy(char *dst, size_t len, const char *val)
{
	return strlcpy(dst, val, len) < len ? 0 : -1;
}

/* envelope_port - a decimal port 0..65535 (atoi() would be undefined past INT_MAX) */
static int envelope_port(const char *val, int *port)
{
	char *end;
	long n;

	if (!isdigit((unsigned char) *val))
		return -1;
	errno = 0;
	n = strtol(val, &end, 10);
	if (*end || errno == ERANGE || n > 65535)
		return -1;
	*port = (int) n;
	return 0;
}

/* envelope_line - apply one "key<TAB>value" line */
static int envelope_line(struct envelope *env, char *line, char *err, size_t errlen)
{
	char *tab = strchr(line, '\t');
	char *key = line, *val;
	int rc = 0;

	if (tab == NULL) {
		snprintf(err, errlen, "line without a tab");
		return -1;
	}
	*tab = 0;
	val = tab + 1;
	for (char *cp = val; *cp; cp++)
		if ((unsigned char) *cp < 0x20 && *cp != '\t') {
			snprintf(err, errlen, "control character in %s", key);
			return -1;
		}
	if (strcmp(key, "rcpt") == 0) {
		char *params = strchr(val, '\t');

		if (params)
			*params++ = 0;
		if (*val != '<' || strlen(val) > SCAN_ADDR_MAX || env->nrcpt >= SCAN_MAX_RCPT) {
			snprintf(err, errlen, "bad recipient");
			return -1;
		}
		envelope_add_rcpt(env, val, params ? params : "");
	} else if (strcmp(key, "mail_from") == 0) {
		if (*val != '<' || strlen(val) > SCAN_ADDR_MAX || env->mail_from) {
			snprintf(err, errlen, "bad or repeated sender");
			return -1;
		}
		env->mail_from = xstrdup(val);
	} else if (strcmp(key, "mail_params") == 0) {
		free(env->mail_params);
		env->mail_params = xstrdup(val);
	} else if (strcmp(key, "cid") == 0) {
		rc = envelope_copy(env->cid, sizeof(env->cid), val);
	} else if (strcmp(key, "client_addr") == 0) {
		rc = envelope_copy(env->client_addr, sizeof(env->client_addr), val);
	} else if (strcmp(key, "client_port") == 0) {
		if (envelope_port(val, &env->client_port) < 0) {
			snprintf(err, errlen, "bad client_port");
			return -1;
		}
	} else if (strcmp(key, "client_name") == 0) {
		rc = envelope_copy(env->client_name, sizeof(env->client_name), val);
	} else if (strcmp(key, "helo") == 0) {
		rc = envelope_copy(env->helo, sizeof(env->helo), val);
	} else if (strcmp(key, "tls_in") == 0) {
		rc = envelope_copy(env->tls_in, sizeof(env->tls_in), val);
	}
	/* Unknown keys are skipped: a newer worker may say more. */
	if (rc < 0)
		snprintf(err, errlen, "%s too long", key);
	return rc;
}

/* envelope_parse - parse the text form; -1 with err if malformed */
int envelope_parse(struct envelope *env, const char *text, size_t len, char *err, size_t errlen)
{
	char line[SCAN_LINE_MAX + 1];
	size_t pos = 0;

	envelope_init(env);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n;

		if (nl == NULL) {
			snprintf(err, errlen, "last line not terminated");
			goto bad;
		}
		n = (size_t) (nl - (text + pos));
		if (n > SCAN_LINE_MAX || memchr(text + pos, 0, n)) {
			snprintf(err, errlen, "line too long or binary");
			goto bad;
		}
		memcpy(line, text + pos, n);
		line[n] = 0;
		if (envelope_line(env, line, err, errlen) < 0)
			goto bad;
		pos += n + 1;
	}
	if (env->mail_from == NULL || env->nrcpt == 0) {
		snprintf(err, errlen, "no sender or no recipients");
		goto bad;
	}
	return 0;
bad:
	envelope_free(env);
	return -1;
}

/* scan_memfd_create - a new, sealable memory file */
int scan_memfd_create(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		msg_warn("memfd_create: %m");
	return fd;
}

/* scan_memfd_seal - make a memory file immutable */
int scan_memfd_seal(int fd)
{
	if (fcntl(fd, F_ADD_SEALS, SCAN_SEALS) < 0) {
		msg_warn("F_ADD_SEALS: %m");
		return -1;
	}
	return 0;
}

/* scan_memfd_from - a sealed memory file holding data */
int scan_memfd_from(const char *name, const void *data, size_t len)
{
	int fd = scan_memfd_create(name);
	const char *p = data;

	if (fd < 0)
		return -1;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			msg_warn("write to memfd: %m");
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t) n;
	}
	if (scan_memfd_seal(fd) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* scan_memfd_check - a sealed memfd of exactly size bytes? */
int scan_memfd_check(int fd, uint64_t size, char *err, size_t errlen)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0) {
		snprintf(err, errlen, "descriptor is not a memfd");
		return -1;
	}
	if ((seals & SCAN_SEALS) != SCAN_SEALS) {
		snprintf(err, errlen, "memfd is not sealed");
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t) st.st_size != size) {
		snprintf(err, errlen, "memfd size %lld, announced %llu", (long long) st.st_size,
			 (unsigned long long) size);
		return -1;
	}
	return 0;
}
