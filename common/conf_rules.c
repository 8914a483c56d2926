/*
 * conf_rules - settings that each load but cannot work together
 *
 * conf_rules_check() runs over a staged configuration (see conf.h) after
 * every value passed its own check, for conf_load() (master, every role,
 * `dlpgate check`, start and reload) and conf_check_file() (`dlpconf -e`
 * before it replaces the file). Each rule refuses a combination that
 * would load and then fail at run time: a forwarding mode with nowhere to
 * forward to, a listener nobody may connect to, a loop guard that can
 * never see its header, a cipher list OpenSSL cannot use. The error names
 * the file, line and setting, says why, and gives the fix.
 *
 * To add a rule: one function below, one line in conf_rules[].
 */
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conf.h"

typedef int (*conf_rule_fn)(const struct conf_view *v, char *err, size_t errlen);

/* conf_rule_forward - forwarding mode needs somewhere to forward to */
static int conf_rule_forward(const struct conf_view *v, char *err, size_t errlen)
{
	char where[256];

	if (strcmp(conf_view_str(v, "operating_mode"), "forward") != 0
	    || conf_view_list(v, "next_hop")->count > 0)
		return 0;
	snprintf(err, errlen,
		 "%s: \"forward\" with an empty next_hop "
		 "(next_hop_lookup = \"%s\") has nowhere to send mail; fix: dlpconf -e "
		 "next_hop=%s, or operating_mode=reflect",
		 conf_view_where(v, "operating_mode", where, sizeof(where)),
		 conf_view_str(v, "next_hop_lookup"),
		 strcmp(conf_view_str(v, "next_hop_lookup"), "mx") == 0
			 ? "example.com (a mail domain whose MX hosts take the mail)"
			 : "mail.example.com (host, host:port or [address]:port; port 25 when "
			   "none is given)");
	return -1;
}

/* conf_rule_nonempty - a list that nobody could get through when empty */
static int conf_rule_nonempty(const struct conf_view *v, const char *name, const char *why,
			      const char *fix, char *err, size_t errlen)
{
	char where[256];

	if (conf_view_list(v, name)->count > 0)
		return 0;
	snprintf(err, errlen, "%s: empty: %s; fix: %s",
		 conf_view_where(v, name, where, sizeof(where)), why, fix);
	return -1;
}

/* conf_rule_lists - allow_hosts, tls_protocols, proxy_protocol_hosts */
static int conf_rule_lists(const struct conf_view *v, char *err, size_t errlen)
{
	if (conf_rule_nonempty(v, "allow_hosts", "no client could connect",
			       "dlpconf -e allow_hosts=127.0.0.0/8 (the MTA's networks)", err,
			       errlen)
		    < 0
	    || conf_rule_nonempty(v, "tls_protocols", "no TLS version to speak",
				  "dlpconf -X tls_protocols (TLSv1.2 and TLSv1.3)", err, errlen)
		    < 0)
		return -1;
	if (conf_view_num(v, "proxy_protocol")
	    && conf_rule_nonempty(v, "proxy_protocol_hosts",
				  "with proxy_protocol = yes "
				  "every connection would be closed",
				  "dlpconf -e "
				  "proxy_protocol_hosts=ADDRESS (the load balancers)",
				  err, errlen)
		    < 0)
		return -1;
	return 0;
}

/* conf_rule_loop_guard - the guard looks for a header that must be added */
static int conf_rule_loop_guard(const struct conf_view *v, char *err, size_t errlen)
{
	char where[256];

	if (conf_view_list(v, "loop_guard_hosts")->count == 0)
		return 0;
	if (conf_view_num(v, "add_default_header") && *conf_view_str(v, "default_pass_header"))
		return 0;
	snprintf(err, errlen,
		 "%s: the loop guard passes messages that carry "
		 "default_pass_header, but %s; fix: dlpconf -e add_default_header=yes "
		 "(with a default_pass_header), or dlpconf -X loop_guard_hosts",
		 conf_view_where(v, "loop_guard_hosts", where, sizeof(where)),
		 conf_view_num(v, "add_default_header")
			 ? "default_pass_header is empty"
			 : "add_default_header = no: no message ever carries it");
	return -1;
}

/* conf_rule_pass_header - add_default_header needs a header to add */
static int conf_rule_pass_header(const struct conf_view *v, char *err, size_t errlen)
{
	char where[256];

	if (!conf_view_num(v, "add_default_header") || *conf_view_str(v, "default_pass_header"))
		return 0;
	snprintf(err, errlen,
		 "%s: empty, but add_default_header = yes; fix: dlpconf -e "
		 "'default_pass_header=X-Filter-Loop: Reflected', or add_default_header=no",
		 conf_view_where(v, "default_pass_header", where, sizeof(where)));
	return -1;
}

