# master/build.mk - the supervisor and the dlpgate command
MASTER_SRC  = master/master.c master/master_conf.c master/master_spawn.c \
	master/master_status.c master/master_ctl.c master/master_metrics.c \
	master/master_check.c
DLPGATE_SRC = master/dlpgate.c master/master_conf.c master/master_check.c

PROGS    += master/master master/dlpgate
DAEMONS  += master/master
COMMANDS += master/dlpgate
SRCS     += $(MASTER_SRC) $(DLPGATE_SRC)

master/master: $(MASTER_SRC:.c=.o) $(LIBDLP)
	$(LINK)
master/dlpgate: $(DLPGATE_SRC:.c=.o) $(LIBDLP)
	$(LINK)
