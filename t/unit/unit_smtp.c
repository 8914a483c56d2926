/*
 * unit_smtp - SMTP as smtpd-proxy parses it: replies, commands, paths,
 * parameters, xtext
 *
 * Next-hop replies are read with proxy_read_reply() from a socket pair
 * (one line, several, the empty "250 " of smtp-sink, and the garbled
 * ones); an EHLO reply gives its extensions (proxy_parse_caps). Client
 * commands: the command table's row of a word, the path of MAIL and RCPT
 * (proxy_path), their ESMTP parameters against what the next hop offers
 * (proxy_params), XFORWARD attributes and RFC 3461 xtext. The proxy's
 * files with static parsers are included, as the fuzz harnesses do.
 */
#include <sys/socket.h>

#include "../../smtpd-proxy/proxy_session.c"
#include "../../smtpd-proxy/proxy_nexthop.c"
#include "../../smtpd-proxy/proxy_detect.c"
#include "../../smtpd-proxy/proxy_xforward.c"

#include "tap.h"

static struct proxy_session unit_s;

/* unit_reply - what proxy_read_reply() makes of bytes from the next hop */
static int unit_reply(const char *bytes, struct smtp_reply *r)
{
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -99;
	if (write(sv[1], bytes, strlen(bytes)) != (ssize_t) strlen(bytes))
		return -98;
	shutdown(sv[1], SHUT_WR);
	unit_s.hop = stream_open(sv[0], 2);
	rc = proxy_read_reply(&unit_s, r, 2);
	stream_close(unit_s.hop);
	unit_s.hop = NULL;
	close(sv[1]);
	return rc;
}

/* unit_replies - one reply, several lines, and what is garbled */
static void unit_replies(void)
{
	struct smtp_reply r;

	smtp_reply_init(&r);
	tap_is_int(unit_reply("250 2.1.0 Ok\r\n", &r), HOP_OK, "one line");
	tap_ok(r.code == 250 && r.nlines == 1 && strcmp(r.first, "250 2.1.0 Ok") == 0,
	       "code 250, one line, kept for logs: %s", r.first);
	tap_is_int(unit_reply("250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
			      "250 \r\n",
			      &r),
		   HOP_OK, "smtp-sink's EHLO ends in an empty \"250 \"");
	tap_is_str(r.text.data, "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 \r\n",
		   "kept verbatim for relaying");
	tap_is_int(r.nlines, 4, "four lines");
	tap_is_int(unit_reply("354\r\n", &r), HOP_OK, "a code alone is a whole reply");
	tap_is_int(unit_reply("220 mx ESMTP\n", &r), HOP_OK, "a bare LF ends a line");
	tap_is_str(r.text.data, "220 mx ESMTP\r\n", "relayed with CRLF");
	tap_is_int(unit_reply("250-one\r\n550 two\r\n", &r), HOP_GARBLED,
		   "two codes in one reply");
	tap_is_int(unit_reply("25 short\r\n", &r), HOP_GARBLED, "a two-digit code");
	tap_is_int(unit_reply("199 too low\r\n", &r), HOP_GARBLED, "a 1xx code");
	tap_is_int(unit_reply("250_x\r\n", &r), HOP_GARBLED, "neither space nor hyphen");
	tap_is_int(unit_reply("250 a\001b\r\n", &r), HOP_GARBLED, "a control character");
	tap_is_int(unit_reply("250 a\rb\r\n", &r), HOP_GARBLED, "a bare CR");
	tap_is_int(unit_reply("250-more to come\r\n", &r), HOP_LOST,
		   "the next hop hangs up inside a reply");
	tap_is_int(unit_reply("", &r), HOP_LOST, "or before it");
	smtp_reply_free(&r);
}

