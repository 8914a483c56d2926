/*
 * master - supervise dlpgate's services
 *
 * SYNOPSIS
 *	master [-f] [-c confdir] [-o name=value]...
 *
 * DESCRIPTION
 *	master reads dlpgate.conf and the service table (master.conf), binds
 *	every listen socket itself (port 25 included, when started as root),
 *	and runs each service as a pool of children under its own user:
 *	the smtpd-proxy workers, the detector, tlsmgr. Like Postfix's master,
 *	it starts a child when a connection waits and no child is idle, and
 *	keeps process_min_avail children ready.
 *
 *	SIGHUP reloads: a valid new configuration becomes the next
 *	generation; children of the old one finish their sessions and exit.
 *	An invalid one is logged and ignored. SIGTERM (or SIGINT, as from
 *	^C in the foreground: the children ignore it) stops: no new
 *	sessions, sessions in flight get shutdown_timeout to finish,
 *	back-end services (detector, tlsmgr) stop last. A drain request on
 *	the control socket (dlpgate drain) stops the same way without the
 *	deadline: master exits when the last session in flight has ended.
 *
 *	run_directory/master.ctl is the control socket of dlpgate status and
 *	drain; metrics_listen an optional Prometheus listener (master_ctl.c).
 *
 *	-f stays in the foreground and logs to standard error; otherwise
 *	master detaches, writes run_directory/master.pid and logs to syslog.
 *
 * EXIT STATUS
 *	0 after a clean stop; 1 when the configuration is invalid, a socket
 *	cannot be bound, or another master runs (the reason is logged).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "conf.h"
#include "conf_params.h"
#include "evt.h"
#include "inet.h"
#include "mem.h"
#include "msg.h"
#include "master.h"
#include "master_check.h"
#include "master_conf.h"

#ifndef DLP_SYSCONFDIR
#define DLP_SYSCONFDIR "/etc/dlpgate"
#endif

#define MASTER_BACKLOG   4096
#define MASTER_BIND_WAIT 10        /* seconds: a dead master's children let go */
#define MASTER_GROUP     "dlpgate" /* may connect to private sockets */

struct master_child_list master_children = TAILQ_HEAD_INITIALIZER(master_children);
struct master_service *master_services;
size_t master_nservices;
struct master_conf master_table;
uint32_t master_generation = 1;
int master_foreground;
char **master_overrides;
size_t master_noverride;
const char *master_confdir = DLP_SYSCONFDIR;
int master_privsep;
time_t master_start_time;

static enum {
	MASTER_RUNNING,
	MASTER_DRAIN,     /* waiting for smtpd sessions, no deadline */
	MASTER_STOP_INET, /* waiting for smtpd sessions */
	MASTER_STOP_ALL,  /* waiting for back-end services */
} master_state = MASTER_RUNNING;

static time_t master_deadline;      /* shutdown_timeout expires */
static time_t master_kill_deadline; /* SIGTERM sent; SIGKILL after */
static int master_pid_fd = -1;
static char *master_pid_path;
static int master_sigpipe[2] = {-1, -1};
static volatile sig_atomic_t master_got_hup, master_got_term, master_got_chld;

/* master_signal - note a signal and wake the event loop */
static void master_signal(int sig)
{
	int saved = errno;

	if (sig == SIGHUP)
		master_got_hup = 1;
	else if (sig == SIGCHLD)
		master_got_chld = 1;
	else
		master_got_term = 1;
	if (write(master_sigpipe[1], "", 1) < 0) {
		/* the pipe is full: a wakeup is already pending */
	}
	errno = saved;
}

