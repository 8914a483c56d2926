/*
 * fuzz_command - libFuzzer harness for the client's command arguments
 *
 * Input: a byte that picks the command (MAIL, RCPT, XFORWARD), a byte of
 * next-hop extensions, a byte for the next hop's SIZE, then the argument
 * as proxy_read_command() would hand it over (a line without control
 * characters, tabs made spaces). Checked:
 *	MAIL/RCPT  proxy_path() and proxy_params(): an accepted address is
 *		   "<...>" of at most 256 bytes with a local part of at most
 *		   64 and a domain of at most 255 (RFC 5321); the parameters
 *		   relayed are only those we know, each once, each allowed by
 *		   an extension the next hop offered, SIZE within both limits;
 *		   and the envelope the
 *		   worker then sends the detector (envelope_format) is one
 *		   envelope_parse() accepts, with the same sender, recipient
 *		   and parameters.
 *	XFORWARD   proxy_xforward_build(): what is relayed is "XFORWARD" and
 *		   known attributes, once each, in valid xtext; built again
 *		   from its own output it is the same (the checks are stable).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../proxy_session.c"
#include "../proxy_nexthop.c"
#include "../proxy_detect.c"
#include "fuzz_proxy.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char *ov[] = {"inbound_tls=none", "outbound_tls=none"};

	fuzz_quiet("fuzz-command");
	fuzz_defaults(ov, 2);
	return 0;
}

/* fuzz_check_params - every relayed parameter known and allowed */
static void fuzz_check_params(const struct proxy_session *s, enum param_cmd verb,
			      const char *params)
{
	char *copy = xstrdup(params), *cp = copy, *p, *seen[16];
	int nseen = 0;

	while ((p = strsep(&cp, " ")) != NULL) {
		char *eq = strchr(p, '=');
		unsigned need = 0;

		if (*p == 0)
			abort(); /* one space between parameters */
		if (eq)
			*eq++ = 0;
		for (int i = 0; i < nseen; i++)
			if (strcasecmp(seen[i], p) == 0)
				abort(); /* a parameter twice */
		if (nseen < 16)
			seen[nseen++] = p;
		if (verb == P_MAIL && !strcasecmp(p, "SIZE")) {
			long long n = eq ? strtoll(eq, NULL, 10) : -1;

			if (n < 0 || n > var_message_size_limit
			    || (s->hop_size > 0 && n > s->hop_size))
				abort();
		} else if (verb == P_MAIL && !strcasecmp(p, "BODY")) {
			if (eq == NULL
			    || (strcasecmp(eq, "7BIT") && strcasecmp(eq, "8BITMIME")))
				abort();
			need = strcasecmp(eq, "8BITMIME") ? 0 : CAP_8BITMIME;
		} else if (verb == P_MAIL
			   && (!strcasecmp(p, "RET") || !strcasecmp(p, "ENVID"))) {
			need = CAP_DSN;
		} else if (verb == P_MAIL && !strcasecmp(p, "SMTPUTF8")) {
			if (eq)
				abort();
			need = CAP_SMTPUTF8;
		} else if (verb == P_RCPT
			   && (!strcasecmp(p, "NOTIFY") || !strcasecmp(p, "ORCPT"))) {
			if (eq == NULL)
				abort();
			need = CAP_DSN;
		} else {
			abort();
		}
		if (need && !(s->hop_caps & need))
			abort();
	}
	free(copy);
}

/* fuzz_check_envelope - the detector accepts the envelope this makes */
static void fuzz_check_envelope(const char *addr, const char *params, enum param_cmd verb)
{
	struct envelope env, got;
	struct buf text;
	char err[256];

	envelope_init(&env);
	strcpy(env.cid, "FUZZ");
	strcpy(env.client_addr, "192.0.2.1");
	strcpy(env.client_name, "unknown");
	strcpy(env.helo, "client.example");
	env.mail_from = xstrdup(verb == P_MAIL ? addr : "<>");
	env.mail_params = xstrdup(verb == P_MAIL ? params : "");
	envelope_add_rcpt(&env, verb == P_RCPT ? addr : "<r@example.net>",
			  verb == P_RCPT ? params : "");
	buf_init(&text, 1024);
	envelope_format(&env, &text);
	if (envelope_parse(&got, text.data, text.len, err, sizeof(err)) < 0) {
		fprintf(stderr, "the detector refuses the envelope: %s\n%s", err, text.data);
		abort();
	}
	if (strcmp(got.mail_from, env.mail_from) || strcmp(got.mail_params, env.mail_params)
	    || got.nrcpt != 1 || strcmp(got.rcpt[0].addr, env.rcpt[0].addr)
	    || strcmp(got.rcpt[0].params, env.rcpt[0].params))
		abort();
	envelope_free(&got);
	envelope_free(&env);
	buf_free(&text);
}

