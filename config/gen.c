/* gen.c — reference-counted configuration generations (see gen.h). */
#include "gen.h"

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

void cfg_gen_unref(struct cfg_gen *g)
{
	if (!g || atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) != 1)
		return;
	cfg_free(&g->cfg);
	free(g);
}
