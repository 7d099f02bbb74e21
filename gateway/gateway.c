/* gateway.c — a gateway's shared state: the node-id map the rewriters
 * consult (and learn from), the resolver, and the lists of pairs. */
#include "gateway.h"

#include <event2/dns.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/addr.h"
#include "../protocol/requests.h"
#include "../protocol/rewrite.h"
#include "../protocol/sasl.h"
#include "log.h"
#include "pipes.h"

/* ---- the node-id map the rewriters consult ---- */

/* Node ids without a brokers[] entry logged one by one; past this many,
 * they are only counted (endpoints_unmapped). */
#define UNMAPPED_LOGGED_MAX 64

/* Logs an unmapped node id the first time it is seen (in O(1): a large
 * Metadata answer is looked up id by id). */
static void warn_unmapped(struct gateway *gw, int32_t id, const struct kstr *host,
			  int32_t port)
{
	char shown[CFG_HOST_MAX * 4 + 8];

	struct gw_shared *sh = gw->shared;
	size_t n;

	if (gw->unmapped_logged.n >= UNMAPPED_LOGGED_MAX || idmap_get(&gw->unmapped_logged, id))
		return;
	/* Any non-NULL value marks the id. */
	if (idmap_put(&gw->unmapped_logged, id, gw) < 0)
		return;
	n = gw->unmapped_logged.n;
	if (sh) {
		/* Once for the process: each worker comes here at most once
		 * per id, so the lock stays off the path of every response. */
		int first;

		pthread_mutex_lock(&sh->lock);
		first = sh->unmapped_logged.n < UNMAPPED_LOGGED_MAX &&
			!idmap_get(&sh->unmapped_logged, id) &&
			idmap_put(&sh->unmapped_logged, id, sh) == 0;
		n = sh->unmapped_logged.n;
		pthread_mutex_unlock(&sh->lock);
		if (!first)
			return;
	}
	log_warn("broker %" PRId32 " (%s:%" PRId32 ") is neither in brokers[] nor in "
		 "broker_ports: clients get its address unchanged (logged once, counted in "
		 "kgate_endpoints_unmapped_total{node})",
		 id, log_escape(shown, sizeof(shown), host->ptr, (size_t)host->len), port);
	if (n == UNMAPPED_LOGGED_MAX)
		log_warn("%d node ids without a brokers[] entry logged: more are counted in "
			 "kgate_endpoints_unmapped_total, not logged",
			 UNMAPPED_LOGGED_MAX);
}

/* endpoints_unmapped by node id: the alarm that says which broker outgrew
 * the configuration. */
static void count_unmapped(struct gateway *gw, int32_t id)
{
	uint64_t *n = idmap_get(&gw->unmapped, id);

	if (!n && gw->unmapped.n < GW_UNMAPPED_NODES_MAX && (n = calloc(1, sizeof(*n))) &&
	    idmap_put(&gw->unmapped, id, n) < 0) {
		free(n);
		n = NULL;
	}
	if (n)
		(*n)++;
	else
		gw->unmapped_other++;
}

static int gw_lookup(void *ctx, int32_t node_id, const struct kstr *orig_host,
		     int32_t orig_port, struct kmap_addr *out)
{
	struct gateway *gw = ctx;
	const struct cfg_broker *b;

	cluster_learn(&gw->cluster, node_id, (const char *)orig_host->ptr, (size_t)orig_host->len,
		      orig_port);
	b = cfg_broker_by_id(gateway_cfg(gw), node_id);
	if (!b) {
		gw->stats.endpoints_unmapped++;
		count_unmapped(gw, node_id);
		warn_unmapped(gw, node_id, orig_host, orig_port);
		return 0;
	}
	out->host = b->advertise.host;
	out->host_len = (int32_t)strlen(b->advertise.host);
	out->port = b->advertise.port;
	gw->stats.endpoints_rewritten++;
	return 1;
}

