/* server.c — bringing a gateway up and down (see server.h). */
#include "server.h"

#include "discover.h"
#include "gateway.h"
#include "listener.h"
#include "pair.h"

struct gateway *server_start(struct event_base *base, struct cfg_gen *gen, char *err, size_t errlen)
{
	struct gateway *gw = gateway_new(base, gen, err, errlen);

	if (gw && listeners_apply(gw, pair_accept, err, errlen) < 0) {
		gateway_free(gw);
		return NULL;
	}
	return gw;
}

void server_stop(struct gateway *gw)
{
	listeners_close(gw);
	pair_close_all(gw, "gateway stopping");
	discover_stop(gw);
}

void server_free(struct gateway *gw)
{
	if (!gw)
		return;
	server_stop(gw);
	/* Pairs keep pointers to their listener until released. */
	gateway_reap(gw);
	listeners_free(gw);
	gateway_free(gw);
}
