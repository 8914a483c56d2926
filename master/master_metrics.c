/*
 * master_metrics - what `dlpgate status` and the Prometheus metrics show
 *
 * master_render_status() writes the report for an administrator: master's
 * pid, uptime, generation and state, one line per service (busy, idle,
 * limit, children of older generations still finishing their sessions,
 * throttled or not), and the counters since master started, summed over
 * the services. master_render_prometheus() writes the same in the
 * Prometheus text exposition format (version 0.0.4), with the counters
 * per service; the metric names are documented in dlpgate(8).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf_params.h"
#include "server.h"
#include "master.h"

/* master_retiring - children of a service from older generations */
static int master_retiring(const char *name)
{
	struct master_child *child;
	int n = 0;

	TAILQ_FOREACH(child, &master_children, link)
	if (child->svc == NULL && strcmp(child->svc_name, name) == 0)
		n++;
	return n;
}

/* master_duration - "3d 4h", "2h 5m", "5m 12s", "7s" */
static void master_duration(struct buf *out, long secs)
{
	if (secs >= 86400)
		buf_printf(out, "%ldd %ldh", secs / 86400, secs % 86400 / 3600);
	else if (secs >= 3600)
		buf_printf(out, "%ldh %ldm", secs / 3600, secs % 3600 / 60);
	else if (secs >= 60)
		buf_printf(out, "%ldm %lds", secs / 60, secs % 60);
	else
		buf_printf(out, "%lds", secs);
}

/* master_totals - the counters summed over every service name */
static void master_totals(uint64_t *sum, uint64_t *died)
{
	memset(sum, 0, sizeof(uint64_t) * SERVER_STAT_COUNT);
	*died = 0;
	for (size_t i = 0; i < master_ncounters; i++) {
		for (int j = 0; j < SERVER_STAT_COUNT; j++)
			sum[j] += master_counters[i].stat[j];
		*died += master_counters[i].died;
	}
}