/* unit_caps - the extensions we carry, from an EHLO reply */
static void unit_caps(void)
{
	struct smtp_reply r;

	smtp_reply_init(&r);
	unit_reply("250-mx.example says SIZE 5\r\n250-pipelining\r\n250-SIZE 20480000\r\n"
		   "250-DSN\r\n250-8BITMIME\r\n250-AUTH PLAIN\r\n250-CHUNKING\r\n"
		   "250-SIZEX 1\r\n250 STARTTLS\r\n",
		   &r);
	proxy_parse_caps(&unit_s, &r);
	tap_is_int(unit_s.hop_caps,
		   CAP_PIPELINING | CAP_SIZE | CAP_DSN | CAP_8BITMIME | CAP_STARTTLS,
		   "PIPELINING (any case), SIZE, DSN, 8BITMIME, STARTTLS; "
		   "AUTH, CHUNKING and SIZEX are none of ours");
	tap_is_int(unit_s.hop_size, 20480000, "SIZE from its own line, not the greeting's");
	unit_reply("250 mx.example\r\n", &r);
	proxy_parse_caps(&unit_s, &r);
	tap_ok(unit_s.hop_caps == 0 && unit_s.hop_size == 0, "a greeting alone: nothing");
	smtp_reply_free(&r);
}

/* unit_commands - the table's row of a command word */
static void unit_commands(void)
{
	tap_is_str(proxy_cmd_find("mail", 4)->name, "MAIL", "command words in any case");
	tap_is_str(proxy_cmd_find("STARTTLS", 8)->name, "STARTTLS", "STARTTLS");
	tap_ok(proxy_cmd_find("MAILX", 5)->name == NULL, "MAILX is no MAIL");
	tap_ok(proxy_cmd_find("MAI", 3)->name == NULL, "nor is MAI");
	tap_ok(proxy_cmd_find("", 0)->name == NULL, "an empty word: the unknown row");
	tap_ok(proxy_cmd_find("RCPT", 4)->flags & CMD_NEED_MAIL, "RCPT needs a MAIL");
	tap_ok((proxy_cmd_find("MAIL", 4)->flags & CMD_BATCH)
		       && (proxy_cmd_find("RSET", 4)->flags & CMD_BATCH)
		       && !(proxy_cmd_find("DATA", 4)->flags & CMD_BATCH),
	       "MAIL and RSET may wait in a pipelined group, DATA may not (RFC 2920)");
	tap_ok(!(proxy_cmd_find("MAIL", 4)->flags & CMD_PRE_TLS)
		       && (proxy_cmd_find("EHLO", 4)->flags & CMD_PRE_TLS),
	       "with inbound_tls = encrypt, EHLO may come before STARTTLS, MAIL may not");
	tap_ok(proxy_cmd_find("BDAT", 4)->action == proxy_do_bdat, "BDAT has a row of its own");
	tap_ok((proxy_cmd_find("EHLO", 4)->flags & CMD_LAST)
		       && (proxy_cmd_find("DATA", 4)->flags & CMD_LAST)
		       && !(proxy_cmd_find("RCPT", 4)->flags & CMD_LAST),
	       "EHLO and DATA end a pipelined group, RCPT does not (RFC 2920)");
	tap_ok((proxy_cmd_find("GET", 3)->flags & CMD_FORBIDDEN)
		       && (proxy_cmd_find("CONNECT", 7)->flags & CMD_FORBIDDEN),
	       "web requests are no SMTP");
	tap_ok(proxy_cmd_find("Subject:", 8)->flags & CMD_FORBIDDEN,
	       "nor is a line that looks like a message header");
	tap_ok(!(proxy_cmd_find("FOO:", 3)->flags & CMD_FORBIDDEN),
	       "a word without its colon is just unknown");
}

/* unit_path - "FROM:<addr> rest" as proxy_path() splits it */
static const char *unit_path(const char *arg, const char *prefix, const char **rest)
{
	static char addr[300];

	*rest = "";
	return proxy_path(arg, prefix, addr, sizeof(addr), rest) == 0 ? addr : "(refused)";
}

