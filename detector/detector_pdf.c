/*
 * detector_pdf - the text of PDF documents, read by a confined reader
 *
 * detector_pdf_scan() hands a PDF to a reader in a child process
 * (common/confine.c: address-space and CPU limits, a deadline, a cap on
 * its output, a seccomp filter) and scans what the reader sends back:
 *
 *	page text	each page is one text unit, read in stream order and
 *			in the order a viewer shows it (the better counts)
 *	annotations	/Contents, rich text, appearance streams of
 *			annotations other than form widgets
 *	forms		AcroForm field values (/V), XFA data
 *	metadata	the Info dictionary's strings, XMP
 *	outlines	bookmark titles
 *	JavaScript	the scripts of the document, its pages, annotations
 *			and form fields (named, on opening, every trigger),
 *			as written and with their strings decoded
 *	embedded files	EmbeddedFiles and file attachment annotations: each
 *			is scanned like an attachment of that type
 *			(detector_content_scan), one level deeper
 *
 * The reader (detector_pdfread.c) opens the document with qpdf (libqpdf):
 * cross-reference tables and streams, object streams, damaged files
 * rebuilt the way viewers do, every standard filter, and encryption (RC4,
 * AES-128, AES-256; the empty user password, as a viewer opens such a
 * file without asking). Fonts and content streams are ours: see
 * detector_pdfcs.c.
 *
 * What cannot be read marks the message unscannable with a reason that
 * names the document: a password, damage beyond repair, a reader killed
 * by its limits (time, memory, output), a content stream that does not
 * decode, text in a font with no Unicode map, a loop in the object
 * graph. Whatever the reader sent before it failed is still scanned, and
 * so are the document's raw bytes when the reader got nowhere.
 *
 * The reader's records (detector_pdf.h) are hostile input to the parent:
 * each length is checked against what is left before it is used.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "conf_params.h"
#include "confine.h"
#include "mem.h"
#include "detector.h"
#include "detector_pdf.h"

#define PDF_WHY_MAX 200

/* ---- the parent: confine the reader, scan what it sends --------------- */

struct pdf_job {
	const char *data;
	size_t len, budget;
};

/* pdf_child - the confined reader's entry point */
static int pdf_child(int fd, void *arg)
{
	const struct pdf_job *job = arg;

	return pdf_read_exit(job->data, job->len, job->budget, fd);
}

/* doc_name - the attachment's name, for reasons */
static const char *doc_name(const struct det_scan *sc)
{
	const struct det_attach *a;

	if (sc->natt == 0 || sc->att == NULL)
		return NULL;
	a = &sc->att[sc->natt - 1];
	return strcmp(a->type, "pdf") == 0 && a->name[0] ? a->name : NULL;
}

/* scan_file - an embedded file: its name, then its content by type */
static void scan_file(struct det_scan *sc, const unsigned char *p, size_t len, int depth,
		      unsigned where, const char *doc)
{
	char name[260];
	size_t nlen;
	const char *sniffed;

	if (len < 2 || (nlen = (size_t) p[0] | (size_t) p[1] << 8) > len - 2 || nlen > 255)
		return;
	memcpy(name, p + 2, nlen);
	name[nlen] = 0;
	for (char *c = name; *c; c++)
		if ((unsigned char) *c < 0x20)
			*c = '?';
	p += 2 + nlen;
	len -= 2 + nlen;
	if (++sc->parts > (unsigned) var_detector_part_limit) {
		detector_scan_limit(sc, "parts");
		return;
	}
	sc->decoded += len;
	sniffed = len ? detector_sniff((const char *) p, len) : "empty";
	detector_note_attachment(sc, name, sniffed);
	if (depth + 1 > var_detector_depth_limit) {
		detector_unscannable(sc, "depth (file %s in pdf %s)", name, doc ? doc : "");
		return;
	}
	detector_content_scan(sc, (const char *) p, len, "application/octet-stream", NULL,
			      where, depth + 1, sniffed);
}

