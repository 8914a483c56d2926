/*
 * conf_params - every setting of dlpgate: its variable, declared once
 *
 * CONF_PARAMS below is the single list of settings. Each row
 *	X(KIND, name, ...)
 * makes the variable var_name, its extern here and its row in the
 * parameter table (conf_params.c) that the loader, dlpconf, `dlpgate
 * check` and dlpgate.conf(5) read. The kinds, their C types and columns:
 *
 *	X(STR,  name, default, check, role, description)	char *
 *	X(LIST, name, default, check, role, description)	struct conf_list
 *	X(BOOL, name, default, role, description)		int, 0 or 1
 *	X(INT,  name, default, min, max, role, description)	int
 *	X(TIME, name, default, min, max, role, description)	int, seconds
 *	X(SIZE, name, default, min, max, role, description)	long long, bytes
 *	X(ENUM, name, default, role, description)	enum conf_name
 *	X(CODE, name, type, default, role, description)	type
 *
 * A setting with choices is an ENUM: its choices are listed once, as
 * CONF_CHOICES_name(C) with rows C(CONSTANT, "text"), which makes
 * enum conf_name { CONSTANT, ... } and the name -> code table
 * conf_choices_name[]; the loader turns the text into the constant, so
 * code compares var_name with constants, never strings, and a typo does
 * not compile. A CODE setting is an ENUM whose constants already exist
 * elsewhere (syslog's LOG_MAIL, msg's MSG_DEBUG). CONF_NAME(name) is the
 * text of the live value, for logs.
 *
 * Read the variables after conf_load(); never write them.
 */
#ifndef DLP_CONF_PARAMS_H
#define DLP_CONF_PARAMS_H

#include <syslog.h>

#include "conf.h"
#include "msg.h"

/* The choices of each ENUM and CODE setting, in the order the man page lists them. */
/* clang-format off */
#define CONF_CHOICES_syslog_facility(C) \
	C(LOG_MAIL, "mail") C(LOG_DAEMON, "daemon") C(LOG_USER, "user") \
	C(LOG_LOCAL0, "local0") C(LOG_LOCAL1, "local1") C(LOG_LOCAL2, "local2") \
	C(LOG_LOCAL3, "local3") C(LOG_LOCAL4, "local4") C(LOG_LOCAL5, "local5") \
	C(LOG_LOCAL6, "local6") C(LOG_LOCAL7, "local7")
#define CONF_CHOICES_log_level(C) \
	C(MSG_DEBUG, "debug") C(MSG_INFO, "info") C(MSG_WARN, "warn") \
	C(MSG_ERROR, "error")
#define CONF_CHOICES_operating_mode(C) \
	C(OPERATING_MODE_REFLECT, "reflect") C(OPERATING_MODE_FORWARD, "forward")
#define CONF_CHOICES_detector_failure(C) \
	C(DETECTOR_FAILURE_TEMPFAIL, "tempfail") C(DETECTOR_FAILURE_PASS, "pass")
#define CONF_CHOICES_unscannable_action(C) \
	C(UNSCANNABLE_PASS, "pass") C(UNSCANNABLE_BLOCK, "block") \
	C(UNSCANNABLE_TEMPFAIL, "tempfail")
#define CONF_CHOICES_incident_syslog(C) \
	C(INCIDENT_SYSLOG_NONE, "none") C(INCIDENT_SYSLOG_RFC5424, "rfc5424") \
	C(INCIDENT_SYSLOG_JSON, "json")
#define CONF_CHOICES_incident_syslog_facility(C) CONF_CHOICES_syslog_facility(C)
#define CONF_CHOICES_non_header_line_action(C) \
	C(NON_HEADER_LINE_NORMALISE, "normalise") C(NON_HEADER_LINE_REJECT, "reject")
#define CONF_CHOICES_inbound_tls(C) \
	C(INBOUND_TLS_NONE, "none") C(INBOUND_TLS_MAY, "may") \
	C(INBOUND_TLS_ENCRYPT, "encrypt")
