/*
 * fuzz_mime - libFuzzer harness for the detector's message reading
 *
 * Each input is a message: it goes through the MIME parser, every decoder,
 * the archive reader, the matcher with policies that use every rule kind,
 * and the verdict. What the code promises is checked too:
 *	- a message marked unscannable says why (the scan invariant);
 *	- the decoders (base64, quoted-printable, uuencode, HTML) write no
 *	  more than their limit, and the HTML reader's outputs stay bounded;
 *	- the input's first line as an address: one that routes itself
 *	  (%, !, a quoted @, a source route) is never internal, and one
 *	  without any of those is not taken for routed.
 * Build and run with `make fuzz` (clang, ASan, UBSan).
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
	" { name = \"kw\"; rules = ( { type = \"keyword\"; keywords = [\"falcon\", "
	"\"gr\\u00f6\\u00dfe\", \"two words\"];\n"
	"   look_in = [\"all\"]; } ); action = \"modify\"; subject_prepend = \"[X] \"; },\n"
	" { name = \"re\"; rules = ( { type = \"regex\"; patterns = "
	"[\"sec(ret|urity)[0-9]+\"]; } ); action = \"block\"; },\n"
	" { name = \"id\"; match = \"any\"; rules = (\n"
	"   { type = \"identifier\"; identifier = \"credit_card\"; near = [\"card\"]; },\n"
	"   { type = \"identifier\"; identifier = \"us_ssn\"; },\n"
	"   { type = \"identifier\"; identifier = \"iban\"; look_in = [\"all\"]; },\n"
	"   { type = \"attachment\"; types = [\"executable\", \"office\"]; names = "
	"[\"*.exe\"]; } );\n"
	"   action = \"redirect\"; redirect_to = [\"q@example.com\"]; }\n"
	");\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[CONF_ERR_MAX], path[] = "/tmp/fuzz-policies.XXXXXX";
	char *overrides[] = {"internal_domains=example.com", NULL};
	int fd;

	(void) argc;
	(void) argv;
	msg_open("fuzz-mime", MSG_TO_STDERR, LOG_MAIL);
	msg_set_level(MSG_ERROR);
	if (conf_load("/nonexistent", overrides, 1, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	if ((fd = mkstemp(path)) < 0 || write(fd, fuzz_policies, strlen(fuzz_policies)) < 0)
		msg_fatal("cannot write %s", path);
	close(fd);
	if ((fuzz_ps = detector_policy_load(NULL, path, err, sizeof(err))) == NULL)
		msg_fatal("%s", err);
	unlink(path);
	return 0;
}

/* check_decoders - every decoder stays within its limit */
static void check_decoders(const char *d, size_t n)
{
	size_t limit = n % 251 + 1;
	struct buf out, hidden;

	buf_init(&out, 16);
	if (detector_b64_decode(d, n, &out, NULL, limit) > limit || out.len > limit)
		abort();
	buf_reset(&out);
	if (detector_qp_decode(d, n, &out, limit) > limit || out.len > limit)
		abort();
	buf_reset(&out);
	if (detector_uu_decode(d, n, &out, limit) > limit || out.len > limit)
		abort();
	buf_reset(&out);
	buf_init(&hidden, 16);
	if (detector_html_to_text(d, n, &out, &hidden, 2 * n + 64) == 0
	    && (out.len > 2 * n + 64 || hidden.len > 2 * n + 64))
		abort();
	buf_free(&hidden);
	buf_free(&out);
}

/* check_address - the first line as a bare address */
static void check_address(const char *d, size_t n)
{
	char addr[SCAN_ADDR_MAX + 1];
	size_t len = 0;
	const char *at;

	while (len < n && len < SCAN_ADDR_MAX && d[len] != '\n' && d[len] != 0)
		len++;
	memcpy(addr, d, len);
	addr[len] = 0;
	if (detector_addr_routed(addr) && detector_addr_internal(addr))
		abort(); /* routed, yet internal */
	at = strchr(addr, '@');
	if (addr[0] != '@' && strpbrk(addr, "%!\"\\") == NULL
	    && (at == NULL || strchr(at + 1, '@') == NULL) && detector_addr_routed(addr))
		abort(); /* a plain address taken for routed */
	/* what it says is always one of the places it may go */
	if (at && at[1] && at[1] != '.' && strpbrk(at + 1, "@*?[\"\\") == NULL) {
		char pat[SCAN_ADDR_MAX + 2];

		snprintf(pat, sizeof(pat), "@%s", at + 1);
		if (addr[0] != '@' && strchr(addr, '"') == NULL
		    && !detector_addr_match(pat, addr))
			abort();
	}
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
	detector_mime_scan(&sc, (const char *) data, size);
	if (sc.incomplete != (sc.incomplete_why[0] != 0))
		abort(); /* unscannable, and no reason said */
	detector_decide(&sc, &env, &d);
	detector_decision_free(&d);
	detector_scan_free(&sc);
	envelope_free(&env);
	check_decoders((const char *) data, size);
	check_address((const char *) data, size);
	return 0;
}
