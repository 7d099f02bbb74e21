/* kmap.h — how rewriters ask "where should node N appear?".
 *
 * The protocol layer knows nothing about configuration: a rewriter hands each
 * broker endpoint it decodes (node id plus the address the cluster sent) to
 * this callback and substitutes whatever comes back.  The gateway's callback
 * also uses the original address to learn where the cluster's brokers are.
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
};

#endif
