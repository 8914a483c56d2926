/*
 * unit_conf - the parameter table, the text forms of values, the checks
 *
 * Every default loads, every value's text form reads back as the same
 * value, every choice of every ENUM setting maps to its own code and
 * back; numbers with units, bounds, lists, booleans; the checks of
 * replies, headers, addresses and networks; name=value overrides; a
 * configuration saved and put back, and where each setting came from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "tap.h"

union unit_value {
	int i;
	long long ll;
	char *s;
	struct conf_list l;
};

/* unit_parse - conf_parse_text() of one setting; err when it fails */
static int unit_parse(const char *name, const char *text, union unit_value *v, char *err,
		      size_t errlen)
{
	const struct conf_param *p = conf_find(name);

	memset(v, 0, sizeof(*v));
	*err = 0;
	if (p == NULL) {
		snprintf(err, errlen, "no setting %s", name);
		return -1;
	}
	return conf_parse_text(p, text, v, err, errlen);
}

/* unit_free - what a parsed string or list holds */
static void unit_free(const char *name, union unit_value *v)
{
	const struct conf_param *p = conf_find(name);

	if (p && p->type == CONF_STR)
		free(v->s);
	if (p && p->type == CONF_LIST) {
		for (size_t i = 0; i < v->l.count; i++)
			free(v->l.items[i]);
		free(v->l.items);
	}
	memset(v, 0, sizeof(*v));
}

/* unit_number - a number setting's value from text, or -1 */
static long long unit_number(const char *name, const char *text)
{
	union unit_value v;
	char err[CONF_ERR_MAX];

	if (unit_parse(name, text, &v, err, sizeof(err)) < 0)
		return -1;
	return conf_find(name)->type == CONF_SIZE ? v.ll : v.i;
}

/* unit_refused - the error of a value that must be refused, or "accepted" */
static const char *unit_refused(const char *name, const char *text)
{
	static char err[CONF_ERR_MAX];
	union unit_value v;

	if (unit_parse(name, text, &v, err, sizeof(err)) == 0) {
		unit_free(name, &v);
		return "accepted";
	}
	return err;
}

/* unit_table - defaults load; each value's text reads back the same */
static void unit_table(void)
{
	char err[CONF_ERR_MAX];
	int bad = 0;

	tap_ok(conf_load("/nonexistent", NULL, 0, err, sizeof(err)) == 0,
	       "the built-in defaults load");
	for (size_t i = 0; i < conf_param_count; i++) {
		const struct conf_param *p = &conf_params[i];
		char *text = conf_value_text(p);

		if (conf_validate(p, text, err, sizeof(err)) < 0 || conf_find(p->name) != p
		    || p->desc == NULL || *p->desc == 0
		    || (p->type == CONF_ENUM
			&& (p->choices == NULL || p->choices[0].name == NULL))) {
			tap_diag("%s = %s: %s", p->name, text, err);
			bad++;
		}
		free(text);
	}
	tap_is_int(bad, 0,
		   "every setting of %zu: found by name, described, its value "
		   "valid as text",
		   conf_param_count);
	tap_ok(conf_find("smtpd_timout") == NULL, "a typo is no setting");
	tap_is_str(conf_suggest("smtpd_timout"), "smtpd_timeout", "and gets a suggestion");
}

/* unit_choices - each choice its own code, and back */
static void unit_choices(void)
{
	int bad = 0;

	for (size_t i = 0; i < conf_param_count; i++) {
		const struct conf_param *p = &conf_params[i];

		if (p->type != CONF_ENUM)
			continue;
		for (const struct conf_choice *c = p->choices; c->name; c++) {
			if (conf_name_code(p->choices, c->name) != c
			    || strcmp(conf_code_name(p->choices, c->code), c->name) != 0) {
				tap_diag("%s: choice %s", p->name, c->name);
				bad++;
			}
			for (const struct conf_choice *d = c + 1; d->name; d++)
				if (d->code == c->code || strcmp(d->name, c->name) == 0) {
					tap_diag("%s: %s and %s", p->name, c->name, d->name);
					bad++;
				}
		}
	}
	tap_is_int(bad, 0, "every choice of every ENUM setting: its own code and back");
	tap_is_int(unit_number("operating_mode", "forward"), OPERATING_MODE_FORWARD,
		   "operating_mode = forward is OPERATING_MODE_FORWARD");
	tap_is_int(unit_number("outbound_tls", "secure"), OUTBOUND_TLS_SECURE,
		   "outbound_tls = secure is OUTBOUND_TLS_SECURE");
	tap_is_int(unit_number("log_level", "warn"), MSG_WARN, "log_level = warn is MSG_WARN");
	tap_is_int(unit_number("syslog_facility", "local3"), LOG_LOCAL3,
		   "syslog_facility = local3 is LOG_LOCAL3");
	tap_is_str(conf_code_name(conf_choices_unscannable_action, 99), "?",
		   "a code without a name reads ?");
	tap_ok(conf_name_code(conf_choices_unscannable_action, "tempfail")->code
		       == UNSCANNABLE_TEMPFAIL,
	       "conf_name_code finds tempfail");
}