/* pdf_records - scan what the reader sent; 1 if it got to the end */
static int pdf_records(struct det_scan *sc, const struct buf *out, unsigned where, int depth,
		       const char *doc, int *failed)
{
	const unsigned char *p = (const unsigned char *) out->data;
	size_t left = out->len, text = 0;
	struct buf unit, xml;
	struct det_readings r;
	int end = 0, readings = 0;

	buf_init(&unit, 4096);
	buf_init(&xml, 1024);
	while (left >= PDF_REC_HDR && !end) {
		size_t n = (size_t) p[1] | (size_t) p[2] << 8 | (size_t) p[3] << 16
			| (size_t) p[4] << 24;
		int type = p[0];
		const unsigned char *d = p + PDF_REC_HDR;
		char reason[PDF_WHY_MAX + 1];

		if (n > left - PDF_REC_HDR)
			break; /* cut short: the reader was stopped */
		p += PDF_REC_HDR + n;
		left -= PDF_REC_HDR + n;
		switch (type) {
		case PDF_REC_TEXT:
			buf_append(&unit, d, n);
			text += n;
			break;
		case PDF_REC_ALT: /* one reading of the unit; another follows */
			if (!readings)
				detector_readings_begin(sc, &r);
			readings = 1;
			detector_scan_unit(sc, where, NULL, unit.data, unit.len);
			detector_readings_next(&r);
			buf_reset(&unit);
			break;
		case PDF_REC_UNIT:
			detector_scan_unit(sc, where, NULL, unit.data, unit.len);
			if (readings)
				detector_readings_end(&r);
			readings = 0;
			buf_reset(&unit);
			break;
		case PDF_REC_XML:
			buf_reset(&xml);
			detector_xml_to_text((const char *) d, n, &xml, n + 16);
			detector_scan_unit(sc, where, NULL, xml.data, xml.len);
			text += n;
			break;
		case PDF_REC_FILE:
			scan_file(sc, d, n, depth, where, doc);
			break;
		case PDF_REC_FAIL:
			*failed = 1;
			/* FALLTHROUGH */
		case PDF_REC_WHY:
			n = n < PDF_WHY_MAX ? n : PDF_WHY_MAX;
			memcpy(reason, d, n);
			reason[n] = 0;
			if (strcmp(reason, "decoded size") == 0)
				detector_scan_limit(sc, "decoded size");
			else
				detector_unscannable(sc, "pdf%s%s %s", doc ? " " : "",
						     doc ? doc : "", reason);
			break;
		case PDF_REC_END:
			end = 1;
			break;
		default:
			left = 0; /* not ours: stop reading */
			break;
		}
	}
	if (unit.len)
		detector_scan_unit(sc, where, NULL, unit.data, unit.len);
	if (readings)
		detector_readings_end(&r);
	sc->decoded += text;
	buf_free(&unit);
	buf_free(&xml);
	return end;
}

/* ms_left - milliseconds to the scan deadline */
static long long ms_left(const struct det_scan *sc)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long) (sc->deadline.tv_sec - now.tv_sec) * 1000
		+ (sc->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

/* detector_pdf_scan - the text of a PDF, read by a confined reader */
void detector_pdf_scan(struct det_scan *sc, const char *data, size_t len, unsigned where,
		       int depth)
{
	size_t lim = (size_t) var_detector_decoded_size_limit;
	struct pdf_job job = {.data = data, .len = len};
	struct confine_limits cl;
	struct confine_result res;
	const char *doc = doc_name(sc);
	char how[96];
	struct buf out;
	long long ms = ms_left(sc);
	int failed = 0;

	if (detector_scan_expired(sc))
		return;
	job.budget = sc->decoded >= lim ? 0 : lim - sc->decoded;
	if (job.budget == 0) {
		detector_scan_limit(sc, "decoded size");
		return;
	}
	memset(&cl, 0, sizeof(cl));
	cl.memory = (size_t) var_detector_reader_memory_limit;
	cl.timeout_ms = (int) (ms < var_detector_reader_time_limit * 1000LL
				       ? ms
				       : var_detector_reader_time_limit * 1000LL);
	cl.cpu = cl.timeout_ms / 1000 + 1;
	cl.output = job.budget + (1 << 20);
	buf_init(&out, 65536);
	confine_run(&cl, pdf_child, &job, &out, &res);
	if (!pdf_records(sc, &out, where, depth, doc, &failed) || res.status != CONFINE_OK) {
		confine_describe(&res, how, sizeof(how));
		if (res.status == CONFINE_TIMEOUT
		    && ms <= var_detector_reader_time_limit * 1000LL)
			(void) detector_scan_expired(sc);
		detector_unscannable(sc, "unreadable pdf%s%s (%s)", doc ? " " : "",
				     doc ? doc : "",
				     res.status == CONFINE_OK ? "reader ended early" : how);
		failed |= out.len == 0;
	}
	/* not opened at all: what its bytes say in clear is all there is */
	if (failed)
		detector_scan_unit(sc, where, NULL, data, len);
	buf_free(&out);
}