/* Values of gw_shared.members: left [0], joined [1]. */
static const char gw_membership_mark[2];

/* 1 if this worker is the first to log that broker id joined (joined 1) or
 * left: each worker learns the cluster on its own, one line is enough. */
static int gw_first_to_say(void *ctx, int32_t id, int joined)
{
	struct gateway *gw = ctx;
	struct gw_shared *sh = gw->shared;
	const void *mark = &gw_membership_mark[joined ? 1 : 0];
	int first;

	if (!sh)
		return 1;
	/* Only when this worker's view of the broker changes: off the
	 * path of every response. */
	pthread_mutex_lock(&sh->lock);
	first = idmap_get(&sh->members, id) != mark &&
		idmap_put(&sh->members, id, (void *)mark) == 0;
	pthread_mutex_unlock(&sh->lock);
	return first;
}

/* A response's complete list of brokers begins, or ended whole: every
 * broker kgate fronts is up if it is listed (until a dial says otherwise). */
void gateway_listing(void *ctx, int end)
{
	struct gateway *gw = ctx;
	const struct cfg *cfg = gateway_cfg(gw);

	if (!end) {
		cluster_listing_begin(&gw->cluster);
		return;
	}
	cluster_listing_end(&gw->cluster);
	for (size_t i = 0; i < cfg->n_brokers; i++) {
		int32_t id = cfg->brokers[i].id;
		int listed = cluster_find(&gw->cluster, id) != NULL;

		/* A rule covers ids the cluster may not have (yet, or any more):
		 * those are spare ports, not brokers that are down. */
		if (cfg->brokers[i].from_rule && !listed)
			free(idmap_del(&gw->health, id));
		else
			gateway_broker_seen(gw, id, listed);
	}
}

/* ---- health ---- */

void gateway_cluster_answered(struct gateway *gw, const char *failure)
{
	if (!failure) {
		if (!gw->answered && gw->answered_ns)
			log_info("the cluster answers again");
		gw->answered = 1;
		gw->answered_ns = kg_now_ns();
		gw->unanswered[0] = '\0';
		return;
	}
	if (gw->answered)
		log_warn("the cluster stopped answering kgate's own requests: %s", failure);
	gw->answered = 0;
	snprintf(gw->unanswered, sizeof(gw->unanswered), "%s", failure);
}

void gateway_broker_seen(struct gateway *gw, int32_t id, int up)
{
	struct gw_broker_health *h = idmap_get(&gw->health, id);

	if (!h) {
		h = calloc(1, sizeof(*h));
		if (!h || idmap_put(&gw->health, id, h) < 0) {
			free(h);
			return;
		}
		h->up = !up; /* so the state below is new */
	}
	if (h->up != up) {
		h->up = up;
		h->since = time(NULL);
	}
}

static int unconfigured(int32_t id, const void *val, void *ctx)
{
	(void)val;
	return cfg_broker_by_id(gateway_cfg(ctx), id) == NULL;
}

static void drop_health(void *val, void *ctx)
{
	(void)ctx;
	free(val);
}

void gateway_reconfigured(struct gateway *gw)
{
	if (cluster_configure(&gw->cluster, gateway_cfg(gw)) < 0 ||
	    idmap_filter(&gw->health, unconfigured, drop_health, gw) < 0)
		log_warn("out of memory: what kgate learned is judged by the reloaded "
			 "configuration only as the cluster lists it again");
}

const char *gateway_unready(const struct gateway *gw, int64_t stale_ms, char *buf, size_t len)
{
	if (gw->draining)
		return "draining: kgate is stopping";
	if (!gw->cluster.listed)
		return "the broker map is not known yet (no Metadata seen or fetched)";
	if (!gw->answered) {
		snprintf(buf, len, "the cluster does not answer kgate: %s",
			 gw->unanswered[0] ? gw->unanswered : "not asked yet");
		return buf;
	}
	if ((kg_now_ns() - gw->answered_ns) / 1000000 > stale_ms) {
		snprintf(buf, len, "no answer from the cluster for %" PRId64 " s",
			 (kg_now_ns() - gw->answered_ns) / 1000000000);
		return buf;
	}
	return NULL;
}

