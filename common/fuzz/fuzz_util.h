/*
 * fuzz_util - what the libFuzzer harnesses of every role share
 *
 * fuzz_quiet() opens the log on standard error at level error, so that
 * the warnings a hostile input is meant to cause do not flood the run;
 * fuzz_defaults() loads the built-in configuration. fuzz_memfd() puts
 * bytes in a memory file positioned at its start: read() returns them,
 * then end of file, so a stream over it sees a peer that said exactly
 * this and hung up. fuzz_open_fds() counts descriptors, to catch leaks.
 * fuzz_take() hands out the input piece by piece.
 *
 * Everything here is static: each harness is one program.
 */
#ifndef DLP_FUZZ_UTIL_H
#define DLP_FUZZ_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "msg.h"

/* fuzz_quiet - log errors only, to standard error */
static inline void fuzz_quiet(const char *name)
{
	msg_open(name, MSG_TO_STDERR, LOG_MAIL);
	msg_set_level(getenv("FUZZ_VERBOSE") ? MSG_DEBUG : MSG_ERROR);
}

/* fuzz_defaults - the built-in configuration, plus overrides */
static inline void fuzz_defaults(char *const *overrides, size_t n)
{
	char err[CONF_ERR_MAX];

	if (conf_load("/nonexistent", overrides, n, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
}

/* fuzz_memfd - a memory file holding data, read from its start */
static inline int fuzz_memfd(const void *data, size_t len)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	const char *p = data;

	if (fd < 0)
		abort();
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			abort();
		p += n;
		len -= (size_t) n;
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

/* fuzz_open_fds - how many descriptors this process has open */
static inline int fuzz_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		abort();
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* The input, handed out piece by piece. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

/* fuzz_byte - the next byte, 0 when the input is used up */
static inline unsigned fuzz_byte(struct fuzz_in *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

/* fuzz_take - up to want bytes (fewer at the end of the input) */
static inline const uint8_t *fuzz_take(struct fuzz_in *in, size_t want, size_t *got)
{
	const uint8_t *p = in->p;

	*got = want < in->left ? want : in->left;
	in->p += *got;
	in->left -= *got;
	return p;
}

#endif
