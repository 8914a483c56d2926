/*
 * detector_notify - incident notifications: a spool, SMTP, retries
 *
 * detector_notify_queue() turns each firing policy that has notify
 * recipients (or notify_sender) into one notification message and puts
 * it in notify_queue_directory with file_replace() (a temporary file
 * named .NAME.XXXXXX, fsync'd, renamed). It runs after the verdict has gone back to the worker, so a
 * notification never delays or fails the message it is about.
 *
 * detector_notify_run() delivers what is due, by SMTP to notify_relay,
 * with default_pass_header in the message so that an MTA routing on that
 * header does not send it through dlpgate again. Every detector runs it
 * after each request and when its loop is idle; a file lock makes sure
 * one notification is sent by one process at a time. A file's mtime is
 * the time of its next attempt: a temporary failure pushes it back
 * (notify_retry_time, doubling up to an hour); a permanent one (5xx), or
 * one older than notify_max_age, is given up. Each step is logged.
 *
 * Spool file: "key<TAB>value" lines (queued, attempts, from, rcpt...), a
 * blank line, then the message with CRLF line ends.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "conf.h"
#include "conf_params.h"
#include "evt.h"
#include "file_replace.h"
#include "inet.h"
#include "mem.h"
#include "msg.h"
#include "stream.h"
#include "detector.h"

#define NOTIFY_SCAN_MAX     200 /* directory entries looked at per run */
#define NOTIFY_TEMPLATE_MAX 65536
#define NOTIFY_BACKOFF_MAX  3600

static const char notify_builtin[] =
	"dlpgate recorded a data-loss-prevention incident.\n"
	"\n"
	"Incident:    ${incident}\n"
	"Time:        ${time}\n"
	"Policy:      ${policy} (severity ${severity}, mode ${mode})\n"
	"Action:      ${action}\n"
	"Sender:      ${sender}\n"
	"Recipients:  ${recipients}\n"
	"Subject:     ${subject}\n"
	"Message-ID:  ${message_id}\n"
	"\n"
	"What matched (values are masked):\n"
	"${matches}\n"
	"The message itself is not attached to this notification.\n";

/* notify_from - the sender of notifications */
static void notify_from(char *buf, size_t len)
{
	char host[256];

	if (*var_notify_from) {
		snprintf(buf, len, "%s", var_notify_from);
		return;
	}
	conf_helo_name(host, sizeof(host));
	snprintf(buf, len, "postmaster@%s", host);
}

/* read_template - notify_template's text, or the built-in one */
static char *read_template(void)
{
	char path[PATH_MAX];
	FILE *fp;
	char *text;
	size_t n;

	if (*var_notify_template == 0)
		return xstrdup(notify_builtin);
	if (*var_notify_template == '/')
		strlcpy(path, var_notify_template, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s/%s", conf_dir ? conf_dir : ".",
			 var_notify_template);
	if ((fp = fopen(path, "r")) == NULL) {
		msg_warn("notify_template %s: %m; using the built-in text", path);
		return xstrdup(notify_builtin);
	}
	text = xmalloc(NOTIFY_TEMPLATE_MAX + 1);
	n = fread(text, 1, NOTIFY_TEMPLATE_MAX, fp);
	text[n] = 0;
	fclose(fp);
	return text;
}

/* detector_matches_text - the masked matches of a policy, one per line */
void detector_matches_text(const struct det_scan *sc, const struct det_policy *p,
			   struct buf *out)
{
	for (uint32_t k = 0; k < p->nrules; k++) {
		const struct det_rule *r = &sc->ps->rules[p->first_rule + k];
		const struct det_rule_hits *h = &sc->hits[p->first_rule + k];
		char label[64];

		detector_rule_label(r, label, sizeof(label));
		if (r->type > RULE_LAST_CONTENT) {
			buf_printf(out, "  - %s condition (line %d)\n", label, r->line);
			continue;
		}
		if (h->count == 0)
			continue;
		buf_printf(out, "  - %s (line %d): %u match%s", label, r->line, h->count,
			   h->count == 1 ? "" : "es");
		for (unsigned s = 0; s < h->nsamples; s++)
			buf_printf(out, "%s%s", s ? ", " : ", e.g. ", h->samples[s]);
		buf_putc(out, '\n');
		if (r->type == RULE_EDM || r->type == RULE_DOCUMENT)
			detector_fp_text(out, sc, p->first_rule + k);
	}
}

