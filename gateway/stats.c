/* stats.c — the counters' log line and sums, and the latency histogram. */
#include "stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

static const double bounds[] = {
#define KG_LATENCY_ITEM(b) b,
	KG_LATENCY_BOUNDS(KG_LATENCY_ITEM)
#undef KG_LATENCY_ITEM
};

double kg_latency_bound(unsigned i)
{
	return bounds[i];
}

void kg_latency_observe(struct kg_latency *l, double seconds)
{
	/* Cumulative, as Prometheus reads them: every bound at or above. */
	for (unsigned i = KG_LATENCY_N; i > 0 && seconds <= bounds[i - 1]; i--)
		l->le[i - 1]++;
	l->count++;
	l->sum += seconds;
}

int64_t kg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void kg_stats_add(struct kg_stats *to, const struct kg_stats *from)
{
#define KG_STATS_ADD(name, kind, label, help) to->name += from->name;
	KG_STATS(KG_STATS_ADD)
#undef KG_STATS_ADD
}

void kg_api_stats_add(struct kg_api_stats *to, const struct kg_api_stats *from)
{
	kg_stats_add(&to->c, &from->c);
	for (unsigned i = 0; i < KG_LATENCY_N; i++)
		to->latency.le[i] += from->latency.le[i];
	to->latency.count += from->latency.count;
	to->latency.sum += from->latency.sum;
}

void stats_log(const struct kg_stats *s)
{
	char line[1536];
	size_t n = 0;

#define KG_STATS_PRINT(name, kind, label, help)                                       \
	if (n < sizeof(line))                                                         \
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%" PRIu64, #name,  \
				      s->name);
	KG_STATS(KG_STATS_PRINT)
#undef KG_STATS_PRINT
	log_info("stats:%s", line);
}