/* conf_rule_failure_header - only detector_failure = pass adds it */
static int conf_rule_failure_header(const struct conf_view *v, char *err, size_t errlen)
{
	char where[256];

	if (!*conf_view_str(v, "detector_failure_header")
	    || strcmp(conf_view_str(v, "detector_failure"), "pass") == 0)
		return 0;
	snprintf(err, errlen,
		 "%s: only a message passed unscanned gets it, and "
		 "detector_failure = \"%s\" passes none; fix: dlpconf -e "
		 "detector_failure=pass, or dlpconf -X detector_failure_header",
		 conf_view_where(v, "detector_failure_header", where, sizeof(where)),
		 conf_view_str(v, "detector_failure"));
	return -1;
}

/* conf_rule_ciphers - cipher lists OpenSSL can use, with suites left over */
static int conf_rule_ciphers(const struct conf_view *v, char *err, size_t errlen)
{
	/* what smtpd-proxy always removes from tls_ciphers (proxy_tls.c) */
	static const char *const exclude = ":!aNULL:!eNULL:!EXP:!LOW:!RC4:!3DES:!DES:!MD5"
					   ":!PSK:!SRP:!kRSA:!kDHE:!kDH:!kECDH:!aDSS";
	static const char *const names[] = {"tls_ciphers", "outbound_tls_ciphers"};
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	char where[256], list[2048];
	int rc = 0;

	if (ctx == NULL)
		return 0;
	for (int i = 0; i < 2 && rc == 0; i++) {
		snprintf(list, sizeof(list), "%s%s", conf_view_str(v, names[i]),
			 i == 0 ? exclude : "");
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
		if (!SSL_CTX_set_cipher_list(ctx, list)) {
			snprintf(err, errlen,
				 "%s: \"%s\" leaves no TLS 1.2 cipher OpenSSL "
				 "can use%s; fix: dlpconf -X %s",
				 conf_view_where(v, names[i], where, sizeof(where)),
				 conf_view_str(v, names[i]),
				 i == 0 ? " with ECDHE (dlpgate never decrypts with its key)"
					: "",
				 names[i]);
			rc = -1;
		}
	}
	if (rc == 0 && !SSL_CTX_set_ciphersuites(ctx, conf_view_str(v, "tls_ciphersuites"))) {
		snprintf(err, errlen,
			 "%s: \"%s\" names no TLS 1.3 cipher suite OpenSSL "
			 "knows; fix: dlpconf -X tls_ciphersuites",
			 conf_view_where(v, "tls_ciphersuites", where, sizeof(where)),
			 conf_view_str(v, "tls_ciphersuites"));
		rc = -1;
	}
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return rc;
}

/* conf_rule_bind - at most one source address per address family */
static int conf_rule_bind(const struct conf_view *v, char *err, size_t errlen)
{
	const struct conf_list *l = conf_view_list(v, "next_hop_bind_address");
	int v4 = 0, v6 = 0;
	char where[256];

	for (size_t i = 0; i < l->count; i++)
		*(strchr(l->items[i], ':') ? &v6 : &v4) += 1;
	if (v4 <= 1 && v6 <= 1)
		return 0;
	snprintf(err, errlen,
		 "%s: %s IPv%d addresses; a connection starts from one: "
		 "give at most one IPv4 and one IPv6 address",
		 conf_view_where(v, "next_hop_bind_address", where, sizeof(where)), "several",
		 v4 > 1 ? 4 : 6);
	return -1;
}

/* conf_rule_template - a notify_template that names no file */
static int conf_rule_template(const struct conf_view *v, char *err, size_t errlen)
{
	const char *t = conf_view_str(v, "notify_template"), *file = conf_view_file(v);
	const char *slash = strrchr(file, '/');
	char path[PATH_MAX], where[256];
	struct stat st;

	if (*t == 0)
		return 0;
	if (*t == '/' || slash == NULL)
		snprintf(path, sizeof(path), "%s", t);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int) (slash - file), file, t);
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		return 0;
	snprintf(err, errlen,
		 "%s: %s is not a file: every notification would fall "
		 "back to the built-in text; fix: write the template there, or dlpconf -X "
		 "notify_template",
		 conf_view_where(v, "notify_template", where, sizeof(where)), path);
	return -1;
}

static const struct {
	conf_rule_fn fn;
	int library; /* starts a library to judge (conf.h) */
} conf_rules[] = {
	{conf_rule_template, 0},       {conf_rule_bind, 0},       {conf_rule_forward, 0},
	{conf_rule_lists, 0},          {conf_rule_loop_guard, 0}, {conf_rule_pass_header, 0},
	{conf_rule_failure_header, 0}, {conf_rule_ciphers, 1},
};

static int conf_rules_library = 1;

/* conf_rules_no_library - leave the rules that start a library to master (conf.h) */
void conf_rules_no_library(void)
{
	conf_rules_library = 0;
}

/* conf_rules_check - every rule; the first that fails says why */
int conf_rules_check(const struct conf_view *v, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(conf_rules) / sizeof(conf_rules[0]); i++)
		if ((conf_rules_library || !conf_rules[i].library)
		    && conf_rules[i].fn(v, err, errlen) < 0)
			return -1;
	return 0;
}
