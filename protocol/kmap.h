/* kmap.h — how rewriters ask "where should node N appear?".
 *
 * The protocol layer knows nothing about configuration: a rewriter hands each
 * broker endpoint it decodes (node id plus the address the cluster sent) to
 * this callback and substitutes whatever comes back.  The gateway's callback
 * also uses the original address to learn where the cluster's brokers are,
 * and the listing hook to forget the ones the cluster no longer lists.
 */
#ifndef KGATE_KMAP_H
#define KGATE_KMAP_H

#include <stdint.h>

#include "kbuf.h"

struct kmap_addr {
	const char *host;
	int32_t host_len;
	int32_t port;
};

/* Returns 1 and fills *out when node_id has an advertised address, 0 to leave
 * the endpoint as the cluster sent it. */
typedef int (*kmap_lookup_fn)(void *ctx, int32_t node_id, const struct kstr *orig_host,
			      int32_t orig_port, struct kmap_addr *out);

struct kmap {
	kmap_lookup_fn lookup;
	void *ctx;
	/* Optional: a response's complete list of the cluster's brokers
	 * (Metadata and DescribeCluster Brokers[]) is about to be looked up
	 * (end 0), or was and the whole response decoded (end 1) — so a node
	 * not looked up in between is no longer in the cluster. */
	void (*listing)(void *ctx, int end);
	/* A listing of more brokers than this is refused (KRW_TOO_MANY), not
	 * processed; 0: no bound. */
	int32_t max_nodes;
	/* Optional: an answer says leadership moved — a Produce partition
	 * with NOT_LEADER_OR_FOLLOWER, or leader hints (NodeEndpoints) in a
	 * Produce or Fetch answer.  Called at most once per answer. */
	void (*leader_moved)(void *ctx);
};

#endif
