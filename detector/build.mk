# detector/build.mk - the detector
DETECT_SRC = detector/detector.c

PROGS   += detector/detector
DAEMONS += detector/detector
SRCS    += $(DETECT_SRC)

detector/detector: $(DETECT_SRC:.c=.o) $(LIBDLP)
	$(LINK)
