#!/usr/bin/python3
# mkentities.py - writes detector_entities.h, the HTML5 named character
# references (from Python's html.entities, which follows the WHATWG list),
# sorted for bsearch(). Run: python3 detector/mkentities.py > detector/detector_entities.h
import html.entities

names = {}
for name, text in html.entities.html5.items():
    legacy = not name.endswith(';')
    base = name.rstrip(';')
    cps = [ord(c) for c in text] + [0]
    old = names.get(base)
    names[base] = (cps[0], cps[1], legacy or (old is not None and old[2]))
print("/*")
print(" * detector_entities - HTML5 named character references, sorted by name")
print(" *")
print(" * Made by detector/mkentities.py from the WHATWG list; do not edit.")
print(" * legacy: the browser also reads the name without its ';'.")
print(" */")
print("static const struct html_entity {")
print("\tconst char *name;")
print("\tunsigned cp1, cp2;")
print("\tint legacy;")
print("} html_entities[] = {")
for base in sorted(names, key=lambda s: s.encode()):
    c1, c2, leg = names[base]
    print('\t{"%s", 0x%x, 0x%x, %d},' % (base, c1, c2, 1 if leg else 0))
print("};")
