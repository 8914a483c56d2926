/*
 * conf_params - every setting of dlpgate, declared once
 *
 * This table is the single source for the loader, dlpconf -d/-n/-e,
 * `dlpgate check` and the dlpgate.conf(5) man page. To add a setting, add
 * its variable below, its extern in conf_params.h and one table entry; the
 * description is what an administrator reads in the man page.
 *
 * Sections follow the roles; keep each role's settings in its section.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_params.h"
#include "inet.h"

#ifndef DLP_LIBEXECDIR
#define DLP_LIBEXECDIR "/usr/local/libexec/dlpgate"
#endif

/* Everyone */
char   *var_daemon_directory;
char   *var_run_directory;
char   *var_syslog_facility;
char   *var_syslog_name;
char   *var_log_level;
char   *var_helo_name;

/* master */
int     var_shutdown_timeout;
int     var_service_throttle_time;

/* smtpd-proxy */
char   *var_operating_mode;
int     var_resubmit_port;
struct conf_list var_next_hop;
struct conf_list var_allow_hosts;
int     var_smtpd_timeout;
int     var_smtpd_data_timeout;
int     var_next_hop_connect_timeout;
int     var_next_hop_timeout;
int     var_next_hop_data_timeout;
int     var_next_hop_data_done_timeout;
long long var_message_size_limit;
int     var_command_length_limit;
int     var_line_length_limit;
int     var_smtpd_recipient_limit;
int     var_smtpd_hard_error_limit;

/* verdicts */
char   *var_detector_failure;
int     var_detector_timeout;
int     var_add_default_header;
char   *var_default_pass_header;

/* detector: policies, incidents, notifications (issue 3) */
char   *var_policy_file;
struct conf_list var_internal_domains;
int     var_trial_mode;
char   *var_violation_count_header;
char   *var_violation_severity_header;
char   *var_detector_failure_header;
struct conf_list var_loop_guard_hosts;
int     var_detector_depth_limit;
int     var_detector_part_limit;
long long var_detector_decoded_size_limit;
char   *var_unscannable_action;
char   *var_unscannable_reply;
char   *var_unscannable_header;
char   *var_incident_log;
char   *var_notify_relay;
char   *var_notify_from;
char   *var_notify_queue_directory;
char   *var_notify_template;
int     var_notify_timeout;
int     var_notify_retry_time;
int     var_notify_max_age;

/* conf_check_reply5xx - "5XX 5.X.X text": printable, no CR, LF or controls */
int conf_check_reply5xx(const char *value, char *err, size_t errlen)
{
	const unsigned char *cp = (const unsigned char *) value;

	if (!(cp[0] == '5' && cp[1] >= '0' && cp[1] <= '9' && cp[2] >= '0'
	      && cp[2] <= '9' && cp[3] == ' ' && cp[4] == '5' && cp[5] == '.'
	      && cp[6] >= '0' && cp[6] <= '9')) {
		snprintf(err, errlen, "bad reply \"%.60s\" (expected 5XX 5.X.X text)",
			 value);
		return -1;
	}
	for (; *cp; cp++)
		if (*cp < 0x20 || *cp > 0x7e) {
			snprintf(err, errlen, "reply holds a control or non-ASCII "
				 "character (no CR, LF, tabs or 8-bit text)");
			return -1;
		}
	if (strlen(value) > 500) {
		snprintf(err, errlen, "reply longer than 500 characters");
		return -1;
	}
	return 0;
}

/* conf_check_header_name - an RFC 5322 field name, or empty */
static int conf_check_header_name(const char *value, char *err, size_t errlen)
{
	for (const char *cp = value; *cp; cp++)
		if (*cp <= 32 || *cp >= 127 || *cp == ':') {
			snprintf(err, errlen, "bad header name \"%s\"", value);
			return -1;
		}
	return strlen(value) > 76 ? (snprintf(err, errlen, "header name too long"), -1) : 0;
}

/* conf_check_domain - a domain name for internal_domains */
static int conf_check_domain(const char *value, char *err, size_t errlen)
{
	if (*value == 0 || strchr(value, '@') || conf_check_hostname(
			   value + (value[0] == '.'), err, errlen) < 0) {
		snprintf(err, errlen, "bad domain \"%s\"", value);
		return -1;
	}
	return 0;
}

