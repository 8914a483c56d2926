/*
 * dlpgate - control dlpgate: start, stop, reload, status, check, drain
 *
 * SYNOPSIS
 *	dlpgate [-c confdir] [-o name=value]... command [--prometheus]
 *
 * DESCRIPTION
 *	start	check the configuration, then start master in the background
 *	stop	ask master to stop (sessions in flight may finish within
 *		shutdown_timeout) and wait until it is gone
 *	restart	stop, then start
 *	reload	check, then ask master to re-read the configuration (SIGHUP);
 *		sessions in flight finish on the old settings
 *	status	master's pid and uptime, every service with busy, idle,
 *		limit and throttled, and the counters since start (from the
 *		control socket, root only); --prometheus: the same in the
 *		Prometheus text format
 *	drain	stop accepting sessions; wait until those in flight ended
 *		and master exited
 *	check	validate dlpgate.conf, master.conf, the policies, the
 *		programs and the privacy of the keystore, start nothing
 *	setup	create the users of the roles, the runtime directories and
 *		the keystore password file (as root, once; make install runs it)
 *
 * EXIT STATUS
 *	LSB (init-functions): 0 success, or running (status); 1 generic
 *	error, for instance an invalid configuration; 2 invalid arguments;
 *	3 (status) not running; 1 (status) not running but a stale pid file;
 *	4 (status) unknown (configuration unreadable); 7 (stop) it would not
 *	stop.
 *
 * HOOKS
 *	check runs "dlpscan -t -c confdir" (detector/) to validate
 *	the policies when that program exists, and otherwise checks that
 *	the policy file parses. The keystore's privacy is master_check.c's.
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

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <libconfig.h>

#include "buf.h"
#include "conf.h"
#include "conf_params.h"
#include "inet.h"
#include "mem.h"
#include "msg.h"
#include "master_check.h"
#include "master_conf.h"

#ifndef DLP_SYSCONFDIR
#define DLP_SYSCONFDIR "/etc/dlpgate"
#endif

#define EXIT_LSB_OK           0
#define EXIT_LSB_ERROR        1
#define EXIT_LSB_DEAD_PIDFILE 1
#define EXIT_LSB_USAGE        2
#define EXIT_LSB_NOT_RUNNING  3
#define EXIT_LSB_UNKNOWN      4
#define EXIT_LSB_STOP_FAILED  7

#define DLP_CTL_FILE      "master.ctl"
#define DLP_CTL_TIMEOUT   10 /* seconds */
#define DLP_CTL_REPLY_MAX (1024 * 1024)
#define DLP_POLICIES_FILE "policies.conf"

static const char *dlp_confdir = DLP_SYSCONFDIR;
static char **dlp_overrides;
static size_t dlp_noverride;

/* dlp_master_pid - pid of the running master; 0 if none, -1 if stale */
static pid_t dlp_master_pid(void)
{
	char path[PATH_MAX], buf[32];
	int fd;
	ssize_t n;
	pid_t pid = 0;

	snprintf(path, sizeof(path), "%s/master.pid", var_run_directory);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	/* master holds an exclusive lock for as long as it runs */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		pid = (pid_t) atol(buf);
	} else {
		pid = -1; /* the file outlived its master */
	}
	close(fd);
	return pid;
}

/* dlp_running - pid of a running master, or 0 */
static pid_t dlp_running(void)
{
	pid_t pid = dlp_master_pid();

	return pid > 0 ? pid : 0;
}

/* dlp_self_dir - the directory of this program */
static int dlp_self_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	char *slash;

	if (n <= 0)
		return -1;
	buf[n] = 0;
	if ((slash = strrchr(buf, '/')) == NULL)
		return -1;
	*slash = 0;
	return 0;
}

/* dlp_in_tree - is this the dlpgate of an uninstalled build? */
static int dlp_in_tree(void)
{
	char dir[PATH_MAX];

	return dlp_self_dir(dir, sizeof(dir)) == 0 && strcmp(dir, DLP_SRCDIR "/master") == 0;
}

/* dlp_daemon_path - the program of a service, as master will run it */
static const char *dlp_daemon_path(const char *command, char *buf, size_t len)
{
	if (dlp_in_tree())
		snprintf(buf, len, "%s/%s/%s", DLP_SRCDIR, command, command);
	else
		snprintf(buf, len, "%s/%s", var_daemon_directory, command);
	return buf;
}

