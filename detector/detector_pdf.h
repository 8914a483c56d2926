/*
 * detector_pdf.h - the PDF reader's own interfaces (not the detector's)
 *
 * detector_pdf.c		the parent's side: the confined reader, its
 *				records to the matcher
 * detector_pdfread.c		the reader: the document's objects through
 *				qpdf, fonts, pages, forms, annotations,
 *				metadata, embedded files
 * detector_pdfcs.c		content streams: the text operators and where
 *				the glyphs land; CMaps; glyph names
 * detector_pdflayout.c		a page's runs of glyphs in the order a
 *				viewer shows them
 * detector_pdfenc.c		generated tables: encodings, the glyph list
 *
 * The reader writes records to its pipe (pdf_rec_*); the parent checks
 * each one before it uses it.
 */
#ifndef DLP_DETECTOR_PDF_H
#define DLP_DETECTOR_PDF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Records from the reader: type, 4-byte length (little-endian), payload. */
#define PDF_REC_TEXT 'T' /* text of the current unit (UTF-8) */
#define PDF_REC_UNIT 'U' /* the current unit ends */
#define PDF_REC_ALT \
	'A'              /* one reading of the current unit ends,
					 * another follows (the best one counts) */
#define PDF_REC_XML  'X' /* XML whose text is to be read (XMP, XFA) */
#define PDF_REC_FILE 'F' /* 2-byte name length, name, the file's bytes */
#define PDF_REC_WHY  'W' /* something could not be read: why */
#define PDF_REC_FAIL 'N' /* the document could not be opened: why */
#define PDF_REC_END  'E' /* the reader got to the end */
#define PDF_REC_HDR  5

/* A CMap: code space ranges and code -> Unicode (or CID) mappings. */
struct pdf_cspace {
	uint32_t lo, hi;
	uint8_t nbytes;
};

struct pdf_cmap_ent {
	uint32_t lo, hi; /* source codes, inclusive */
	uint8_t nbytes;  /* code length */
	uint8_t ndst;    /* code points at dst (last one counts up) */
	uint32_t dst;    /* offset into uni[] */
};

struct pdf_cmap {
	struct pdf_cspace *space;
	size_t nspace;
	struct pdf_cmap_ent *ent;
	size_t nent, capent;
	uint32_t *uni;
	size_t nuni, capuni;
	char usecmap[64]; /* a predefined CMap it builds on */
};

/* CID font widths: [lo, hi] -> w */
struct pdf_wrange {
	uint32_t lo, hi;
	float w;
};

enum pdf_font_kind {
	PDF_FONT_SIMPLE, /* Type1, TrueType, MMType1, Type3 */
	PDF_FONT_TYPE0,  /* composite, CID-keyed */
};

struct pdf_font {
	enum pdf_font_kind kind;
	char name[64];
	struct pdf_cmap *tounicode; /* NULL: none */
	/* composite fonts: the code space, and Unicode codes (UCS2/UTF16 CMaps) */
	struct pdf_cmap *codes; /* an embedded encoding CMap, or NULL */
	int fixed_bytes;        /* Identity and UCS2/UTF16 CMaps: two bytes */
	int unicode_codes;      /* the codes are UTF-16 */
	struct pdf_wrange *w;
	size_t nw;
	float dw;
	/* simple fonts */
	uint32_t map[256]; /* code -> Unicode, 0: unknown */
	float widths[256]; /* glyph space units; < 0: unknown */
	int has_encoding;  /* a base encoding or differences said what codes are */
	double scale;      /* glyph space -> text space (0.001; Type3: FontMatrix) */
	int widths_known;
};

/* A run: glyphs drawn one after another along one baseline, and the text
 * they wrote (a slice of the unit). Device space, turned so that the
 * baseline runs along "along" and lines stack down "perp". */
struct pdf_run {
	float along, end;  /* where it starts and ends along the baseline */
	float perp;        /* its baseline, across */
	float size;        /* font size */
	uint32_t dir;      /* the baseline's angle (1/100 degree), mirrored bit */
	uint32_t off, len; /* its text in the unit */
	uint8_t widths;    /* the glyph widths are known */
};

#define PDF_DIR_MIRRORED 0x10000u

struct pdf_runs {
	struct pdf_run *r;
	size_t n, cap, max; /* max: more are not noted (over) */
	int over;
	int open; /* the last run takes the next glyph */
};

