/*
 * dlpgate - control dlpgate: start, stop, reload, status, check, setup
 *
 * SYNOPSIS
 *	dlpgate [-c confdir] [-o name=value]... command
 *
 * DESCRIPTION
 *	start	check the configuration, then start master in the background
 *	stop	ask master to stop (sessions in flight may finish within
 *		shutdown_timeout) and wait until it is gone
 *	restart	stop, then start
 *	reload	ask master to re-read the configuration (SIGHUP)
 *	status	say whether master runs
 *	check	validate dlpgate.conf and master.conf without starting anything
 *	setup	create the users and group of the roles (run as root, once)
 *
 * EXIT STATUS
 *	LSB: 0 success or running; 1 generic error (bad configuration); 2
 *	invalid arguments; 3 (status) not running; 7 (stop) it would not stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "master_conf.h"

#ifndef DLP_SYSCONFDIR
#define DLP_SYSCONFDIR "/etc/dlpgate"
#endif

#define EXIT_LSB_NOT_RUNNING	3
#define EXIT_LSB_ERROR		1
#define EXIT_LSB_USAGE		2
#define EXIT_LSB_STOP_FAILED	7

static const char *dlp_confdir = DLP_SYSCONFDIR;
static char **dlp_overrides;
static size_t dlp_noverride;

/* dlp_master_pid - pid of the running master, 0 if none */
static pid_t dlp_master_pid(void)
{
	char    path[PATH_MAX], buf[32];
	int     fd;
	ssize_t n;
	pid_t   pid = 0;

	snprintf(path, sizeof(path), "%s/master.pid", var_run_directory);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	/* master holds an exclusive lock for as long as it runs */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		pid = (pid_t) atol(buf);
	}
	close(fd);
	return pid;
}

/* dlp_master_path - the master program of this build or installation */
static const char *dlp_master_path(char *buf, size_t len)
{
	char    self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = 0;
		if (strcmp(self, DLP_SRCDIR "/master/dlpgate") == 0) {
			snprintf(buf, len, "%s/master/master", DLP_SRCDIR);
			return buf;
		}
	}
	snprintf(buf, len, "%s/master", var_daemon_directory);
	return buf;
}

/* dlp_check - validate the configuration; 0 or EXIT_LSB_ERROR */
static int dlp_check(int verbose)
{
	struct master_conf mc;
	char    err[CONF_ERR_MAX];

	if (master_conf_load(dlp_confdir, &mc, err, sizeof(err)) < 0) {
		fprintf(stderr, "dlpgate: %s\n", err);
		return EXIT_LSB_ERROR;
	}
	for (size_t i = 0; i < mc.nsvc; i++) {
		if (geteuid() == 0 && getpwnam(mc.svc[i].user) == NULL) {
			fprintf(stderr, "dlpgate: service %s: user \"%s\" does not exist "
				"(run 'dlpgate setup')\n", mc.svc[i].name, mc.svc[i].user);
			master_conf_free(&mc);
			return EXIT_LSB_ERROR;
		}
	}
	if (verbose)
		printf("dlpgate: configuration in %s is valid (%s, %s, %zu services)\n",
		       dlp_confdir, conf_file_exists(dlp_confdir) ? "dlpgate.conf" :
		       "built-in dlpgate.conf defaults", mc.builtin ?
		       "built-in master.conf" : "master.conf", mc.nsvc);
	master_conf_free(&mc);
	return 0;
}

/* dlp_start - start master in the background */
static int dlp_start(void)
{
	char    path[PATH_MAX];
	char  **argv;
	size_t  n = 0;
	pid_t   pid;
	int     status;

	if (dlp_check(0) != 0)
		return EXIT_LSB_ERROR;
	if ((pid = dlp_master_pid()) > 0) {
		printf("dlpgate: already running (pid %ld)\n", (long) pid);
		return 0;
	}
	argv = xcalloc(4 + 2 * dlp_noverride, sizeof(char *));
	argv[n++] = (char *) dlp_master_path(path, sizeof(path));
	argv[n++] = "-c";
	argv[n++] = (char *) dlp_confdir;
	for (size_t i = 0; i < dlp_noverride; i++) {
		argv[n++] = "-o";
		argv[n++] = dlp_overrides[i];
	}
	argv[n] = NULL;
	if ((pid = fork()) < 0)
		msg_fatal("fork: %m");
	if (pid == 0) {
		execv(argv[0], argv);
		msg_fatal("cannot execute %s: %m", argv[0]);
	}
	/* master detaches once its sockets are bound and its pid file locked */
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "dlpgate: master did not start (see the log)\n");
		return EXIT_LSB_ERROR;
	}
	for (int i = 0; i < 50 && dlp_master_pid() == 0; i++)
		usleep(100000);
	if ((pid = dlp_master_pid()) == 0) {
		fprintf(stderr, "dlpgate: master did not start (see the log)\n");
		return EXIT_LSB_ERROR;
	}
	printf("dlpgate: started (pid %ld)\n", (long) pid);
	return 0;
}

