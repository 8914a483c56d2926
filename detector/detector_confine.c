/*
 * detector_confine - archives and documents are opened in a child process
 *
 * detector_container_scan() is the dispatch's entry for content that is
 * an archive or a document with a parser of its own (libarchive, compound
 * files, Outlook messages, RTF). It returns 0, at the cost of a look at
 * a few bytes, for content that is none of these.
 *
 * The parsers read hostile bytes, and libarchive is a large C library: a
 * crash in one must not take the detector down, nor a loop hold it. So the
 * top-level container of each attachment is read in a child process
 * (fork: the policies and the Hyperscan database are shared, nothing is
 * copied) that scans it exactly as the detector would, under
 *
 *	RLIMIT_DATA	detector_reader_memory_limit more than the detector's
 *	RLIMIT_CPU	detector_reader_time_limit, or the scan's deadline if
 *			that comes first, in whole seconds, plus one
 *	RLIMIT_CORE	0, and SIGKILL should the detector die
 *	the deadline	the scan's, checked by the parsers; the detector waits
 *			for the child (pidfd and poll) until that deadline and a
 *			quarter of a second more, or detector_reader_time_limit,
 *			then kills it
 *
 * Unlike the PDF reader (common/confine.c), this child has no seccomp
 * filter: it scans what it reads itself, and an archive may hold a PDF,
 * whose reader it must be able to start in a child of its own.
 *
 * and writes what the scan found (hits per rule with their masked
 * samples, attachment names and types, what could not be read, the
 * counters of parts and decoded bytes, and what the fingerprint rules
 * found: detector_fp_report) into a shared anonymous mapping,
 * which the detector takes over when the child has exited normally.
 * Containers inside that container are read in the same child.
 *
 * A child that is killed by a signal, runs out of memory or time, or
 * cannot be started costs that attachment: it is recorded with
 * detector_unscannable() ("parser crashed (signal 11) in x.zip"), and
 * unscannable_action applies. The mapping is kept for the next message.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "detector.h"

#define CONFINE_GRACE 250               /* ms past the deadline before the kill */
#define CONFINE_HUGE  (2 * 1024 * 1024) /* a huge page */

/* What a child hands back. */
struct confine_result {
	int done;  /* the child got to the end */
	int taken; /* the content was a container */
	int incomplete, timed_out;
	unsigned parts, callbacks;
	size_t decoded;
	size_t natt;
	char incomplete_why[sizeof(((struct det_scan *) 0)->incomplete_why)];
	/* then: nrules struct det_rule_hits, natt struct det_attach */
};

static void *confine_map;
static size_t confine_size;

/* confine_region - the shared mapping, large enough for this policy set */
static struct confine_result *confine_region(size_t nrules, size_t fp)
{
	size_t need = sizeof(struct confine_result) + nrules * sizeof(struct det_rule_hits)
		+ DET_MAX_ATTACH * sizeof(struct det_attach) + fp;

	if (confine_map != NULL && confine_size >= need)
		return confine_map;
	if (confine_map != NULL)
		munmap(confine_map, confine_size);
	confine_map =
		mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (confine_map == MAP_FAILED) {
		confine_map = NULL;
		return NULL;
	}
	confine_size = need;
	return confine_map;
}

