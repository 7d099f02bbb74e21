/* pair.c — a pair's lifetime: accept, route and dial, the flow between its
 * sides, and its end (drain, fail, close).  See pair.h. */
#include "pair.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dial.h"
#include "discover.h"
#include "listener.h"
#include "log.h"
#include "tls.h"

/* How long a closing pair may take to flush what its peer is owed. */
#define DRAIN_TIMEOUT_S 10

#define pair_log(p, lvl, fmt, ...)                                                            \
	LOG(lvl, "[%" PRIu64 " %s via %s] " fmt, (p)->id, (p)->client_addr, (p)->lst->name,      \
	    ##__VA_ARGS__)

/* clang-format off */
#define pair_of(ptr, member) ((struct pair *)((char *)(ptr) - offsetof(struct pair, member)))
/* clang-format on */

static void pair_route(struct pair *p, const char *failure);

static const struct cfg_limits *limits(const struct pair *p)
{
	return &p->gen->cfg.limits;
}

static int is_client(const struct pair *p, const struct side *s)
{
	return s == &p->client;
}

static struct side *peer_of(struct pair *p, const struct side *s)
{
	return is_client(p, s) ? &p->upstream : &p->client;
}

static const char *role(const struct pair *p, const struct side *s)
{
	return is_client(p, s) ? "client" : "upstream";
}

/* ---- the end ---- */

static void pair_release(struct gw_node *n)
{
	struct pair *p = pair_of(n, node);

	listener_unref(p->lst);
	cfg_gen_unref(p->gen);
	free(p);
}

/* Ends the pair now; its memory is released later, because the caller may
 * still be inside one of this pair's callbacks. */
static void pair_end(struct pair *p, enum log_level lvl, const char *reason)
{
	if (p->state == PAIR_CLOSED)
		return;
	pair_log(p, lvl, "closed: %s", reason);
	if (p->state == PAIR_RESOLVING)
		cluster_cancel_wait(&p->gw->cluster, &p->waiter);
	dial_cancel(p->dialer);
	p->dialer = NULL;
	p->state = PAIR_CLOSED;
	side_free(&p->client);
	side_free(&p->upstream);
	if (p->timer) {
		event_free(p->timer);
		p->timer = NULL;
	}
	if (p->hs_timer) {
		event_free(p->hs_timer);
		p->hs_timer = NULL;
	}
	kstream_free(&p->ks);
	gateway_pair_closed(p->gw, &p->node);
	p->gw->stats.connections_open--;
	p->lst->stats->connections_open--;
}

void pair_close_all(struct gateway *gw, const char *reason)
{
	struct gw_node *n;

	while ((n = gateway_first_pair(gw)))
		pair_end(pair_of(n, node), LOG_DEBUG, reason);
}

/* A framing or decoding failure: count it, say why, close.  Returns -1 so
 * callers can `return pair_fail(...)`. */
static int pair_fail(struct pair *p, const char *why)
{
	p->gw->stats.protocol_errors++;
	pair_end(p, LOG_WARN, why);
	return -1;
}

/* TLS failed on one side (handshake, certificate, record): count, close. */
static void pair_fail_tls(struct pair *p, const char *why)
{
	p->gw->stats.tls_failures++;
	pair_end(p, LOG_WARN, why);
}

static void handshake_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pair *p = arg;
	char why[128];

	(void)fd;
	(void)what;
	snprintf(why, sizeof(why),
		 "client did not complete the TLS handshake within %" PRId64 " ms",
		 p->lst->tls_cfg->handshake_timeout_ms);
	pair_fail_tls(p, why);
}

static void drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pair_end(arg, LOG_INFO, "peer did not take the rest of its data in time");
}

/* ---- the flow between the sides ---- */

/* Acts on what the kstream reported for side s; -1 = the pair closed. */
static int flow(struct pair *p, struct side *s, int rc)
{
	switch (rc) {
	case KS_ERROR:
		return pair_fail(p, kstream_why(&p->ks));
	case KS_OUT_FULL:
	case KS_FIFO_FULL:
		side_pause(s);
		return 0;
	default:
		return 0;
	}
}

static int process(struct pair *p, struct side *s, int final);

/* Starts reading s again after back-pressure and works through what it
 * already holds; -1 = the pair closed. */
static int resume(struct pair *p, struct side *s)
{
	int rc;

	if (p->state != PAIR_OPEN)
		return 0;
	rc = side_resume(s);
	if (rc < 0) {
		pair_end(p, LOG_ERROR, "cannot watch sockets (out of memory)");
		return -1;
	}
	return rc ? process(p, s, 0) : 0;
}

/* Forwards requests from the client.  final: the client has gone, forward
 * what it sent regardless of back-pressure. */
static int process_requests(struct pair *p, int final)
{
	if (p->state != PAIR_OPEN && !final) {
		/* No upstream yet: let what waits grow only so far. */
		if (evbuffer_get_length(p->client.in) >= (size_t)limits(p)->buffer_bytes)
			side_pause(&p->client);
		return 0;
	}
	return flow(p, &p->client,
		    kstream_requests(&p->ks, p->client.in, side_output(&p->upstream), final));
}