/* master_render_status - the report of `dlpgate status` */
void master_render_status(struct buf *out)
{
	time_t now = time(NULL);
	uint64_t sum[SERVER_STAT_COUNT], died;
	char when[64];
	struct tm tm;

	localtime_r(&master_start_time, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	buf_printf(out, "dlpgate is %s: pid %ld, up ", master_state_name(), (long) getpid());
	master_duration(out, (long) (now - master_start_time));
	buf_printf(out, " (since %s), generation %u\n", when, master_generation);
	buf_printf(out, "configuration %s, privilege separation %s\n\n", master_confdir,
		   master_privsep ? "on" : "off (not started as root)");
	buf_printf(out, "%-16s %-4s %5s %5s %6s %8s  %s\n", "service", "type", "busy", "idle",
		   "limit", "retiring", "state");
	for (size_t i = 0; i < master_nservices; i++) {
		struct master_service *svc = &master_services[i];

		buf_printf(out, "%-16s %-4s %5d %5d %6d %8d  ", svc->conf->name,
			   svc->conf->type, svc->total - svc->avail, svc->avail,
			   svc->conf->process_limit, master_retiring(svc->conf->name));
		if (svc->throttle_until) {
			buf_puts(out, "throttled (");
			master_duration(out,
					(long) (svc->throttle_until > now
							? svc->throttle_until - now
							: 0));
			buf_puts(out, " left)\n");
		} else if (svc->nfds == 0) {
			buf_puts(out, "not accepting\n");
		} else {
			buf_puts(out, "ok\n");
		}
	}
	master_totals(sum, &died);
	buf_puts(out, "\ncounters since start\n");
	buf_printf(out, "  %-22s %llu\n", "sessions",
		   (unsigned long long) sum[SERVER_STAT_SESSIONS]);
	buf_printf(out, "  %-22s %llu\n", "messages",
		   (unsigned long long) sum[SERVER_STAT_MESSAGES]);
	buf_printf(out, "  %-22s %llu\n", "bytes", (unsigned long long) sum[SERVER_STAT_BYTES]);
	buf_printf(out,
		   "  %-22s pass=%llu block=%llu redirect=%llu modify=%llu "
		   "tempfail=%llu\n",
		   "verdicts", (unsigned long long) sum[SERVER_STAT_PASS],
		   (unsigned long long) sum[SERVER_STAT_BLOCK],
		   (unsigned long long) sum[SERVER_STAT_REDIRECT],
		   (unsigned long long) sum[SERVER_STAT_MODIFY],
		   (unsigned long long) sum[SERVER_STAT_TEMPFAIL]);
	buf_printf(out, "  %-22s %llu\n", "rejected before scan",
		   (unsigned long long) sum[SERVER_STAT_REJECTED]);
	buf_printf(out, "  %-22s in=%llu out=%llu\n", "TLS sessions",
		   (unsigned long long) sum[SERVER_STAT_TLS_IN],
		   (unsigned long long) sum[SERVER_STAT_TLS_OUT]);
	buf_printf(out, "  %-22s %llu\n", "detector failures",
		   (unsigned long long) sum[SERVER_STAT_DET_FAIL]);
	buf_printf(out, "  %-22s %llu\n", "children died", (unsigned long long) died);
}

/* master_prom_head - the HELP and TYPE lines of a metric */
static void master_prom_head(struct buf *out, const char *name, const char *type,
			     const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* master_prom_counter - one counter family, one sample per service */
static void master_prom_counter(struct buf *out, const char *metric, const char *label,
				int first, int last, const char *help)
{
	master_prom_head(out, metric, "counter", help);
	for (size_t i = 0; i < master_ncounters; i++) {
		for (int s = first; s <= last; s++) {
			buf_printf(out, "%s{service=\"%s\"", metric, master_counters[i].name);
			if (label)
				buf_printf(out, ",%s=\"%s\"", label,
					   strchr(server_stat_name(s), '_')
						   ? strchr(server_stat_name(s), '_') + 1
						   : server_stat_name(s));
			buf_printf(out, "} %llu\n",
				   (unsigned long long) master_counters[i].stat[s]);
		}
	}
}

/* master_render_prometheus - the metrics in the Prometheus text format */
void master_render_prometheus(struct buf *out)
{
	time_t now = time(NULL);

	/* every inet service has counters, zero until it reports */
	for (size_t i = 0; i < master_nservices; i++)
		if (strcmp(master_services[i].conf->type, "inet") == 0)
			(void) master_counters_of(master_services[i].conf->name);
	master_prom_head(out, "dlpgate_up", "gauge", "1 when master runs.");
	buf_puts(out, "dlpgate_up 1\n");
	master_prom_head(out, "dlpgate_start_time_seconds", "gauge",
			 "When master started, in seconds since the epoch.");
	buf_printf(out, "dlpgate_start_time_seconds %lld\n", (long long) master_start_time);
	master_prom_head(out, "dlpgate_uptime_seconds", "gauge",
			 "Seconds since master started.");
	buf_printf(out, "dlpgate_uptime_seconds %lld\n", (long long) (now - master_start_time));
	master_prom_head(out, "dlpgate_generation", "gauge",
			 "Configuration generation: 1 at start, +1 per reload.");
	buf_printf(out, "dlpgate_generation %u\n", master_generation);
	master_prom_head(out, "dlpgate_draining", "gauge",
			 "1 while master drains or stops: no new sessions.");
	buf_printf(out, "dlpgate_draining %d\n", strcmp(master_state_name(), "running") != 0);
	master_prom_head(out, "dlpgate_service_processes", "gauge",
			 "Children of a service by state (retiring: older generation).");
	for (size_t i = 0; i < master_nservices; i++) {
		struct master_service *svc = &master_services[i];
		const char *n = svc->conf->name;

		buf_printf(out, "dlpgate_service_processes{service=\"%s\",state=\"busy\"} %d\n",
			   n, svc->total - svc->avail);
		buf_printf(out, "dlpgate_service_processes{service=\"%s\",state=\"idle\"} %d\n",
			   n, svc->avail);
		buf_printf(out,
			   "dlpgate_service_processes{service=\"%s\",state=\"retiring\"} %d\n",
			   n, master_retiring(n));
	}
	master_prom_head(out, "dlpgate_service_process_limit", "gauge",
			 "process_limit of a service.");
	for (size_t i = 0; i < master_nservices; i++)
		buf_printf(out, "dlpgate_service_process_limit{service=\"%s\"} %d\n",
			   master_services[i].conf->name,
			   master_services[i].conf->process_limit);
	master_prom_head(out, "dlpgate_service_throttled", "gauge",
			 "1 while a service is throttled after children died before serving.");
	for (size_t i = 0; i < master_nservices; i++)
		buf_printf(out, "dlpgate_service_throttled{service=\"%s\"} %d\n",
			   master_services[i].conf->name,
			   master_services[i].throttle_until != 0);
	master_prom_counter(out, "dlpgate_sessions_total", NULL, SERVER_STAT_SESSIONS,
			    SERVER_STAT_SESSIONS, "SMTP sessions accepted.");
	master_prom_counter(out, "dlpgate_messages_total", NULL, SERVER_STAT_MESSAGES,
			    SERVER_STAT_MESSAGES, "Messages received and scanned.");
	master_prom_counter(out, "dlpgate_message_bytes_total", NULL, SERVER_STAT_BYTES,
			    SERVER_STAT_BYTES, "Bytes of message content received.");
	master_prom_counter(out, "dlpgate_verdicts_total", "verdict", SERVER_STAT_PASS,
			    SERVER_STAT_TEMPFAIL, "Messages by verdict.");
	master_prom_counter(out, "dlpgate_messages_rejected_total", NULL, SERVER_STAT_REJECTED,
			    SERVER_STAT_REJECTED,
			    "Messages refused before the scan (size, line length).");
	master_prom_head(out, "dlpgate_tls_sessions_total", "counter",
			 "TLS sessions by direction (in: with clients, out: with next hops).");
	for (size_t i = 0; i < master_ncounters; i++) {
		buf_printf(out,
			   "dlpgate_tls_sessions_total{service=\"%s\",direction=\"in\"} %llu\n",
			   master_counters[i].name,
			   (unsigned long long) master_counters[i].stat[SERVER_STAT_TLS_IN]);
		buf_printf(
			out,
			"dlpgate_tls_sessions_total{service=\"%s\",direction=\"out\"} %llu\n",
			master_counters[i].name,
			(unsigned long long) master_counters[i].stat[SERVER_STAT_TLS_OUT]);
	}
	master_prom_counter(out, "dlpgate_detector_failures_total", NULL, SERVER_STAT_DET_FAIL,
			    SERVER_STAT_DET_FAIL,
			    "Messages the detector could not scan (unreachable or late).");
	master_prom_head(out, "dlpgate_children_died_total", "counter",
			 "Children that exited abnormally.");
	for (size_t i = 0; i < master_ncounters; i++)
		buf_printf(out, "dlpgate_children_died_total{service=\"%s\"} %llu\n",
			   master_counters[i].name,
			   (unsigned long long) master_counters[i].died);
}
