/*
 * detector - scan messages and give verdicts to the smtpd-proxy workers
 *
 * SYNOPSIS
 *	detector (started by master; see master.conf)
 *
 * DESCRIPTION
 *	A small pool of detector processes (process_min_avail of them) serves
 *	the workers on run_directory/private/detector (SOCK_SEQPACKET). Each
 *	worker keeps one connection for its life; a detector serves many such
 *	connections, one request at a time (server_multi_loop). Each request
 *	is one SCAN_REQ record with the message and its envelope, each inside
 *	the record when small, else in a sealed memfd (common/scan.h). The
 *	detector answers each with one SCAN_VERDICT: the policies' decision
 *	(detector_verdict.c), after the incident, if any, is on disk.
 *
 *	Every request is checked before it is used: the peer's uid
 *	(SO_PEERCRED), the record (common/ipc.c), one descriptor for each part
 *	not inside it, each a memfd sealed against change, every part of the
 *	announced size, and an envelope that parses. A bad request gets a SCAN_ERROR and the
 *	connection is dropped; the detector itself never stops for a peer.
 *
 *	Policies are loaded once, when the process starts
 *	(detector_policy_startup: the same for every child of a master
 *	generation, the last good ones when policy_file is broken). A
 *	detector with no usable policies at all exits, and the workers apply
 *	detector_failure.
 *
 *	Before it drops privileges, the detector makes the directories its
 *	user needs: run_directory/detector (the last good policies),
 *	notify_queue_directory, and the incident log's directory.
 *
 *	Notifications are queued after the verdict has gone back, and sent
 *	by a notification runner: a child process the detector forks when it
 *	has queued one (or finds the queue not empty at start). The runner
 *	delivers what is due, sleeps until the next retry, and exits when the
 *	queue is empty or its detector is gone; SMTP never blocks the
 *	detector's requests.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <bsd/unistd.h>

#include "conf.h"
#include "conf_params.h"
#include "evt.h"
#include "inet.h"
#include "ipc.h"
#include "mem.h"
#include "msg.h"
#include "scan.h"
#include "server.h"
#include "detector.h"

#define DETECTOR_WORKER_USER  "dlpgate"
#define DETECTOR_ENV_MAX      (64 * 1024 * 1024)
#define DETECTOR_NOTIFY_TICK  30 /* seconds between idle spool looks */
#define DETECTOR_NOTIFY_BATCH 20
#define DETECTOR_READ_MAX     (1024 * 1024) /* smaller messages are read, not mapped */

static uid_t detector_worker_uid = (uid_t) -1;
static struct det_policyset *detector_ps;
static const char *detector_confdir;

/* detector_peer_ok - may this peer ask for verdicts? */
static int detector_peer_ok(int fd, char *why, size_t len)
{
	uid_t uid;
	pid_t pid;

	if (ipc_peer_cred(fd, &uid, &pid) < 0) {
		snprintf(why, len, "no peer credentials: %s", strerror(errno));
		return 0;
	}
	if (uid == getuid() || uid == 0 || uid == detector_worker_uid)
		return 1;
	snprintf(why, len, "peer uid %ld pid %ld is not a worker", (long) uid, (long) pid);
	return 0;
}

/* detector_reply_error - answer SCAN_ERROR */
static void detector_reply_error(int fd, const char *reason)
{
	struct ipc_out out;

	ipc_out_init(&out, SCAN_ERROR);
	ipc_put_str(&out, SCAN_TAG_REASON, reason);
	(void) ipc_send(fd, &out, NULL, 0, 5);
	ipc_out_free(&out);
}

/* detector_read_envelope - the envelope, inline or in its memfd */
static int detector_read_envelope(const struct ipc_msg *msg, uint64_t size, int first,
				  struct envelope *env, char *why, size_t len)
{
	const struct ipc_attr *inline_env = ipc_get(msg, SCAN_TAG_ENVELOPE);
	char err[256];
	void *map;
	int rc;

