/* admin.c — the admin endpoint's HTTP handlers (see admin.h). */
#include "admin.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "discover.h"
#include "gateway.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"

/* What an admin client may send, and how long it may take. */
#define ADMIN_TIMEOUT_S 10
#define ADMIN_MAX_HEADERS 8192

struct admin {
	struct gateway *gw;
	struct evhttp *http;
	struct event *probe; /* kgate's own Metadata request, every interval */
	int64_t interval_ms;
};

static void reply(struct evhttp_request *req, int code, const char *reason, const char *type,
		  struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply(req, code, reason, body);
}

static void reply_text(struct evhttp_request *req, int code, const char *reason,
		       const char *text)
{
	struct evbuffer *body = evbuffer_new();

	if (body)
		evbuffer_add_printf(body, "%s\n", text);
	reply(req, code, reason, "text/plain; charset=utf-8", body);
	if (body)
		evbuffer_free(body);
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct admin *a = arg;
	struct evbuffer *body = evbuffer_new();
	/* Every worker's, exact: each copies its own on its own thread. */
	struct gw_counters *c = gateway_counters(a->gw);

	if (!body || !c || metrics_render(body, a->gw, c) < 0) {
		reply_text(req, 500, "Internal Server Error", "out of memory");
	} else {
		reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body);
	}
	gw_counters_free(c);
	if (body)
		evbuffer_free(body);
}

static void on_healthz(struct evhttp_request *req, void *arg)
{
	(void)arg;
	reply_text(req, 200, "OK", "ok");
}

/* Why kgate should not get clients now, or NULL. */
static const char *unready(const struct admin *a, char *buf, size_t len)
{
	const struct gateway *gw = a->gw;

	for (size_t i = 0; i < gw->n_listeners && !gw->draining; i++) {
		if (!gw->listeners[i]->evl) {
			snprintf(buf, len, "%s listener %s is not accepting", gw->listeners[i]->name,
				 gw->listeners[i]->addr->text);
			return buf;
		}
	}
	return gateway_unready(gw, 2 * a->interval_ms + gateway_cfg(gw)->limits.connect_timeout_ms,
			       buf, len);
}

static void on_readyz(struct evhttp_request *req, void *arg)
{
	char why[512];
	const char *reason = unready(arg, why, sizeof(why));

	if (reason)
		reply_text(req, 503, "Service Unavailable", reason);
	else
		reply_text(req, 200, "OK", "ready");
}

static void iso_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One broker kgate fronts, as /brokers shows it. */
static json_t *broker_json(const struct gateway *gw, const struct cfg_broker *b)
{
	const struct cluster_node *node = cluster_find(&gw->cluster, b->id);
	const struct gw_broker_health *h = idmap_get(&gw->health, b->id);
	json_t *o = json_object(), *up = json_object();
	char addr[300], when[32];

	if (!o || !up) {
		json_decref(o);
		json_decref(up);
		return NULL;
	}
	json_object_set_new(o, "listen", json_string(b->listen.text));
	json_object_set_new(o, "advertise", json_string(b->advertise.text));
	if (b->upstream.host) {
		json_object_set_new(up, "address", json_string(b->upstream.text));
		json_object_set_new(up, "source", json_string("configured"));
	} else if (node) {
		cfg_addr_format(addr, sizeof(addr), node->host, node->port);
		iso_time(node->learned_at, when, sizeof(when));
		json_object_set_new(up, "address", json_string(addr));
		json_object_set_new(up, "source", json_string("learned"));
		json_object_set_new(up, "since", json_string(when));
	} else {
		json_object_set_new(up, "address", json_null());
		json_object_set_new(up, "source", json_string("not learned yet"));
	}
	json_object_set_new(o, "upstream", up);
	json_object_set_new(o, "state", json_string(!h ? "unknown" : h->up ? "up" : "down"));
	if (h && h->since) {
		iso_time(h->since, when, sizeof(when));
		json_object_set_new(o, "state_since", json_string(when));
	}
	return o;
}

static void on_brokers(struct evhttp_request *req, void *arg)
{
	const struct admin *a = arg;
	const struct cfg *cfg = gateway_cfg(a->gw);
	json_t *all = json_object();
	struct evbuffer *body = evbuffer_new();
	char *text = NULL, id[16];

	for (size_t i = 0; all && i < cfg->n_brokers; i++) {
		/* A broker_ports id is a broker once the cluster has it. */
		if (cfg->brokers[i].from_rule && !cluster_find(&a->gw->cluster, cfg->brokers[i].id) &&
		    !idmap_get(&a->gw->health, cfg->brokers[i].id))
			continue;
		snprintf(id, sizeof(id), "%" PRId32, cfg->brokers[i].id);
		json_object_set_new(all, id, broker_json(a->gw, &cfg->brokers[i]));
	}
	if (all)
		text = json_dumps(all, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!body || !text || evbuffer_add_printf(body, "%s\n", text) < 0)
		reply_text(req, 500, "Internal Server Error", "out of memory");
	else
		reply(req, 200, "OK", "application/json", body);
	free(text);
	json_decref(all);
	if (body)
		evbuffer_free(body);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	reply_text(req, 404, "Not Found", "not found: try /metrics, /healthz, /readyz or /brokers");
}

static void probe_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	discover_probe(((struct admin *)arg)->gw);
}

int admin_start(struct gateway *gw, struct admin **out, char *err, size_t errlen)
{
	const struct cfg_admin *c = &gateway_cfg(gw)->admin;
	struct timeval tv;
	struct admin *a;

	*out = NULL;
	if (!c->listen.host)
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a || !(a->http = evhttp_new(gw->base)) ||
	    !(a->probe = event_new(gw->base, -1, EV_PERSIST, probe_cb, a))) {
		snprintf(err, errlen, "admin endpoint: out of memory");
		admin_free(a);
		return -1;
	}
	a->gw = gw;
	a->interval_ms = c->probe_interval_ms;
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(a->http, ADMIN_TIMEOUT_S);
	evhttp_set_max_headers_size(a->http, ADMIN_MAX_HEADERS);
	evhttp_set_max_body_size(a->http, 0);
	evhttp_set_cb(a->http, "/metrics", on_metrics, a);
	evhttp_set_cb(a->http, "/healthz", on_healthz, a);
	evhttp_set_cb(a->http, "/readyz", on_readyz, a);
	evhttp_set_cb(a->http, "/brokers", on_brokers, a);
	evhttp_set_gencb(a->http, on_other, a);
	if (!evhttp_bind_socket_with_handle(a->http, c->listen.host, c->listen.port)) {
		snprintf(err, errlen, "admin endpoint: cannot listen on %s", c->listen.text);
		admin_free(a);
		return -1;
	}
	tv.tv_sec = a->interval_ms / 1000;
	tv.tv_usec = (a->interval_ms % 1000) * 1000;
	event_add(a->probe, &tv);
	/* Ask at once: readiness should not wait a whole interval. */
	discover_probe(gw);
	log_info("admin endpoint on http://%s (/metrics /healthz /readyz /brokers)",
		 c->listen.text);
	*out = a;
	return 0;
}

void admin_free(struct admin *a)
{
	if (!a)
		return;
	if (a->probe)
		event_free(a->probe);
	if (a->http)
		evhttp_free(a->http);
	free(a);
}
