/* cluster.c — learned broker addresses, and kgate's own Metadata request for
 * when it needs one before any client has asked.
 */
#include "cluster.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "../protocol/kapi.h"
#include "../protocol/requests.h"
#include "../protocol/rewrite.h"
#include "conn.h"
#include "dial.h"
#include "gateway.h"
#include "log.h"
#include "stats.h"

#define CLIENT_ID "kgate"

/* kgate's own exchange with a bootstrap upstream. */
struct cluster_fetch {
	struct cluster *cl;
	struct dialer *dialer;   /* connecting */
	struct bufferevent *bev; /* connected */
	struct event *timer;     /* deadline for the answers */
	size_t first, attempt;   /* bootstrap upstreams: where we started, how many tried */
	int awaiting;            /* ApiKey of the request in flight */
	int16_t metadata_version;
	char target[320];
};

void cluster_init(struct cluster *cl, struct gateway *gw)
{
	memset(cl, 0, sizeof(*cl));
	cl->gw = gw;
}

static void fetch_free(struct cluster_fetch *f)
{
	dial_cancel(f->dialer);
	if (f->bev)
		bufferevent_free(f->bev);
	if (f->timer)
		event_free(f->timer);
	free(f);
}

void cluster_stop(struct cluster *cl)
{
	if (cl->fetch)
		fetch_free(cl->fetch);
	cl->fetch = NULL;
}

void cluster_free(struct cluster *cl)
{
	cluster_stop(cl);
	for (size_t i = 0; i < cl->n; i++)
		free(cl->nodes[i].host);
	free(cl->nodes);
	memset(cl, 0, sizeof(*cl));
}

const struct cluster_node *cluster_find(const struct cluster *cl, int32_t id)
{
	for (size_t i = 0; i < cl->n; i++)
		if (cl->nodes[i].id == id)
			return &cl->nodes[i];
	return NULL;
}

static int same_addr(const struct cfg_addr *a, const char *host, size_t host_len, int32_t port)
{
	return a->port == port && strlen(a->host) == host_len &&
	       strncasecmp(a->host, host, host_len) == 0;
}

/* 1 if host:port is one of kgate's own addresses (advertised or listening):
 * dialling it would loop back into kgate. */
static int is_own_address(const struct cfg *cfg, const char *host, size_t host_len, int32_t port)
{
	if (same_addr(&cfg->bootstrap_listen, host, host_len, port))
		return 1;
	for (size_t i = 0; i < cfg->n_brokers; i++)
		if (same_addr(&cfg->brokers[i].advertise, host, host_len, port) ||
		    same_addr(&cfg->brokers[i].listen, host, host_len, port))
			return 1;
	return 0;
}

void cluster_learn(struct cluster *cl, int32_t id, const char *host, size_t host_len,
		   int32_t port)
{
	struct cluster_node *node = (struct cluster_node *)cluster_find(cl, id);
	char *h;

	/* Called for every endpoint of every rewritten response: what is
	 * already known costs one comparison. */
	if (node && node->port == port && strlen(node->host) == host_len &&
	    memcmp(node->host, host, host_len) == 0)
		return;
	if (port < 1 || port > 65535 || host_len == 0 || memchr(host, '\0', host_len))
		return;
	/* A cluster that already advertises kgate's own addresses must not
	 * become kgate's upstream: that would loop. */
	if (is_own_address(cl->gw->cfg, host, host_len, port))
		return;
	h = strndup(host, host_len);
	if (!h)
		return;
	if (!node) {
		if (cl->n == cl->cap) {
			size_t cap = cl->cap ? cl->cap * 2 : 8;
			struct cluster_node *v = realloc(cl->nodes, cap * sizeof(*v));

			if (!v) {
				free(h);
				return;
			}
			cl->nodes = v;
			cl->cap = cap;
		}
		node = &cl->nodes[cl->n++];
		node->id = id;
		log_info("cluster advertises broker %" PRId32 " at %s:%" PRId32, id, h, port);
	} else {
		log_info("cluster now advertises broker %" PRId32 " at %s:%" PRId32 " (was %s:%u)",
			 id, h, port, node->host, node->port);
		free(node->host);
	}
	node->host = h;
	node->port = (uint16_t)port;
}

void cluster_forget(struct cluster *cl, int32_t id)
{
	for (size_t i = 0; i < cl->n; i++) {
		if (cl->nodes[i].id == id) {
			free(cl->nodes[i].host);
			cl->nodes[i] = cl->nodes[--cl->n];
			return;
		}
	}
}

/* ---- waiting pairs ---- */

/* Hands every parked pair back to the data path. */
static void wake_all(struct cluster *cl, const char *failure)
{
	struct pair *p = cl->waiting;

	cl->waiting = NULL;
	while (p) {
		struct pair *next = p->wait_next;

		p->wait_next = NULL;
		pair_cluster_ready(p, failure);
		p = next;
	}
}

void cluster_cancel_wait(struct cluster *cl, struct pair *p)
{
	for (struct pair **pp = &cl->waiting; *pp; pp = &(*pp)->wait_next) {
		if (*pp == p) {
			*pp = p->wait_next;
			p->wait_next = NULL;
			return;
		}
	}
}

/* ---- kgate's own Metadata request ---- */

static void fetch_dial(struct cluster_fetch *f);

static void fetch_done(struct cluster_fetch *f, const char *failure)
{
	struct cluster *cl = f->cl;

	if (failure)
		log_warn("could not learn the cluster's brokers: %s", failure);
	cl->fetch = NULL;
	fetch_free(f);
	wake_all(cl, failure);
}

