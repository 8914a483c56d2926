/*
 * server - the child side of the master protocol, and a prefork skeleton
 *
 * See server.h.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bsd/unistd.h>

#include "conf.h"
#include "conf_params.h"
#include "ipc.h"
#include "mem.h"
#include "msg.h"
#include "server.h"

extern char **environ;

#ifndef DLP_SYSCONFDIR
#define DLP_SYSCONFDIR "/etc/dlpgate"
#endif

struct server server;
void (*server_pre_init)(void);

/* server_usage - complain about our own invocation */
static void server_usage(const char *role)
{
	msg_fatal("usage: %s -n service -t inet|unix -g generation -l nlisten "
		  "[-u max_use] [-i max_idle] [-c confdir] [-U user] [-R chroot] "
		  "[-f] [-o name=value]... (%s is started by master)",
		  role, role);
}

/* server_number - a non-negative decimal argument */
static long server_number(const char *role, const char *text)
{
	char *end;
	long n = strtol(text, &end, 10);

	if (*text == 0 || *end || n < 0 || n > 1000000000)
		server_usage(role);
	return n;
}

/* server_chroot_paths - see run_directory from inside the chroot */
static void server_chroot_paths(void)
{
	size_t len = strlen(server.chroot_dir);
	const char *rest;

	while (len > 1 && server.chroot_dir[len - 1] == '/')
		len--;
	if (strncmp(var_run_directory, server.chroot_dir, len) != 0
	    || (var_run_directory[len] != 0 && var_run_directory[len] != '/')) {
		msg_warn("chroot %s does not contain run_directory %s: the private "
			 "sockets will not be reachable",
			 server.chroot_dir, var_run_directory);
		return;
	}
	rest = var_run_directory + len;
	rest = *rest ? xstrdup(rest) : xstrdup("/");
	free(var_run_directory);
	var_run_directory = (char *) rest;
}

/* server_drop_privileges - chroot if asked, then become the service user */
static void server_drop_privileges(void)
{
	struct passwd *pw;

	if (getuid() != 0 && geteuid() != 0)
		return;
	if (server.user == NULL || *server.user == 0)
		msg_fatal("%s runs as root but master gave no user: refusing", server.role);
	if ((pw = getpwnam(server.user)) == NULL)
		msg_fatal("user \"%s\" does not exist (run 'dlpgate setup')", server.user);
	if (pw->pw_uid == 0)
		msg_fatal("service user \"%s\" is root: refusing", server.user);
	if (server.chroot_dir && *server.chroot_dir) {
		if (chroot(server.chroot_dir) < 0 || chdir("/") < 0)
			msg_fatal("chroot %s: %m", server.chroot_dir);
	}
	if (server.chroot_dir && *server.chroot_dir)
		server_chroot_paths();
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		msg_fatal("cannot become user %s: %m", server.user);
	if (setuid(0) == 0)
		msg_panic("privileges could be regained after dropping them");
	(void) prctl(PR_SET_DUMPABLE, 1);
}

static int server_placeholder = -1; /* takes the listen fds' numbers */

/* server_master_died - master is gone: free its addresses for a new one */
static void server_master_died(int sig)
{
	/*
	 * Replace rather than close: the numbers stay taken, so no socket
	 * opened later can be mistaken for a listener by a loop.
	 */
	for (int i = 0; i < server.nlisten; i++)
		if (server_placeholder < 0
		    || dup2(server_placeholder, SERVER_LISTEN_FD + i) < 0)
			(void) close(SERVER_LISTEN_FD + i);
	server.master_gone = 1;
}

/* server_watch_master - be told at once when master dies */
static void server_watch_master(pid_t master)
{
	struct sigaction sa;

	server_placeholder = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = server_master_died;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SERVER_MASTER_DIED_SIG, &sa, NULL) < 0)
		msg_fatal("sigaction: %m");
	/* after the privileges are dropped: that would clear it */
	if (prctl(PR_SET_PDEATHSIG, SERVER_MASTER_DIED_SIG) < 0)
		msg_warn("prctl PR_SET_PDEATHSIG: %m");
	else if (getppid() != master)
		(void) raise(SERVER_MASTER_DIED_SIG); /* it died before we asked */
}

