# detector/build.mk - the detector and dlpscan
#
# Hyperscan (one multi-pattern database for every keyword and regex of
# every policy) and libarchive (zip, docx/xlsx/pptx, 7z, tar...) come from
# Debian; ripgrep is the reference tool of the scan benchmark.
DETECT_LIB_SRC = detector/detector_policy.c detector/detector_match.c \
	detector/detector_ident.c detector/detector_valid.c detector/detector_secret.c \
	detector/detector_context.c \
	detector/detector_mime.c detector/detector_text.c detector/detector_fold.c \
	detector/detector_vobject.c detector/detector_htmlvis.c \
	detector/detector_archive.c detector/detector_confine.c detector/detector_office.c \
	detector/detector_sheet.c \
	detector/detector_ole.c \
	detector/detector_legacy.c detector/detector_msg.c detector/detector_rtf.c \
	detector/detector_tnef.c detector/detector_mac.c \
	detector/detector_pdf.c detector/detector_pdfread.c detector/detector_pdfcs.c \
	detector/detector_pdflayout.c \
	detector/detector_pdfenc.c \
	detector/detector_verdict.c \
	detector/detector_incident.c detector/detector_notify.c
# fingerprints: Exact Data Matching, Indexed Document Matching
DETECT_LIB_SRC += detector/detector_fp.c detector/detector_fpfile.c \
	detector/detector_fpscan.c detector/detector_edm.c detector/detector_idm.c
DETECT_SRC  = detector/detector.c detector/detector_loop.c $(DETECT_LIB_SRC)
DLPSCAN_SRC = detector/dlpscan.c $(DETECT_LIB_SRC)
DLPINDEX_SRC = detector/dlpindex.c $(DETECT_LIB_SRC)

PROGS    += detector/detector detector/dlpscan detector/dlpindex
DAEMONS  += detector/detector
COMMANDS += detector/dlpscan detector/dlpindex
SRCS     += detector/detector.c detector/detector_loop.c detector/dlpscan.c \
	detector/dlpindex.c $(DETECT_LIB_SRC)

DEB_BUILD += libhyperscan-dev libarchive-dev zlib1g-dev libdeflate-dev libqpdf-dev
DEB_TEST  += ripgrep zip p7zip-full python3
# t/77 compresses with each of these
DEB_TEST  += zstd lz4 lzip
# t/38 makes tar.bz2 and tar.xz archives with tar, which runs these
DEB_TEST  += bzip2 xz-utils
# t/76 compares what the TNEF readers extract with what the detector finds
DEB_TEST  += tnef ytnef-tools
# t/69 writes BinHex files with macutils' binhex
DEB_TEST  += macutils

DETECT_LIBS = -lhs -larchive -ldeflate -lz -lqpdf -lm
LIBS_detector/detector = $(DETECT_LIBS)
LIBS_detector/dlpscan  = $(DETECT_LIBS)
LIBS_detector/dlpindex = $(DETECT_LIBS)

# Hyperscan's headers live in /usr/include/hs
$(DETECT_SRC:.c=.o) detector/dlpscan.o detector/dlpindex.o: ALL_CFLAGS += -I/usr/include/hs

detector/detector: $(DETECT_SRC:.c=.o) $(LIBDLP)
	$(LINK)
detector/dlpscan: $(DLPSCAN_SRC:.c=.o) $(LIBDLP)
	$(LINK)
detector/dlpindex: $(DLPINDEX_SRC:.c=.o) $(LIBDLP)
	$(LINK)

# make fuzz - the MIME parser and decoders under libFuzzer, ASan and UBSan
# (the corpus grows in detector/fuzz/corpus; see the Makefile)
FUZZ_TARGETS += detector/fuzz/fuzz-mime
FUZZ_ARGS_fuzz-mime = -max_len=65536
FUZZ_CORPUS_fuzz-mime = detector/fuzz/corpus
FUZZ_SEEDS_fuzz-mime = detector/fuzz/seeds
$(DETECT_LIB_SRC:.c=.fuzz.o) detector/fuzz/fuzz-mime: FUZZ_CFLAGS += -Idetector -I/usr/include/hs
FUZZ_SRC_fuzz-mime = $(DETECT_LIB_SRC) $(COMMON_SRC)
FUZZ_LIBS_fuzz-mime = $(DETECT_LIBS)

