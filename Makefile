# dlpgate - build, run, test, install
#
#   make run      install what is missing, build, run in the foreground with
#                 the shipped policies, and print what to try
#   make check    install what is missing, build, run every test (prove)
#   make bench    benchmarks under t/bench (figures, not pass/fail)
#   make fuzz     every parser under libFuzzer, ASan and UBSan (clang), one
#                 after the other, FUZZ_TIME seconds each (FUZZ=name: one)
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
DEB_TEST  = perl postfix swaks openssl procps psmisc iproute2 cppcheck
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

.PHONY: all deps run check test bench install clean fuzz fuzz-build FORCE
.DEFAULT_GOAL := all

# Fuzz harnesses: each role's fuzz/ directory holds fuzz_NAME.c, built into
# fuzz-NAME from the role's sources compiled again with clang's sanitizers
# (*.fuzz.o), with seeds in fuzz/seeds/fuzz-NAME/; the corpus grows in
# fuzz/corpus/fuzz-NAME/ and findings land in fuzz/ as crash-*, leak-*,
# timeout-*. Roles add their harnesses to FUZZ_TARGETS and say how to run
# them in FUZZ_ARGS_fuzz-NAME (-max_len, -dict...).
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
COMMON_FUZZ_OBJ = $(COMMON_SRC:.c=.fuzz.o)
# a harness: its own .c (which may #include a role's .c for static parsers)
# and the objects it lists
FUZZ_LINK = $(Q)$(if $(V),,echo "  FUZZ    $@";) $(FUZZ_CC) $(FUZZ_CFLAGS) \
	-fsanitize=fuzzer -o $@ $< $(filter %.o,$^) $(PKG_LIBS) $(LIBS_$@)

include common/build.mk master/build.mk smtpd-proxy/build.mk \
	detector/build.mk tlsmgr/build.mk

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
	$(MAKE) all
	@if [ "$$(id -u)" = 0 ]; then ./master/dlpgate setup >/dev/null; fi
	prove t/

test: check

bench: deps
	$(MAKE) all
	@for b in t/bench/*; do [ -x "$$b" ] && { echo "== $$b"; "$$b" || exit 1; }; done; true

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

.PRECIOUS: %.fuzz.o
%.fuzz.o: %.c
	@$(if $(V),,echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

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

-include $(SRCS:.c=.d) $(wildcard */*.fuzz.d */fuzz/*.d)
