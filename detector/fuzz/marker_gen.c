/*
 * marker_gen - messages with a marker word hidden in a random container tree
 *
 * See marker_gen.h. Every container is made the way its producers make
 * it, by the libraries that write those formats (libarchive for zip, tar,
 * 7z; zlib for gzip and PDF streams) or by hand where the format is text
 * (MIME, HTML, Office XML, PDF objects). The tree is bounded: four levels
 * of containers, 24 nodes, a few dozen words per text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "buf.h"
#include "conf_params.h"
#include "mem.h"
#include "scan.h"
#include "detector.h"
#include "marker_gen.h"

#define GEN_DEPTH 4  /* containers within containers */
#define GEN_NODES 24 /* parts and members per message */

struct gen {
	struct marker_rand *r;
	char *path;
	size_t pathlen;
	int depth;
	unsigned nodes;
};

/* one file: a name and its bytes */
struct gen_file {
	char name[80];
	struct buf data;
};

static void entity(struct gen *g, struct buf *out, int marker);
static void message(struct gen *g, struct buf *out, int marker);
static void file_blob(struct gen *g, struct gen_file *f, int marker);

/* ---- choices ------------------------------------------------------------ */

/* marker_rand_init - choices from in, then from a generator seeded by in and seed */
void marker_rand_init(struct marker_rand *r, const uint8_t *in, size_t len, uint64_t seed)
{
	r->in = in;
	r->len = len;
	r->pos = 0;
	r->state = seed ^ 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < len; i++)
		r->state = (r->state ^ in[i]) * 0x100000001b3ULL;
}

/* marker_pick - a choice among n (n >= 1) */
unsigned marker_pick(struct marker_rand *r, unsigned n)
{
	uint64_t z;

	if (n <= 1)
		return 0;
	if (r->pos < r->len)
		return r->in[r->pos++] % n;
	z = (r->state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (unsigned) ((z ^ (z >> 31)) % n);
}

/* pick - a choice among n */
static unsigned pick(struct gen *g, unsigned n)
{
	return marker_pick(g->r, n);
}

/* path_add - one more step on the way to the marker */
static void path_add(struct gen *g, const char *fmt, ...)
{
	size_t n = strlen(g->path);
	va_list ap;

	if (n + 4 >= g->pathlen)
		return;
	if (n)
		n += (size_t) snprintf(g->path + n, g->pathlen - n, " > ");
	va_start(ap, fmt);
	vsnprintf(g->path + n, g->pathlen - n, fmt, ap);
	va_end(ap);
}

/* ---- text ------------------------------------------------------------- */

static const char *const vocab[] = {
	"the",     "report",  "meeting", "budget",  "draft",  "please",  "review", "attached",
	"quarter", "numbers", "team",    "plan",    "with",   "for",     "and",    "customer",
	"invoice", "status",  "final",   "version", "office", "regards", "thanks"};

/* words - filler words, and the marker among them when asked */
static void words(struct gen *g, struct buf *out, int marker, unsigned n)
{
	unsigned at = marker ? pick(g, n + 1) : n + 1;

	for (unsigned i = 0; i <= n; i++) {
		if (i == at)
			buf_puts(out, MARKER_WORD);
		else if (i < n)
			buf_puts(out, vocab[pick(g, sizeof(vocab) / sizeof(vocab[0]))]);
		else
			break;
		buf_putc(out, i % 9 == 8 ? '\n' : ' ');
	}
	buf_putc(out, '\n');
}

/* crlf - text with CRLF line ends, appended */
static void crlf(struct buf *out, const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '\n' && (i == 0 || t[i - 1] != '\r'))
			buf_putc(out, '\r');
		buf_putc(out, t[i]);
	}
}

/* b64 - base64 in lines of 76, CRLF */
static void b64(struct buf *out, const unsigned char *p, size_t n)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t) p[i] << 16 | (i + 1 < n ? (uint32_t) p[i + 1] << 8 : 0)
			| (i + 2 < n ? p[i + 2] : 0);

		buf_putc(out, a[v >> 18 & 63]);
		buf_putc(out, a[v >> 12 & 63]);
		buf_putc(out, i + 1 < n ? a[v >> 6 & 63] : '=');
		buf_putc(out, i + 2 < n ? a[v & 63] : '=');
		if ((col += 4) >= 76) {
			buf_puts(out, "\r\n");
			col = 0;
		}
	}
	if (col)
		buf_puts(out, "\r\n");
}

