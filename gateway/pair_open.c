/* pair_open.c — a pair's beginning: accepting the client, deciding where
 * its upstream is (route.h), waiting for the cluster if need be, and
 * dialling.  See pair.h. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "aws_creds.h"
#include "dial.h"
#include "discover.h"
#include "listener.h"
#include "log.h"
#include "pair.h"
#include "pair_internal.h"
#include "refresh.h"
#include "tls.h"
#include "upauth.h"

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
	if (route_node(p->lst, &p->route) >= 0)
		gateway_broker_seen(p->gw, route_node(p->lst, &p->route), 0);
	pair_log(p, LOG_WARN, "cannot reach %s: %s", p->upstream_addr, why);
	/* The address is kept (the next client dials it too: a broker
	 * that restarts answers there again); where it is now is asked for
	 * at most once per back-off period. */
	if (p->route.learned_id >= 0)
		refresh_dial_failed(p->gw, p->route.learned_id, p->upstream_addr);
	if (route_failed(p->gw, p->lst, &p->route)) {
		pair_route(p, NULL);
		return;
	}
	pair_end(p, LOG_INFO, "no upstream reachable; the client will retry");
}

/* The upstream connection is ready for the client's bytes. */
static void upstream_ready(struct pair *p, struct bufferevent *bev)
{
	char session[128];

	if (side_init(&p->upstream, bev, (size_t)pair_limits(p)->buffer_bytes / 2,
		      &p->gw->pools, pair_side_cb, p) < 0) {
		pair_end(p, LOG_ERROR, "out of memory");
		return;
	}
	p->state = PAIR_OPEN;
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
		pair_resume(p, &p->client);
	else
		pair_process_requests(p, 0);
}

/* Signed in to the upstream (upstream_sasl), or refused. */
static void authed(void *ctx, struct bufferevent *bev, const char *why, int16_t auth_version,
		   int64_t lifetime_ms)
{
	struct pair *p = ctx;
	char who[300];

	p->auth = NULL;
	if (!bev) {
		p->gw->stats.upstream_auth_failures++;
		pair_log(p, LOG_WARN, "cannot authenticate to %s: %s", p->upstream_addr, why);
		pair_end(p, LOG_INFO, "upstream authentication failed; the client will retry");
		return;
	}
	p->gw->stats.upstream_auths++;
	p->auth_version = auth_version;
	if (log_enabled(LOG_DEBUG)) {
		cfg_sasl_describe(p->sasl, who, sizeof(who));
		pair_log(p, LOG_DEBUG, "authenticated to %s as %s, session %" PRId64 " ms",
			 p->upstream_addr, who, lifetime_ms);
	}
	pair_reauth_arm(p, lifetime_ms);
	upstream_ready(p, bev);
}

