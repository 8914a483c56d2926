# tlsmgr/build.mk - the keystore owner (tlsmgr) and its command (dlpkey)
TLSMGR_SRC = tlsmgr/tlsmgr.c tlsmgr/tlsmgr_sign.c tlsmgr/tlsmgr_cache.c \
	tlsmgr/keystore.c tlsmgr/keystore_dname.c
DLPKEY_SRC = tlsmgr/dlpkey.c tlsmgr/dlpkey_tls.c tlsmgr/keystore.c \
	tlsmgr/keystore_dname.c

PROGS    += tlsmgr/tlsmgr tlsmgr/dlpkey
DAEMONS  += tlsmgr/tlsmgr
COMMANDS += tlsmgr/dlpkey
SRCS     += $(TLSMGR_SRC) tlsmgr/dlpkey.c tlsmgr/dlpkey_tls.c

# What the TLS tests talk to: stunnel in front of smtp-sink, Java's keytool,
# testssl.sh, and swaks' STARTTLS (IO::Socket::SSL).
DEB_TEST += stunnel4 default-jre-headless testssl.sh libio-socket-ssl-perl \
	libnet-ssleay-perl binutils

tlsmgr/tlsmgr: $(TLSMGR_SRC:.c=.o) $(LIBDLP)
	$(LINK)
# tlsverify looks up MX hosts as forwarding mode does
tlsmgr/dlpkey: $(DLPKEY_SRC:.c=.o) smtpd-proxy/proxy_dns.o $(LIBDLP)
	$(LINK)
