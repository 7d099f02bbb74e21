/* dial.c — resolve a name and connect to each of its addresses in turn. */
#include "dial.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gateway.h"

struct dialer {
	struct gateway *gw;
	char host[256];
	uint16_t port;
	struct evdns_getaddrinfo_request *req; /* name lookup in flight */
	struct evutil_addrinfo *addrs, *next;  /* what the name resolved to */
	struct bufferevent *bev;               /* the attempt in flight */
	struct event *timer;                   /* per-address deadline, or "report now" */
	dial_done_fn done;
	void *ctx;
	int resolving;       /* inside dial_start's lookup call */
	int cancelled;       /* the owner left while the lookup was pending */
	char why[256];       /* the last failure */
};

static void dial_try_next(struct dialer *d);

static void dial_free(struct dialer *d)
{
	if (d->bev)
		bufferevent_free(d->bev);
	if (d->timer)
		event_free(d->timer);
	if (d->addrs)
		evutil_freeaddrinfo(d->addrs);
	free(d);
}

static void dial_finish(struct dialer *d, struct bufferevent *bev)
{
	dial_done_fn done = d->done;
	void *ctx = d->ctx;
	char why[256];

	snprintf(why, sizeof(why), "%s", d->why);
	d->bev = NULL; /* now the caller's (or freed below) */
	dial_free(d);
	done(ctx, bev, bev ? NULL : why);
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
	if (d->bev || d->req) {
		snprintf(d->why, sizeof(d->why), "no connection after %" PRId64 " ms",
			 d->gw->cfg->limits.connect_timeout_ms);
		if (d->req) {
			/* The lookup's cancel callback finishes the job. */
			evdns_getaddrinfo_cancel(d->req);
			return;
		}
		bufferevent_free(d->bev);
		d->bev = NULL;
	}
	dial_try_next(d);
}

static void dial_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct dialer *d = arg;

	if (events & BEV_EVENT_CONNECTED) {
		evtimer_del(d->timer);
		bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
		dial_finish(d, bev);
		return;
	}
	snprintf(d->why, sizeof(d->why), "%s",
		 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	bufferevent_free(d->bev);
	d->bev = NULL;
	dial_try_next(d);
}

/* Connects to the next resolved address, or reports the last failure. */
static void dial_try_next(struct dialer *d)
{
	while (d->next) {
		struct evutil_addrinfo *ai = d->next;

		d->next = ai->ai_next;
		d->bev = bufferevent_socket_new(d->gw->base, -1,
						BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (!d->bev) {
			snprintf(d->why, sizeof(d->why), "out of memory");
			break;
		}
		bufferevent_setcb(d->bev, NULL, NULL, dial_event_cb, d);
		if (bufferevent_socket_connect(d->bev, ai->ai_addr, (int)ai->ai_addrlen) == 0) {
			arm(d, d->gw->cfg->limits.connect_timeout_ms);
			return;
		}
		snprintf(d->why, sizeof(d->why), "%s", strerror(errno));
		bufferevent_free(d->bev);
		d->bev = NULL;
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
		snprintf(d->why, sizeof(d->why), "cannot resolve %s: %s", d->host,
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

struct dialer *dial_start(struct gateway *gw, const char *host, uint16_t port,
			  dial_done_fn done, void *ctx)
{
	struct evutil_addrinfo hints;
	struct dialer *d = calloc(1, sizeof(*d));
	struct evdns_getaddrinfo_request *req;
	char service[8];

	if (!d)
		return NULL;
	d->gw = gw;
	d->port = port;
	d->done = done;
	d->ctx = ctx;
	snprintf(d->host, sizeof(d->host), "%s", host);
	snprintf(d->why, sizeof(d->why), "no address for %s", host);
	d->timer = evtimer_new(gw->base, dial_timer_cb, d);
	if (!d->timer) {
		free(d);
		return NULL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	snprintf(service, sizeof(service), "%u", port);
	/* The deadline covers the lookup and the first address. */
	arm(d, gw->cfg->limits.connect_timeout_ms);
	d->resolving = 1;
	req = evdns_getaddrinfo(gw->dns, host, service, &hints, dial_resolved_cb, d);
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
