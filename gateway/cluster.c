/* cluster.c — learned broker addresses, and who is waiting for them. */
#include "cluster.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../config/config.h"
#include "log.h"

/* Address changes logged one by one per listing; the rest are summed up
 * when it ends, so a cluster of thousands (or a hostile broker repointing
 * nodes) cannot flood the log. */
#define LOG_PER_LISTING 32

void cluster_init(struct cluster *cl, const struct cfg *cfg, struct kg_stats *stats)
{
	memset(cl, 0, sizeof(*cl));
	cl->cfg = cfg;
	cl->stats = stats;
	cl->max_nodes = (size_t)cfg->limits.max_brokers;
	idmap_init(&cl->nodes);
}

void cluster_free(struct cluster *cl)
{
	idmap_free_values(&cl->nodes, free);
	memset(cl, 0, sizeof(*cl));
}

const struct cluster_node *cluster_find(const struct cluster *cl, int32_t id)
{
	return idmap_get(&cl->nodes, id);
}

/* 1 if another line about the cluster may be logged now. */
static int may_log(struct cluster *cl)
{
	if (cl->logged < LOG_PER_LISTING) {
		cl->logged++;
		return 1;
	}
	cl->quiet++;
	return 0;
}

/* 1 if this table is the one to log that node id joined (or left). */
static int say(struct cluster *cl, int32_t id, int joined)
{
	return !cl->first_to_say || cl->first_to_say(cl->say_ctx, id, joined);
}

static int same_addr(const struct cfg_addr *a, const char *host, size_t host_len, int32_t port)
{
	return a->port == port && strlen(a->host) == host_len &&
	       strncasecmp(a->host, host, host_len) == 0;
}

/* 1 if host:port is one of kgate's own addresses (advertised or listening):
 * dialling it would loop back into kgate. */
static int is_own_address(const struct cfg *cfg, const char *host, size_t host_len, int32_t port)
{
	if (same_addr(&cfg->bootstrap_listen, host, host_len, port))
		return 1;
	for (size_t i = 0; i < cfg->n_brokers; i++)
		if (same_addr(&cfg->brokers[i].advertise, host, host_len, port) ||
		    same_addr(&cfg->brokers[i].listen, host, host_len, port))
			return 1;
	return cfg_has_sni(cfg) && same_addr(&cfg->sni_listener.listen, host, host_len, port);
}

/* A new node for id at host (already checked), or NULL if out of memory. */
static struct cluster_node *node_new(int32_t id, const char *host, size_t host_len,
				     int32_t port, uint32_t seen)
{
	struct cluster_node *n = malloc(sizeof(*n) + host_len + 1);

	if (!n)
		return NULL;
	n->id = id;
	n->port = (uint16_t)port;
	n->seen = seen;
	n->learned_at = time(NULL);
	memcpy(n->host, host, host_len);
	n->host[host_len] = '\0';
	return n;
}

void cluster_learn(struct cluster *cl, int32_t id, const char *host, size_t host_len,
		   int32_t port)
{
	struct cluster_node *node = idmap_get(&cl->nodes, id), *fresh;
	char shown[CFG_HOST_MAX * 4 + 8];

	/* Called for every endpoint of every rewritten response: what is
	 * already known costs one comparison. */
	if (node && node->port == port && strlen(node->host) == host_len &&
	    memcmp(node->host, host, host_len) == 0) {
		node->seen = cl->listing;
		return;
	}
	fresh = port >= 1 && port <= 65535 && host_len >= 1 && host_len <= CFG_HOST_MAX
			? node_new(id, host, host_len, port, cl->listing)
			: NULL;
	/* A broker's name is dialled, sent as SNI and checked against its
	 * certificate: it has to be one, whole. */
	if (!fresh || strlen(fresh->host) != host_len || !cfg_host_valid(fresh->host)) {
		cl->stats->addresses_refused++;
		if (may_log(cl))
			log_warn("cluster advertises broker %" PRId32 " at \"%s\" port %" PRId32
				 ": not a host name or IP address and port; not learned",
				 id, log_escape(shown, sizeof(shown), host, host_len), port);
		free(fresh);
		return;
	}
	if (!cfg_upstream_allowed(cl->cfg, fresh->host)) {
		cl->stats->addresses_refused++;
		if (may_log(cl))
			log_warn("cluster advertises broker %" PRId32 " at %s:%" PRId32 ", which "
				 "upstream_allow does not allow: not learned",
				 id, fresh->host, port);
		free(fresh);
		return;
	}
	/* A cluster that already advertises kgate's own addresses must not
	 * become kgate's upstream: that would loop. */
	if (is_own_address(cl->cfg, host, host_len, port)) {
		free(fresh);
		return;
	}
	if (!node && cl->nodes.n >= cl->max_nodes) {
		if (!cl->full_logged)
			log_warn("kgate knows limits.max_brokers (%zu) brokers already: broker %" PRId32
				 " and others beyond the bound are not learned",
				 cl->max_nodes, id);
		cl->full_logged = 1;
		free(fresh);
		return;
	}
	if (idmap_put(&cl->nodes, id, fresh) < 0) {
		free(fresh);
		return;
	}
	if (node && may_log(cl))
		log_info("cluster now advertises broker %" PRId32 " at %s:%" PRId32 " (was %s:%u)",
			 id, fresh->host, port, node->host, node->port);
	else if (!node && say(cl, id, 1) && may_log(cl))
		log_info("broker %" PRId32 " joined at %s:%" PRId32, id, fresh->host, port);
	free(node);
}