#define CONF_CHOICES_outbound_tls(C) \
	C(OUTBOUND_TLS_MIRROR, "mirror") C(OUTBOUND_TLS_NONE, "none") \
	C(OUTBOUND_TLS_MAY, "may") C(OUTBOUND_TLS_ENCRYPT, "encrypt") \
	C(OUTBOUND_TLS_VERIFY, "verify") C(OUTBOUND_TLS_SECURE, "secure")
#define CONF_CHOICES_next_hop_lookup(C) \
	C(NEXT_HOP_LOOKUP_STATIC, "static") C(NEXT_HOP_LOOKUP_MX, "mx")
#define CONF_CHOICES_next_hop_host_lookup(C) \
	C(NEXT_HOP_HOST_NATIVE, "native") C(NEXT_HOP_HOST_DNS, "dns")

/* Every setting, in the order of dlpconf and the man page; keep each role's in its section. */
#define CONF_PARAMS(X) \
	/* ---- Everyone ---- */ \
	\
	X(STR, daemon_directory, DLP_LIBEXECDIR, conf_check_path, "master", \
	  "Directory that holds the smtpd-proxy, detector and tlsmgr " \
	  "programs. An uninstalled build runs the programs of its own " \
	  "source tree instead.") \
	X(STR, run_directory, "/run/dlpgate", conf_check_path, "all", \
	  "Directory for the pid file, the control socket and the private " \
	  "sockets of the detector and tlsmgr. Nothing is ever queued here.") \
	X(CODE, syslog_facility, int, "mail", \
	  "all", "Syslog facility of every log line.") \
	X(STR, syslog_name, "dlpgate", NULL, "all", \
	  "Prefix of the program name in log lines (dlpgate/smtpd-proxy).") \
	X(CODE, log_level, enum msg_level, "info", "all", \
	  "Lowest level that is logged. Set it for one role with " \
	  "options = { log_level = \"debug\"; } in master.conf.") \
	X(STR, helo_name, "", conf_check_hostname, "all", \
	  "Name dlpgate gives in its EHLO to the next hop, so the " \
	  "reinjecting MTA can route by HELO string; also the EHLO, " \
	  "Message-ID domain and default sender domain of incident " \
	  "notifications, and the name in the self-signed certificate made " \
	  "at the first start. Empty: the host name.") \
	\
	/* ---- master ---- */ \
	\
	X(TIME, shutdown_timeout, "30s", 0, 3600, "master", \
	  "How long `dlpgate stop` lets sessions in flight finish before " \
	  "their workers are killed (their clients keep the messages queued).") \
	X(TIME, service_throttle_time, "60s", 2, 3600, "master", \
	  "Longest pause before a service whose children keep dying before " \
	  "they serve is tried again; pauses start at 2s and double.") \
	\
	/* ---- smtpd-proxy: mode and next hops ---- */ \
	\
	X(ENUM, operating_mode, "reflect", "smtpd-proxy", \
	  "reflect: send each message back to the client's own address on " \
	  "resubmit_port. forward: send it to the next_hop list.") \
	X(INT, resubmit_port, "10026", 1, 65535, "smtpd-proxy", \
	  "Reflecting mode: the port of the MTA's reinjection listener; each " \
	  "message goes back to the connecting MTA's own address on this " \
	  "port (Network Prevent's RequestProcessor.MTAResubmitPort). Not " \
	  "used in forwarding mode, where each next_hop entry carries its " \
	  "own port. It may not be a port dlpgate listens on.") \
	X(LIST, next_hop, "", conf_check_hostport, "smtpd-proxy", \
	  "Forwarding mode: next hops as host, host:port or [address]:port, " \
	  "tried in order until one answers 220. An entry without a port " \
	  "uses port 25 (resubmit_port is for reflecting mode only). " \
	  "Required in forwarding mode.") \
	X(LIST, allow_hosts, "127.0.0.0/8, ::1/128", conf_check_cidr, "smtpd-proxy", \
	  "Networks allowed to connect; others get 554 5.7.1.") \
	\
	/* ---- smtpd-proxy: limits and timeouts ---- */ \
	\
	X(TIME, smtpd_timeout, "300s", 1, 3600, "smtpd-proxy", \
	  "How long to wait for the next command from the client.") \
	X(TIME, smtpd_data_timeout, "300s", 1, 3600, "smtpd-proxy", \
	  "How long to wait for more message content from the client.") \
	X(TIME, next_hop_connect_timeout, "30s", 1, 600, "smtpd-proxy", \
	  "How long to wait for a TCP connection to a next hop.") \
	X(TIME, next_hop_timeout, "300s", 1, 3600, "smtpd-proxy", \
	  "How long to wait for the next hop's banner or a reply to a " \
	  "command.") \
	X(TIME, next_hop_data_timeout, "180s", 1, 3600, "smtpd-proxy", \
	  "How long a write of message content to the next hop may take.") \
	X(TIME, next_hop_data_done_timeout, "600s", 1, 3600, "smtpd-proxy", \
	  "How long to wait for the next hop's final reply after the end " \
	  "of the message.") \
	X(SIZE, message_size_limit, "10240000", 1024, 1073741824, "smtpd-proxy", \
	  "Largest message accepted, in bytes (552 5.3.4 beyond). The " \
	  "SIZE offered to the client is the smaller of this and the next " \
	  "hop's.") \
	X(INT, command_length_limit, "2048", 512, 65000, "smtpd-proxy", \
	  "Longest SMTP command line accepted from the client.") \
	X(INT, line_length_limit, "998", 78, 65000, "smtpd-proxy", \
	  "Longest message content line accepted, without its CRLF (RFC " \
	  "5321 allows 998). Longer lines get 554 5.6.0.") \
	X(INT, smtpd_recipient_limit, "1000", 1, 100000, "smtpd-proxy", \
	  "Most recipients per message (452 4.5.3 beyond).") \
	X(INT, smtpd_hard_error_limit, "20", 1, 1000, "smtpd-proxy", \
	  "Errors a client may make before it is disconnected (421 4.7.0). " \
	  "A delivered message forgives the errors before it.") \
	X(INT, smtpd_junk_command_limit, "100", 1, 100000, "smtpd-proxy", \
	  "Commands that cost the client nothing (HELO, EHLO, NOOP, RSET, " \
	  "VRFY, HELP, unknown ones) it may send; each one beyond counts as " \
	  "an error toward smtpd_hard_error_limit. A delivered message " \
	  "starts the count again (Postfix's smtpd_junk_command_limit).") \
	X(BOOL, smtpd_forbid_unauth_pipelining, "yes", "smtpd-proxy", \
	  "Disconnect, with 554 5.5.0, a client that talks before the " \
	  "greeting or pipelines where RFC 2920 does not allow it: anything " \
	  "behind EHLO, HELO, DATA, VRFY, NOOP, QUIT or STARTTLS in the same " \
	  "packet, or any pipelining before EHLO offered PIPELINING. no: " \
	  "log it only (Postfix's smtpd_forbid_unauth_pipelining).") \
	X(ENUM, non_header_line_action, "normalise", "smtpd-proxy", \
	  "A line in a message's header section that is neither a header " \
	  "field nor its continuation (no colon; a first line that starts " \
	  "with white space). normalise: the header section ends there, an " \
	  "empty line is put before it, as Postfix's cleanup does, so that " \
	  "the detector and the next hop see the same structure. reject: " \
	  "554 5.6.0.") \
	\
	/* ---- verdicts ---- */ \
	\
	X(ENUM, detector_failure, "tempfail", "smtpd-proxy", \
	  "What happens to a message when the detector cannot be reached " \
	  "or answers late: tempfail (451 4.3.0, the MTA retries) or pass.") \
	X(TIME, detector_timeout, "60s", 1, 3600, "smtpd-proxy", \
	  "How long a message may take to scan.") \
	X(BOOL, add_default_header, "yes", "smtpd-proxy", \
	  "Add default_pass_header to every message that passes (Network " \
	  "Prevent's RequestProcessor.AddDefaultHeader).") \
	X(STR, default_pass_header, "X-Filter-Loop: Reflected", conf_check_header, \
	  "smtpd-proxy", \
	  "The header added to passed messages, Name: value.") \
	\
	/* ---- detector: policies, incidents, notifications ---- */ \
	\
	X(STR, policy_file, "policies.conf", NULL, "detector", \
	  "The policy file, relative to the configuration directory (or " \
	  "absolute). Read when a detector starts and at each `dlpgate " \
	  "reload`; a file with an error is refused with file:line and the " \
	  "last good policies keep running.") \
	X(LIST, internal_domains, "", conf_check_domain, "detector", \
	  "Domains that count as internal: a recipient in none of them (or " \
	  "their subdomains) is external for rules with external = true. " \
	  "So is an address that routes itself, as Postfix reads it: a " \
	  "local part with %, ! or a quoted @, or a source route " \
	  "(policies.conf(5)).") \
	X(BOOL, trial_mode, "no", "detector", \
	  "Every policy acts as monitor: incidents, notifications and logs, " \
	  "but no block, redirect or modify (Network Prevent's Trial Mode).") \
	X(STR, violation_count_header, "X-DLP-Violations", conf_check_header_name, \
	  "detector", \
	  "Header added to a passed message when monitor-mode policies " \
	  "matched, with their number as value. Empty: none.") \
	X(STR, violation_severity_header, "X-DLP-Severity", conf_check_header_name, \
	  "detector", \
	  "Header with the highest severity of the monitor-mode policies that " \
	  "matched a passed message. Empty: none.") \
	X(STR, detector_failure_header, "", conf_check_header, "smtpd-proxy", \
	  "With detector_failure = pass, a header (Name: value) added to a " \
	  "message that passed without being scanned. Empty: none.") \
	X(LIST, loop_guard_hosts, "", conf_check_cidr, "detector", \
	  "Loop guard: a message that passes gets an X-DLP-Loop-Guard " \
	  "mark (an HMAC, with a key only the detectors hold, over its " \
	  "envelope and content); when it comes back from one of these " \
	  "clients with the same envelope, what the mark covers is not " \
	  "scanned again (the lines the MTA added above it are). A mark " \
	  "written or copied by a sender, or over changed content, proves " \
	  "nothing. Empty: no marks, every message is scanned.") \
	X(INT, detector_depth_limit, "20", 1, 100, "detector", \
	  "Deepest nesting of MIME parts, attached messages and archives " \
	  "that is opened; deeper content is not scanned (unscannable_action).") \
	X(INT, detector_part_limit, "1000", 1, 100000, "detector", \
	  "Most MIME parts plus archive members scanned per message.") \
	X(SIZE, detector_decoded_size_limit, "100m", 1048576, 4294967296LL, "detector", \
	  "Most bytes of decoded content (base64, quoted-printable, " \
	  "archives) scanned per message.") \
	X(SIZE, detector_reader_memory_limit, "512m", 67108864, 17179869184LL, "detector", \
	  "Memory a confined document reader (PDF; archives, Office, " \
	  "Outlook and RTF documents, each attachment in a child process " \
	  "of its own) may take beyond the detector's own: a document that " \
	  "needs more is not scanned completely (unscannable_action).") \
	X(TIME, detector_reader_time_limit, "20s", 1, 3600, "detector", \
	  "Wall-clock and CPU time a confined document reader (PDF; " \
	  "archives and documents) may take for one attachment, within the " \
	  "message's scan time; past it the reader is killed and the " \
	  "attachment is not scanned completely.") \
	X(ENUM, unscannable_action, "pass", "detector", \
	  "What happens to a message that could not be scanned completely " \
	  "(a limit, an encrypted or broken archive): it is scanned as far " \
	  "as possible, then pass (the policies' verdict), block " \
	  "(unscannable_reply) or tempfail (451). A message blocked or " \
	  "tempfailed so gets an incident, policy (unscannable), with the reason.") \
	X(STR, unscannable_reply, "550 5.7.1 Message could not be scanned completely", \
	  conf_check_reply5xx, "detector", \
	  "The reply when unscannable_action = block.") \
	X(STR, unscannable_header, "", conf_check_header, "detector", \
	  "A header (Name: value) added to a message that passes although it " \
	  "was not scanned completely. Empty: none.") \
	X(STR, incident_log, "/var/log/dlpgate/incidents.log", conf_check_path, \
	  "detector", \
	  "The incident log: one JSON line per message that matched a policy " \
	  "(masked samples only), fsync'd. Empty: no incident log.") \
	X(ENUM, incident_syslog, "none", "detector", \
	  "Also send each incident to a syslog stream, for a SIEM: rfc5424 " \
	  "(RFC 5424, the incident's fields as structured data " \
	  "[dlpgate@32473 ...]) or json (the incident log's JSON line as the " \
	  "message); none: only the incident log. Matches are masked as in " \
	  "the incident log. See dlpgate.log(5).") \
	X(STR, incident_syslog_server, "/dev/log", conf_check_syslog_server, \
	  "detector", \
	  "Where incident_syslog sends: a local socket path (/dev/log: the " \
	  "system's syslog daemon), udp:host:port (one datagram per incident) " \
	  "or tcp:host:port (RFC 6587 octet counting), e.g. udp:127.0.0.1:514.") \
	X(CODE, incident_syslog_facility, int, "mail", "detector", \
	  "Syslog facility of the incident stream (severity: the incident's, " \
	  "high as crit, medium as err, low as warning, info as info).") \
	X(STR, notify_relay, "127.0.0.1:10026", conf_check_hostport, "detector", \
	  "SMTP server that takes incident notifications: the MTA's " \
	  "reinjection listener, so notifications are not filtered again.") \
	X(STR, notify_from, "", NULL, "detector", \
	  "Sender address of incident notifications. Empty: postmaster@ the " \
	  "host name.") \
	X(STR, notify_queue_directory, "/var/spool/dlpgate/notify", conf_check_path, \
	  "detector", \
	  "Where notifications wait until notify_relay takes them.") \
	X(STR, notify_template, "", NULL, "detector", \
	  "File with the notification text (relative to the configuration " \
	  "directory or absolute), with ${policy}, ${severity}, ${action}, " \
	  "${sender}, ${recipients}, ${subject}, ${matches}, ${incident}, " \
	  "${time}. Empty: the built-in text.") \
	X(TIME, notify_timeout, "30s", 1, 600, "detector", \
	  "How long a notification's SMTP exchange may wait at each step.") \
	X(TIME, notify_retry_time, "60s", 10, 86400, "detector", \
	  "First delay before a failed notification is tried again; the " \
	  "delay doubles up to an hour.") \
	X(TIME, notify_max_age, "2d", 60, 2592000, "detector", \
	  "How long a notification is retried before it is given up (logged).") \
	\
	/* ---- TLS: tlsmgr, keystore, inbound and outbound TLS ---- */ \
	\
	X(STR, keystore, "", conf_check_path, "tlsmgr", \
	  "The PKCS#12 keystore (keytool's format) with dlpgate's private " \
	  "key and certificate chain and the trusted next-hop certificates. " \
	  "Empty: keystore.p12 in the configuration directory. Only the " \
	  "tlsmgr user should read it; tlsmgr creates one with a " \
	  "self-signed certificate for helo_name when it is missing.") \
	X(STR, keystore_password_file, "", conf_check_path, "tlsmgr", \
	  "File whose first line is the keystore password (also the key " \
	  "password, as keytool makes them). Empty: keystore.pass in the " \
	  "configuration directory.") \
	X(STR, tls_key_alias, "", NULL, "tlsmgr", \
	  "Alias of the keystore's private key entry that dlpgate serves. " \
	  "Empty: the only private key entry in the keystore, or the one " \
	  "named dlpgate.") \
	X(TIME, tls_session_timeout, "3600s", 60, 86400, "tlsmgr", \
	  "Lifetime of TLS sessions: session tickets given to clients " \
	  "(their keys rotate at this interval) and next-hop sessions " \
	  "cached by tlsmgr.") \
	X(INT, tls_session_cache_size, "1000", 0, 100000, "tlsmgr", \
	  "Most next-hop TLS sessions tlsmgr keeps for resumption (0: none).") \
	X(TIME, tlsmgr_timeout, "10s", 1, 300, "smtpd-proxy", \
	  "How long a worker waits for tlsmgr (certificate chain, a " \
	  "signature, ticket keys).") \
	X(ENUM, inbound_tls, "may", "smtpd-proxy", \
	  "STARTTLS from the sending MTA: none (not offered), may (offered) " \
	  "or encrypt (required: MAIL before STARTTLS gets 530 5.7.0).") \
	X(ENUM, outbound_tls, "mirror", \
	  "smtpd-proxy", \
	  "TLS to the next hop. mirror: exactly when the client used " \
	  "STARTTLS, and then the next hop must verify (see mirror_verify). " \
	  "none: never. may: when offered, unverified, falling back to " \
	  "plain text. encrypt: required, unverified. verify: required, the " \
	  "chain must lead to a trusted keystore certificate. secure: as " \
	  "verify, and the certificate must name the next hop.") \
	X(BOOL, mirror_verify, "yes", "smtpd-proxy", \
	  "In mirror mode, the next hop must authenticate itself against " \
	  "the keystore's trusted certificates (Network Prevent's rule). " \
	  "no: encrypt without verifying, for labs.") \
	X(BOOL, outbound_tls_client_cert, "no", "smtpd-proxy", \
	  "Present dlpgate's certificate (the keystore's key entry, signed " \
	  "through tlsmgr as on the server side) to a next hop that asks for " \
	  "a client certificate, for next hops that authenticate their " \
	  "clients. TLS 1.3 only: over TLS 1.2 no certificate is sent, and " \
	  "the log says so (4014). Set it in dlpgate.conf: tlsmgr reads it " \
	  "too, and signs a client CertificateVerify only then.") \
	X(BOOL, tls_use_system_ca, "no", "smtpd-proxy", \
	  "Also trust the system's CA bundle when verifying next hops.") \
	X(STR, outbound_tls_match_name, "", conf_check_hostname, "smtpd-proxy", \
	  "With outbound_tls = secure, the name the next hop's certificate " \
	  "must carry. Empty: the host name of the next_hop entry (or its " \
	  "address in reflecting mode).") \
	X(LIST, tls_protocols, "TLSv1.2, TLSv1.3", conf_check_tls_protocol, \
	  "smtpd-proxy", \
	  "TLS versions used on both sides: TLSv1.2 and/or TLSv1.3.") \
	X(STR, tls_ciphers, "ECDHE+AESGCM:ECDHE+CHACHA20", conf_check_tls_text, \
	  "smtpd-proxy", \
	  "OpenSSL cipher list for TLS 1.2 from clients. Anonymous, export, " \
	  "NULL, RC4, 3DES, MD5 and non-ECDHE suites are always removed: " \
	  "tlsmgr signs ECDHE handshakes and never decrypts.") \
	X(STR, tls_ciphersuites, \
	  "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256", \
	  conf_check_tls_text, "smtpd-proxy", \
	  "TLS 1.3 cipher suites, both sides.") \
	X(STR, outbound_tls_ciphers, "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:!PSK:!SRP", \
	  conf_check_tls_text, "smtpd-proxy", \
	  "OpenSSL cipher list for TLS 1.2 to next hops.") \
	X(TIME, tls_handshake_timeout, "60s", 1, 600, "smtpd-proxy", \
	  "How long a TLS handshake may take, on either side.") \
	X(BOOL, tls_wrapper_mode, "no", "smtpd-proxy", \
	  "Implicit TLS (the 465 style): the client's TLS handshake comes " \
	  "first, before the banner. Set it for one listener in master.conf: " \
	  "options = { tls_wrapper_mode = true; };") \
	\
	/* ---- operations: metrics, status ---- */ \
	\
	X(STR, metrics_listen, "", conf_check_loopback, "master", \
	  "Address of master's Prometheus listener (GET /metrics), e.g. " \
	  "127.0.0.1:9125. Empty (the default): no listener; `dlpgate status " \
	  "--prometheus` gives the same text. Loopback addresses only: put a " \
	  "scraper or a reverse proxy on the same host.") \
	\
	/* ---- forwarding: DNS, clusters ---- */ \
	\
	X(ENUM, next_hop_lookup, "static", "smtpd-proxy", \
	  "Forwarding mode: static uses each next_hop entry as a host; mx " \
	  "takes each entry as a domain and looks up its MX records (lowest " \
	  "preference first, equal preferences in random order, the " \
	  "domain's own A/AAAA when it has no MX, a null MX meaning no " \
	  "delivery). A [bracketed] entry is never looked up as MX, as in " \
	  "Postfix. Every address is tried in order until one answers 220.") \
	X(ENUM, next_hop_host_lookup, "native", "smtpd-proxy", \
	  "How a host name in next_hop (static, or [bracketed] with mx) " \
	  "becomes addresses: native uses the system resolver and " \
	  "/etc/hosts; dns asks dns_servers for A and AAAA records, with " \
	  "the DNS cache. MX exchangers are always looked up in DNS.") \
	X(INT, next_hop_address_limit, "10", 1, 100, "smtpd-proxy", \
	  "Most next-hop addresses tried for one session before the client " \
	  "gets 421 4.4.1 (Postfix's smtp_mx_address_limit).") \
	X(LIST, dns_servers, "", conf_check_dns_server, "smtpd-proxy", \
	  "DNS servers for MX and address lookups, as address, " \
	  "address:port or [address]:port, tried in turn. Empty: the " \
	  "nameservers of /etc/resolv.conf (read at start; copy it into a " \
	  "chroot).") \
	X(TIME, dns_timeout, "10s", 1, 300, "smtpd-proxy", \
	  "Time budget for resolving one next_hop entry (MX and address " \
	  "queries, every server and retry together). When it runs out, " \
	  "the client gets 451 4.4.3.") \
	X(INT, dns_cache_size, "100", 0, 10000, "smtpd-proxy", \
	  "Most next-hop domains whose lookup result each worker keeps, for " \
	  "the records' TTL (0: no cache). Temporary failures are never " \
	  "cached; the order of equal-preference MX hosts is drawn anew for " \
	  "every session.") \
	X(TIME, dns_cache_max_ttl, "1h", 0, 86400, "smtpd-proxy", \
	  "Longest time a DNS answer is cached, whatever its TTL; negative " \
	  "answers are cached for the zone's SOA minimum, within the same " \
	  "bound (0: no cache).") \
	X(BOOL, proxy_protocol, "no", "smtpd-proxy", \
	  "Expect a PROXY protocol header (v1 or v2, as HAProxy's " \
	  "send-proxy and send-proxy-v2 write it) at the start of every " \
	  "connection, and take the client's address from it: reflecting " \
	  "mode, allow_hosts, logs and the detector then see the real MTA. " \
	  "A connection without a valid header is closed. Set it per " \
	  "service in master.conf: options = { proxy_protocol = \"yes\"; };") \
	X(LIST, proxy_protocol_hosts, "127.0.0.0/8, ::1/128", conf_check_cidr, \
	  "smtpd-proxy", \
	  "With proxy_protocol: the load balancers allowed to send a PROXY " \
	  "header. A connection from any other address is closed before " \
	  "a byte is read, so a header cannot be spoofed around the load " \
	  "balancer.") \
	X(TIME, proxy_protocol_timeout, "5s", 1, 300, "smtpd-proxy", \
	  "How long a load balancer may take to send the whole PROXY " \
	  "header (Postfix's smtpd_upstream_proxy_timeout).") \
	X(LIST, next_hop_bind_address, "", conf_check_bind_address, "smtpd-proxy", \
	  "Source address of connections to the next hop (Postfix's " \
	  "smtp_bind_address and smtp_bind_address6): one IPv4 and/or one " \
	  "IPv6 address of this host, used for next hops of the same " \
	  "family, so the receiving MTA can route or trust by client IP. " \
	  "Empty: the system chooses.") \
	X(LIST, xforward_hosts, "", conf_check_cidr, "smtpd-proxy", \
	  "Clients that may send XFORWARD (the sending MTA's " \
	  "smtp_send_xforward_command), relayed to a next hop that offers " \
	  "it so the reinjecting MTA logs the original client (Postfix's " \
	  "smtpd_authorized_xforward_hosts). Empty: nobody. Others are not " \
	  "offered XFORWARD and get 550 5.7.0. XCLIENT is never accepted.") \
	\
	/* ---- fingerprints: Exact Data Matching, Indexed Document Matching ---- */ \
	\
	X(STR, fingerprint_directory, "/var/lib/dlpgate/fingerprints", NULL, "detector", \
	  "Directory of the fingerprint indexes that dlpindex writes " \
	  "(NAME.edm for Exact Data Matching, NAME.idm for Indexed Document " \
	  "Matching) and edm and document rules name. Relative to the " \
	  "configuration directory, or absolute. Read like the policies: " \
	  "at start and at each `dlpgate reload`; a broken index is refused " \
	  "and the last good copy keeps running.") \
	X(STR, fingerprint_key, "", NULL, "detector", \
	  "File with the secret of the fingerprint indexes' keyed hashes " \
	  "(relative to the configuration directory, or absolute). Empty: " \
	  "fingerprint.key beside the keystore. dlpindex makes it with the " \
	  "first index, readable by the detector's user only; an index made " \
	  "under another secret is refused.")

