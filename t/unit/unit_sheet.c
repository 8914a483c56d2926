/*
 * unit_sheet - spreadsheets as rows of cells (detector_sheet.c)
 *
 * Shared strings resolved into their cells and never shown as indices;
 * cells in the columns their references name, empty fields for gaps;
 * rows padded to one width from the first row of two fields on; quotes
 * quoted; numbers, booleans, inline strings and formulas as a person
 * reads them; hostile references, indices and repeats within bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "detector.h"

#include "tap.h"

/* sheet - the text of a worksheet's sheetData over a table of strings */
static const char *sheet(struct det_sst *sst, const char *rows)
{
	static char out[4096];
	struct buf in, b;

	buf_init(&in, 256);
	buf_init(&b, 256);
	buf_printf(&in, "<worksheet><sheetData>%s</sheetData></worksheet>", rows);
	detector_xlsx_sheet(in.data, in.len, sst, &b, 1 << 20);
	snprintf(out, sizeof(out), "%s", b.data);
	buf_free(&in);
	buf_free(&b);
	return out;
}

/* unused - the strings of a table no cell showed */
static const char *unused(const struct det_sst *sst)
{
	static char out[1024];
	struct buf b;

	buf_init(&b, 64);
	detector_sst_unused(sst, &b);
	snprintf(out, sizeof(out), "%s", b.data);
	buf_free(&b);
	return out;
}

/* xml - detector_office_xml() over a part */
static const char *xml(const char *part)
{
	static char out[2048];
	struct buf b;

	buf_init(&b, 64);
	detector_office_xml(part, strlen(part), &b, strlen(part) * 4 + 64);
	snprintf(out, sizeof(out), "%s", b.data);
	buf_free(&b);
	return out;
}

/* finish - detector_grid_finish() over a text */
static const char *finish(const char *text, size_t from)
{
	static char out[1024];
	struct buf b;

	buf_init(&b, 64);
	buf_puts(&b, text);
	detector_grid_finish(&b, from, 1 << 20);
	snprintf(out, sizeof(out), "%s", b.data);
	buf_free(&b);
	return out;
}

