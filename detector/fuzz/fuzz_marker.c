/*
 * fuzz_marker - the scan invariant as a property, under libFuzzer
 *
 * Each input is a list of choices: marker_gen.c turns it into a message
 * with MARKER_WORD at one random spot of a random container tree (MIME
 * nesting, encodings, charsets, HTML, archives, Office and OpenDocument
 * files, PDFs, attached messages). The detector must find the word, or
 * mark the message unscannable; a message that hides the word without a
 * reason aborts, with the way to the word on standard error and the
 * message in marker-lost.eml. Build and run with `make fuzz`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "conf_params.h"
#include "msg.h"
#include "detector.h"
#include "marker_gen.h"

static struct det_policyset *fuzz_ps;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[CONF_ERR_MAX], path[] = "/tmp/fuzz-marker.XXXXXX";
	int fd;

	(void) argc;
	(void) argv;
	msg_open("fuzz-marker", MSG_TO_STDERR, 0);
	msg_set_level(MSG_ERROR);
	if (conf_load("/nonexistent", NULL, 0, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	if ((fd = mkstemp(path)) < 0 || write(fd, marker_policies, strlen(marker_policies)) < 0)
		msg_fatal("cannot write %s", path);
	close(fd);
	if ((fuzz_ps = detector_policy_load(NULL, path, err, sizeof(err))) == NULL)
		msg_fatal("%s", err);
	unlink(path);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct marker_rand r;
	struct buf msg;
	char path[MARKER_PATH_MAX], why[600];

	marker_rand_init(&r, data, size, 0);
	buf_init(&msg, 4096);
	marker_message(&r, &msg, path, sizeof(path));
	if (marker_scan(fuzz_ps, msg.data, msg.len, why, sizeof(why)) < 0) {
		FILE *fp = fopen("marker-lost.eml", "w");

		if (fp) {
			fwrite(msg.data, 1, msg.len, fp);
			fclose(fp);
		}
		fprintf(stderr, "marker lost without a reason: %s\n", path);
		abort();
	}
	buf_free(&msg);
	return 0;
}
