# t/unit/build.mk - C unit tests of the pure functions (t/02-unit.t runs them)
#
# A unit test is t/unit/unit_NAME.c: one program that prints TAP with
# tap.h. To add one, add t/unit/unit-NAME to UNIT_TARGETS and list in
# UNIT_SRC_unit-NAME the sources it links, leaving out a .c that it
# #includes to reach static functions; UNIT_LIBS_unit-NAME and
# UNIT_WRAP_unit-NAME as for the fuzz harnesses (see the Makefile). They
# are built by gcc with ASan and UBSan (make unit) and take seconds.

# the data identifiers, from the examples in t/unit/ident/NAME.txt
UNIT_TARGETS += t/unit/unit-ident
UNIT_SRC_unit-ident = $(DETECT_LIB_SRC) $(COMMON_SRC)
UNIT_LIBS_unit-ident = $(DETECT_LIBS)

# the validators of the data identifiers: examples, check-digit properties
UNIT_TARGETS += t/unit/unit-valid
UNIT_SRC_unit-valid = $(DETECT_LIB_SRC) $(COMMON_SRC)
UNIT_LIBS_unit-valid = $(DETECT_LIBS)

# the parameter table, the text forms of values, the checks
UNIT_TARGETS += t/unit/unit-conf
UNIT_SRC_unit-conf = $(COMMON_SRC)

# replacing a file: content, mode, links, leftovers
UNIT_TARGETS += t/unit/unit-file_replace
UNIT_SRC_unit-file_replace = common/file_replace.c

# MIME header fields and the decoders behind them (includes detector_mime.c)
UNIT_TARGETS += t/unit/unit-mime
UNIT_SRC_unit-mime = $(filter-out detector/detector_mime.c,$(DETECT_LIB_SRC)) $(COMMON_SRC)
UNIT_LIBS_unit-mime = $(DETECT_LIBS)

# PROXY protocol headers, v1 and v2
UNIT_TARGETS += t/unit/unit-haproxy
UNIT_SRC_unit-haproxy = smtpd-proxy/proxy_haproxy.c

# DNS answers as the next-hop lookup reads them (includes proxy_dns.c)
UNIT_TARGETS += t/unit/unit-dns
UNIT_SRC_unit-dns = $(COMMON_SRC)

# SMTP as smtpd-proxy parses it: replies, commands, paths, parameters, xtext
# (includes the proxy's files with static parsers, as the fuzz harnesses do)
UNIT_TARGETS += t/unit/unit-smtp
UNIT_SRC_unit-smtp = $(filter-out smtpd-proxy/proxy_xforward.c,$(PROXY_FUZZ_SRC))

# the scan invariant as a property: a marker in random container trees
# (detector/fuzz/marker_gen.c, shared with the fuzz-marker harness)
UNIT_TARGETS += t/unit/unit-marker
UNIT_SRC_unit-marker = $(DETECT_LIB_SRC) $(COMMON_SRC) detector/fuzz/marker_gen.c
UNIT_LIBS_unit-marker = $(DETECT_LIBS)

# spreadsheets as rows of cells: shared strings, gaps, padding, quotes
UNIT_TARGETS += t/unit/unit-sheet
UNIT_SRC_unit-sheet = $(DETECT_LIB_SRC) $(COMMON_SRC)
UNIT_LIBS_unit-sheet = $(DETECT_LIBS)

# buffered line I/O over socketpairs: spare streams start clean, timeouts
UNIT_TARGETS += t/unit/unit-stream
UNIT_SRC_unit-stream = $(COMMON_SRC)