/* qp - quoted-printable, soft breaks under 76 columns */
static void qp(struct buf *out, const unsigned char *p, size_t n)
{
	size_t col = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			buf_puts(out, "\r\n");
			col = 0;
			continue;
		}
		if (col >= 72) {
			buf_puts(out, "=\r\n");
			col = 0;
		}
		if (p[i] == '=' || p[i] >= 0x7f || p[i] < 0x20
		    || (p[i] == ' ' && i + 1 < n && p[i + 1] == '\n')) {
			buf_printf(out, "=%02X", p[i]);
			col += 3;
		} else {
			buf_putc(out, p[i]);
			col++;
		}
	}
	buf_puts(out, "\r\n");
}

/* utf16 - ASCII text as UTF-16 with a byte-order mark */
static void utf16(struct buf *out, const char *t, size_t n, int be)
{
	buf_append(out, be ? "\xfe\xff" : "\xff\xfe", 2);
	for (size_t i = 0; i < n; i++) {
		char u[2] = {be ? 0 : t[i], be ? t[i] : 0};

		buf_append(out, u, 2);
	}
}

/* body - a body in a transfer encoding the generator picks, with its header */
static void body(struct gen *g, struct buf *out, const struct buf *b, int binary)
{
	unsigned e = binary ? 0 : pick(g, 3);

	if (e == 0) {
		buf_puts(out, "Content-Transfer-Encoding: base64\r\n\r\n");
		b64(out, (const unsigned char *) b->data, b->len);
	} else if (e == 1) {
		buf_puts(out, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		qp(out, (const unsigned char *) b->data, b->len);
	} else {
		buf_puts(out, "Content-Transfer-Encoding: 7bit\r\n\r\n");
		crlf(out, b->data, b->len);
	}
}

/* ---- MIME leaves ---------------------------------------------------------- */

/* part_text - a text/plain part in one of the charsets mail programs write */
static void part_text(struct gen *g, struct buf *out, int marker)
{
	static const char *const cs[] = {"utf-8", "us-ascii", "iso-8859-1", "utf-16", "utf-16"};
	unsigned c = pick(g, 5);
	struct buf t, u;

	buf_init(&t, 256);
	words(g, &t, marker, 10 + pick(g, 30));
	buf_printf(out, "Content-Type: text/plain; charset=%s\r\n", cs[c]);
	if (pick(g, 4) == 0)
		buf_printf(out, "Content-Disposition: attachment; filename=\"notes%u.txt\"\r\n",
			   pick(g, 100));
	if (c >= 3) {
		buf_init(&u, t.len * 2 + 4);
		utf16(&u, t.data, t.len, c == 4);
		body(g, out, &u, 1);
		buf_free(&u);
	} else
		body(g, out, &t, 0);
	if (marker)
		path_add(g, "text/plain %s", cs[c]);
	buf_free(&t);
}

/* html_text - HTML around words; the marker shown, split, or hidden in markup */
static void html_text(struct gen *g, struct buf *h, int marker)
{
	static const char *const how[] = {"in a paragraph",
					  "split by <b>",
					  "split by an unknown element",
					  "letters as character references",
					  "split by a soft hyphen",
					  "in a title attribute",
					  "in an alt attribute",
					  "in a comment",
					  "in a hidden input"};
	unsigned m = marker ? pick(g, 9) : 0;
	struct buf t;
	const char *w = MARKER_WORD;

	buf_init(&t, 256);
	words(g, &t, 0, 5 + pick(g, 20));
	buf_puts(h, "<html><head><title>note</title></head><body><p>");
	buf_append(h, t.data, t.len);
	buf_puts(h, "</p><p>");
	switch (marker ? m : 99) {
	case 0:
		buf_printf(h, " %s ", w);
		break;
	case 1:
		buf_printf(h, " %.4s<b>%s</b> ", w, w + 4);
		break;
	case 2:
		buf_printf(h, " %.3s<x-note>%.4s</x-note>%s ", w, w + 3, w + 7);
		break;
	case 3:
		buf_printf(h, " %.2s&#x%x;&#%d;%s ", w, w[2], w[3], w + 4);
		break;
	case 4:
		buf_printf(h, " %.5s&shy;%s ", w, w + 5);
		break;
	case 5:
		buf_printf(h, "<span title=\"a %s b\">x</span>", w);
		break;
	case 6:
		buf_printf(h, "<img src=\"cid:i\" alt=\"%s\">", w);
		break;
	case 7:
		buf_printf(h, "<!-- %s -->", w);
		break;
	case 8:
		buf_printf(h, "<form><input type=\"hidden\" value=\"%s\"></form>", w);
		break;
	default:
		break;
	}
	buf_puts(h, "</p></body></html>\n");
	if (marker)
		path_add(g, "HTML, %s", how[m]);
	buf_free(&t);
}

/* part_html - a text/html part */
static void part_html(struct gen *g, struct buf *out, int marker)
{
	struct buf h;

	buf_init(&h, 512);
	html_text(g, &h, marker);
	buf_puts(out, "Content-Type: text/html; charset=utf-8\r\n");
	body(g, out, &h, 0);
	buf_free(&h);
}

/* ---- MIME containers ------------------------------------------------------ */

/* part_multi - a multipart: the marker in a part, the preamble or the epilogue */
static void part_multi(struct gen *g, struct buf *out, int marker)
{
	static const char *const sub[] = {"mixed", "alternative", "related", "digest"};
	unsigned s = pick(g, 4), n = 1 + pick(g, 3), slot = marker ? pick(g, n + 2) : 99;
	int close = slot == n + 1 || pick(g, 8) != 0;
	char bnd[40];

	snprintf(bnd, sizeof(bnd), "=_b%u_%x", (unsigned) g->depth, pick(g, 0x10000));
	buf_printf(out, "Content-Type: multipart/%s; boundary=\"%s\"\r\n\r\n", sub[s], bnd);
	if (marker)
		path_add(g, "multipart/%s", sub[s]);
	if (slot == n) {
		struct buf t;

		buf_init(&t, 128);
		path_add(g, "preamble");
		words(g, &t, 1, 8);
		crlf(out, t.data, t.len);
		buf_free(&t);
	} else if (pick(g, 2))
		buf_puts(out, "This is a multi-part message in MIME format.\r\n");
	for (unsigned i = 0; i < n; i++) {
		buf_printf(out, "\r\n--%s\r\n", bnd);
		if (s == 3) { /* digest: parts are messages */
			buf_puts(out, "\r\n");
			message(g, out, slot == i);
		} else
			entity(g, out, slot == i);
	}
	if (close)
		buf_printf(out, "\r\n--%s--\r\n", bnd);
	else if (marker)
		path_add(g, "(no closing delimiter)");
	if (slot == n + 1) {
		struct buf t;

		buf_init(&t, 128);
		path_add(g, "epilogue");
		words(g, &t, 1, 8);
		crlf(out, t.data, t.len);
		buf_free(&t);
	}
}

/* part_message - an attached message, as it stands or in base64 */
static void part_message(struct gen *g, struct buf *out, int marker)
{
	struct buf m;

	buf_init(&m, 1024);
	if (marker)
		path_add(g, "message/rfc822");
	message(g, &m, marker);
	buf_puts(out, "Content-Type: message/rfc822\r\n");
	if (pick(g, 2))
		buf_printf(out, "Content-Disposition: attachment; filename=\"fwd%u.eml\"\r\n",
			   pick(g, 100));
	if (pick(g, 3) == 0) {
		buf_puts(out, "Content-Transfer-Encoding: base64\r\n\r\n");
		b64(out, (const unsigned char *) m.data, m.len);
	} else {
		buf_puts(out, "\r\n");
		buf_append(out, m.data, m.len);
	}
	buf_free(&m);
}

/* content_type - the type a mail program gives a file by its name */
static const char *content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} t[] = {
		{".txt", "text/plain"},
		{".html", "text/html"},
		{".eml", "message/rfc822"},
		{".zip", "application/zip"},
		{".tar", "application/x-tar"},
		{".tgz", "application/gzip"},
		{".7z", "application/x-7z-compressed"},
		{".gz", "application/gzip"},
		{".pdf", "application/pdf"},
		{".docx",
		 "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{".odt", "application/vnd.oasis.opendocument.text"},
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(dot, t[i].ext) == 0)
			return t[i].type;
	return "application/octet-stream";
}

