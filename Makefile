# dlpgate - build, run, test, install
#
#   make run      install what is missing, build, run in the foreground
#   make check    install what is missing, build, run every test (prove)
#   make bench    benchmarks under t/bench (figures, not pass/fail)
#   make install  PREFIX=/usr/local DESTDIR= (see INSTALL)
#
# Debian packages are installed with apt-get when missing (as root, or
# through sudo); nothing else is fetched.

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

# Debian packages: to build, and what the tests talk to.
DEB_BUILD = gcc make pkg-config libc6-dev libssl-dev libbsd-dev libconfig-dev \
	libldns-dev
DEB_TEST  = perl postfix swaks openssl procps psmisc iproute2
DEB_ALL   = $(DEB_BUILD) $(DEB_TEST)

COMMON_SRC = common/mem.c common/msg.c common/evt.c common/buf.c \
	common/stream.c common/inet.c common/conf.c common/conf_params.c \
	common/ipc.c common/server.c common/scan.c
COMMON_OBJ = $(COMMON_SRC:.c=.o)
LIBDLP     = common/libdlpgate.a

MASTER_SRC  = master/master.c master/master_conf.c master/master_spawn.c \
	master/master_status.c
DLPGATE_SRC = master/dlpgate.c master/master_conf.c
PROXY_SRC   = smtpd-proxy/smtpd-proxy.c smtpd-proxy/proxy_session.c \
	smtpd-proxy/proxy_nexthop.c smtpd-proxy/proxy_reply.c \
	smtpd-proxy/proxy_data.c smtpd-proxy/proxy_detect.c \
	smtpd-proxy/proxy_transaction.c
DETECT_SRC  = detector/detector.c

PROGS = master/master master/dlpgate smtpd-proxy/smtpd-proxy detector/detector

SRCS = $(COMMON_SRC) $(MASTER_SRC) $(DLPGATE_SRC) $(PROXY_SRC) $(DETECT_SRC)

.PHONY: all deps run check test bench install clean
.DEFAULT_GOAL := all

all: $(PROGS)

# V=1 shows the full commands.
Q = $(if $(V),,@)

%.o: %.c
	@$(if $(V),,echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBDLP): $(COMMON_OBJ)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $(COMMON_OBJ)

master/master: $(MASTER_SRC:.c=.o) $(LIBDLP)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)
master/dlpgate: $(DLPGATE_SRC:.c=.o) $(LIBDLP)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)
smtpd-proxy/smtpd-proxy: $(PROXY_SRC:.c=.o) $(LIBDLP)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)
detector/detector: $(DETECT_SRC:.c=.o) $(LIBDLP)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# deps - install the Debian packages that are missing
deps:
	@missing=""; for p in $(DEB_ALL); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' \
	    || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null; then sudo="sudo"; \
	  else echo "not root and no sudo: please install$$missing" >&2; exit 1; fi; \
	  echo "postfix postfix/main_mailer_type select No configuration" \
	    | $$sudo debconf-set-selections 2>/dev/null || true; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends $$missing || exit 1; \
	fi

# run - dlpgate in the foreground on its built-in default configuration
run: deps
	$(MAKE) all
	@if [ "$$(id -u)" = 0 ]; then ./master/dlpgate setup; fi
	exec ./master/master -f

# check - every test under t/, against real peers
check: deps
	$(MAKE) all
	prove -v t/

test: check

bench: deps
	$(MAKE) all
	@for b in t/bench/*.sh t/bench/*.pl; do [ -e "$$b" ] && { echo "== $$b"; $$b || exit 1; }; done; true

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SYSCONFDIR)
	install -m 755 master/master smtpd-proxy/smtpd-proxy detector/detector \
		$(DESTDIR)$(LIBEXECDIR)/
	install -m 755 master/dlpgate $(DESTDIR)$(SBINDIR)/
	for f in etc/dlpgate.conf etc/master.conf; do \
	  [ -e $(DESTDIR)$(SYSCONFDIR)/$${f#etc/} ] || \
	    install -m 644 $$f $(DESTDIR)$(SYSCONFDIR)/; done

clean:
	rm -f $(PROGS) $(LIBDLP) */*.o */*.d

-include $(SRCS:.c=.d)
