/*
 * detector_incident - the incident log: one JSON line per matching message
 *
 * detector_incident_write() appends one line to incident_log for every
 * message that made a policy fire: time, incident id, connection id,
 * Message-ID, client, sender, recipients, the subject (masked), size, the
 * final action, trial mode, whether the scan was complete, and per policy
 * its mode, severity, action, and per rule the match count with up to
 * three masked samples. The line is written with one write() under an
 * exclusive lock and fsync'd before the verdict goes back: an incident is
 * on disk before the message it is about moves on.
 *
 * Nothing sensitive is ever written in clear: samples are masked when
 * they are taken, and the subject is written with its identifier and
 * regex matches starred, and any long run of digits starred as well.
 * The file is opened per incident, so logrotate needs no signal.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "conf_params.h"
#include "evt.h"
#include "mem.h"
#include "msg.h"
#include "detector.h"

#define INCIDENT_RCPT_MAX	100

/* detector_incident_id - a fresh random id, 16 hex digits */
void    detector_incident_id(char *buf, size_t len)
{
	unsigned char r[8];

	if (getrandom(r, sizeof(r), 0) != (ssize_t) sizeof(r)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char) ((ts.tv_nsec >> (i * 3)) ^ getpid() ^ (int) i);
	}
	snprintf(buf, len, "%02X%02X%02X%02X%02X%02X%02X%02X", r[0], r[1], r[2], r[3],
		 r[4], r[5], r[6], r[7]);
}

/* detector_json_str - a JSON string, UTF-8 cleaned and escaped */
void    detector_json_str(struct buf *b, const char *s)
{
	struct buf clean;

	buf_init(&clean, strlen(s) + 8);
	detector_utf8_clean(s, strlen(s), &clean);
	buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *) clean.data; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			buf_printf(b, "\\u%04x", *p);
		else
			buf_putc(b, *p);
	}
	buf_putc(b, '"');
	buf_free(&clean);
}

/* detector_safe_text - a copy with every long run of digits starred */
char   *detector_safe_text(const char *in, size_t max)
{
	size_t  len = strlen(in);
	char   *out = xstrndup(in, len > max ? max : len);
	size_t  n = strlen(out);

	for (size_t i = 0; i < n;) {
		size_t  j = i, digits = 0;

		while (j < n && (isdigit((unsigned char) out[j])
				 || ((out[j] == ' ' || out[j] == '-' || out[j] == '.')
				     && j + 1 < n && isdigit((unsigned char) out[j + 1])
				     && digits > 0))) {
			digits += isdigit((unsigned char) out[j]) != 0;
			j++;
		}
		if (digits >= 8) {
			size_t  seen = 0;

			for (size_t k = i; k < j; k++)
				if (isdigit((unsigned char) out[k]) && ++seen + 4 <= digits)
					out[k] = '*';
		}
		i = j > i ? j : i + 1;
	}
	return out;
}

/* rule_label - how a rule is named in incidents and notifications */
void    detector_rule_label(const struct det_rule *r, char *buf, size_t len)
{
	static const char *const t[] = {"keyword", "regex", "identifier", "edm", "document",
		"sender", "recipient", "size", "attachment", "recipient_count"};

	if (r->type == RULE_IDENTIFIER)
		snprintf(buf, len, "identifier %s", detector_ident_name(r->ident));
	else if (r->type == RULE_EDM || r->type == RULE_DOCUMENT)
		snprintf(buf, len, "%s %s", t[r->type], detector_fp_index_name(r->fpi));
	else
		snprintf(buf, len, "%s", t[r->type]);
}