	if (size == 0 || size > DETECTOR_ENV_MAX) {
		snprintf(why, len, "envelope size %llu out of range",
			 (unsigned long long) size);
		return -1;
	}
	if (inline_env) {
		if (msg->nfds != first || inline_env->len != size) {
			snprintf(why, len, "inline envelope of %u bytes, announced %llu",
				 inline_env->len, (unsigned long long) size);
			return -1;
		}
		rc = envelope_parse(env, (const char *) inline_env->val, size, err,
				    sizeof(err));
	} else {
		if (msg->nfds != first + 1
		    || scan_memfd_check(msg->fds[first], size, why, len) < 0)
			return -1;
		map = mmap(NULL, (size_t) size, PROT_READ, MAP_PRIVATE, msg->fds[first], 0);
		if (map == MAP_FAILED) {
			snprintf(why, len, "mmap envelope: %s", strerror(errno));
			return -1;
		}
		rc = envelope_parse(env, map, (size_t) size, err, sizeof(err));
		munmap(map, (size_t) size);
	}
	if (rc < 0)
		snprintf(why, len, "bad envelope: %s", err);
	return rc;
}

/* detector_answer - send the verdict */
static int detector_answer(int fd, const struct det_decision *d)
{
	struct ipc_out out;
	int rc;

	ipc_out_init(&out, SCAN_VERDICT);
	ipc_put_u32(&out, SCAN_TAG_ACTION, d->action);
	if (d->action == SCAN_BLOCK)
		ipc_put_str(&out, SCAN_TAG_REPLY, d->reply);
	if (d->action == SCAN_REDIRECT)
		for (size_t i = 0; i < d->rcpt.count; i++)
			ipc_put_str(&out, SCAN_TAG_RCPT, d->rcpt.items[i]);
	if (d->action == SCAN_PASS || d->action == SCAN_MODIFY || d->action == SCAN_REDIRECT) {
		for (size_t i = 0; i < d->headers.count; i++)
			ipc_put_str(&out, SCAN_TAG_HEADER, d->headers.items[i]);
		if (d->subject)
			ipc_put_str(&out, SCAN_TAG_SUBJECT, d->subject);
	}
	for (size_t i = 0; i < d->nfired && i < 32; i++)
		ipc_put_str(&out, SCAN_TAG_POLICY, detector_ps->policies[d->fired[i]].name);
	if (d->nfired) {
		ipc_put_str(&out, SCAN_TAG_SEVERITY, detector_severity_name(d->severity));
		ipc_put_str(&out, SCAN_TAG_INCIDENT, d->incident);
	}
	rc = ipc_send(fd, &out, NULL, 0, var_detector_timeout);
	ipc_out_free(&out);
	return rc;
}

/* detector_policy_list - "a,b,c" for logs */
static void detector_policy_list(const struct det_decision *d, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < d->nfired && used + 2 < len; i++)
		used += (size_t) snprintf(buf + used, len - used, "%s%s", i ? "," : "",
					  detector_ps->policies[d->fired[i]].name);
	if (d->unscannable && used + 2 < len)
		used += (size_t) snprintf(buf + used, len - used, "%s%s", used ? "," : "",
					  DET_UNSCANNABLE_POLICY);
	if (used == 0)
		snprintf(buf, len, "-");
}

/*
 * detector_load - the message's bytes, or NULL with errno. Small ones are
 * read into a buffer kept for the next request: unmapping makes every CPU
 * the process ran on flush its TLB, which costs more than the copy (a
 * third of the detector's time with 1 KB messages on a 2-core VM). Large
 * ones are mapped; *mapped says which to undo with detector_unload().
 */
static const char *detector_load(int fd, size_t size, int *mapped)
{
	static char *buf;
	size_t got = 0;
	void *map;

	*mapped = size > DETECTOR_READ_MAX;
	if (*mapped) {
		map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		return map == MAP_FAILED ? NULL : map;
	}
	if (buf == NULL)
		buf = xmalloc(DETECTOR_READ_MAX);
	while (got < size) {
		ssize_t n = pread(fd, buf + got, size - got, (off_t) got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* shorter than sealed and announced */
			return NULL;
		}
		got += (size_t) n;
	}
	return buf;
}

/* detector_unload - let go of what detector_load() gave */
static void detector_unload(const char *m, size_t size, int mapped)
{
	if (mapped)
		munmap((void *) m, size);
}

