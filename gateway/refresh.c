/* refresh.c — kgate's own Metadata refreshes: when, and how seldom (see
 * refresh.h). */
#include "refresh.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdlib.h>

#include "backoff.h"
#include "discover.h"
#include "gateway.h"
#include "idmap.h"
#include "log.h"

#define NS_PER_MS 1000000

/* One gateway's refresh state. */
struct refresh {
	struct event *timer;       /* the interval's */
	struct event *soon;        /* a NOT_LEADER refresh, out of the rewrite that asked */
	struct idmap gates;        /* broker id -> struct backoff, while in trouble */
	struct backoff not_leader; /* one schedule for every NOT_LEADER answer */
};

static const struct cfg_discovery *dcfg(const struct gateway *gw)
{
	return &gateway_cfg(gw)->discovery;
}

static void arm(struct gateway *gw, int64_t ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(gw->refresh->timer, &tv);
}

/* A gate whose trouble has been quiet for backoff_max_ms is dropped: the
 * broker's schedule starts over, and the gauge forgets it. */
static int idle_gate(int32_t id, const void *val, void *ctx)
{
	struct gateway *gw = ctx;

	(void)id;
	return backoff_idle(val, kg_now_ns(), dcfg(gw)->backoff_max_ms);
}

static void drop_gate(void *val, void *ctx)
{
	struct gateway *gw = ctx;

	gw->stats.brokers_backing_off--;
	free(val);
}

/* Every interval: ask unless a complete listing is younger than it. */
static void tick(evutil_socket_t fd, short what, void *arg)
{
	struct gateway *gw = arg;
	int64_t interval = dcfg(gw)->refresh_interval_ms, age;

	(void)fd;
	(void)what;
	if (idmap_filter(&gw->refresh->gates, idle_gate, drop_gate, gw) < 0)
		log_debug("out of memory: idle back-off schedules are dropped next time");
	if (gw->draining)
		return;
	age = gw->cluster.listed_ns ? (kg_now_ns() - gw->cluster.listed_ns) / NS_PER_MS : interval;
	if (age >= interval) {
		discover_refresh(gw, DISCOVER_INTERVAL);
		age = 0;
	}
	arm(gw, interval - age);
}

static void not_leader_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	discover_refresh(arg, DISCOVER_NOT_LEADER);
}

static void leader_moved(void *ctx);

int refresh_start(struct gateway *gw)
{
	struct refresh *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	gw->refresh = r;
	idmap_init(&r->gates);
	r->timer = evtimer_new(gw->base, tick, gw);
	r->soon = event_new(gw->base, -1, 0, not_leader_cb, gw);
	if (!r->timer || !r->soon) {
		refresh_free(gw);
		return -1;
	}
	arm(gw, dcfg(gw)->refresh_interval_ms);
	gw->map.leader_moved = leader_moved;
	return 0;
}

void refresh_configure(struct gateway *gw)
{
	if (gw->refresh)
		arm(gw, dcfg(gw)->refresh_interval_ms);
}

void refresh_free(struct gateway *gw)
{
	struct refresh *r = gw->refresh;

	if (!r)
		return;
	gw->map.leader_moved = NULL;
	if (r->timer)
		event_free(r->timer);
	if (r->soon)
		event_free(r->soon);
	idmap_free_values(&r->gates, free);
	free(r);
	gw->refresh = NULL;
	gw->stats.brokers_backing_off = 0;
}

/* Broker id's schedule, made if need be; NULL if out of memory. */
static struct backoff *gate(struct gateway *gw, int32_t id)
{
	struct backoff *b = idmap_get(&gw->refresh->gates, id);

	if (b)
		return b;
	b = calloc(1, sizeof(*b));
	if (!b || idmap_put(&gw->refresh->gates, id, b) < 0) {
		free(b);
		return NULL;
	}
	gw->stats.brokers_backing_off++;
	return b;
}

/* 1 if b allows asking now (then the period after it has started). */
static int allowed(struct gateway *gw, struct backoff *b)
{
	const struct cfg_discovery *d = dcfg(gw);

	/* Without memory for a schedule, ask: as kgate did before it had
	 * one, and the request is coalesced with any under way. */
	if (!b || backoff_try(b, kg_now_ns(), d->backoff_ms, d->backoff_max_ms))
		return 1;
	gw->stats.refreshes_held_back++;
	return 0;
}

int refresh_may_wait(struct gateway *gw, int32_t id, int64_t *wait_ms)
{
	struct backoff *b;

	*wait_ms = 0;
	/* Joining a request under way costs the cluster nothing. */
	if (gw->discover || !gw->refresh)
		return 1;
	b = gate(gw, id);
	if (allowed(gw, b))
		return 1;
	*wait_ms = backoff_wait_ms(b, kg_now_ns());
	return 0;
}

void refresh_dial_failed(struct gateway *gw, int32_t id, const char *addr)
{
	struct backoff *b;

	if (!gw->refresh)
		return;
	b = gate(gw, id);
	if (!allowed(gw, b))
		return;
	log_info("broker %" PRId32 " at %s does not answer: asking the cluster where it is "
		 "(next time in %" PRId64 " ms at the earliest)",
		 id, addr, b ? backoff_wait_ms(b, kg_now_ns()) : 0);
	discover_refresh(gw, DISCOVER_DIAL_FAILURE);
}

void refresh_dial_ok(struct gateway *gw, int32_t id)
{
	struct backoff *b = gw->refresh ? idmap_del(&gw->refresh->gates, id) : NULL;

	if (!b)
		return;
	gw->stats.brokers_backing_off--;
	free(b);
}

/* A broker said leadership moved (gw->map's hook, from inside a rewrite). */
static void leader_moved(void *ctx)
{
	struct gateway *gw = ctx;
	struct backoff *b = &gw->refresh->not_leader;

	if (backoff_idle(b, kg_now_ns(), dcfg(gw)->backoff_max_ms))
		backoff_reset(b);
	if (!allowed(gw, b))
		return;
	log_debug("a broker answered NOT_LEADER_OR_FOLLOWER or with leader hints: asking the "
		  "cluster for Metadata");
	/* Called from inside a response's rewrite: ask once it is done. */
	event_active(gw->refresh->soon, EV_TIMEOUT, 0);
}