/* dlp_command_path - an admin command beside this one (dlpscan, dlpkey) */
static const char *dlp_command_path(const char *role, const char *command, char *buf,
				    size_t len)
{
	char dir[PATH_MAX];

	if (dlp_in_tree())
		snprintf(buf, len, "%s/%s/%s", DLP_SRCDIR, role, command);
	else if (dlp_self_dir(dir, sizeof(dir)) == 0)
		snprintf(buf, len, "%s/%s", dir, command);
	else
		snprintf(buf, len, "%s", command);
	return buf;
}

/* dlp_run - run a command, return its exit status (-1: could not) */
static int dlp_run(char *const argv[], int quiet)
{
	pid_t pid = fork();
	int status, fd;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (quiet && (fd = open("/dev/null", O_WRONLY)) >= 0)
			dup2(fd, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* dlp_check_programs - every service's program is there and executable */
static int dlp_check_programs(const struct master_conf *mc)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < mc->nsvc; i++) {
		dlp_daemon_path(mc->svc[i].command, path, sizeof(path));
		if (access(path, X_OK) < 0) {
			fprintf(stderr, "dlpgate: service %s: %s: %s (daemon_directory = %s)\n",
				mc->svc[i].name, path, strerror(errno), var_daemon_directory);
			return -1;
		}
		if (*mc->svc[i].chroot) {
			struct stat st;

			if (stat(mc->svc[i].chroot, &st) < 0 || !S_ISDIR(st.st_mode)) {
				fprintf(stderr,
					"dlpgate: service %s: chroot %s is not a "
					"directory\n",
					mc->svc[i].name, mc->svc[i].chroot);
				return -1;
			}
		}
	}
	return 0;
}

/* dlp_check_policies - the detector's policies, as dlpscan -t sees them */
static int dlp_check_policies(void)
{
	char path[PATH_MAX], prog[PATH_MAX];
	const struct conf_param *p;
	config_t cfg;
	int rc;

	/* the detector's own checker knows the policy language */
	dlp_command_path("detector", "dlpscan", prog, sizeof(prog));
	if (access(prog, X_OK) == 0) {
		char **argv = xcalloc(5 + 2 * dlp_noverride, sizeof(char *));
		size_t n = 0;

		argv[n++] = prog;
		argv[n++] = "-t";
		argv[n++] = "-c";
		argv[n++] = (char *) dlp_confdir;
		for (size_t i = 0; i < dlp_noverride; i++) {
			argv[n++] = "-o";
			argv[n++] = dlp_overrides[i];
		}
		rc = dlp_run(argv, 1);
		free(argv);
		if (rc != 0) {
			fprintf(stderr,
				"dlpgate: the policies are not valid (%s -t "
				"exited %d)\n",
				prog, rc);
			return -1;
		}
		return 0;
	}
	/* until then: the policy file must at least parse */
	if ((p = conf_find("policy_file")) != NULL && p->type == CONF_STR && *(char **) p->var
	    && **(char **) p->var)
		strlcpy(path, *(char **) p->var, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s/%s", dlp_confdir, DLP_POLICIES_FILE);
	if (access(path, F_OK) < 0)
		return 0;
	config_init(&cfg);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			fprintf(stderr, "dlpgate: %s: cannot read: %s\n", path,
				strerror(errno));
		else
			fprintf(stderr, "dlpgate: %s:%d: %s\n", path, config_error_line(&cfg),
				config_error_text(&cfg));
		config_destroy(&cfg);
		return -1;
	}
	config_destroy(&cfg);
	return 0;
}

/* dlp_check - validate everything; 0 or EXIT_LSB_ERROR */
static int dlp_check(int verbose)
{
	struct master_conf mc;
	char err[CONF_ERR_MAX];
	int privsep = geteuid() == 0;

	if (master_conf_load(dlp_confdir, &mc, err, sizeof(err)) < 0) {
		fprintf(stderr, "dlpgate: %s\n", err);
		return EXIT_LSB_ERROR;
	}
	for (size_t i = 0; privsep && i < mc.nsvc; i++) {
		struct passwd *pw = getpwnam(mc.svc[i].user);

		if (pw == NULL || pw->pw_uid == 0) {
			fprintf(stderr, "dlpgate: service %s: user \"%s\" %s\n", mc.svc[i].name,
				mc.svc[i].user,
				pw == NULL ? "does not exist (run 'dlpgate setup')"
					   : "is root; give each service an unprivileged user");
			master_conf_free(&mc);
			return EXIT_LSB_ERROR;
		}
	}
	if (dlp_check_programs(&mc) < 0 || dlp_check_policies() < 0) {
		master_conf_free(&mc);
		return EXIT_LSB_ERROR;
	}
	if (master_check_secrets(dlp_confdir, &mc, privsep, err, sizeof(err)) < 0
	    || master_check_loop(&mc, err, sizeof(err)) < 0) {
		fprintf(stderr, "dlpgate: %s\n", err);
		master_conf_free(&mc);
		return EXIT_LSB_ERROR;
	}
	if (verbose)
		printf("dlpgate: configuration in %s is valid (%s, %s, %zu services)\n",
		       dlp_confdir,
		       conf_file_exists(dlp_confdir) ? "dlpgate.conf"
						     : "built-in dlpgate.conf defaults",
		       mc.builtin ? "built-in master.conf" : "master.conf", mc.nsvc);
	master_conf_free(&mc);
	return 0;
}

