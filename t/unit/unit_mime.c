/*
 * unit_mime - MIME header fields and the decoders behind them
 *
 * Parameters of Content-Type and Content-Disposition (quoted strings,
 * comments, case, RFC 2231 charsets and continuations, RFC 2047 words in
 * file names), the type token, encoded words in header values, base64,
 * quoted-printable and uuencode and their limits, the encodings text
 * announces by itself, HTML's shown and hidden text, and addresses that
 * route themselves. detector_mime.c is included for its static parsers.
 */
#include "../../detector/detector_mime.c"

#include "tap.h"

/* unit_param - mime_param() as a string, "(none)" when not found */
static const char *unit_param(const char *value, const char *name)
{
	static char out[256];

	return mime_param(value, name, 0, out, sizeof(out)) == 0 ? out : "(none)";
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
	char small[4];

	tap_is_str(unit_param("text/plain; charset=utf-8", "charset"), "utf-8", "a token");
	tap_is_str(unit_param("text/plain; CharSet=\"ISO-8859-1\"", "charset"), "ISO-8859-1",
		   "a quoted string; names are case-insensitive");
	tap_is_str(
		unit_param("multipart/mixed; charset=x;\r\n\tboundary=\"a b;c\"", "boundary"),
		"a b;c", "after another parameter and a folded line; ; inside quotes");
	tap_is_str(unit_param("text/plain; name=\"a\\\"b\"", "name"), "a\"b",
		   "a backslash quotes the next character");
	tap_is_str(unit_param("text/plain (a comment; x=y); charset = us-ascii", "charset"),
		   "us-ascii", "a comment is skipped; spaces around =");
	tap_is_str(unit_param("text/plain; xcharset=a; charset=b", "charset"), "b",
		   "the whole name must match");
	tap_is_str(unit_param("text/plain", "charset"), "(none)", "no parameters");
	tap_is_str(unit_param("text/plain; charset", "charset"), "(none)", "a name without =");
	tap_ok(mime_param("text/plain; charset=\"utf-8\"", "charset", 0, small, sizeof(small))
			       == 1
		       && strcmp(small, "utf") == 0,
	       "a value is cut to the buffer, and says so: \"%s\"", small);
	tap_is_str(unit_param("text/plain; a=\"x;y\"; charset=b", "charset"), "b",
		   "a ';' inside a quoted value splits nothing");
	tap_is_str(unit_param("text/plain; junk; charset=b", "charset"), "b",
		   "a parameter without '=' does not hide the next one");
	tap_is_str(unit_param("multipart/mixed; boundary=abc def", "boundary"), "abc def",
		   "an unquoted value runs to the ';', as Python's email package reads it");
}

/* unit_boundary - the boundary parameter, as RFC 2046 and readers take it */
static void unit_boundary(void)
{
	struct mime m = {0};
	struct det_scan sc = {0};
	struct mime_entity e = {0};

	m.sc = &sc;
	content_type(&m, &e, "multipart/mixed; boundary=\"X \"");
	tap_is_str(e.ct[0].boundary, "X", "trailing white space is dropped");
	memset(&e, 0, sizeof(e));
	content_type(&m, &e, "multipart/mixed; boundary*0=\"ab\"; boundary*1=cd");
	tap_is_str(e.ct[0].boundary, "abcd", "RFC 2231 continuations are joined");
	memset(&e, 0, sizeof(e));
	content_type(&m, &e, "multipart/mixed");
	tap_is_str(e.ct[0].type, "text/plain", "a multipart without a boundary is text");
	memset(&e, 0, sizeof(e));
	content_type(&m, &e, "multipart/mixed; boundary=A");
	content_type(&m, &e, "text/plain; charset=utf-8");
	content_type(&m, &e, "multipart/mixed; boundary=A");
	tap_is_int(e.nct, 2, "two different Content-Type fields are two readings");
	tap_is_str(e.ct[1].type, "text/plain", "the second reading");
	tap_is_int(sc.incomplete, 0, "and that is no reason to give up");
	content_type(&m, &e, "text/html");
	tap_ok(sc.incomplete && strstr(sc.incomplete_why, "more than two") != NULL,
	       "a third is: \"%s\"", sc.incomplete_why);
	memset(&e, 0, sizeof(e));
	memset(&sc, 0, sizeof(sc));
	transfer_encoding(&m, &e, "base64");
	transfer_encoding(&m, &e, "7bit");
	tap_ok(e.nenc == 2 && e.enc[0] == ENC_BASE64 && e.enc[1] == ENC_IDENTITY,
	       "two Content-Transfer-Encoding fields: both readings, the first first");
	memset(&e, 0, sizeof(e));
	transfer_encoding(&m, &e, "base64 (a comment)");
	tap_ok(e.nenc == 2 && e.enc[1] == ENC_IDENTITY,
	       "base64 with more after it: also as it stands, as Python reads it");
	memset(&e, 0, sizeof(e));
	transfer_encoding(&m, &e, "x-gzip64");
	tap_ok(e.nenc == 1 && e.enc[0] == ENC_UNKNOWN, "an unknown encoding is known as such");
}