/* unit_numbers - units, booleans */
static void unit_numbers(void)
{
	tap_is_int(unit_number("smtpd_timeout", "300"), 300, "a time in seconds");
	tap_is_int(unit_number("smtpd_timeout", "5m"), 300, "5m is 300 seconds");
	tap_is_int(unit_number("smtpd_timeout", "1h"), 3600, "1h is 3600 seconds");
	tap_is_int(unit_number("notify_max_age", "2d"), 172800, "2d is 172800 seconds");
	tap_is_int(unit_number("notify_max_age", "1w"), 604800, "1w is 604800 seconds");
	tap_is_int(unit_number("message_size_limit", "10k"), 10240, "10k is 10240 bytes");
	tap_is_int(unit_number("message_size_limit", "10m"), 10485760, "10m is 10485760 bytes");
	tap_is_int(unit_number("detector_decoded_size_limit", "4G"), 4294967296LL,
		   "4G is 2^32 bytes, beyond an int");
	tap_is_int(unit_number("trial_mode", "yes"), 1, "yes is true");
	tap_is_int(unit_number("trial_mode", "On"), 1, "On is true");
	tap_is_int(unit_number("trial_mode", "false"), 0, "false is false");
}

/* unit_texts - lists, split and empty */
static void unit_texts(void)
{
	union unit_value v;
	char err[CONF_ERR_MAX];

	tap_ok(unit_parse("next_hop", "a.example, b.example:2525 [192.0.2.1]:25", &v, err,
			  sizeof(err))
			       == 0
		       && v.l.count == 3 && strcmp(v.l.items[1], "b.example:2525") == 0,
	       "a list splits at commas and spaces");
	unit_free("next_hop", &v);
	tap_ok(unit_parse("allow_hosts", "", &v, err, sizeof(err)) == 0 && v.l.count == 0,
	       "an empty list has no items");
	unit_free("allow_hosts", &v);
}

