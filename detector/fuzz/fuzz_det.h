/*
 * fuzz_det.h - what the detector's harnesses share: policies that use
 * every rule kind, loaded once, and a scan per input
 *
 * A harness includes this, defines fuzz_one(sc, data, size) and gets
 * LLVMFuzzerInitialize and LLVMFuzzerTestOneInput: each input is scanned
 * with a fresh det_scan under the default limits and a verdict is made.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_params.h"
#include "msg.h"
#include "scan.h"
#include "detector.h"

static struct det_policyset *fuzz_ps;

static const char fuzz_det_policies[] =
	"policies = (\n"
	" { name = \"kw\"; rules = ( { type = \"keyword\"; keywords = [\"falcon\", \"two "
	"words\"];\n"
	"   look_in = [\"all\"]; } ); action = \"block\"; },\n"
	" { name = \"id\"; match = \"any\"; rules = (\n"
	"   { type = \"identifier\"; identifier = \"credit_card\"; look_in = [\"all\"]; },\n"
	"   { type = \"attachment\"; types = [\"executable\", \"office\"]; } );\n"
	"   action = \"block\"; }\n"
	");\n";

static void fuzz_one(struct det_scan *sc, const char *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[CONF_ERR_MAX], path[] = "/tmp/fuzz-policies.XXXXXX";
	int fd;

	(void) argc;
	(void) argv;
	msg_open("fuzz-detector", MSG_TO_STDERR, 0);
	msg_set_level(MSG_ERROR);
	if (conf_load("/nonexistent", NULL, 0, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	/* small enough that a bomb ends quickly, large enough for real files */
	var_detector_decoded_size_limit = 16 * 1024 * 1024;
	if ((fd = mkstemp(path)) < 0
	    || write(fd, fuzz_det_policies, strlen(fuzz_det_policies)) < 0)
		msg_fatal("cannot write %s", path);
	close(fd);
	if ((fuzz_ps = detector_policy_load(NULL, path, err, sizeof(err))) == NULL)
		msg_fatal("%s", err);
	unlink(path);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct det_scan sc;
	struct det_decision d;
	struct envelope env;

	envelope_init(&env);
	env.mail_from = strdup("<a@example.com>");
	envelope_add_rcpt(&env, "<b@example.net>", "");
	if (detector_scan_init(&sc, fuzz_ps, size, 10000) < 0)
		abort();
	sc.confined = 1; /* containers in this process: no fork per input */
	fuzz_one(&sc, (const char *) data, size);
	detector_decide(&sc, &env, &d);
	detector_decision_free(&d);
	detector_scan_free(&sc);
	envelope_free(&env);
	return 0;
}