# make fuzz - the scan invariant as a property: a marker word at a random
# spot of a random container tree (marker_gen.c) is found, or the message
# is marked unscannable (t/unit/unit-marker runs the same, bounded)
FUZZ_TARGETS += detector/fuzz/fuzz-marker
FUZZ_ARGS_fuzz-marker = -max_len=512
detector/fuzz/fuzz-marker: FUZZ_CFLAGS += -Idetector -I/usr/include/hs
FUZZ_SRC_fuzz-marker = $(DETECT_LIB_SRC) $(COMMON_SRC) detector/fuzz/marker_gen.c
FUZZ_LIBS_fuzz-marker = $(DETECT_LIBS)

# the container and document parsers, one harness each (detector/fuzz/fuzz_det.h),
# with seeds in detector/fuzz/seeds/fuzz-NAME made by real producers
DETECT_FUZZ = archive office ole rtf tnef mac
FUZZ_TARGETS += $(DETECT_FUZZ:%=detector/fuzz/fuzz-%)
FUZZ_ARGS_fuzz-archive = -max_len=262144
FUZZ_ARGS_fuzz-office = -max_len=65536
FUZZ_ARGS_fuzz-ole = -max_len=262144
FUZZ_ARGS_fuzz-rtf = -max_len=65536
FUZZ_ARGS_fuzz-tnef = -max_len=65536
FUZZ_ARGS_fuzz-mac = -max_len=65536
$(DETECT_FUZZ:%=detector/fuzz/fuzz-%): FUZZ_CFLAGS += -Idetector -I/usr/include/hs
$(foreach f,$(DETECT_FUZZ),$(eval FUZZ_SRC_fuzz-$(f) = $$(DETECT_LIB_SRC) $$(COMMON_SRC)))
$(foreach f,$(DETECT_FUZZ),$(eval FUZZ_LIBS_fuzz-$(f) = $$(DETECT_LIBS)))

# make fuzz - the data identifiers: digit runs, validators, anchors, labels,
# table headers, and a planted card that must always be found
FUZZ_TARGETS += detector/fuzz/fuzz-ident
FUZZ_ARGS_fuzz-ident = -max_len=16384
detector/fuzz/fuzz-ident: FUZZ_CFLAGS += -Idetector -I/usr/include/hs
FUZZ_SRC_fuzz-ident = $(DETECT_LIB_SRC) $(COMMON_SRC)
FUZZ_LIBS_fuzz-ident = $(DETECT_LIBS)

# make fuzz - fingerprints: a message through EDM and IDM, index files as a
# detector checks and reads them, CSV exports as dlpindex reads them
FUZZ_TARGETS += detector/fuzz/fuzz-fp
FUZZ_ARGS_fuzz-fp = -max_len=65536
detector/fuzz/fuzz-fp: FUZZ_CFLAGS += -Idetector -I/usr/include/hs
FUZZ_SRC_fuzz-fp = $(DETECT_LIB_SRC) $(COMMON_SRC)
FUZZ_LIBS_fuzz-fp = $(DETECT_LIBS)

# make demo - dlpgate with the shipped policies in front of smtp-sink: a clean
# message, a card number in a docx, a confidential keyword (detector/demo.pl)
.PHONY: demo
demo: deps
	$(MAKE) all
	@if [ "$$(id -u)" = 0 ]; then ./master/dlpgate setup >/dev/null; fi
	perl detector/demo.pl

# make install also installs the shipped policies (never over the admin's)
.PHONY: install-policies
install: install-policies
install-policies:
	install -d $(DESTDIR)$(SYSCONFDIR)
	[ -e $(DESTDIR)$(SYSCONFDIR)/policies.conf ] || \
	  install -m 644 etc/policies.conf $(DESTDIR)$(SYSCONFDIR)/

# make fuzz - the PDF reader: whole documents through qpdf and our text
# code, and CMap + content stream pairs straight into the interpreter
FUZZ_TARGETS += detector/fuzz/fuzz-pdf
FUZZ_ARGS_fuzz-pdf = -max_len=200000
FUZZ_CORPUS_fuzz-pdf = detector/fuzz/corpus-pdf
FUZZ_SEEDS_fuzz-pdf = detector/fuzz/seeds-pdf
detector/fuzz/fuzz-pdf: FUZZ_CFLAGS += -Idetector -I/usr/include/hs
FUZZ_SRC_fuzz-pdf = $(DETECT_LIB_SRC) $(COMMON_SRC)
FUZZ_LIBS_fuzz-pdf = $(DETECT_LIBS)