/* detector_verdict - scan, decide, record, answer, notify */
static int detector_verdict(int fd, const struct envelope *env, int msg_fd,
			    const char *inline_msg, uint64_t msg_size, uint32_t deadline)
{
	struct det_scan sc;
	struct det_decision d;
	struct timespec t0, t1;
	char policies[512];
	const char *m = NULL;
	size_t above = 0;
	int rc, timeout_ms, mapped = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (inline_msg)
		m = msg_size > 0 ? inline_msg : NULL;
	else if (msg_size > 0
		 && (m = detector_load(msg_fd, (size_t) msg_size, &mapped)) == NULL) {
		detector_reply_error(fd, "cannot read the message");
		return -1;
	}
	if (deadline == 0 || deadline > (uint32_t) var_detector_timeout)
		deadline = (uint32_t) var_detector_timeout;
	/* leave the worker time to hear the answer */
	timeout_ms = (int) deadline * 800;
	if (detector_scan_init(&sc, detector_ps, (size_t) msg_size, timeout_ms) < 0) {
		detector_reply_error(fd, "out of scratch memory");
		rc = -1;
		goto unmap;
	}
	if (m && detector_loop_guarded(env, m, (size_t) msg_size, &above)) {
		/* what the mark covers was scanned; what came on top of it was not */
		evt_info(DET_LOOP, env->cid, "client=%s covered=%llu", env->client_addr,
			 (unsigned long long) (msg_size - above));
		detector_loop_scan_above(&sc, m, above);
		detector_decide(&sc, env, &d);
		if (d.action == SCAN_PASS && !d.nfired) {
			detector_decision_free(&d);
			detector_decision_unscanned(&d, NULL); /* its headers are there */
		}
	} else {
		if (m)
			detector_mime_scan(&sc, m, (size_t) msg_size);
		detector_decide(&sc, env, &d);
		detector_loop_mark(env, m ? m : "", (size_t) msg_size, &d);
	}
	/* an incident for every policy that fired, and for every message
	 * stopped because it could not be scanned completely */
	if (d.nfired || d.unscannable) {
		detector_incident_id(d.incident, sizeof(d.incident));
		(void) detector_incident_write(&sc, env, &d);
	}
	rc = detector_answer(fd, &d);
	/* the SIEM copy after the answer: a slow syslog server never holds mail */
	if (d.nfired || d.unscannable)
		detector_incident_syslog(&sc, env, &d);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	detector_policy_list(&d, policies, sizeof(policies));
	if (sc.timed_out)
		evt_warn(DET_TIMEOUT, env->cid, "limit=%dms action=%s", timeout_ms,
			 scan_action_name(d.action));
	else if (sc.incomplete)
		evt_warn(DET_INCOMPLETE, env->cid,
			 "reason=%s unscannable_action=%s "
			 "action=%s",
			 evt_quote(sc.incomplete_why), CONF_NAME(unscannable_action),
			 scan_action_name(d.action));
	if (d.nfired || d.unscannable)
		evt_info(INCIDENT, env->cid, "incident=%s policies=%s severity=%s action=%s%s",
			 d.incident, policies, detector_severity_name(d.severity),
			 scan_action_name(d.action), d.monitor_only ? " (monitor)" : "");
	evt_info(DET_VERDICT, env->cid,
		 "action=%s policies=%s size=%llu rcpts=%zu "
		 "parts=%u decoded=%zu complete=%s time=%.3f",
		 scan_action_name(d.action), policies, (unsigned long long) msg_size,
		 env->nrcpt, sc.parts, sc.decoded, sc.incomplete ? "no" : "yes",
		 (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
	/* after the answer: notifications never hold the message up */
	if (d.nfired) {
		detector_notify_queue(&sc, env, &d);
		detector_notify_kick();
	}
	detector_decision_free(&d);
	detector_scan_free(&sc);
unmap:
	if (m && !inline_msg)
		detector_unload(m, (size_t) msg_size, mapped);
	return rc;
}

/* detector_request - check one request and answer it; -1 ends the connection */
static int detector_request(int fd, struct ipc_msg *msg)
{
	const struct ipc_attr *body = ipc_get(msg, SCAN_TAG_MESSAGE);
	int nbody = body ? 0 : 1; /* descriptors the message takes */
	char why[512], cid[32];
	uint64_t msg_size, env_size;
	uint32_t deadline = 0;
	struct envelope env;
	int rc;

	if (msg->type != SCAN_REQ || msg->nfds < nbody || msg->nfds > nbody + 1
	    || ipc_get_u64(msg, SCAN_TAG_MSG_SIZE, &msg_size) < 0
	    || ipc_get_u64(msg, SCAN_TAG_ENV_SIZE, &env_size) < 0
	    || ipc_get_str(msg, SCAN_TAG_CID, 31, cid, sizeof(cid)) == NULL) {
		snprintf(why, sizeof(why), "malformed request (type %u, %d descriptors)",
			 msg->type, msg->nfds);
		goto bad;
	}
	(void) ipc_get_u32(msg, SCAN_TAG_DEADLINE, &deadline);
	if (msg_size > (uint64_t) SIZE_MAX / 2) {
		snprintf(why, sizeof(why), "message size %llu out of range",
			 (unsigned long long) msg_size);
		goto bad;
	}
	if (body && body->len != msg_size) {
		snprintf(why, sizeof(why), "inline message of %u bytes, announced %llu",
			 body->len, (unsigned long long) msg_size);
		goto bad;
	}
	if ((!body && scan_memfd_check(msg->fds[0], msg_size, why, sizeof(why)) < 0)
	    || detector_read_envelope(msg, env_size, nbody, &env, why, sizeof(why)) < 0)
		goto bad;
	rc = detector_verdict(fd, &env, body ? -1 : msg->fds[0],
			      body ? (const char *) body->val : NULL, msg_size, deadline);
	envelope_free(&env);
	ipc_close_fds(msg);
	return rc == IPC_OK ? 0 : -1;
bad:
	evt_warn(DET_BADREQ, NULL, "reason=\"%s\"", why);
	detector_reply_error(fd, why);
	ipc_close_fds(msg);
	return -1;
}

/* detector_accept - a worker connects: is it one of ours? */
static int detector_accept(int fd)
{
	char why[256];

	if (detector_peer_ok(fd, why, sizeof(why)))
		return 0;
	evt_warn(DET_BADREQ, NULL, "reason=\"%s\"", why);
	return -1;
}

/* detector_worker_gone - has the worker closed its end already? */
static int detector_worker_gone(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLRDHUP};

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP));
}

