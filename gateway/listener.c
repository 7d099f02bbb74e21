/* listener.c — binding kgate's listeners, accepting on them, and pausing
 * when accept fails (out of descriptors) instead of spinning. */
#include "listener.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../config/tls.h"
#include "gateway.h"
#include "log.h"

/* Pause after an accept error such as EMFILE, so the loop does not spin. */
#define ACCEPT_BACKOFF_MS 100
#define LISTEN_BACKLOG 1024

static void accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
		      int socklen, void *arg)
{
	struct listener *lst = arg;

	(void)evl;
	lst->accept(lst, fd, sa, socklen);
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

	log_warn("%s listener %s: accept failed: %s; pausing %d ms", lst->name, lst->addr->text,
		 evutil_socket_error_to_string(err), ACCEPT_BACKOFF_MS);
	evconnlistener_disable(evl);
	event_base_once(lst->gw->base, -1, EV_TIMEOUT, accept_resume_cb, lst, &tv);
}

/* Opens the listener for broker b, or for bootstrap when b is NULL. */
static int listener_open(struct gateway *gw, struct listener *lst, const struct cfg_broker *b,
			 listener_accept_fn accept, char *err, size_t errlen)
{
	const struct cfg *cfg = gateway_cfg(gw);
	const struct cfg_addr *a = b ? &b->listen : &cfg->bootstrap_listen;
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	char why[768];

	lst->gw = gw;
	lst->gen = cfg_gen_ref(gw->gen);
	lst->addr = a;
	lst->broker = b;
	lst->accept = accept;
	if (b)
		snprintf(lst->name, sizeof(lst->name), "broker %" PRId32, b->id);
	else
		snprintf(lst->name, sizeof(lst->name), "bootstrap");
	lst->tls_cfg = cfg_listener_tls(cfg, b);
	lst->upstream_tls_cfg = cfg_upstream_tls(cfg, b);
	if (lst->tls_cfg) {
		lst->tls = cfg_tls_server_ctx(lst->tls_cfg, why, sizeof(why));
		if (!lst->tls) {
			snprintf(err, errlen, "%s listener: %s", lst->name, why);
			return -1;
		}
	}
	if (lst->upstream_tls_cfg) {
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

int listeners_open(struct gateway *gw, listener_accept_fn accept, char *err, size_t errlen)
{
	const struct cfg *cfg = gateway_cfg(gw);

	gw->listeners = calloc(cfg->n_brokers + 1, sizeof(*gw->listeners));
	if (!gw->listeners) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Counted as soon as opening starts, so a failure frees what it got. */
	gw->n_listeners = 1;
	if (listener_open(gw, &gw->listeners[0], NULL, accept, err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < cfg->n_brokers; i++) {
		gw->n_listeners++;
		if (listener_open(gw, &gw->listeners[i + 1], &cfg->brokers[i], accept, err,
				  errlen) < 0)
			goto fail;
	}
	return 0;
fail:
	listeners_free(gw);
	return -1;
}

void listeners_close(struct gateway *gw)
{
	for (size_t i = 0; i < gw->n_listeners; i++) {
		if (gw->listeners[i].evl)
			evconnlistener_free(gw->listeners[i].evl);
		gw->listeners[i].evl = NULL;
	}
}

void listeners_free(struct gateway *gw)
{
	listeners_close(gw);
	for (size_t i = 0; i < gw->n_listeners; i++) {
		SSL_CTX_free(gw->listeners[i].tls);
		SSL_CTX_free(gw->listeners[i].upstream_tls);
		cfg_gen_unref(gw->listeners[i].gen);
	}
	free(gw->listeners);
	gw->listeners = NULL;
	gw->n_listeners = 0;
}

const struct listener *listener_bootstrap(const struct gateway *gw)
{
	return &gw->listeners[0];
}
