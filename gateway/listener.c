/* listener.c — binding kgate's listeners, handing sockets over on reload,
 * accepting, and pausing when accept fails (out of descriptors) instead of
 * spinning. */
#include "listener.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

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
	evtimer_add(lst->backoff, &tv);
}

struct listener *listener_ref(struct listener *lst)
{
	lst->refs++;
	return lst;
}

/* Stops accepting; the socket closes (unless handed over first). */
static void listener_stop(struct listener *lst)
{
	if (lst->evl)
		evconnlistener_free(lst->evl);
	lst->evl = NULL;
	if (lst->backoff)
		evtimer_del(lst->backoff);
}

void listener_unref(struct listener *lst)
{
	if (!lst || --lst->refs > 0)
		return;
	listener_stop(lst);
	if (lst->backoff)
		event_free(lst->backoff);
	SSL_CTX_free(lst->tls);
	SSL_CTX_free(lst->upstream_tls);
	cfg_gen_unref(lst->gen);
	free(lst);
}

/* The SNI listener's kmap: every node at its pattern name and the
 * listener's advertised port; where the cluster says it is, learned as
 * through the gateway's own map. */
static int sni_lookup(void *ctx, int32_t node_id, const struct kstr *orig_host,
		      int32_t orig_port, struct kmap_addr *out)
{
	struct listener *lst = ctx;
	int n;

	cluster_learn(&lst->gw->cluster, node_id, (const char *)orig_host->ptr,
		      (size_t)orig_host->len, orig_port);
	n = cfg_sni_name(lst->sni, node_id, lst->sni_host, sizeof(lst->sni_host));
	if (n < 0) /* cfg_sni_check made sure every id fits */
		return 0;
	out->host = lst->sni_host;
	out->host_len = n;
	out->port = lst->sni->advertise_port;
	lst->gw->stats.endpoints_rewritten++;
	return 1;
}

/* Its listings are the gateway's to follow, as through the gateway's map. */
static void sni_listing(void *ctx, int end)
{
	gateway_listing(((struct listener *)ctx)->gw, end);
}

/* Listener index of gw's current generation (cfg_listener_conf), not yet
 * listening; NULL with err filled. */
static struct listener *listener_new(struct gateway *gw, size_t index, listener_accept_fn accept,
				     char *err, size_t errlen)
{
	const struct cfg *cfg = gateway_cfg(gw);
	const struct cfg_broker *conf = cfg_listener_conf(cfg, index);
	int sni = conf == &cfg->sni_listener;
	const struct cfg_broker *b = sni ? NULL : conf;
	struct listener *lst = calloc(1, sizeof(*lst));

	if (!lst) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	lst->refs = 1;
	lst->gw = gw;
	lst->gen = cfg_gen_ref(gw->gen);
	lst->addr = conf ? &conf->listen : &cfg->bootstrap_listen;
	lst->broker = b;
	lst->conf = conf;
	lst->sni = sni ? &cfg->sni : NULL;
	lst->accept = accept;
	if (sni) {
		lst->map.lookup = sni_lookup;
		lst->map.ctx = lst;
		lst->map.listing = sni_listing;
		lst->map.max_nodes = (int32_t)cfg->limits.max_brokers;
		snprintf(lst->name, sizeof(lst->name), "sni");
		snprintf(lst->label, sizeof(lst->label), "sni");
	} else if (b) {
		snprintf(lst->name, sizeof(lst->name), "broker %" PRId32, b->id);
		snprintf(lst->label, sizeof(lst->label), "broker-%" PRId32, b->id);
	} else {
		snprintf(lst->name, sizeof(lst->name), "bootstrap");
		snprintf(lst->label, sizeof(lst->label), "bootstrap");
	}
	lst->stats = sni ? &gw->sni_stats : gateway_listener_stats(gw, b ? b->id : -1);
	lst->backoff = evtimer_new(gw->base, accept_resume_cb, lst);
	if (!lst->stats || !lst->backoff) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	lst->tls_cfg = cfg_listener_tls(cfg, conf);
	lst->upstream_tls_cfg = cfg_upstream_tls(cfg, conf);
	/* The generation's contexts, built once for every worker. */
	if (cfg_gen_tls(lst->gen, err, errlen) < 0)
		goto fail;
	lst->tls = lst->gen->listen_tls[index];
	lst->upstream_tls = lst->gen->upstream_tls[index];
	if (lst->tls)
		SSL_CTX_up_ref(lst->tls);
	if (lst->upstream_tls)
		SSL_CTX_up_ref(lst->upstream_tls);
	return lst;
fail:
	listener_unref(lst);
	return NULL;
}

/* 0 if nothing else listens at ss: with SO_REUSEPORT a second kgate (or
 * anything of the same user that set it) could bind the address too and
 * silently take half the connections, so the first worker first binds it
 * the ordinary way, which fails if anyone holds it.  -1 with errno set. */
