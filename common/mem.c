/*
 * mem - allocation that either succeeds or does not return
 *
 * See mem.h. Out of memory is not a condition a mail filter can work
 * around in the middle of a transaction: we log and exit, and the client's
 * MTA keeps the message queued.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "msg.h"

/* xmalloc - allocate or die */
void *xmalloc(size_t len)
{
	void *p = malloc(len ? len : 1);

	if (p == NULL)
		msg_fatal("out of memory allocating %zu bytes", len);
	return p;
}

/* xcalloc - allocate zeroed memory or die */
void *xcalloc(size_t count, size_t len)
{
	void *p = calloc(count ? count : 1, len ? len : 1);

	if (p == NULL)
		msg_fatal("out of memory allocating %zu x %zu bytes", count, len);
	return p;
}

/* xrealloc - resize or die */
void *xrealloc(void *ptr, size_t len)
{
	void *p = realloc(ptr, len ? len : 1);

	if (p == NULL)
		msg_fatal("out of memory reallocating %zu bytes", len);
	return p;
}

/* xstrdup - copy a string or die */
char *xstrdup(const char *str)
{
	return xstrndup(str, strlen(str));
}

/* xstrndup - copy at most len bytes of a string or die */
char *xstrndup(const char *str, size_t len)
{
	size_t n = strnlen(str, len);
	char *p = xmalloc(n + 1);

	memcpy(p, str, n);
	p[n] = 0;
	return p;
}

/* xasprintf - format into a new string or die */
char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		msg_fatal("out of memory formatting a string");
	va_end(ap);
	return p;
}