/* The dialer's answer: an upstream connection, or why there is none. */
static void dialed(void *ctx, struct bufferevent *bev, const char *why, int local)
{
	struct pair *p = ctx;
	const struct cfg_limits *l = pair_limits(p);

	p->dialer = NULL;
	if (!bev) {
		connect_failed(p, why, local);
		return;
	}
	p->gw->stats.upstream_connects++;
	if (route_node(p->lst, &p->route) >= 0)
		gateway_broker_seen(p->gw, route_node(p->lst, &p->route), 1);
	if (p->route.learned_id >= 0)
		refresh_dial_ok(p->gw, p->route.learned_id);
	if (!p->sasl) {
		upstream_ready(p, bev);
		return;
	}
	/* Not a byte of the client's before kgate has signed in. */
	p->auth = upauth_connect(bev, p->upstream_addr, p->sign_name, p->sasl, l->connect_timeout_ms,
				 l->max_frame_bytes, authed, p);
	if (!p->auth)
		pair_end(p, LOG_ERROR, "out of memory");
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
void pair_route(struct pair *p, const char *failure)
{
	struct route_target t;
	char why[512];
	int64_t wait_ms;

	switch (route_pick(p->gw, p->lst, &p->route, failure, &t, why, sizeof(why))) {
	case ROUTE_WAIT:
		if (p->route.wait_id >= 0 && !refresh_may_wait(p->gw, p->route.wait_id, &wait_ms)) {
			/* Asked lately: a fast, clear answer beats a fetch per
			 * client. */
			snprintf(why, sizeof(why),
				 "broker %" PRId32 " is not in the cluster's Metadata as kgate "
				 "last learned it%s (asked again in %" PRId64 " ms at the earliest)",
				 p->route.wait_id,
				 p->gw->cluster.listed ? "" : " (it could not learn it yet)", wait_ms);
			pair_end(p, LOG_WARN, why);
			return;
		}
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
	/* Set once the client's identity is settled (a login maps it).  With
	 * neither, a client's SASL is the broker's business: it passes. */
	p->ks.own_sasl =
		p->sasl != NULL || cfg_login(&p->gen->cfg, p->lst->conf)->mode == CFG_LOGIN_SASL;
	p->state = PAIR_CONNECTING;
	cfg_addr_format(p->upstream_addr, sizeof(p->upstream_addr), t.host, t.port);
	/* AWS_MSK_IAM signs the broker's own name, which TLS verifies: not an
	 * NLB's or endpoint's that kgate dials instead. */
	free(p->sign_name);
	p->sign_name = NULL;
	if (p->sasl && p->sasl->mechanism == CFG_SASL_AWS_MSK_IAM && t.tls_name &&
	    !(p->sign_name = strdup(t.tls_name))) {
		pair_end(p, LOG_ERROR, "out of memory");
		return;
	}
	/* Nothing to sign with: say so now rather than after a dial and half
	 * an exchange. */
	if (cfg_sasl_iam(p->sasl) && aws_creds_get(NULL, why, sizeof(why)) < 0) {
		p->gw->stats.upstream_auth_failures++;
		pair_log(p, LOG_WARN, "cannot authenticate to %s: %s", p->upstream_addr, why);
		pair_end(p, LOG_INFO, "upstream authentication failed; the client will retry");
		return;
	}
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
	if (side_init(&p->client, bev, (size_t)pair_limits(p)->buffer_bytes / 2,
		      &p->gw->pools, pair_side_cb, p) < 0) {
		pair_end(p, LOG_ERROR, "out of memory");
		return -1;
	}
	side_watch_hangup(&p->client);
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

static void pair_begin(struct pair *p);

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
	/* Unique across workers: worker w of n numbers w+1, w+1+n, ... */
	p->id = gw->next_pair_id++ * gw->n_workers + gw->worker + 1;
	p->active_ns = kg_now_ns();
	p->node.release = pair_release;
	p->route.learned_id = -1;
	p->route.sni_id = -1;
	p->sasl = cfg_upstream_sasl(&p->gen->cfg, lst->conf);
	format_peer(sa, p->client_addr, sizeof(p->client_addr));
	names.id = p->id;
	names.client = p->client_addr;
	names.listener = lst->addr->text;
	names.listener_name = lst->name;
	names.upstream = p->upstream_addr;
	kstream_init(&p->ks, &gw->streams, lst->stats, &names, pair_limits(p));
	if (lst->sni)
		p->ks.map = &lst->map;
	gateway_pair_opened(gw, &p->node);
	gw->stats.connections_accepted++;
	gw->stats.connections_open++;
	lst->stats->connections_accepted++;
	lst->stats->connections_open++;
	if (open_client(p, fd) < 0)
		return;
	pair_log(p, LOG_DEBUG, "accepted");
	/* The SNI listener knows where its client goes once the handshake
	 * has said the server name (SIDE_READY). */
	if (lst->sni) {
		p->await_sni = 1;
		return;
	}
	pair_begin(p);
}

/* ---- the SNI listener ---- */

/* At most one line this often about refused names, whichever worker
 * refuses them (a scanner must not flood the log); the rest are counted
 * (sni_refused) and their number said in the next line. */
#define SNI_REFUSED_LOG_NS (10 * 1000000000LL)
static _Atomic int64_t refused_log_ns;
static _Atomic uint64_t refused_unlogged;

void pair_sni_refused(struct pair *p)
{
	const char *name = cfg_sni_sent(side_ssl(&p->client));
	char shown[CFG_HOST_MAX * 4 + 8];
	int64_t now = kg_now_ns(), last = atomic_load(&refused_log_ns);

	p->gw->stats.sni_refused++;
	if ((last && now - last < SNI_REFUSED_LOG_NS) ||
	    !atomic_compare_exchange_strong(&refused_log_ns, &last, now)) {
		atomic_fetch_add(&refused_unlogged, 1);
		pair_end(p, LOG_DEBUG, "server name refused (sni.unmatched is \"refuse\")");
		return;
	}
	if (name)
		log_escape(shown, sizeof(shown), name, strlen(name));
	pair_log(p, LOG_WARN,
		 "refused server name %s%s%s: neither sni.bootstrap_name nor sni.broker_name "
		 "(sni.unmatched is \"refuse\"; %" PRIu64 " more refused since the last line)",
		 name ? "\"" : "(none sent)", name ? shown : "", name ? "\"" : "",
		 atomic_exchange(&refused_unlogged, 0));
	pair_end(p, LOG_DEBUG, "server name refused");
}

void pair_sni_ready(struct pair *p)
{
	const char *name = cfg_sni_sent(side_ssl(&p->client));
	int64_t m = cfg_sni_match(p->lst->sni, name);
	char shown[CFG_HOST_MAX * 4 + 8] = "";

	p->await_sni = 0;
	if (name)
		log_escape(shown, sizeof(shown), name, strlen(name));
	if (m >= 0) {
		p->route.sni_id = (int32_t)m;
		p->gw->stats.sni_broker++;
		pair_log(p, LOG_DEBUG, "server name \"%s\": broker %" PRId64, shown, m);
	} else if (m == CFG_SNI_BOOTSTRAP) {
		p->gw->stats.sni_bootstrap++;
		pair_log(p, LOG_DEBUG, "server name \"%s\": bootstrap", shown);
	} else {
		/* sni.unmatched "bootstrap" (the TLS callback refuses otherwise) */
		p->gw->stats.sni_unmatched++;
		pair_log(p, LOG_DEBUG, "server name %s%s%s matches no broker: bootstrap",
			 name ? "\"" : "(none sent)", shown, name ? "\"" : "");
	}
	pair_begin(p);
	/* A login's first request may have come with the handshake's end. */
	if (p->login && p->state == PAIR_NEW)
		pair_login_read(p);
}

/* The client may log in to kgate first; then it is routed. */
static void pair_begin(struct pair *p)
{
	switch (pair_login_begin(p)) {
	case 0:
		pair_route(p, NULL);
		return;
	case 1:
		return; /* routed once logged in */
	default:
		pair_end(p, LOG_ERROR, "out of memory");
	}
}
