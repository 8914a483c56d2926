/*
 * mem - allocation that either succeeds or does not return
 *
 * xmalloc(), xcalloc(), xrealloc(), xstrdup(), xstrndup() and xasprintf()
 * behave like their libc namesakes but call msg_fatal() when memory runs
 * out, so callers never check for NULL.
 */
#ifndef DLP_MEM_H
#define DLP_MEM_H

#include <stddef.h>

void *xmalloc(size_t len);
void *xcalloc(size_t count, size_t len);
void *xrealloc(void *ptr, size_t len);
char *xstrdup(const char *str);
char *xstrndup(const char *str, size_t len);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