/* incident_policies - the "policies" array */
static void incident_policies(struct buf *b, const struct det_scan *sc,
			      const struct det_decision *d)
{
	const struct det_policyset *ps = sc->ps;

	buf_puts(b, "\"policies\":[");
	for (size_t i = 0; i < d->nfired; i++) {
		const struct det_policy *p = &ps->policies[d->fired[i]];
		int     first = 1;

		buf_printf(b, "%s{\"name\":", i ? "," : "");
		detector_json_str(b, p->name);
		buf_printf(b, ",\"mode\":\"%s\",\"severity\":\"%s\",\"action\":\"%s\","
			   "\"enforced\":%s,\"rules\":[", p->monitor ? "monitor" : "prevent",
			   detector_severity_name(p->severity), detector_action_name(p->action),
			   p->monitor || var_trial_mode ? "false" : "true");
		for (uint32_t k = 0; k < p->nrules; k++) {
			const struct det_rule *r = &ps->rules[p->first_rule + k];
			const struct det_rule_hits *h = &sc->hits[p->first_rule + k];
			char    label[64];

			if (r->type <= RULE_LAST_CONTENT && h->count == 0)
				continue;
			detector_rule_label(r, label, sizeof(label));
			buf_printf(b, "%s{\"rule\":\"%s\",\"line\":%d", first ? "" : ",", label, r->line);
			first = 0;
			if (r->type <= RULE_LAST_CONTENT) {
				buf_printf(b, ",\"count\":%u,\"samples\":[", h->count);
				for (unsigned s = 0; s < h->nsamples; s++) {
					if (s)
						buf_putc(b, ',');
					detector_json_str(b, h->samples[s]);
				}
				buf_putc(b, ']');
			}
			if (r->type == RULE_EDM || r->type == RULE_DOCUMENT)
				detector_fp_incident(b, sc, p->first_rule + k);
			buf_putc(b, '}');
		}
		buf_puts(b, "]}");
	}
	buf_putc(b, ']');
}

/* detector_incident_line - the JSON line of an incident (no newline) */
void    detector_incident_line(struct buf *b, const struct det_scan *sc,
			       const struct envelope *env, const struct det_decision *d)
{
	char    tbuf[64], addr[SCAN_ADDR_MAX + 1];
	time_t  now = time(NULL);
	struct tm tm;
	char   *subj = detector_safe_text(sc->subject_masked ? sc->subject_masked :
					  sc->subject ? sc->subject : "", 500);

	gmtime_r(&now, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(b, "{\"time\":\"%s\",\"incident\":\"%s\",\"cid\":", tbuf, d->incident);
	detector_json_str(b, env->cid);
	buf_puts(b, ",\"message_id\":");
	detector_json_str(b, sc->message_id ? sc->message_id : "");
	buf_puts(b, ",\"client\":");
	detector_json_str(b, env->client_addr);
	buf_puts(b, ",\"sender\":");
	detector_json_str(b, detector_addr_bare(env->mail_from ? env->mail_from : "<>",
						addr, sizeof(addr)));
	buf_puts(b, ",\"recipients\":[");
	for (size_t i = 0; i < env->nrcpt && i < INCIDENT_RCPT_MAX; i++) {
		if (i)
			buf_putc(b, ',');
		detector_json_str(b, detector_addr_bare(env->rcpt[i].addr, addr, sizeof(addr)));
	}
	buf_printf(b, "],\"recipient_count\":%zu,\"subject\":", env->nrcpt);
	detector_json_str(b, subj);
	buf_printf(b, ",\"size\":%zu,\"action\":\"%s\",\"severity\":\"%s\",\"trial\":%s,"
		   "\"complete\":%s,", sc->msg_size, scan_action_name(d->action),
		   detector_severity_name(d->severity), var_trial_mode ? "true" : "false",
		   sc->incomplete ? "false" : "true");
	if (sc->incomplete) {
		buf_puts(b, "\"not_scanned\":");
		detector_json_str(b, sc->incomplete_why);
		buf_putc(b, ',');
	}
	incident_policies(b, sc, d);
	buf_putc(b, '}');
	free(subj);
}

/* detector_incident_write - append and fsync the incident; -1 on failure */
int     detector_incident_write(const struct det_scan *sc, const struct envelope *env,
				const struct det_decision *d)
{
	struct buf b;
	int     fd, rc = -1;
	const char *why = NULL;

	if (*var_incident_log == 0)
		return 0;
	buf_init(&b, 1024);
	detector_incident_line(&b, sc, env, d);
	buf_putc(&b, '\n');
	if ((fd = open(var_incident_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC
		       | O_NOFOLLOW, 0640)) < 0)
		why = "open";
	else if (flock(fd, LOCK_EX) < 0)
		why = "lock";
	else if (write(fd, b.data, b.len) != (ssize_t) b.len)
		why = "write";
	else if (fsync(fd) < 0)
		why = "fsync";
	else
		rc = 0;
	if (why)
		evt_error(INCIDENT_FAIL, env->cid, "incident=%s file=%s reason=\"%s: %s\"",
			  d->incident, var_incident_log, why, strerror(errno));
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	return rc;
}