/* 1 if the configuration running now would not learn node. */
static int disallowed(int32_t id, const void *val, void *ctx)
{
	const struct cluster_node *node = val;
	const struct cfg *cfg = ((struct cluster *)ctx)->cfg;

	(void)id;
	return !cfg_upstream_allowed(cfg, node->host) ||
	       is_own_address(cfg, node->host, strlen(node->host), node->port);
}

static void forget_disallowed(void *val, void *ctx)
{
	struct cluster_node *node = val;

	/* Recorded as gone, though this line says why instead: a reload that
	 * allows it again must log that it joined again. */
	(void)say(ctx, node->id, 0);
	log_warn("broker %" PRId32 " at %s:%u is outside the reloaded configuration's "
		 "upstream_allow, or one of kgate's own addresses: forgotten",
		 node->id, node->host, node->port);
	free(node);
}

int cluster_configure(struct cluster *cl, const struct cfg *cfg)
{
	cl->cfg = cfg;
	cl->max_nodes = (size_t)cfg->limits.max_brokers;
	if (cl->nodes.n < cl->max_nodes)
		cl->full_logged = 0;
	return idmap_filter(&cl->nodes, disallowed, forget_disallowed, cl);
}

void cluster_listing_begin(struct cluster *cl)
{
	cl->listing++;
	cl->logged = 0;
	cl->quiet = 0;
}

static int unlisted(int32_t id, const void *val, void *ctx)
{
	(void)id;
	return ((const struct cluster_node *)val)->seen != ((struct cluster *)ctx)->listing;
}

static void forget_unlisted(void *val, void *ctx)
{
	struct cluster_node *node = val;

	if (say(ctx, node->id, 0) && may_log(ctx))
		log_info("broker %" PRId32 " left the cluster (it was at %s:%u): no longer dialled",
			 node->id, node->host, node->port);
	free(node);
}

void cluster_listing_end(struct cluster *cl)
{
	cl->listed = 1;
	cl->listed_ns = kg_now_ns();
	if (idmap_filter(&cl->nodes, unlisted, forget_unlisted, cl) < 0)
		return; /* forgotten next time */
	if (cl->nodes.n < cl->max_nodes)
		cl->full_logged = 0;
	if (cl->quiet)
		log_info("cluster: %zu more broker addresses learned, changed, forgotten or "
			 "refused (not logged one by one); %zu known now",
			 cl->quiet, cl->nodes.n);
	cl->logged = 0;
	cl->quiet = 0;
}

void cluster_wait(struct cluster *cl, struct cluster_waiter *w)
{
	w->next = cl->waiting;
	cl->waiting = w;
}

void cluster_cancel_wait(struct cluster *cl, struct cluster_waiter *w)
{
	for (struct cluster_waiter **pp = &cl->waiting; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			w->next = NULL;
			return;
		}
	}
}

void cluster_wake(struct cluster *cl, const char *failure)
{
	struct cluster_waiter *w = cl->waiting;

	cl->waiting = NULL;
	while (w) {
		struct cluster_waiter *next = w->next;

		w->next = NULL;
		w->ready(w, failure);
		w = next;
	}
}
