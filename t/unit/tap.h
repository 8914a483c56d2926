/*
 * tap - the Test Anything Protocol for the C unit tests
 *
 * A unit test is one program (t/unit/unit_NAME.c) that makes checks and
 * ends with "return tap_done();". It prints what prove reads:
 *	ok 1 - luhn: 4111 1111 1111 1111
 *	not ok 2 - xtext: "a+2Bb"
 *	#   at t/unit/unit_conf.c:42
 *	#          got: "a+b"
 *	#     expected: "a+2Bb"
 *	1..2
 * and exits 1 when a check failed. t/02-unit.t runs every such program.
 *
 *	tap_ok(cond, fmt, ...)			cond is true
 *	tap_is_int(got, expected, fmt, ...)	two integers are equal
 *	tap_is_str(got, expected, fmt, ...)	two strings are equal (NULL too)
 *	tap_is_mem(got, glen, exp, elen, fmt, ...)	two byte strings
 *	tap_diag(fmt, ...)			a comment line
 *
 * Each check returns whether it passed; fmt names what is checked, in
 * words, so that a failure reads as a sentence. Strings in diagnostics
 * show control and 8-bit bytes as \xNN.
 */
#ifndef DLP_TAP_H
#define DLP_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

/* tap_vline - "ok N - name" or "not ok N - name" */
static inline int tap_vline(int pass, const char *file, int line, const char *fmt, va_list ap)
{
	tap_count++;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	vprintf(fmt, ap);
	putchar('\n');
	if (!pass) {
		tap_failed++;
		printf("#   at %s:%d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

/* tap_ok_at - tap_ok() */
static inline int __attribute__((format(printf, 4, 5)))
tap_ok_at(const char *file, int line, int pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pass = tap_vline(pass, file, line, fmt, ap);
	va_end(ap);
	return pass;
}

/* tap_quote - a byte string in double quotes, escaped */
static inline void tap_quote(const char *s, size_t len)
{
	if (s == NULL) {
		fputs("NULL", stdout);
		return;
	}
	putchar('"');
	for (size_t i = 0; i < len && i < 400; i++) {
		unsigned char c = (unsigned char) s[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	fputs(len > 400 ? "\"..." : "\"", stdout);
}

/* tap_vis_mem - are two byte strings (or two NULLs) equal? */
static inline int tap_vis_mem(const char *file, int line, const char *got, size_t glen,
			      const char *want, size_t wlen, const char *fmt, va_list ap)
{
	int pass = (got == NULL && want == NULL)
		|| (got && want && glen == wlen && memcmp(got, want, glen) == 0);

	pass = tap_vline(pass, file, line, fmt, ap);
	if (!pass) {
		fputs("#          got: ", stdout);
		tap_quote(got, glen);
		fputs("\n#     expected: ", stdout);
		tap_quote(want, wlen);
		putchar('\n');
	}
	return pass;
}

/* tap_is_mem_at - tap_is_mem() */
static inline int __attribute__((format(printf, 7, 8)))
tap_is_mem_at(const char *file, int line, const char *got, size_t glen, const char *want,
	      size_t wlen, const char *fmt, ...)
{
	va_list ap;
	int pass;

	va_start(ap, fmt);
	pass = tap_vis_mem(file, line, got, glen, want, wlen, fmt, ap);
	va_end(ap);
	return pass;
}

/* tap_is_str_at - tap_is_str() */
static inline int __attribute__((format(printf, 5, 6)))
tap_is_str_at(const char *file, int line, const char *got, const char *want, const char *fmt,
	      ...)
{
	va_list ap;
	int pass;

	va_start(ap, fmt);
	pass = tap_vis_mem(file, line, got, got ? strlen(got) : 0, want,
			   want ? strlen(want) : 0, fmt, ap);
	va_end(ap);
	return pass;
}

/* tap_is_int_at - tap_is_int() */
static inline int __attribute__((format(printf, 5, 6)))
tap_is_int_at(const char *file, int line, long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	int pass;

	va_start(ap, fmt);
	pass = tap_vline(got == want, file, line, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("#          got: %lld\n#     expected: %lld\n", got, want);
	return pass;
}

/* tap_diag - a comment for the reader of a failure */
static inline void __attribute__((format(printf, 1, 2))) tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* tap_done - the plan; the exit status */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failed)
		printf("# failed %d of %d\n", tap_failed, tap_count);
	return tap_failed != 0 || tap_count == 0;
}

#define tap_ok(cond, ...) tap_ok_at(__FILE__, __LINE__, (cond) != 0, __VA_ARGS__)
#define tap_is_int(got, want, ...) \
	tap_is_int_at(__FILE__, __LINE__, (long long) (got), (long long) (want), __VA_ARGS__)
#define tap_is_str(got, want, ...) tap_is_str_at(__FILE__, __LINE__, (got), (want), __VA_ARGS__)
#define tap_is_mem(got, glen, want, wlen, ...) \
	tap_is_mem_at(__FILE__, __LINE__, (got), (glen), (want), (wlen), __VA_ARGS__)

#endif