/* dlp_master_path - the master program of this build or installation */
static const char *dlp_master_path(char *buf, size_t len)
{
	return dlp_daemon_path("master", buf, len);
}

/* dlp_start - start master in the background */
static int dlp_start(void)
{
	char path[PATH_MAX];
	char **argv;
	size_t n = 0;
	pid_t pid;
	int status;

	if (dlp_check(0) != 0)
		return EXIT_LSB_ERROR;
	if ((pid = dlp_running()) > 0) {
		printf("dlpgate: already running (pid %ld)\n", (long) pid);
		return EXIT_LSB_OK;
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
	free(argv);
	/* master detaches once its sockets are bound and its pid file locked */
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "dlpgate: master did not start (see the log)\n");
		return EXIT_LSB_ERROR;
	}
	for (int i = 0; i < 100 && dlp_running() == 0; i++)
		usleep(100000);
	if ((pid = dlp_running()) == 0) {
		fprintf(stderr, "dlpgate: master did not start (see the log)\n");
		return EXIT_LSB_ERROR;
	}
	printf("dlpgate: started (pid %ld)\n", (long) pid);
	return EXIT_LSB_OK;
}

/* dlp_wait_gone - wait until master has exited; 0, or -1 at the deadline */
static int dlp_wait_gone(time_t deadline)
{
	while (dlp_running() != 0) {
		if (deadline && time(NULL) > deadline)
			return -1;
		usleep(50000);
	}
	return 0;
}

/* dlp_stop - stop master and wait for it */
static int dlp_stop(void)
{
	pid_t pid = dlp_running();

	if (pid == 0) {
		printf("dlpgate: not running\n");
		return EXIT_LSB_OK;
	}
	if (kill(pid, SIGTERM) < 0) {
		fprintf(stderr, "dlpgate: kill %ld: %s\n", (long) pid, strerror(errno));
		return EXIT_LSB_STOP_FAILED;
	}
	if (dlp_wait_gone(time(NULL) + var_shutdown_timeout + 15) < 0) {
		fprintf(stderr, "dlpgate: master (pid %ld) did not stop\n", (long) pid);
		return EXIT_LSB_STOP_FAILED;
	}
	printf("dlpgate: stopped\n");
	return EXIT_LSB_OK;
}

/* dlp_reload - check, then ask master to re-read the configuration */
static int dlp_reload(void)
{
	pid_t pid = dlp_running();

	if (pid == 0) {
		fprintf(stderr, "dlpgate: not running\n");
		return EXIT_LSB_NOT_RUNNING;
	}
	if (dlp_check(0) != 0)
		return EXIT_LSB_ERROR;
	if (kill(pid, SIGHUP) < 0) {
		fprintf(stderr, "dlpgate: kill %ld: %s\n", (long) pid, strerror(errno));
		return EXIT_LSB_ERROR;
	}
	printf("dlpgate: reloading (pid %ld)\n", (long) pid);
	return EXIT_LSB_OK;
}

/* dlp_ctl - one request on master's control socket; reply body or NULL */
static char *dlp_ctl(const char *request, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct buf b;
	int fd;
	time_t deadline = time(NULL) + DLP_CTL_TIMEOUT;

	snprintf(path, sizeof(path), "%s/%s", var_run_directory, DLP_CTL_FILE);
	if ((fd = unix_connect(path, SOCK_STREAM, DLP_CTL_TIMEOUT, err, errlen)) < 0)
		return NULL;
	if (write(fd, request, strlen(request)) != (ssize_t) strlen(request)
	    || write(fd, "\n", 1) != 1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	buf_init(&b, 8192);
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
			break;
		if (time(NULL) > deadline || b.len > DLP_CTL_REPLY_MAX) {
			snprintf(err, errlen, "%s: no complete answer from master", path);
			close(fd);
			buf_free(&b);
			return NULL;
		}
		if (pfd.revents == 0)
			continue;
		buf_reserve(&b, 8192);
		n = read(fd, b.data + b.len, 8192);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		b.len += (size_t) n;
	}
	close(fd);
	buf_putc(&b, 0);
	if (strncmp(b.data, "ok\n", 3) != 0) {
		snprintf(err, errlen, "master: %.*s", (int) strcspn(b.data, "\n"), b.data);
		buf_free(&b);
		return NULL;
	}
	memmove(b.data, b.data + 3, b.len - 3);
	return b.data;
}

