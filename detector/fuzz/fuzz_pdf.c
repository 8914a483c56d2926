/*
 * fuzz_pdf - libFuzzer harness for the PDF reader
 *
 * An input that starts with "%PDF" is a whole document: it goes through
 * pdf_read() in this process (qpdf, fonts, pages, forms, annotations,
 * metadata, embedded files), with its records written to /dev/null. An
 * input that starts with "JS:" is JavaScript for pdf_js_decode(). Any
 * other input is "CMap<NUL>content stream": the CMap is parsed and the
 * content stream is interpreted with a composite font that uses it and a
 * simple font with an encoding, so the text code is reached without
 * qpdf's parser in front of it; its runs of glyphs are then put in
 * reading order (pdf_layout). Build and run with `make fuzz` (clang,
 * ASan, UBSan); seeds are in detector/fuzz/seeds-pdf.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "detector_pdf.h"

static int fuzz_null = -1;
static struct pdf_font fuzz_type0, fuzz_simple;

/* fuzz_font - Tf: F1 is the composite font, anything else the simple one */
static struct pdf_font *fuzz_font(void *ctx, void *res, const char *name)
{
	(void) ctx;
	(void) res;
	return strcmp(name, "F1") == 0 ? &fuzz_type0 : &fuzz_simple;
}

/* fuzz_xobject - Do: the same stream again, as a form, two levels deep */
static void fuzz_xobject(void *ctx, void *res, const char *name, struct pdf_cs *cs)
{
	const struct buf *content = ctx;
	static const double m[6] = {1, 0, 0, 1, 10, 10};

	(void) name;
	if (cs->depth >= 2)
		return;
	cs->depth++;
	pdf_cs_save(cs);
	pdf_cs_concat(cs, m);
	pdf_cs_run(cs, res, (const unsigned char *) content->data, content->len);
	pdf_cs_restore(cs);
	cs->depth--;
}

static const struct pdf_cs_ops fuzz_ops = {
	.font = fuzz_font,
	.xobject = fuzz_xobject,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul;
	struct pdf_cmap *cm;
	struct buf out, content;
	struct pdf_cs cs;
	struct pdf_runs runs = {.max = 4096};
	struct buf shown;

	if (fuzz_null < 0)
		fuzz_null = open("/dev/null", O_WRONLY);
	if (size >= 4 && memcmp(data, "%PDF", 4) == 0) {
		(void) pdf_read((const char *) data, size, 1 << 20, fuzz_null);
		return 0;
	}
	if (size >= 3 && memcmp(data, "JS:", 3) == 0) {
		buf_init(&out, 1024);
		pdf_js_decode((const char *) data + 3, size - 3, &out, size - 3);
		if (out.len > size - 3)
			abort(); /* the limit holds */
		buf_free(&out);
		return 0;
	}
	nul = memchr(data, 0, size);
	cm = calloc(1, sizeof(*cm));
	(void) pdf_cmap_parse(cm, data, nul ? (size_t) (nul - data) : 0);
	pdf_font_init(&fuzz_type0);
	fuzz_type0.kind = PDF_FONT_TYPE0;
	fuzz_type0.tounicode = cm;
	fuzz_type0.widths_known = 1;
	pdf_font_init(&fuzz_simple);
	pdf_font_encoding(&fuzz_simple, "WinAnsiEncoding");
	pdf_font_difference(&fuzz_simple, 65, "uni0041");
	pdf_font_difference(&fuzz_simple, 66, "f_f");
	content.data = (char *) (nul ? nul + 1 : data);
	content.len = nul ? size - (size_t) (nul + 1 - data) : size;
	buf_init(&out, 1024);
	pdf_cs_init(&cs, &fuzz_ops, &content, &out, 1 << 20);
	cs.runs = &runs;
	pdf_cs_run(&cs, NULL, (const unsigned char *) content.data, content.len);
	buf_init(&shown, out.len + 16);
	(void) pdf_layout(&runs, out.data, out.len, &shown, 2 * out.len + 16);
	if (shown.len > 2 * out.len + 16)
		abort(); /* the limit holds */
	buf_free(&shown);
	pdf_runs_free(&runs);
	buf_free(&out);
	pdf_font_free(&fuzz_type0);
	return 0;
}
