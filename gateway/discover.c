/* discover.c — kgate's own Metadata request (see discover.h). */
#include "discover.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "../protocol/kapi.h"
#include "../protocol/requests.h"
#include "aws_creds.h"
#include "gateway.h"
#include "log.h"
#include "route.h"
#include "session.h"
#include "upauth.h"

struct discover {
	struct gateway *gw;
	struct dialer *dialer;   /* connecting */
	struct upauth_conn *auth; /* signing in (upstream_sasl) */
	struct cfg_gen *gen;     /* keeps the upstream_sasl block signed in with */
	struct session *session; /* connected */
	size_t first, attempt;   /* bootstrap upstreams: where we started, how many tried */
	int16_t metadata_version;
	int probe;               /* a periodic check: quiet unless something changes */
	char target[320];
	char tls_name[256]; /* the bootstrap upstream's name for TLS (and IAM), or "" */
};

static void discover_free(struct discover *d)
{
	dial_cancel(d->dialer);
	upauth_conn_cancel(d->auth);
	session_free(d->session);
	if (d->gen)
		cfg_gen_unref(d->gen);
	free(d);
}

void discover_stop(struct gateway *gw)
{
	if (gw->discover)
		discover_free(gw->discover);
	gw->discover = NULL;
}

static void done(struct discover *d, const char *failure)
{
	struct gateway *gw = d->gw;

	if (failure && !d->probe)
		log_warn("could not learn the cluster's brokers: %s", failure);
	gw->discover = NULL;
	discover_free(d);
	gateway_cluster_answered(gw, failure);
	cluster_wake(&gw->cluster, failure);
}

static void dial_next(struct discover *d);

/* This upstream did not work out: try the next one, or give up. */
static void retry(struct discover *d, const char *why)
{
	LOG(d->probe ? LOG_DEBUG : LOG_WARN, "asking %s for Metadata: %s", d->target, why);
	if (++d->attempt >= gateway_cfg(d->gw)->bootstrap_upstream.n) {
		done(d, "no bootstrap upstream answered");
		return;
	}
	session_free(d->session);
	d->session = NULL;
	dial_next(d);
}

static void session_failed(void *ctx, const char *why)
{
	retry(ctx, why);
}

static void learn_broker(void *ctx, int32_t node_id, const struct kstr *host, int32_t port)
{
	struct gateway *gw = ctx;

	cluster_learn(&gw->cluster, node_id, (const char *)host->ptr, (size_t)host->len, port);
}

static void on_metadata(void *ctx, const uint8_t *frame, size_t len)
{
	struct discover *d = ctx;
	const struct cfg *cfg = gateway_cfg(d->gw);

	if (kresp_metadata_brokers(frame, len, d->metadata_version,
				   (int32_t)cfg->limits.max_brokers, learn_broker, gateway_listing,
				   d->gw) < 0) {
		retry(d, "malformed Metadata answer, or more brokers than limits.max_brokers");
		return;
	}
	LOG(d->probe ? LOG_DEBUG : LOG_INFO, "learned the cluster's brokers from %s", d->target);
	done(d, NULL);
}

/* Which Metadata versions the broker speaks decides the one kgate asks. */
static void on_api_versions(void *ctx, const uint8_t *frame, size_t len)
{
	struct discover *d = ctx;
	int16_t lo, hi, v, ours = kapi_get(KAPI_METADATA)->max_version;

	gateway_learn_apis(d->gw, frame, len);
	if (kresp_api_versions_range(frame, len, KAPI_METADATA, &lo, &hi) < 0) {
		retry(d, "unusable ApiVersions answer");
		return;
	}
	v = hi < ours ? hi : ours;
	/* v0 of an empty topic list means "all topics": avoid it. */
	if (v < lo || v < 1) {
		retry(d, "no Metadata version in common");
		return;
	}
	d->metadata_version = v;
	if (session_send(d->session, KAPI_METADATA, v, kreq_metadata_body, on_metadata) < 0)
		retry(d, "cannot send Metadata (out of memory)");
}

/* Connected (and signed in): ask which Metadata versions the broker speaks. */
static void start_session(struct discover *d, struct bufferevent *bev)
{
	const struct cfg_limits *limits = &gateway_cfg(d->gw)->limits;

	d->session = session_new(bev, d->target, limits->max_frame_bytes,
				 limits->connect_timeout_ms, session_failed, d);
	if (!d->session) {
		retry(d, "out of memory");
		return;
	}
	if (session_send(d->session, KAPI_API_VERSIONS, 0, NULL, on_api_versions) < 0)
		retry(d, "cannot send ApiVersions (out of memory)");
}