/* expand - the template with ${name} replaced */
static void expand(const char *tpl, const char *const *keys, const char *const *vals,
		   struct buf *out)
{
	while (*tpl) {
		const char *d = strstr(tpl, "${");
		const char *e;
		size_t k;

		if (d == NULL) {
			buf_puts(out, tpl);
			return;
		}
		buf_append(out, tpl, (size_t) (d - tpl));
		e = strchr(d, '}');
		for (k = 0; e && keys[k]; k++)
			if ((size_t) (e - d - 2) == strlen(keys[k])
			    && strncmp(d + 2, keys[k], strlen(keys[k])) == 0)
				break;
		if (e && keys[k]) {
			buf_puts(out, vals[k]);
			tpl = e + 1;
		} else {
			buf_append(out, d, 2);
			tpl = d + 2;
		}
	}
}

/* qp_encode - text as quoted-printable with CRLF line ends */
static void qp_encode(const char *in, struct buf *out)
{
	int col = 0;

	for (const unsigned char *p = (const unsigned char *) in; *p; p++) {
		if (*p == '\n') {
			buf_puts(out, "\r\n");
			col = 0;
			continue;
		}
		if (*p == '\r')
			continue;
		if (col >= 72) {
			buf_puts(out, "=\r\n");
			col = 0;
		}
		if ((*p >= 33 && *p <= 126 && *p != '=')
		    || (*p == ' ' && p[1] != '\n' && p[1])) {
			buf_putc(out, *p);
			col++;
		} else {
			buf_printf(out, "=%02X", *p);
			col += 3;
		}
	}
	if (col)
		buf_puts(out, "\r\n");
}

/* notify_message - the notification for one policy */
static void notify_message(const struct det_scan *sc, const struct envelope *env,
			   const struct det_decision *d, const struct det_policy *p,
			   const char *from, const struct det_list *to, const char *tpl,
			   struct buf *msg)
{
	static const char *const keys[] = {
		"policy",  "severity", "mode", "action", "sender",     "recipients", "subject",
		"matches", "incident", "time", "cid",    "message_id", NULL};
	struct buf rcpts, matches, body;
	char tbuf[64], date[64], host[256], sender[SCAN_ADDR_MAX + 1];
	const char *vals[13];
	char *subj = detector_safe_text(sc->subject_masked    ? sc->subject_masked
						: sc->subject ? sc->subject
							      : "",
					300);
	time_t now = time(NULL);
	struct tm tm;

