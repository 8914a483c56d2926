# common/build.mk - libdlpgate.a, what two roles share
COMMON_SRC = common/mem.c common/msg.c common/evt.c common/buf.c \
	common/stream.c common/inet.c common/conf.c common/conf_params.c \
	common/conf_rules.c \
	common/ipc.c common/server.c common/scan.c common/confine.c common/file_replace.c \
	common/tls_mgr.c common/tls_prov.c
LIBDLP = common/libdlpgate.a
SRCS  += $(COMMON_SRC)

$(LIBDLP): $(COMMON_SRC:.c=.o)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

# make fuzz: the IPC record parser, the envelope, the configuration loader
FUZZ_TARGETS += common/fuzz/fuzz-ipc common/fuzz/fuzz-envelope common/fuzz/fuzz-conf
FUZZ_ARGS_fuzz-ipc = -max_len=66000
FUZZ_ARGS_fuzz-envelope = -max_len=16384
FUZZ_ARGS_fuzz-conf = -max_len=4096
FUZZ_SRC_fuzz-ipc = $(COMMON_SRC)
FUZZ_SRC_fuzz-envelope = $(COMMON_SRC)
FUZZ_SRC_fuzz-conf = $(COMMON_SRC)
