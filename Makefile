# dlpgate - build, run, test, install
#
#   make run      install what is missing, build, run in the foreground with
#                 the shipped policies, and print what to try
#   make check    install what is missing, build, run every test (prove)
#   make bench    benchmarks under t/bench (figures, not pass/fail;
#                 BENCH=name: one, e.g. BENCH=proxy-throughput)
#   make fuzz     every parser under libFuzzer, ASan and UBSan (clang), one
#                 after the other, FUZZ_TIME seconds each (FUZZ=name: one)
#   make unit     the C unit tests and the fuzz seed replays (gcc, ASan and
#                 UBSan), which make check runs (t/02, t/03)
#   make install  PREFIX=/usr/local DESTDIR= (see INSTALL)
#
# Each role lists its own sources, programs and Debian packages in its
# build.mk; this file holds what they share. Debian packages are installed
# with apt-get when missing (as root, or through sudo).

PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec/dlpgate
SYSCONFDIR ?= /etc/dlpgate
MANDIR     ?= $(PREFIX)/share/man
INITDIR    ?= /etc/init.d
UNITDIR    ?= /lib/systemd/system
DESTDIR    ?=

CC      ?= cc
PKGS     = openssl libbsd libconfig ldns
# Evaluated when used, so that "make deps" can install pkg-config first.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))

OPT      ?= -O2 -g
CFLAGS   ?= $(OPT)
ifdef SANITIZE
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=address,undefined
endif
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	-Wno-unused-parameter -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2 -MMD -MP \
	-Icommon $(PKG_CFLAGS) \
	-DDLP_SYSCONFDIR='"$(SYSCONFDIR)"' -DDLP_LIBEXECDIR='"$(LIBEXECDIR)"' \
	-DDLP_SRCDIR='"$(CURDIR)"' $(CFLAGS)
ALL_LDFLAGS = -Wl,-z,relro,-z,now $(LDFLAGS)

# V=1 shows the full commands.
Q = $(if $(V),,@)
LINK = $(Q)$(if $(V),,echo "  LD      $@";) $(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LIBS_$@)

# Debian packages: to build, and what the tests talk to. Roles add theirs.
DEB_BUILD = gcc make pkg-config libc6-dev libssl-dev libbsd-dev libconfig-dev \
	libldns-dev
DEB_TEST  = perl postfix swaks openssl procps psmisc iproute2 cppcheck clang-format
# the man pages are read back with man, col and groff (t/56)
DEB_TEST += man-db groff-base bsdextrautils