int main(void)
{
	static const char sst_xml[] =
		"<?xml version=\"1.0\"?><sst count=\"6\">"
		"<si><t>Name</t></si><si><t xml:space=\"preserve\">BSN</t></si>"
		"<si><r><rPr><b/></rPr><t>Ci</t></r><r><t>ty</t></r></si>"
		"<si><t>Anna &amp; Bram</t></si><si><t>two\nlines\tand a tab</t></si>"
		"<si><t>never shown</t></si><si/><si><t>say \"hi\"</t></si></sst>";
	struct det_sst sst, big;
	struct buf b;
	size_t n;

	n = detector_sst_load(&sst, sst_xml, sizeof(sst_xml) - 1);
	tap_is_int((long) n, (long) sizeof(sst_xml) - 1, "the whole table is read");
	tap_is_int((long) sst.n, 8, "eight strings, the empty one too");
	tap_is_str(
		sheet(&sst,
		      "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\">"
		      "<v>1</v></c><c r=\"C1\" t=\"s\"><v>2</v></c></row>"
		      "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>3</v></c><c "
		      "r=\"B2\"><v>123456782</v></c>"
		      "<c r=\"C2\" t=\"s\"><v>4</v></c></row>"),
		"Name\tBSN\tCity\nAnna & Bram\t123456782\ttwo lines and a tab\n",
		"shared strings in their cells, rich runs joined, breaks and tabs as spaces");
	tap_is_str(unused(&sst), "never shown\nsay \"hi\"\n", "strings no cell showed");
	tap_is_str(sheet(&sst,
			 "<row><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"D1\" "
			 "t=\"s\"><v>1</v></c></row>"
			 "<row><c r=\"B2\"><v>7</v></c></row>"),
		   "Name\t\t\tBSN\n\t7\t\t\n",
		   "gaps are empty fields; rows padded to the widest");
	tap_is_str(sheet(&sst,
			 "<row><c r=\"A1\" t=\"s\"><v>0</v></c></row>"
			 "<row><c r=\"A2\"><v>1</v></c><c r=\"B2\"><v>2</v></c></row>"
			 "<row><c r=\"A3\"><v>3</v></c><c r=\"B3\"><v>4</v></c><c "
			 "r=\"C3\"><v>5</v></c></row>"),
		   "Name\n1\t2\t\n3\t4\t5\n",
		   "a title row stays; a row before the widest is squared up");
	tap_is_str(sheet(&sst, "<row><c t=\"s\"><v>0</v></c><c t=\"s\"><v>7</v></c></row>"),
		   "Name\t\"say \"\"hi\"\"\"\n",
		   "no references: one after another; quotes quoted");
	tap_is_str(sheet(&sst,
			 "<row><c t=\"s\"><v>99</v></c><c t=\"s\"><v>-1</v></c>"
			 "<c t=\"s\"><v>x</v></c><c r=\"B1\" "
			 "t=\"s\"><v>99999999999999999999</v></c>"
			 "<c r=\"C1\"><v>5</v></c></row>"),
		   "\t\t5\n", "indices out of the table show nothing, never an index");
	tap_is_str(sheet(&sst,
			 "<row><c t=\"b\"><v>1</v></c><c t=\"b\"><v>0</v></c><c><v>0.25</v></c>"
			 "<c><v>1.5E+20</v></c><c><v>4111111111111111</v></"
			 "c><c><v>3.0000000000000004</v></c>"
			 "<c t=\"str\"><f>A1&amp;B1</f><v>a&lt;b</v></c><c "
			 "t=\"e\"><v>#DIV/0!</v></c>"
			 "<c "
			 "t=\"inlineStr\"><is><r><t>fal</t></r><r><t>con</t></r><rPh><t>x</t></"
			 "rPh></is></c>"
			 "<c><v>12abc</v></c></row>"),
		   "TRUE\tFALSE\t0.25\t1.5E+20\t4111111111111111\t3\ta<b\t#DIV/0!\tfalcon "
		   "x\t12abc\nA1&B1\n",
		   "booleans, numbers as shown, text results, errors, inline strings; formulas "
		   "after");
	tap_is_str(sheet(NULL, "<row><c t=\"s\"><v>0</v></c><c><v>5</v></c></row>"), "\t5\n",
		   "no table: shared-string cells show nothing");
	tap_is_str(sheet(&sst, "<x:row><x:c r=\"B1\" t=\"s\"><x:v>1</x:v></x:c></x:row>"),
		   "\tBSN\n", "prefixed names");
	{
		const char *t = sheet(
			&sst,
			"<row><c r=\"A1\"><v>1</v></c><c r=\"ZZZZZZZ1\"><v>2</v></c></row>");

		tap_ok(strlen(t) < 200 && strstr(t, "1\t") == t && strstr(t, "\t2\n") != NULL,
		       "a reference past the last column: gaps within the budget, no more");
	}
	tap_is_str(sheet(&sst, "<row><c t=\"s\"><v>0</v></c><!-- note --><c><v>1</v>"),
		   "Name\t1\n", "cut short: what there is");
	tap_is_str(sheet(&sst,
			 "<row><c t=\"s\"><v>1</v></c></row>stray<row><c><v>2</v></c></row>"),
		   "BSN\n2\nstray\n", "text out of place follows the grid");
	/* the table is bounded */
	buf_init(&b, 1024);
	buf_puts(&b, "<sst>");
	for (int i = 0; i < 3; i++)
		buf_puts(&b, "<si><t>a</t></si>");
	buf_puts(&b, "</sst>");
	n = detector_sst_load(&big, b.data, b.len);
	tap_is_int((long) big.n, 3, "three strings");
	detector_sst_free(&big);
	buf_free(&b);
	/* tables of OpenDocument and Word documents */
	tap_is_str(
		xml("<table:table table:name=\"S\"><table:table-row>"
		    "<table:table-cell "
		    "office:value-type=\"string\"><text:p>Name</text:p></table:table-cell>"
		    "<table:table-cell><text:p>BSN</text:p></table:table-cell>"
		    "<table:table-cell "
		    "table:number-columns-repeated=\"1020\"/></table:table-row>"
		    "<table:table-row><table:table-cell><text:p>a</text:p><text:p>b</text:p></"
		    "table:table-cell>"
		    "<table:table-cell office:value-type=\"float\" office:value=\"123456782\">"
		    "<text:p>123456782</text:p></table:table-cell></table:table-row>"
		    "<table:table-row table:number-rows-repeated=\"1000\"><table:table-cell "
		    "table:number-columns-repeated=\"3\"/></table:table-row>"
		    "<table:table-row><table:table-cell table:number-columns-repeated=\"2\">"
		    "<text:p>x</text:p></table:table-cell><table:table-cell/>"
		    "<table:table-cell office:value=\"7\" table:formula=\"of:=[.A1]\"/>"
		    "</table:table-row></table:table>"),
		" S \nName\tBSN\t\t\na b\t123456782\t\t\nx\tx\t\t7\nof:=[.A1]\n",
		"ODS: a row a line, paragraphs in a cell a space, the value only when not "
		"shown, "
		"repeats, trailing empties left out, formulas after");
	tap_is_str(xml("<w:body><w:p><w:r><w:t>Before</w:t></w:r></w:p><w:tbl><w:tr>"
		       "<w:tc><w:p><w:r><w:t>SSN</w:t></w:r></w:p></w:tc>"
		       "<w:tc><w:tcPr><w:gridSpan "
		       "w:val=\"2\"/></w:tcPr><w:p><w:r><w:t>Name</w:t></w:r></w:p>"
		       "<w:p><w:r><w:t>of "
		       "person</w:t></w:r></w:p></w:tc><w:tc><w:p/></w:tc></w:tr>"
		       "<w:tr><w:tc><w:p><w:r><w:t>123</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r>"
		       "<w:t>Ann</w:t><w:tab/><w:t>B</w:t></w:r></w:p></w:tc><w:tc/"
		       "><w:tc><w:p><w:r><w:t>z</w:t>"
		       "</w:r></w:p></w:tc></w:tr></w:tbl><w:p><w:r><w:t>After</w:t></w:r></"
		       "w:p></w:body>"),
		   "Before\nSSN\tName of person\t\t\n123\tAnn B\t\tz\nAfter\n",
		   "docx: cells of a row on a line, merged cells leave their columns empty");
	tap_is_str(
		xml("<table:table><table:table-row><table:table-cell><table:table>"
		    "<table:table-row><table:table-cell><text:p>in</text:p></table:table-cell>"
		    "<table:table-cell><text:p>ner</text:p></table:table-cell></"
		    "table:table-row>"
		    "</table:table></table:table-cell><table:table-cell><text:p>out</text:p>"
		    "</table:table-cell></table:table-row></table:table>"),
		"in ner\tout\n", "a table in a cell is that cell's text");
	{
		const char *part =
			"<table:table><table:table-row><table:table-cell "
			"table:number-columns-repeated=\"99999999\"><text:p>x</text:p>";
		const char *t = xml(part);

		tap_ok(strncmp(t, "x\tx\tx\t", 6) == 0 && strlen(t) <= strlen(part) * 4 + 64,
		       "a cell repeated 99,999,999 times, cut short: repeats within the limit");
	}
	/* the generic finish, for the other readers */
	tap_is_str(finish("Title\na\tb\n\"q\tc\td\n", 0), "Title\na\tb\t\n\"\"\"q\"\tc\td\n",
		   "title kept, rows padded, a field with a quote quoted");
	tap_is_str(finish("x\ny\n", 0), "x\ny\n", "one column: nothing to do");
	detector_sst_free(&sst);
	return tap_done();
}
