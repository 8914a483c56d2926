/*
 * confine - run a parser of hostile bytes in a child process under limits
 *
 * confine_run() forks; the child drops to what a parser needs (no open
 * descriptors but its output pipe, no new privileges, no files, no
 * sockets, no processes: a seccomp filter refuses every system call but
 * memory management and writing to its pipe), sets its address-space and
 * CPU limits, and calls fn(), which writes its results to the pipe. The
 * parent reads them into out while it enforces a wall-clock deadline and a
 * byte cap, and reports how the child ended. A child that crashes, loops,
 * exhausts its memory or writes too much costs its caller one result with
 * a status; the parent's own state is untouched, since the child works on
 * a copy of its memory.
 *
 * The caller must treat what the child wrote as hostile input too.
 */
#ifndef DLP_CONFINE_H
#define DLP_CONFINE_H

#include <stddef.h>

#include "buf.h"

struct confine_limits {
	size_t memory;  /* bytes of address space beyond the parent's */
	int cpu;        /* seconds of CPU time; 0: none */
	int timeout_ms; /* wall clock, from the fork */
	size_t output;  /* bytes of output kept */
};

enum confine_status {
	CONFINE_OK,      /* exit status 0 */
	CONFINE_EXIT,    /* another exit status (code) */
	CONFINE_SIGNAL,  /* killed by a signal (code): crash, CPU, memory */
	CONFINE_TIMEOUT, /* past the deadline: killed */
	CONFINE_OUTPUT,  /* more output than allowed: killed */
	CONFINE_NOFORK,  /* could not be started (errno in code) */
};

struct confine_result {
	enum confine_status status;
	int code;
	double seconds; /* wall clock */
};

/* The child's entry point: write to fd, return the exit status. */
typedef int (*confine_fn)(int fd, void *arg);

void confine_run(const struct confine_limits *lim, confine_fn fn, void *arg, struct buf *out,
		 struct confine_result *res);
const char *confine_describe(const struct confine_result *res, char *buf, size_t len);
int confine_write(int fd, const void *data, size_t len);

#endif
