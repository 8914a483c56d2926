#!/usr/bin/python3
# pdf_tables.py - write detector/detector_pdfenc.c: the standard PDF text
# encodings and the Adobe Glyph List, as C tables.
#
#   /usr/bin/python3 detector/tools/pdf_tables.py > detector/detector_pdfenc.c
#
# Sources: fontTools (MIT), which carries the Adobe Glyph List 2.0 under
# Adobe's BSD-style licence (reproduced in the output), its StandardEncoding
# and MacRoman glyph-name vectors; WinAnsiEncoding is Windows-1252 as PDF
# 32000-1 Annex D gives it.
from fontTools import agl
from fontTools.encodings.StandardEncoding import StandardEncoding
from fontTools.encodings.MacRoman import MacRoman

text = agl._aglText.splitlines()
lic = []
for l in text:
    if not l.startswith('#') or 'Format:' in l:
        break
    lic.append(l.lstrip('# ').rstrip())
while lic and (not lic[-1] or set(lic[-1]) <= set('-')):
    lic.pop()

names = dict(agl.LEGACY_AGL2UV)
for n, u in agl.AGL2UV.items():
    names.setdefault(n, u)


def first(u):
    return u[0] if isinstance(u, (list, tuple)) else u


def by_name(n):
    if n not in names:
        return 0            # .notdef, control codes
    return first(names[n])


def vector(names_list):
    return [by_name(n) if c >= 32 else 0 for c, n in enumerate(names_list)]


def winansi():
    v = [0] * 256
    for c in range(32, 256):
        if c == 127:
            continue
        try:
            v[c] = ord(bytes([c]).decode('cp1252'))
        except UnicodeDecodeError:
            v[c] = 0
    v[0xad] = 0x2d          # "hyphen" in Annex D
    v[0xa0] = 0x20          # "space" (a second code for it)
    return v


def emit_vector(name, v):
    print('const uint16_t %s[256] = {' % name)
    for i in range(0, 256, 8):
        print('\t' + ', '.join('0x%04x' % x for x in v[i:i + 8]) + ',')
    print('};\n')


print('/*')
print(' * detector_pdfenc - PDF text encodings and the Adobe Glyph List (generated)')
print(' *')
print(' * Written by detector/tools/pdf_tables.py; do not edit. Exports the')
print(' * code -> Unicode vectors of StandardEncoding, WinAnsiEncoding and')
print(' * MacRomanEncoding (PDF 32000-1 Annex D), and pdf_glyph_names[], the')
print(' * Adobe Glyph List sorted by name for a binary search. The glyph list')
print(' * is distributed under this licence:')
print(' *')
for l in lic:
    print(' *\t' + l if l else ' *')
print(' */')
print('#include <stdint.h>\n')
print('#include "detector_pdf.h"\n')
emit_vector('pdf_enc_standard', vector(StandardEncoding))
emit_vector('pdf_enc_winansi', winansi())
emit_vector('pdf_enc_macroman', vector(MacRoman))
items = sorted((n, first(u)) for n, u in names.items())
print('const struct pdf_glyph_name pdf_glyph_names[] = {')
for n, u in items:
    print('\t{"%s", 0x%04x},' % (n, u))
print('};\n')
print('const size_t pdf_glyph_count = sizeof(pdf_glyph_names) / sizeof(pdf_glyph_names[0]);')