/* detector_readable - one request from a worker; -1 drops the connection */
static int detector_readable(int fd)
{
	static struct ipc_msg msg;
	char why[256];
	int rc = ipc_recv(fd, &msg, 0, why, sizeof(why)); /* epoll said so */

	if (rc == IPC_EOF || rc == IPC_TIMEOUT)
		return -1;
	if (rc != IPC_OK) {
		evt_warn(DET_BADREQ, NULL, "reason=\"%s\"", why);
		detector_reply_error(fd, why);
		return -1;
	}
	if (detector_worker_gone(fd)) {
		/* it gave up waiting (tempfail): a scan now would only duplicate
		 * the incident and notifications of the retry */
		evt_info(DET_STALE, NULL, "reason=\"the worker stopped waiting\"");
		ipc_close_fds(&msg);
		return -1;
	}
	return detector_request(fd, &msg);
}

/* detector_runner_loop - the notification runner: deliver, wait, repeat */
static void detector_runner_loop(pid_t detector)
{
	char ident[128];

	closefrom(3); /* nothing of the detector's: no sockets, no epoll */
	snprintf(ident, sizeof(ident), "%s/detector", var_syslog_name);
	msg_open(ident, server.foreground ? MSG_TO_STDERR : MSG_TO_SYSLOG, var_syslog_facility);
	server_title("%s notify", server.service ? server.service : "detector");
	for (;;) {
		time_t next, now;

		(void) detector_notify_run(DETECTOR_NOTIFY_BATCH, &next);
		if (next == 0 || getppid() != detector)
			_exit(0); /* queue empty, or our detector is gone */
		now = time(NULL);
		sleep((unsigned) (next <= now ? 1
					  : next - now > DETECTOR_NOTIFY_TICK
					  ? DETECTOR_NOTIFY_TICK
					  : next - now));
	}
}

