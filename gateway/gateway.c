/* gateway.c — a gateway's shared state: the node-id map the rewriters
 * consult (and learn from), the resolver, and the lists of pairs. */
#include "gateway.h"

#include <event2/dns.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* ---- the node-id map the rewriters consult ---- */

/* Logs an unmapped node id the first time it is seen. */
static void warn_unmapped(struct gateway *gw, int32_t id, const struct kstr *host, int32_t port)
{
	int32_t *v;

	for (size_t i = 0; i < gw->n_unmapped_logged; i++)
		if (gw->unmapped_logged[i] == id)
			return;
	v = realloc(gw->unmapped_logged, (gw->n_unmapped_logged + 1) * sizeof(*v));
	if (!v)
		return;
	gw->unmapped_logged = v;
	v[gw->n_unmapped_logged++] = id;
	log_warn("broker %" PRId32 " (%.*s:%" PRId32 ") has no entry in brokers[]: clients "
		 "get its address unchanged (logged once)",
		 id, (int)host->len, (const char *)host->ptr, port);
}

static int gw_lookup(void *ctx, int32_t node_id, const struct kstr *orig_host, int32_t orig_port,
		     struct kmap_addr *out)
{
	struct gateway *gw = ctx;
	const struct cfg_broker *b;

	cluster_learn(&gw->cluster, node_id, (const char *)orig_host->ptr, (size_t)orig_host->len,
		      orig_port);
	b = cfg_broker_by_id(gateway_cfg(gw), node_id);
	if (!b) {
		gw->stats.endpoints_unmapped++;
		warn_unmapped(gw, node_id, orig_host, orig_port);
		return 0;
	}
	out->host = b->advertise.host;
	out->host_len = (int32_t)strlen(b->advertise.host);
	out->port = b->advertise.port;
	gw->stats.endpoints_rewritten++;
	return 1;
}

/* ---- the lists of pairs ---- */

void gateway_pair_opened(struct gateway *gw, struct gw_node *n)
{
	n->prev = NULL;
	n->next = gw->open;
	if (gw->open)
		gw->open->prev = n;
	gw->open = n;
}

void gateway_pair_closed(struct gateway *gw, struct gw_node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		gw->open = n->next;
	if (n->next)
		n->next->prev = n->prev;
	n->prev = NULL;
	n->next = gw->dead;
	gw->dead = n;
	event_active(gw->reaper, EV_TIMEOUT, 0);
}

void gateway_reap(struct gateway *gw)
{
	while (gw->dead) {
		struct gw_node *n = gw->dead;

		gw->dead = n->next;
		n->release(n);
	}
}

static void reaper_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	gateway_reap(arg);
}

/* ---- lifetime ---- */

/* Reads /etc/hosts and /etc/resolv.conf.  libevent's own initialisation
 * gives up when resolv.conf is missing or lists no nameserver — common in
 * containers and network namespaces, where the hosts file is all there is —
 * so those cases are only logged here. */
static void dns_configure(struct evdns_base *dns)
{
	static const char path[] = "/etc/resolv.conf";

	switch (evdns_base_resolv_conf_parse(dns, DNS_OPTIONS_ALL, path)) {
	case 0:
		break;
	case 1:
		log_info("no %s: names resolve through /etc/hosts, then a resolver on "
			 "127.0.0.1",
			 path);
		break;
	case 6:
		log_info("%s lists no nameserver: names resolve through /etc/hosts, then a "
			 "resolver on 127.0.0.1",
			 path);
		break;
	default:
		log_warn("cannot read %s: names resolve through /etc/hosts only", path);
		break;
	}
}

struct gateway *gateway_new(struct event_base *base, struct cfg_gen *gen, char *err, size_t errlen)
{
	struct gateway *gw = calloc(1, sizeof(*gw));

	if (!gw) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	gw->base = base;
	gw->gen = cfg_gen_ref(gen);
	gw->map.lookup = gw_lookup;
	gw->map.ctx = gw;
	kw_init(&gw->scratch);
	gw->streams.stats = &gw->stats;
	gw->streams.scratch = &gw->scratch;
	gw->streams.map = &gw->map;
	cluster_init(&gw->cluster, gateway_cfg(gw));
	gw->reaper = event_new(base, -1, 0, reaper_cb, gw);
	gw->dns = evdns_base_new(base, 0);
	if (gw->dns)
		dns_configure(gw->dns);
	gw->dial.base = base;
	gw->dial.dns = gw->dns;
	gw->dial.timeout_ms = gateway_cfg(gw)->limits.connect_timeout_ms;
	if (!gw->reaper || !gw->dns) {
		snprintf(err, errlen, "cannot set up the event loop or DNS resolver");
		gateway_free(gw);
		return NULL;
	}
	return gw;
}

void gateway_free(struct gateway *gw)
{
	if (!gw)
		return;
	gateway_reap(gw);
	cluster_free(&gw->cluster);
	if (gw->dns)
		evdns_base_free(gw->dns, 0);
	if (gw->reaper)
		event_free(gw->reaper);
	kw_free(&gw->scratch);
	free(gw->unmapped_logged);
	cfg_gen_unref(gw->gen);
	free(gw);
}