/* unit_filenames - file names in every form mail programs write */
static void unit_filenames(void)
{
	char type[32];

	tap_is_str(unit_filename("attachment; filename=\"report.pdf\""), "report.pdf",
		   "a plain file name");
	tap_is_str(unit_filename("attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf"),
		   "r\xc3\xa9sum\xc3\xa9.pdf", "RFC 2231, UTF-8");
	tap_is_str(unit_filename("attachment; filename*=iso-8859-1'fr'caf%E9.txt"),
		   "caf\xc3\xa9.txt", "RFC 2231, Latin-1 with a language, to UTF-8");
	tap_is_str(unit_filename("attachment; filename*0*=utf-8''a%20b; filename*1=\".t\";"
				 " filename*2=xt"),
		   "a b.txt", "RFC 2231 continuations");
	tap_is_str(unit_filename("attachment; filename=\"=?utf-8?B?w6l0w6k=?=.doc\""),
		   "\xc3\xa9t\xc3\xa9.doc", "an RFC 2047 word, as Outlook writes it");
	tap_is_str(unit_filename("attachment; filename=\"a\xff"
				 "b.txt\""),
		   "a\xef\xbf\xbd"
		   "b.txt",
		   "a byte that is not UTF-8 becomes U+FFFD");
	tap_is_str(unit_filename("inline"), "(none)", "no file name");
	lower_token(" Text/HTML (x); charset=x", type, sizeof(type));
	tap_is_str(type, "text/html", "the type: first token, lower case");
}

/* unit_b64_encode - bytes as base64 in lines of 76, as mail writes it */
static void unit_b64_encode(const unsigned char *d, size_t n, struct buf *out)
{
	static const char al[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned) d[i] << 16 | (i + 1 < n ? (unsigned) d[i + 1] << 8 : 0)
			| (i + 2 < n ? d[i + 2] : 0);
		char q[4] = {al[v >> 18], al[v >> 12 & 63], i + 1 < n ? al[v >> 6 & 63] : '=',
			     i + 2 < n ? al[v & 63] : '='};

		buf_append(out, q, 4);
		if ((col += 4) == 76) {
			buf_append(out, "\r\n", 2);
			col = 0;
		}
	}
}

