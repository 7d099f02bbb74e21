/* gateway.h — one event loop's gateway: what its listeners, pairs and
 * kgate's own requests share — the configuration generation, the resolver,
 * the counters, the node-id map, what is known of the cluster — and the
 * lists of pairs.
 *
 * This is state, with no knowledge of how pairs or listeners work: they
 * reach it through the pointer they hold and edit its lists only through the
 * functions below.  server.h brings a gateway up and down.  One gateway runs
 * per event loop, one loop per worker thread (workers.h); nothing here is
 * shared between workers, so nothing here is locked.
 */
#ifndef KGATE_GATEWAY_H
#define KGATE_GATEWAY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../config/gen.h"
#include "../protocol/kbuf.h"
#include "../protocol/kmap.h"
#include "chunk.h"
#include "cluster.h"
#include "idmap.h"
#include "dial.h"
#include "kstream.h"
#include "side.h"
#include "stats.h"

struct discover;
struct refresh;
struct ksasl_api;
struct gw_counters;
struct event;
struct event_base;
struct evdns_base;
struct listener;

/* Whether kgate last reached a broker (a dial, or a listing that had it). */
struct gw_broker_health {
	int up;
	time_t since; /* wall clock, for /brokers */
};

/* What the workers share: only what is said once for the whole process,
 * under its own lock and off the path of every byte (workers.c owns it). */
struct gw_shared {
	pthread_mutex_t lock;
	struct idmap unmapped_logged; /* node ids already warned about by any worker */
	/* node id -> the last of "joined" or "left" any worker logged for it
	 * (gateway.c's marks) */
	struct idmap members;
};

/* An entry in the gateway's lists (embedded in a pair). */
struct gw_node {
	struct gw_node *prev, *next;
	/* Frees the entry's owner once it is closed and no callback of its
	 * can still be running. */
	void (*release)(struct gw_node *n);
};

struct gateway {
	unsigned worker;   /* which worker's (0: the main thread's, with the admin endpoint) */
	unsigned n_workers;
	struct event_base *base;
	struct evdns_base *dns;
	struct cfg_gen *gen;  /* the generation new listeners and pairs take */
	struct dial_env dial; /* base, resolver, connect timeout */
	struct kg_stats stats;        /* totals */
	struct kg_api_stats apis[KG_API_SLOTS]; /* per ApiKey, with response times */
	struct kwbuf scratch;       /* rewrite output, reused frame after frame */
	struct side_pools pools;    /* read buffers and pipes, reused */
	struct kmap map;            /* node id -> advertised address; learns */
	struct kstream_env streams; /* stats, scratch and map, for every pair */
	struct cluster cluster;
	struct discover *discover; /* kgate's own Metadata request, if any */
	struct refresh *refresh;   /* when kgate asks again, and how seldom (refresh.h) */
	/* The cluster's APIs as kgate offers them (capped as ApiVersions
	 * answers are), from its own last ApiVersions request: what a client
	 * that must log in first is told (pair_login.c). */
	struct ksasl_api *cluster_apis;
	size_t n_cluster_apis;
	struct listener **listeners;  /* the current configuration's (listener.h) */
	size_t n_listeners;
	struct kg_stats bootstrap_stats; /* each listener name's share of the counters */
	struct kg_stats sni_stats;       /* ... the SNI listener's */
	struct idmap broker_stats;       /* ... by broker id */
	struct gw_node *open; /* every open pair */
	struct gw_node *dead; /* closed pairs awaiting release */
	struct event *reaper;
	uint64_t next_pair_id;
	unsigned bootstrap_next;  /* where the next bootstrap dial starts */
	struct idmap unmapped_logged; /* node ids already warned about by this worker */
	/* endpoints_unmapped by node id (uint64_t counts) for the first
	 * GW_UNMAPPED_NODES_MAX ids, the rest together in unmapped_other: the
	 * cluster, not the configuration, decides how many ids there are. */
	struct idmap unmapped;
	uint64_t unmapped_other;
	struct gw_shared *shared;     /* ... and by any (NULL: this is the only worker) */
	int undoing_reload;           /* binding addresses other workers hold (workers.c) */
	/* Health, for the admin endpoint: */
	int draining;                 /* stopping: not ready any more */
	int answered;                 /* kgate's own last Metadata request was answered */
	int64_t answered_ns;          /* ... when it was (kg_now_ns), or 0 */
	char unanswered[256];         /* ... or why it was not */
	struct idmap health;          /* broker id -> struct gw_broker_health */
	uint64_t reloads_ok, reloads_failed; /* worker 0's count every worker's (workers.c) */
	/* Every worker's counters summed into c (set by workers.c on worker
	 * 0's gateway, whose admin endpoint reports them); NULL: only this
	 * gateway's own. */
	int (*sum_counters)(void *arg, struct gw_counters *c);
	void *sum_arg;
	/* Called (from inside a pair's callback) when a draining gateway's
	 * last pair closed. */
	void (*emptied)(void *arg);
	void *emptied_arg;
};