struct kg_stats *gateway_listener_stats(struct gateway *gw, int32_t id)
{
	struct kg_stats *s;

	if (id < 0)
		return &gw->bootstrap_stats;
	s = idmap_get(&gw->broker_stats, id);
	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (s && idmap_put(&gw->broker_stats, id, s) < 0) {
		free(s);
		s = NULL;
	}
	return s;
}

/* ---- counters, for reports ---- */

struct gw_counters *gw_counters_new(unsigned n_workers)
{
	struct gw_counters *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	idmap_init(&c->brokers);
	idmap_init(&c->unmapped);
	c->workers = calloc(n_workers ? n_workers : 1, sizeof(*c->workers));
	if (!c->workers) {
		free(c);
		return NULL;
	}
	c->n_workers = n_workers;
	return c;
}

void gw_counters_free(struct gw_counters *c)
{
	if (!c)
		return;
	idmap_free_values(&c->brokers, free);
	idmap_free_values(&c->unmapped, free);
	free(c->workers);
	free(c);
}

static int add_unmapped(const struct gateway *gw, struct gw_counters *c)
{
	const struct idmap *m = &gw->unmapped;

	c->unmapped_other += gw->unmapped_other;
	for (size_t i = 0; i < m->cap; i++) {
		uint64_t *to;

		if (!m->slots[i].val)
			continue;
		to = idmap_get(&c->unmapped, m->slots[i].key);
		if (!to) {
			to = calloc(1, sizeof(*to));
			if (!to || idmap_put(&c->unmapped, m->slots[i].key, to) < 0) {
				free(to);
				return -1;
			}
		}
		*to += *(const uint64_t *)m->slots[i].val;
	}
	return 0;
}

int gateway_counters_add(const struct gateway *gw, struct gw_counters *c)
{
	const struct idmap *m = &gw->broker_stats;

	kg_stats_add(&c->total, &gw->stats);
	for (unsigned i = 0; i < KG_API_SLOTS; i++)
		kg_api_stats_add(&c->apis[i], &gw->apis[i]);
	kg_stats_add(&c->bootstrap, &gw->bootstrap_stats);
	kg_stats_add(&c->sni, &gw->sni_stats);
	c->has_sni |= cfg_has_sni(gateway_cfg(gw));
	if (gw->worker < c->n_workers)
		kg_stats_add(&c->workers[gw->worker], &gw->stats);
	for (size_t i = 0; i < m->cap; i++) {
		struct kg_stats *to;

		if (!m->slots[i].val)
			continue;
		to = idmap_get(&c->brokers, m->slots[i].key);
		if (!to) {
			to = calloc(1, sizeof(*to));
			if (!to || idmap_put(&c->brokers, m->slots[i].key, to) < 0) {
				free(to);
				return -1;
			}
		}
		kg_stats_add(to, m->slots[i].val);
	}
	return add_unmapped(gw, c);
}

struct gw_counters *gateway_counters(struct gateway *gw)
{
	struct gw_counters *c = gw_counters_new(gw->n_workers);
	int rc;

