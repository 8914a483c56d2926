/*
 * unit_marker - the scan invariant as a property, a bounded deterministic run
 *
 * MARKER_COUNT (default 1000) messages from marker_gen.c, one per seed,
 * each with MARKER_WORD at a random spot of a random container tree (the
 * libFuzzer harness detector/fuzz/fuzz_marker.c explores the same space
 * without end). For each, the detector finds the word or marks the
 * message unscannable; a lost word fails with the way to it, and the
 * message is left in MARKER_DIR (default /tmp) as marker-SEED.eml. So
 * that the property cannot hold by giving up, most messages must be read
 * to the word (found, not only marked).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "conf_params.h"
#include "msg.h"
#include "detector.h"
#include "../../detector/fuzz/marker_gen.h"

#include "tap.h"

int main(void)
{
	char err[CONF_ERR_MAX], file[] = "/tmp/unit-marker.XXXXXX";
	const char *env = getenv("MARKER_COUNT"), *dir = getenv("MARKER_DIR");
	unsigned count = env ? (unsigned) atoi(env) : 1000, found = 0, marked = 0, lost = 0;
	struct det_policyset *ps;
	int fd;

	msg_open("unit-marker", MSG_TO_STDERR, 0);
	msg_set_level(MSG_ERROR);
	if (conf_load("/nonexistent", NULL, 0, err, sizeof(err)) < 0)
		tap_diag("conf_load: %s", err);
	if ((fd = mkstemp(file)) < 0 || write(fd, marker_policies, strlen(marker_policies)) < 0)
		return tap_ok(0, "write the policy: %s", file), tap_done();
	close(fd);
	ps = detector_policy_load(NULL, file, err, sizeof(err));
	unlink(file);
	if (!tap_ok(ps != NULL, "the marker policy loads (%s)", ps ? "ok" : err))
		return tap_done();
	for (unsigned seed = 1; seed <= count; seed++) {
		struct marker_rand r;
		struct buf msg;
		char path[MARKER_PATH_MAX], why[600];
		int rc;

		marker_rand_init(&r, NULL, 0, seed);
		buf_init(&msg, 4096);
		marker_message(&r, &msg, path, sizeof(path));
		rc = marker_scan(ps, msg.data, msg.len, why, sizeof(why));
		if (rc > 0)
			found++;
		else if (rc == 0)
			marked++;
		else {
			char name[256];
			FILE *fp;

			lost++;
			snprintf(name, sizeof(name), "%s/marker-%u.eml", dir ? dir : "/tmp",
				 seed);
			if ((fp = fopen(name, "w")) != NULL) {
				fwrite(msg.data, 1, msg.len, fp);
				fclose(fp);
			}
			tap_ok(0, "seed %u: the marker is found or the message marked: %s (%s)",
			       seed, path, name);
		}
		buf_free(&msg);
	}
	tap_is_int(lost, 0, "%u messages: %u found, %u marked unscannable, %u lost", count,
		   found, marked, lost);
	tap_ok(found * 10 >= count * 9,
	       "at least nine in ten are read to the marker (%u of %u)", found, count);
	detector_policy_free(ps);
	return tap_done();
}