/* Forwards responses from the upstream; a response that freed a slot in a
 * full FIFO lets the client's requests go on. */
static int process_responses(struct pair *p, int final)
{
	int rc = flow(p, &p->upstream,
		      kstream_responses(&p->ks, p->upstream.in, side_output(&p->client), final));

	if (rc == 0 && p->ks.unblocked) {
		p->ks.unblocked = 0;
		return resume(p, &p->client);
	}
	return rc;
}

/* Works through what side s has read; -1 = the pair closed. */
static int process(struct pair *p, struct side *s, int final)
{
	return is_client(p, s) ? process_requests(p, final) : process_responses(p, final);
}

/* Side `done` has ended: forward what it already sent, let the other side
 * flush it, then close. */
static void pair_drain(struct pair *p, struct side *done, const char *reason)
{
	struct side *other = peer_of(p, done);
	struct timeval tv = {DRAIN_TIMEOUT_S, 0};

	if (process(p, done, 1) < 0)
		return;
	if (!side_open(other) || side_output_len(other) == 0) {
		pair_end(p, LOG_DEBUG, reason);
		return;
	}
	pair_log(p, LOG_DEBUG, "%s; flushing %zu bytes to %s", reason, side_output_len(other),
		 role(p, other));
	p->state = PAIR_DRAINING;
	side_free(done);
	side_stop_reading(other);
	side_flush_all(other);
	if (p->timer)
		event_free(p->timer);
	p->timer = evtimer_new(p->gw->base, drain_timeout_cb, p);
	if (p->timer)
		evtimer_add(p->timer, &tv);
}

/* Side s's connection ended: EOF (forward what it sent, then close) or an
 * error (close now; why says what it was). */
static void side_ended(struct pair *p, struct side *s, int eof, const char *why)
{
	char reason[512];

	if (p->state == PAIR_DRAINING) {
		pair_end(p, LOG_DEBUG, "peer closed while draining");
		return;
	}
	if (p->state != PAIR_OPEN) {
		/* Left before its upstream was there: nothing to hand over. */
		pair_end(p, LOG_INFO, "client left before the upstream was connected");
		return;
	}
	if (!eof) {
		pair_end(p, is_client(p, s) ? LOG_DEBUG : LOG_INFO, why);
		return;
	}
	snprintf(reason, sizeof(reason), "%s closed the connection",
		 is_client(p, s) ? "client" : p->upstream_addr);
	pair_drain(p, s, reason);
}

/* What a side tells its pair. */
static void side_cb(struct side *s, enum side_event ev, void *arg)
{
	struct pair *p = arg;
	char why[768];

	switch (ev) {
	case SIDE_READ:
		process(p, s, 0);
		break;
	case SIDE_FLUSHED:
		if (p->state == PAIR_DRAINING) {
			if (side_output_len(s) == 0)
				pair_end(p, LOG_DEBUG, "flushed after peer closed");
			return;
		}
		/* Output drained below the low watermark: its peer may read. */
		resume(p, peer_of(p, s));
		break;
	case SIDE_READY:
		/* A client's TLS handshake is done. */
		if (p->hs_timer) {
			event_free(p->hs_timer);
			p->hs_timer = NULL;
		}
		if (log_enabled(LOG_DEBUG)) {
			side_describe(s, why, sizeof(why));
			pair_log(p, LOG_DEBUG, "TLS with client: %s", why);
		}
		break;
	case SIDE_EOF:
		side_ended(p, s, 1, NULL);
		break;
	case SIDE_ERROR:
		if (side_failure(s, is_client(p, s) ? p->lst->addr->text : p->upstream_addr,
				 is_client(p, s), why, sizeof(why))) {
			if (p->state == PAIR_DRAINING)
				pair_end(p, LOG_DEBUG, why);
			else
				pair_fail_tls(p, why);
			return;
		}
		side_ended(p, s, 0, why);
		break;
	}
}

/* ---- the upstream ---- */

static void connect_failed(struct pair *p, const char *why, int local)
{
	/* kgate's own shortage says nothing about the upstream: keep what
	 * was learned (a fresh Metadata request now would only add load). */
	if (local) {
		p->gw->stats.resource_failures++;
		pair_log(p, LOG_WARN, "cannot dial %s: %s (kgate's own resources)", p->upstream_addr,
			 why);
		pair_end(p, LOG_INFO, "kgate is short of resources; the client will retry");
		return;
	}
	p->gw->stats.upstream_connect_failures++;
	pair_log(p, LOG_WARN, "cannot reach %s: %s", p->upstream_addr, why);
	if (route_failed(p->gw, p->lst, &p->route)) {
		pair_route(p, NULL);
		return;
	}
	pair_end(p, LOG_INFO, "no upstream reachable; the client will retry");
}

