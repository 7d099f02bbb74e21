/* discover.h — asking the cluster itself where its brokers are.
 *
 * When a client reaches a broker listener before kgate has seen where that
 * broker is — kgate just started, the client kept its metadata — kgate asks
 * a bootstrap upstream itself (ApiVersions, then Metadata, on a session of
 * its own) and parks the client until the answer is in.  One request at a
 * time serves every waiting client; each bootstrap upstream is tried in turn.
 */
#ifndef KGATE_DISCOVER_H
#define KGATE_DISCOVER_H

struct cluster_waiter;
struct gateway;

/* Parks w on gw's cluster and makes sure the cluster is being asked; w is
 * called back when it has been (or could not be). */
void discover_wait(struct gateway *gw, struct cluster_waiter *w);
/* Asks the cluster now (quietly) unless a request is under way: the
 * periodic check behind readiness, which also keeps the broker map fresh. */
void discover_probe(struct gateway *gw);
/* Abandons a request in flight, waking nobody (at shutdown). */
void discover_stop(struct gateway *gw);

#endif
