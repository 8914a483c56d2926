/*
 * dlpscan - scan saved messages with the policies, a dry run
 *
 * SYNOPSIS
 *	dlpscan [-c confdir] [-o name=value]... [-f sender] [-r rcpt]... [-j]
 *		[-x] FILE.eml...
 *	dlpscan [-c confdir] [-o name=value]... -t
 *	dlpscan [-c confdir] [-o name=value]... -B runs FILE.eml...
 *
 * DESCRIPTION
 *	dlpscan reads dlpgate.conf and policy_file from confdir (default the
 *	installed one), scans each message file exactly as the detector
 *	would, and prints the verdict, the policies that fired, the rules
 *	that matched with masked samples, the headers that would be added
 *	and the new subject. Nothing is logged, recorded or sent.
 *
 *	The envelope comes from -f and -r; without them, from the From:,
 *	To: and Cc: headers of the message. A file may use LF or CRLF line
 *	ends. -j also prints the incident line the detector would write.
 *
 *	-x first prints every text unit the extractors hand to the matcher
 *	(decoded bodies, attachment text, a spreadsheet's rows, names,
 *	header values), each after a line "--- text of WHERE, N bytes";
 *	control characters other than tab and line feed as \xHH. This is
 *	the text the policies see, sensitive values unmasked: a tool for
 *	writing policies on one's own test messages.
 *
 *	-B runs scans each file that many times and prints the scan
 *	throughput in MB/s per core (CPU time of the scans alone, confined
 *	document readers included: parsing, decoding, matching, deciding;
 *	not reading the file or compiling the policies), and the best wall
 *	time of a scan. make bench uses it.
 *
 *	-t only checks the policies: "file:line: reason" and exit status 1
 *	when they are refused, a one-line summary and 0 when they load.
 *	`dlpgate check` runs `dlpscan -t` for the same answer.
 *
 * EXIT STATUS
 *	0 every file was scanned (whatever the verdicts), 1 a file could not
 *	be read or the policies were refused, 2 usage.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "scan.h"
#include "detector.h"

#ifndef DLP_SYSCONFDIR
#define DLP_SYSCONFDIR "/etc/dlpgate"
#endif

/* usage - explain the command line */
static void usage(void)
{
	fprintf(stderr,
		"usage: dlpscan [-c confdir] [-o name=value]... [-f sender] "
		"[-r rcpt]... [-j] [-x] FILE.eml...\n       dlpscan [-c confdir] -t\n");
	exit(2);
}

/* read_file - a whole file, line ends made CRLF as on the wire */
static int read_file(const char *path, struct buf *out)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int prev = 0;

	if (fp == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		const char *p = chunk, *end = chunk + n, *lf;

		while ((lf = memchr(p, '\n', (size_t) (end - p))) != NULL) {
			int cr = lf > chunk ? lf[-1] == '\r' : prev == '\r';

			buf_append(out, p, (size_t) (lf - p));
			buf_append(out, cr ? "\n" : "\r\n", cr ? 1 : 2);
			p = lf + 1;
		}
		buf_append(out, p, (size_t) (end - p));
		prev = (unsigned char) chunk[n - 1];
	}
	if (fp != stdin)
		fclose(fp);
	return 0;
}

/* header_addrs - addresses in one top-level header field */
static void header_addrs(const char *msg, size_t len, const char *name, struct envelope *env,
			 int sender)
{
	size_t nlen = strlen(name), pos = 0;

	while (pos < len) {
		const char *lf = memchr(msg + pos, '\n', len - pos);
		size_t end = lf ? (size_t) (lf - msg) + 1 : len;

		if (end - pos <= 2)
			break;
		if (end - pos > nlen && strncasecmp(msg + pos, name, nlen) == 0
		    && msg[pos + nlen] == ':') {
			/* the field with its continuation lines */
			size_t fend = end;
			char *field, *cp;

			while (fend < len && (msg[fend] == ' ' || msg[fend] == '\t')) {
				const char *l2 = memchr(msg + fend, '\n', len - fend);

				fend = l2 ? (size_t) (l2 - msg) + 1 : len;
			}
			field = xstrndup(msg + pos + nlen + 1, fend - pos - nlen - 1);
			for (cp = strtok(field, ",; \t\r\n"); cp;
			     cp = strtok(NULL, ",; \t\r\n")) {
				char addr[SCAN_ADDR_MAX];
				char *a = strchr(cp, '<') ? strchr(cp, '<') + 1 : cp;
				size_t n = strcspn(a, ">");

				if (memchr(a, '@', n) == NULL || n + 3 > sizeof(addr))
					continue;
				snprintf(addr, sizeof(addr), "<%.*s>", (int) n, a);
				if (sender && env->mail_from == NULL)
					env->mail_from = xstrdup(addr);
				else if (!sender)
					envelope_add_rcpt(env, addr, "");
			}
			free(field);
		}
		pos = end;
	}
}

