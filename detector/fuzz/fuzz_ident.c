/*
 * fuzz_ident - libFuzzer harness for the data identifiers
 *
 * Each input is a text unit. It goes through the matcher with policies
 * that use every identifier (context as shipped, forced on with near
 * words, and off), as body text, as an attachment name and as a table:
 * the digit-run tokens, every validator, the anchors of the secrets, the
 * look-alike labels and the table-header lookup all read it.
 *
 * A property holds too: a valid card number, written with a separator the
 * input picks, on a line of its own between two halves of the input, is
 * always found by detector_ident_scan(). Build and run with `make fuzz`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "conf_params.h"
#include "msg.h"
#include "scan.h"
#include "detector.h"

static struct det_policyset *fuzz_ps;

/* fuzz_policies - one rule per identifier and way of using context */
static void fuzz_policies(struct buf *b)
{
	buf_puts(b, "policies = (\n");
	for (int i = 0; i < IDENT_COUNT; i++) {
		const char *n = detector_ident_name((enum det_ident) i);

		buf_printf(b,
			   " { name = \"a%d\"; rules = ( { type = \"identifier\"; identifier = "
			   "\"%s\";"
			   " look_in = [\"all\"]; } ); },\n",
			   i, n);
		buf_printf(b,
			   " { name = \"n%d\"; rules = ( { type = \"identifier\"; identifier = "
			   "\"%s\";"
			   " near = [\"card\", \"two words\"]; distance = 20; min_count = 2; } "
			   "); },\n",
			   i, n);
		buf_printf(b,
			   " { name = \"f%d\"; rules = ( { type = \"identifier\"; identifier = "
			   "\"%s\";"
			   " context = false; lookalike_labels = false; } ); },\n",
			   i, n);
	}
	buf_puts(b,
		 " { name = \"k\"; rules = ( { type = \"keyword\"; keywords = [\"secret\"]; } "
		 "); }\n);\n");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[CONF_ERR_MAX], path[] = "/tmp/fuzz-ident.XXXXXX";
	struct buf b;
	int fd;

	(void) argc;
	(void) argv;
	msg_open("fuzz-ident", MSG_TO_STDERR, LOG_MAIL);
	msg_set_level(MSG_ERROR);
	if (conf_load("/nonexistent", NULL, 0, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	buf_init(&b, 16384);
	fuzz_policies(&b);
	if ((fd = mkstemp(path)) < 0 || write(fd, b.data, b.len) != (ssize_t) b.len)
		msg_fatal("cannot write %s", path);
	close(fd);
	buf_free(&b);
	if ((fuzz_ps = detector_policy_load(NULL, path, err, sizeof(err))) == NULL)
		msg_fatal("%s", err);
	unlink(path);
	return 0;
}

/* found_card - note a card number's span */
static void found_card(void *ctx, const struct det_found *f)
{
	size_t *span = ctx;

	if (f->id == IDENT_CARD && f->start <= span[0] && f->end >= span[1])
		span[2] = 1;
}

/* planted - a card with the input's separator between two halves: found? */
static void planted(const uint8_t *data, size_t size)
{
	static const char *const seps[] = {"",
					   " ",
					   "-",
					   ".",
					   "/",
					   "_",
					   "\xc2\xa0",
					   "\xe2\x80\x89",
					   "\xe2\x80\xaf",
					   "\xe2\x80\x93",
					   "\xe2\x88\x92",
					   "\xef\xbc\x8d",
					   "\xe3\x80\x80",
					   "\xe2\x80\x8b",
					   "\xc2\xad"};
	const char *sep;
	int want[IDENT_COUNT] = {0};
	size_t span[3] = {0, 0, 0}, half;
	struct buf t;

	if (size < 1)
		return;
	sep = seps[data[0] % (sizeof(seps) / sizeof(seps[0]))];
	half = (size - 1) / 2;
	buf_init(&t, size + 64);
	buf_append(&t, data + 1, half);
	buf_puts(&t, "\n");
	span[0] = t.len;
	buf_printf(&t, "4111%s1111%s1111%s1111", sep, sep, sep);
	span[1] = t.len;
	buf_puts(&t, "\n");
	buf_append(&t, data + 1 + half, size - 1 - half);
	want[IDENT_CARD] = 1;
	detector_ident_scan(t.data, t.len, want, data[0] & 1 ? DET_ID_HEADER : 0, found_card,
			    span);
	if (!span[2]) {
		fprintf(stderr, "planted card with separator \"%s\" not found\n", sep);
		abort();
	}
	buf_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned where[] = {DET_W_BODY, DET_W_ATTNAME, DET_W_ATTACH};
	struct det_scan sc;
	struct det_decision d;
	struct envelope env;

	envelope_init(&env);
	env.mail_from = strdup("<a@example.com>");
	envelope_add_rcpt(&env, "<b@example.net>", "");
	if (detector_scan_init(&sc, fuzz_ps, size, 10000) < 0)
		abort();
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		detector_scan_unit(&sc, where[i], NULL, (const char *) data, size);
	detector_decide(&sc, &env, &d);
	detector_decision_free(&d);
	detector_scan_free(&sc);
	envelope_free(&env);
	planted(data, size);
	return 0;
}