/* fuzz_parts_too_long - local part over 64 or domain over 255 octets? */
static int fuzz_parts_too_long(const char *addr)
{
	const char *start = addr + 1, *end = addr + strlen(addr) - 1, *at = NULL;
	int q = 0;

	/* after a source route "@a,@b:", if any */
	if (*start == '@' && memchr(start, ':', (size_t) (end - start)))
		start = (const char *) memchr(start, ':', (size_t) (end - start)) + 1;
	for (const char *p = start; p < end; p++) {
		if (*p == '\\' && q && p + 1 < end)
			p++;
		else if (*p == '"')
			q = !q;
		else if (*p == '@' && !q)
			at = p;
	}
	return (at ? at : end) - start > 64 || (at && end - at - 1 > 255);
}

/* fuzz_mail_rcpt - MAIL FROM: or RCPT TO: */
static void fuzz_mail_rcpt(struct proxy_session *s, enum param_cmd verb, const char *arg)
{
	char addr[SCAN_ADDR_MAX], params[SCAN_PARAMS_MAX], why[128];
	const char *rest;

	if (proxy_path(arg, verb == P_MAIL ? "FROM:" : "TO:", addr, sizeof(addr), &rest) < 0)
		return;
	if (addr[0] != '<' || addr[strlen(addr) - 1] != '>' || strlen(addr) > 256
	    || fuzz_parts_too_long(addr) || rest < arg || rest > arg + strlen(arg)
	    || (*rest && rest[-1] != ' ' && rest[-1] != '>'))
		abort();
	if (proxy_params(s, verb, rest, params, sizeof(params), why, sizeof(why)) < 0) {
		if (strlen(why) < 4 || (why[0] != '5' && why[0] != '4'))
			abort();
		return;
	}
	if (strlen(params) >= sizeof(params))
		abort();
	if (*params)
		fuzz_check_params(s, verb, params);
	fuzz_check_envelope(addr, params, verb);
}

/* fuzz_xtext_ok - RFC 3461 xtext */
static int fuzz_xtext_ok(const char *v)
{
	for (; *v; v++) {
		if (*v == '+') {
			if (!isxdigit((unsigned char) v[1]) || !isxdigit((unsigned char) v[2]))
				return 0;
			v += 2;
		} else if ((unsigned char) *v < 33 || (unsigned char) *v > 126 || *v == '=') {
			return 0;
		}
	}
	return 1;
}

/* fuzz_xforward - XFORWARD attributes */
static void fuzz_xforward(const char *arg)
{
	struct buf out, again;
	const char *why;
	char *copy, *cp, *attr;
	unsigned seen = 0;

	buf_init(&out, 128);
	if ((why = proxy_xforward_build(arg, &out)) != NULL) {
		buf_free(&out);
		return;
	}
	if (strncmp(out.data, "XFORWARD ", 9) != 0 || strpbrk(out.data, "\r\n"))
		abort();
	copy = xstrdup(out.data + 9);
	for (cp = copy; (attr = strsep(&cp, " ")) != NULL;) {
		static const char *const names[] = {
			"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE", NULL,
		};
		char *eq = strchr(attr, '=');
		int i;

		if (eq == NULL)
			abort();
		*eq = 0;
		for (i = 0; names[i] && strcmp(names[i], attr); i++)
			/* void */;
		if (names[i] == NULL || (seen & (1u << i)) || !fuzz_xtext_ok(eq + 1))
			abort();
		seen |= 1u << i;
	}
	free(copy);
	/* our own output passes our own checks, unchanged */
	buf_init(&again, 128);
	if ((why = proxy_xforward_build(out.data + 9, &again)) != NULL
	    || strcmp(again.data, out.data) != 0) {
		fprintf(stderr, "XFORWARD rebuilt: %s\n  %s\n  %s\n", why ? why : "ok",
			out.data, again.data);
		abort();
	}
	buf_free(&again);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_session s;
	char *arg;

	if (size < 3 || size > 65536)
		return 0;
	memset(&s, 0, sizeof(s));
	s.hop_caps = data[1] | (data[1] & 1 ? CAP_XFORWARD : 0);
	s.hop_size = data[2] < 128 ? 0 : (long long) (data[2] - 127) * 1000;
	arg = xstrndup((const char *) data + 3, size - 3);
	/* what proxy_read_command() lets through: no controls, tabs as spaces */
	for (char *cp = arg; *cp; cp++) {
		if (*cp == '\t')
			*cp = ' ';
		else if ((unsigned char) *cp < 0x20) {
			free(arg);
			return 0;
		}
	}
	if (strlen(arg) > (size_t) var_command_length_limit) {
		free(arg);
		return 0;
	}
	switch (data[0] % 3) {
	case 0:
		fuzz_mail_rcpt(&s, P_MAIL, arg);
		break;
	case 1:
		fuzz_mail_rcpt(&s, P_RCPT, arg);
		break;
	case 2:
		fuzz_xforward(arg);
		break;
	}
	free(arg);
	return 0;
}
