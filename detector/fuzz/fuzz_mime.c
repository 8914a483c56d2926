/*
 * fuzz_mime - libFuzzer harness for the detector's message reading
 *
 * Each input is a message: it goes through the MIME parser, every decoder,
 * the archive reader, the matcher with policies that use every rule kind,
 * and the verdict. Build and run with `make fuzz` (clang, ASan, UBSan).
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

static const char fuzz_policies[] =
	"policies = (\n"
	" { name = \"kw\"; rules = ( { type = \"keyword\"; keywords = [\"falcon\", \"gr\\u00f6\\u00dfe\", \"two words\"];\n"
	"   look_in = [\"all\"]; } ); action = \"modify\"; subject_prepend = \"[X] \"; },\n"
	" { name = \"re\"; rules = ( { type = \"regex\"; patterns = [\"sec(ret|urity)[0-9]+\"]; } ); action = \"block\"; },\n"
	" { name = \"id\"; match = \"any\"; rules = (\n"
	"   { type = \"identifier\"; identifier = \"credit_card\"; near = [\"card\"]; },\n"
	"   { type = \"identifier\"; identifier = \"us_ssn\"; },\n"
	"   { type = \"identifier\"; identifier = \"iban\"; look_in = [\"all\"]; },\n"
	"   { type = \"attachment\"; types = [\"executable\", \"office\"]; names = [\"*.exe\"]; } );\n"
	"   action = \"redirect\"; redirect_to = [\"q@example.com\"]; }\n"
	");\n";

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char    err[CONF_ERR_MAX], path[] = "/tmp/fuzz-policies.XXXXXX";
	int     fd;

	(void) argc;
	(void) argv;
	msg_open("fuzz-mime", MSG_TO_STDERR, LOG_MAIL);
	msg_set_level(MSG_ERROR);
	if (conf_load("/nonexistent", NULL, 0, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	if ((fd = mkstemp(path)) < 0 || write(fd, fuzz_policies, strlen(fuzz_policies)) < 0)
		msg_fatal("cannot write %s", path);
	close(fd);
	if ((fuzz_ps = detector_policy_load(NULL, path, err, sizeof(err))) == NULL)
		msg_fatal("%s", err);
	unlink(path);
	return 0;
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct det_scan sc;
	struct det_decision d;
	struct envelope env;

	envelope_init(&env);
	env.mail_from = strdup("<a@example.com>");
	envelope_add_rcpt(&env, "<b@example.net>", "");
	if (detector_scan_init(&sc, fuzz_ps, size, 10000) < 0)
		abort();
	detector_mime_scan(&sc, (const char *) data, size);
	detector_decide(&sc, &env, &d);
	detector_decision_free(&d);
	detector_scan_free(&sc);
	envelope_free(&env);
	return 0;
}