/* dlp_status - master's report, or why there is none */
static int dlp_status(int prometheus)
{
	pid_t pid = dlp_master_pid();
	char err[512], *text;

	if (pid <= 0) {
		if (prometheus)
			printf("# HELP dlpgate_up 1 when master runs.\n"
			       "# TYPE dlpgate_up gauge\ndlpgate_up 0\n");
		else if (pid < 0)
			printf("dlpgate is not running, but %s/master.pid exists\n",
			       var_run_directory);
		else
			printf("dlpgate is not running\n");
		return pid < 0 ? EXIT_LSB_DEAD_PIDFILE : EXIT_LSB_NOT_RUNNING;
	}
	if ((text = dlp_ctl(prometheus ? "prometheus" : "status", err, sizeof(err))) == NULL) {
		/* still running: the exit status says so, the details are missing */
		if (prometheus)
			printf("dlpgate_up 1\n");
		else
			printf("dlpgate is running (pid %ld)\n", (long) pid);
		fflush(stdout);
		fprintf(stderr, "dlpgate: no details: %s%s\n", err,
			geteuid() != 0 ? " (the control socket is root's)" : "");
		return EXIT_LSB_OK;
	}
	fputs(text, stdout);
	free(text);
	return EXIT_LSB_OK;
}

/* dlp_drain - no new sessions; wait until master exits */
static int dlp_drain(void)
{
	pid_t pid = dlp_running();
	char err[512], *text;

	if (pid == 0) {
		printf("dlpgate: not running\n");
		return EXIT_LSB_OK;
	}
	if ((text = dlp_ctl("drain", err, sizeof(err))) == NULL) {
		fprintf(stderr, "dlpgate: %s\n", err);
		return EXIT_LSB_ERROR;
	}
	free(text);
	printf("dlpgate: draining (pid %ld): no new sessions; waiting for those "
	       "in flight\n",
	       (long) pid);
	fflush(stdout);
	(void) dlp_wait_gone(0);
	printf("dlpgate: drained and stopped\n");
	return EXIT_LSB_OK;
}

/* dlp_setup_users - the group dlpgate and the users of the roles */
static int dlp_setup_users(void)
{
	static const char *const users[] = {"dlpgate", "dlpgate-detect", "dlpgate-tls"};

	if (getgrnam("dlpgate") == NULL) {
		char *argv[] = {"groupadd", "--system", "dlpgate", NULL};

		if (dlp_run(argv, 0) != 0) {
			fprintf(stderr, "dlpgate: groupadd dlpgate failed\n");
			return -1;
		}
		printf("dlpgate: created group dlpgate\n");
	}
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		/* dlpgate's primary group is dlpgate; the others get their own */
		char *argv[] = {"useradd",
				"--system",
				"--no-create-home",
				"--home-dir",
				"/nonexistent",
				"--shell",
				"/usr/sbin/nologin",
				"--user-group",
				(char *) users[i],
				NULL,
				NULL};

		if (getpwnam(users[i]) != NULL)
			continue;
		if (i == 0) {
			argv[7] = "--gid";
			argv[8] = "dlpgate";
			argv[9] = (char *) users[i];
		}
		if (dlp_run(argv, 0) != 0) {
			fprintf(stderr, "dlpgate: useradd %s failed\n", users[i]);
			return -1;
		}
		printf("dlpgate: created user %s\n", users[i]);
	}
	return 0;
}

