/*
 * msg - diagnostics: debug, info, warn, error, fatal, panic
 *
 * msg_open() chooses the destination once per process: syslog (with a
 * facility such as LOG_MAIL, from syslog.h) or standard error (foreground mode and command
 * line tools). Every line is one write: lines of concurrent processes
 * never interleave. Control characters in a line (which may come from a
 * peer) are replaced with '?', so a log line is always one line.
 *
 * msg_fatal() is for conditions the process cannot go on from (exit 1);
 * msg_panic() is for internal inconsistencies (abort, for a core).
 */
#ifndef DLP_MSG_H
#define DLP_MSG_H

#include <stdarg.h>
#include <syslog.h>

enum msg_level {
	MSG_DEBUG,
	MSG_INFO,
	MSG_WARN,
	MSG_ERROR,
	MSG_FATAL,
	MSG_PANIC,
};

#define MSG_TO_SYSLOG (1 << 0)
#define MSG_TO_STDERR (1 << 1)

void msg_open(const char *ident, int where, int facility);
void msg_set_level(enum msg_level level);
enum msg_level msg_get_level(void);
void msg_vlog(enum msg_level level, const char *fmt, va_list ap);
void msg_log(enum msg_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void msg_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Called once before msg_fatal() exits (e.g. to remove a pid file). */
void msg_set_cleanup(void (*fn)(void));

#endif
