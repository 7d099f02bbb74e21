/* cluster.h — where the cluster's brokers really are.
 *
 * A broker listener without a configured "upstream" dials the address the
 * cluster advertises for its node id.  kgate learns those addresses from
 * every response it rewrites (the original Host/Port before substitution);
 * when a client arrives before any has been seen — kgate just started, the
 * client kept its metadata — kgate asks a bootstrap upstream itself
 * (ApiVersions, then Metadata) and parks the client until it knows.
 */
#ifndef KGATE_CLUSTER_H
#define KGATE_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

struct gateway;
struct pair;
struct cluster_fetch;

/* One broker as the cluster advertises it. */
struct cluster_node {
	int32_t id;
	char *host;
	uint16_t port;
};

struct cluster {
	struct gateway *gw;
	struct cluster_node *nodes;
	size_t n, cap;
	struct cluster_fetch *fetch; /* kgate's own Metadata request, if any */
	struct pair *waiting;        /* parked pairs, linked by pair->wait_next */
};

void cluster_init(struct cluster *cl, struct gateway *gw);
/* Abandons kgate's own Metadata request, if any (at shutdown). */
void cluster_stop(struct cluster *cl);
void cluster_free(struct cluster *cl);
/* Records (or updates) where node id is; host need not be NUL-terminated.
 * Invalid addresses and kgate's own (a loop) are ignored. */
void cluster_learn(struct cluster *cl, int32_t id, const char *host, size_t host_len,
		   int32_t port);
const struct cluster_node *cluster_find(const struct cluster *cl, int32_t id);
/* Forgets node id, so the next client triggers a fresh Metadata request
 * (used when dialling a learned address failed: it may have moved). */
void cluster_forget(struct cluster *cl, int32_t id);
/* Parks p until the cluster's brokers are known; then pair_cluster_ready(p)
 * is called (whether or not p's node turned up). */
void cluster_wait(struct cluster *cl, struct pair *p);
void cluster_cancel_wait(struct cluster *cl, struct pair *p);

#endif
