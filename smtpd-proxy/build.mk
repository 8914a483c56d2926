# smtpd-proxy/build.mk - the SMTP proxy worker
PROXY_SRC = smtpd-proxy/smtpd-proxy.c smtpd-proxy/proxy_session.c \
	smtpd-proxy/proxy_nexthop.c smtpd-proxy/proxy_reply.c \
	smtpd-proxy/proxy_chat.c smtpd-proxy/proxy_xforward.c \
	smtpd-proxy/proxy_data.c smtpd-proxy/proxy_detect.c \
	smtpd-proxy/proxy_transaction.c smtpd-proxy/proxy_dns.c \
	smtpd-proxy/proxy_haproxy.c smtpd-proxy/proxy_tls.c

PROGS   += smtpd-proxy/smtpd-proxy
DAEMONS += smtpd-proxy/smtpd-proxy
SRCS    += $(PROXY_SRC)
# forwarding: an authoritative DNS server and a load balancer for the tests
DEB_TEST += nsd haproxy libnet-dns-perl

smtpd-proxy/smtpd-proxy: $(PROXY_SRC:.c=.o) $(LIBDLP)
	$(LINK)

# make fuzz: next-hop replies and the EHLO filter, the DATA content both
# ways and the detector's verdict, client commands, a whole session, PROXY
# headers, DNS answers. The harnesses #include the files whose parsers are
# static and wrap read/recv/send to play the peers (fuzz/fuzz_proxy.h).
PROXY_FUZZ_INC = smtpd-proxy/proxy_session.c smtpd-proxy/proxy_nexthop.c \
	smtpd-proxy/proxy_detect.c
PROXY_FUZZ_SRC = $(filter-out smtpd-proxy/smtpd-proxy.c $(PROXY_FUZZ_INC),$(PROXY_SRC)) \
	$(COMMON_SRC)
PROXY_FUZZ_WRAP = read recv send sendmsg close
PROXY_FUZZ = reply data command session haproxy dns
FUZZ_TARGETS += $(PROXY_FUZZ:%=smtpd-proxy/fuzz/fuzz-%)
FUZZ_ARGS_fuzz-reply = -max_len=16384
FUZZ_ARGS_fuzz-data = -max_len=65536
FUZZ_ARGS_fuzz-command = -max_len=4096
FUZZ_ARGS_fuzz-session = -max_len=16384
FUZZ_ARGS_fuzz-haproxy = -max_len=4096
FUZZ_ARGS_fuzz-dns = -max_len=16384
FUZZ_SRC_fuzz-reply = $(PROXY_FUZZ_SRC)
FUZZ_WRAP_fuzz-reply = $(PROXY_FUZZ_WRAP)
FUZZ_SRC_fuzz-command = $(PROXY_FUZZ_SRC)
FUZZ_WRAP_fuzz-command = $(PROXY_FUZZ_WRAP)
# fuzz-data includes proxy_data.c, to read the spool back in small chunks
FUZZ_SRC_fuzz-data = $(filter-out smtpd-proxy/proxy_data.c,$(PROXY_FUZZ_SRC))
FUZZ_WRAP_fuzz-data = $(PROXY_FUZZ_WRAP)
# fuzz-haproxy plays the load balancer before the client
FUZZ_SRC_fuzz-haproxy = smtpd-proxy/proxy_haproxy.c $(COMMON_SRC)
FUZZ_WRAP_fuzz-haproxy = $(PROXY_FUZZ_WRAP)
# fuzz-dns includes proxy_dns.c, for its static parsers, and plays no peer
FUZZ_SRC_fuzz-dns = $(COMMON_SRC)
# fuzz-session plays the next hop and the detector too
FUZZ_SRC_fuzz-session = $(PROXY_FUZZ_SRC)
FUZZ_WRAP_fuzz-session = $(PROXY_FUZZ_WRAP) inet_connect unix_connect ipc_recv
