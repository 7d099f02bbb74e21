/* workers.c — starting, reaching and ending the worker threads (see
 * workers.h). */
#include "workers.h"

#include <event2/event.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpus.h"
#include "gateway.h"
#include "log.h"
#include "aws_creds.h"
#include "mailbox.h"
#include "server.h"

struct worker {
	struct workers *all;
	unsigned index;
	struct event_base *base; /* worker 0's is the main thread's */
	struct server *srv;
	struct mailbox *mb;      /* what the main thread asks of it */
	pthread_t thread;
	int running;             /* its thread was started and not joined */
	int exiting;             /* its loop was asked to end (on its own thread) */
	struct mail call;        /* the main thread's request in progress (on_all) */
	uint64_t open;           /* ... and what it found: a drain's connections, */
	size_t in_flight;        /* ... its requests in flight, */
	int rc;                  /* ... a counter copy's result */
	struct mail stopped;     /* tells the main thread its drain finished */
};

struct workers {
	struct worker *w;
	unsigned n;
	struct mailbox *main_mb; /* the main thread's: workers' drains finishing */
	void (*stopped)(void *arg);
	void *arg;
	unsigned n_stopped;
	int64_t drain_began_ns;
	int started; /* every worker ran: the exit line is worth logging */
	struct gw_shared shared;
	pthread_mutex_t sum_lock; /* workers adding their counters at once ... */
	struct gw_counters *sum;  /* ... into this */
};

unsigned workers_count(const struct cfg *cfg)
{
	unsigned n;

	if (cfg->workers > 0)
		return (unsigned)cfg->workers;
	n = cpus_available();
	return n > CFG_MAX_WORKERS ? CFG_MAX_WORKERS : n;
}

unsigned workers_n(const struct workers *ws)
{
	return ws->n;
}

/* Runs fn(arg) on worker w's thread (here, for worker 0 or once the
 * threads are gone) and returns once it has run. */
static void on_worker(struct worker *w, void (*fn)(void *arg), void *arg)
{
	if (w->running)
		mailbox_call(w->mb, fn, arg);
	else
		fn(arg);
}

/* Runs fn(worker) on every worker at once, each on its own thread, and
 * returns once all have: the main thread (and worker 0's clients) wait for
 * the slowest worker, not for the sum of them.  Results go in the worker. */
