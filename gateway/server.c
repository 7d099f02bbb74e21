/* server.c — bringing a gateway up, changing it and taking it down (see
 * server.h). */
#include "server.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "discover.h"
#include "gateway.h"
#include "listener.h"
#include "log.h"
#include "pair.h"
#include "pipes.h"
#include "refresh.h"

struct server {
	struct gateway *gw;
	struct admin *admin;
	struct event *sweeper;     /* once a second: pair_sweep */
	struct event *drain_timer; /* limits.drain_timeout_ms after a drain began */
	struct event *drained;     /* the last pair closed during a drain */
	void (*stopped)(void *arg);
	void *arg;
	int stopped_called;
	int forced; /* connections were closed, not drained: say so, not "drained" */
};

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	pair_sweep(srv->gw);
	chunk_pool_tick(srv->gw->pools.chunks);
	pipe_pool_tick(srv->gw->pools.pipes);
}

static void finish(struct server *srv)
{
	if (srv->stopped_called)
		return;
	srv->stopped_called = 1;
	srv->stopped(srv->arg);
}

static void drained_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	evtimer_del(srv->drain_timer);
	finish(srv);
}

static void drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	log_warn("drain took limits.drain_timeout_ms (%" PRId64 " ms): closing the %" PRIu64
		 " connections left",
		 gateway_cfg(srv->gw)->limits.drain_timeout_ms, srv->gw->stats.connections_open);
	srv->forced = 1;
	pair_close_all(srv->gw, "drain timeout");
	finish(srv);
}

/* From inside the last pair's callback: finish on the next loop pass. */
static void emptied(void *arg)
{
	event_active(((struct server *)arg)->drained, EV_TIMEOUT, 0);
}

struct server *server_start(struct event_base *base, struct cfg_gen *gen, unsigned worker,
			    unsigned n_workers, void (*stopped)(void *arg), void *arg, char *err,
			    size_t errlen)
{
	struct server *srv = calloc(1, sizeof(*srv));
	struct timeval second = {1, 0};

	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->stopped = stopped;
	srv->arg = arg;
	srv->gw = gateway_new(base, gen, worker, n_workers, err, errlen);
	if (!srv->gw)
		goto fail;
	srv->gw->emptied = emptied;
	srv->gw->emptied_arg = srv;
	if (refresh_start(srv->gw) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	srv->sweeper = event_new(base, -1, EV_PERSIST, sweep_cb, srv);
	srv->drain_timer = evtimer_new(base, drain_timeout_cb, srv);
	srv->drained = event_new(base, -1, 0, drained_cb, srv);
	if (!srv->sweeper || !srv->drain_timer || !srv->drained) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (listeners_apply(srv->gw, pair_accept, err, errlen) < 0 ||
	    (worker == 0 && admin_start(srv->gw, &srv->admin, err, errlen) < 0))
		goto fail;
	event_add(srv->sweeper, &second);
	return srv;
fail:
	server_free(srv);
	return NULL;
}

struct gateway *server_gateway(struct server *srv)
{
	return srv->gw;
}

int server_forced(const struct server *srv)
{
	return srv->forced;
}

void server_drain(struct server *srv, uint64_t *open, size_t *in_flight)
{
	struct gateway *gw = srv->gw;
	int64_t ms = gateway_cfg(gw)->limits.drain_timeout_ms;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	*open = 0;
	*in_flight = 0;
	if (gw->draining)
		return;
	*open = gw->stats.connections_open;
	gw->draining = 1;
	listeners_close(gw);
	discover_stop(gw);
	*in_flight = pair_stop_all(gw, 0);
	if (!gw->open) {
		event_active(srv->drained, EV_TIMEOUT, 0);
		return;
	}
	evtimer_add(srv->drain_timer, &tv);
}

void server_stop(struct server *srv)
{
	struct gateway *gw = srv->gw;

	if (!gw)
		return;
	listeners_close(gw);
	srv->forced = 1;
	pair_close_all(gw, "gateway stopping");
	refresh_free(gw);
	discover_stop(gw);
	if (srv->sweeper)
		event_del(srv->sweeper);
	if (srv->drain_timer)
		evtimer_del(srv->drain_timer);
}

/* 1 if the admin endpoint of a and b differ where it matters. */
static int admin_moved(const struct cfg_admin *a, const struct cfg_admin *b)
{
	if (!a->listen.text != !b->listen.text)
		return 1;
	return a->listen.text &&
	       (strcmp(a->listen.text, b->listen.text) != 0 ||
		a->probe_interval_ms != b->probe_interval_ms);
}

/* Points the gateway's shared state at gen (its limits, its map). */
static void adopt(struct gateway *gw, struct cfg_gen *gen)
{
	gw->gen = gen;
	gw->cluster.cfg = &gen->cfg;
	gw->cluster.max_nodes = (size_t)gen->cfg.limits.max_brokers;
	gw->map.max_nodes = (int32_t)gen->cfg.limits.max_brokers;
	gw->dial.timeout_ms = gen->cfg.limits.connect_timeout_ms;
}

int server_reload(struct server *srv, struct cfg_gen *gen, size_t *retired, char *err,
		  size_t errlen)
{
	struct gateway *gw = srv->gw;
	struct cfg_gen *old = gw->gen;
	struct admin *admin = NULL;
	int moved = gw->worker == 0 && admin_moved(&old->cfg.admin, &gen->cfg.admin);

	if (gw->draining) {
		snprintf(err, errlen, "kgate is draining to stop");
		goto fail;
	}
	adopt(gw, cfg_gen_ref(gen));
	/* What can fail first.  A moved admin endpoint (or one whose probe
	 * interval changed) is started again; if it cannot be, the old one is
	 * started again below. */
	if (moved) {
		admin_free(srv->admin);
		srv->admin = NULL;
		if (admin_start(gw, &admin, err, errlen) < 0)
			goto revert;
	}
	if (listeners_apply(gw, pair_accept, err, errlen) < 0) {
		admin_free(admin);
		goto revert;
	}
	if (moved)
		srv->admin = admin;
	gateway_reconfigured(gw);
	refresh_configure(gw);
	*retired = pair_stop_all(gw, 1);
	cfg_gen_unref(old);
	return 0;
revert:
	cfg_gen_unref(gw->gen);
	adopt(gw, old);
	/* The admin endpoint was only moved if its new port was free. */
	if (moved && !srv->admin && admin_start(gw, &srv->admin, NULL, 0) < 0)
		log_error("the admin endpoint could not be restored after a failed reload");
fail:
	return -1;
}

void server_free(struct server *srv)
{
	if (!srv)
		return;
	server_stop(srv);
	admin_free(srv->admin);
	if (srv->gw) {
		refresh_free(srv->gw);
		/* Pairs keep pointers to their listener until released. */
		gateway_reap(srv->gw);
		listeners_free(srv->gw);
		gateway_free(srv->gw);
	}
	if (srv->sweeper)
		event_free(srv->sweeper);
	if (srv->drain_timer)
		event_free(srv->drain_timer);
	if (srv->drained)
		event_free(srv->drained);
	free(srv);
}