/* dlp_stop - stop master and wait for it */
static int dlp_stop(void)
{
	pid_t   pid = dlp_master_pid();
	time_t  deadline;

	if (pid == 0) {
		printf("dlpgate: not running\n");
		return 0;
	}
	if (kill(pid, SIGTERM) < 0) {
		fprintf(stderr, "dlpgate: kill %ld: %s\n", (long) pid, strerror(errno));
		return EXIT_LSB_STOP_FAILED;
	}
	deadline = time(NULL) + var_shutdown_timeout + 15;
	while (dlp_master_pid() != 0) {
		if (time(NULL) > deadline) {
			fprintf(stderr, "dlpgate: master (pid %ld) did not stop\n", (long) pid);
			return EXIT_LSB_STOP_FAILED;
		}
		usleep(50000);
	}
	printf("dlpgate: stopped\n");
	return 0;
}

/* dlp_signal - send a signal to master */
static int dlp_signal(int sig, const char *what)
{
	pid_t   pid = dlp_master_pid();

	if (pid == 0) {
		fprintf(stderr, "dlpgate: not running\n");
		return EXIT_LSB_NOT_RUNNING;
	}
	if (sig == SIGHUP && dlp_check(0) != 0)
		return EXIT_LSB_ERROR;
	if (kill(pid, sig) < 0) {
		fprintf(stderr, "dlpgate: kill %ld: %s\n", (long) pid, strerror(errno));
		return EXIT_LSB_ERROR;
	}
	printf("dlpgate: %s (pid %ld)\n", what, (long) pid);
	return 0;
}

/* dlp_status - is master running? */
static int dlp_status(void)
{
	pid_t   pid = dlp_master_pid();

	if (pid == 0) {
		printf("dlpgate is not running\n");
		return EXIT_LSB_NOT_RUNNING;
	}
	printf("dlpgate is running (pid %ld)\n", (long) pid);
	return 0;
}

/* dlp_run - run a command, return its exit status */
static int dlp_run(char *const argv[])
{
	pid_t   pid = fork();
	int     status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* dlp_setup - users and group for privilege separation */
static int dlp_setup(void)
{
	static const char *const users[] = {"dlpgate", "dlpgate-detect", "dlpgate-tls"};

	if (geteuid() != 0) {
		fprintf(stderr, "dlpgate: setup must run as root\n");
		return EXIT_LSB_ERROR;
	}
	if (getgrnam("dlpgate") == NULL) {
		char   *argv[] = {"groupadd", "--system", "dlpgate", NULL};

		if (dlp_run(argv) != 0) {
			fprintf(stderr, "dlpgate: groupadd dlpgate failed\n");
			return EXIT_LSB_ERROR;
		}
		printf("dlpgate: created group dlpgate\n");
	}
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		/* dlpgate's primary group is dlpgate; the others get their own */
		char   *argv[] = {"useradd", "--system", "--no-create-home",
			"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
			"--user-group", (char *) users[i], NULL, NULL};

		if (getpwnam(users[i]) != NULL)
			continue;
		if (i == 0) {
			argv[7] = "--gid";
			argv[8] = "dlpgate";
			argv[9] = (char *) users[i];
		}
		if (dlp_run(argv) != 0) {
			fprintf(stderr, "dlpgate: useradd %s failed\n", users[i]);
			return EXIT_LSB_ERROR;
		}
		printf("dlpgate: created user %s\n", users[i]);
	}
	return 0;
}

/* dlp_usage - explain the command line */
static void dlp_usage(void)
{
	fprintf(stderr, "usage: dlpgate [-c confdir] [-o name=value]... "
		"start|stop|restart|reload|status|check|setup\n");
	exit(EXIT_LSB_USAGE);
}

int     main(int argc, char **argv)
{
	char    err[CONF_ERR_MAX];
	const char *cmd;
	int     ch, rc;

	msg_open("dlpgate", MSG_TO_STDERR, NULL);
	dlp_overrides = xcalloc((size_t) argc + 1, sizeof(char *));
	while ((ch = getopt(argc, argv, "c:o:")) != -1) {
		switch (ch) {
		case 'c':
			dlp_confdir = optarg;
			break;
		case 'o':
			dlp_overrides[dlp_noverride++] = optarg;
			break;
		default:
			dlp_usage();
		}
	}
	if (optind != argc - 1)
		dlp_usage();
	cmd = argv[optind];
	if (conf_load(dlp_confdir, dlp_overrides, dlp_noverride, err, sizeof(err)) < 0) {
		fprintf(stderr, "dlpgate: %s\n", err);
		return strcmp(cmd, "status") == 0 ? 4 : EXIT_LSB_ERROR;
	}
	if (strcmp(cmd, "start") == 0)
		rc = dlp_start();
	else if (strcmp(cmd, "stop") == 0)
		rc = dlp_stop();
	else if (strcmp(cmd, "restart") == 0)
		rc = (rc = dlp_stop()) != 0 ? rc : dlp_start();
	else if (strcmp(cmd, "reload") == 0)
		rc = dlp_signal(SIGHUP, "reloading");
	else if (strcmp(cmd, "status") == 0)
		rc = dlp_status();
	else if (strcmp(cmd, "check") == 0)
		rc = dlp_check(1);
	else if (strcmp(cmd, "setup") == 0)
		rc = dlp_setup();
	else
		dlp_usage();
	return rc;
}
