/* side_tls.c — the side ops of a TLS connection: its OpenSSL bufferevent
 * reads (a record at a time), and its failures are explained by tls.c. */
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "side.h"
#include "tls.h"

static int tls_read_on(struct side *s)
{
	return bufferevent_enable(s->bev, EV_READ);
}

static void tls_read_off(struct side *s)
{
	bufferevent_disable(s->bev, EV_READ);
}

/* Every failure of a TLS connection counts as a TLS failure: OpenSSL
 * reports socket errors through the same queue. */
static int tls_failure(struct side *s, const char *peer, int serving, char *buf, size_t len)
{
	tls_explain(s->bev, peer, serving, buf, len);
	return 1;
}

static void tls_describe(const struct side *s, char *buf, size_t len)
{
	tls_session(s->bev, buf, len);
}

const struct side_ops side_tls_ops = {
	.name = "TLS",
	.read_on = tls_read_on,
	.read_off = tls_read_off,
	.failure = tls_failure,
	.describe = tls_describe,
};