/* unit_b64_long - long base64 (decoded 32 characters a step): as the short */
static void unit_b64_long(struct buf *b)
{
	unsigned char d[3000];
	struct buf enc;
	int same;

	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (unsigned char) (i * 7 + i / 256);
	buf_init(&enc, 4096);
	unit_b64_encode(d, sizeof(d) - 1, &enc);
	buf_reset(b);
	tap_is_int((long long) detector_b64_decode(enc.data, enc.len, b, NULL, 5000),
		   (long long) sizeof(d) - 1, "long base64 lines: every byte");
	tap_ok(b->len == sizeof(d) - 1 && memcmp(b->data, d, b->len) == 0,
	       "and the bytes are right");
	buf_reset(b);
	tap_is_int((long long) detector_b64_decode(enc.data, enc.len, b, NULL, 100), 100,
		   "the limit inside a long line");
	tap_ok(memcmp(b->data, d, 100) == 0, "and what it wrote is the start");
	/* junk and a line break inside what would be a 32-character step */
	buf_reset(&enc);
	unit_b64_encode(d, 48, &enc); /* 64 characters, one line */
	memmove(enc.data + 21, enc.data + 20, enc.len - 20);
	enc.data[20] = '*';
	memmove(enc.data + 41, enc.data + 40, enc.len - 39);
	enc.data[40] = '\n';
	enc.len += 2;
	buf_reset(b);
	detector_b64_decode(enc.data, enc.len, b, NULL, 100);
	same = b->len == 48 && memcmp(b->data, d, 48) == 0;
	tap_ok(same, "junk and a line break in a long run are skipped");
	buf_free(&enc);
	buf_reset(b);
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
	/* the limit bounds what is written: one more than wanted says "cut" */
	s = "SGVs\r\nbG8s\r\nIHdv\r\ncmxk";
	tap_is_int((long long) detector_b64_decode(s, strlen(s), &b, NULL, 7), 7,
		   "base64 stops at its limit, line breaks or not");
	tap_is_str(unit_decoded(&b), "Hello, ", "and what it wrote is the start");
	tap_is_int((long long) detector_b64_decode(s, strlen(s), &b, NULL, 13), 12,
		   "a limit above the content: all of it");
	buf_reset(&b);
	s = "a=3Db=\r\nc";
	tap_is_int((long long) detector_qp_decode(s, strlen(s), &b, 2), 2,
		   "quoted-printable too");
	tap_is_str(unit_decoded(&b), "a=", "its first two bytes");
	unit_b64_long(&b);
	s = "begin 644 a.txt\n3=&AE(&9A;&-O;B!I<R!H97)E\"@``\n`\nend\n";
	detector_uu_decode(s, strlen(s), &b, 1000);
	tap_is_str(unit_decoded(&b), "the falcon is here\n", "uuencode");
	buf_free(&b);
}

/* unit_charsets - what text says about its own encoding */
static void unit_charsets(void)
{
	size_t skip;
	const char *g;
	struct buf b;

	g = detector_text_guess("\xff\xfe"
				"a\0b\0",
				6, &skip);
	tap_ok(g && !strcmp(g, "UTF-16LE") && skip == 2, "a UTF-16LE byte-order mark");
	g = detector_text_guess("\xfe\xff\0a\0b", 6, &skip);
	tap_ok(g && !strcmp(g, "UTF-16BE") && skip == 2, "a UTF-16BE byte-order mark");
	g = detector_text_guess("t\0h\0e\0 \0f\0a\0l\0c\0o\0n\0", 20, &skip);
	tap_ok(g && !strcmp(g, "UTF-16LE") && skip == 0, "UTF-16LE by its zero bytes");
	g = detector_text_guess("t\0\0\0h\0\0\0e\0\0\0n\0\0\0", 16, &skip);
	tap_ok(g && !strcmp(g, "UTF-32LE"), "UTF-32LE by its zero bytes");
	tap_ok(detector_text_guess("plain text, nothing more", 24, &skip) == NULL,
	       "plain text says nothing");
	tap_ok(detector_charset_known("ks_c_5601-1987") && detector_charset_known("x-mac-roman")
		       && detector_charset_known("CP-850")
		       && !detector_charset_known("x-unheard-of"),
	       "the charset labels mail programs write");
	tap_ok(detector_utf8_valid("caf\xc3\xa9 12345678", 14)
		       && !detector_utf8_valid("caf\xe9", 4),
	       "UTF-8 validity");
	buf_init(&b, 64);
	tap_is_int(detector_charset_to_utf8("x-unheard-of", "abc", 3, &b, 3), -1,
		   "an unknown charset says so");
	buf_reset(&b);
	tap_ok(detector_charset_to_utf8("utf-16le", "a\0\0\xd8", 4, &b, 4) > 0,
	       "an invalid sequence is counted");
	buf_reset(&b);
	detector_utf16_strings("\x01\x02s\0e\0c\0r\0e\0t\0!\0\x03\x04", 18, &b, 100);
	tap_is_str(b.data, "secret!\n", "UTF-16 strings in binary data");
	buf_free(&b);
}