/* part_file - a file attached in base64, under its type or as octet-stream */
static void part_file(struct gen *g, struct buf *out, int marker)
{
	struct gen_file f;

	buf_init(&f.data, 1024);
	file_blob(g, &f, marker);
	buf_printf(out, "Content-Type: %s; name=\"%s\"\r\n",
		   pick(g, 4) ? content_type(f.name) : "application/octet-stream", f.name);
	buf_printf(out, "Content-Disposition: attachment; filename=\"%s\"\r\n", f.name);
	body(g, out, &f.data, 1);
	buf_free(&f.data);
}

/* entity - one MIME entity: its Content-* fields, a blank line, its body */
static void entity(struct gen *g, struct buf *out, int marker)
{
	unsigned k;

	g->nodes++;
	k = g->depth >= GEN_DEPTH || g->nodes >= GEN_NODES ? pick(g, 2) : pick(g, 6);
	g->depth++;
	switch (k) {
	case 0:
		part_text(g, out, marker);
		break;
	case 1:
		part_html(g, out, marker);
		break;
	case 2:
		part_multi(g, out, marker);
		break;
	case 3:
		part_message(g, out, marker);
		break;
	default:
		part_file(g, out, marker);
		break;
	}
	g->depth--;
}

/* message - a message: its header (the marker may be in Subject or a field) and an entity */
static void message(struct gen *g, struct buf *out, int marker)
{
	unsigned where = marker ? pick(g, 10) : 99;
	struct buf s;

	buf_init(&s, 128);
	words(g, &s, where == 0, 3 + pick(g, 5));
	s.data[--s.len] = 0; /* the last newline */
	for (size_t i = 0; i < s.len; i++)
		if (s.data[i] == '\n')
			s.data[i] = ' ';
	buf_puts(out, "From: Ann <ann@example.com>\r\nTo: bob@example.net\r\n");
	buf_puts(out, "Date: Thu, 3 Dec 2026 06:00:00 +0000\r\n");
	buf_printf(out, "Message-ID: <%x.%u@example.com>\r\n", pick(g, 0x10000), g->nodes);
	if (where == 0 && pick(g, 2)) {
		buf_puts(out, "Subject: =?UTF-8?B?");
		for (size_t i = 0; i < s.len; i += 45) {
			struct buf w;

			buf_init(&w, 80);
			b64(&w, (const unsigned char *) s.data + i,
			    s.len - i < 45 ? s.len - i : 45);
			w.len -= 2; /* its CRLF */
			buf_append(out, w.data, w.len);
			buf_puts(out, i + 45 < s.len ? "?=\r\n =?UTF-8?B?" : "?=\r\n");
			buf_free(&w);
		}
		path_add(g, "Subject, RFC 2047");
	} else {
		buf_printf(out, "Subject: %s\r\n", s.data);
		if (where == 0)
			path_add(g, "Subject");
	}
	if (where == 1) {
		buf_printf(out, "X-Note: a %s b\r\n", MARKER_WORD);
		path_add(g, "X-Note field");
	}
	buf_puts(out, "MIME-Version: 1.0\r\n");
	entity(g, out, marker && where > 1);
	buf_free(&s);
}

