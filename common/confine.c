/*
 * confine - run a parser of hostile bytes in a child process under limits
 *
 * See confine.h. The child's limits, in the order they are set up:
 *	descriptors	its output pipe as 3, /dev/null as 0-2, nothing else
 *	death		SIGKILL when the parent dies (PR_SET_PDEATHSIG)
 *	rlimits		address space (what the parent had plus lim->memory),
 *			CPU seconds, no core files, no file writes, 4 files
 *	seccomp		after PR_SET_NO_NEW_PRIVS: memory management, read,
 *			write, close, exit, time, futex, getrandom and signals
 *			to itself are allowed; every other system call fails with EPERM
 *			(an open, socket or exec gets nowhere); a system call
 *			of another architecture kills the child
 * Address-space limits do not mix with AddressSanitizer's shadow memory:
 * sanitizer builds leave that one out.
 *
 * The parent polls the pipe and a pidfd for the child until the deadline,
 * keeps at most lim->output bytes, and kills (SIGKILL) a child past its
 * deadline or its output cap. The child is always reaped before
 * confine_run() returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <bsd/unistd.h>

#include "confine.h"

#define CONFINE_FD    3
#define CONFINE_CHUNK (1 << 20) /* read at once, and the pipe's size */

#if defined(__SANITIZE_ADDRESS__)
#define CONFINE_NO_AS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONFINE_NO_AS 1
#endif
#endif

#if defined(__x86_64__)
#define CONFINE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define CONFINE_ARCH AUDIT_ARCH_AARCH64
#endif

/* now_ms - the monotonic clock in milliseconds */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#ifdef CONFINE_ARCH
#define CONFINE_ALLOW(nr) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/* confine_seccomp - refuse every system call a parser has no use for */
static int confine_seccomp(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CONFINE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		CONFINE_ALLOW(__NR_read),
		CONFINE_ALLOW(__NR_write),
		CONFINE_ALLOW(__NR_writev),
		CONFINE_ALLOW(__NR_close),
		CONFINE_ALLOW(__NR_lseek),
		CONFINE_ALLOW(__NR_fstat),
		CONFINE_ALLOW(__NR_brk),
		CONFINE_ALLOW(__NR_mmap),
		CONFINE_ALLOW(__NR_munmap),
		CONFINE_ALLOW(__NR_mremap),
		CONFINE_ALLOW(__NR_mprotect),
		CONFINE_ALLOW(__NR_madvise),
		CONFINE_ALLOW(__NR_futex),
		CONFINE_ALLOW(__NR_sched_yield),
		CONFINE_ALLOW(__NR_clock_gettime),
		CONFINE_ALLOW(__NR_gettimeofday),
		CONFINE_ALLOW(__NR_getrandom), /* crypto libraries seed themselves */
		CONFINE_ALLOW(__NR_getpid),
		CONFINE_ALLOW(__NR_gettid),
		CONFINE_ALLOW(__NR_tgkill),
		CONFINE_ALLOW(__NR_rt_sigprocmask),
		CONFINE_ALLOW(__NR_rt_sigreturn),
		CONFINE_ALLOW(__NR_exit),
		CONFINE_ALLOW(__NR_exit_group),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
	};
	struct sock_fprog prog = {
		.len = (unsigned short) (sizeof(filter) / sizeof(filter[0])),
		.filter = filter,
	};

	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}
#else
/* confine_seccomp - no filter for this architecture: rlimits only */
static int confine_seccomp(void)
{
	return 0;
}
#endif

#ifndef CONFINE_NO_AS
/* address_space - bytes of address space this process has mapped now */
static size_t address_space(void)
{
	char text[128];
	unsigned long long pages = 0;
	ssize_t n;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = 0;
	if (sscanf(text, "%llu", &pages) != 1)
		return 0;
	return (size_t) pages * (size_t) sysconf(_SC_PAGESIZE);
}
#endif

/* set_limit - one rlimit, soft and hard */
static void set_limit(int resource, rlim_t soft, rlim_t hard)
{
	struct rlimit rl = {.rlim_cur = soft, .rlim_max = hard};

	(void) setrlimit(resource, &rl);
}

/* confine_child - the child's side: shed everything, then run fn */
static void confine_child(int wfd, const struct confine_limits *lim, confine_fn fn, void *arg)
{
	int null = open("/dev/null", O_RDWR);

	if (null < 0 || (wfd != CONFINE_FD && dup2(wfd, CONFINE_FD) < 0))
		_exit(120);
	for (int fd = 0; fd < 3; fd++)
		if (fd != null && dup2(null, fd) < 0)
			_exit(120);
	closefrom(CONFINE_FD + 1);
	(void) fcntl(CONFINE_FD, F_SETFD, 0);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		_exit(120);
	signal(SIGPIPE, SIG_DFL);
#ifndef CONFINE_NO_AS
	if (lim->memory) {
		size_t have = address_space();

		set_limit(RLIMIT_AS, have + lim->memory, have + lim->memory);
	}
#endif
	if (lim->cpu > 0)
		set_limit(RLIMIT_CPU, (rlim_t) lim->cpu, (rlim_t) lim->cpu + 1);
	set_limit(RLIMIT_CORE, 0, 0);
	set_limit(RLIMIT_FSIZE, 0, 0);
	set_limit(RLIMIT_NOFILE, CONFINE_FD + 1, CONFINE_FD + 1);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || confine_seccomp() < 0)
		_exit(121);
	_exit(fn(CONFINE_FD, arg) & 0xff);
}