/* clang-format on */
/* The externs: a variable per setting, an enum and a choice table per ENUM. */
#define CONF_ENUM_CONSTANT(constant, text) constant,
#define CONF_EXTERN(kind, name, ...)       CONF_EXTERN_##kind(name, __VA_ARGS__)
#define CONF_EXTERN_STR(name, ...)         extern char *var_##name;
#define CONF_EXTERN_LIST(name, ...)        extern struct conf_list var_##name;
#define CONF_EXTERN_BOOL(name, ...)        extern int var_##name;
#define CONF_EXTERN_INT(name, ...)         extern int var_##name;
#define CONF_EXTERN_TIME(name, ...)        extern int var_##name;
#define CONF_EXTERN_SIZE(name, ...)        extern long long var_##name;
#define CONF_EXTERN_ENUM(name, ...) \
	enum conf_##name{CONF_CHOICES_##name(CONF_ENUM_CONSTANT)}; \
	extern enum conf_##name var_##name; \
	extern const struct conf_choice conf_choices_##name[];
#define CONF_EXTERN_CODE(name, type, ...) \
	extern type var_##name; \
	extern const struct conf_choice conf_choices_##name[];

CONF_PARAMS(CONF_EXTERN)

/* CONF_NAME - the text of an ENUM or CODE setting's live value */
#define CONF_NAME(name) conf_code_name(conf_choices_##name, (int) var_##name)

void conf_helo_name(char *buf, size_t len);
int conf_check_syslog_server(const char *value, char *err, size_t errlen);
int conf_check_reply5xx(const char *value, char *err, size_t errlen);

#endif
