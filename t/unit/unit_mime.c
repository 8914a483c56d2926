/*
 * unit_mime - MIME header fields and the decoders behind them
 *
 * Parameters of Content-Type and Content-Disposition (quoted strings,
 * comments, case, RFC 2231 charsets and continuations, RFC 2047 words in
 * file names), the type token, encoded words in header values, base64
 * and quoted-printable. detector_mime.c is included for its static
 * parsers.
 */
#include "../../detector/detector_mime.c"

#include "tap.h"

/* unit_param - mime_param() as a string, "(none)" when not found */
static const char *unit_param(const char *value, const char *name)
{
	static char out[256];

	return mime_param(value, name, out, sizeof(out)) == 0 ? out : "(none)";
}

/* unit_filename - mime_filename() as a string, "(none)" when not found */
static const char *unit_filename(const char *value)
{
	static char out[256];

	return mime_filename(value, "filename", out, sizeof(out)) == 0 ? out : "(none)";
}

/* unit_decoded - a decoder's output as a C string (the buffer is reused) */
static const char *unit_decoded(struct buf *b)
{
	static char out[512];

	snprintf(out, sizeof(out), "%s", b->data);
	buf_reset(b);
	return out;
}

/* unit_params - parameters of Content-* fields */
static void unit_params(void)
{
	char    small[4];

	tap_is_str(unit_param("text/plain; charset=utf-8", "charset"), "utf-8", "a token");
	tap_is_str(unit_param("text/plain; CharSet=\"ISO-8859-1\"", "charset"), "ISO-8859-1",
		   "a quoted string; names are case-insensitive");
	tap_is_str(unit_param("multipart/mixed; charset=x;\r\n\tboundary=\"a b;c\"", "boundary"),
		   "a b;c", "after another parameter and a folded line; ; inside quotes");
	tap_is_str(unit_param("text/plain; name=\"a\\\"b\"", "name"), "a\"b",
		   "a backslash quotes the next character");
	tap_is_str(unit_param("text/plain (a comment; x=y); charset = us-ascii", "charset"),
		   "us-ascii", "a comment is skipped; spaces around =");
	tap_is_str(unit_param("text/plain; xcharset=a; charset=b", "charset"), "b",
		   "the whole name must match");
	tap_is_str(unit_param("text/plain", "charset"), "(none)", "no parameters");
	tap_is_str(unit_param("text/plain; charset", "charset"), "(none)", "a name without =");
	tap_ok(mime_param("text/plain; charset=\"utf-8\"", "charset", small, sizeof(small)) == 0
	       && strcmp(small, "utf") == 0, "a value is cut to the buffer: \"%s\"", small);
}

/* unit_filenames - file names in every form mail programs write */
static void unit_filenames(void)
{
	char    type[32];

	tap_is_str(unit_filename("attachment; filename=\"report.pdf\""), "report.pdf",
		   "a plain file name");
	tap_is_str(unit_filename("attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf"),
		   "r\xc3\xa9sum\xc3\xa9.pdf", "RFC 2231, UTF-8");
	tap_is_str(unit_filename("attachment; filename*=iso-8859-1'fr'caf%E9.txt"),
		   "caf\xc3\xa9.txt", "RFC 2231, Latin-1 with a language, to UTF-8");
	tap_is_str(unit_filename("attachment; filename*0*=utf-8''a%20b; filename*1=\".t\";"
				 " filename*2=xt"), "a b.txt", "RFC 2231 continuations");
	tap_is_str(unit_filename("attachment; filename=\"=?utf-8?B?w6l0w6k=?=.doc\""),
		   "\xc3\xa9t\xc3\xa9.doc", "an RFC 2047 word, as Outlook writes it");
	tap_is_str(unit_filename("attachment; filename=\"a\xff" "b.txt\""), "a\xef\xbf\xbd" "b.txt",
		   "a byte that is not UTF-8 becomes U+FFFD");
	tap_is_str(unit_filename("inline"), "(none)", "no file name");
	lower_token(" Text/HTML (x); charset=x", type, sizeof(type));
	tap_is_str(type, "text/html", "the type: first token, lower case");
}

/* unit_decoders - encoded words, base64, quoted-printable */
static void unit_decoders(void)
{
	struct buf b;
	const char *s;

	buf_init(&b, 64);
	s = "=?ISO-8859-1?Q?caf=E9_cr=E8me?=";
	detector_rfc2047_decode(s, strlen(s), &b);
	tap_is_str(unit_decoded(&b), "caf\xc3\xa9 cr\xc3\xa8me", "an encoded word, Q, Latin-1");
	s = "=?utf-8?b?SGVs?= \t =?utf-8?b?bG8=?= world";
	detector_rfc2047_decode(s, strlen(s), &b);
	tap_is_str(unit_decoded(&b), "Hello world", "space between two words is not text");
	s = "=?utf-8?x?abc?= and =?broken";
	detector_rfc2047_decode(s, strlen(s), &b);
	tap_is_str(unit_decoded(&b), s, "what is no encoded word stays as written");
	s = "SGVsbG8s\r\nIHdv cmxk!";
	detector_b64_decode(s, strlen(s), &b, NULL, 1000);
	tap_is_str(unit_decoded(&b), "Hello, world", "base64 across lines, junk skipped");
	s = "YQ==";
	detector_b64_decode(s, strlen(s), &b, NULL, 1000);
	tap_is_str(unit_decoded(&b), "a", "base64 padding");
	s = "caf=C3=A9 soft=\r\nbreak=20 =3D stray= end";
	detector_qp_decode(s, strlen(s), &b, 1000);
	tap_is_str(unit_decoded(&b), "caf\xc3\xa9 softbreak  = stray= end",
		   "quoted-printable: hex, soft break, a stray =");
	s = "trailing=  \nline";
	detector_qp_decode(s, strlen(s), &b, 1000);
	tap_is_str(unit_decoded(&b), "trailingline", "a soft break with white space after =");
	buf_free(&b);
}

int     main(void)
{
	char    err[CONF_ERR_MAX];

	msg_open("unit-mime", MSG_TO_STDERR, LOG_MAIL);
	if (conf_load("/nonexistent", NULL, 0, err, sizeof(err)) < 0)
		tap_diag("conf_load: %s", err);
	unit_params();
	unit_filenames();
	unit_decoders();
	return tap_done();
}