/* data_pages - the process's data segment now, in bytes (/proc/self/statm) */
static size_t data_bytes(void)
{
	FILE *fp = fopen("/proc/self/statm", "r");
	unsigned long v[7] = {0};

	if (fp == NULL)
		return 0;
	if (fscanf(fp, "%lu %lu %lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5])
	    != 6)
		v[5] = 0;
	fclose(fp);
	return (size_t) v[5] * (size_t) sysconf(_SC_PAGESIZE);
}

/* ms_left - milliseconds to the scan's deadline (0 when past) */
static long ms_left(const struct det_scan *sc)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long) (sc->deadline.tv_sec - now.tv_sec) * 1000
		+ (sc->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

/* time_left - ms this child may run: the scan's deadline or the reader's limit */
static long time_left(const struct det_scan *sc)
{
	long ms = ms_left(sc), lim = (long) var_detector_reader_time_limit * 1000;

	return ms < lim ? ms : lim;
}

/* child_limits - what a parser may take */
static void child_limits(const struct det_scan *sc)
{
	struct rlimit r;
	size_t data = data_bytes();

	(void) prctl(PR_SET_PDEATHSIG, SIGKILL);
	r.rlim_cur = r.rlim_max = 0;
	(void) setrlimit(RLIMIT_CORE, &r);
	r.rlim_cur = r.rlim_max = (rlim_t) (time_left(sc) / 1000 + 2);
	(void) setrlimit(RLIMIT_CPU, &r);
	if (data > 0) {
		r.rlim_cur = r.rlim_max =
			(rlim_t) data + (rlim_t) var_detector_reader_memory_limit;
		(void) setrlimit(RLIMIT_DATA, &r);
	}
}

/* child_report - the scan's outcome into the shared mapping */
static void child_report(struct det_scan *sc, struct confine_result *res, int taken)
{
	struct det_rule_hits *hits = (struct det_rule_hits *) (res + 1);
	struct det_attach *att = (struct det_attach *) (hits + sc->ps->nrules);

	/* first: the fingerprint rules judge what they read, which makes hits */
	detector_fp_report(sc, att + DET_MAX_ATTACH);
	res->taken = taken;
	res->incomplete = sc->incomplete;
	res->timed_out = sc->timed_out;
	res->parts = sc->parts;
	res->callbacks = sc->callbacks;
	res->decoded = sc->decoded;
	memcpy(res->incomplete_why, sc->incomplete_why, sizeof(res->incomplete_why));
	memcpy(hits, sc->hits, sc->ps->nrules * sizeof(*hits));
	res->natt = sc->natt < DET_MAX_ATTACH ? sc->natt : DET_MAX_ATTACH;
	if (res->natt)
		memcpy(att, sc->att, res->natt * sizeof(*att));
	res->done = 1;
}

/* take_report - the child's outcome becomes ours */
static int take_report(struct det_scan *sc, const struct confine_result *res)
{
	const struct det_rule_hits *hits = (const struct det_rule_hits *) (res + 1);
	const struct det_attach *att = (const struct det_attach *) (hits + sc->ps->nrules);

	memcpy(sc->hits, hits, sc->ps->nrules * sizeof(*hits));
	sc->incomplete = res->incomplete;
	sc->timed_out = res->timed_out;
	sc->parts = res->parts;
	sc->callbacks = res->callbacks;
	sc->decoded = res->decoded;
	memcpy(sc->incomplete_why, res->incomplete_why, sizeof(sc->incomplete_why));
	sc->incomplete_why[sizeof(sc->incomplete_why) - 1] = 0;
	/* all of them: the child may have retyped one of ours (a zip is a docx) */
	if (res->natt >= sc->natt && res->natt <= DET_MAX_ATTACH && res->natt > 0) {
		sc->att = xrealloc(sc->att, res->natt * sizeof(*sc->att));
		memcpy(sc->att, att, res->natt * sizeof(*att));
		sc->natt = res->natt;
	}
	detector_fp_take(sc, att + DET_MAX_ATTACH);
	return res->taken;
}

/* wait_child - until the child exits or its time (and a little more) is up */
static int wait_child(struct det_scan *sc, pid_t pid, int *status)
{
	int pfd = (int) syscall(SYS_pidfd_open, pid, 0);
	struct timespec end;
	long ms = time_left(sc) + CONFINE_GRACE;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	if (pfd >= 0) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		struct timespec now;
		int rc;

		for (;;) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			ms = (long) (end.tv_sec - now.tv_sec) * 1000
				+ (end.tv_nsec - now.tv_nsec) / 1000000;
			if ((rc = poll(&p, 1, ms > 0 ? (int) ms : 0)) >= 0 || errno != EINTR)
				break;
		}
		close(pfd);
		if (rc == 0) {
			kill(pid, SIGKILL);
			(void) waitpid(pid, status, 0);
			return -1;
		}
	}
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -2;
	return 0;
}