/* Every counter of a gateway, or their sum over several (one per worker):
 * what /metrics, SIGUSR1 and the exit line report. */
/* Node ids counted one by one in endpoints_unmapped (per worker). */
#define GW_UNMAPPED_NODES_MAX 1000

struct gw_counters {
	struct kg_stats total;
	struct idmap unmapped;     /* node id -> uint64_t, endpoints_unmapped's share */
	uint64_t unmapped_other;   /* ... of ids past GW_UNMAPPED_NODES_MAX */
	struct kg_api_stats apis[KG_API_SLOTS];
	struct kg_stats bootstrap; /* the bootstrap listener's share */
	struct kg_stats sni;       /* the SNI listener's */
	int has_sni;               /* an SNI listener is configured: show its share */
	struct idmap brokers;      /* broker id -> its listener's share (struct kg_stats) */
	struct kg_stats *workers;  /* each worker's totals, [n_workers] */
	unsigned n_workers;
};

/* Zeroed counters for n_workers workers; NULL if out of memory. */
KG_MUSTCHECK struct gw_counters *gw_counters_new(unsigned n_workers);
void gw_counters_free(struct gw_counters *c);
/* Adds gw's counters to c; -1 if out of memory. */
KG_MUSTCHECK int gateway_counters_add(const struct gateway *gw, struct gw_counters *c);
/* kgate's counters now: every worker's (sum_counters), else gw's; NULL if
 * out of memory.  Free with gw_counters_free. */
KG_MUSTCHECK struct gw_counters *gateway_counters(struct gateway *gw);

/* Worker worker's gateway (of n_workers) on base running gen (it takes a
 * reference); NULL with err filled if the resolver or loop cannot be set
 * up. */
KG_MUSTCHECK struct gateway *gateway_new(struct event_base *base, struct cfg_gen *gen,
					 unsigned worker, unsigned n_workers, char *err,
					 size_t errlen);
/* Frees the gateway; its listeners, pairs and discovery must be gone
 * (server_stop).  NULL is fine. */
void gateway_free(struct gateway *gw);
/* The current configuration. */
static inline const struct cfg *gateway_cfg(const struct gateway *gw)
{
	return &gw->gen->cfg;
}

/* The counters of the listener for broker id (-1: bootstrap), kept by name
 * across reloads so they never go back; NULL if out of memory. */
struct kg_stats *gateway_listener_stats(struct gateway *gw, int32_t id);
/* A complete list of the cluster's brokers begins (end 0) or ended whole
 * (end 1): the learned table and broker health follow it.  ctx: the
 * gateway (the signature of kmap's and kresp's listing hooks). */
void gateway_listing(void *ctx, int end);
/* kgate's own Metadata request was answered (failure NULL) or not. */
void gateway_cluster_answered(struct gateway *gw, const char *failure);
/* Keeps what an ApiVersions v0 answer (the frame after its size) lists,
 * capped as kgate caps them, for clients that log in first. */
void gateway_learn_apis(struct gateway *gw, const uint8_t *frame, size_t len);
/* kgate reached broker id (a dial, or a listing that had it), or did not. */
void gateway_broker_seen(struct gateway *gw, int32_t id, int up);
/* After a reload: what kgate knows is judged by the new configuration —
 * learned addresses it would not learn are forgotten, and the health of
 * brokers it no longer fronts is dropped (nothing would update it again). */
void gateway_reconfigured(struct gateway *gw);
/* Why the gateway's state says kgate is not ready to take clients (into
 * buf), or NULL if it is ready: draining, no broker map yet, or no answer
 * from the cluster within stale_ms.  (Listeners are the admin endpoint's
 * to check.) */
const char *gateway_unready(const struct gateway *gw, int64_t stale_ms, char *buf, size_t len);
/* A pair opened: listed until gateway_pair_closed. */
void gateway_pair_opened(struct gateway *gw, struct gw_node *n);
/* A pair closed: moved to the dead list and released on the next loop
 * pass, after the callback that closed it has returned. */
void gateway_pair_closed(struct gateway *gw, struct gw_node *n);
/* The first open pair (to close them all), or NULL. */
static inline struct gw_node *gateway_first_pair(const struct gateway *gw)
{
	return gw->open;
}
/* Releases every closed pair now. */
void gateway_reap(struct gateway *gw);

#endif
