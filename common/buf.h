/*
 * buf - growable byte buffers
 *
 * A struct buf holds len bytes at data, always followed by a NUL that is
 * not counted, so text can be used as a C string. Growth is by doubling;
 * callers enforce their own limits before appending peer data.
 */
#ifndef DLP_BUF_H
#define DLP_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b, size_t cap);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_reserve(struct buf *b, size_t more);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *str);
void buf_putc(struct buf *b, int ch);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_consume(struct buf *b, size_t len);

#endif