static void on_all(struct workers *ws, void (*fn)(void *worker))
{
	for (unsigned i = 0; i < ws->n; i++) {
		struct worker *w = &ws->w[i];

		if (w->running) {
			w->call = (struct mail){.fn = fn, .arg = w};
			mailbox_send(w->mb, &w->call);
		}
	}
	for (unsigned i = 0; i < ws->n; i++) {
		struct worker *w = &ws->w[i];

		if (w->running)
			mailbox_wait(w->mb, &w->call);
		else
			fn(w);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int rc;

	log_set_worker(w->index);
	/* Each worker says it runs (its lines carry its number), so a log
	 * shows every loop came up, whatever traffic reached it. */
	log_info("event loop running on its own thread");
	/* Not ended by running out of events (a drained worker has none):
	 * only by exit_fn, so the main thread can always reach it. */
	rc = event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	if (!w->exiting) {
		/* Its listeners would take connections nobody accepts, and the
		 * main thread would wait for it forever: better that kgate
		 * ends and is restarted. */
		log_error("worker %u: its event loop ended (%d): exiting", w->index, rc);
		_exit(1);
	}
	return NULL;
}

/* ---- drains ---- */

/* On the main thread: worker w's drain finished. */
static void note_stopped(void *arg)
{
	struct worker *w = arg;
	struct workers *ws = w->all;
	int forced = 0;

	if (++ws->n_stopped < ws->n)
		return;
	for (unsigned i = 0; i < ws->n; i++)
		forced |= server_forced(ws->w[i].srv);
	if (!forced)
		log_info("drained: every connection closed between requests, in %" PRId64 " ms",
			 (kg_now_ns() - ws->drain_began_ns) / 1000000);
	ws->stopped(ws->arg);
}

/* On worker w's thread: its server finished draining. */
static void worker_stopped(void *arg)
{
	struct worker *w = arg;

	if (w->index == 0)
		note_stopped(w);
	else
		mailbox_post(w->all->main_mb, &w->stopped);
}

static void drain_fn(void *arg)
{
	struct worker *w = arg;

	server_drain(w->srv, &w->open, &w->in_flight);
}

void workers_drain(struct workers *ws)
{
	uint64_t open = 0;
	size_t in_flight = 0;

	ws->drain_began_ns = kg_now_ns();
	on_all(ws, drain_fn);
	for (unsigned i = 0; i < ws->n; i++) {
		open += ws->w[i].open;
		in_flight += ws->w[i].in_flight;
	}
	log_info("draining: %" PRIu64 " connections, %zu requests in flight; each closes between "
		 "requests once answered (at most %" PRId64 " ms; a second signal stops at once)",
		 open, in_flight, gateway_cfg(server_gateway(ws->w[0].srv))->limits.drain_timeout_ms);
}

static void stop_fn(void *arg)
{
	server_stop(((struct worker *)arg)->srv);
}

void workers_stop(struct workers *ws)
{
	on_all(ws, stop_fn);
}

/* ---- reloads ---- */

struct reload_call {
	struct server *srv;
	struct cfg_gen *gen;
	int undo; /* going back: its addresses are held by the other workers */
	size_t retired;
	int rc;
	char err[512];
};

static void reload_fn(void *arg)
{
	struct reload_call *r = arg;
	struct gateway *gw = server_gateway(r->srv);

	gw->undoing_reload = r->undo;
	r->rc = server_reload(r->srv, r->gen, &r->retired, r->err, sizeof(r->err));
	gw->undoing_reload = 0;
}

/* Runs gen on worker i; -1 with r->err filled if it could not. */
static int reload_one(struct workers *ws, unsigned i, struct cfg_gen *gen, int undo,
		      struct reload_call *r)
{
	*r = (struct reload_call){.srv = ws->w[i].srv, .gen = gen, .undo = undo};
	on_worker(&ws->w[i], reload_fn, r);
	return r->rc;
}

int workers_reload(struct workers *ws, struct cfg_gen *gen, char *err, size_t errlen)
{
	struct gateway *gw0 = server_gateway(ws->w[0].srv);
	struct cfg_gen *old = cfg_gen_ref(gw0->gen);
	struct reload_call r;
	size_t retired = 0;
	unsigned i, wanted = workers_count(&gen->cfg);

	/* Worker 0 first (on this thread: it also builds the generation's
	 * TLS contexts, once for every worker, before anything changes): it binds new addresses only once it found them free,
	 * and once it holds one every other worker can bind it too.  After
	 * that only a lack of descriptors or memory can stop a worker. */
	for (i = 0; i < ws->n && reload_one(ws, i, gen, 0, &r) == 0; i++)
		retired += r.retired;
	if (i < ws->n) {
		if (i)
			snprintf(err, errlen, "worker %u: %s", i, r.err);
		else
			snprintf(err, errlen, "%s", r.err);
		/* The workers before it run the old generation again (clients
		 * of listeners the new one removed were told to drain all the
		 * same: they reconnect).  Every one is tried. */
		while (i-- > 0)
			if (reload_one(ws, i, old, 1, &r) < 0)
				log_error("worker %u could not go back to generation %" PRIu64
					  ": %s",
					  i, old->number, r.err);
		goto fail;
	}
	cfg_gen_unref(old);
	gw0->reloads_ok++;
	aws_creds_ensure(&gen->cfg);
	log_set_format(gen->cfg.log_format == CFG_LOG_JSON);
	log_info("reloaded the configuration: generation %" PRIu64 ", %zu brokers%s", gen->number,
		 gen->cfg.n_brokers, retired ? "; clients of removed listeners drain" : "");
	if (wanted != ws->n)
		log_warn("workers: %u from the next start; the threads running stay %u", wanted,
			 ws->n);
	return 0;
fail:
	cfg_gen_unref(old);
	gw0->reloads_failed++;
	return -1;
}

void workers_reload_failed(struct workers *ws)
{
	server_gateway(ws->w[0].srv)->reloads_failed++;
}

/* ---- counters ---- */

/* On a worker's thread: its counters, added to the sum under the lock. */
static void sum_fn(void *arg)
{
	struct worker *w = arg;

	pthread_mutex_lock(&w->all->sum_lock);
	w->rc = gateway_counters_add(server_gateway(w->srv), w->all->sum);
	pthread_mutex_unlock(&w->all->sum_lock);
}

/* gateway.h's sum_counters, on worker 0's gateway. */
static int sum_all(void *arg, struct gw_counters *c)
{
	struct workers *ws = arg;
	int rc = 0;

	ws->sum = c;
	on_all(ws, sum_fn);
	ws->sum = NULL;
	for (unsigned i = 0; i < ws->n; i++)
		rc |= ws->w[i].rc;
	return rc < 0 ? -1 : 0;
}

struct gw_counters *workers_counters(struct workers *ws)
{
	return gateway_counters(server_gateway(ws->w[0].srv));
}

/* ---- lifetime ---- */

static void exit_fn(void *arg)
{
	struct worker *w = arg;

	w->exiting = 1;
	server_stop(w->srv);
	event_base_loopexit(w->base, NULL);
}

/* Ends the threads: each stops its server and leaves its loop. */
static void join_all(struct workers *ws)
{
	for (unsigned i = 1; i < ws->n; i++) {
		struct worker *w = &ws->w[i];

		if (!w->running)
			continue;
		mailbox_call(w->mb, exit_fn, w);
		pthread_join(w->thread, NULL);
		w->running = 0;
	}
}

/* Worker i's gateway and loop (not yet running); -1 with err filled. */
static int worker_init(struct workers *ws, unsigned i, struct event_base *base,
		       struct cfg_gen *gen, char *err, size_t errlen)
{
	struct worker *w = &ws->w[i];

	w->all = ws;
	w->index = i;
	w->base = i ? event_base_new() : base;
	if (!w->base || (i && !(w->mb = mailbox_new(w->base)))) {
		snprintf(err, errlen, "worker %u: cannot create its event loop", i);
		return -1;
	}
	w->stopped = (struct mail){.fn = note_stopped, .arg = w};
	/* What it says while starting is said for it. */
	log_set_worker(i);
	w->srv = server_start(w->base, gen, i, ws->n, worker_stopped, w, err, errlen);
	log_set_worker(0);
	if (!w->srv)
		return -1;
	if (ws->n > 1)
		server_gateway(w->srv)->shared = &ws->shared;
	return 0;
}

/* Starts worker i's thread with every signal blocked: they are the main
 * thread's (its loop handles them).  -1 with err filled. */
static int worker_run(struct worker *w, char *err, size_t errlen)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "worker %u: cannot start its thread: %s", w->index,
			 strerror(rc));
		return -1;
	}
	w->running = 1;
	return 0;
}