/* master_signals - install handlers and the self-pipe */
static void master_signals(void)
{
	struct sigaction sa;

	if (pipe2(master_sigpipe, O_NONBLOCK | O_CLOEXEC) < 0)
		msg_fatal("pipe: %m");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = master_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* master_private_dir - run_directory/private */
static const char *master_private_dir(char *buf, size_t len)
{
	snprintf(buf, len, "%s/private", var_run_directory);
	return buf;
}

/* master_group - gid of the group that may use private sockets */
static gid_t master_group(void)
{
	struct group *gr = getgrnam(MASTER_GROUP);

	if (gr == NULL)
		msg_fatal("group \"%s\" does not exist: run 'dlpgate setup'", MASTER_GROUP);
	return gr->gr_gid;
}

/* master_dirs - create the runtime directories with tight modes */
static void master_dirs(void)
{
	char priv[PATH_MAX];

	if (mkdir(var_run_directory, 0755) < 0 && errno != EEXIST)
		msg_fatal("cannot create run_directory %s: %m", var_run_directory);
	master_private_dir(priv, sizeof(priv));
	if (mkdir(priv, 0750) < 0 && errno != EEXIST)
		msg_fatal("cannot create %s: %m", priv);
	if (master_privsep) {
		if (chown(priv, 0, master_group()) < 0 || chmod(priv, 0750) < 0)
			msg_fatal("cannot set owner and mode of %s: %m", priv);
	} else if (chmod(priv, 0700) < 0) {
		msg_fatal("cannot set mode of %s: %m", priv);
	}
}

/*
 * master_inet_listen - bind a TCP service; the count, or -1 with err.
 *	At the first start the port may still be held by the children of
 *	a master that was killed: they close it when they notice, within
 *	moments. That is waited out, a bounded time, rather than failing a
 *	start that follows a crash.
 */
static int master_inet_listen(const char *spec, struct master_service *svc, char *err,
			      size_t errlen)
{
	time_t deadline = time(NULL) + MASTER_BIND_WAIT;
	int n, said = 0;

	while ((n = inet_listen(spec, "25", MASTER_BACKLOG, svc->fds + svc->nfds,
				SERVER_MAX_LISTEN - svc->nfds, err, errlen))
		       < 0
	       && errno == EADDRINUSE && master_nservices == 0 && time(NULL) < deadline) {
		if (!said++)
			msg_info("%s; waiting up to %d s for the processes of an "
				 "earlier instance to let it go",
				 err, MASTER_BIND_WAIT);
		usleep(100000);
	}
	if (n > 0)
		svc->nfds += n;
	return n;
}

/* master_open_listen - bind a service's sockets; -1 with err */
static int master_open_listen(struct master_service *svc, char *err, size_t errlen)
{
	struct master_svc_conf *c = svc->conf;

	svc->nfds = 0;
	for (size_t i = 0; i < c->nlisten; i++) {
		int n;

		if (strcmp(c->type, "unix") == 0) {
			char priv[PATH_MAX], path[PATH_MAX];

			snprintf(path, sizeof(path), "%s/%s",
				 master_private_dir(priv, sizeof(priv)), c->listen[i]);
			n = unix_listen(path, SOCK_SEQPACKET, master_privsep ? 0660 : 0600, err,
					errlen);
			if (n >= 0 && master_privsep && chown(path, 0, master_group()) < 0) {
				snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
				close(n);
				n = -1;
			}
			if (n >= 0)
				svc->fds[svc->nfds++] = n;
		} else {
			n = master_inet_listen(c->listen[i], svc, err, errlen);
		}
		if (n < 0) {
			char why[CONF_ERR_MAX];

			snprintf(why, sizeof(why), "service %s: %s", c->name, err);
			strlcpy(err, why, errlen);
			while (svc->nfds > 0)
				close(svc->fds[--svc->nfds]);
			return -1;
		}
	}
	return 0;
}

/* master_close_listen - close a service's sockets (and unlink Unix ones) */
static void master_close_listen(struct master_service *svc, int unlink_paths)
{
	while (svc->nfds > 0)
		close(svc->fds[--svc->nfds]);
	if (unlink_paths && strcmp(svc->conf->type, "unix") == 0) {
		for (size_t i = 0; i < svc->conf->nlisten; i++) {
			char priv[PATH_MAX], path[PATH_MAX];

			snprintf(path, sizeof(path), "%s/%s",
				 master_private_dir(priv, sizeof(priv)), svc->conf->listen[i]);
			(void) unlink(path);
		}
	}
}

/* master_check_users - with privilege separation every user must exist */
static int master_check_users(const struct master_conf *mc, char *err, size_t errlen)
{
	for (size_t i = 0; i < mc->nsvc; i++) {
		struct passwd *pw = getpwnam(mc->svc[i].user);

		if (pw == NULL) {
			snprintf(err, errlen,
				 "service %s: user \"%s\" does not exist "
				 "(run 'dlpgate setup')",
				 mc->svc[i].name, mc->svc[i].user);
			return -1;
		}
		if (pw->pw_uid == 0) {
			snprintf(err, errlen,
				 "service %s: user \"%s\" is root; give "
				 "each service an unprivileged user",
				 mc->svc[i].name, mc->svc[i].user);
			return -1;
		}
	}
	return 0;
}

/* master_build_services - runtime services for a table, reusing sockets */
static struct master_service *master_build_services(struct master_conf *mc, char *err,
						    size_t errlen)
{
	struct master_service *svcs = xcalloc(mc->nsvc, sizeof(*svcs));

	for (size_t i = 0; i < mc->nsvc; i++) {
		struct master_service *old = NULL;

		svcs[i].conf = &mc->svc[i];
		for (size_t j = 0; j < master_nservices; j++)
			if (strcmp(master_services[j].conf->name, mc->svc[i].name) == 0
			    && master_svc_same_listen(master_services[j].conf, &mc->svc[i]))
				old = &master_services[j];
		if (old && old->nfds > 0) {
			/* steal the sockets: nothing is unbound across a reload */
			memcpy(svcs[i].fds, old->fds, sizeof(old->fds));
			svcs[i].nfds = old->nfds;
			old->nfds = 0;
			svcs[i].throttle_delay = old->throttle_delay;
			svcs[i].throttle_until = old->throttle_until;
			continue;
		}
		if (master_open_listen(&svcs[i], err, errlen) < 0) {
			/* give back what we stole, close what we opened */
			for (size_t k = 0; k < i; k++) {
				struct master_service *back = NULL;

				for (size_t j = 0; j < master_nservices; j++)
					if (strcmp(master_services[j].conf->name,
						   svcs[k].conf->name)
						    == 0
					    && master_services[j].nfds == 0)
						back = &master_services[j];
				if (back && master_svc_same_listen(back->conf, svcs[k].conf)) {
					memcpy(back->fds, svcs[k].fds, sizeof(back->fds));
					back->nfds = svcs[k].nfds;
				} else {
					master_close_listen(&svcs[k], 0);
				}
			}
			free(svcs);
			return NULL;
		}
	}
	return svcs;
}

/* master_reload - a new generation from the new configuration */
static void master_reload(void)
{
	struct master_conf nt;
	struct master_service *svcs;
	struct master_child *child;
	struct conf_saved *running;
	char err[CONF_ERR_MAX], *old_run = xstrdup(var_run_directory);

	/*
	 * The checks of files and of the service table read the new values,
	 * as at start and in dlpgate check: load them first, and put the
	 * running ones back when the new configuration is refused.
	 */
	running = conf_save();
	if (conf_load(master_confdir, master_overrides, master_noverride, err, sizeof(err))
	    < 0) {
		evt_error(CONF_RELOAD_BAD, NULL, "reason=\"%s\"", err);
		conf_saved_free(running);
		free(old_run);
		return;
	}
	if (master_conf_load(master_confdir, &nt, err, sizeof(err)) < 0) {
		evt_error(CONF_RELOAD_BAD, NULL, "reason=\"%s\"", err);
		conf_restore(running);
		free(old_run);
		return;
	}
	if ((master_privsep && master_check_users(&nt, err, sizeof(err)) < 0)
	    || master_check_secrets(master_confdir, &nt, master_privsep, err, sizeof(err)) < 0
	    || master_check_loop(&nt, err, sizeof(err)) < 0) {
		evt_error(CONF_RELOAD_BAD, NULL, "reason=\"%s\"", err);
		master_conf_free(&nt);
		conf_restore(running);
		free(old_run);
		return;
	}
	if ((svcs = master_build_services(&nt, err, sizeof(err))) == NULL) {
		evt_error(CONF_RELOAD_BAD, NULL, "reason=\"%s\"", err);
		master_conf_free(&nt);
		conf_restore(running);
		free(old_run);
		return;
	}
	conf_saved_free(running);
	if (strcmp(old_run, var_run_directory) != 0)
		msg_warn("run_directory changed to %s: takes effect at the next "
			 "start; still using %s",
			 var_run_directory, old_run);
	free(old_run);
	TAILQ_FOREACH(child, &master_children, link)
	master_retire(child);
	for (size_t i = 0; i < master_nservices; i++) {
		int kept = 0;

		for (size_t j = 0; j < nt.nsvc; j++)
			kept |= strcmp(nt.svc[j].name, master_services[i].conf->name) == 0
				&& master_svc_same_listen(&nt.svc[j], master_services[i].conf);
		master_close_listen(&master_services[i], !kept);
	}
	free(master_services);
	master_conf_free(&master_table);
	master_table = nt;
	master_services = svcs;
	master_nservices = nt.nsvc;
	master_generation++;
	master_metrics_open();
	evt_info(MASTER_RELOAD, NULL, "generation=%u services=%zu", master_generation,
		 master_nservices);
	/*
	 * A reload is how an administrator applies a fix: a throttled service
	 * gets a child at once instead of after its delay. The delay itself is
	 * kept, so a service that still dies backs off further.
	 */
	for (size_t i = 0; i < master_nservices; i++) {
		if (master_services[i].throttle_until) {
			master_services[i].throttle_until = 0;
			evt_info(SVC_RESUME, NULL, "service=%s reason=reload",
				 master_services[i].conf->name);
		}
	}
}

/* master_state_name - for dlpgate status */
const char *master_state_name(void)
{
	switch (master_state) {
	case MASTER_RUNNING:
		return "running";
	case MASTER_DRAIN:
		return "draining";
	default:
		return "stopping";
	}
}

/* master_stop_accepting - close inet listeners, retire their children */
static void master_stop_accepting(void)
{
	struct master_child *child;

	for (size_t i = 0; i < master_nservices; i++) {
		struct master_service *svc = &master_services[i];

		if (strcmp(svc->conf->type, "inet") != 0)
			continue;
		/*
		 * Busy children share these sockets: shut them down, so that new
		 * connections are refused now instead of waiting in the backlog
		 * of a socket nobody will accept from again.
		 */
		for (int j = 0; j < svc->nfds; j++)
			(void) shutdown(svc->fds[j], SHUT_RDWR);
		master_close_listen(svc, 0);
	}
	TAILQ_FOREACH(child, &master_children, link)
	if (!child->unix_svc)
		master_retire(child);
}

/* master_stop_begin - stop accepting; let sessions in flight finish */
static void master_stop_begin(void)
{
	master_state = MASTER_STOP_INET;
	master_deadline = time(NULL) + var_shutdown_timeout;
	evt_info(MASTER_STOP, NULL, "workers=%d shutdown_timeout=%ds", master_live_children(1),
		 var_shutdown_timeout);
	master_stop_accepting();
}

/* master_drain_begin - stop accepting; exit when sessions in flight end */
void master_drain_begin(void)
{
	if (master_state != MASTER_RUNNING)
		return;
	master_state = MASTER_DRAIN;
	evt_info(MASTER_DRAIN, NULL, "workers=%d", master_live_children(1));
	master_stop_accepting();
}

/* master_cleanup - remove what only a running master needs */
static void master_cleanup(void)
{
	for (size_t i = 0; i < master_nservices; i++)
		master_close_listen(&master_services[i], 1);
	master_ctl_close();
	if (master_pid_path)
		(void) unlink(master_pid_path);
}

/* master_stop_progress - move the shutdown along; exits when done */
static void master_stop_progress(time_t now)
{
	struct master_child *child;

	if ((master_state == MASTER_STOP_INET || master_state == MASTER_DRAIN)
	    && master_live_children(1) == 0) {
		if (master_state == MASTER_DRAIN)
			master_deadline = now + var_shutdown_timeout;
		master_state = MASTER_STOP_ALL;
		TAILQ_FOREACH(child, &master_children, link)
		master_retire(child);
		for (size_t i = 0; i < master_nservices; i++)
			master_close_listen(&master_services[i], 1);
	}
	if (master_state == MASTER_STOP_ALL && master_live_children(0) == 0) {
		master_cleanup();
		evt_info(MASTER_DONE, NULL, NULL);
		exit(0);
	}
	if (master_state == MASTER_DRAIN)
		return; /* no deadline: sessions end by themselves */
	if (now >= master_deadline && master_kill_deadline == 0) {
		master_kill_deadline = now + 5;
		TAILQ_FOREACH(child, &master_children, link)
		{
			evt_warn(CHILD_KILLED, NULL, "service=%s pid=%d signal=TERM",
				 child->svc_name, (int) child->pid);
			child->killed = 1;
			(void) kill(child->pid, SIGTERM);
		}
	} else if (master_kill_deadline && now >= master_kill_deadline) {
		TAILQ_FOREACH(child, &master_children, link)
		(void) kill(child->pid, SIGKILL);
		master_kill_deadline = now + 5;
	}
}

/* master_want_spawn - keep process_min_avail idle, within the limits */
static void master_keep_ready(struct master_service *svc)
{
	if (svc->throttle_until || svc->nfds == 0)
		return;
	while (svc->avail < svc->conf->process_min_avail
	       && svc->total < svc->conf->process_limit)
		if (master_spawn(svc) < 0)
			break;
}

/* master_pidfile - lock run_directory/master.pid; one master per directory */
static void master_pidfile(void)
{
	char buf[32];
	ssize_t n;

	master_pid_path = xasprintf("%s/master.pid", var_run_directory);
	master_pid_fd = open(master_pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (master_pid_fd < 0)
		msg_fatal("open %s: %m", master_pid_path);
	if (flock(master_pid_fd, LOCK_EX | LOCK_NB) < 0) {
		n = read(master_pid_fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		buf[strcspn(buf, "\n")] = 0;
		free(master_pid_path);
		master_pid_path = NULL; /* not ours to remove */
		msg_fatal("dlpgate is already running (pid %s, %s/master.pid)",
			  *buf ? buf : "unknown", var_run_directory);
	}
}

/* master_write_pid - record our pid in the locked pid file */
static void master_write_pid(void)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long) getpid());

	if (ftruncate(master_pid_fd, 0) < 0 || pwrite(master_pid_fd, buf, (size_t) n, 0) != n)
		msg_fatal("write %s: %m", master_pid_path);
}