/* server_init - arguments, log, configuration, privileges */
void server_init(int argc, char **argv, const char *role)
{
	char **overrides = xcalloc((size_t) argc + 1, sizeof(char *));
	size_t noverride = 0;
	const char *confdir = DLP_SYSCONFDIR;
	pid_t master = getppid();
	char err[CONF_ERR_MAX], ident[128];
	int ch;

	server.role = role;
	msg_open(role, MSG_TO_STDERR, LOG_MAIL);
	while ((ch = getopt(argc, argv, "c:fg:i:l:n:o:R:t:u:U:")) != -1) {
		switch (ch) {
		case 'c':
			confdir = optarg;
			break;
		case 'f':
			server.foreground = 1;
			break;
		case 'g':
			server.generation = (uint32_t) server_number(role, optarg);
			break;
		case 'i':
			server.max_idle = (int) server_number(role, optarg);
			break;
		case 'l':
			server.nlisten = (int) server_number(role, optarg);
			break;
		case 'n':
			server.service = xstrdup(optarg);
			break;
		case 'o':
			overrides[noverride++] = optarg;
			break;
		case 'R':
			server.chroot_dir = xstrdup(optarg);
			break;
		case 't':
			server.type = xstrdup(optarg);
			break;
		case 'u':
			server.max_use = (int) server_number(role, optarg);
			break;
		case 'U':
			server.user = xstrdup(optarg);
			break;
		default:
			server_usage(role);
		}
	}
	if (server.service == NULL || server.type == NULL || server.nlisten > SERVER_MAX_LISTEN)
		server_usage(role);
	/* the checks across settings are the SMTP service's (conf.h) */
	if (strcmp(role, "smtpd-proxy") == 0) {
		conf_rules_enable(NULL);
		conf_rules_no_library(); /* no OpenSSL tables in each worker's start */
	}
	if (conf_load(confdir, overrides, noverride, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	free(overrides);
	setproctitle_init(argc, argv, environ);
	snprintf(ident, sizeof(ident), "%s/%s", var_syslog_name, role);
	msg_open(ident, server.foreground ? MSG_TO_STDERR : MSG_TO_SYSLOG, var_syslog_facility);
	msg_set_level(var_log_level);
	signal(SIGPIPE, SIG_IGN);
	if (server_pre_init)
		server_pre_init();
	server_drop_privileges();
	server_watch_master(master);
	server_title("%s", server.service);
}

static pid_t server_pid; /* ours: getpid() once */
static void server_stats_put(struct ipc_out *out, uint16_t base);

/* server_report - tell master our state (and new counters); a dead master ends us */
void server_report(enum server_state state)
{
	struct ipc_out out;
	int rc;

	if (server.master_gone)
		return;
	if (server_pid == 0)
		server_pid = getpid();
	ipc_out_init(&out, SERVER_REC_STATUS);
	ipc_put_u32(&out, SERVER_TAG_PID, (uint32_t) server_pid);
	ipc_put_u32(&out, SERVER_TAG_GENERATION, server.generation);
	ipc_put_u32(&out, SERVER_TAG_STATE, (uint32_t) state);
	ipc_put_u32(&out, SERVER_TAG_USE_COUNT, server.use_count);
	server_stats_put(&out, SERVER_TAG_STATS);
	rc = ipc_send(SERVER_STATUS_FD, &out, NULL, 0, 10);
	ipc_out_free(&out);
	if (rc != IPC_OK)
		server.master_gone = 1;
}

/* server_master_gone - has master closed our status socket? */
int server_master_gone(void)
{
	struct pollfd pfd = {.fd = SERVER_STATUS_FD, .events = POLLIN};
	char byte[IPC_HDR_LEN];

	if (server.master_gone)
		return 1;
	if (poll(&pfd, 1, 0) > 0) {
		/* master never writes to us: readable means EOF or error */
		if (recv(SERVER_STATUS_FD, byte, sizeof(byte), MSG_DONTWAIT) <= 0
		    || (pfd.revents & (POLLHUP | POLLERR)))
			server.master_gone = 1;
	}
	return server.master_gone;
}

/* server_watch - watch a descriptor for input */
static void server_watch(int ep, int fd, uint32_t events, uint32_t tag)
{
	struct epoll_event ev = {.events = events, .data.u32 = tag};

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		msg_fatal("epoll_ctl add fd %d: %m", fd);
}

/* server_epoll - the listen sockets (tagged by index) and the status socket */
static int server_epoll(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		msg_fatal("epoll_create1: %m");
	/* EPOLLEXCLUSIVE: one idle child wakes for a connection, not all */
	for (int i = 0; i < server.nlisten; i++)
		server_watch(ep, SERVER_LISTEN_FD + i, EPOLLIN | EPOLLEXCLUSIVE, (uint32_t) i);
	server_watch(ep, SERVER_STATUS_FD, EPOLLIN, UINT32_MAX);
	return ep;
}

/* server_single_loop - accept and serve one connection at a time */
void server_single_loop(void (*serve)(int fd, const struct sockaddr *sa, socklen_t salen,
				      int listen_index))
{
	int ep = server_epoll();
	struct epoll_event ev;

	server_report(SERVER_IDLE);
	while (!server.master_gone) {
		struct sockaddr_storage ss;
		socklen_t sslen = sizeof(ss);
		int n, fd, idx;

		n = epoll_wait(ep, &ev, 1, server.max_idle > 0 ? server.max_idle * 1000 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			msg_fatal("epoll_wait: %m");
		if (n == 0)
			break; /* max_idle */
		if (ev.data.u32 == UINT32_MAX) {
			(void) server_master_gone();
			continue;
		}
		idx = (int) ev.data.u32;
		fd = accept4(SERVER_LISTEN_FD + idx, (struct sockaddr *) &ss, &sslen,
			     SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINVAL || server.master_gone)
				break; /* master shut the listener down, or died */
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
			    && errno != ECONNABORTED)
				msg_warn("accept: %m");
			continue;
		}
		/* the session counts from its start: a child killed in it served */
		server.use_count++;
		server_report(SERVER_BUSY);
		serve(fd, (struct sockaddr *) &ss, sslen, idx);
		if (server_master_gone())
			break;
		if (server.max_use > 0 && server.use_count >= (unsigned) server.max_use)
			break;
		server_report(SERVER_IDLE); /* the session's counters ride along */
	}
	server_stats_flush();
	close(ep);
}

/* server_multi_stop_accepting - leave the listen sockets to others */
static void server_multi_stop_accepting(int ep)
{
	for (int i = 0; i < server.nlisten; i++)
		(void) epoll_ctl(ep, EPOLL_CTL_DEL, SERVER_LISTEN_FD + i, NULL);
}

/* server_multi_loop - many long-lived connections, one request at a time */
void server_multi_loop(int (*on_accept)(int fd), int (*on_readable)(int fd))
{
	int ep = server_epoll();
	int nconn = 0, accepting = 1;
	struct epoll_event ev;

	server_report(SERVER_IDLE);
	for (;;) {
		int n, fd;

		/* master's EOF comes as an event on the status socket (below) */
		if (accepting
		    && (server.master_gone
			|| (server.max_use > 0
			    && server.use_count >= (unsigned) server.max_use))) {
			/* finish with the clients we have, take no new ones */
			server_multi_stop_accepting(ep);
			(void) epoll_ctl(ep, EPOLL_CTL_DEL, SERVER_STATUS_FD, NULL);
			accepting = 0;
			/* connected clients may keep us long: let another take over */
			server_report(SERVER_DONE);
		}
		if (!accepting && nconn == 0)
			break;
		n = epoll_wait(ep, &ev, 1,
			       nconn == 0 && server.max_idle > 0 ? server.max_idle * 1000 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			msg_fatal("epoll_wait: %m");
		if (n == 0)
			break; /* max_idle, and nobody connected */
		if (ev.data.u32 == UINT32_MAX) {
			(void) server_master_gone();
		} else if (ev.data.u32 < (uint32_t) server.nlisten) {
			fd = accept4(SERVER_LISTEN_FD + (int) ev.data.u32, NULL, NULL,
				     SOCK_CLOEXEC);
			if (fd < 0 || fd >= SERVER_MAX_CONN_FD) {
				if (fd >= 0)
					close(fd); /* bounded: see SERVER_MAX_CONN_FD */
				continue;
			}
			if (on_accept(fd) < 0) {
				close(fd);
				continue;
			}
			if (server.use_count++ == 0) {
				/*
				 * Tell master we served, so a crash is not a crash loop;
				 * still IDLE (a BUSY in between could make master start a
				 * spare when it reads the two records apart).
				 */
				server_report(SERVER_IDLE);
			}
			server_watch(ep, fd, EPOLLIN,
				     (uint32_t) SERVER_MAX_LISTEN + (uint32_t) fd);
			nconn++;
			msg_debug("connection %u accepted, %d open", server.use_count, nconn);
		} else {
			fd = (int) (ev.data.u32 - SERVER_MAX_LISTEN);
			if (on_readable(fd) < 0) {
				(void) epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
				nconn--;
				msg_debug("connection closed, %d open", nconn);
			}
			server_stats_flush();
		}
	}
	close(ep);
}

/* server_title - what ps shows for this process */
void server_title(const char *fmt, ...)
{
	char title[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(title, sizeof(title), fmt, ap);
	va_end(ap);
	setproctitle("%s", title);
}

/* Counters not yet sent to master, and their names. */
static uint64_t server_stats[SERVER_STAT_COUNT];
static int server_stats_dirty;

static const struct {
	const char *name;
	const char *help;
} server_stat_info[] = {
#define SERVER_STAT_INFO(name, word, help) {word, help},
	SERVER_STATS_TABLE(SERVER_STAT_INFO)
#undef SERVER_STAT_INFO
};

/* server_stats_add - count something for dlpgate status */
void server_stats_add(enum server_stat stat, uint64_t n)
{
	static time_t last;
	struct timespec now;

	if ((unsigned) stat >= SERVER_STAT_COUNT)
		msg_panic("server_stats_add: bad counter %d", (int) stat);
	server_stats[stat] += n;
	server_stats_dirty = 1;
	/* sessions end with a flush; a long one reports once a second */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (now.tv_sec != last) {
		last = now.tv_sec;
		server_stats_flush();
	}
}

/* server_stats_put - the counters added since the last time, into a record */
static void server_stats_put(struct ipc_out *out, uint16_t base)
{
	if (!server_stats_dirty)
		return;
	for (int i = 0; i < SERVER_STAT_COUNT; i++)
		if (server_stats[i])
			ipc_put_u64(out, (uint16_t) (base + i + 1), server_stats[i]);
	memset(server_stats, 0, sizeof(server_stats));
	server_stats_dirty = 0;
}

/* server_stats_flush - send the counters added since the last flush */
void server_stats_flush(void)
{
	struct ipc_out out;

	/* also after EOF from master: a retired child's last counters count */
	if (!server_stats_dirty)
		return;
	ipc_out_init(&out, SERVER_REC_STATS);
	server_stats_put(&out, 0);
	if (ipc_send(SERVER_STATUS_FD, &out, NULL, 0, 10) != IPC_OK)
		server.master_gone = 1;
	ipc_out_free(&out);
}

/* server_stat_name - a counter as a word (dlpgate status, metrics) */
const char *server_stat_name(enum server_stat stat)
{
	return (unsigned) stat < SERVER_STAT_COUNT ? server_stat_info[stat].name : "?";
}

/* server_stat_help - what a counter counts */
const char *server_stat_help(enum server_stat stat)
{
	return (unsigned) stat < SERVER_STAT_COUNT ? server_stat_info[stat].help : "?";
}
