/*
 * conf_params - the variables that hold dlpgate's settings
 *
 * Each variable here has exactly one entry in the table in conf_params.c,
 * which gives its name, default, bounds and description. Read them after
 * conf_load(); never write them.
 */
#ifndef DLP_CONF_PARAMS_H
#define DLP_CONF_PARAMS_H

#include "conf.h"

/* Everyone */
extern char *var_daemon_directory;
extern char *var_run_directory;
extern char *var_syslog_facility;
extern char *var_syslog_name;
extern char *var_log_level;
extern char *var_helo_name;
void conf_helo_name(char *buf, size_t len);

/* master */
extern int var_shutdown_timeout;
extern int var_service_throttle_time;

/* smtpd-proxy: modes and next hops */
extern char *var_operating_mode;
extern int var_resubmit_port;
extern struct conf_list var_next_hop;
extern struct conf_list var_allow_hosts;

/* smtpd-proxy: limits and timeouts */
extern int var_smtpd_timeout;
extern int var_smtpd_data_timeout;
extern int var_next_hop_connect_timeout;
extern int var_next_hop_timeout;
extern int var_next_hop_data_timeout;
extern int var_next_hop_data_done_timeout;
extern long long var_message_size_limit;
extern int var_command_length_limit;
extern int var_line_length_limit;
extern int var_smtpd_recipient_limit;
extern int var_smtpd_hard_error_limit;

/* smtpd-proxy and detector: verdicts */
extern char *var_detector_failure;
extern int var_detector_timeout;
extern int var_add_default_header;
extern char *var_default_pass_header;

/* detector: policies, incidents, notifications */
extern char *var_policy_file;
extern struct conf_list var_internal_domains;
extern int var_trial_mode;
extern char *var_violation_count_header;
extern char *var_violation_severity_header;
extern char *var_detector_failure_header;
extern struct conf_list var_loop_guard_hosts;
extern int var_detector_depth_limit;
extern int var_detector_part_limit;
extern long long var_detector_decoded_size_limit;
extern char *var_unscannable_action;
extern char *var_unscannable_reply;
extern char *var_unscannable_header;
extern char *var_incident_log;
extern char *var_notify_relay;
extern char *var_notify_from;
extern char *var_notify_queue_directory;
extern char *var_notify_template;
extern int var_notify_timeout;
extern int var_notify_retry_time;
extern int var_notify_max_age;
int conf_check_reply5xx(const char *value, char *err, size_t errlen);

/* TLS: tlsmgr, keystore, inbound and outbound TLS */
extern char *var_keystore;
extern char *var_keystore_password_file;
extern char *var_tls_key_alias;
extern int var_tls_session_timeout;
extern int var_tls_session_cache_size;
extern int var_tlsmgr_timeout;
extern char *var_inbound_tls;
extern char *var_outbound_tls;
extern int var_mirror_verify;
extern int var_tls_use_system_ca;
extern char *var_outbound_tls_match_name;
extern struct conf_list var_tls_protocols;
extern char *var_tls_ciphers;
extern char *var_tls_ciphersuites;
extern char *var_outbound_tls_ciphers;
extern int var_tls_handshake_timeout;
extern int var_tls_wrapper_mode;

/* operations: metrics, status */
extern char *var_metrics_listen;

/* forwarding: DNS, clusters */
extern char *var_next_hop_lookup;
extern char *var_next_hop_host_lookup;
extern int var_next_hop_address_limit;
extern struct conf_list var_dns_servers;
extern int var_dns_timeout;
extern int var_dns_cache_size;
extern int var_dns_cache_max_ttl;
extern int var_proxy_protocol;
extern struct conf_list var_proxy_protocol_hosts;
extern int var_proxy_protocol_timeout;
extern struct conf_list var_xforward_hosts;
extern struct conf_list var_next_hop_bind_address;

#endif