/* The resolver the content-stream interpreter asks for resources. */
struct pdf_cs;
struct pdf_cs_ops {
	struct pdf_font *(*font)(void *ctx, void *res, const char *name);
	void (*xobject)(void *ctx, void *res, const char *name, struct pdf_cs *cs);
};

struct pdf_gstate {
	double ctm[6];
	double tc, tw, th, tl, ts, fs; /* char, word spacing, scale, leading, rise, size */
	struct pdf_font *font;
};

#define PDF_GSTACK 32

struct pdf_cs {
	const struct pdf_cs_ops *ops;
	void *ctx;
	struct buf *out; /* text of the unit */
	size_t out_max;  /* bytes this unit may take */
	int full;        /* out_max reached */
	struct pdf_gstate gs;
	struct pdf_gstate stack[PDF_GSTACK];
	int nstack; /* may exceed PDF_GSTACK: those are not kept */
	double tm[6], tlm[6];
	/* the text rendering matrix, kept while only glyph advances move it */
	int trm_ok;
	double ox, oy, ux, uy, size; /* device origin, baseline unit, font size */
	double adx, ady;             /* device move per unit of text-space advance */
	/* where the last glyph ended, in device space */
	int have_prev;
	double px, py, pux, puy, pfs;
	int last_space; /* the text ends with white space */
	int depth;      /* form XObjects within form XObjects */
	/* what could not be read */
	unsigned long unmapped; /* glyphs with no Unicode value */
	char unmapped_font[64];
	unsigned long glyphs;
	/* the marked-content stack: /ActualText replaces what is drawn */
	int actual_depth; /* > 0: inside ActualText, depth of it */
	int mc_depth;
	/* runs of glyphs for the reading order (NULL: not wanted) */
	struct pdf_runs *runs;
	uint32_t dkey;            /* the baseline direction of the text matrix */
	double dcos, dsin, dsign; /* its unit vector; -1 when mirrored */
	double dux, duy;          /* the baseline unit they were made for */
};

/* detector_pdfcs.c */
void pdf_cs_init(struct pdf_cs *cs, const struct pdf_cs_ops *ops, void *ctx, struct buf *out,
		 size_t out_max);
void pdf_cs_run(struct pdf_cs *cs, void *res, const unsigned char *data, size_t len);
void pdf_cs_save(struct pdf_cs *cs);
void pdf_cs_restore(struct pdf_cs *cs);
void pdf_cs_concat(struct pdf_cs *cs, const double m[6]);
void pdf_cs_break(struct pdf_cs *cs, const char *sep);
void pdf_cs_put(struct pdf_cs *cs, const char *s, size_t n);
int pdf_cmap_parse(struct pdf_cmap *cm, const unsigned char *data, size_t len);
void pdf_cmap_free(struct pdf_cmap *cm);
int pdf_cmap_lookup(const struct pdf_cmap *cm, uint32_t code, int nbytes, uint32_t *out,
		    int max);
void pdf_font_init(struct pdf_font *f);
void pdf_font_free(struct pdf_font *f);
void pdf_font_encoding(struct pdf_font *f, const char *base);
void pdf_font_difference(struct pdf_font *f, int code, const char *glyph);
uint32_t pdf_glyph_unicode(const char *name);
void pdf_utf8_put(struct buf *b, uint32_t cp);
void pdf_js_decode(const char *in, size_t len, struct buf *out, size_t limit);

/* detector_pdflayout.c */
void pdf_runs_reset(struct pdf_runs *rs);
void pdf_runs_free(struct pdf_runs *rs);
struct pdf_run *pdf_run_new(struct pdf_runs *rs);
int pdf_layout(struct pdf_runs *rs, const char *text, size_t len, struct buf *out,
	       size_t limit);

/* detector_pdfenc.c */
struct pdf_glyph_name {
	const char *name;
	uint32_t uni;
};
extern const uint16_t pdf_enc_standard[256], pdf_enc_winansi[256], pdf_enc_macroman[256];
extern const struct pdf_glyph_name pdf_glyph_names[];
extern const size_t pdf_glyph_count;

/* detector_pdfread.c: the reader, in the confined child (and the fuzz harness) */
int pdf_read(const char *data, size_t len, size_t budget, int fd);
int pdf_read_exit(const char *data, size_t len, size_t budget, int fd);

#endif
