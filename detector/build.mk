# detector/build.mk - the detector and dlpscan
#
# Hyperscan (one multi-pattern database for every keyword and regex of
# every policy) and libarchive (zip, docx/xlsx/pptx, 7z, tar...) come from
# Debian; ripgrep is the reference tool of the scan benchmark.
DETECT_LIB_SRC = detector/detector_policy.c detector/detector_match.c \
	detector/detector_ident.c detector/detector_mime.c detector/detector_text.c \
	detector/detector_archive.c detector/detector_verdict.c \
	detector/detector_incident.c detector/detector_notify.c
DETECT_SRC  = detector/detector.c $(DETECT_LIB_SRC)
DLPSCAN_SRC = detector/dlpscan.c $(DETECT_LIB_SRC)

PROGS    += detector/detector detector/dlpscan
DAEMONS  += detector/detector
COMMANDS += detector/dlpscan
SRCS     += detector/detector.c detector/dlpscan.c $(DETECT_LIB_SRC)

DEB_BUILD += libhyperscan-dev libarchive-dev
DEB_TEST  += ripgrep zip

DETECT_LIBS = -lhs -larchive -lm
LIBS_detector/detector = $(DETECT_LIBS)
LIBS_detector/dlpscan  = $(DETECT_LIBS)

# Hyperscan's headers live in /usr/include/hs
$(DETECT_SRC:.c=.o) detector/dlpscan.o: ALL_CFLAGS += -I/usr/include/hs

detector/detector: $(DETECT_SRC:.c=.o) $(LIBDLP)
	$(LINK)
detector/dlpscan: $(DLPSCAN_SRC:.c=.o) $(LIBDLP)
	$(LINK)