/* ---- files ------------------------------------------------------------------ */

/* gzip_bytes - data in a gzip wrapper */
static void gzip_bytes(const struct buf *in, struct buf *out)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	buf_reserve(out, deflateBound(&z, in->len) + 16);
	z.next_in = (unsigned char *) in->data;
	z.avail_in = (unsigned) in->len;
	z.next_out = (unsigned char *) out->data + out->len;
	z.avail_out = (unsigned) (out->cap - out->len - 1);
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	out->len += z.total_out;
	deflateEnd(&z);
}

/* archive_bytes - files in an archive: 0 zip, 1 tar, 2 tar.gz, 3 7z */
static void archive_bytes(int fmt, struct gen_file *files, unsigned n, struct buf *out)
{
	struct archive *a = archive_write_new();
	size_t cap = 65536, used = 0;

	for (unsigned i = 0; i < n; i++)
		cap += files[i].data.len * 2 + 1024;
	buf_reserve(out, cap);
	if (fmt == 0)
		archive_write_set_format_zip(a);
	else if (fmt == 3)
		archive_write_set_format_7zip(a);
	else
		archive_write_set_format_pax_restricted(a);
	if (fmt == 2)
		archive_write_add_filter_gzip(a);
	if (archive_write_open_memory(a, out->data + out->len, cap, &used) != ARCHIVE_OK)
		abort();
	for (unsigned i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();

		archive_entry_set_pathname(e, files[i].name);
		archive_entry_set_size(e, (la_int64_t) files[i].data.len);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_mtime(e, 1780000000, 0);
		if (archive_write_header(a, e) != ARCHIVE_OK
		    || archive_write_data(a, files[i].data.data, files[i].data.len)
			    != (la_ssize_t) files[i].data.len)
			abort();
		archive_entry_free(e);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		abort();
	archive_write_free(a);
	out->len += used;
}

/* office_xml - the XML of a document, with the marker in its text */
static void office_xml(struct gen *g, struct buf *x, int kind, int marker)
{
	struct buf t;
	char *w, *save = NULL;

	buf_init(&t, 256);
	words(g, &t, marker, 8 + pick(g, 20));
	if (kind == 0) { /* docx: runs of a few characters, as Word splits */
		buf_puts(x,
			 "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\""
			 "http://schemas.openxmlformats.org/wordprocessingml/2006/"
			 "main\"><w:body><w:p>");
		for (size_t i = 0; i < t.len;) {
			size_t n = 1 + pick(g, 6);

			if (n > t.len - i)
				n = t.len - i;
			buf_printf(x, "<w:r><w:t xml:space=\"preserve\">%.*s</w:t></w:r>",
				   (int) n, t.data + i);
			i += n;
		}
		buf_puts(x, "</w:p></w:body></w:document>");
	} else if (kind == 1) { /* xlsx: one shared string per word */
		buf_puts(x,
			 "<?xml version=\"1.0\" encoding=\"UTF-8\"?><sst xmlns=\""
			 "http://schemas.openxmlformats.org/spreadsheetml/2006/main\">");
		for (w = strtok_r(t.data, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
			buf_printf(x, "<si><t>%s</t></si>", w);
		buf_puts(x, "</sst>");
	} else { /* odt */
		buf_puts(x,
			 "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-content "
			 "xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" "
			 "xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\">"
			 "<office:body><office:text><text:p>");
		buf_append(x, t.data, t.len);
		buf_puts(x, "</text:p></office:text></office:body></office:document-content>");
	}
	buf_free(&t);
}

/* office_bytes - docx (with an embedded file, now and then), xlsx or odt */
static void office_bytes(struct gen *g, struct gen_file *f, int marker)
{
	static const char *const ext[] = {"docx", "xlsx", "odt"};
	unsigned kind = pick(g, 3), n = 0;
	int embed = kind == 0 && g->depth < GEN_DEPTH && pick(g, 3) == 0;
	int in_embed = marker && embed && pick(g, 2);
	struct gen_file m[4];

	for (int i = 0; i < 4; i++)
		buf_init(&m[i].data, 256);
	snprintf(f->name, sizeof(f->name), "doc%u.%s", pick(g, 100), ext[kind]);
	if (marker)
		path_add(g, "%s %s", ext[kind], f->name);
	if (kind == 2) {
		snprintf(m[n].name, sizeof(m[0].name), "mimetype");
		buf_puts(&m[n++].data, "application/vnd.oasis.opendocument.text");
		snprintf(m[n].name, sizeof(m[0].name), "content.xml");
		office_xml(g, &m[n++].data, 2, marker);
	} else {
		snprintf(m[n].name, sizeof(m[0].name), "[Content_Types].xml");
		buf_printf(&m[n++].data,
			   "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas."
			   "openxmlformats.org/package/2006/content-types\"><Override "
			   "PartName=\"/%s\" "
			   "ContentType=\"application/xml\"/></Types>",
			   kind == 0 ? "word/document.xml" : "xl/sharedStrings.xml");
		snprintf(m[n].name, sizeof(m[0].name), "%s",
			 kind == 0 ? "word/document.xml" : "xl/sharedStrings.xml");
		office_xml(g, &m[n++].data, (int) kind, marker && !in_embed);
		if (embed) {
			struct gen_file e;

			buf_init(&e.data, 256);
			g->depth++;
			if (in_embed)
				path_add(g, "embedded");
			file_blob(g, &e, in_embed);
			g->depth--;
			snprintf(m[n].name, sizeof(m[0].name), "word/embeddings/%s", e.name);
			buf_append(&m[n++].data, e.data.data, e.data.len);
			buf_free(&e.data);
		}
	}
	archive_bytes(0, m, n, &f->data);
	for (int i = 0; i < 4; i++)
		buf_free(&m[i].data);
}

/* pdf_bytes - a one-page PDF: the marker in the page's text or the title */
static void pdf_bytes(struct gen *g, struct gen_file *f, int marker)
{
	static const char *const how[] = {"one Tj", "split in a TJ array",
					  "the document title"};
	unsigned m = marker ? pick(g, 3) : 0, obj = 0;
	int flate = pick(g, 2);
	size_t off[8];
	struct buf t, cs, z;
	const char *w = MARKER_WORD;

	buf_init(&t, 256);
	buf_init(&cs, 512);
	buf_init(&z, 512);
	words(g, &t, 0, 6 + pick(g, 12));
	for (size_t i = 0; i < t.len; i++)
		if (t.data[i] == '\n')
			t.data[i] = ' ';
	buf_printf(&cs, "BT /F1 12 Tf 72 720 Td (%.*s) Tj", (int) t.len, t.data);
	if (marker && m == 0)
		buf_printf(&cs, " 0 -16 Td (and %s too) Tj", w);
	else if (marker && m == 1)
		buf_printf(&cs, " 0 -16 Td [(and %.4s) -12 (%s too)] TJ", w, w + 4);
	buf_puts(&cs, " ET\n");
	if (flate) {
		uLongf zl = compressBound(cs.len);

		buf_reserve(&z, zl + 1);
		if (compress2((Bytef *) z.data, &zl, (const Bytef *) cs.data, cs.len, 9)
		    != Z_OK)
			abort();
		z.len = zl;
	} else
		buf_append(&z, cs.data, cs.len);
	snprintf(f->name, sizeof(f->name), "paper%u.pdf", pick(g, 100));
	if (marker)
		path_add(g, "pdf %s, %s%s", f->name, how[m], flate ? ", Flate" : "");
	buf_puts(&f->data, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
#define PDF_OBJ(...) \
	do { \
		off[++obj] = f->data.len; \
		buf_printf(&f->data, "%u 0 obj\n", obj); \
		buf_printf(&f->data, __VA_ARGS__); \
		buf_puts(&f->data, "\nendobj\n"); \
	} while (0)
	PDF_OBJ("<< /Type /Catalog /Pages 2 0 R >>");
	PDF_OBJ("<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
	PDF_OBJ("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
		"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>");
	PDF_OBJ("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding "
		"/WinAnsiEncoding >>");
	off[++obj] = f->data.len;
	buf_printf(&f->data, "5 0 obj\n<< /Length %zu%s >>\nstream\n", z.len,
		   flate ? " /Filter /FlateDecode" : "");
	buf_append(&f->data, z.data, z.len);
	buf_puts(&f->data, "\nendstream\nendobj\n");
	PDF_OBJ("<< /Title (%s) /Producer (marker_gen) >>", marker && m == 2 ? w : "notes");
#undef PDF_OBJ
	{
		size_t xref = f->data.len;

		buf_printf(&f->data, "xref\n0 %u\n0000000000 65535 f \n", obj + 1);
		for (unsigned i = 1; i <= obj; i++)
			buf_printf(&f->data, "%010zu 00000 n \n", off[i]);
		buf_printf(&f->data,
			   "trailer\n<< /Size %u /Root 1 0 R /Info 6 0 R "
			   ">>\nstartxref\n%zu\n%%%%EOF\n",
			   obj + 1, xref);
	}
	buf_free(&t);
	buf_free(&cs);
	buf_free(&z);
}

/* file_blob - a file of a kind the generator picks, the marker in it or in its name */
static void file_blob(struct gen *g, struct gen_file *f, int marker)
{
	unsigned k, n;
	int in_name = marker && pick(g, 12) == 0;

	g->nodes++;
	k = g->depth >= GEN_DEPTH || g->nodes >= GEN_NODES ? pick(g, 3) : pick(g, 11);
	if (in_name)
		marker = 0;
	switch (k) {
	case 0: /* a text file, ASCII or UTF-16 */
		snprintf(f->name, sizeof(f->name), "file%u.txt", pick(g, 100));
		if (pick(g, 3) == 0) {
			struct buf t;

			buf_init(&t, 256);
			words(g, &t, marker, 10 + pick(g, 20));
			utf16(&f->data, t.data, t.len, 0);
			buf_free(&t);
			if (marker)
				path_add(g, "%s, UTF-16", f->name);
		} else {
			words(g, &f->data, marker, 10 + pick(g, 20));
			if (marker)
				path_add(g, "%s", f->name);
		}
		break;
	case 1:
		snprintf(f->name, sizeof(f->name), "page%u.html", pick(g, 100));
		if (marker)
			path_add(g, "%s", f->name);
		html_text(g, &f->data, marker);
		break;
	case 2:
		pdf_bytes(g, f, marker);
		break;
	case 3:
	case 4:
		office_bytes(g, f, marker);
		break;
	case 5:
		snprintf(f->name, sizeof(f->name), "mail%u.eml", pick(g, 100));
		if (marker)
			path_add(g, "%s", f->name);
		g->depth++;
		message(g, &f->data, marker);
		g->depth--;
		break;
	case 6: { /* gzip of one file */
		struct gen_file in;

		buf_init(&in.data, 256);
		g->depth++;
		file_blob(g, &in, marker);
		g->depth--;
		snprintf(f->name, sizeof(f->name), "%s.gz", in.name);
		if (marker)
			path_add(g, "in %s", f->name);
		gzip_bytes(&in.data, &f->data);
		buf_free(&in.data);
		break;
	}
	default: { /* zip, tar, tar.gz, 7z of a few files */
		static const char *const ext[] = {"zip", "tar", "tgz", "7z"};
		unsigned fmt = pick(g, 4), slot;
		struct gen_file m[3];

		n = 1 + pick(g, 3);
		slot = marker ? pick(g, n) : n;
		snprintf(f->name, sizeof(f->name), "box%u.%s", pick(g, 100), ext[fmt]);
		if (marker)
			path_add(g, "%s %s", ext[fmt], f->name);
		g->depth++;
		for (unsigned i = 0; i < n; i++) {
			buf_init(&m[i].data, 256);
			file_blob(g, &m[i], slot == i);
			if (pick(g, 3) == 0) { /* in a folder */
				char tmp[80];

				snprintf(tmp, sizeof(tmp), "dir%u/%s", i, m[i].name);
				snprintf(m[i].name, sizeof(m[i].name), "%s", tmp);
			}
		}
		g->depth--;
		archive_bytes((int) fmt, m, n, &f->data);
		for (unsigned i = 0; i < n; i++)
			buf_free(&m[i].data);
		break;
	}
	}
	if (in_name) {
		char tmp[80];

		snprintf(tmp, sizeof(tmp), "%s-%s", MARKER_WORD, f->name);
		snprintf(f->name, sizeof(f->name), "%s", tmp);
		path_add(g, "the file name %s", f->name);
	}
}

/* marker_message - a message with the marker at one random spot */
void marker_message(struct marker_rand *r, struct buf *msg, char *path, size_t pathlen)
{
	struct gen g = {.r = r, .path = path, .pathlen = pathlen};

	path[0] = 0;
	message(&g, msg, 1);
}

/* the policy: the marker anywhere a rule can look */
const char marker_policies[] =
	"policies = (\n"
	" { name = \"marker\"; rules = ( { type = \"keyword\"; keywords = [\"" MARKER_WORD
	"\"];\n"
	"   whole_word = false; look_in = [\"all\"]; } ); action = \"block\"; }\n"
	");\n";

/* marker_scan - scan a message: 1 the marker was found, 0 the message is
 * marked unscannable (why says why), -1 the marker was lost */
int marker_scan(const struct det_policyset *ps, const char *msg, size_t len, char *why,
		size_t whylen)
{
	struct det_scan sc;
	int rc;

	if (detector_scan_init(&sc, ps, len, 60000) < 0)
		abort();
	detector_mime_scan(&sc, msg, len);
	rc = sc.hits[0].count > 0 ? 1 : sc.incomplete ? 0 : -1;
	snprintf(why, whylen, "%s", sc.incomplete_why);
	detector_scan_free(&sc);
	return rc;
}
