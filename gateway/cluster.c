/* cluster.c — learned broker addresses, and who is waiting for them. */
#include "cluster.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../config/config.h"
#include "log.h"

void cluster_init(struct cluster *cl, const struct cfg *cfg)
{
	memset(cl, 0, sizeof(*cl));
	cl->cfg = cfg;
}

void cluster_free(struct cluster *cl)
{
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

void cluster_learn(struct cluster *cl, int32_t id, const char *host, size_t host_len, int32_t port)
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
	if (is_own_address(cl->cfg, host, host_len, port))
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

void cluster_wait(struct cluster *cl, struct cluster_waiter *w)
{
	w->next = cl->waiting;
	cl->waiting = w;
}

void cluster_cancel_wait(struct cluster *cl, struct cluster_waiter *w)
{
	for (struct cluster_waiter **pp = &cl->waiting; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			w->next = NULL;
			return;
		}
	}
}

void cluster_wake(struct cluster *cl, const char *failure)
{
	struct cluster_waiter *w = cl->waiting;

	cl->waiting = NULL;
	while (w) {
		struct cluster_waiter *next = w->next;

		w->next = NULL;
		w->ready(w, failure);
		w = next;
	}
}
