/* stats.c — the counters' log line. */
#include "stats.h"

#include <inttypes.h>
#include <stdio.h>

#include "log.h"

void stats_log(const struct kg_stats *s)
{
	char line[1536];
	size_t n = 0;

#define KG_STATS_PRINT(name, kind, help)                                              \
	if (n < sizeof(line))                                                         \
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%" PRIu64, #name,  \
				      s->name);
	KG_STATS(KG_STATS_PRINT)
#undef KG_STATS_PRINT
	log_info("stats:%s", line);
}