/* detector_notify_kick - make sure a notification runner is at work */
void detector_notify_kick(void)
{
	static pid_t runner;
	pid_t pid, me = getpid();

	if (runner > 0 && waitpid(runner, NULL, WNOHANG) == 0)
		return; /* still running */
	runner = 0;
	if ((pid = fork()) < 0) {
		msg_warn("fork notification runner: %m");
		return;
	}
	if (pid == 0)
		detector_runner_loop(me);
	runner = pid;
}

/* detector_mkdir - a directory for our user; fchown when we are root */
static void detector_mkdir(const char *path, mode_t mode, const struct passwd *pw,
			   int own_existing)
{
	int created = mkdir(path, mode) == 0, fd;

	if (!created && errno != EEXIST) {
		evt_error(DET_STATE, NULL, "path=%s reason=\"mkdir: %s\"", path,
			  strerror(errno));
		return;
	}
	if (pw == NULL || (!created && !own_existing))
		return;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0
	    || fchown(fd, pw->pw_uid, pw->pw_gid) < 0 || fchmod(fd, mode) < 0)
		evt_error(DET_STATE, NULL, "path=%s reason=\"%s\"", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* detector_mkdirs - the directories above path (not path itself) */
static void detector_mkdirs(const char *path, const struct passwd *pw)
{
	char dir[PATH_MAX];

	strlcpy(dir, path, sizeof(dir));
	for (char *cp = dir + 1; *cp; cp++) {
		if (*cp != '/')
			continue;
		*cp = 0;
		if (access(dir, F_OK) < 0)
			detector_mkdir(dir, 0750, pw, 0);
		*cp = '/';
	}
}

/* detector_prepare - as root: the directories and files our user needs */
static void detector_prepare(void)
{
	struct passwd *pw = NULL;
	char path[PATH_MAX];

	if (geteuid() == 0 && server.user && (pw = getpwnam(server.user)) == NULL)
		return; /* server_init will say so */
	snprintf(path, sizeof(path), "%s/detector", var_run_directory);
	detector_mkdir(path, 0700, pw, 1);
	if (*var_notify_queue_directory) {
		detector_mkdirs(var_notify_queue_directory, pw);
		detector_mkdir(var_notify_queue_directory, 0700, pw, 0);
	}
	if (*var_incident_log) {
		int fd;
		struct stat st;

		detector_mkdirs(var_incident_log, pw);
		if (pw && lstat(var_incident_log, &st) < 0
		    && (fd = open(var_incident_log,
				  O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640))
			    >= 0) {
			if (fchown(fd, pw->pw_uid, pw->pw_gid) < 0)
				evt_error(DET_STATE, NULL, "path=%s reason=\"%s\"",
					  var_incident_log, strerror(errno));
			close(fd);
		}
	}
}

int main(int argc, char **argv)
{
	struct passwd *pw;
	int fallback;
	DIR *dir;
	struct dirent *de;

	/* keep freed scan buffers in the heap: no page faults per message */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
	server_pre_init = detector_prepare;
	server_init(argc, argv, "detector");
	detector_confdir = conf_dir ? conf_dir : ".";
	if ((pw = getpwnam(DETECTOR_WORKER_USER)) != NULL)
		detector_worker_uid = pw->pw_uid;
	detector_loop_init();
	if ((detector_ps = detector_policy_startup(detector_confdir, &fallback)) == NULL)
		msg_fatal("no usable policies: refusing to start (workers apply "
			  "detector_failure = %s)",
			  CONF_NAME(detector_failure));
	evt_info(DET_STARTED, NULL, "policies=%zu source=%s%s", detector_ps->npolicies,
		 detector_ps->source, fallback ? " (last good copy)" : "");
	/* notifications left from before: a runner for them */
	if ((dir = opendir(var_notify_queue_directory)) != NULL) {
		while ((de = readdir(dir)) != NULL)
			if (de->d_name[0] != '.') { /* not a temporary .NAME.XXXXXX */
				detector_notify_kick();
				break;
			}
		closedir(dir);
	}
	server_multi_loop(detector_accept, detector_readable);
	detector_policy_free(detector_ps);
	return 0;
}