/* master_detach - become a daemon; the parent exits once we are ready */
static void master_detach(void)
{
	int fd;

	switch (fork()) {
	case -1:
		msg_fatal("fork: %m");
	case 0:
		break;
	default:
		_exit(0);
	}
	if (setsid() < 0)
		msg_fatal("setsid: %m");
	if (chdir("/") < 0)
		msg_fatal("chdir /: %m");
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/* master_usage - explain the command line */
static void master_usage(void)
{
	msg_fatal("usage: master [-f] [-c confdir] [-o name=value]...");
}

/* master_poll_once - one turn of the event loop */
static void master_poll_once(void)
{
	size_t max = 1 + master_nservices * SERVER_MAX_LISTEN + 64;
	struct master_child *child, **kids;
	struct master_service **svcs;
	struct pollfd *pfd;
	void **ctl;
	size_t n = 0;
	int timeout = master_ctl_timeout(), rc;

	TAILQ_FOREACH(child, &master_children, link)
	max++;
	pfd = xcalloc(max, sizeof(*pfd));
	kids = xcalloc(max, sizeof(*kids));
	svcs = xcalloc(max, sizeof(*svcs));
	ctl = xcalloc(max, sizeof(*ctl));
	pfd[n].fd = master_sigpipe[0];
	pfd[n++].events = POLLIN;
	n += (size_t) master_ctl_pollfds(pfd + n, ctl + n, 64);
	TAILQ_FOREACH(child, &master_children, link)
	{
		if (child->status_fd < 0)
			continue;
		pfd[n].fd = child->status_fd;
		pfd[n].events = POLLIN;
		kids[n++] = child;
	}
	for (size_t i = 0; i < master_nservices; i++) {
		struct master_service *svc = &master_services[i];

		if (svc->throttle_until)
			timeout = 1000;
		/* Postfix: listen only while no child is idle and one more may run */
		if (svc->avail > 0 || svc->total >= svc->conf->process_limit
		    || svc->throttle_until)
			continue;
		for (int j = 0; j < svc->nfds; j++) {
			pfd[n].fd = svc->fds[j];
			pfd[n].events = POLLIN;
			svcs[n++] = svc;
		}
	}
	if (master_state != MASTER_RUNNING)
		timeout = 1000;
	rc = poll(pfd, (nfds_t) n, timeout);
	if (rc < 0 && errno != EINTR)
		msg_fatal("poll: %m");
	for (size_t i = 0; rc > 0 && i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (i == 0) {
			char drain[64];

			while (read(master_sigpipe[0], drain, sizeof(drain)) > 0)
				/* void */;
			continue;
		}
		if (ctl[i]) {
			master_ctl_event(ctl[i], pfd[i].revents);
		} else if (svcs[i]) {
			if (svcs[i]->avail == 0
			    && svcs[i]->total < svcs[i]->conf->process_limit)
				(void) master_spawn(svcs[i]);
		} else if (kids[i]->status_fd == pfd[i].fd) {
			master_status_event(kids[i]);
		}
	}
	free(pfd);
	free(kids);
	free(svcs);
	free(ctl);
}

/* master_fallback_run_directory - a writable run_directory for non-root use */
static void master_fallback_run_directory(void)
{
	const struct conf_param *p = conf_find("run_directory");
	char err[CONF_ERR_MAX];
	char *dir, *arg;

	if (geteuid() == 0 || conf_source_of(p) != CONF_SRC_DEFAULT
	    || access(var_run_directory, W_OK) == 0
	    || (mkdir(var_run_directory, 0755) == 0 || errno == EEXIST))
		return;
	dir = xasprintf("/tmp/dlpgate-%ld", (long) geteuid());
	arg = xasprintf("run_directory=%s", dir);
	master_overrides = xrealloc(master_overrides, (master_noverride + 1) * sizeof(char *));
	master_overrides[master_noverride++] = arg;
	if (conf_load(master_confdir, master_overrides, master_noverride, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	msg_info("%s is not writable for this user: using run_directory=%s", "/run/dlpgate",
		 dir);
	free(dir);
}

int main(int argc, char **argv)
{
	char err[CONF_ERR_MAX], ident[128];
	int ch;

	msg_open("dlpgate/master", MSG_TO_STDERR, LOG_MAIL);
	conf_rules_enable(master_conf_contexts);
	master_overrides = xcalloc((size_t) argc + 1, sizeof(char *));
	while ((ch = getopt(argc, argv, "c:fo:")) != -1) {
		switch (ch) {
		case 'c':
			master_confdir = optarg;
			break;
		case 'f':
			master_foreground = 1;
			break;
		case 'o':
			master_overrides[master_noverride++] = xstrdup(optarg);
			break;
		default:
			master_usage();
		}
	}
	if (optind != argc)
		master_usage();
	if (conf_load(master_confdir, master_overrides, master_noverride, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	if (master_conf_load(master_confdir, &master_table, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	msg_set_level(var_log_level);
	snprintf(ident, sizeof(ident), "%s/master", var_syslog_name);
	msg_open(ident, MSG_TO_STDERR, var_syslog_facility);
	master_privsep = geteuid() == 0;
	if (master_privsep && master_check_users(&master_table, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	if (master_check_secrets(master_confdir, &master_table, master_privsep, err,
				 sizeof(err))
		    < 0
	    || master_check_loop(&master_table, err, sizeof(err)) < 0) {
		evt_error(SECRET_UNSAFE, NULL, "reason=\"%s\"", err);
		exit(1);
	}
	master_fallback_run_directory();
	master_dirs();
	master_pidfile();
	master_ctl_open();
	master_metrics_open();
	if ((master_services = master_build_services(&master_table, err, sizeof(err))) == NULL)
		msg_fatal("%s", err);
	master_nservices = master_table.nsvc;
	if (!master_foreground)
		master_detach();
	master_write_pid();
	master_start_time = time(NULL);
	msg_set_cleanup(master_cleanup);
	msg_open(ident, master_foreground ? MSG_TO_STDERR : MSG_TO_SYSLOG, var_syslog_facility);
	master_signals();
	evt_info(MASTER_START, NULL, "pid=%ld config=%s%s services=%zu mode=%s",
		 (long) getpid(), master_confdir,
		 conf_file_exists(master_confdir) ? "" : " (built-in defaults)",
		 master_nservices, CONF_NAME(operating_mode));
	if (!master_privsep)
		evt_info(PRIVSEP_OFF, NULL,
			 "reason=\"not started as root: every "
			 "role runs as uid %ld\"",
			 (long) geteuid());
	for (;;) {
		time_t now = time(NULL);

		if (master_got_chld) {
			master_got_chld = 0;
			master_reap();
		}
		if (master_got_hup) {
			master_got_hup = 0;
			if (master_state == MASTER_RUNNING)
				master_reload();
		}
		if (master_got_term) {
			master_got_term = 0;
			if (master_state == MASTER_RUNNING || master_state == MASTER_DRAIN)
				master_stop_begin();
		}
		if (master_state != MASTER_RUNNING)
			master_stop_progress(now);
		master_throttle_check(now);
		for (size_t i = 0; i < master_nservices; i++)
			if (master_state == MASTER_RUNNING
			    || ((master_state == MASTER_STOP_INET
				 || master_state == MASTER_DRAIN)
				&& strcmp(master_services[i].conf->type, "unix") == 0))
				master_keep_ready(&master_services[i]);
		master_poll_once();
	}
}
