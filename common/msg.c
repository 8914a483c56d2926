/*
 * msg - diagnostics: debug, info, warn, error, fatal, panic
 *
 * See msg.h. Foreground lines look like
 *	2026-11-24T10:00:00 dlpgate/smtpd-proxy[1234]: warning: text
 * and syslog lines carry the same text after syslog's own prefix.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"

#define MSG_LINE_MAX 4096

static char msg_ident[64] = "dlpgate";
static int msg_where = MSG_TO_STDERR;
static enum msg_level msg_min = MSG_INFO;
static void (*msg_cleanup)(void);
static pid_t msg_pid; /* getpid() once, again after fork */

/* msg_forked - a child has a pid of its own */
static void msg_forked(void)
{
	msg_pid = getpid();
}

/* msg_open - choose the log destination, the program name and the facility */
void msg_open(const char *ident, int where, int facility)
{
	static int hooked;

	if (!hooked++)
		(void) pthread_atfork(NULL, NULL, msg_forked);
	msg_pid = getpid();

	snprintf(msg_ident, sizeof(msg_ident), "%s", ident);
	msg_where = where;
	if (where & MSG_TO_SYSLOG) {
		closelog();
		openlog(msg_ident, LOG_PID | LOG_NDELAY, facility);
	}
}

/* msg_set_level - set the lowest level that is logged */
void msg_set_level(enum msg_level level)
{
	msg_min = level > MSG_ERROR ? MSG_ERROR : level;
}

/* msg_get_level - the lowest level that is logged */
enum msg_level msg_get_level(void)
{
	return msg_min;
}

/* msg_set_cleanup - run fn once before a fatal exit */
void msg_set_cleanup(void (*fn)(void))
{
	msg_cleanup = fn;
}

/* msg_vlog - format, sanitize and emit one line */
void msg_vlog(enum msg_level level, const char *fmt, va_list ap)
{
	static const char *const prefix[] = {
		"debug: ", "", "warning: ", "error: ", "fatal: ", "panic: ",
	};
	static const int prio[] = {
		LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_CRIT,
	};
	char text[MSG_LINE_MAX];
	char line[MSG_LINE_MAX + 160];
	int n;

	if (level < msg_min)
		return;
	n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0)
		snprintf(text, sizeof(text), "(unformattable message)");
	for (char *cp = text; *cp; cp++)
		if ((unsigned char) *cp < 0x20 || *cp == 0x7f)
			*cp = '?';
	if (msg_where & MSG_TO_SYSLOG)
		syslog(prio[level], "%s%s", prefix[level], text);
	if (msg_where & MSG_TO_STDERR) {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line, sizeof(line), "%s.%03ld %s[%ld]: %s%s\n", when,
			     ts.tv_nsec / 1000000, msg_ident,
			     (long) (msg_pid ? msg_pid : getpid()), prefix[level], text);
		if (n > (int) sizeof(line) - 1) {
			n = sizeof(line) - 1;
			line[n - 1] = '\n';
		}
		if (write(STDERR_FILENO, line, (size_t) n) < 0) {
			/* nowhere left to complain */
		}
	}
}

#define MSG_FN(name, level) \
	void name(const char *fmt, ...) \
	{ \
		va_list ap; \
		va_start(ap, fmt); \
		msg_vlog(level, fmt, ap); \
		va_end(ap); \
	}

/* msg_log - log at a level chosen at run time */
void msg_log(enum msg_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vlog(level > MSG_ERROR ? MSG_ERROR : level, fmt, ap);
	va_end(ap);
}

MSG_FN(msg_debug, MSG_DEBUG)
MSG_FN(msg_info, MSG_INFO)
MSG_FN(msg_warn, MSG_WARN)
MSG_FN(msg_error, MSG_ERROR)

/* msg_fatal - log and exit: the process cannot go on */
void msg_fatal(const char *fmt, ...)
{
	static int busy;
	va_list ap;

	va_start(ap, fmt);
	msg_vlog(MSG_FATAL, fmt, ap);
	va_end(ap);
	if (msg_cleanup && busy++ == 0)
		msg_cleanup();
	exit(1);
}

/* msg_panic - log and abort: an internal inconsistency */
void msg_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vlog(MSG_PANIC, fmt, ap);
	va_end(ap);
	abort();
}
