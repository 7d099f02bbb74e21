/* dial.c — resolve a name, connect to each of its addresses in turn, and
 * complete the TLS handshake when the upstream speaks TLS. */
#include "dial.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../config/addr.h"
#include "tls.h"

struct dialer {
	struct dial_env env;
	char host[CFG_HOST_MAX + 1];
	uint16_t port;
	struct evdns_getaddrinfo_request *req; /* name lookup in flight */
	struct evutil_addrinfo *addrs, *next;  /* what the name resolved to */
	evutil_socket_t fd;                    /* TCP connect in flight */
	struct event *wev;                     /* ... its writability */
	struct bufferevent *bev;               /* TLS handshake in flight */
	struct event *timer;                   /* per-address deadline, or "report now" */
	SSL_CTX *tls;                          /* NULL: plaintext */
	char tls_name[CFG_HOST_MAX + 1];
	dial_done_fn done;
	void *ctx;
	int resolving;       /* inside dial_start's lookup call */
	int cancelled;       /* the owner left while the lookup was pending */
	int local;           /* the last failure was kgate's own resources */
	char why[512];       /* the last failure */
};

/* Records why an attempt failed, and whose fault it was: local (kgate is
 * out of descriptors, memory or local ports) or not (the upstream). */
static void failed(struct dialer *d, int local, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void failed(struct dialer *d, int local, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
	d->local = local;
}

/* 1 if a socket call failed for want of kgate's own resources. */
static int resource_error(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
	       err == EADDRNOTAVAIL || err == EAGAIN;
}

static void dial_try_next(struct dialer *d);

/* Drops the attempt in flight (socket, its event, a TLS handshake). */
static void dial_drop_attempt(struct dialer *d)
{
	if (d->wev)
		event_free(d->wev);
	if (d->fd >= 0)
		evutil_closesocket(d->fd);
	if (d->bev)
		bufferevent_free(d->bev);
	d->wev = NULL;
	d->fd = -1;
	d->bev = NULL;
}

static void dial_free(struct dialer *d)
{
	dial_drop_attempt(d);
	if (d->timer)
		event_free(d->timer);
	if (d->addrs)
		evutil_freeaddrinfo(d->addrs);
	if (d->tls)
		SSL_CTX_free(d->tls);
	free(d);
}

static void dial_finish(struct dialer *d, struct bufferevent *bev)
{
	dial_done_fn done = d->done;
	void *ctx = d->ctx;
	char why[512];

	int local = d->local;

	snprintf(why, sizeof(why), "%s", d->why);
	dial_free(d);
	done(ctx, bev, bev ? NULL : why, local);
}

static void arm(struct dialer *d, int64_t ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(d->timer, &tv);
}

static void dial_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dialer *d = arg;

	(void)fd;
	(void)what;
	if (d->req || d->wev || d->bev) {
		failed(d, 0, "no %s after %" PRId64 " ms", d->bev ? "TLS handshake" : "connection",
		       d->env.timeout_ms);
		if (d->req) {
			/* The lookup's cancel callback finishes the job. */
			evdns_getaddrinfo_cancel(d->req);
			return;
		}
		dial_drop_attempt(d);
	}
	dial_try_next(d);
}

/* The TLS handshake finished, or failed. */
static void dial_tls_cb(struct bufferevent *bev, short events, void *arg)
{
	struct dialer *d = arg;
	char peer[300];

	if (events & BEV_EVENT_CONNECTED) {
		evtimer_del(d->timer);
		bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
		bufferevent_disable(bev, EV_READ);
		d->bev = NULL; /* handed over */
		dial_finish(d, bev);
		return;
	}
	cfg_addr_format(peer, sizeof(peer), d->host, d->port);
	tls_explain(bev, peer, 0, d->why, sizeof(d->why));
	d->local = 0;
	dial_drop_attempt(d);
	dial_try_next(d);
}

/* The TCP connect finished, or failed. */
static void dial_connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dialer *d = arg;
	struct bufferevent *bev;
	int err = 0;
	socklen_t len = sizeof(err);

	(void)what;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		failed(d, 0, "%s", strerror(err));
		dial_drop_attempt(d);
		dial_try_next(d);
		return;
	}
	event_free(d->wev);
	d->wev = NULL;
	d->fd = -1; /* the bufferevent owns it from here */
	if (!d->tls) {
		evtimer_del(d->timer);
		bev = bufferevent_socket_new(d->env.base, fd,
					     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (!bev) {
			evutil_closesocket(fd);
			failed(d, 1, "out of memory");
		}
		dial_finish(d, bev);
		return;
	}
	d->bev = tls_connect(d->env.base, fd, d->tls, d->tls_name);
	if (!d->bev) {
		evutil_closesocket(fd);
		/* tls_connect refuses a name OpenSSL cannot check or send. */
		failed(d, 1, "cannot set up TLS towards %s (out of memory, or a name OpenSSL "
			     "will not take)",
		       d->tls_name);
		dial_try_next(d);
		return;
	}
	bufferevent_setcb(d->bev, NULL, NULL, dial_tls_cb, d);
	bufferevent_enable(d->bev, EV_READ | EV_WRITE);
}

