/* gateway.c — listeners, the node-id map, and the gateway's lifetime. */
#include "gateway.h"

#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../config/tls.h"
#include "conn.h"
#include "log.h"
#include "stats.h"

/* Pause after an accept error such as EMFILE, so the loop does not spin. */
#define ACCEPT_BACKOFF_MS 100
#define LISTEN_BACKLOG 1024

/* ---- the node-id map the rewriters consult ---- */

/* Logs an unmapped node id the first time it is seen. */
static void warn_unmapped(struct gateway *gw, int32_t id, const struct kstr *host,
			  int32_t port)
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

static int gw_lookup(void *ctx, int32_t node_id, const struct kstr *orig_host,
		     int32_t orig_port, struct kmap_addr *out)
{
	struct gateway *gw = ctx;
	const struct cfg_broker *b;

	cluster_learn(&gw->cluster, node_id, (const char *)orig_host->ptr, (size_t)orig_host->len,
		      orig_port);
	b = cfg_broker_by_id(gw->cfg, node_id);
	if (!b) {
		kg_stats.endpoints_unmapped++;
		warn_unmapped(gw, node_id, orig_host, orig_port);
		return 0;
	}
	out->host = b->advertise.host;
	out->host_len = (int32_t)strlen(b->advertise.host);
	out->port = b->advertise.port;
	kg_stats.endpoints_rewritten++;
	return 1;
}

/* ---- listeners ---- */

SSL_CTX *listener_upstream_tls(const struct listener *lst, const char *host, const char **name)
{
	const struct cluster_node *node;

	*name = host;
	if (!lst->upstream_tls)
		return NULL;
	if (lst->upstream_tls_cfg->server_name)
		*name = lst->upstream_tls_cfg->server_name;
	else if (lst->broker && (node = cluster_find(&lst->gw->cluster, lst->broker->id)))
		*name = node->host;
	return lst->upstream_tls;
}

static void accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
		      int socklen, void *arg)
{
	(void)evl;
	pair_accept(arg, fd, sa, socklen);
}

static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *lst = arg;

	(void)fd;
	(void)what;
	if (lst->evl) /* not stopped meanwhile */
		evconnlistener_enable(lst->evl);
}

static void accept_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener *lst = arg;
	struct timeval tv = {0, ACCEPT_BACKOFF_MS * 1000};
	int err = EVUTIL_SOCKET_ERROR();

	log_warn("%s listener %s: accept failed: %s; pausing %d ms", lst->name,
		 lst->addr->text, evutil_socket_error_to_string(err), ACCEPT_BACKOFF_MS);
	evconnlistener_disable(evl);
	event_base_once(lst->gw->base, -1, EV_TIMEOUT, accept_resume_cb, lst, &tv);
}