/* TLS: tlsmgr, keystore, inbound and outbound TLS (issue 4) */
char   *var_keystore;
char   *var_keystore_password_file;
char   *var_tls_key_alias;
int     var_tls_session_timeout;
int     var_tls_session_cache_size;
int     var_tlsmgr_timeout;
char   *var_inbound_tls;
char   *var_outbound_tls;
int     var_mirror_verify;
int     var_tls_use_system_ca;
char   *var_outbound_tls_match_name;
struct conf_list var_tls_protocols;
char   *var_tls_ciphers;
char   *var_tls_ciphersuites;
char   *var_outbound_tls_ciphers;
int     var_tls_handshake_timeout;
int     var_tls_wrapper_mode;

/* conf_check_tls_protocol - the TLS versions dlpgate can serve */
static int conf_check_tls_protocol(const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "TLSv1.2") && strcmp(value, "TLSv1.3")) {
		snprintf(err, errlen, "\"%s\": use TLSv1.2 and/or TLSv1.3 (older "
			 "versions need signatures tlsmgr does not make)", value);
		return -1;
	}
	return 0;
}

/* conf_check_tls_text - a cipher string: printable, no spaces or quotes */
static int conf_check_tls_text(const char *value, char *err, size_t errlen)
{
	for (const char *cp = value; *cp; cp++) {
		if (*cp <= ' ' || *cp >= 127 || *cp == '"' || *cp == '\\') {
			snprintf(err, errlen, "\"%s\": an OpenSSL cipher string has no "
				 "spaces or quotes", value);
			return -1;
		}
	}
	return 0;
}

/* operations: metrics, status (issue 5) */
char   *var_metrics_listen;

/* forwarding: DNS, clusters (issue 6) */
char   *var_next_hop_lookup;
char   *var_next_hop_host_lookup;
int     var_next_hop_address_limit;
struct conf_list var_dns_servers;
int     var_dns_timeout;
int     var_dns_cache_size;
int     var_dns_cache_max_ttl;
int     var_proxy_protocol;
struct conf_list var_proxy_protocol_hosts;
int     var_proxy_protocol_timeout;
struct conf_list var_xforward_hosts;

/* conf_check_dns_server - a numeric address, address:port or [address]:port */
static int conf_check_dns_server(const char *value, char *err, size_t errlen)
{
	char    host[256], port[32], *end;
	struct cidr c;
	long    n;

	if (inet_split_hostport(value, host, sizeof(host), port, sizeof(port),
				"53") < 0 || cidr_parse(host, &c) < 0 || strchr(host, '/')) {
		snprintf(err, errlen, "bad DNS server \"%s\" (expected a numeric "
			 "address, address:port or [address]:port)", value);
		return -1;
	}
	n = strtol(port, &end, 10);
	if (*end || n < 1 || n > 65535) {
		snprintf(err, errlen, "bad port in \"%s\"", value);
		return -1;
	}
	return 0;
}

