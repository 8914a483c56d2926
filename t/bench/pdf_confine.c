/*
 * pdf_confine - what confining the PDF reader costs (t/bench/pdf-confine)
 *
 *	pdf_confine FILE.pdf RUNS BALLAST_MB
 *
 * Reads FILE.pdf RUNS times in this process (pdf_read) and RUNS times in
 * a confined child (confine_run, as the detector does), after growing the
 * heap by BALLAST_MB of touched memory (a detector's policies and
 * Hyperscan database make fork copy page tables). Prints the best wall
 * time of each and the difference: the price of one confined document.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "confine.h"
#include "detector_pdf.h"

struct job {
	const char *data;
	size_t len;
};

/* now - the monotonic clock in seconds */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* child - the confined reader */
static int child(int fd, void *arg)
{
	const struct job *j = arg;

	return pdf_read(j->data, j->len, 100 << 20, fd);
}

int main(int argc, char **argv)
{
	struct confine_limits lim = {
		.memory = 512u << 20, .cpu = 20, .timeout_ms = 20000, .output = 200u << 20};
	struct confine_result res;
	struct stat st;
	struct job j;
	double in = 1e9, out = 1e9;
	int fd, runs, null = open("/dev/null", O_WRONLY);
	size_t ballast;
	char *b;

	if (argc != 4 || (fd = open(argv[1], O_RDONLY)) < 0 || fstat(fd, &st) < 0)
		return 2;
	runs = atoi(argv[2]);
	ballast = (size_t) atoi(argv[3]) << 20;
	b = malloc(ballast + 1);
	memset(b, 1, ballast + 1);
	j.len = (size_t) st.st_size;
	j.data = mmap(NULL, j.len, PROT_READ, MAP_PRIVATE, fd, 0);
	for (int r = 0; r < runs; r++) {
		double t = now();
		struct buf o;

		(void) pdf_read(j.data, j.len, 100 << 20, null);
		if (now() - t < in)
			in = now() - t;
		buf_init(&o, 65536);
		t = now();
		confine_run(&lim, child, &j, &o, &res);
		if (now() - t < out)
			out = now() - t;
		if (res.status != CONFINE_OK)
			return 1;
		buf_free(&o);
	}
	printf("%s (%.0f KB), %d MB heap: in process %.2f ms, confined %.2f ms, "
	       "confinement %.2f ms per document\n",
	       argv[1], (double) j.len / 1024, (int) (ballast >> 20), in * 1e3, out * 1e3,
	       (out - in) * 1e3);
	free(b);
	return 0;
}