/* unit_paths - MAIL FROM and RCPT TO paths */
static void unit_paths(void)
{
	static const struct {
		const char *arg, *prefix, *want, *name;
	} t[] = {
		{"from: <>", "FROM:", "<>",
		 "the null sender, case and a space after the colon"},
		{"TO:<\"a >b\"@example.com>", "TO:", "<\"a >b\"@example.com>",
		 "a quoted local part may hold > and spaces"},
		{"TO:<\"a\\\"> b\"@x>", "TO:", "<\"a\\\"> b\"@x>",
		 "a backslash quotes a quote"},
		{"TO:a@example.com", "TO:", "(refused)", "no angle brackets"},
		{"TO:<a b@example.com>", "TO:", "(refused)", "a space outside quotes"},
		{"TO:<a@example.com>x", "TO:", "(refused)", "text glued to the path"},
		{"TO:<a@example.com", "TO:", "(refused)", "no closing bracket"},
		{"FROM:<a@example.com>", "TO:", "(refused)", "FROM: where TO: is due"},
	};
	const char *rest;
	char big[300];

	tap_is_str(unit_path("FROM:<a@example.com> SIZE=10", "FROM:", &rest), "<a@example.com>",
		   "MAIL FROM:<a@example.com>");
	tap_is_str(rest, "SIZE=10", "its parameters follow");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		tap_is_str(unit_path(t[i].arg, t[i].prefix, &rest), t[i].want, "%s", t[i].name);
	/* RFC 5321 4.5.3.1: local part 64, domain 255, path 256 with the brackets */
	memset(big, 'd', sizeof(big));
	memset(big, 'l', 65);
	big[0] = '<';
	big[65] = '@';
	snprintf(big + 255, sizeof(big) - 255, ">");
	tap_is_str(unit_path(big, "", &rest), big,
		   "a path of 256 bytes, a local part of 64: taken");
	snprintf(big + 255, sizeof(big) - 255, "d>");
	tap_is_str(unit_path(big, "", &rest), "(refused)", "one of 257 is not");
	tap_ok(proxy_path("<"
			  "lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll"
			  "@x>",
			  "", big, sizeof(big), &rest)
		       == PATH_LOCAL,
	       "a local part of 65 is refused as such");
}

/* unit_param - proxy_params() as "relayed" text or the reply */
static const char *unit_param(enum param_cmd verb, const char *text)
{
	static char out[1100];
	char why[200];

	return proxy_params(&unit_s, verb, text, out, sizeof(out), why, sizeof(why)) == 0
		? out
		: strcpy(out, why);
}

/* unit_params - ESMTP parameters against the next hop's extensions */
static void unit_params(void)
{
	const unsigned all = CAP_SIZE | CAP_8BITMIME | CAP_DSN;
	const struct {
		enum param_cmd verb;
		unsigned caps; /* the next hop's; its SIZE is 20000 */
		const char *text, *want, *name;
	} t[] = {
		{P_MAIL, all, "SIZE=1000  body=8BITMIME RET=HDRS ENVID=x+2By",
		 "SIZE=1000 body=8BITMIME RET=HDRS ENVID=x+2By",
		 "MAIL parameters the next hop offers are relayed, one space apart"},
		{P_MAIL, all, "SIZE=30000", "552 5.3.4 Message size exceeds fixed limit",
		 "SIZE over the next hop's"},
		{P_MAIL, all, "SIZE=-1", "501 5.5.4 Bad SIZE parameter", "SIZE=-1"},
		{P_MAIL, all, "SIZE", "501 5.5.4 Bad SIZE parameter", "SIZE without a value"},
		{P_MAIL, all, "BODY=BINARYMIME", "555 5.5.4 Unsupported option: BODY",
		 "BODY=BINARYMIME"},
		{P_MAIL, all, "SMTPUTF8", "555 5.5.4 Unsupported option: SMTPUTF8",
		 "SMTPUTF8 when the next hop did not offer it"},
		{P_MAIL, all, "AUTH=<>", "555 5.5.4 Unsupported option: AUTH",
		 "AUTH= is never relayed"},
		{P_RCPT, all, "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@x",
		 "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@x", "RCPT DSN parameters"},
		{P_RCPT, all, "SIZE=10", "555 5.5.4 Unsupported option: SIZE",
		 "SIZE belongs to MAIL"},
		{P_RCPT, CAP_SIZE, "NOTIFY=NEVER", "555 5.5.4 Unsupported option: NOTIFY",
		 "NOTIFY when the next hop has no DSN"},
		{P_MAIL, CAP_SIZE, "BODY=7BIT", "BODY=7BIT", "BODY=7BIT needs nothing"},
	};
	char big[1200];

	unit_s.hop_size = 20000;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		unit_s.hop_caps = t[i].caps;
		tap_is_str(unit_param(t[i].verb, t[i].text), t[i].want, "%s", t[i].name);
	}
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	tap_is_str(unit_param(P_MAIL, big), "501 5.5.4 Error: parameters too long",
		   "1199 bytes of parameters");
}

