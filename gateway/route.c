/* route.c — choosing each pair's upstream (see route.h). */
#include "route.h"

#include <inttypes.h>
#include <stdio.h>

#include "gateway.h"
#include "listener.h"

/* The TLS context towards lst's upstream (NULL: plaintext), and in *name the
 * name its certificate is checked against and sent as SNI: the configured
 * server_name, else the name the cluster advertises for the listener's
 * broker (also when kgate dials it through an NLB), else host, the address
 * dialled. */
static SSL_CTX *upstream_tls(const struct gateway *gw, const struct listener *lst, int32_t id,
			     const char *host, const char **name)
{
	const struct cluster_node *node;

	*name = host;
	if (!lst->upstream_tls)
		return NULL;
	if (lst->upstream_tls_cfg->server_name)
		*name = lst->upstream_tls_cfg->server_name;
	else if (id >= 0 && (node = cluster_find(&gw->cluster, id)))
		*name = node->host;
	return lst->upstream_tls;
}

static void target(const struct gateway *gw, const struct listener *lst, int32_t id,
		   const char *host, uint16_t port, struct route_target *t)
{
	t->host = host;
	t->port = port;
	t->tls = upstream_tls(gw, lst, id, host, &t->tls_name);
}

/* The attempt-th bootstrap upstream, with lst's upstream TLS. */
static void bootstrap_target(struct gateway *gw, const struct listener *lst, size_t attempt,
			     size_t *first, struct route_target *t)
{
	const struct cfg_addr_list *ups = &gateway_cfg(gw)->bootstrap_upstream;
	const struct cfg_addr *a;

	if (attempt == 0)
		*first = gw->bootstrap_next++;
	a = &ups->v[(*first + attempt) % ups->n];
	target(gw, lst, -1, a->host, a->port, t);
}

void route_bootstrap(struct gateway *gw, size_t attempt, size_t *first, struct route_target *t)
{
	bootstrap_target(gw, listener_bootstrap(gw), attempt, first, t);
}

int32_t route_node(const struct listener *lst, const struct route *r)
{
	if (lst->broker)
		return lst->broker->id;
	return lst->sni ? r->sni_id : -1;
}

/* 1 if lst's upstream certificate is checked against the broker's own name
 * (TLS, verification on, no server_name configured). */
static int needs_own_name(const struct listener *lst)
{
	return lst->upstream_tls && lst->upstream_tls_cfg->verify &&
	       !lst->upstream_tls_cfg->server_name;
}

enum route_decision route_pick(struct gateway *gw, const struct listener *lst, struct route *r,
			       const char *failure, struct route_target *t, char *why,
			       size_t whylen)
{
	int32_t id = route_node(lst, r);
	const struct cfg_broker *b = lst->broker;
	const struct cluster_node *node;

	why[0] = '\0';
	r->learned_id = -1;
	r->wait_id = -1;
	if (id < 0) {
		bootstrap_target(gw, lst, r->attempt, &r->first, t);
		return ROUTE_DIAL;
	}
	/* The SNI listener dials a broker's configured upstream too. */
	if (!b)
		b = cfg_broker_by_id(&lst->gen->cfg, id);
	if (b && b->upstream.host) {
		/* A TLS broker's certificate carries the name the cluster
		 * advertises for it, not the NLB's: learn that name first. */
		if (needs_own_name(lst) && !cluster_find(&gw->cluster, id)) {
			if (!r->waited)
				return ROUTE_WAIT;
			if (failure)
				snprintf(why, whylen,
					 "cannot learn broker %" PRId32 "'s own name (%s): its "
					 "certificate is checked against %s",
					 id, failure, b->upstream.host);
		}
		target(gw, lst, id, b->upstream.host, b->upstream.port, t);
		return ROUTE_DIAL;
	}
	node = cluster_find(&gw->cluster, id);
	if (node) {
		r->learned_id = id;
		target(gw, lst, id, node->host, node->port, t);
		return ROUTE_DIAL;
	}
	if (!r->waited) {
		r->wait_id = id;
		return ROUTE_WAIT;
	}
	if (failure)
		snprintf(why, whylen, "cannot learn where broker %" PRId32 " is: %s", id, failure);
	else
		snprintf(why, whylen,
			 "the cluster's Metadata does not list this broker id (%" PRId32
			 "; configure its upstream if it exists)",
			 id);
	return ROUTE_NONE;
}

int route_failed(struct gateway *gw, const struct listener *lst, struct route *r)
{
	return route_node(lst, r) < 0 && ++r->attempt < gateway_cfg(gw)->bootstrap_upstream.n;
}
