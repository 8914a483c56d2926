/*
 * evt - operational events: stable codes, fixed texts, one line each
 *
 * See evt.h for the table and the line format.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "evt.h"

#define EVT_QUOTE_MAX  1024 /* a value's quoted form, at most */
#define EVT_QUOTE_RING 8    /* values quoted for one line */

/* evt_quote_len - a peer's value of len bytes, safe in a key=value pair */
const char *evt_quote_len(const char *value, size_t len)
{
	static char ring[EVT_QUOTE_RING][EVT_QUOTE_MAX + 8];
	static unsigned next;
	char *out = ring[next++ % EVT_QUOTE_RING];
	size_t n = 0, i;
	int plain = len > 0;

	for (i = 0; i < len && plain; i++) {
		unsigned char c = (unsigned char) value[i];

		plain = c > ' ' && c < 0x7f && !strchr("\"\\=()", c);
	}
	if (plain && len <= EVT_QUOTE_MAX) {
		memcpy(out, value, len);
		out[len] = 0;
		return out;
	}
	out[n++] = '"';
	for (i = 0; i < len && n < EVT_QUOTE_MAX; i++) {
		unsigned char c = (unsigned char) value[i];

		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char) c;
		} else if (c < ' ' || c >= 0x7f) {
			n += (size_t) snprintf(out + n, 5, "\\x%02X", c);
		} else {
			out[n++] = (char) c;
		}
	}
	if (i < len) {
		memcpy(out + n, "...", 3); /* cut short: say so */
		n += 3;
	}
	out[n++] = '"';
	out[n] = 0;
	return out;
}

/* evt_quote - a peer's string, safe in a key=value pair */
const char *evt_quote(const char *value)
{
	return evt_quote_len(value ? value : "", value ? strlen(value) : 0);
}

/* evt_text - the fixed text of an event code */
const char *evt_text(enum evt_code code)
{
	switch (code) {
#define EVT_CASE(name, num, text) \
	case EVT_##name: \
		return text;
		EVT_TABLE(EVT_CASE)
#undef EVT_CASE
	}
	return "unknown event";
}

/* evt_log - log "code text (cid=... details)" at the given level */
void evt_log(enum msg_level level, enum evt_code code, const char *cid, const char *fmt, ...)
{
	char details[3072];
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