PROGS    =
DAEMONS  =
COMMANDS =
SRCS     =
# Man pages: every man/*.[158], plus those generated at build time.
MANPAGES  = $(sort $(wildcard man/*.[158]) $(GENERATED_MAN))
GENERATED_MAN =
CONFFILES = $(wildcard etc/*.conf)

.PHONY: all deps run check test bench install clean fuzz fuzz-build unit \
	replay-list FORCE
.DEFAULT_GOAL := all

# Fuzz harnesses: each role's fuzz/ directory holds fuzz_NAME.c, a libFuzzer
# harness (LLVMFuzzerTestOneInput, and LLVMFuzzerInitialize when it needs
# one). The role adds dir/fuzz/fuzz-NAME to FUZZ_TARGETS and says in its
# build.mk:
#   FUZZ_SRC_fuzz-NAME   the sources it links besides fuzz_NAME.c (leave out
#                        a .c the harness #includes for its static parsers)
#   FUZZ_WRAP_fuzz-NAME  functions it replaces with __wrap_NAME (ld --wrap)
#   FUZZ_LIBS_fuzz-NAME  libraries beyond OpenSSL, libbsd, libconfig, ldns
#   FUZZ_ARGS_fuzz-NAME  libFuzzer options (-max_len, -dict...)
#   FUZZ_SEEDS_fuzz-NAME its seeds, when not in dir/fuzz/seeds/fuzz-NAME/
# make fuzz builds fuzz-NAME with clang (the sources compiled again as
# *.fuzz.o) and runs it; the corpus grows in dir/fuzz/corpus/fuzz-NAME/ and
# findings land in dir/fuzz/ as crash-*, leak-*, timeout-*: commit one that
# found a bug to its seeds as regress-WHAT. make unit builds replay-NAME
# from the same sources with gcc (*.san.o) and t/unit/replay.c, and t/03
# runs every seed through it once, so each keeps guarding its bug.
FUZZ_TIME ?= 60
FUZZ_CC   ?= clang
FUZZ_DEB   = clang libclang-rt-14-dev
FUZZ_CFLAGS = -std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP \
	-Icommon -Icommon/fuzz $(PKG_CFLAGS) \
	-DDLP_SYSCONFDIR='"$(SYSCONFDIR)"' -DDLP_LIBEXECDIR='"$(LIBEXECDIR)"' \
	-DDLP_SRCDIR='"$(CURDIR)"'
FUZZ_TARGETS =
comma := ,
empty :=
space := $(empty) $(empty)
ld-wrap = $(if $(1),-Wl$(subst $(space),,$(foreach f,$(1),$(comma)--wrap=$(f))))
FUZZ_LINK = $(Q)$(if $(V),,echo "  FUZZ    $@";) $(FUZZ_CC) $(FUZZ_CFLAGS) \
	-fsanitize=fuzzer -o $@ $< $(filter %.o,$^) $(PKG_LIBS) \
	$(FUZZ_LIBS_$(notdir $@)) $(call ld-wrap,$(FUZZ_WRAP_$(notdir $@)))

# Unit tests and replays: programs built by gcc with ASan and UBSan from
# *.san.o (every role's headers are on the include path). A unit test is
# t/unit/unit_NAME.c, printing TAP with t/unit/tap.h; t/unit/build.mk
# lists them and what they link.
SAN_CFLAGS = $(FUZZ_CFLAGS) -Wno-format-truncation -It/unit -Idetector -Ismtpd-proxy -Itlsmgr -Imaster \
	-I/usr/include/hs
SAN_LINK = $(Q)$(if $(V),,echo "  LD      $@";) $(CC) $(SAN_CFLAGS) -o $@ \
	$(filter %.o,$^) $(PKG_LIBS)
UNIT_TARGETS =

include common/build.mk master/build.mk smtpd-proxy/build.mk \
	detector/build.mk tlsmgr/build.mk t/unit/build.mk

all: $(PROGS) $(GENERATED_MAN)

# The compiled-in paths: objects are rebuilt when PREFIX or SYSCONFDIR change.
PATHS_STAMP = .build-paths
$(PATHS_STAMP): FORCE
	@echo '$(SYSCONFDIR) $(LIBEXECDIR)' | cmp -s - $@ 2>/dev/null \
	  || echo '$(SYSCONFDIR) $(LIBEXECDIR)' > $@
$(SRCS:.c=.o): $(PATHS_STAMP)
FORCE:

%.o: %.c
	@$(if $(V),,echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# deps - install the Debian packages that are missing. Daemons among them
# (postfix, nsd, haproxy, stunnel4) are for tests, which start their own
# instances: a temporary policy-rc.d keeps apt from starting the system's.
deps:
	@missing=""; for p in $(sort $(DEB_BUILD) $(DEB_TEST)); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' \
	    || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null; then sudo="sudo"; \
	  else echo "not root and no sudo: please install$$missing" >&2; exit 1; fi; \
	  $$sudo sh -c 'set -e; \
	    echo "postfix postfix/main_mailer_type select No configuration" \
	      | debconf-set-selections; \
	    keep=""; [ -e /usr/sbin/policy-rc.d ] && keep=1; \
	    [ -n "$$keep" ] || printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d; \
	    chmod 755 /usr/sbin/policy-rc.d; \
	    rc=0; export DEBIAN_FRONTEND=noninteractive; \
	    { apt-get update -q && apt-get install -y -q --no-install-recommends '"$$missing"'; } || rc=$$?; \
	    [ -n "$$keep" ] || rm -f /usr/sbin/policy-rc.d; exit $$rc' || exit 1; \
	fi

# run - dlpgate in the foreground with the shipped etc/ copied to RUN_DIR,
# on 127.0.0.1:RUN_PORT, reflecting to RUN_RESUBMIT (master/run-here.sh)
RUN_DIR      ?= $(CURDIR)/run
RUN_PORT     ?= 10025
RUN_RESUBMIT ?= 10026
run: deps
	$(MAKE) all
	@RUN_DIR='$(RUN_DIR)' RUN_PORT='$(RUN_PORT)' RUN_RESUBMIT='$(RUN_RESUBMIT)' \
	  exec ./master/run-here.sh

# check - every test under t/, against real peers
check: deps
	$(MAKE) all unit
	@if [ "$$(id -u)" = 0 ]; then ./master/dlpgate setup >/dev/null; fi
	prove t/

test: check

bench: deps
	$(MAKE) all
	@for b in $(if $(BENCH),$(BENCH:%=t/bench/%),t/bench/*); do \
	  [ -x "$$b" ] && { echo "== $$b"; "$$b" || exit 1; }; done; true

# install - programs, configuration (never overwritten), man pages, the
# init script and the systemd unit; as root without DESTDIR, dlpgate setup.
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SYSCONFDIR) \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(INITDIR) $(DESTDIR)$(UNITDIR)
	install -m 755 $(DAEMONS) $(DESTDIR)$(LIBEXECDIR)/
	install -m 755 $(COMMANDS) $(DESTDIR)$(SBINDIR)/
	@for f in $(CONFFILES); do \
	  t=$(DESTDIR)$(SYSCONFDIR)/$${f#etc/}; \
	  if [ -e $$t ]; then echo "keeping $$t (new version: $$f)"; \
	  else echo "install -m 644 $$f $$t"; install -m 644 $$f $$t || exit 1; fi; done
	@for m in $(MANPAGES); do \
	  echo "install -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/"; \
	  install -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/ || exit 1; done
	sed 's|@SBINDIR@|$(SBINDIR)|g' etc/init.d/dlpgate > etc/init.d/dlpgate.out
	install -m 755 etc/init.d/dlpgate.out $(DESTDIR)$(INITDIR)/dlpgate
	sed 's|@SBINDIR@|$(SBINDIR)|g' etc/dlpgate.service > etc/dlpgate.service.out
	install -m 644 etc/dlpgate.service.out $(DESTDIR)$(UNITDIR)/dlpgate.service
	rm -f etc/init.d/dlpgate.out etc/dlpgate.service.out
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
	  echo "$(SBINDIR)/dlpgate -c $(SYSCONFDIR) setup"; \
	  $(SBINDIR)/dlpgate -c $(SYSCONFDIR) setup; \
	else echo "not root or DESTDIR set: run 'dlpgate setup' as root on the target"; fi

.PRECIOUS: %.fuzz.o %.san.o
%.fuzz.o: %.c
	@$(if $(V),,echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
%.san.o: %.c
	@$(if $(V),,echo "  SANCC   $@")
	$(Q)$(CC) $(SAN_CFLAGS) -c -o $@ $<

# Each harness: fuzz-NAME (clang, libFuzzer) and replay-NAME (gcc).
fuzz-name   = $(patsubst fuzz-%,%,$(notdir $(1)))
fuzz-replay = $(dir $(1))replay-$(call fuzz-name,$(1))
define fuzz-rules
$(1): $(dir $(1))fuzz_$(call fuzz-name,$(1)).c \
		$$(patsubst %.c,%.fuzz.o,$$(FUZZ_SRC_$(notdir $(1))))
	$$(FUZZ_LINK)
$(call fuzz-replay,$(1)): $(dir $(1))fuzz_$(call fuzz-name,$(1)).san.o t/unit/replay.san.o \
		$$(patsubst %.c,%.san.o,$$(FUZZ_SRC_$(notdir $(1))))
	$$(SAN_LINK) $$(FUZZ_LIBS_$(notdir $(1))) $$(call ld-wrap,$$(FUZZ_WRAP_$(notdir $(1))))
endef
$(foreach t,$(FUZZ_TARGETS),$(if $(FUZZ_SRC_$(notdir $(t))),,$(error $(t): its build.mk \
	must say FUZZ_SRC_$(notdir $(t)), the sources it links (see the Makefile))))
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz-rules,$(t))))
REPLAY_TARGETS = $(foreach t,$(FUZZ_TARGETS),$(call fuzz-replay,$(t)))

# Each unit test: t/unit/unit-NAME from unit_NAME.c and UNIT_SRC_unit-NAME.
define unit-rules
$(1): $(dir $(1))unit_$(patsubst unit-%,%,$(notdir $(1))).san.o \
		$$(patsubst %.c,%.san.o,$$(UNIT_SRC_$(notdir $(1))))
	$$(SAN_LINK) $$(UNIT_LIBS_$(notdir $(1))) $$(call ld-wrap,$$(UNIT_WRAP_$(notdir $(1))))
endef
$(foreach t,$(UNIT_TARGETS),$(eval $(call unit-rules,$(t))))

# unit - build the unit tests and the replays (t/02 and t/03 run them)
unit: $(UNIT_TARGETS) $(REPLAY_TARGETS)
# replay-list - "replay-NAME seeds-directory", a line each (for t/03)
replay-list:
	@$(foreach t,$(FUZZ_TARGETS),echo "$(call fuzz-replay,$(t)) $(call fuzz-seeds,$(t))";)

# fuzz - is clang's libFuzzer there? then build every harness and run each;
# one that finds something fails make fuzz after the others have run
fuzz-corpus = $(or $(FUZZ_CORPUS_$(notdir $(1))),$(dir $(1))corpus/$(notdir $(1)))
fuzz-seeds  = $(or $(FUZZ_SEEDS_$(notdir $(1))),$(dir $(1))seeds/$(notdir $(1)))
fuzz-run = $(foreach t,$(1),echo "== $(t) ($(FUZZ_TIME)s)"; \
	mkdir -p $(call fuzz-corpus,$(t)); \
	$(t) -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
	  -print_final_stats=1 -artifact_prefix=$(dir $(t)) $(FUZZ_ARGS_$(notdir $(t))) \
	  $(call fuzz-corpus,$(t)) $(call fuzz-seeds,$(t)) || failed="$$failed $(t)";)
FUZZ_SELECTED = $(if $(FUZZ),$(filter %/$(FUZZ),$(FUZZ_TARGETS)),$(FUZZ_TARGETS))
fuzz:
	@printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' \
	  | $(FUZZ_CC) -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null \
	  || { echo "make fuzz needs clang with libFuzzer: apt-get install $(FUZZ_DEB)" >&2; \
	       exit 1; }
	$(MAKE) $(FUZZ_SELECTED)
	@failed=""; $(call fuzz-run,$(FUZZ_SELECTED)) \
	if [ -n "$$failed" ]; then echo "fuzz: findings from$$failed" >&2; exit 1; fi
fuzz-build: $(FUZZ_TARGETS)

clean:
	rm -f $(PROGS) $(GENERATED_MAN) $(LIBDLP) */*.o $(SRCS:.c=.d) $(PATHS_STAMP)
	rm -f $(FUZZ_TARGETS) */*.fuzz.d */fuzz/*.d
	rm -f $(REPLAY_TARGETS) $(UNIT_TARGETS) */*.san.[od] */fuzz/*.san.o t/unit/*.san.[od]

-include $(SRCS:.c=.d) $(wildcard */*.fuzz.d */*.san.d */fuzz/*.d t/unit/*.d)