static int probe_free(const struct sockaddr *ss, int sslen)
{
	int one = 1, fd = socket(ss->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc, saved;

	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	rc = bind(fd, ss, (socklen_t)sslen);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Binds lst's address; -1 with err filled.  Every worker binds its own
 * socket to it (SO_REUSEPORT), and the kernel spreads new connections
 * over them. */
static int listener_bind(struct listener *lst, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;

	if (evutil_parse_sockaddr_port(lst->addr->text, (struct sockaddr *)&ss, &sslen) < 0) {
		snprintf(err, errlen, "%s listener: cannot parse %s", lst->name, lst->addr->text);
		return -1;
	}
	if (lst->gw->n_workers > 1) {
		flags |= LEV_OPT_REUSEABLE_PORT;
		if (lst->gw->worker == 0 && !lst->gw->undoing_reload &&
		    probe_free((struct sockaddr *)&ss, sslen) < 0) {
			snprintf(err, errlen, "%s listener: cannot listen on %s: %s", lst->name,
				 lst->addr->text, strerror(errno));
			return -1;
		}
	}
	lst->evl = evconnlistener_new_bind(lst->gw->base, accept_cb, lst, flags, LISTEN_BACKLOG,
					   (struct sockaddr *)&ss, sslen);
	if (!lst->evl) {
		snprintf(err, errlen, "%s listener: cannot listen on %s: %s", lst->name,
			 lst->addr->text, strerror(errno));
		return -1;
	}
	evconnlistener_set_error_cb(lst->evl, accept_error_cb);
	return 0;
}

/* Said once, by the first worker: the others listen alike. */
static void log_listening(const struct listener *lst, const char *how)
{
	const struct cfg_broker *b = lst->broker;

	if (lst->gw->worker != 0)
		return;
	if (lst->sni)
		log_info("sni %s %s (TLS), bootstrap name %s, brokers as %s:%" PRId32
			 ", unmatched names %s%s",
			 how, lst->addr->text, lst->sni->bootstrap_name, lst->sni->broker_name,
			 lst->sni->advertise_port, cfg_sni_unmatched_names[lst->sni->unmatched],
			 lst->upstream_tls ? ", upstreams over TLS" : "");
	else if (b)
		log_info("broker %" PRId32 " %s %s%s, advertised as %s, upstream %s%s", b->id, how,
			 lst->addr->text, lst->tls ? " (TLS)" : "", b->advertise.text,
			 b->upstream.text ? b->upstream.text : "(as the cluster advertises it)",
			 lst->upstream_tls ? " over TLS" : "");
	else
		log_info("bootstrap %s %s%s%s", how, lst->addr->text, lst->tls ? " (TLS)" : "",
			 lst->upstream_tls ? ", upstreams over TLS" : "");
}

/* The listener of the current set still accepting at address a, or NULL. */
static struct listener *find_open(struct gateway *gw, const struct cfg_addr *a)
{
	for (size_t i = 0; i < gw->n_listeners; i++) {
		struct listener *old = gw->listeners[i];

		if (old->evl && old->addr->port == a->port &&
		    strcasecmp(old->addr->host, a->host) == 0)
			return old;
	}
	return NULL;
}

int listeners_apply(struct gateway *gw, listener_accept_fn accept, char *err, size_t errlen)
{
	const struct cfg *cfg = gateway_cfg(gw);
	size_t n = cfg_n_listeners(cfg);
	struct listener **fresh = calloc(n, sizeof(*fresh));
	struct listener **heir = calloc(n, sizeof(*heir)); /* whose socket each takes */

	if (!fresh || !heir) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* Everything that can fail first: contexts, then new sockets. */
	for (size_t i = 0; i < n; i++) {
		fresh[i] = listener_new(gw, i, accept, err, errlen);
		if (!fresh[i])
			goto fail;
		heir[i] = find_open(gw, fresh[i]->addr);
		if (!heir[i] && listener_bind(fresh[i], err, errlen) < 0)
			goto fail;
	}
	/* Then hand the kept sockets over: their clients never see a gap. */
	for (size_t i = 0; i < n; i++) {
		if (heir[i]) {
			fresh[i]->evl = heir[i]->evl;
			heir[i]->evl = NULL;
			evconnlistener_set_cb(fresh[i]->evl, accept_cb, fresh[i]);
			evconnlistener_enable(fresh[i]->evl);
		}
		log_listening(fresh[i], heir[i] ? "still listening on" : "listening on");
	}
	/* What is left of the old set is no longer configured. */
	for (size_t i = 0; i < gw->n_listeners; i++) {
		struct listener *old = gw->listeners[i];

		if (old->evl) {
			if (gw->worker == 0)
				log_info("%s listener %s removed: no longer accepting; its clients "
					 "drain",
					 old->name, old->addr->text);
			old->retired = 1;
			listener_stop(old);
		}
		listener_unref(old);
	}
	free(gw->listeners);
	free(heir);
	gw->listeners = fresh;
	gw->n_listeners = n;
	return 0;
fail:
	for (size_t i = 0; fresh && i < n; i++)
		listener_unref(fresh[i]);
	free(fresh);
	free(heir);
	return -1;
}

void listeners_close(struct gateway *gw)
{
	for (size_t i = 0; i < gw->n_listeners; i++)
		listener_stop(gw->listeners[i]);
}

void listeners_free(struct gateway *gw)
{
	for (size_t i = 0; i < gw->n_listeners; i++)
		listener_unref(gw->listeners[i]);
	free(gw->listeners);
	gw->listeners = NULL;
	gw->n_listeners = 0;
}

const struct listener *listener_bootstrap(const struct gateway *gw)
{
	return gw->listeners[0];
}
