/* cluster.h — where the cluster's brokers really are, as far as kgate knows.
 *
 * A broker listener without a configured "upstream" dials the address the
 * cluster advertises for its node id.  kgate learns those addresses from
 * every response it rewrites (the original Host/Port before substitution)
 * and from the Metadata it asks for itself (discover.h), and forgets a node
 * once a complete list of the cluster's brokers no longer has it.  The table
 * is a hash by node id (a broker's Metadata is learned in time linear in its
 * length) and holds at most limits.max_brokers nodes.  Whoever needs an
 * address that is not known yet waits here and is called back when the
 * cluster has been asked, whether or not its node turned up.
 */
#ifndef KGATE_CLUSTER_H
#define KGATE_CLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "idmap.h"
#include "stats.h"

struct cfg;

/* One broker as the cluster advertises it. */
struct cluster_node {
	int32_t id;
	uint16_t port;
	uint32_t seen;     /* the latest listing that had it */
	time_t learned_at; /* wall clock, when this address was learned */
	char host[];       /* NUL-terminated, a valid host name or IP literal */
};

/* Someone waiting for the cluster's brokers (embedded in its owner). */
struct cluster_waiter {
	/* failure: NULL once the brokers were learned, else why they could
	 * not be. */
	void (*ready)(struct cluster_waiter *w, const char *failure);
	struct cluster_waiter *next;
};

struct cluster {
	const struct cfg *cfg; /* kgate's own addresses (never learned: a loop),
				  upstream_allow, limits.max_brokers */
	struct kg_stats *stats;
	struct idmap nodes;    /* node id -> struct cluster_node */
	size_t max_nodes;      /* limits.max_brokers */
	uint32_t listing;      /* number of the latest complete list begun */
	int listed;            /* a complete list was learned at least once */
	int64_t listed_ns;     /* ... when the latest was (kg_now_ns), or 0 */
	/* Optional: 1 if "broker N joined"/"left" is this table's to log
	 * (joined 1/0) — several tables (workers) learn the same cluster and
	 * one line each is enough.  NULL: always. */
	int (*first_to_say)(void *ctx, int32_t id, int joined);
	void *say_ctx;
	size_t logged;         /* learn lines logged since it began */
	size_t quiet;          /* ... and changes not logged one by one */
	int full_logged;       /* the bound was hit, and said so */
	struct cluster_waiter *waiting;
};

void cluster_init(struct cluster *cl, const struct cfg *cfg, struct kg_stats *stats);
void cluster_free(struct cluster *cl);
/* Records (or updates) where node id is; host need not be NUL-terminated.
 * Ignored, with a log line: invalid addresses and those upstream_allow
 * does not allow (counted in addresses_refused), kgate's own (a loop), and
 * a new node when limits.max_brokers are known already. */
void cluster_learn(struct cluster *cl, int32_t id, const char *host, size_t host_len,
		   int32_t port);
const struct cluster_node *cluster_find(const struct cluster *cl, int32_t id);
/* Judges by cfg from now on, and forgets the nodes it would not have
 * learned (upstream_allow, kgate's own addresses): a reload that narrows
 * upstream_allow applies to what is known already.  -1 if out of memory
 * (nothing forgotten then). */
KG_MUSTCHECK int cluster_configure(struct cluster *cl, const struct cfg *cfg);
/* A complete list of the cluster's brokers is about to be learned ... */
void cluster_listing_begin(struct cluster *cl);
/* ... and was, whole: every node it did not have is forgotten ("broker N
 * left the cluster"), and no longer dialled. */
void cluster_listing_end(struct cluster *cl);
/* Parks w until cluster_wake (asking the cluster is discover.h's job). */
void cluster_wait(struct cluster *cl, struct cluster_waiter *w);
void cluster_cancel_wait(struct cluster *cl, struct cluster_waiter *w);
/* Calls back every waiter, in no particular order: the cluster was asked
 * (failure NULL) or could not be (failure says why). */
void cluster_wake(struct cluster *cl, const char *failure);

#endif
