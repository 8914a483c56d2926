# master/build.mk - the supervisor and the dlpgate and dlpconf commands
MASTER_SRC  = master/master.c master/master_conf.c master/master_spawn.c \
	master/master_status.c master/master_ctl.c master/master_metrics.c \
	master/master_check.c
DLPGATE_SRC = master/dlpgate.c master/master_conf.c master/master_check.c
DLPCONF_SRC = master/dlpconf.c master/conf_text.c master/master_conf.c

PROGS    += master/master master/dlpgate master/dlpconf
# t/52 checks the systemd unit with systemd-analyze verify
DEB_TEST += systemd
DAEMONS  += master/master
COMMANDS += master/dlpgate master/dlpconf
SRCS     += $(MASTER_SRC) $(DLPGATE_SRC) $(DLPCONF_SRC)

master/master: $(MASTER_SRC:.c=.o) $(LIBDLP)
	$(LINK)
master/dlpgate: $(DLPGATE_SRC:.c=.o) $(LIBDLP)
	$(LINK)
master/dlpconf: $(DLPCONF_SRC:.c=.o) $(LIBDLP)
	$(LINK)

# dlpgate.conf(5): the prose of man/dlpgate.conf.5.in around the parameter
# list that dlpconf --man writes from the parameter table, so it never drifts.
GENERATED_MAN += man/dlpgate.conf.5
man/dlpgate.conf.5: man/dlpgate.conf.5.in master/dlpconf
	@$(if $(V),,echo "  MAN     $@")
	$(Q)master/dlpconf --man > $@.params
	$(Q)awk -v params=$@.params '/^@PARAMETERS@$$/ { while ((getline l < params) > 0) print l; next } { print }' $< > $@.tmp
	$(Q)rm -f $@.params && mv $@.tmp $@

# dlpgate.log(5): log lines, incidents and the SIEM stream, around the event
# list that dlpconf --events writes from EVT_TABLE.
GENERATED_MAN += man/dlpgate.log.5
man/dlpgate.log.5: man/dlpgate.log.5.in master/dlpconf
	@$(if $(V),,echo "  MAN     $@")
	$(Q)master/dlpconf --events > $@.events
	$(Q)awk -v ev=$@.events '/^@EVENTS@$$/ { while ((getline l < ev) > 0) print l; next } { print }' $< > $@.tmp
	$(Q)rm -f $@.events && mv $@.tmp $@