	buf_init(&rcpts, 256);
	buf_init(&matches, 256);
	buf_init(&body, 1024);
	for (size_t i = 0; i < env->nrcpt && i < 50; i++) {
		char a[SCAN_ADDR_MAX + 1];

		buf_printf(&rcpts, "%s%s", i ? ", " : "",
			   detector_addr_bare(env->rcpt[i].addr, a, sizeof(a)));
	}
	if (env->nrcpt > 50)
		buf_printf(&rcpts, " (and %zu more)", env->nrcpt - 50);
	detector_matches_text(sc, p, &matches);
	gmtime_r(&now, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M:%S UTC", &tm);
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	vals[0] = p->name;
	vals[1] = detector_severity_name(p->severity);
	vals[2] = p->monitor ? "monitor" : "prevent";
	vals[3] = p->monitor || var_trial_mode ? "none (monitor)" : scan_action_name(d->action);
	vals[4] = detector_addr_bare(env->mail_from ? env->mail_from : "<>", sender,
				     sizeof(sender));
	vals[5] = rcpts.data;
	vals[6] = subj;
	vals[7] = matches.data;
	vals[8] = d->incident;
	vals[9] = tbuf;
	vals[10] = env->cid;
	vals[11] = sc->message_id ? sc->message_id : "";
	vals[12] = NULL;
	expand(tpl, keys, vals, &body);
	conf_helo_name(host, sizeof(host));
	buf_printf(msg, "%s\r\n", var_default_pass_header);
	buf_printf(msg, "From: dlpgate <%s>\r\nTo: ", from);
	for (size_t i = 0; i < to->count; i++)
		buf_printf(msg, "%s%s", i ? ",\r\n " : "", to->items[i]);
	buf_printf(msg, "\r\nSubject: DLP incident %s: policy %s (%s)\r\n", d->incident,
		   p->name, detector_severity_name(p->severity));
	buf_printf(msg, "Date: %s\r\nMessage-ID: <%s.%s@%s>\r\n", date, d->incident, p->name,
		   host);
	buf_printf(msg,
		   "Auto-Submitted: auto-generated\r\nX-DLP-Incident: %s\r\n"
		   "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
		   "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
		   d->incident);
	qp_encode(body.data, msg);
	free(subj);
	buf_free(&rcpts);
	buf_free(&matches);
	buf_free(&body);
}

/* spool_write - put one notification in the queue directory */
static int spool_write(const char *from, const struct det_list *to, int attempts, time_t queued,
		       const char *data, size_t len, const char *name, time_t next, char *err,
		       size_t errlen)
{
	char path[PATH_MAX];
	struct file_replace fr;
	struct buf hdr;
	struct timeval tv[2];
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s", var_notify_queue_directory, name);
	buf_init(&hdr, 256);
	buf_printf(&hdr, "queued\t%lld\nattempts\t%d\nfrom\t%s\n", (long long) queued, attempts,
		   from);
	for (size_t i = 0; i < to->count; i++)
		buf_printf(&hdr, "rcpt\t%s\n", to->items[i]);
	buf_putc(&hdr, '\n');
	if (file_replace_open(&fr, path, 0600, (uid_t) -1, (gid_t) -1, err, errlen) == 0
	    && file_replace_write(&fr, hdr.data, hdr.len, err, errlen) == 0
	    && file_replace_write(&fr, data, len, err, errlen) == 0) {
		/* the mtime is the time of the next attempt */
		tv[0].tv_sec = tv[1].tv_sec = next;
		tv[0].tv_usec = tv[1].tv_usec = 0;
		(void) futimes(fr.fd, tv);
		rc = file_replace_commit(&fr, err, errlen);
	}
	buf_free(&hdr);
	return rc;
}

/* detector_notify_queue - one notification per firing policy that asks */
void detector_notify_queue(const struct det_scan *sc, const struct envelope *env,
			   const struct det_decision *d)
{
	char from[SCAN_ADDR_MAX + 1], err[CONF_ERR_MAX];
	char *tpl = NULL;

	notify_from(from, sizeof(from));
	for (size_t i = 0; i < d->nfired; i++) {
		const struct det_policy *p = &sc->ps->policies[d->fired[i]];
		struct det_list to = {0};
		struct buf msg;
		char name[96];
		static unsigned seq;

		for (size_t k = 0; k < p->notify.count; k++)
			detector_list_add(&to, p->notify.items[k]);
		if (p->notify_sender && env->mail_from && strcmp(env->mail_from, "<>") != 0)
			detector_list_add(&to, env->mail_from);
		if (to.count == 0)
			continue;
		if (tpl == NULL)
			tpl = read_template();
		buf_init(&msg, 2048);
		notify_message(sc, env, d, p, from, &to, tpl, &msg);
		snprintf(name, sizeof(name), "%s.%zu.%ld.%u", d->incident, i, (long) getpid(),
			 seq++);
		if (spool_write(from, &to, 0, time(NULL), msg.data, msg.len, name, time(NULL),
				err, sizeof(err))
		    < 0)
			evt_error(NOTIFY_FAIL, env->cid,
				  "incident=%s policy=%s dir=%s reason=\"%s\"", d->incident,
				  p->name, var_notify_queue_directory, err);
		else
			evt_info(NOTIFY_QUEUED, env->cid,
				 "incident=%s policy=%s id=%s rcpts=%zu", d->incident, p->name,
				 name, to.count);
		buf_free(&msg);
		detector_list_free(&to);
	}
	free(tpl);
}

/* smtp_reply - read one reply; its code, or -1 if the connection failed */
static int smtp_reply(struct stream *s, char *text, size_t len)
{
	char *line;
	size_t n;

	for (int lines = 0; lines < 100; lines++) {
		if (stream_getline(s, &line, &n, 1000, NULL) != STREAM_OK || n < 3)
			return -1;
		snprintf(text, len, "%s", line);
		if (n == 3 || line[3] != '-')
			return atoi(line);
	}
	return -1;
}

/* smtp_cmd - a command and its reply code */
static int smtp_cmd(struct stream *s, char *text, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int smtp_cmd(struct stream *s, char *text, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&s->wbuf, fmt, ap);
	va_end(ap);
	buf_append(&s->wbuf, "\r\n", 2);
	if (stream_flush(s) != STREAM_OK)
		return -1;
	return smtp_reply(s, text, len);
}

/* relay_connect - a connection to notify_relay, or -1 */
static int relay_connect(char *why, size_t len)
{
	char host[256], port[32];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	int fd = -1, rc;

	if (inet_split_hostport(var_notify_relay, host, sizeof(host), port, sizeof(port), "25")
	    < 0) {
		snprintf(why, len, "bad notify_relay");
		return -1;
	}
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(why, len, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = inet_connect(ai->ai_addr, ai->ai_addrlen, var_notify_timeout, NULL, why,
				  len);
	freeaddrinfo(res);
	return fd;
}

/* smtp_send - deliver one message; 0 sent, 4 try later, 5 give up */
static int smtp_send(const char *from, const struct det_list *to, const char *data, size_t len,
		     char *why, size_t wlen)
{
	struct stream *s;
	char text[1024], host[256];
	int fd, code, ok = 0, rc = 4;

	if ((fd = relay_connect(why, wlen)) < 0)
		return 4;
	s = stream_open(fd, var_notify_timeout);
	conf_helo_name(host, sizeof(host));
	if ((code = smtp_reply(s, text, sizeof(text))) != 220)
		goto fail;
	if ((code = smtp_cmd(s, text, sizeof(text), "EHLO %s", host)) != 250
	    && (code = smtp_cmd(s, text, sizeof(text), "HELO %s", host)) != 250)
		goto fail;
	if ((code = smtp_cmd(s, text, sizeof(text), "MAIL FROM:<%s>", from)) != 250)
		goto fail;
	for (size_t i = 0; i < to->count; i++) {
		if ((code = smtp_cmd(s, text, sizeof(text), "RCPT TO:%s", to->items[i])) / 100
		    == 2)
			ok++;
		else if (code < 0 || code / 100 == 4)
			goto fail;
	}
	if (ok == 0)
		goto fail;
	if ((code = smtp_cmd(s, text, sizeof(text), "DATA")) != 354)
		goto fail;
	for (size_t pos = 0; pos < len;) {
		const char *lf = memchr(data + pos, '\n', len - pos);
		size_t end = lf ? (size_t) (lf - data) + 1 : len;

		if (data[pos] == '.')
			stream_write(s, ".", 1);
		stream_write(s, data + pos, end - pos);
		pos = end;
	}
	if ((code = smtp_cmd(s, text, sizeof(text), ".")) / 100 != 2)
		goto fail;
	(void) smtp_cmd(s, text, sizeof(text), "QUIT");
	stream_close(s);
	return 0;
fail:
	if (code < 0)
		snprintf(why, wlen, "%s", stream_strerror(s->err ? s->err : STREAM_EOF));
	else {
		snprintf(why, wlen, "%s", text);
		rc = code / 100 == 5 ? 5 : 4;
	}
	stream_close(s);
	return rc;
}

/* spool_parse - the header of a spool file */
static int spool_parse(char *text, size_t len, time_t *queued, int *attempts, char *from,
		       size_t flen, struct det_list *to, size_t *body)
{
	char *p = text, *end = text + len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t) (end - p)), *tab;