/* dlp_setup_dir - a directory with an owner and a mode */
static int dlp_setup_dir(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST) {
		fprintf(stderr, "dlpgate: mkdir %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (chown(path, uid, gid) < 0 || chmod(path, mode) < 0) {
		fprintf(stderr, "dlpgate: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* dlp_setup_password - a random keystore password, tlsmgr's alone */
static int dlp_setup_password(const struct passwd *tls)
{
	char path[PATH_MAX], pass[65];
	unsigned char raw[32];
	int fd;

	master_secret_path(MASTER_SECRET_PASSWORD, dlp_confdir, path, sizeof(path));
	if (access(path, F_OK) == 0)
		return 0; /* never replace a password */
	arc4random_buf(raw, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(pass + 2 * i, 3, "%02x", raw[i]);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0
	    || write(fd, pass, 64) != 64 || write(fd, "\n", 1) != 1
	    || fchown(fd, tls->pw_uid, tls->pw_gid) < 0 || fsync(fd) < 0) {
		fprintf(stderr, "dlpgate: %s: %s\n", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			(void) unlink(path);
		}
		return -1;
	}
	close(fd);
	explicit_bzero(pass, sizeof(pass));
	printf("dlpgate: created the keystore password file %s (mode 0600, owner %s)\n", path,
	       tls->pw_name);
	return 0;
}

/* dlp_setup - users, runtime directories, keystore password file */
static int dlp_setup(void)
{
	struct master_conf mc;
	struct passwd *tls;
	struct group *gr;
	char priv[PATH_MAX], err[CONF_ERR_MAX];

	if (geteuid() != 0) {
		fprintf(stderr, "dlpgate: setup must run as root\n");
		return EXIT_LSB_ERROR;
	}
	if (dlp_setup_users() < 0)
		return EXIT_LSB_ERROR;
	if (master_conf_load(dlp_confdir, &mc, err, sizeof(err)) < 0) {
		fprintf(stderr, "dlpgate: %s\n", err);
		return EXIT_LSB_ERROR;
	}
	tls = getpwnam(master_tls_user(&mc));
	master_conf_free(&mc);
	gr = getgrnam("dlpgate");
	if (tls == NULL || gr == NULL) {
		fprintf(stderr, "dlpgate: the users of dlpgate are missing\n");
		return EXIT_LSB_ERROR;
	}
	/* what master recreates at each start (run_directory is often tmpfs) */
	snprintf(priv, sizeof(priv), "%s/private", var_run_directory);
	/* the configuration directory is the administrator's once it exists */
	if (mkdir(dlp_confdir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "dlpgate: mkdir %s: %s\n", dlp_confdir, strerror(errno));
		return EXIT_LSB_ERROR;
	}
	if (dlp_setup_dir(var_run_directory, 0, 0, 0755) < 0
	    || dlp_setup_dir(priv, 0, gr->gr_gid, 0750) < 0 || dlp_setup_password(tls) < 0)
		return EXIT_LSB_ERROR;
	return EXIT_LSB_OK;
}

/* dlp_usage - explain the command line */
static void dlp_usage(void)
{
	fprintf(stderr,
		"usage: dlpgate [-c confdir] [-o name=value]... "
		"start|stop|restart|reload|status [--prometheus]|check|drain|setup\n");
	exit(EXIT_LSB_USAGE);
}

int main(int argc, char **argv)
{
	char err[CONF_ERR_MAX];
	const char *cmd;
	int ch, rc, prometheus = 0;

	msg_open("dlpgate", MSG_TO_STDERR, LOG_MAIL);
	conf_rules_enable(master_conf_contexts);
	dlp_overrides = xcalloc((size_t) argc + 1, sizeof(char *));
	while ((ch = getopt(argc, argv, "+c:o:")) != -1) {
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
	if (optind >= argc)
		dlp_usage();
	cmd = argv[optind++];
	if (strcmp(cmd, "status") == 0 && optind < argc
	    && strcmp(argv[optind], "--prometheus") == 0) {
		prometheus = 1;
		optind++;
	}
	if (optind != argc)
		dlp_usage();
	if (conf_load(dlp_confdir, dlp_overrides, dlp_noverride, err, sizeof(err)) < 0) {
		fprintf(stderr, "dlpgate: %s\n", err);
		return strcmp(cmd, "status") == 0 ? EXIT_LSB_UNKNOWN : EXIT_LSB_ERROR;
	}
	if (strcmp(cmd, "start") == 0)
		rc = dlp_start();
	else if (strcmp(cmd, "stop") == 0)
		rc = dlp_stop();
	else if (strcmp(cmd, "restart") == 0)
		rc = (rc = dlp_stop()) != 0 ? rc : dlp_start();
	else if (strcmp(cmd, "reload") == 0)
		rc = dlp_reload();
	else if (strcmp(cmd, "status") == 0)
		rc = dlp_status(prometheus);
	else if (strcmp(cmd, "check") == 0)
		rc = dlp_check(1);
	else if (strcmp(cmd, "drain") == 0)
		rc = dlp_drain();
	else if (strcmp(cmd, "setup") == 0)
		rc = dlp_setup();
	else
		dlp_usage();
	return rc;
}