/* detector_confine_buffer - a large buffer of a parser: huge pages, fewer faults */
void detector_confine_buffer(const struct det_scan *sc, struct buf *b)
{
	uintptr_t from, to;

	if (!sc->confined || b->cap < CONFINE_HUGE)
		return;
	from = ((uintptr_t) b->data + CONFINE_HUGE - 1) & ~(uintptr_t) (CONFINE_HUGE - 1);
	to = ((uintptr_t) b->data + b->cap) & ~(uintptr_t) (CONFINE_HUGE - 1);
	if (to > from)
		(void) madvise((void *) from, to - from, MADV_HUGEPAGE);
}

/* run_here - the scan in this process (in a child already, or no child) */
static int run_here(struct det_scan *sc, const char *data, size_t len, unsigned where,
		    int depth, const char *sniffed, const char *ctype)
{
	return detector_archive_scan(sc, data, len, depth, sniffed, ctype)
		|| detector_document_scan(sc, data, len, where, depth, sniffed, ctype);
}

/* detector_container_scan - an archive or a document, in a child; 0 if neither */
int detector_container_scan(struct det_scan *sc, const char *data, size_t len, unsigned where,
			    int depth, const char *sniffed, const char *ctype)
{
	struct confine_result *res;
	char name[64];
	pid_t pid;
	int status = 0, rc;

	if (sc->confined)
		return run_here(sc, data, len, where, depth, sniffed, ctype);
	if (!detector_container_probe(sc, data, len, sniffed, ctype)) /* saved messages */
		return detector_document_scan(sc, data, len, where, depth, sniffed, ctype);
	/*
	 * The detector's free heap goes back to the kernel first. After a large
	 * message it holds large free chunks, and the child's malloc would serve
	 * its buffers from them: every page it wrote would be a copy of ours,
	 * 4 KB at a time, and fork would copy their page tables. Given back,
	 * they fault in zeroed in the child (a docx after a 10 MB base64
	 * message: 121 MB/s per core before, 154-161 after; page faults halved).
	 */
	malloc_trim(0);
	if ((res = confine_region(sc->ps->nrules, detector_fp_report_size(sc))) == NULL
	    || (pid = fork()) < 0) {
		msg_warn("cannot start a parser process (%m): reading in the detector");
		return run_here(sc, data, len, where, depth, sniffed, ctype);
	}
	if (pid == 0) {
		int taken;

		child_limits(sc);
		/* large buffers fresh from the kernel, not copies of the detector's heap */
		mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
		sc->confined = 1;
		memset(res, 0, sizeof(*res));
		taken = run_here(sc, data, len, where, depth, sniffed, ctype);
		child_report(sc, res, taken);
		_exit(0);
	}
	snprintf(name, sizeof(name), "%s",
		 sc->content_name && *sc->content_name ? sc->content_name : "-");
	rc = wait_child(sc, pid, &status);
	if (rc == -1 && ms_left(sc) == 0) {
		sc->timed_out = 1; /* the message's time is up */
		detector_scan_limit(sc, "time");
		return 1;
	}
	if (rc == -1) {
		detector_unscannable(
			sc, "parser out of time (detector_reader_time_limit) in %s", name);
		return 1;
	}
	if (rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && res->done)
		return take_report(sc, res);
	if (rc == 0 && WIFSIGNALED(status))
		detector_unscannable(sc, "parser %s (signal %d) in %s",
				     WTERMSIG(status) == SIGXCPU           ? "out of time"
					     : WTERMSIG(status) == SIGKILL ? "killed"
									   : "crashed",
				     WTERMSIG(status), name);
	else
		detector_unscannable(sc, "parser failed (out of memory?) in %s", name);
	return 1;
}