static int listener_open(struct gateway *gw, struct listener *lst, const struct cfg_addr *a,
			 const struct cfg_broker *b, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);

	lst->gw = gw;
	lst->addr = a;
	lst->broker = b;
	if (b)
		snprintf(lst->name, sizeof(lst->name), "broker %" PRId32, b->id);
	else
		snprintf(lst->name, sizeof(lst->name), "bootstrap");
	lst->tls_cfg = cfg_listener_tls(gw->cfg, b);
	lst->upstream_tls_cfg = cfg_upstream_tls(gw->cfg, b);
	if (lst->tls_cfg) {
		char why[768];

		lst->tls = cfg_tls_server_ctx(lst->tls_cfg, why, sizeof(why));
		if (!lst->tls) {
			snprintf(err, errlen, "%s listener: %s", lst->name, why);
			return -1;
		}
	}
	if (lst->upstream_tls_cfg) {
		char why[768];

		lst->upstream_tls = cfg_tls_client_ctx(lst->upstream_tls_cfg, why, sizeof(why));
		if (!lst->upstream_tls) {
			snprintf(err, errlen, "%s upstream: %s", lst->name, why);
			return -1;
		}
	}
	if (evutil_parse_sockaddr_port(a->text, (struct sockaddr *)&ss, &sslen) < 0) {
		snprintf(err, errlen, "%s listener: cannot parse %s", lst->name, a->text);
		return -1;
	}
	lst->evl = evconnlistener_new_bind(gw->base, accept_cb, lst,
					   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
						   LEV_OPT_CLOSE_ON_EXEC,
					   LISTEN_BACKLOG, (struct sockaddr *)&ss, sslen);
	if (!lst->evl) {
		snprintf(err, errlen, "%s listener: cannot listen on %s: %s", lst->name, a->text,
			 strerror(errno));
		return -1;
	}
	evconnlistener_set_error_cb(lst->evl, accept_error_cb);
	if (b)
		log_info("broker %" PRId32 " listening on %s%s, advertised as %s, upstream %s%s",
			 b->id, a->text, lst->tls ? " (TLS)" : "", b->advertise.text,
			 b->upstream.text ? b->upstream.text : "(as the cluster advertises it)",
			 lst->upstream_tls ? " over TLS" : "");
	else
		log_info("bootstrap listening on %s%s%s", a->text, lst->tls ? " (TLS)" : "",
			 lst->upstream_tls ? ", upstreams over TLS" : "");
	return 0;
}

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
			 "127.0.0.1", path);
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

static void reaper_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pair_reap(arg);
}

struct gateway *gateway_new(struct event_base *base, const struct cfg *cfg, char *err,
			    size_t errlen)
{
	struct gateway *gw = calloc(1, sizeof(*gw));

	if (!gw) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	gw->base = base;
	gw->cfg = cfg;
	gw->map.lookup = gw_lookup;
	gw->map.ctx = gw;
	kw_init(&gw->scratch);
	cluster_init(&gw->cluster, gw);
	gw->reaper = event_new(base, -1, 0, reaper_cb, gw);
	gw->dns = evdns_base_new(base, 0);
	if (gw->dns)
		dns_configure(gw->dns);
	gw->listeners = calloc(cfg->n_brokers + 1, sizeof(*gw->listeners));
	if (!gw->reaper || !gw->dns || !gw->listeners) {
		snprintf(err, errlen, "cannot set up the event loop or DNS resolver");
		gateway_free(gw);
		return NULL;
	}
	if (listener_open(gw, &gw->listeners[0], &cfg->bootstrap_listen, NULL, err, errlen) < 0)
		goto fail;
	gw->n_listeners = 1;
	for (size_t i = 0; i < cfg->n_brokers; i++) {
		if (listener_open(gw, &gw->listeners[i + 1], &cfg->brokers[i].listen,
				  &cfg->brokers[i], err, errlen) < 0)
			goto fail;
		gw->n_listeners++;
	}
	return gw;
fail:
	gateway_free(gw);
	return NULL;
}

void gateway_shutdown(struct gateway *gw)
{
	for (size_t i = 0; i < gw->n_listeners; i++) {
		if (gw->listeners[i].evl)
			evconnlistener_free(gw->listeners[i].evl);
		gw->listeners[i].evl = NULL;
	}
	while (gw->pairs)
		pair_close(gw->pairs, "gateway stopping");
	cluster_stop(&gw->cluster);
}

void gateway_free(struct gateway *gw)
{
	if (!gw)
		return;
	gateway_shutdown(gw);
	pair_reap(gw);
	cluster_free(&gw->cluster);
	if (gw->dns)
		evdns_base_free(gw->dns, 0);
	if (gw->reaper)
		event_free(gw->reaper);
	kw_free(&gw->scratch);
	for (size_t i = 0; gw->listeners && i <= gw->cfg->n_brokers; i++) {
		SSL_CTX_free(gw->listeners[i].tls);
		SSL_CTX_free(gw->listeners[i].upstream_tls);
	}
	free(gw->listeners);
	free(gw->unmapped_logged);
	free(gw);
}
