# smtpd-proxy/build.mk - the SMTP proxy worker
PROXY_SRC = smtpd-proxy/smtpd-proxy.c smtpd-proxy/proxy_session.c \
	smtpd-proxy/proxy_nexthop.c smtpd-proxy/proxy_reply.c \
	smtpd-proxy/proxy_data.c smtpd-proxy/proxy_detect.c \
	smtpd-proxy/proxy_transaction.c smtpd-proxy/proxy_dns.c \
	smtpd-proxy/proxy_haproxy.c smtpd-proxy/proxy_tls.c

PROGS   += smtpd-proxy/smtpd-proxy
DAEMONS += smtpd-proxy/smtpd-proxy
SRCS    += $(PROXY_SRC)
# issue 6: an authoritative DNS server and a load balancer for the tests
DEB_TEST += nsd haproxy libnet-dns-perl

smtpd-proxy/smtpd-proxy: $(PROXY_SRC:.c=.o) $(LIBDLP)
	$(LINK)
