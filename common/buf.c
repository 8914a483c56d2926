/*
 * buf - growable byte buffers
 *
 * See buf.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "msg.h"

/* buf_init - an empty buffer with room for cap bytes */
void buf_init(struct buf *b, size_t cap)
{
	b->cap = cap < 16 ? 16 : cap;
	b->data = xmalloc(b->cap + 1);
	b->len = 0;
	b->data[0] = 0;
}

/* buf_free - release the storage */
void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* buf_reset - empty the buffer, keep the storage */
void buf_reset(struct buf *b)
{
	b->len = 0;
	b->data[0] = 0;
}

/* buf_reserve - make room for more bytes */
void buf_reserve(struct buf *b, size_t more)
{
	size_t need;

	if (more > ((size_t) -1) / 4 - b->len)
		msg_panic("buf_reserve: unreasonable size %zu", more);
	need = b->len + more;
	if (need <= b->cap)
		return;
	while (b->cap < need)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap + 1);
}

/* buf_append - append bytes */
void buf_append(struct buf *b, const void *data, size_t len)
{
	buf_reserve(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = 0;
}

/* buf_puts - append a string */
void buf_puts(struct buf *b, const char *str)
{
	buf_append(b, str, strlen(str));
}

/* buf_putc - append one byte */
void buf_putc(struct buf *b, int ch)
{
	char c = (char) ch;

	buf_append(b, &c, 1);
}

/* buf_vprintf - append formatted text */
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(b->data + b->len, b->cap - b->len + 1, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		msg_panic("buf_vprintf: bad format \"%s\"", fmt);
	if ((size_t) n > b->cap - b->len) {
		buf_reserve(b, (size_t) n);
		vsnprintf(b->data + b->len, b->cap - b->len + 1, fmt, ap);
	}
	b->len += (size_t) n;
}

/* buf_printf - append formatted text */
void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* buf_consume - drop len bytes from the front */
void buf_consume(struct buf *b, size_t len)
{
	if (len >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + len, b->len - len);
	b->len -= len;
	b->data[b->len] = 0;
}