struct workers *workers_start(struct event_base *base, struct cfg_gen *gen,
			      void (*stopped)(void *arg), void *arg, char *err, size_t errlen)
{
	struct workers *ws = calloc(1, sizeof(*ws));
	unsigned n = workers_count(&gen->cfg);

	if (!ws)
		goto oom;
	idmap_init(&ws->shared.unmapped_logged);
	idmap_init(&ws->shared.members);
	pthread_mutex_init(&ws->shared.lock, NULL);
	pthread_mutex_init(&ws->sum_lock, NULL);
	if (!(ws->w = calloc(n, sizeof(*ws->w))) || !(ws->main_mb = mailbox_new(base)))
		goto oom;
	ws->n = n;
	ws->stopped = stopped;
	ws->arg = arg;
	/* Worker 0 binds first: see listener.c's probe_free. */
	for (unsigned i = 0; i < n; i++)
		if (worker_init(ws, i, base, gen, err, errlen) < 0)
			goto fail;
	for (unsigned i = 1; i < n; i++)
		if (worker_run(&ws->w[i], err, errlen) < 0)
			goto fail;
	server_gateway(ws->w[0].srv)->sum_counters = sum_all;
	server_gateway(ws->w[0].srv)->sum_arg = ws;
	ws->started = 1;
	log_info("%u worker%s, one event loop each", n, n == 1 ? "" : "s");
	return ws;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	workers_free(ws);
	return NULL;
}

void workers_free(struct workers *ws)
{
	struct gw_counters *c;

	if (!ws)
		return;
	if (ws->w) {
		join_all(ws);
		/* Every gateway is this thread's now. */
		for (unsigned i = 0; i < ws->n; i++)
			if (ws->w[i].srv)
				server_stop(ws->w[i].srv);
		if (ws->started && (c = workers_counters(ws))) {
			stats_log(&c->total);
			gw_counters_free(c);
		}
		/* Let libevent finish what closing started (deferred frees,
		 * cancelled name lookups) before the loops go away. */
		for (unsigned i = 0; i < ws->n; i++) {
			if (!ws->w[i].base)
				continue;
			event_base_loop(ws->w[i].base, EVLOOP_NONBLOCK);
			event_base_loop(ws->w[i].base, EVLOOP_NONBLOCK);
		}
		for (unsigned i = 0; i < ws->n; i++) {
			struct worker *w = &ws->w[i];

			server_free(w->srv);
			mailbox_free(w->mb);
			if (i && w->base)
				event_base_free(w->base);
		}
	}
	mailbox_free(ws->main_mb);
	idmap_free(&ws->shared.unmapped_logged);
	idmap_free(&ws->shared.members);
	pthread_mutex_destroy(&ws->shared.lock);
	pthread_mutex_destroy(&ws->sum_lock);
	free(ws->w);
	free(ws);
}