static void authed(void *ctx, struct bufferevent *bev, const char *why, int16_t auth_version,
		   int64_t lifetime_ms)
{
	struct discover *d = ctx;
	char msg[700];

	(void)auth_version;
	(void)lifetime_ms; /* one request and an answer: the session outlives it */
	d->auth = NULL;
	if (!bev) {
		d->gw->stats.upstream_auth_failures++;
		snprintf(msg, sizeof(msg), "cannot authenticate: %s", why);
		/* Said at warn even when probing: wrong credentials do not
		 * heal by themselves. */
		log_warn("asking %s for Metadata: %s", d->target, msg);
		retry(d, msg);
		return;
	}
	d->gw->stats.upstream_auths++;
	if (log_enabled(LOG_DEBUG)) {
		cfg_sasl_describe(cfg_upstream_sasl(&d->gen->cfg, NULL), msg, sizeof(msg));
		log_debug("authenticated to %s as %s, for kgate's own Metadata", d->target, msg);
	}
	start_session(d, bev);
}

/* Connected: sign in if kgate must, then ask. */
static void dialed(void *ctx, struct bufferevent *bev, const char *why, int local)
{
	struct discover *d = ctx;
	const struct cfg *cfg = &d->gen->cfg;
	const struct cfg_sasl *sasl = cfg_upstream_sasl(cfg, NULL);

	d->dialer = NULL;
	if (!bev && local) {
		/* Another upstream will not fix kgate's own shortage. */
		d->gw->stats.resource_failures++;
		done(d, why);
		return;
	}
	if (!bev) {
		retry(d, why);
		return;
	}
	if (!sasl) {
		start_session(d, bev);
		return;
	}
	d->auth = upauth_connect(bev, d->target, d->tls_name[0] ? d->tls_name : NULL, sasl, cfg->limits.connect_timeout_ms,
				 cfg->limits.max_frame_bytes, authed, d);
	if (!d->auth)
		retry(d, "out of memory");
}

static void dial_next(struct discover *d)
{
	struct gateway *gw = d->gw;
	struct route_target t;
	char why[600];

	/* Nothing to sign in with: no upstream would do better. */
	if (cfg_sasl_iam(cfg_upstream_sasl(&d->gen->cfg, NULL)) &&
	    aws_creds_get(NULL, why, sizeof(why)) < 0) {
		gw->stats.upstream_auth_failures++;
		done(d, why);
		return;
	}
	/* kgate's own requests go where the bootstrap listener's would. */
	route_bootstrap(gw, d->attempt, &d->first, &t);
	cfg_addr_format(d->target, sizeof(d->target), t.host, t.port);
	snprintf(d->tls_name, sizeof(d->tls_name), "%s", t.tls_name ? t.tls_name : "");
	gw->stats.metadata_fetches++;
	LOG(d->probe ? LOG_DEBUG : LOG_INFO, "asking %s for the cluster's brokers", d->target);
	d->dialer = dial_start(&gw->dial, t.host, t.port, t.tls, t.tls_name, dialed, d);
	if (!d->dialer)
		done(d, "out of memory");
}

/* Each reason's counter (stats.h's metadata_refreshes family). */
static const size_t reason_counter[] = {
	[DISCOVER_INTERVAL] = offsetof(struct kg_stats, metadata_refreshes__interval),
	[DISCOVER_READINESS] = offsetof(struct kg_stats, metadata_refreshes__readiness),
	[DISCOVER_DIAL_FAILURE] = offsetof(struct kg_stats, metadata_refreshes__dial_failure),
	[DISCOVER_NOT_LEADER] = offsetof(struct kg_stats, metadata_refreshes__not_leader),
	[DISCOVER_CLIENT_WAIT] = offsetof(struct kg_stats, metadata_refreshes__client_wait),
};

static void count(struct gateway *gw, enum discover_reason why)
{
	++*(uint64_t *)((char *)&gw->stats + reason_counter[why]);
}

/* Asks the cluster unless a request is already under way. */
static void start(struct gateway *gw, int probe, enum discover_reason why)
{
	struct discover *d;

	if (gw->discover)
		return;
	count(gw, why);
	d = calloc(1, sizeof(*d));
	if (!d) {
		gateway_cluster_answered(gw, "out of memory");
		cluster_wake(&gw->cluster, "out of memory");
		return;
	}
	d->gw = gw;
	d->gen = cfg_gen_ref(gw->gen);
	d->probe = probe;
	gw->discover = d;
	/* The first attempt starts where bootstrap connections would, so one
	 * dead upstream does not delay every request. */
	dial_next(d);
}

void discover_wait(struct gateway *gw, struct cluster_waiter *w)
{
	cluster_wait(&gw->cluster, w);
	start(gw, 0, DISCOVER_CLIENT_WAIT);
}

void discover_probe(struct gateway *gw)
{
	/* A draining kgate is not ready whatever the cluster says. */
	if (!gw->draining)
		start(gw, 1, DISCOVER_READINESS);
}

void discover_refresh(struct gateway *gw, enum discover_reason why)
{
	if (!gw->draining)
		start(gw, why == DISCOVER_INTERVAL || why == DISCOVER_READINESS, why);
}
