/*
 * detector_incident - the incident log: one JSON line per matching message
 *
 * detector_incident_write() appends one line to incident_log for every
 * message that made a policy fire, and for every message that
 * unscannable_action blocked or tempfailed (its policy is then named
 * DET_UNSCANNABLE_POLICY, "(unscannable)", with the reason): time,
 * incident id, connection id,
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
 *
 * With incident_syslog, the same incident also goes to a syslog stream
 * for a SIEM (detector_incident_syslog): RFC 5424 with the fields as
 * structured data, or the JSON line as the message; to a local socket,
 * UDP, or TCP with RFC 6587 octet counting. One attempt, after the
 * verdict went back, bounded by five seconds; a failure is logged (7008)
 * and never holds the message.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "conf_params.h"
#include "evt.h"
#include "inet.h"
#include "mem.h"
#include "msg.h"
#include "detector.h"

#define INCIDENT_RCPT_MAX    100
#define INCIDENT_SD_ID       "dlpgate@32473" /* RFC 5612's documentation number */
#define INCIDENT_SYSLOG_MAX  16000           /* bytes of one syslog message */
#define INCIDENT_SYSLOG_WAIT 5               /* seconds to connect or send */

/* detector_incident_id - a fresh random id, 16 hex digits */
void detector_incident_id(char *buf, size_t len)
{
	unsigned char r[8];

	if (getrandom(r, sizeof(r), 0) != (ssize_t) sizeof(r)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char) ((ts.tv_nsec >> (i * 3)) ^ getpid() ^ (int) i);
	}
	snprintf(buf, len, "%02X%02X%02X%02X%02X%02X%02X%02X", r[0], r[1], r[2], r[3], r[4],
		 r[5], r[6], r[7]);
}

/* detector_json_str - a JSON string, UTF-8 cleaned and escaped */
void detector_json_str(struct buf *b, const char *s)
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
char *detector_safe_text(const char *in, size_t max)
{
	size_t len = strlen(in);
	char *out = xstrndup(in, len > max ? max : len);
	size_t n = strlen(out);

	for (size_t i = 0; i < n;) {
		size_t j = i, digits = 0;

		while (j < n
		       && (isdigit((unsigned char) out[j])
			   || ((out[j] == ' ' || out[j] == '-' || out[j] == '.') && j + 1 < n
			       && isdigit((unsigned char) out[j + 1]) && digits > 0))) {
			digits += isdigit((unsigned char) out[j]) != 0;
			j++;
		}
		if (digits >= 8) {
			size_t seen = 0;

			for (size_t k = i; k < j; k++)
				if (isdigit((unsigned char) out[k]) && ++seen + 4 <= digits)
					out[k] = '*';
		}
		i = j > i ? j : i + 1;
	}
	return out;
}

