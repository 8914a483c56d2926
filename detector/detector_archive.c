/*
 * detector_archive - archives and Office documents, through libarchive
 *
 * detector_archive_scan() opens an attachment that sniffed as an archive
 * (zip, 7z, rar, tar, gzip, bzip2, xz) from memory and scans each member:
 * its name (attachment_name) and its content, the way a part's content is
 * scanned (text, HTML, nested archives one level deeper, raw bytes).
 * Office Open XML (docx, xlsx, pptx) and OpenDocument files are zip
 * archives too: their XML members are turned into the text a reader sees
 * (paragraphs, cells, slides), and the attachment's type becomes "docx",
 * "xlsx", "pptx" or "odf" for attachment rules.
 *
 * Bounds: each member counts against detector_part_limit, its bytes
 * against detector_decoded_size_limit (a zip bomb stops there), nesting
 * against detector_depth_limit, and the scan deadline is checked between
 * reads. Encrypted members and broken archives cannot be read: the message
 * is marked as not completely scanned (unscannable_action).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <archive.h>
#include <archive_entry.h>

#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "detector.h"

#define ARCHIVE_CHUNK	65536

/* ends_with - does s end with suffix (case-insensitive)? */
static int ends_with(const char *s, const char *suffix)
{
	size_t  a = strlen(s), b = strlen(suffix);

	return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* office_kind - "docx", "xlsx", "pptx", "odf" from a member name, or NULL */
static const char *office_kind(const char *name)
{
	if (strncmp(name, "word/", 5) == 0)
		return "docx";
	if (strncmp(name, "xl/", 3) == 0)
		return "xlsx";
	if (strncmp(name, "ppt/", 4) == 0)
		return "pptx";
	if (strcmp(name, "content.xml") == 0)
		return "odf";
	return NULL;
}

/* read_member - a member's bytes, up to the decoded budget; -1 on error */
static int read_member(struct det_scan *sc, struct archive *a, struct archive_entry *ent,
		       struct buf *out)
{
	size_t  lim = (size_t) var_detector_decoded_size_limit;
	size_t  left = sc->decoded >= lim ? 0 : lim - sc->decoded;

	buf_reset(out);
	/* the announced size, as far as the budget goes: no growing copies */
	if (archive_entry_size_is_set(ent) && archive_entry_size(ent) > 0)
		buf_reserve(out, ((size_t) archive_entry_size(ent) < left
				  ? (size_t) archive_entry_size(ent) : left) + 1);
	for (;;) {
		ssize_t n;
		size_t  want = left - out->len < ARCHIVE_CHUNK ? left - out->len : ARCHIVE_CHUNK;

		if (want == 0) {
			detector_scan_limit(sc, "decoded size");
			break;
		}
		buf_reserve(out, want + 1);
		n = archive_read_data(a, out->data + out->len, want);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		out->len += (size_t) n;
		if (detector_scan_expired(sc))
			break;
	}
	out->data[out->len] = 0;
	sc->decoded += out->len;
	return 0;
}

/* detector_archive_scan - scan every member of an archive in memory */
void    detector_archive_scan(struct det_scan *sc, const char *data, size_t len,
			      int depth, const char *type)
{
	struct archive *a;
	struct archive_entry *ent;
	struct buf member, text;
	size_t  att_at = sc->natt;
	const char *office = NULL;
	int     rc;

	if (depth > var_detector_depth_limit) {
		detector_scan_limit(sc, "depth");
		return;
	}
	if ((a = archive_read_new()) == NULL)
		return;
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	if (strcmp(type, "gzip") == 0 || strcmp(type, "bzip2") == 0 || strcmp(type, "xz") == 0)
		archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		detector_scan_limit(sc, "unreadable archive");
		archive_read_free(a);
		return;
	}
	buf_init(&member, ARCHIVE_CHUNK);
	buf_init(&text, 1024);
	while ((rc = archive_read_next_header(a, &ent)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname_utf8(ent);
		const char *kind, *sniffed;

		if (name == NULL)
			name = archive_entry_pathname(ent);
		if (name == NULL)
			name = "";
		if (detector_scan_expired(sc))
			break;
		if (++sc->parts > (unsigned) var_detector_part_limit) {
			detector_scan_limit(sc, "parts");
			break;
		}
		if (archive_entry_filetype(ent) != AE_IFREG)
			continue;
		if (archive_entry_is_encrypted(ent)) {
			detector_note_attachment(sc, name, "encrypted");
			detector_scan_limit(sc, "encrypted archive");
			continue;
		}
		if (read_member(sc, a, ent, &member) < 0) {
			detector_scan_limit(sc, "broken archive");
			break;
		}
		if ((kind = office_kind(name)) != NULL
		    && (office == NULL || strcmp(office, "office") == 0))
			office = kind;
		if (strcmp(name, "[Content_Types].xml") == 0 || strcmp(name, "mimetype") == 0)
			office = office ? office : "office";
		sniffed = member.len ? detector_sniff(member.data, member.len) : "empty";
		if ((office || kind) && ends_with(name, ".xml")) {
			/* Office XML: the document's text, not its markup */
			buf_reset(&text);
			detector_xml_to_text(member.data, member.len, &text, member.len + 16);
			detector_scan_unit(sc, DET_W_ATTACH, NULL, text.data, text.len);
			continue;
		}
		if (office || ends_with(name, ".rels"))
			continue;		/* the document's own media and parts */
		detector_note_attachment(sc, name, sniffed);
		detector_content_scan(sc, member.data, member.len, "application/octet-stream",
				      NULL, DET_W_ATTACH, depth, sniffed);
	}
	if (rc != ARCHIVE_EOF && rc != ARCHIVE_OK && rc != ARCHIVE_WARN && !sc->timed_out)
		detector_scan_limit(sc, "broken archive");
	/* a zip that is really an Office document says so to attachment rules */
	if (office && att_at > 0 && strcmp(sc->att[att_at - 1].type, "zip") == 0)
		snprintf(sc->att[att_at - 1].type, sizeof(sc->att[0].type), "%s",
			 strcmp(office, "office") == 0 ? "zip" : office);
	buf_free(&member);
	buf_free(&text);
	archive_read_free(a);
}