		if (nl == NULL)
			return -1;
		if (nl == p) {
			*body = (size_t) (nl + 1 - text);
			return to->count ? 0 : -1;
		}
		*nl = 0;
		if ((tab = strchr(p, '\t')) == NULL)
			return -1;
		*tab++ = 0;
		if (strcmp(p, "queued") == 0)
			*queued = (time_t) atoll(tab);
		else if (strcmp(p, "attempts") == 0)
			*attempts = atoi(tab);
		else if (strcmp(p, "from") == 0)
			snprintf(from, flen, "%s", tab);
		else if (strcmp(p, "rcpt") == 0 && to->count < DET_MAX_NOTIFY + 1)
			detector_list_add(to, tab);
		p = nl + 1;
	}
	return -1;
}

/* notify_one - try one spool file that is due */
static void notify_one(const char *name)
{
	char path[PATH_MAX], from[SCAN_ADDR_MAX + 1] = "", why[512] = "";
	char err[CONF_ERR_MAX];
	struct det_list to = {0};
	struct stat st;
	char *text = NULL;
	size_t body = 0;
	time_t queued = 0, now = time(NULL);
	int fd, attempts = 0, rc;

	snprintf(path, sizeof(path), "%s/%s", var_notify_queue_directory, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0 || st.st_nlink == 0
	    || st.st_mtime > now || st.st_size > 16 * 1024 * 1024) {
		close(fd);
		return; /* another detector has it, or not due */
	}
	text = xmalloc((size_t) st.st_size + 1);
	if (read(fd, text, (size_t) st.st_size) != st.st_size
	    || spool_parse(text, (size_t) st.st_size, &queued, &attempts, from, sizeof(from),
			   &to, &body)
		    < 0) {
		evt_error(NOTIFY_EXPIRED, NULL, "id=%s reason=\"unreadable spool file\"", name);
		unlink(path);
		goto out;
	}
	rc = smtp_send(from, &to, text + body, (size_t) st.st_size - body, why, sizeof(why));
	if (rc == 0) {
		evt_info(NOTIFY_SENT, NULL, "id=%s relay=%s rcpts=%zu attempts=%d", name,
			 var_notify_relay, to.count, attempts + 1);
		unlink(path);
	} else if (rc == 5 || now - queued > var_notify_max_age) {
		evt_error(NOTIFY_EXPIRED, NULL, "id=%s relay=%s attempts=%d reason=\"%s\"",
			  name, var_notify_relay, attempts + 1, why);
		unlink(path);
	} else {
		long delay = var_notify_retry_time;

		for (int i = 0; i < attempts && delay < NOTIFY_BACKOFF_MAX; i++)
			delay *= 2;
		if (delay > NOTIFY_BACKOFF_MAX)
			delay = NOTIFY_BACKOFF_MAX;
		evt_warn(NOTIFY_DEFER, NULL,
			 "id=%s relay=%s attempts=%d retry=%lds reason=\"%s\"", name,
			 var_notify_relay, attempts + 1, delay, why);
		if (spool_write(from, &to, attempts + 1, queued, text + body,
				(size_t) st.st_size - body, name, now + delay, err, sizeof(err))
		    < 0)
			evt_error(NOTIFY_FAIL, NULL, "id=%s dir=%s reason=\"%s\"", name,
				  var_notify_queue_directory, err);
	}
out:
	free(text);
	detector_list_free(&to);
	close(fd);
}

/* detector_notify_run - send up to max due notifications; how many were due */
int detector_notify_run(int max, time_t *next)
{
	DIR *dir;
	struct dirent *de;
	time_t now = time(NULL);
	int looked = 0, tried = 0;

	*next = 0;
	if ((dir = opendir(var_notify_queue_directory)) == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL && looked < NOTIFY_SCAN_MAX) {
		struct stat st;
		char path[PATH_MAX];

		looked++;
		snprintf(path, sizeof(path), "%s/%s", var_notify_queue_directory, de->d_name);
		if (de->d_name[0] == '.') {
			/* a temporary file of file_replace: old, a writer died */
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")
			    && lstat(path, &st) == 0 && S_ISREG(st.st_mode)
			    && st.st_mtime + 3600 < now)
				unlink(path);
			continue;
		}
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (st.st_mtime > now || tried >= max) {
			time_t t = st.st_mtime > now ? st.st_mtime : now;

			if (*next == 0 || t < *next)
				*next = t;
			continue;
		}
		tried++;
		notify_one(de->d_name);
		if (lstat(path, &st) == 0 && (*next == 0 || st.st_mtime < *next))
			*next = st.st_mtime;
	}
	closedir(dir);
	return tried;
}
