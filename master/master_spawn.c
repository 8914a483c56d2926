/*
 * master_spawn - start a child of a service
 *
 * The child gets its status socket on fd 5 and the service's listen
 * sockets from fd 6, every other descriptor closed, default signal
 * handling, and its arguments (see common/server.h). It starts as root
 * when master runs as root and drops to the service's user itself, after
 * an optional chroot.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/unistd.h>

#include "conf_params.h"
#include "evt.h"
#include "mem.h"
#include "msg.h"
#include "master.h"

/* master_in_tree - is this master the binary of an uninstalled build? */
static int master_in_tree(void)
{
	static int known = -1;
	char self[PATH_MAX];
	ssize_t n;

	if (known >= 0)
		return known;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	known = 0;
	if (n > 0) {
		self[n] = 0;
		known = strcmp(self, DLP_SRCDIR "/master/master") == 0;
	}
	return known;
}

/* master_daemon_path - where the program of a service lives */
const char *master_daemon_path(const char *command, char *buf, size_t len)
{
	if (master_in_tree())
		snprintf(buf, len, "%s/%s/%s", DLP_SRCDIR, command, command);
	else
		snprintf(buf, len, "%s/%s", var_daemon_directory, command);
	return buf;
}

/* master_child_argv - the command line of a child */
static char **master_child_argv(struct master_service *svc, const char *path)
{
	struct master_svc_conf *c = svc->conf;
	size_t max = 24 + 2 * (master_noverride + c->noptions), n = 0;
	char **argv = xcalloc(max, sizeof(char *));

	argv[n++] = xstrdup(path);
	argv[n++] = xstrdup("-n");
	argv[n++] = xstrdup(c->name);
	argv[n++] = xstrdup("-t");
	argv[n++] = xstrdup(c->type);
	argv[n++] = xasprintf("-g%u", master_generation);
	argv[n++] = xasprintf("-l%d", svc->nfds);
	argv[n++] = xasprintf("-u%d", c->max_use);
	argv[n++] = xasprintf("-i%d", c->max_idle);
	argv[n++] = xstrdup("-c");
	argv[n++] = xstrdup(master_confdir);
	if (master_privsep) {
		argv[n++] = xstrdup("-U");
		argv[n++] = xstrdup(c->user);
		if (*c->chroot) {
			argv[n++] = xstrdup("-R");
			argv[n++] = xstrdup(c->chroot);
		}
	}
	if (master_foreground)
		argv[n++] = xstrdup("-f");
	for (size_t i = 0; i < master_noverride; i++) {
		argv[n++] = xstrdup("-o");
		argv[n++] = xstrdup(master_overrides[i]);
	}
	for (size_t i = 0; i < c->noptions; i++) {
		argv[n++] = xstrdup("-o");
		argv[n++] = xstrdup(c->options[i]);
	}
	argv[n] = NULL;
	return argv;
}

/* master_free_argv - release a command line */
static void master_free_argv(char **argv)
{
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

/* master_exec - in the new child: arrange descriptors and exec */
static void master_exec(struct master_service *svc, int status_fd, char **argv)
{
	int moved[SERVER_MAX_LISTEN + 1];
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void) signal(sig, SIG_DFL);
	/* a terminal's ^C (master -f) is for master, which stops us in order */
	(void) signal(SIGINT, SIG_IGN);
	/* Move everything out of the way first: targets may be in use. */
	moved[0] = fcntl(status_fd, F_DUPFD_CLOEXEC, 64);
	for (int i = 0; i < svc->nfds; i++)
		moved[i + 1] = fcntl(svc->fds[i], F_DUPFD_CLOEXEC, 64);
	for (int i = 0; i <= svc->nfds; i++) {
		if (moved[i] < 0 || dup2(moved[i], SERVER_STATUS_FD + i) < 0) {
			msg_error("%s: cannot arrange descriptors: %m", svc->conf->name);
			_exit(127);
		}
	}
	closefrom(SERVER_LISTEN_FD + svc->nfds);
	execv(argv[0], argv);
	msg_error("%s: cannot execute %s: %m", svc->conf->name, argv[0]);
	_exit(127);
}

/* master_spawn - start one child; 0, or -1 if fork failed */
int master_spawn(struct master_service *svc)
{
	char path[PATH_MAX];
	char **argv;
	int sv[2];
	pid_t pid;
	struct master_child *child;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		msg_warn("socketpair: %m");
		return -1;
	}
	argv = master_child_argv(svc,
				 master_daemon_path(svc->conf->command, path, sizeof(path)));
	switch (pid = fork()) {
	case -1:
		msg_warn("fork: %m");
		close(sv[0]);
		close(sv[1]);
		master_free_argv(argv);
		return -1;
	case 0:
		close(sv[0]);
		master_exec(svc, sv[1], argv);
		/* NOTREACHED */
	}
	close(sv[1]);
	master_free_argv(argv);
	(void) fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	child = xcalloc(1, sizeof(*child));
	child->pid = pid;
	child->status_fd = sv[0];
	child->svc = svc;
	child->svc_name = xstrdup(svc->conf->name);
	child->generation = master_generation;
	child->unix_svc = strcmp(svc->conf->type, "unix") == 0;
	child->state = SERVER_IDLE;
	TAILQ_INSERT_TAIL(&master_children, child, link);
	svc->total++;
	svc->avail++;
	msg_debug("spawned %s pid %d", svc->conf->name, (int) pid);
	return 0;
}
