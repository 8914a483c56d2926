# common/build.mk - libdlpgate.a, what two roles share
COMMON_SRC = common/mem.c common/msg.c common/evt.c common/buf.c \
	common/stream.c common/inet.c common/conf.c common/conf_params.c \
	common/ipc.c common/server.c common/scan.c \
	common/tls_mgr.c common/tls_prov.c
LIBDLP = common/libdlpgate.a
SRCS  += $(COMMON_SRC)

$(LIBDLP): $(COMMON_SRC:.c=.o)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^