	if (!c)
		return NULL;
	rc = gw->sum_counters ? gw->sum_counters(gw->sum_arg, c) : gateway_counters_add(gw, c);
	if (rc < 0) {
		gw_counters_free(c);
		return NULL;
	}
	return c;
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
	if (gw->draining && !gw->open && gw->emptied)
		gw->emptied(gw->emptied_arg);
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

struct gateway *gateway_new(struct event_base *base, struct cfg_gen *gen, unsigned worker,
			    unsigned n_workers, char *err, size_t errlen)
{
	struct gateway *gw = calloc(1, sizeof(*gw));

	if (!gw) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	gw->worker = worker;
	gw->n_workers = n_workers;
	gw->base = base;
	gw->gen = cfg_gen_ref(gen);
	gw->map.lookup = gw_lookup;
	gw->map.ctx = gw;
	gw->map.listing = gateway_listing;
	gw->map.max_nodes = (int32_t)gateway_cfg(gw)->limits.max_brokers;
	idmap_init(&gw->unmapped_logged);
	idmap_init(&gw->unmapped);
	idmap_init(&gw->broker_stats);
	idmap_init(&gw->health);
	kw_init(&gw->scratch);
	gw->pools.chunks = chunk_pool_new(&gw->stats);
	gw->pools.pipes = pipe_pool_new();
	gw->streams.stats = &gw->stats;
	gw->streams.apis = gw->apis;
	gw->streams.scratch = &gw->scratch;
	gw->streams.map = &gw->map;
	cluster_init(&gw->cluster, gateway_cfg(gw), &gw->stats);
	gw->cluster.first_to_say = gw_first_to_say;
	gw->cluster.say_ctx = gw;
	gw->reaper = event_new(base, -1, 0, reaper_cb, gw);
	gw->dns = evdns_base_new(base, 0);
	if (gw->dns)
		dns_configure(gw->dns);
	gw->dial.base = base;
	gw->dial.dns = gw->dns;
	gw->dial.timeout_ms = gateway_cfg(gw)->limits.connect_timeout_ms;
	if (!gw->reaper || !gw->dns || !gw->pools.chunks || !gw->pools.pipes) {
		snprintf(err, errlen, "cannot set up the event loop or DNS resolver");
		gateway_free(gw);
		return NULL;
	}
	return gw;
}

struct api_list {
	struct ksasl_api *v;
	size_t n, cap;
	int failed;
};

static void put_api(struct api_list *l, int16_t key, int16_t min, int16_t max)
{
	if (l->failed)
		return;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].key == key) {
			l->v[i].min = min;
			l->v[i].max = max;
			return;
		}
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct ksasl_api *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			l->failed = 1;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct ksasl_api){key, min, max};
}

static int keep_api(void *ctx, int16_t key, int16_t min, int16_t max)
{
	int capped = krw_api_versions_cap(key, min, max);

	if (capped >= 0)
		put_api(ctx, key, min, (int16_t)capped);
	return 0;
}

void gateway_learn_apis(struct gateway *gw, const uint8_t *frame, size_t len)
{
	struct api_list l = {0};

	if (kresp_api_versions_each(frame, len, keep_api, &l) < 0 || !l.n) {
		free(l.v);
		return;
	}
	/* Before login kgate itself answers SaslHandshake and SaslAuthenticate
	 * (pair_login.c), so the versions offered are its own, whatever the
	 * cluster lists: a cluster without SASL on this listener (or librdkafka's
	 * mock) lists neither, and librdkafka then refuses to sign in ("SASL
	 * Handshake not supported by broker"); a newer one may list versions
	 * kgate would refuse. */
	put_api(&l, KAPI_SASL_HANDSHAKE, 0, 1);
	put_api(&l, KAPI_SASL_AUTHENTICATE, 0, KSASL_AUTH_MAX_VERSION);
	if (l.failed) {
		free(l.v);
		return;
	}
	free(gw->cluster_apis);
	gw->cluster_apis = l.v;
	gw->n_cluster_apis = l.n;
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
	chunk_pool_close(gw->pools.chunks);
	pipe_pool_free(gw->pools.pipes);
	idmap_free(&gw->unmapped_logged);
	idmap_free_values(&gw->unmapped, free);
	idmap_free_values(&gw->broker_stats, free);
	idmap_free_values(&gw->health, free);
	cfg_gen_unref(gw->gen);
	free(gw->cluster_apis);
	free(gw);
}