/* show_unit - dlpscan -x: one text unit as the matcher gets it */
static void show_unit(void *ctx, unsigned where, const char *header, const char *data,
		      size_t len)
{
	struct buf b;

	(void) ctx;
	buf_init(&b, len + 64);
	buf_printf(&b, "--- text of %s%s%s, %zu bytes\n",
		   where == DET_W_SUBJECT           ? "the subject"
			   : where == DET_W_BODY    ? "a body"
			   : where == DET_W_ATTACH  ? "an attachment"
			   : where == DET_W_ATTNAME ? "an attachment name"
						    : "the header",
		   header ? " " : "", header ? header : "", len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) data[i];

		if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
			buf_printf(&b, "\\x%02x", c);
		else
			buf_putc(&b, c);
	}
	if (len > 0 && data[len - 1] != '\n')
		buf_putc(&b, '\n');
	/* a confined reader prints too: straight out, before it exits */
	fwrite(b.data, 1, b.len, stdout);
	fflush(stdout);
	buf_free(&b);
}

/* print_decision - what the detector would do */
static void print_decision(const char *path, const struct det_scan *sc,
			   const struct envelope *env, struct det_decision *d, int json)
{
	printf("%s: verdict=%s", path, scan_action_name(d->action));
	if (d->action == SCAN_BLOCK)
		printf(" reply=\"%s\"", d->reply);
	printf(" from=%s rcpts=%zu\n", env->mail_from ? env->mail_from : "<>", env->nrcpt);
	for (size_t i = 0; i < d->nfired; i++) {
		const struct det_policy *p = &sc->ps->policies[d->fired[i]];
		struct buf m;

		printf("  policy %s: severity=%s mode=%s action=%s%s\n", p->name,
		       detector_severity_name(p->severity), p->monitor ? "monitor" : "prevent",
		       detector_action_name(p->action),
		       p->monitor || var_trial_mode ? " (not enforced)" : "");
		buf_init(&m, 256);
		detector_matches_text(sc, p, &m);
		printf("%s", m.data);
		buf_free(&m);
	}
	if (d->nfired == 0)
		printf("  no policy fired\n");
	for (size_t i = 0; i < d->rcpt.count; i++)
		printf("  redirect to %s\n", d->rcpt.items[i]);
	for (size_t i = 0; i < d->headers.count; i++)
		printf("  add header %s\n", d->headers.items[i]);
	if (d->subject)
		printf("  new subject %s\n", d->subject);
	if (sc->incomplete)
		printf("  not scanned completely: %s (unscannable_action = %s)\n",
		       sc->incomplete_why, CONF_NAME(unscannable_action));
	if (json && (d->nfired || d->unscannable)) {
		struct buf b;

		buf_init(&b, 1024);
		snprintf(d->incident, sizeof(d->incident), "DRYRUN");
		detector_incident_line(&b, sc, env, d);
		printf("  incident %s\n", b.data);
		buf_free(&b);
	}
}

/* scan_file - one message file; 0 or -1 */
static int scan_file(const struct det_policyset *ps, const char *path, const char *from,
		     char *const *rcpts, size_t nrcpt, int json, int show)
{
	struct buf msg;
	struct envelope env;
	struct det_scan sc;
	struct det_decision d;

	buf_init(&msg, 65536);
	if (read_file(path, &msg) < 0) {
		fprintf(stderr, "dlpscan: %s: %s\n", path, strerror(errno));
		buf_free(&msg);
		return -1;
	}
	envelope_init(&env);
	snprintf(env.cid, sizeof(env.cid), "dlpscan");
	snprintf(env.client_addr, sizeof(env.client_addr), "127.0.0.1");
	if (from)
		env.mail_from = xasprintf("<%s>", from);
	for (size_t i = 0; i < nrcpt; i++) {
		char *a = xasprintf("<%s>", rcpts[i]);

		envelope_add_rcpt(&env, a, "");
		free(a);
	}
	if (env.mail_from == NULL)
		header_addrs(msg.data, msg.len, "From", &env, 1);
	if (nrcpt == 0) {
		header_addrs(msg.data, msg.len, "To", &env, 0);
		header_addrs(msg.data, msg.len, "Cc", &env, 0);
	}
	if (env.mail_from == NULL)
		env.mail_from = xstrdup("<>");
	if (detector_scan_init(&sc, ps, msg.len, var_detector_timeout * 1000) < 0) {
		fprintf(stderr, "dlpscan: cannot allocate Hyperscan scratch\n");
		exit(1);
	}
	if (show) {
		printf("%s: the text the policies see\n", path);
		fflush(stdout);
		sc.tap = show_unit;
	}
	detector_mime_scan(&sc, msg.data, msg.len);
	detector_decide(&sc, &env, &d);
	print_decision(path, &sc, &env, &d, json);
	detector_decision_free(&d);
	detector_scan_free(&sc);
	envelope_free(&env);
	buf_free(&msg);
	return 0;
}

