/* route.h — where a client's connection goes.
 *
 * One function decides each pair's upstream: the bootstrap listener's
 * clients rotate over bootstrap.upstream (each connection starting one
 * further along, then trying the rest in order); a broker listener dials its
 * configured upstream, or the address the cluster advertises for its node id
 * once that is known.  The same function decides whether to wait for the
 * cluster's Metadata first, and which TLS name an upstream's certificate must
 * carry.  A pair asks when it is ready to dial: at accept, or on the SNI
 * listener after the client's TLS handshake, whose server name chose the
 * bootstrap route or a broker's (route.sni_id): that broker's brokers[]
 * upstream if it has one, else the address the cluster advertises for it.
 */
#ifndef KGATE_ROUTE_H
#define KGATE_ROUTE_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

struct gateway;
struct listener;

/* A pair's progress through its choices. */
struct route {
	size_t attempt;      /* bootstrap upstreams tried so far */
	size_t first;        /* where its bootstrap attempts started */
	int waited;          /* the cluster was asked for this pair already */
	int32_t learned_id;  /* node whose learned address was picked, or -1 */
	int32_t wait_id;     /* ROUTE_WAIT for this node's address (else -1): a
				wait refresh.h may refuse while it backs off */
	int32_t sni_id;      /* SNI listener: the node its client named, or -1
			      * for the bootstrap route */
};

/* Where to dial.  The strings may point into what the cluster learned:
 * use them at once (dial_start copies them). */
struct route_target {
	const char *host;
	uint16_t port;
	SSL_CTX *tls;         /* NULL: plaintext */
	const char *tls_name; /* checked against the certificate, sent as SNI */
};

enum route_decision {
	ROUTE_DIAL, /* dial t */
	ROUTE_WAIT, /* wait for the cluster's brokers (discover_wait), then ask again */
	ROUTE_NONE  /* no upstream for this client: why says so */
};

/* The broker lst's client goes to (its own, or the one its server name
 * chose), or -1 for the bootstrap route. */
int32_t route_node(const struct listener *lst, const struct route *r);
/* Decides where lst's client goes next.  failure: why asking the cluster
 * failed, after a ROUTE_WAIT (else NULL).  why is the reason for
 * ROUTE_NONE, or for ROUTE_DIAL something worth an info line (may be
 * empty). */
enum route_decision route_pick(struct gateway *gw, const struct listener *lst, struct route *r,
			       const char *failure, struct route_target *t, char *why,
			       size_t whylen);
/* Dialling what r picked failed: says whether to pick again (1: another
 * bootstrap upstream).  A learned address is kept (refresh.h decides when
 * the cluster is asked again). */
int route_failed(struct gateway *gw, const struct listener *lst, struct route *r);
/* Where kgate's own bootstrap requests go: the attempt-th upstream from
 * *first, which the first attempt sets to the gateway's next rotation. */
void route_bootstrap(struct gateway *gw, size_t attempt, size_t *first, struct route_target *t);

#endif