/* rule_label - how a rule is named in incidents and notifications */
void detector_rule_label(const struct det_rule *r, char *buf, size_t len)
{
	static const char *const t[] = {"keyword",    "regex",          "identifier", "edm",
					"document",   "sender",         "recipient",  "size",
					"attachment", "recipient_count"};

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
		int first = 1;

		buf_printf(b, "%s{\"name\":", i ? "," : "");
		detector_json_str(b, p->name);
		buf_printf(b,
			   ",\"mode\":\"%s\",\"severity\":\"%s\",\"action\":\"%s\","
			   "\"enforced\":%s,\"rules\":[",
			   p->monitor ? "monitor" : "prevent",
			   detector_severity_name(p->severity), detector_action_name(p->action),
			   p->monitor || var_trial_mode ? "false" : "true");
		for (uint32_t k = 0; k < p->nrules; k++) {
			const struct det_rule *r = &ps->rules[p->first_rule + k];
			const struct det_rule_hits *h = &sc->hits[p->first_rule + k];
			char label[64];

			if (r->type <= RULE_LAST_CONTENT && h->count == 0)
				continue;
			detector_rule_label(r, label, sizeof(label));
			buf_printf(b, "%s{\"rule\":\"%s\",\"line\":%d", first ? "" : ",", label,
				   r->line);
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
	if (d->unscannable) { /* unscannable_action decided */
		buf_printf(b,
			   "%s{\"name\":\"%s\",\"mode\":\"prevent\",\"severity\":\"%s\","
			   "\"action\":\"%s\",\"enforced\":true,\"reason\":",
			   d->nfired ? "," : "", DET_UNSCANNABLE_POLICY,
			   detector_severity_name(SEV_MEDIUM), CONF_NAME(unscannable_action));
		detector_json_str(b, sc->incomplete_why);
		buf_puts(b, ",\"rules\":[]}");
	}
	buf_putc(b, ']');
}

/* detector_incident_line - the JSON line of an incident (no newline) */
void detector_incident_line(struct buf *b, const struct det_scan *sc,
			    const struct envelope *env, const struct det_decision *d)
{
	char tbuf[64], addr[SCAN_ADDR_MAX + 1];
	time_t now = time(NULL);
	struct tm tm;
	char *subj = detector_safe_text(sc->subject_masked    ? sc->subject_masked
						: sc->subject ? sc->subject
							      : "",
					500);

	gmtime_r(&now, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(b, "{\"time\":\"%s\",\"incident\":\"%s\",\"cid\":", tbuf, d->incident);
	detector_json_str(b, env->cid);
	buf_puts(b, ",\"message_id\":");
	detector_json_str(b, sc->message_id ? sc->message_id : "");
	buf_puts(b, ",\"client\":");
	detector_json_str(b, env->client_addr);
	buf_puts(b, ",\"sender\":");
	detector_json_str(
		b,
		detector_addr_bare(env->mail_from ? env->mail_from : "<>", addr, sizeof(addr)));
	buf_puts(b, ",\"recipients\":[");
	for (size_t i = 0; i < env->nrcpt && i < INCIDENT_RCPT_MAX; i++) {
		if (i)
			buf_putc(b, ',');
		detector_json_str(b, detector_addr_bare(env->rcpt[i].addr, addr, sizeof(addr)));
	}
	buf_printf(b, "],\"recipient_count\":%zu,\"subject\":", env->nrcpt);
	detector_json_str(b, subj);
	buf_printf(b,
		   ",\"size\":%zu,\"action\":\"%s\",\"severity\":\"%s\",\"trial\":%s,"
		   "\"complete\":%s,",
		   sc->msg_size, scan_action_name(d->action),
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
int detector_incident_write(const struct det_scan *sc, const struct envelope *env,
			    const struct det_decision *d)
{
	struct buf b;
	int fd, rc = -1;
	const char *why = NULL;

	if (*var_incident_log == 0)
		return 0;
	buf_init(&b, 1024);
	detector_incident_line(&b, sc, env, d);
	buf_putc(&b, '\n');
	if ((fd = open(var_incident_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		       0640))
	    < 0)
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

/* incident_sd_value - an RFC 5424 PARAM-VALUE: ", \ and ] escaped */
static void incident_sd_value(struct buf *b, const char *name, const char *v)
{
	buf_printf(b, " %s=\"", name);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\' || *v == ']')
			buf_putc(b, '\\');
		buf_putc(b, (unsigned char) *v < 0x20 ? ' ' : *v);
	}
	buf_putc(b, '"');
}

/* incident_sd - the incident's fields as one SD-ELEMENT */
static void incident_sd(struct buf *b, const struct det_scan *sc, const struct envelope *env,
			const struct det_decision *d)
{
	const struct det_policyset *ps = sc->ps;
	struct buf list;
	char addr[SCAN_ADDR_MAX + 1], num[32];
	char *subj = detector_safe_text(sc->subject_masked    ? sc->subject_masked
						: sc->subject ? sc->subject
							      : "",
					500);

	buf_init(&list, 256);
	buf_puts(b, "[" INCIDENT_SD_ID);
	incident_sd_value(b, "incident", d->incident);
	incident_sd_value(b, "cid", env->cid);
	incident_sd_value(b, "action", scan_action_name(d->action));
	incident_sd_value(b, "severity", detector_severity_name(d->severity));
	for (size_t i = 0; i < d->nfired; i++)
		buf_printf(&list, "%s%s", i ? "," : "", ps->policies[d->fired[i]].name);
	if (d->unscannable)
		buf_printf(&list, "%s%s", d->nfired ? "," : "", DET_UNSCANNABLE_POLICY);
	incident_sd_value(b, "policies", list.data ? list.data : "");
	incident_sd_value(b, "client", env->client_addr);
	incident_sd_value(
		b, "sender",
		detector_addr_bare(env->mail_from ? env->mail_from : "<>", addr, sizeof(addr)));
	buf_reset(&list);
	for (size_t i = 0; i < env->nrcpt && i < INCIDENT_RCPT_MAX; i++)
		buf_printf(&list, "%s%s", i ? "," : "",
			   detector_addr_bare(env->rcpt[i].addr, addr, sizeof(addr)));
	incident_sd_value(b, "recipients", list.data ? list.data : "");
	snprintf(num, sizeof(num), "%zu", env->nrcpt);
	incident_sd_value(b, "recipient_count", num);
	incident_sd_value(b, "subject", subj);
	incident_sd_value(b, "message_id", sc->message_id ? sc->message_id : "");
	snprintf(num, sizeof(num), "%zu", sc->msg_size);
	incident_sd_value(b, "size", num);
	incident_sd_value(b, "trial", var_trial_mode ? "true" : "false");
	incident_sd_value(b, "complete", sc->incomplete ? "false" : "true");
	if (sc->incomplete)
		incident_sd_value(b, "not_scanned", sc->incomplete_why);
	/* the masked samples, "policy/rule: sample" joined with "; " */
	buf_reset(&list);
	for (size_t i = 0; i < d->nfired; i++) {
		const struct det_policy *p = &ps->policies[d->fired[i]];

		for (uint32_t k = 0; k < p->nrules; k++) {
			const struct det_rule *r = &ps->rules[p->first_rule + k];
			const struct det_rule_hits *h = &sc->hits[p->first_rule + k];
			char label[64];

			if (r->type > RULE_IDENTIFIER)
				continue;
			detector_rule_label(r, label, sizeof(label));
			for (unsigned n = 0; n < h->nsamples; n++)
				buf_printf(&list, "%s%s/%s: %s", list.len ? "; " : "", p->name,
					   label, h->samples[n]);
		}
	}
	incident_sd_value(b, "samples", list.data ? list.data : "");
	buf_putc(b, ']');
	buf_free(&list);
	free(subj);
}

/* incident_syslog_send - one message to incident_syslog_server; 0 or -1 */
static int incident_syslog_send(const char *msg, size_t len, char *why, size_t wlen)
{
	const char *srv = var_incident_syslog_server;
	int fd = -1, rc = -1;

	if (*srv == '/') {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};

		strlcpy(sun.sun_path, srv, sizeof(sun.sun_path));
		if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0
		    || connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0)
			snprintf(why, wlen, "%s: %s", srv, strerror(errno));
		else if (send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t) len)
			snprintf(why, wlen, "send to %s: %s", srv, strerror(errno));
		else
			rc = 0;
	} else {
		char host[256], port[32];
		struct addrinfo hints = {.ai_socktype =
						 srv[0] == 'u' ? SOCK_DGRAM : SOCK_STREAM},
				*ai = NULL;
		int tcp = srv[0] == 't';

		if (inet_split_hostport(srv + 4, host, sizeof(host), port, sizeof(port), "514")
			    < 0
		    || getaddrinfo(host, port, &hints, &ai) != 0) {
			snprintf(why, wlen, "cannot resolve %s", srv + 4);
		} else if (tcp
			   && (fd = inet_connect(ai->ai_addr, ai->ai_addrlen,
						 INCIDENT_SYSLOG_WAIT, NULL, why, wlen))
				   < 0) {
			/* why says it */;
		} else if (!tcp
			   && ((fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0
			       || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)) {
			snprintf(why, wlen, "%s: %s", srv, strerror(errno));
		} else {
			struct buf frame;
			size_t done = 0;

			buf_init(&frame, len + 16);
			if (tcp)
				buf_printf(&frame, "%zu ", len); /* RFC 6587 octet counting */
			buf_append(&frame, msg, len);
			while (done < frame.len) {
				struct pollfd pfd = {.fd = fd, .events = POLLOUT};
				ssize_t n;

				if (poll(&pfd, 1, INCIDENT_SYSLOG_WAIT * 1000) <= 0)
					break;
				n = send(fd, frame.data + done, frame.len - done, MSG_NOSIGNAL);
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
					break;
				done += (size_t) n;
			}
			if (done == frame.len)
				rc = 0;
			else
				snprintf(why, wlen, "send to %s: %s", srv,
					 errno ? strerror(errno) : "timed out");
			buf_free(&frame);
		}
		if (ai)
			freeaddrinfo(ai);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* detector_incident_syslog - the incident to the SIEM stream, if configured */
void detector_incident_syslog(const struct det_scan *sc, const struct envelope *env,
			      const struct det_decision *d)
{
	static const int sev[] = {6, 4, 3, 2}; /* info, low, medium, high */
	char host[256], tbuf[64], why[256] = "";
	struct timespec ts;
	struct tm tm;
	struct buf b;

	if (var_incident_syslog == INCIDENT_SYSLOG_NONE)
		return;
	conf_helo_name(host, sizeof(host));
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_init(&b, 2048);
	/* RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG */
	buf_printf(&b, "<%d>1 %s.%06ldZ %s %s %ld incident ",
		   var_incident_syslog_facility
			   + sev[d->severity <= SEV_HIGH ? d->severity : SEV_HIGH],
		   tbuf, ts.tv_nsec / 1000, host, var_syslog_name, (long) getpid());
	if (var_incident_syslog == INCIDENT_SYSLOG_RFC5424) {
		incident_sd(&b, sc, env, d);
		buf_printf(&b, " incident %s: %s, policies fired: %zu", d->incident,
			   scan_action_name(d->action), d->nfired);
		if (d->unscannable)
			buf_printf(&b, ", not scanned completely (unscannable_action = %s)",
				   CONF_NAME(unscannable_action));
	} else {
		buf_puts(&b, "- ");
		detector_incident_line(&b, sc, env, d);
	}
	if (b.len > INCIDENT_SYSLOG_MAX)
		b.len = INCIDENT_SYSLOG_MAX;
	if (incident_syslog_send(b.data, b.len, why, sizeof(why)) < 0)
		evt_error(INCIDENT_SYSLOG_FAIL, env->cid, "incident=%s server=%s reason=\"%s\"",
			  d->incident, var_incident_syslog_server, why);
	buf_free(&b);
}