/* Connects to the next resolved address, or reports the last failure. */
static void dial_try_next(struct dialer *d)
{
	while (d->next) {
		struct evutil_addrinfo *ai = d->next;

		d->next = ai->ai_next;
		d->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (d->fd < 0) {
			int err = errno;

			failed(d, resource_error(err), "socket: %s", strerror(err));
			/* Out of descriptors: another address will not help. */
			if (d->local)
				break;
			continue;
		}
		if (connect(d->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			int err = errno;

			failed(d, resource_error(err), "%s", strerror(err));
			dial_drop_attempt(d);
			if (d->local)
				break;
			continue;
		}
		d->wev = event_new(d->env.base, d->fd, EV_WRITE, dial_connect_cb, d);
		if (!d->wev || event_add(d->wev, NULL) < 0) {
			failed(d, 1, "out of memory");
			dial_drop_attempt(d);
			break;
		}
		arm(d, d->env.timeout_ms);
		return;
	}
	dial_finish(d, NULL);
}

static void dial_resolved_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct dialer *d = arg;

	d->req = NULL;
	if (d->cancelled) {
		if (res)
			evutil_freeaddrinfo(res);
		dial_free(d);
		return;
	}
	if (result == EVUTIL_EAI_CANCEL) {
		/* Our own deadline cancelled it; d->why already says so. */
	} else if (result != 0) {
		failed(d, result == EVUTIL_EAI_MEMORY, "cannot resolve %s: %s", d->host,
		       evutil_gai_strerror(result));
	}
	if (result != 0) {
		if (res)
			evutil_freeaddrinfo(res);
	} else {
		d->addrs = d->next = res;
	}
	/* Never report from inside dial_start: let it return first. */
	if (d->resolving)
		arm(d, 0);
	else
		dial_try_next(d);
}

struct dialer *dial_start(const struct dial_env *env, const char *host, uint16_t port, SSL_CTX *tls,
			  const char *tls_name, dial_done_fn done, void *ctx)
{
	struct evutil_addrinfo hints;
	struct dialer *d = calloc(1, sizeof(*d));
	struct evdns_getaddrinfo_request *req;
	char service[8];

	if (!d)
		return NULL;
	d->env = *env;
	d->port = port;
	d->fd = -1;
	d->done = done;
	d->ctx = ctx;
	d->timer = evtimer_new(env->base, dial_timer_cb, d);
	if (!d->timer) {
		free(d);
		return NULL;
	}
	if (tls) {
		/* Its own reference: a reload may free the listener that lent
		 * it while this dial resolves or connects (SSL_new needs it). */
		SSL_CTX_up_ref(tls);
		d->tls = tls;
		snprintf(d->tls_name, sizeof(d->tls_name), "%s", tls_name);
	}
	/* A longer name would be cut short below, then dialled, sent as SNI
	 * and verified as a different one: refuse it (soon, not from inside
	 * dial_start). */
	if (strlen(host) > CFG_HOST_MAX || (tls && strlen(tls_name) > CFG_HOST_MAX)) {
		failed(d, 0, "a host name of %zu bytes is longer than DNS allows (%d)",
		       strlen(strlen(host) > CFG_HOST_MAX ? host : tls_name), CFG_HOST_MAX);
		arm(d, 0);
		return d;
	}
	snprintf(d->host, sizeof(d->host), "%s", host);
	snprintf(d->why, sizeof(d->why), "no address for %s", host);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	snprintf(service, sizeof(service), "%u", port);
	/* The deadline covers the lookup and the first address. */
	arm(d, env->timeout_ms);
	d->resolving = 1;
	req = evdns_getaddrinfo(env->dns, host, service, &hints, dial_resolved_cb, d);
	d->resolving = 0;
	/* NULL: answered already (IP literal, hosts file) or failed at once. */
	d->req = req;
	return d;
}

void dial_cancel(struct dialer *d)
{
	if (!d)
		return;
	if (d->req) {
		/* The cancel callback frees it, on the next loop pass. */
		d->cancelled = 1;
		evtimer_del(d->timer);
		evdns_getaddrinfo_cancel(d->req);
		return;
	}
	dial_free(d);
}