/* unit_xtext - RFC 3461 xtext both ways */
static void unit_xtext(void)
{
	char out[64];
	struct buf b;

	tap_ok(proxy_xtext_decode("a+2Bb+3Dc", out, sizeof(out)) == 0
		       && strcmp(out, "a+b=c") == 0,
	       "xtext decodes +2B and +3D: %s", out);
	tap_ok(proxy_xtext_decode("a+2", out, sizeof(out)) < 0, "a cut +XX is refused");
	tap_ok(proxy_xtext_decode("a+zz", out, sizeof(out)) < 0, "+ and no hex is refused");
	tap_ok(proxy_xtext_decode("a=b", out, sizeof(out)) < 0, "a bare = is refused");
	tap_ok(proxy_xtext_decode("a b", out, sizeof(out)) < 0, "a space is refused");
	tap_ok(proxy_xtext_decode("a+00", out, sizeof(out)) < 0, "an encoded NUL is refused");
	tap_ok(proxy_xtext_decode("abcdef", out, 6) < 0, "a value longer than the buffer");
	buf_init(&b, 32);
	proxy_xtext_encode(&b, "a+b=c d\xe9");
	tap_is_str(b.data, "a+2Bb+3Dc+20d+E9", "xtext encodes + = space and 8-bit");
	buf_free(&b);
}

/* unit_xfwd - XFORWARD attributes, checked and encoded again */
static const char *unit_xfwd(const char *arg)
{
	static char out[600];
	struct buf b;
	const char *why;

	buf_init(&b, 128);
	why = proxy_xforward_build(arg, &b);
	snprintf(out, sizeof(out), "%s", why ? why : b.data);
	buf_free(&b);
	return out;
}

/* unit_xforward - what XFORWARD the next hop gets */
static void unit_xforward(void)
{
	tap_is_str(unit_xfwd("NAME=mail.example ADDR=IPv6:2001:db8::1 PORT=25 PROTO=ESMTP"),
		   "XFORWARD NAME=mail.example ADDR=IPv6:2001:db8::1 PORT=25 PROTO=ESMTP",
		   "known attributes are relayed");
	tap_is_str(unit_xfwd("helo=a+20b<c>"), "XFORWARD HELO=a?b?c?",
		   "a HELO's space and brackets become ?");
	tap_is_str(unit_xfwd("NAME=[TEMPUNAVAIL]"), "XFORWARD NAME=[UNAVAILABLE]",
		   "[TEMPUNAVAIL] becomes [UNAVAILABLE]");
	tap_is_str(unit_xfwd("ADDR=999.1.1.1"), "Bad ADDR syntax", "a bad address");
	tap_is_str(unit_xfwd("PORT=65536"), "Bad PORT syntax", "port 65536");
	tap_is_str(unit_xfwd("NAME=a NAME=b"), "attribute given twice", "an attribute twice");
	tap_is_str(unit_xfwd("LOGIN=x"), "unknown attribute name", "an unknown attribute");
	tap_is_str(unit_xfwd("NAME="), "attribute=value expected", "an empty value");
	tap_is_str(unit_xfwd("SOURCE=+4C+4F+43+41+4C"), "XFORWARD SOURCE=LOCAL",
		   "values are decoded before they are checked");
	tap_is_str(unit_xfwd(""), "no attribute", "no attribute at all");
}

int main(void)
{
	char err[CONF_ERR_MAX];

	msg_open("unit-smtp", MSG_TO_STDERR, LOG_MAIL);
	msg_set_level(MSG_ERROR);
	if (conf_load("/nonexistent", NULL, 0, err, sizeof(err)) < 0)
		tap_diag("conf_load: %s", err);
	strcpy(unit_s.cid, "UNIT");
	unit_replies();
	unit_caps();
	unit_commands();
	unit_paths();
	unit_params();
	unit_xtext();
	unit_xforward();
	return tap_done();
}
