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

/* What made kgate ask (counted in metadata_refreshes{reason}; refresh.h). */
enum discover_reason {
	DISCOVER_INTERVAL,
	DISCOVER_READINESS, /* the admin endpoint's probe (admin.probe_interval_ms) */
	DISCOVER_DIAL_FAILURE,
	DISCOVER_NOT_LEADER,
	DISCOVER_CLIENT_WAIT
};

/* Parks w on gw's cluster and makes sure the cluster is being asked; w is
 * called back when it has been (or could not be). */
void discover_wait(struct gateway *gw, struct cluster_waiter *w);
/* Asks the cluster now (quietly) unless a request is under way: the
 * periodic check behind readiness, which also keeps the broker map fresh. */
void discover_probe(struct gateway *gw);
/* Asks the cluster now unless a request is under way (which serves) or
 * kgate is draining; why is counted (metadata_refreshes) when a request
 * starts.  Periodic refreshes are quiet; the others log what they learn. */
void discover_refresh(struct gateway *gw, enum discover_reason why);
/* Abandons a request in flight, waking nobody (at shutdown). */
void discover_stop(struct gateway *gw);

#endif