/* unit_refusals - values each setting's check refuses, and what it says */
static void unit_refusals(void)
{
	static const struct {
		const char *name, *text, *why, *what;
	} t[] = {
		{"operating_mode", "Forward", "\"Forward\" is not one of reflect|forward",
		 "choices are exact"},
		{"inbound_tls", "", "\"\" is not one of none|may|encrypt",
		 "an empty choice is refused"},
		{"smtpd_timeout", "0", "value 0 out of range 1..3600", "below the bound"},
		{"smtpd_timeout", "2h", "value 2h out of range 1..3600",
		 "above the bound, with a unit"},
		{"smtpd_timeout", "5x", "\"5x\" is not a time (e.g. 300s, 5m, 1h)",
		 "an unknown unit"},
		{"smtpd_timeout", "-5", "\"-5\" is not a time (e.g. 300s, 5m, 1h)",
		 "a negative time"},
		{"message_size_limit", "99999999999999999999",
		 "\"99999999999999999999\" is not a size (e.g. 10240000, 10m)",
		 "a number beyond 64 bits"},
		{"resubmit_port", "10026 ", "\"10026 \" is not an integer",
		 "trailing text after a number"},
		{"trial_mode", "maybe", "\"maybe\" is not yes or no", "a boolean is yes or no"},
		{"allow_hosts", "127.0.0.1/8",
		 "bad network \"127.0.0.1/8\" (expected address/prefix with zero host bits, "
		 "e.g. 192.0.2.0/24)",
		 "a network with host bits"},
		{"next_hop", "mx.example:0", "bad port in \"mx.example:0\"", "port 0"},
		{"helo_name", "a b", "bad host name \"a b\"", "a host name with a space"},
		{"syslog_name", "dlp\tgate", "control character in value",
		 "a control character in any value"},
		{"default_pass_header", "X-Filter-Loop Reflected",
		 "bad header \"X-Filter-Loop Reflected\" (expected Name: value)",
		 "a header without a colon"},
		{"unscannable_reply", "450 4.7.1 later",
		 "bad reply \"450 4.7.1 later\" (expected 5XX 5.X.X text)",
		 "a reply that is not a 5xx"},
		{"unscannable_reply", "550 5.7.1 caf\xc3\xa9",
		 "reply holds a control or non-ASCII character (no CR, LF, tabs or 8-bit text)",
		 "a reply with 8-bit text"},
		{"unscannable_reply", "550 5.7.1 Not today", "accepted", "a 5xx reply"},
		{"violation_count_header", "X-DLP: Count", "bad header name \"X-DLP: Count\"",
		 "a header name with a colon"},
		{"dns_servers", "ns.example",
		 "bad DNS server \"ns.example\" (expected a numeric address, address:port or "
		 "[address]:port)",
		 "a DNS server by name"},
		{"dns_servers", "[::1]:5353", "accepted", "a DNS server [address]:port"},
		{"metrics_listen", "192.0.2.1:9125",
		 "\"192.0.2.1\" is not a loopback address: metrics are served on 127.0.0.0/8 "
		 "or ::1 only",
		 "metrics off the loopback"},
		{"tls_protocols", "TLSv1.1",
		 "\"TLSv1.1\": use TLSv1.2 and/or TLSv1.3 (older versions need signatures "
		 "tlsmgr does not make)",
		 "TLS 1.1"},
		{"incident_log", "incidents.log", "\"incidents.log\" is not an absolute path",
		 "a relative path"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		tap_is_str(unit_refused(t[i].name, t[i].text), t[i].why, "%s = \"%s\": %s",
			   t[i].name, t[i].text, t[i].what);
}

/* unit_overrides - name=value, as master's and the children's -o */
static void unit_overrides(void)
{
	char name[64], err[CONF_ERR_MAX];
	const char *value;
	char *ov[] = {"smtpd_timeout = 7s", "operating_mode=forward"};
	char *bad[] = {"smtpd_timout=7"};

	tap_ok(conf_split_override("x = y", name, sizeof(name), &value) == 0
		       && strcmp(name, "x") == 0 && strcmp(value, "y") == 0,
	       "name=value splits, spaces around = dropped");
	tap_ok(conf_split_override("novalue", name, sizeof(name), &value) < 0,
	       "no = is no override");
	tap_ok(conf_split_override("=v", name, sizeof(name), &value) < 0, "no name");
	tap_ok(conf_load("/nonexistent", ov, 2, err, sizeof(err)) == 0 && var_smtpd_timeout == 7
		       && var_operating_mode == OPERATING_MODE_FORWARD,
	       "overrides apply: %s", err);
	tap_ok(conf_load("/nonexistent", bad, 1, err, sizeof(err)) < 0
		       && var_smtpd_timeout == 7,
	       "a bad override changes nothing");
	tap_is_str(err, "-o smtpd_timout: unknown setting (did you mean smtpd_timeout?)",
		   "and says what was meant");
}

/* unit_save_restore - a loaded configuration put back, and where a setting came from */
static void unit_save_restore(void)
{
	char dir[] = "/tmp/unit-conf-XXXXXX", path[64], where[256], err[CONF_ERR_MAX];
	char *ov[] = {"smtpd_timeout=9s"};
	struct conf_saved *sv;
	FILE *fp;

	if (mkdtemp(dir) == NULL)
		msg_fatal("mkdtemp: %m");
	snprintf(path, sizeof(path), "%s/dlpgate.conf", dir);
	if ((fp = fopen(path, "w")) == NULL)
		msg_fatal("%s: %m", path);
	fprintf(fp, "# a comment\nresubmit_port = 2526;\nallow_hosts = [\"10.0.0.0/8\"];\n");
	fclose(fp);
	tap_ok(conf_load(dir, ov, 1, err, sizeof(err)) == 0 && var_resubmit_port == 2526,
	       "a file loads: %s", err);
	snprintf(path, sizeof(path), "%s/dlpgate.conf:2: resubmit_port", dir);
	tap_is_str(conf_where("resubmit_port", where, sizeof(where)), path,
		   "a setting of the file: its line");
	tap_is_str(conf_where("smtpd_timeout", where, sizeof(where)), "-o smtpd_timeout",
		   "an override");
	snprintf(path, sizeof(path), "%s/dlpgate.conf: next_hop (default)", dir);
	tap_is_str(conf_where("next_hop", where, sizeof(where)), path, "a default");
	sv = conf_save();
	tap_ok(conf_load("/nonexistent", NULL, 0, err, sizeof(err)) == 0
		       && var_resubmit_port == 10026 && var_allow_hosts.count != 1,
	       "other values load");
	conf_restore(sv);
	tap_ok(var_resubmit_port == 2526 && var_smtpd_timeout == 9 && var_allow_hosts.count == 1
		       && strcmp(var_allow_hosts.items[0], "10.0.0.0/8") == 0,
	       "conf_restore puts the saved values back");
	snprintf(path, sizeof(path), "%s/dlpgate.conf:2: resubmit_port", dir);
	tap_is_str(conf_where("resubmit_port", where, sizeof(where)), path,
		   "and where they came from");
	conf_saved_free(conf_save());
	snprintf(path, sizeof(path), "%s/dlpgate.conf", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	msg_open("unit-conf", MSG_TO_STDERR, LOG_MAIL);
	unit_table();
	unit_choices();
	unit_numbers();
	unit_texts();
	unit_refusals();
	unit_overrides();
	unit_save_restore();
	return tap_done();
}
