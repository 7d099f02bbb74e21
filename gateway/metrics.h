/* metrics.h — the gateway's counters and state as Prometheus text. */
#ifndef KGATE_METRICS_H
#define KGATE_METRICS_H

struct evbuffer;
struct gateway;
struct gw_counters;

/* Appends the exposition (text format 0.0.4) of counters c (every
 * worker's), gw's state and this process: every KG_STATS counter as
 * kgate_<name>_total (or a gauge), broken down by listener or API where its
 * label says, the upstream response time histogram per API, the workers
 * and each one's connections, kgate_broker_up, kgate_config_generation,
 * kgate_reloads_total, kgate_build_info and the standard process_*
 * metrics.  -1 if out of memory. */
int metrics_render(struct evbuffer *out, const struct gateway *gw, const struct gw_counters *c);

#endif
