/*
 * replay - run a libFuzzer harness once over each of its seeds, built by gcc
 *
 * make unit links this with a harness (dir/fuzz/fuzz_NAME.c) and the
 * sources it names into dir/fuzz/replay-NAME, with ASan and UBSan:
 *	replay-NAME PATH...
 * calls LLVMFuzzerInitialize() once, when the harness has one, then
 * LLVMFuzzerTestOneInput() once per file (a directory: each file in it,
 * in name order), each in a child process that has REPLAY_TIMEOUT
 * seconds. A seed that crashes, aborts on a property the harness checks,
 * trips a sanitizer, leaks (LeakSanitizer, at the child's exit) or hangs
 * fails under its own name, and the other seeds still run. The output is
 * TAP, one line per seed; the exit status is 1 when a seed failed or no
 * seed was found. t/03-fuzz-replay.t runs every replay-NAME.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define REPLAY_TIMEOUT   30         /* seconds per seed, sanitizers included */
#define REPLAY_MAX_SIZE  (16 << 20) /* larger seeds are refused */
#define REPLAY_MAX_SEEDS 100000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static char **replay_paths;
static size_t replay_count;

/* replay_add - remember one seed file */
static void replay_add(const char *path)
{
	if (replay_count >= REPLAY_MAX_SEEDS) {
		fprintf(stderr, "replay: more than %d seeds\n", REPLAY_MAX_SEEDS);
		exit(1);
	}
	if ((replay_paths = realloc(replay_paths, (replay_count + 1) * sizeof(char *))) == NULL
	    || (replay_paths[replay_count] = strdup(path)) == NULL) {
		perror("replay");
		exit(1);
	}
	replay_count++;
}

/* replay_by_name - qsort order for paths */
static int replay_by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* replay_collect - a file, or every file of a directory */
static void replay_collect(const char *path)
{
	struct dirent *de;
	struct stat st;
	DIR *dir;
	char sub[PATH_MAX];

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if (!S_ISDIR(st.st_mode)) {
		replay_add(path);
		return;
	}
	if ((dir = opendir(path)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (stat(sub, &st) == 0 && S_ISREG(st.st_mode))
			replay_add(sub);
	}
	closedir(dir);
}

/* replay_read - the whole seed; exits on error */
static uint8_t *replay_read(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *data = malloc(REPLAY_MAX_SIZE + 1);

	if (fp == NULL || data == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	*len = fread(data, 1, REPLAY_MAX_SIZE + 1, fp);
	if (ferror(fp) || *len > REPLAY_MAX_SIZE) {
		fprintf(stderr, "replay: %s: unreadable or larger than %d bytes\n", path,
			REPLAY_MAX_SIZE);
		exit(1);
	}
	fclose(fp);
	return data;
}

/* replay_one - one seed in a child; 0 if it passed, with why otherwise */
static int replay_one(const char *path, char *why, size_t len)
{
	pid_t pid;
	int status;

	fflush(stdout);
	if ((pid = fork()) < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		size_t size;
		uint8_t *data = replay_read(path, &size);

		alarm(REPLAY_TIMEOUT);
		(void) LLVMFuzzerTestOneInput(data, size);
		free(data);
		exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(why, len, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		snprintf(why, len, "no result within %d seconds", REPLAY_TIMEOUT);
	else if (WIFSIGNALED(status))
		snprintf(why, len, "%s", strsignal(WTERMSIG(status)));
	else
		snprintf(why, len, "exit status %d (a sanitizer's report is above)",
			 WEXITSTATUS(status));
	return -1;
}

int main(int argc, char **argv)
{
	int failed = 0;
	char why[256];

	if (argc < 2) {
		fprintf(stderr, "usage: %s seed-file-or-directory...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		replay_collect(argv[i]);
	qsort(replay_paths, replay_count, sizeof(char *), replay_by_name);
	if (LLVMFuzzerInitialize)
		(void) LLVMFuzzerInitialize(&argc, &argv);
	for (size_t i = 0; i < replay_count; i++) {
		if (replay_one(replay_paths[i], why, sizeof(why)) == 0) {
			printf("ok %zu - %s\n", i + 1, replay_paths[i]);
		} else {
			printf("not ok %zu - %s: %s\n", i + 1, replay_paths[i], why);
			failed++;
		}
	}
	printf("1..%zu\n", replay_count);
	return failed > 0 || replay_count == 0;
}