#define STR(name, def, check, role, desc) \
	{ #name, CONF_STR, def, 0, 0, NULL, &var_##name, check, role, desc }
#define ENUM(name, def, choices, role, desc) \
	{ #name, CONF_ENUM, def, 0, 0, choices, &var_##name, NULL, role, desc }
#define BOOL(name, def, role, desc) \
	{ #name, CONF_BOOL, def, 0, 1, NULL, &var_##name, NULL, role, desc }
#define INT(name, def, min, max, role, desc) \
	{ #name, CONF_INT, def, min, max, NULL, &var_##name, NULL, role, desc }
#define TIME(name, def, min, max, role, desc) \
	{ #name, CONF_TIME, def, min, max, NULL, &var_##name, NULL, role, desc }
#define SIZE(name, def, min, max, role, desc) \
	{ #name, CONF_SIZE, def, min, max, NULL, &var_##name, NULL, role, desc }
#define LIST(name, def, check, role, desc) \
	{ #name, CONF_LIST, def, 0, 0, NULL, &var_##name, check, role, desc }

const struct conf_param conf_params[] = {

	/* ---- Everyone ---- */

	STR(daemon_directory, DLP_LIBEXECDIR, conf_check_path, "master",
	    "Directory that holds the smtpd-proxy, detector and tlsmgr "
	    "programs. An uninstalled build runs the programs of its own "
	    "source tree instead."),
	STR(run_directory, "/run/dlpgate", conf_check_path, "all",
	    "Directory for the pid file, the control socket and the private "
	    "sockets of the detector and tlsmgr. Nothing is ever queued here."),
	ENUM(syslog_facility, "mail",
	     "mail|daemon|user|local0|local1|local2|local3|local4|local5|local6|local7",
	     "all", "Syslog facility of every log line."),
	STR(syslog_name, "dlpgate", NULL, "all",
	    "Prefix of the program name in log lines (dlpgate/smtpd-proxy)."),
	ENUM(log_level, "info", "debug|info|warn|error", "all",
	     "Lowest level that is logged. Set it for one role with "
	     "options = { log_level = \"debug\"; } in master.conf."),
	STR(helo_name, "", conf_check_hostname, "smtpd-proxy",
	    "Name dlpgate gives in its EHLO to the next hop, so the "
	    "reinjecting MTA can route by HELO string. Empty: the host name."),

	/* ---- master ---- */

	TIME(shutdown_timeout, "30s", 0, 3600, "master",
	     "How long `dlpgate stop` lets sessions in flight finish before "
	     "their workers are killed (their clients keep the messages queued)."),
	TIME(service_throttle_time, "60s", 2, 3600, "master",
	     "Longest pause before a service whose children keep dying before "
	     "they serve is tried again; pauses start at 2s and double."),

	/* ---- smtpd-proxy: mode and next hops ---- */

	ENUM(operating_mode, "reflect", "reflect|forward", "smtpd-proxy",
	     "reflect: send each message back to the client's own address on "
	     "resubmit_port. forward: send it to the next_hop list."),
	INT(resubmit_port, "10026", 1, 65535, "smtpd-proxy",
	    "Port of the reinjection listener of the MTA in reflecting mode "
	    "(the seed product's RequestProcessor.MTAResubmitPort)."),
	LIST(next_hop, "", conf_check_hostport, "smtpd-proxy",
	     "Forwarding mode: next hops as host, host:port or [address]:port "
	     "(port 25 by default), tried in order until one answers 220."),
	LIST(allow_hosts, "127.0.0.0/8, ::1/128", conf_check_cidr, "smtpd-proxy",
	     "Networks allowed to connect; others get 554 5.7.1."),

	/* ---- smtpd-proxy: limits and timeouts ---- */

	TIME(smtpd_timeout, "300s", 1, 3600, "smtpd-proxy",
	     "How long to wait for the next command from the client."),
	TIME(smtpd_data_timeout, "300s", 1, 3600, "smtpd-proxy",
	     "How long to wait for more message content from the client."),
	TIME(next_hop_connect_timeout, "30s", 1, 600, "smtpd-proxy",
	     "How long to wait for a TCP connection to a next hop."),
	TIME(next_hop_timeout, "300s", 1, 3600, "smtpd-proxy",
	     "How long to wait for the next hop's banner or a reply to a "
	     "command."),
	TIME(next_hop_data_timeout, "180s", 1, 3600, "smtpd-proxy",
	     "How long a write of message content to the next hop may take."),
	TIME(next_hop_data_done_timeout, "600s", 1, 3600, "smtpd-proxy",
	     "How long to wait for the next hop's final reply after the end "
	     "of the message."),
	SIZE(message_size_limit, "10240000", 1024, 1073741824, "smtpd-proxy",
	     "Largest message accepted, in bytes (552 5.3.4 beyond). The "
	     "SIZE offered to the client is the smaller of this and the next "
	     "hop's."),
	INT(command_length_limit, "2048", 512, 65000, "smtpd-proxy",
	    "Longest SMTP command line accepted from the client."),
	INT(line_length_limit, "998", 78, 65000, "smtpd-proxy",
	    "Longest message content line accepted, without its CRLF (RFC "
	    "5321 allows 998). Longer lines get 554 5.6.0."),
	INT(smtpd_recipient_limit, "1000", 1, 100000, "smtpd-proxy",
	    "Most recipients per message (452 4.5.3 beyond)."),
	INT(smtpd_hard_error_limit, "20", 1, 1000, "smtpd-proxy",
	    "Errors a client may make before it is disconnected (421 4.7.0)."),

	/* ---- verdicts ---- */

	ENUM(detector_failure, "tempfail", "tempfail|pass", "smtpd-proxy",
	     "What happens to a message when the detector cannot be reached "
	     "or answers late: tempfail (451 4.3.0, the MTA retries) or pass."),
	TIME(detector_timeout, "60s", 1, 3600, "smtpd-proxy",
	     "How long a message may take to scan."),
	BOOL(add_default_header, "yes", "smtpd-proxy",
	     "Add default_pass_header to every message that passes (the seed "
	     "product's RequestProcessor.AddDefaultHeader)."),
	STR(default_pass_header, "X-Filter-Loop: Reflected", conf_check_header,
	    "smtpd-proxy",
	    "The header added to passed messages, Name: value."),

	/* ---- detector: policies, incidents, notifications ---- */

	STR(policy_file, "policies.conf", NULL, "detector",
	    "The policy file, relative to the configuration directory (or "
	    "absolute). Read when a detector starts and at each `dlpgate "
	    "reload`; a file with an error is refused with file:line and the "
	    "last good policies keep running."),
	LIST(internal_domains, "", conf_check_domain, "detector",
	     "Domains that count as internal: a recipient in none of them (or "
	     "their subdomains) is external for rules with external = true. "
	     "So is an address that routes itself, as Postfix reads it: a "
	     "local part with %, ! or a quoted @, or a source route "
	     "(policies.conf(5))."),
	BOOL(trial_mode, "no", "detector",
	     "Every policy acts as monitor: incidents, notifications and logs, "
	     "but no block, redirect or modify (the seed product's Trial Mode)."),
	STR(violation_count_header, "X-DLP-Violations", conf_check_header_name,
	    "detector",
	    "Header added to a passed message when monitor-mode policies "
	    "matched, with their number as value. Empty: none."),
	STR(violation_severity_header, "X-DLP-Severity", conf_check_header_name,
	    "detector",
	    "Header with the highest severity of the monitor-mode policies that "
	    "matched a passed message. Empty: none."),
	STR(detector_failure_header, "", conf_check_header, "smtpd-proxy",
	    "With detector_failure = pass, a header (Name: value) added to a "
	    "message that passed without being scanned. Empty: none."),
	LIST(loop_guard_hosts, "", conf_check_cidr, "detector",
	     "Clients whose messages that already carry default_pass_header "
	     "are passed without a second scan (loop guard). Empty: every "
	     "message is scanned."),
	INT(detector_depth_limit, "20", 1, 100, "detector",
	    "Deepest nesting of MIME parts, attached messages and archives "
	    "that is opened; deeper content is not scanned (unscannable_action)."),
	INT(detector_part_limit, "1000", 1, 100000, "detector",
	    "Most MIME parts plus archive members scanned per message."),
	SIZE(detector_decoded_size_limit, "100m", 1048576, 4294967296LL, "detector",
	     "Most bytes of decoded content (base64, quoted-printable, "
	     "archives) scanned per message."),
	ENUM(unscannable_action, "pass", "pass|block|tempfail", "detector",
	     "What happens to a message that could not be scanned completely "
	     "(a limit, an encrypted or broken archive): it is scanned as far "
	     "as possible, then pass (the policies' verdict), block "
	     "(unscannable_reply) or tempfail (451)."),
	STR(unscannable_reply, "550 5.7.1 Message could not be scanned completely",
	    conf_check_reply5xx, "detector",
	    "The reply when unscannable_action = block."),
	STR(unscannable_header, "", conf_check_header, "detector",
	    "A header (Name: value) added to a message that passes although it "
	    "was not scanned completely. Empty: none."),
	STR(incident_log, "/var/log/dlpgate/incidents.log", conf_check_path,
	    "detector",
	    "The incident log: one JSON line per message that matched a policy "
	    "(masked samples only), fsync'd. Empty: no incident log."),
	STR(notify_relay, "127.0.0.1:10026", conf_check_hostport, "detector",
	    "SMTP server that takes incident notifications: the MTA's "
	    "reinjection listener, so notifications are not filtered again."),
	STR(notify_from, "", NULL, "detector",
	    "Sender address of incident notifications. Empty: postmaster@ the "
	    "host name."),
	STR(notify_queue_directory, "/var/spool/dlpgate/notify", conf_check_path,
	    "detector",
	    "Where notifications wait until notify_relay takes them."),
	STR(notify_template, "", NULL, "detector",
	    "File with the notification text (relative to the configuration "
	    "directory or absolute), with ${policy}, ${severity}, ${action}, "
	    "${sender}, ${recipients}, ${subject}, ${matches}, ${incident}, "
	    "${time}. Empty: the built-in text."),
	TIME(notify_timeout, "30s", 1, 600, "detector",
	     "How long a notification's SMTP exchange may wait at each step."),
	TIME(notify_retry_time, "60s", 10, 86400, "detector",
	     "First delay before a failed notification is tried again; the "
	     "delay doubles up to an hour."),
	TIME(notify_max_age, "2d", 60, 2592000, "detector",
	     "How long a notification is retried before it is given up (logged)."),

	/* ---- TLS: tlsmgr, keystore, inbound and outbound TLS ---- */

	STR(keystore, "", conf_check_path, "tlsmgr",
	    "The PKCS#12 keystore (keytool's format) with dlpgate's private "
	    "key and certificate chain and the trusted next-hop certificates. "
	    "Empty: keystore.p12 in the configuration directory. Only the "
	    "tlsmgr user should read it; tlsmgr creates one with a "
	    "self-signed certificate for helo_name when it is missing."),
	STR(keystore_password_file, "", conf_check_path, "tlsmgr",
	    "File whose first line is the keystore password (also the key "
	    "password, as keytool makes them). Empty: keystore.pass in the "
	    "configuration directory."),
	STR(tls_key_alias, "", NULL, "tlsmgr",
	    "Alias of the keystore's private key entry that dlpgate serves. "
	    "Empty: the only private key entry in the keystore, or the one "
	    "named dlpgate."),
	TIME(tls_session_timeout, "3600s", 60, 86400, "tlsmgr",
	     "Lifetime of TLS sessions: session tickets given to clients "
	     "(their keys rotate at this interval) and next-hop sessions "
	     "cached by tlsmgr."),
	INT(tls_session_cache_size, "1000", 0, 100000, "tlsmgr",
	    "Most next-hop TLS sessions tlsmgr keeps for resumption (0: none)."),
	TIME(tlsmgr_timeout, "10s", 1, 300, "smtpd-proxy",
	     "How long a worker waits for tlsmgr (certificate chain, a "
	     "signature, ticket keys)."),
	ENUM(inbound_tls, "may", "none|may|encrypt", "smtpd-proxy",
	     "STARTTLS from the sending MTA: none (not offered), may (offered) "
	     "or encrypt (required: MAIL before STARTTLS gets 530 5.7.0)."),
	ENUM(outbound_tls, "mirror", "mirror|none|may|encrypt|verify|secure",
	     "smtpd-proxy",
	     "TLS to the next hop. mirror: exactly when the client used "
	     "STARTTLS, and then the next hop must verify (see mirror_verify). "
	     "none: never. may: when offered, unverified, falling back to "
	     "plain text. encrypt: required, unverified. verify: required, the "
	     "chain must lead to a trusted keystore certificate. secure: as "
	     "verify, and the certificate must name the next hop."),
	BOOL(mirror_verify, "yes", "smtpd-proxy",
	     "In mirror mode, the next hop must authenticate itself against "
	     "the keystore's trusted certificates (the seed product's rule). "
	     "no: encrypt without verifying, for labs."),
	BOOL(tls_use_system_ca, "no", "smtpd-proxy",
	     "Also trust the system's CA bundle when verifying next hops."),
	STR(outbound_tls_match_name, "", conf_check_hostname, "smtpd-proxy",
	    "With outbound_tls = secure, the name the next hop's certificate "
	    "must carry. Empty: the host name of the next_hop entry (or its "
	    "address in reflecting mode)."),
	LIST(tls_protocols, "TLSv1.2, TLSv1.3", conf_check_tls_protocol,
	     "smtpd-proxy",
	     "TLS versions used on both sides: TLSv1.2 and/or TLSv1.3."),
	STR(tls_ciphers, "ECDHE+AESGCM:ECDHE+CHACHA20", conf_check_tls_text,
	    "smtpd-proxy",
	    "OpenSSL cipher list for TLS 1.2 from clients. Anonymous, export, "
	    "NULL, RC4, 3DES, MD5 and non-ECDHE suites are always removed: "
	    "tlsmgr signs ECDHE handshakes and never decrypts."),
	STR(tls_ciphersuites,
	    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256",
	    conf_check_tls_text, "smtpd-proxy",
	    "TLS 1.3 cipher suites, both sides."),
	STR(outbound_tls_ciphers, "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:!PSK:!SRP",
	    conf_check_tls_text, "smtpd-proxy",
	    "OpenSSL cipher list for TLS 1.2 to next hops."),
	TIME(tls_handshake_timeout, "60s", 1, 600, "smtpd-proxy",
	     "How long a TLS handshake may take, on either side."),
	BOOL(tls_wrapper_mode, "no", "smtpd-proxy",
	     "Implicit TLS (the 465 style): the client's TLS handshake comes "
	     "first, before the banner. Set it for one listener in master.conf: "
	     "options = { tls_wrapper_mode = true; };"),

	/* ---- operations: metrics, status ---- */

	STR(metrics_listen, "", conf_check_loopback, "master",
	    "Address of master's Prometheus listener (GET /metrics), e.g. "
	    "127.0.0.1:9125. Empty (the default): no listener; `dlpgate status "
	    "--prometheus` gives the same text. Loopback addresses only: put a "
	    "scraper or a reverse proxy on the same host."),

	/* ---- forwarding: DNS, clusters ---- */

	ENUM(next_hop_lookup, "static", "static|mx", "smtpd-proxy",
	     "Forwarding mode: static uses each next_hop entry as a host; mx "
	     "takes each entry as a domain and looks up its MX records (lowest "
	     "preference first, equal preferences in random order, the "
	     "domain's own A/AAAA when it has no MX, a null MX meaning no "
	     "delivery). A [bracketed] entry is never looked up as MX, as in "
	     "Postfix. Every address is tried in order until one answers 220."),
	ENUM(next_hop_host_lookup, "native", "native|dns", "smtpd-proxy",
	     "How a host name in next_hop (static, or [bracketed] with mx) "
	     "becomes addresses: native uses the system resolver and "
	     "/etc/hosts; dns asks dns_servers for A and AAAA records, with "
	     "the DNS cache. MX exchangers are always looked up in DNS."),
	INT(next_hop_address_limit, "10", 1, 100, "smtpd-proxy",
	    "Most next-hop addresses tried for one session before the client "
	    "gets 421 4.4.1 (Postfix's smtp_mx_address_limit)."),
	LIST(dns_servers, "", conf_check_dns_server, "smtpd-proxy",
	     "DNS servers for MX and address lookups, as address, "
	     "address:port or [address]:port, tried in turn. Empty: the "
	     "nameservers of /etc/resolv.conf (read at start; copy it into a "
	     "chroot)."),
	TIME(dns_timeout, "10s", 1, 300, "smtpd-proxy",
	     "Time budget for resolving one next_hop entry (MX and address "
	     "queries, every server and retry together). When it runs out, "
	     "the client gets 451 4.4.3."),
	INT(dns_cache_size, "100", 0, 10000, "smtpd-proxy",
	    "Most next-hop domains whose lookup result each worker keeps, for "
	    "the records' TTL (0: no cache). Temporary failures are never "
	    "cached; the order of equal-preference MX hosts is drawn anew for "
	    "every session."),
	TIME(dns_cache_max_ttl, "1h", 0, 86400, "smtpd-proxy",
	     "Longest time a DNS answer is cached, whatever its TTL; negative "
	     "answers are cached for the zone's SOA minimum, within the same "
	     "bound (0: no cache)."),
	BOOL(proxy_protocol, "no", "smtpd-proxy",
	     "Expect a PROXY protocol header (v1 or v2, as HAProxy's "
	     "send-proxy and send-proxy-v2 write it) at the start of every "
	     "connection, and take the client's address from it: reflecting "
	     "mode, allow_hosts, logs and the detector then see the real MTA. "
	     "A connection without a valid header is closed. Set it per "
	     "service in master.conf: options = { proxy_protocol = \"yes\"; };"),
	LIST(proxy_protocol_hosts, "127.0.0.0/8, ::1/128", conf_check_cidr,
	     "smtpd-proxy",
	     "With proxy_protocol: the load balancers allowed to send a PROXY "
	     "header. A connection from any other address is closed before "
	     "a byte is read, so a header cannot be spoofed around the load "
	     "balancer."),
	TIME(proxy_protocol_timeout, "5s", 1, 300, "smtpd-proxy",
	     "How long a load balancer may take to send the whole PROXY "
	     "header (Postfix's smtpd_upstream_proxy_timeout)."),
	LIST(xforward_hosts, "", conf_check_cidr, "smtpd-proxy",
	     "Clients that may send XFORWARD (the sending MTA's "
	     "smtp_send_xforward_command), relayed to a next hop that offers "
	     "it so the reinjecting MTA logs the original client. Empty: every "
	     "client in allow_hosts. Others are not offered XFORWARD and get "
	     "550 5.7.0. XCLIENT is never accepted."),
};

const size_t conf_param_count = sizeof(conf_params) / sizeof(conf_params[0]);
