/* metrics.c — Prometheus text exposition of a gateway (see metrics.h).
 *
 * Families come from the same X-macro as the log line, so a counter added
 * to KG_STATS appears here with its help text and labels and nothing else
 * to write.  Label values are kgate's own words (listener and API names),
 * never a peer's.
 */
#include "metrics.h"

#include <dirent.h>
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../protocol/kapi.h"
#include "aws_creds.h"
#include "gateway.h"

#ifndef KGATE_VERSION
#define KGATE_VERSION "unknown"
#endif

static int cmp_id(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* The keys of m in ascending order (malloc'd; *n set), or NULL if empty or
 * out of memory. */
static int32_t *sorted_ids(const struct idmap *m, size_t *n)
{
	int32_t *ids = m->n ? malloc(m->n * sizeof(*ids)) : NULL;

	*n = 0;
	if (!ids)
		return NULL;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].val)
			ids[(*n)++] = m->slots[i].key;
	qsort(ids, *n, sizeof(*ids), cmp_id);
	return ids;
}

static void head(struct evbuffer *out, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

#define KG_FAMILY_MAX 96
/* One counter of KG_STATS, as a family of its own labels (a reason row is
 * one series of a family; last holds the family the previous row was in). */
static void family(struct evbuffer *out, const struct gw_counters *c, const char *name,
		   const char *type, const char *label, const char *help, size_t offset,
		   char *last)
{
	char full[KG_FAMILY_MAX];
	size_t n;
	int32_t *ids;

#define FIELD(s) (*(const uint64_t *)((const char *)(s) + offset))
	if (strcmp(label, "reason") == 0) {
		const char *sep = strstr(name, "__");

		snprintf(full, sizeof(full), "kgate_%.*s_total", (int)(sep - name), name);
		/* The family's rows follow each other: one header for them. */
		if (strcmp(full, last) != 0)
			head(out, full, type, help);
		snprintf(last, KG_FAMILY_MAX, "%s", full);
		evbuffer_add_printf(out, "%s{reason=\"%s\"} %" PRIu64 "\n", full, sep + 2,
				    FIELD(&c->total));
		return;
	}
	snprintf(full, sizeof(full), "kgate_%s%s", name, strcmp(type, "counter") ? "" : "_total");
	head(out, full, type, help);
	if (strcmp(label, "none") == 0) {
		evbuffer_add_printf(out, "%s %" PRIu64 "\n", full, FIELD(&c->total));
		return;
	}
	if (strcmp(label, "listener") == 0) {
		evbuffer_add_printf(out, "%s{listener=\"bootstrap\"} %" PRIu64 "\n", full,
				    FIELD(&c->bootstrap));
		if (c->has_sni)
			evbuffer_add_printf(out, "%s{listener=\"sni\"} %" PRIu64 "\n", full,
					    FIELD(&c->sni));
		ids = sorted_ids(&c->brokers, &n);
		for (size_t i = 0; i < n; i++)
			evbuffer_add_printf(out, "%s{listener=\"broker-%" PRId32 "\"} %" PRIu64 "\n",
					    full, ids[i],
					    FIELD(idmap_get(&c->brokers, ids[i])));
		free(ids);
		return;
	}
	if (strcmp(label, "node") == 0) {
		/* Only ids seen: a family without samples says "none so far". */
		ids = sorted_ids(&c->unmapped, &n);
		for (size_t i = 0; i < n; i++)
			evbuffer_add_printf(out, "%s{node=\"%" PRId32 "\"} %" PRIu64 "\n", full, ids[i],
					    *(const uint64_t *)idmap_get(&c->unmapped, ids[i]));
		free(ids);
		if (c->unmapped_other)
			evbuffer_add_printf(out, "%s{node=\"other\"} %" PRIu64 "\n", full,
					    c->unmapped_other);
		return;
	}
	for (unsigned slot = 0; slot < KG_API_SLOTS; slot++) {
		uint64_t v = FIELD(&c->apis[slot].c);
		char scratch[32];

		if (v)
			evbuffer_add_printf(out, "%s{api=\"%s\"} %" PRIu64 "\n", full,
					    slot == KG_API_SLOTS - 1
						    ? "other"
						    : kapi_name((int16_t)slot, scratch, sizeof(scratch)),
					    v);
	}
#undef FIELD
}

static void latency(struct evbuffer *out, const struct gw_counters *c)
{
	static const char name[] = "kgate_upstream_response_seconds";

	head(out, name, "histogram",
	     "time from a request forwarded to the start of its response, by API");
	for (unsigned slot = 0; slot < KG_API_SLOTS; slot++) {
		const struct kg_latency *l = &c->apis[slot].latency;
		char scratch[32];
		const char *api = slot == KG_API_SLOTS - 1
					  ? "other"
					  : kapi_name((int16_t)slot, scratch, sizeof(scratch));

		if (!l->count)
			continue;
		for (unsigned i = 0; i < KG_LATENCY_N; i++)
			evbuffer_add_printf(out, "%s_bucket{api=\"%s\",le=\"%g\"} %" PRIu64 "\n", name,
					    api, kg_latency_bound(i), l->le[i]);
		evbuffer_add_printf(out, "%s_bucket{api=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", name, api,
				    l->count);
		evbuffer_add_printf(out, "%s_sum{api=\"%s\"} %.9f\n", name, api, l->sum);
		evbuffer_add_printf(out, "%s_count{api=\"%s\"} %" PRIu64 "\n", name, api, l->count);
	}
}

/* How the load spreads over the workers (SO_REUSEPORT hashes connections
 * to them): a worker far from the others' share is worth seeing. */
static void workers(struct evbuffer *out, const struct gw_counters *c)
{
	head(out, "kgate_workers", "gauge", "worker threads, each with its own event loop");
	evbuffer_add_printf(out, "kgate_workers %u\n", c->n_workers);
	head(out, "kgate_worker_connections_accepted_total", "counter",
	     "client connections accepted, by worker");
	for (unsigned i = 0; i < c->n_workers; i++)
		evbuffer_add_printf(out, "kgate_worker_connections_accepted_total{worker=\"%u\"} %" PRIu64
				    "\n", i, c->workers[i].connections_accepted);
	head(out, "kgate_worker_connections_open", "gauge", "client connections open now, by worker");
	for (unsigned i = 0; i < c->n_workers; i++)
		evbuffer_add_printf(out, "kgate_worker_connections_open{worker=\"%u\"} %" PRIu64 "\n", i,
				    c->workers[i].connections_open);
}

static void gateway_state(struct evbuffer *out, const struct gateway *gw)
{
	size_t n;
	int32_t *ids = sorted_ids(&gw->health, &n);

	head(out, "kgate_broker_up", "gauge",
	     "1 if kgate's last dial to the broker, or the last listing of the cluster's "
	     "brokers, found it there");
	for (size_t i = 0; i < n; i++) {
		const struct gw_broker_health *h = idmap_get(&gw->health, ids[i]);

		evbuffer_add_printf(out, "kgate_broker_up{broker=\"%" PRId32 "\"} %d\n", ids[i],
				    h->up);
	}
	free(ids);
	head(out, "kgate_brokers_known", "gauge", "brokers whose address kgate has learned");
	evbuffer_add_printf(out, "kgate_brokers_known %zu\n", gw->cluster.nodes.n);
	head(out, "kgate_config_generation", "gauge",
	     "the configuration generation running: 1 at start, one more per reload");
	evbuffer_add_printf(out, "kgate_config_generation %" PRIu64 "\n", gw->gen->number);
	head(out, "kgate_reloads_total", "counter", "configuration reloads (SIGHUP), by result");
	evbuffer_add_printf(out, "kgate_reloads_total{result=\"success\"} %" PRIu64 "\n",
			    gw->reloads_ok);
	evbuffer_add_printf(out, "kgate_reloads_total{result=\"failure\"} %" PRIu64 "\n",
			    gw->reloads_failed);
	head(out, "kgate_draining", "gauge", "1 while kgate drains its connections to stop");
	evbuffer_add_printf(out, "kgate_draining %d\n", gw->draining);
	head(out, "kgate_build_info", "gauge", "the kgate build running");
	evbuffer_add_printf(out, "kgate_build_info{version=\"%s\"} 1\n", KGATE_VERSION);
}

/* The AWS credentials IAM sign-ins use, when the configuration has any. */
static void aws_credentials(struct evbuffer *out, const struct gateway *gw)
{
	struct aws_creds_stats s;

	if (!cfg_iam_region(gateway_cfg(gw)))
		return;
	aws_creds_stats(&s);
	head(out, "kgate_aws_credentials_refreshes_total", "counter",
	     "AWS credentials fetched (the first included)");
	evbuffer_add_printf(out, "kgate_aws_credentials_refreshes_total %" PRIu64 "\n", s.refreshes);
	head(out, "kgate_aws_credentials_failures_total", "counter",
	     "credential fetches that found nothing (the log says why, provider by provider)");
	evbuffer_add_printf(out, "kgate_aws_credentials_failures_total %" PRIu64 "\n", s.failures);
	head(out, "kgate_aws_credentials_expiry_seconds", "gauge",
	     "when the current AWS credentials expire (unix seconds; 0: never, or none)");
	evbuffer_add_printf(out, "kgate_aws_credentials_expiry_seconds %" PRId64 "\n", s.expiry);
	head(out, "kgate_aws_credentials_available", "gauge",
	     "1 if kgate has AWS credentials to sign in with now");
	evbuffer_add_printf(out, "kgate_aws_credentials_available{provider=\"%s\"} %d\n",
			    s.provider, s.have);
}

/* Virtual and resident size, from /proc/self/statm (in pages). */
static void memory(struct evbuffer *out)
{
	unsigned long size = 0, resident = 0;
	long page = sysconf(_SC_PAGESIZE);
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return;
	if (fscanf(f, "%lu %lu", &size, &resident) == 2) {
		head(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
		evbuffer_add_printf(out, "process_virtual_memory_bytes %lu\n", size * (unsigned long)page);
		head(out, "process_resident_memory_bytes", "gauge",
		     "Resident memory size in bytes.");
		evbuffer_add_printf(out, "process_resident_memory_bytes %lu\n",
				    resident * (unsigned long)page);
	}
	fclose(f);
}

/* Seconds since the epoch when this process started: its start time in
 * ticks after boot (/proc/self/stat) plus the boot time (/proc/stat, a large
 * file on a machine with many interrupts: read once). */
static double start_time(void)
{
	static double known;
	char buf[1024], *p;
	unsigned long long ticks = 0, btime = 0;
	FILE *f;
	size_t n;

	if (known > 0)
		return known;
	f = fopen("/proc/self/stat", "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Field 22; the command name (field 2) may hold spaces: skip past it. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
				 "%*d %*d %*d %llu",
			 &ticks) != 1)
		return 0;
	f = fopen("/proc/stat", "r");
	if (!f)
		return 0;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "btime %llu", &btime) == 1)
			break;
	fclose(f);
	known = (double)btime + (double)ticks / (double)sysconf(_SC_CLK_TCK);
	return known;
}

