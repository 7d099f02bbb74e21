/* gen.c — reference-counted configuration generations (see gen.h). */
#include "gen.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cfg_gen *cfg_gen_new(struct cfg *cfg, uint64_t number)
{
	struct cfg_gen *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	atomic_init(&g->refs, 1);
	g->number = number;
	g->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	return g;
}

struct cfg_gen *cfg_gen_ref(struct cfg_gen *g)
{
	atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
	return g;
}

/* Frees g's contexts (n of each). */
static void free_tls(struct cfg_gen *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		SSL_CTX_free(g->listen_tls ? g->listen_tls[i] : NULL);
		SSL_CTX_free(g->upstream_tls ? g->upstream_tls[i] : NULL);
	}
	free(g->listen_tls);
	free(g->upstream_tls);
	g->listen_tls = g->upstream_tls = NULL;
}

int cfg_gen_tls(struct cfg_gen *g, char *err, size_t errlen)
{
	const struct cfg *cfg = &g->cfg;
	size_t n = cfg_n_listeners(cfg);
	char why[768], name[32];

	if (g->listen_tls)
		return 0;
	g->listen_tls = calloc(n, sizeof(*g->listen_tls));
	g->upstream_tls = calloc(n, sizeof(*g->upstream_tls));
	if (!g->listen_tls || !g->upstream_tls) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		const struct cfg_broker *b = cfg_listener_conf(cfg, i);
		const struct cfg_tls_server *ts = cfg_listener_tls(cfg, b);
		const struct cfg_tls_client *tc = cfg_upstream_tls(cfg, b);

		if (b == &cfg->sni_listener)
			snprintf(name, sizeof(name), "sni");
		else if (b)
			snprintf(name, sizeof(name), "broker %" PRId32, b->id);
		else
			snprintf(name, sizeof(name), "bootstrap");
		if (ts && !(g->listen_tls[i] = cfg_tls_server_ctx(ts, why, sizeof(why)))) {
			snprintf(err, errlen, "%s listener: %s", name, why);
			goto fail;
		}
		/* The SNI listener refuses in the handshake what it says to. */
		if (b == &cfg->sni_listener && g->listen_tls[i])
			cfg_sni_install(g->listen_tls[i], &cfg->sni);
		if (tc && !(g->upstream_tls[i] = cfg_tls_client_ctx(tc, why, sizeof(why)))) {
			snprintf(err, errlen, "%s upstream: %s", name, why);
			goto fail;
		}
	}
	return 0;
fail:
	free_tls(g, n);
	return -1;
}

void cfg_gen_unref(struct cfg_gen *g)
{
	if (!g || atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) != 1)
		return;
	free_tls(g, cfg_n_listeners(&g->cfg));
	cfg_free(&g->cfg);
	free(g);
}