/* This upstream did not work out: try the next one, or give up. */
static void fetch_retry(struct cluster_fetch *f, const char *why)
{
	const struct cfg_addr_list *ups = &f->cl->gw->cfg->bootstrap_upstream;

	log_warn("asking %s for Metadata: %s", f->target, why);
	if (++f->attempt >= ups->n) {
		fetch_done(f, "no bootstrap upstream answered");
		return;
	}
	if (f->bev)
		bufferevent_free(f->bev);
	f->bev = NULL;
	fetch_dial(f);
}

/* Handles one complete response frame (without its size). */
static void fetch_response(struct cluster_fetch *f, const uint8_t *frame, size_t len)
{
	struct gateway *gw = f->cl->gw;
	struct kwbuf req;
	int16_t lo, hi, v;

	if (f->awaiting == KAPI_API_VERSIONS) {
		if (kresp_api_versions_range(frame, len, KAPI_METADATA, &lo, &hi) < 0) {
			fetch_retry(f, "unusable ApiVersions answer");
			return;
		}
		v = hi < kapi_get(KAPI_METADATA)->max_version ? hi
							      : kapi_get(KAPI_METADATA)->max_version;
		/* v0 of an empty topic list means "all topics": avoid it. */
		if (v < lo || v < 1) {
			fetch_retry(f, "no Metadata version in common");
			return;
		}
		f->metadata_version = v;
		f->awaiting = KAPI_METADATA;
		kw_init(&req);
		kreq_metadata(&req, v, 2, CLIENT_ID);
		if (!req.failed)
			bufferevent_write(f->bev, req.buf, req.len);
		kw_free(&req);
		return;
	}
	/* The gateway's map learns each broker's address as it goes. */
	kw_reset(&gw->scratch);
	if (krw_metadata(frame, len, f->metadata_version, &gw->scratch, &gw->map) == KRW_ERROR) {
		fetch_retry(f, "malformed Metadata answer");
		return;
	}
	log_info("learned the cluster's brokers from %s", f->target);
	fetch_done(f, NULL);
}

static void fetch_read_cb(struct bufferevent *bev, void *arg)
{
	struct cluster_fetch *f = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t size_be[4], *frame;
	int32_t size;

	if (evbuffer_get_length(in) < sizeof(size_be))
		return;
	evbuffer_copyout(in, size_be, sizeof(size_be));
	size = kbuf_get_i32(size_be);
	if (size < 4 || size > f->cl->gw->cfg->limits.max_frame_bytes) {
		fetch_retry(f, "bad response size");
		return;
	}
	if (evbuffer_get_length(in) < (size_t)size + 4)
		return;
	/* One frame per call is enough: kgate sends its next request only
	 * after this answer.  Take the frame out first: handling it may free f
	 * and its buffers. */
	frame = malloc((size_t)size);
	if (!frame) {
		fetch_retry(f, "out of memory");
		return;
	}
	evbuffer_drain(in, 4);
	evbuffer_remove(in, frame, (size_t)size);
	fetch_response(f, frame, (size_t)size);
	free(frame);
}

static void fetch_event_cb(struct bufferevent *bev, short events, void *arg)
{
	(void)bev;
	fetch_retry(arg, events & BEV_EVENT_EOF
				 ? "connection closed"
				 : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void fetch_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fetch_retry(arg, "no answer in time");
}

/* Connected: ask which Metadata versions the broker speaks. */
static void fetch_dialed(void *ctx, struct bufferevent *bev, const char *why)
{
	struct cluster_fetch *f = ctx;
	int64_t ms = f->cl->gw->cfg->limits.connect_timeout_ms;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	struct kwbuf req;

	f->dialer = NULL;
	if (!bev) {
		fetch_retry(f, why);
		return;
	}
	f->bev = bev;
	bufferevent_setcb(bev, fetch_read_cb, NULL, fetch_event_cb, f);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	f->awaiting = KAPI_API_VERSIONS;
	kw_init(&req);
	kreq_api_versions(&req, 1, CLIENT_ID);
	if (!req.failed)
		bufferevent_write(bev, req.buf, req.len);
	kw_free(&req);
	evtimer_add(f->timer, &tv);
}

static void fetch_dial(struct cluster_fetch *f)
{
	struct gateway *gw = f->cl->gw;
	const struct cfg_addr_list *ups = &gw->cfg->bootstrap_upstream;
	const struct cfg_addr *a = &ups->v[(f->first + f->attempt) % ups->n];
	const char *tls_name;
	/* kgate's own requests go where the bootstrap listener's would. */
	SSL_CTX *tls = listener_upstream_tls(&gw->listeners[0], a->host, &tls_name);

	snprintf(f->target, sizeof(f->target), "%s", a->text);
	evtimer_del(f->timer);
	kg_stats.metadata_fetches++;
	log_info("asking %s for the cluster's brokers", f->target);
	f->dialer = dial_start(gw, a->host, a->port, tls, tls_name, fetch_dialed, f);
	if (!f->dialer)
		fetch_done(f, "out of memory");
}

void cluster_wait(struct cluster *cl, struct pair *p)
{
	struct cluster_fetch *f;

	p->wait_next = cl->waiting;
	cl->waiting = p;
	if (cl->fetch)
		return;
	f = calloc(1, sizeof(*f));
	if (f)
		f->timer = evtimer_new(cl->gw->base, fetch_timeout_cb, f);
	if (!f || !f->timer) {
		free(f);
		wake_all(cl, "out of memory");
		return;
	}
	f->cl = cl;
	/* Start where bootstrap connections would, so one dead upstream does
	 * not delay every fetch. */
	f->first = cl->gw->bootstrap_next++;
	cl->fetch = f;
	fetch_dial(f);
}