static void process(struct evbuffer *out)
{
	struct rusage ru;
	struct rlimit rl;
	struct dirent *e;
	DIR *d;
	int fds = 0;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		head(out, "process_cpu_seconds_total", "counter",
		     "Total user and system CPU time spent in seconds.");
		evbuffer_add_printf(out, "process_cpu_seconds_total %.6f\n",
				    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
					    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	}
	memory(out);
	d = opendir("/proc/self/fd");
	if (d) {
		while ((e = readdir(d)))
			fds += e->d_name[0] != '.';
		closedir(d);
		head(out, "process_open_fds", "gauge", "Number of open file descriptors.");
		/* The directory being read is one of them. */
		evbuffer_add_printf(out, "process_open_fds %d\n", fds - 1);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		head(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
		evbuffer_add_printf(out, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	}
	head(out, "process_start_time_seconds", "gauge",
	     "Start time of the process since unix epoch in seconds.");
	evbuffer_add_printf(out, "process_start_time_seconds %.2f\n", start_time());
}

int metrics_render(struct evbuffer *out, const struct gateway *gw, const struct gw_counters *c)
{
	size_t before = evbuffer_get_length(out);
	char last[KG_FAMILY_MAX] = "";

#define KG_STATS_FAMILY(name, kind, label, help)                                       \
	family(out, c, #name, #kind, #label, help, offsetof(struct kg_stats, name), last);
	KG_STATS(KG_STATS_FAMILY)
#undef KG_STATS_FAMILY
	latency(out, c);
	workers(out, c);
	gateway_state(out, gw);
	aws_credentials(out, gw);
	process(out);
	return evbuffer_get_length(out) > before ? 0 : -1;
}
