# master/build.mk - the supervisor and the dlpgate and dlpconf commands
MASTER_SRC  = master/master.c master/master_conf.c master/master_spawn.c \
	master/master_status.c master/master_ctl.c master/master_metrics.c \
	master/master_check.c
DLPGATE_SRC = master/dlpgate.c master/master_conf.c master/master_check.c
DLPCONF_SRC = master/dlpconf.c master/conf_text.c master/master_conf.c

PROGS    += master/master master/dlpgate master/dlpconf
DAEMONS  += master/master
COMMANDS += master/dlpgate master/dlpconf
SRCS     += $(MASTER_SRC) $(DLPGATE_SRC) $(DLPCONF_SRC)

master/master: $(MASTER_SRC:.c=.o) $(LIBDLP)
	$(LINK)
master/dlpgate: $(DLPGATE_SRC:.c=.o) $(LIBDLP)
	$(LINK)
master/dlpconf: $(DLPCONF_SRC:.c=.o) $(LIBDLP)
	$(LINK)