/* cpu_now - CPU seconds of this process and of its reaped children (readers) */
static double cpu_now(void)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return (double) (self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec
			 + kids.ru_stime.tv_sec)
		+ (double) (self.ru_utime.tv_usec + self.ru_stime.tv_usec
			    + kids.ru_utime.tv_usec + kids.ru_stime.tv_usec)
		/ 1e6;
}

/* wall_now - the monotonic clock in seconds */
static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* bench_file - scan one file runs times; print MB/s per core */
static int bench_file(const struct det_policyset *ps, const char *path, int runs)
{
	struct buf msg;
	struct envelope env;
	double t0, w0, best = 1e9, wall = 1e9;
	unsigned fired = 0;

	buf_init(&msg, 65536);
	if (read_file(path, &msg) < 0) {
		fprintf(stderr, "dlpscan: %s: %s\n", path, strerror(errno));
		return -1;
	}
	envelope_init(&env);
	env.mail_from = xstrdup("<a@example.com>");
	envelope_add_rcpt(&env, "<b@example.net>", "");
	for (int r = 0; r < runs; r++) {
		struct det_scan sc;
		struct det_decision d;
		double t;

		t0 = cpu_now();
		w0 = wall_now();
		if (detector_scan_init(&sc, ps, msg.len, 600000) < 0)
			exit(1);
		detector_mime_scan(&sc, msg.data, msg.len);
		detector_decide(&sc, &env, &d);
		t = cpu_now() - t0;
		if (t < best)
			best = t;
		if (wall_now() - w0 < wall)
			wall = wall_now() - w0;
		fired = (unsigned) d.nfired;
		if (sc.incomplete)
			fprintf(stderr, "dlpscan: %s: not scanned completely (%s)\n", path,
				sc.incomplete_why);
		detector_decision_free(&d);
		detector_scan_free(&sc);
	}
	printf("%s: %.1f MB, best of %d: %.2f ms, %.0f MB/s per core, %u policies fired, "
	       "%.2f ms wall\n",
	       path, (double) msg.len / 1e6, runs, best * 1e3,
	       best > 0 ? (double) msg.len / 1e6 / best : 0.0, fired, wall * 1e3);
	envelope_free(&env);
	buf_free(&msg);
	return 0;
}

int main(int argc, char **argv)
{
	const char *confdir = DLP_SYSCONFDIR, *from = NULL;
	char **overrides = xcalloc((size_t) argc + 1, sizeof(char *));
	char **rcpts = xcalloc((size_t) argc + 1, sizeof(char *));
	size_t noverride = 0, nrcpt = 0;
	char err[CONF_ERR_MAX];
	struct det_policyset *ps;
	int ch, test = 0, json = 0, rc = 0, bench = 0, show = 0;

	msg_open("dlpscan", MSG_TO_STDERR, LOG_MAIL);
	/* keep freed scan buffers in the heap: no page faults per message */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
	while ((ch = getopt(argc, argv, "B:c:f:jo:r:tx")) != -1) {
		switch (ch) {
		case 'B':
			if ((bench = atoi(optarg)) <= 0)
				usage();
			break;
		case 'c':
			confdir = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'o':
			overrides[noverride++] = optarg;
			break;
		case 'r':
			rcpts[nrcpt++] = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'x':
			show = 1;
			break;
		default:
			usage();
		}
	}
	rc = conf_load(confdir, overrides, noverride, err, sizeof(err));
	free(overrides);
	if (rc < 0) {
		fprintf(stderr, "dlpscan: %s\n", err);
		free(rcpts);
		return 1;
	}
	msg_set_level(MSG_WARN);
	if (test) {
		if (optind != argc)
			usage();
		free(rcpts);
		rc = detector_policy_check(confdir, err, sizeof(err));
		fprintf(rc < 0 ? stderr : stdout, "dlpscan: %s\n", err);
		return rc < 0 ? 1 : 0;
	}
	if (optind == argc)
		usage();
	if ((ps = detector_policy_load(confdir, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dlpscan: %s\n", err);
		free(rcpts);
		return 1;
	}
	if (bench)
		printf("policies: %zu, rules: %zu, patterns: %zu, compiled in %.0f ms\n",
		       ps->npolicies, ps->nrules, ps->npats, ps->compile_ms);
	for (int i = optind; i < argc; i++)
		if ((bench ? bench_file(ps, argv[i], bench)
			   : scan_file(ps, argv[i], from, rcpts, nrcpt, json, show))
		    < 0)
			rc = 1;
	detector_policy_free(ps);
	free(rcpts);
	return rc;
}
