/*
 * fuzz_envelope - libFuzzer harness for envelope_parse()
 *
 * Input: the envelope text a worker sends the detector (scan.h). Checked:
 * an accepted envelope has a sender and recipients within the bounds the
 * contract promises (addresses in angle brackets, at most SCAN_ADDR_MAX,
 * no control characters but the tab), and envelope_format() of it parses
 * again to the same envelope; a refused one says why and holds nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "scan.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet("fuzz-envelope");
	return 0;
}

/* fuzz_text_ok - a value the contract allows: no control but the tab */
static void fuzz_text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char) *s < 0x20 && *s != '\t')
			abort();
}

/* fuzz_addr_ok - "<...>" within SCAN_ADDR_MAX */
static void fuzz_addr_ok(const char *a)
{
	if (a == NULL || a[0] != '<' || strlen(a) > SCAN_ADDR_MAX)
		abort();
	fuzz_text_ok(a);
}

/* fuzz_same - two envelopes say the same */
static void fuzz_same(const struct envelope *a, const struct envelope *b)
{
	if (strcmp(a->cid, b->cid) || strcmp(a->client_addr, b->client_addr)
	    || a->client_port != b->client_port || strcmp(a->client_name, b->client_name)
	    || strcmp(a->helo, b->helo) || strcmp(a->tls_in, b->tls_in)
	    || strcmp(a->mail_from, b->mail_from)
	    || strcmp(a->mail_params ? a->mail_params : "",
		      b->mail_params ? b->mail_params : "")
	    || a->nrcpt != b->nrcpt)
		abort();
	for (size_t i = 0; i < a->nrcpt; i++)
		if (strcmp(a->rcpt[i].addr, b->rcpt[i].addr)
		    || strcmp(a->rcpt[i].params, b->rcpt[i].params))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope env, again;
	struct buf text;
	char err[256] = "";

	if (envelope_parse(&env, (const char *) data, size, err, sizeof(err)) < 0) {
		if (*err == 0 || env.mail_from || env.nrcpt || env.rcpt)
			abort();
		return 0;
	}
	fuzz_addr_ok(env.mail_from);
	if (env.nrcpt == 0 || env.nrcpt > SCAN_MAX_RCPT)
		abort();
	for (size_t i = 0; i < env.nrcpt; i++) {
		fuzz_addr_ok(env.rcpt[i].addr);
		fuzz_text_ok(env.rcpt[i].params);
	}
	if (env.client_port < 0 || env.client_port > 65535)
		abort();
	fuzz_text_ok(env.cid);
	fuzz_text_ok(env.client_addr);
	fuzz_text_ok(env.client_name);
	fuzz_text_ok(env.helo);
	fuzz_text_ok(env.tls_in);
	if (env.mail_params)
		fuzz_text_ok(env.mail_params);

	/* what the worker would write for it reads back the same */
	buf_init(&text, 1024);
	envelope_format(&env, &text);
	if (envelope_parse(&again, text.data, text.len, err, sizeof(err)) < 0) {
		fprintf(stderr, "formatted envelope refused: %s\n", err);
		abort();
	}
	fuzz_same(&env, &again);
	envelope_free(&again);
	buf_free(&text);
	envelope_free(&env);
	return 0;
}