/* The dialer's answer: an upstream connection, or why there is none. */
static void dialed(void *ctx, struct bufferevent *bev, const char *why, int local)
{
	struct pair *p = ctx;
	char session[128];

	p->dialer = NULL;
	if (!bev) {
		connect_failed(p, why, local);
		return;
	}
	if (side_init(&p->upstream, bev, (size_t)limits(p)->buffer_bytes / 2, side_cb, p) < 0) {
		pair_end(p, LOG_ERROR, "out of memory");
		return;
	}
	p->state = PAIR_OPEN;
	p->gw->stats.upstream_connects++;
	side_tune_tcp(&p->upstream);
	if (log_enabled(LOG_DEBUG)) {
		side_describe(&p->upstream, session, sizeof(session));
		pair_log(p, LOG_DEBUG, "connected to %s (%s)", p->upstream_addr, session);
	}
	if (side_start(&p->upstream) < 0) {
		pair_end(p, LOG_ERROR, "cannot watch sockets (out of memory)");
		return;
	}
	/* The client may have sent requests already; forward them. */
	if (p->client.paused)
		resume(p, &p->client);
	else
		process_requests(p, 0);
}

/* The cluster was asked where brokers are (or could not be): route again. */
static void cluster_ready(struct cluster_waiter *w, const char *failure)
{
	struct pair *p = pair_of(w, waiter);

	p->route.waited = 1;
	pair_route(p, failure);
}

/* Decides where the upstream is and dials it, or parks the pair until the
 * cluster's brokers are known (failure: why they could not be). */
static void pair_route(struct pair *p, const char *failure)
{
	struct route_target t;
	char why[512];

	switch (route_pick(p->gw, p->lst, &p->route, failure, &t, why, sizeof(why))) {
	case ROUTE_WAIT:
		p->state = PAIR_RESOLVING;
		p->waiter.ready = cluster_ready;
		discover_wait(p->gw, &p->waiter);
		return;
	case ROUTE_NONE:
		pair_end(p, LOG_WARN, why);
		return;
	case ROUTE_DIAL:
		break;
	}
	if (why[0])
		pair_log(p, LOG_INFO, "%s", why);
	p->state = PAIR_CONNECTING;
	cfg_addr_format(p->upstream_addr, sizeof(p->upstream_addr), t.host, t.port);
	pair_log(p, LOG_DEBUG, "dialling %s", p->upstream_addr);
	p->dialer = dial_start(&p->gw->dial, t.host, t.port, t.tls, t.tls_name, dialed, p);
	if (!p->dialer)
		pair_end(p, LOG_ERROR, "out of memory");
}

/* ---- accept ---- */

static void format_peer(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		evutil_inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		evutil_inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	snprintf(buf, len, "%s:%u", host, port);
}

/* The client's side: TLS or plaintext as its listener serves, its handshake
 * bounded in time.  -1 = the pair closed. */
static int open_client(struct pair *p, evutil_socket_t fd)
{
	struct listener *lst = p->lst;
	struct bufferevent *bev;

	bev = lst->tls ? tls_accept(p->gw->base, fd, lst->tls)
		       : bufferevent_socket_new(p->gw->base, fd,
						BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev)
		evutil_closesocket(fd);
	if (side_init(&p->client, bev, (size_t)limits(p)->buffer_bytes / 2, side_cb, p) < 0) {
		pair_end(p, LOG_ERROR, "out of memory");
		return -1;
	}
	if (lst->tls) {
		/* A client that never finishes its handshake must not hold a
		 * connection (and its buffers) for ever. */
		int64_t ms = lst->tls_cfg->handshake_timeout_ms;
		struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

		p->hs_timer = evtimer_new(p->gw->base, handshake_timeout_cb, p);
		if (!p->hs_timer || evtimer_add(p->hs_timer, &tv) < 0) {
			pair_end(p, LOG_ERROR, "out of memory");
			return -1;
		}
	}
	side_tune_tcp(&p->client);
	/* Read from the start, so a client that leaves is noticed; what it
	 * sends waits in its input until the upstream is connected. */
	if (side_start(&p->client) < 0) {
		pair_end(p, LOG_ERROR, "cannot watch sockets (out of memory)");
		return -1;
	}
	return 0;
}

void pair_accept(struct listener *lst, evutil_socket_t fd, const struct sockaddr *sa, int socklen)
{
	struct gateway *gw = lst->gw;
	struct pair *p = calloc(1, sizeof(*p));
	struct kstream_names names;

	(void)socklen;
	if (!p) {
		evutil_closesocket(fd);
		return;
	}
	p->gw = gw;
	p->lst = listener_ref(lst);
	p->gen = cfg_gen_ref(lst->gen);
	p->id = ++gw->next_pair_id;
	p->node.release = pair_release;
	p->route.learned_id = -1;
	format_peer(sa, p->client_addr, sizeof(p->client_addr));
	names.id = p->id;
	names.client = p->client_addr;
	names.listener = lst->addr->text;
	names.listener_name = lst->name;
	names.upstream = p->upstream_addr;
	kstream_init(&p->ks, &gw->streams, lst->stats, &names, limits(p));
	gateway_pair_opened(gw, &p->node);
	gw->stats.connections_accepted++;
	gw->stats.connections_open++;
	lst->stats->connections_accepted++;
	lst->stats->connections_open++;
	if (open_client(p, fd) < 0)
		return;
	pair_log(p, LOG_DEBUG, "accepted");
	pair_route(p, NULL);
}
