/*
 * evt - operational events: stable codes, fixed texts, one line each
 *
 * See evt.h for the table and the line format.
 */
#include <stdarg.h>
#include <stdio.h>

#include "evt.h"

/* evt_text - the fixed text of an event code */
const char *evt_text(enum evt_code code)
{
	switch (code) {
#define EVT_CASE(name, num, text) case EVT_##name: return text;
		EVT_TABLE(EVT_CASE)
#undef EVT_CASE
	}
	return "unknown event";
}

/* evt_log - log "code text (cid=... details)" at the given level */
void evt_log(enum msg_level level, enum evt_code code, const char *cid,
	     const char *fmt, ...)
{
	char    details[3072];
	va_list ap;

	if (level < msg_get_level())
		return;
	details[0] = 0;
	if (fmt && *fmt) {
		va_start(ap, fmt);
		vsnprintf(details, sizeof(details), fmt, ap);
		va_end(ap);
	}
	if (cid && *details)
		msg_log(level, "%d %s (cid=%s %s)", code, evt_text(code), cid, details);
	else if (cid)
		msg_log(level, "%d %s (cid=%s)", code, evt_text(code), cid);
	else if (*details)
		msg_log(level, "%d %s (%s)", code, evt_text(code), details);
	else
		msg_log(level, "%d %s", code, evt_text(code));
}