/* confine_write - all of data to the pipe; -1 when the reader is gone */
int confine_write(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

/* confine_read - what the child wrote, until it exits, the cap or the deadline */
static enum confine_status confine_read(pid_t pid, int rfd, int pidfd, long long deadline,
					size_t cap, struct buf *out, int *status)
{
	int eof = 0;

	for (;;) {
		struct pollfd pfd[2] = {{.fd = rfd, .events = POLLIN},
					{.fd = pidfd, .events = POLLIN}};
		long long left = deadline - now_ms();
		int rc;

		if (left <= 0)
			return CONFINE_TIMEOUT;
		if (eof && pidfd < 0) {
			/* no pidfd (old kernel): look for its exit every 10 ms */
			if (waitpid(pid, status, WNOHANG) == pid)
				return CONFINE_OK;
			(void) poll(NULL, 0, left < 10 ? (int) left : 10);
			continue;
		}
		if (eof)
			rc = poll(pfd + 1, 1, left > 1000 ? 1000 : (int) left);
		else
			rc = poll(pfd, pidfd >= 0 ? 2 : 1, left > 1000 ? 1000 : (int) left);
		if (rc < 0 && errno != EINTR)
			return CONFINE_TIMEOUT;
		if (rc <= 0)
			continue;
		if (!eof && pfd[0].revents) {
			ssize_t n;

			buf_reserve(out, CONFINE_CHUNK + 1);
			n = read(rfd, out->data + out->len, CONFINE_CHUNK);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				eof = 1;
			else if (out->len + (size_t) n > cap)
				return CONFINE_OUTPUT;
			else
				out->len += (size_t) n;
			continue;
		}
		/* the pidfd is readable: the child has exited */
		if (eof && waitpid(pid, status, 0) == pid)
			return CONFINE_OK;
		/* exited with its pipe still open to us: read what is left */
	}
}

/* confine_status - how an exit status reads */
static void confine_status(int status, struct confine_result *res)
{
	if (WIFSIGNALED(status)) {
		res->status = CONFINE_SIGNAL;
		res->code = WTERMSIG(status);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		res->status = CONFINE_EXIT;
		res->code = WEXITSTATUS(status);
	}
}

/* confine_run - fn(fd, arg) in a confined child; its output in out */
void confine_run(const struct confine_limits *lim, confine_fn fn, void *arg, struct buf *out,
		 struct confine_result *res)
{
	long long t0 = now_ms();
	enum confine_status st;
	int p[2], pidfd, status = 0;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (pipe2(p, O_CLOEXEC) < 0) {
		res->status = CONFINE_NOFORK;
		res->code = errno;
		return;
	}
	/* a pipe of a megabyte: a reader with much to say is not woken up
	 * (nor the parent) for every 64 kB; the default when refused */
	(void) fcntl(p[1], F_SETPIPE_SZ, CONFINE_CHUNK);
	if ((pid = fork()) < 0) {
		res->status = CONFINE_NOFORK;
		res->code = errno;
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0)
		confine_child(p[1], lim, fn, arg);
	close(p[1]);
	(void) fcntl(p[0], F_SETFL, O_NONBLOCK);
	pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
	st = confine_read(pid, p[0], pidfd, t0 + lim->timeout_ms, lim->output, out, &status);
	close(p[0]);
	if (pidfd >= 0)
		close(pidfd);
	res->status = st;
	if (st == CONFINE_OK) {
		confine_status(status, res);
	} else {
		(void) kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	res->seconds = (double) (now_ms() - t0) / 1000.0;
}

/* confine_describe - how the child ended, for a log line or a reason */
const char *confine_describe(const struct confine_result *res, char *buf, size_t len)
{
	switch (res->status) {
	case CONFINE_OK:
		snprintf(buf, len, "done");
		break;
	case CONFINE_EXIT:
		snprintf(buf, len, "exit status %d", res->code);
		break;
	case CONFINE_SIGNAL:
		snprintf(buf, len, "%s",
			 res->code == SIGXCPU || res->code == SIGKILL ? "CPU time limit"
				 : res->code == SIGSEGV || res->code == SIGABRT
					 || res->code == SIGBUS
				 ? "crashed (memory limit or bad input)"
				 : res->code == SIGSYS ? "forbidden system call"
						       : "killed");
		break;
	case CONFINE_TIMEOUT:
		snprintf(buf, len, "time limit");
		break;
	case CONFINE_OUTPUT:
		snprintf(buf, len, "output limit");
		break;
	case CONFINE_NOFORK:
		snprintf(buf, len, "cannot start a reader: %s", strerror(res->code));
		break;
	}
	return buf;
}