/* unit_html - what a browser shows, and what the markup holds unseen */
static void unit_html(void)
{
	static const struct {
		const char *html, *shown, *hidden, *what;
	} t[] = {
		{"fal<b>con</b>", "falcon", "", "an inline element joins"},
		{"fal<x-y>con</x-y>", "falcon", "x-y\n", "so does an unknown one"},
		{"fal<div>con", "fal\ncon", "", "a block element breaks"},
		{"fal&shy;c&#x200B;o&ZeroWidthSpace;n", "falcon", "",
		 "invisible characters go"},
		{"a&nbsp;b &amp c &notit; &#52;", "a b & c \xc2\xacit; 4", "",
		 "references, with and without ';'"},
		{"3 < 4 and 5 > 4", "3 < 4 and 5 > 4", "", "a '<' that opens no tag is text"},
		{"<p title=\"a>b\" alt='c'>x</p>", "\nx\n", "p title=\"a>b\" alt='c'\n",
		 "attributes, a '>' in a quoted value"},
		{"x<!-- fal<b>con</b> -->y", "xy", " falcon \n", "a comment, read as HTML"},
		{"<script>var f = 1;</script>z", "z", "var f = 1;\n", "a script"},
	};
	struct buf out, hidden;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_init(&out, 64);
		buf_init(&hidden, 64);
		detector_html_to_text(t[i].html, strlen(t[i].html), &out, &hidden, 1000);
		tap_is_str(out.data, t[i].shown, "HTML shown: %s", t[i].what);
		tap_is_str(hidden.data, t[i].hidden, "HTML hidden: %s", t[i].what);
		buf_free(&out);
		buf_free(&hidden);
	}
}

/* unit_addresses - addresses as Postfix routes them */
static void unit_addresses(void)
{
	tap_ok(!detector_addr_routed("v@example.com")
		       && !detector_addr_routed("\"v.x\"@example.com"),
	       "plain and quoted addresses do not route themselves");
	tap_ok(detector_addr_routed("v%gmail.com@example.com")
		       && detector_addr_routed("gmail.com!v@example.com")
		       && detector_addr_routed("\"v@gmail.com\"@example.com")
		       && detector_addr_routed("@a.org:v@example.com"),
	       "%%, !, a quoted @ and a source route do");
	tap_ok(detector_addr_internal("v@mail.example.com")
		       && detector_addr_internal("v@example.com."),
	       "internal: a subdomain, a trailing dot");
	tap_ok(!detector_addr_internal("v%gmail.com@mail.example.com")
		       && !detector_addr_internal("@mail.example.com:v@example.com"),
	       "a routed address is never internal");
	tap_ok(detector_addr_match("gmail.com", "v%gmail.com@example.com")
		       && detector_addr_match("v@gmail.com", "gmail.com!v@example.com")
		       && detector_addr_match("*@gmail.com", "\"v@gmail.com\"@example.com")
		       && detector_addr_match("@b.org", "@a.org,@b.org:v@example.com")
		       && detector_addr_match("example.com", "v%gmail.com@example.com"),
	       "patterns match where the address goes, and what it says");
	tap_ok(!detector_addr_match("gmail.com", "v@example.com"), "and nothing else");
}

int main(void)
{
	char err[CONF_ERR_MAX];

	msg_open("unit-mime", MSG_TO_STDERR, LOG_MAIL);
	char *overrides[] = {"internal_domains=example.com", NULL};

	if (conf_load("/nonexistent", overrides, 1, err, sizeof(err)) < 0)
		tap_diag("conf_load: %s", err);
	unit_params();
	unit_boundary();
	unit_filenames();
	unit_decoders();
	unit_charsets();
	unit_html();
	unit_addresses();
	return tap_done();
}
