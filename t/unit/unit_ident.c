/*
 * unit_ident - the data identifiers, from the examples in t/unit/ident/
 *
 * Each identifier of detector_ident.c has a file t/unit/ident/NAME.txt
 * (NAME as policies.conf spells it) of examples, one a line:
 *	found: TEXT => SAMPLE		exactly one match, masked as SAMPLE
 *	found: TEXT => S1 | S2 (weak)	two matches, in this order; the
 *					second needs context to count
 *	none: TEXT			no match
 * ("#" lines and blank lines are comments; TEXT may use \t, \n, \\ and
 * \xNN). Each example is looked for as the detector does, for that
 * identifier alone: numbers with detector_ident_scan(), secrets and codes
 * from each of their anchors with detector_ident_anchor(). An identifier
 * without a file, or a file without an identifier, fails: a new
 * identifier comes with its examples, the valid values and the near misses
 * its validator must refuse (unit_valid.c checks the validators alone).
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "detector.h"
#include "tap.h"

#define IDENT_DIR "t/unit/ident"

/* unit_found - collect the samples of one scan */
static void unit_found(void *ctx, const struct det_found *f)
{
	struct buf *b = ctx;

	buf_printf(b, "%s%s%s", b->len ? " | " : "", f->sample, f->weak ? " (weak)" : "");
}

/* unit_anchored - look from every anchor of id in the text, in text order */
static void unit_anchored(enum det_ident id, const char *d, size_t len, struct buf *got)
{
	size_t done[IDENT_COUNT] = {0};
	int caseless;
	const char *const *an = detector_ident_anchors(id, &caseless);

	for (size_t at = 0; an && at < len; at++)
		for (size_t i = 0; an[i]; i++) {
			size_t n = strlen(an[i]);

			if (n <= len - at
			    && (caseless ? strncasecmp(d + at, an[i], n)
					 : strncmp(d + at, an[i], n))
				    == 0)
				detector_ident_anchor(id, d, len, at, at + n, done, unit_found,
						      got);
		}
}

/* unit_unescape - \t \n \r \\ \xNN in an example's text */
static void unit_unescape(const char *in, struct buf *out)
{
	for (; *in; in++) {
		if (*in != '\\' || in[1] == 0) {
			buf_putc(out, *in);
			continue;
		}
		in++;
		if (*in == 'x' && isxdigit((unsigned char) in[1])
		    && isxdigit((unsigned char) in[2])) {
			char hex[3] = {in[1], in[2], 0};

			buf_putc(out, (int) strtol(hex, NULL, 16));
			in += 2;
		} else {
			buf_putc(out,
				 *in == 't'           ? '\t'
					 : *in == 'n' ? '\n'
					 : *in == 'r' ? '\r'
						      : *in);
		}
	}
}

/* unit_example - one line of an examples file */
static void unit_example(enum det_ident id, const char *file, int lineno, char *line)
{
	int want[IDENT_COUNT] = {0};
	struct buf text, got;
	const char *expect = "";
	char *arrow;

	want[id] = 1;
	buf_init(&text, 128);
	buf_init(&got, 64);
	if (strncmp(line, "found: ", 7) == 0 && (arrow = strstr(line, " => ")) != NULL) {
		*arrow = 0;
		expect = arrow + 4;
		unit_unescape(line + 7, &text);
	} else if (strncmp(line, "none: ", 6) == 0) {
		unit_unescape(line + 6, &text);
	} else {
		tap_ok(0, "%s:%d: a line \"found: TEXT => SAMPLE\" or \"none: TEXT\"", file,
		       lineno);
		goto out;
	}
	if (detector_ident_anchors(id, &(int){0}))
		unit_anchored(id, text.data, text.len, &got);
	else
		detector_ident_scan(text.data, text.len, want, 0, unit_found, &got);
	/* named as written in the file: \n stays two characters, TAP one line */
	tap_is_str(got.data, expect, "%s %s: \"%s\"", detector_ident_name(id),
		   *expect ? "finds" : "finds nothing in", line + (*expect ? 7 : 6));
out:
	buf_free(&text);
	buf_free(&got);
}

/* unit_examples - every example of one identifier; how many */
static int unit_examples(enum det_ident id, const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[4096];
	int lineno = 0, n = 0;

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp)) {
		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		if (line[0] == 0 || line[0] == '#')
			continue;
		unit_example(id, path, lineno, line);
		n++;
	}
	fclose(fp);
	return n;
}

int main(void)
{
	char path[512];
	struct dirent *de;
	DIR *dir;

	for (int i = 0; i < IDENT_COUNT; i++) {
		enum det_ident id = (enum det_ident) i, back;
		int n;

		tap_ok(detector_ident_parse(detector_ident_name(id), &back) == 0 && back == id,
		       "identifier %d is called %s", i, detector_ident_name(id));
		snprintf(path, sizeof(path), "%s/%s.txt", IDENT_DIR, detector_ident_name(id));
		n = unit_examples(id, path);
		tap_ok(n >= 4, "%s has examples in %s (%d)", detector_ident_name(id), path, n);
	}
	if ((dir = opendir(IDENT_DIR)) == NULL) {
		tap_ok(0, "%s can be read", IDENT_DIR);
		return tap_done();
	}
	while ((de = readdir(dir)) != NULL) {
		size_t len = strlen(de->d_name);
		enum det_ident id;

		if (len < 5 || strcmp(de->d_name + len - 4, ".txt") != 0)
			continue;
		de->d_name[len - 4] = 0;
		tap_ok(detector_ident_parse(de->d_name, &id) == 0,
		       "%s/%s.txt names an identifier", IDENT_DIR, de->d_name);
	}
	closedir(dir);
	return tap_done();
}
