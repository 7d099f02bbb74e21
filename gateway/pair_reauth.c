/* pair_reauth.c — renewing a pair's upstream session before the broker
 * ends it (KIP-368).
 *
 * A broker that sets connections.max.reauth.ms (MSK IAM always does: a
 * session lasts as long as the credentials that opened it) answers
 * SaslAuthenticate with a session lifetime, and closes the connection at
 * the first request after it has passed.  Clients that sign in themselves
 * renew their own sessions; with upstream_sasl the session is kgate's, so
 * kgate renews it: when 85% of the lifetime has gone, the pair forwards no
 * new request (the client's wait in its buffer), and once every response
 * owed has reached the client, SaslHandshake and SaslAuthenticate go on
 * the same connection with kgate's own correlation ids.  Their answers are
 * read here and never reach the client; then requests flow again.
 * Credentials that rotated (IAM) are the ones signed with.
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <inttypes.h>
#include <stdlib.h>

#include "../protocol/frame.h"
#include "evframe.h"
#include "listener.h"
#include "pair_internal.h"
#include "upauth.h"

/* Renew at this share of the lifetime: Java clients pick 85-95%. */
#define REAUTH_SHARE 0.85

static int reauth_failed(struct pair *p, const char *why);

/* The timer says either that the session is due, or, while an exchange
 * runs, that the broker has not answered it in time. */
static void reauth_due_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pair *p = arg;

	(void)fd;
	(void)what;
	if (p->reauth) {
		reauth_failed(p, "no answer in time (limits.connect_timeout_ms)");
		return;
	}
	if (p->state != PAIR_OPEN || p->reauth_due)
		return;
	p->reauth_due = 1;
	p->ks.hold = 1;
	pair_settle(p);
}

void pair_reauth_arm(struct pair *p, int64_t lifetime_ms)
{
	int64_t ms = (int64_t)((double)lifetime_ms * REAUTH_SHARE);
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (lifetime_ms <= 0)
		return;
	if (!p->reauth_timer)
		p->reauth_timer = evtimer_new(p->gw->base, reauth_due_cb, p);
	if (!p->reauth_timer || evtimer_add(p->reauth_timer, &tv) < 0)
		pair_log(p, LOG_WARN, "cannot arm the re-authentication timer (out of memory): "
				      "the broker will close this connection in %" PRId64 " ms",
			 lifetime_ms);
}

void pair_reauth_free(struct pair *p)
{
	if (p->reauth) {
		upauth_free(p->reauth);
		free(p->reauth);
		p->reauth = NULL;
	}
	if (p->reauth_timer) {
		event_free(p->reauth_timer);
		p->reauth_timer = NULL;
	}
}

static int reauth_failed(struct pair *p, const char *why)
{
	p->gw->stats.upstream_auth_failures++;
	pair_log(p, LOG_WARN, "cannot re-authenticate to %s: %s", p->upstream_addr, why);
	pair_end(p, LOG_INFO, "upstream re-authentication failed; the client will reconnect");
	return -1;
}

/* Puts what the exchange wrote on the upstream's output, and gives the
 * broker limits.connect_timeout_ms to answer it. */
static int reauth_send(struct pair *p, struct kwbuf *w)
{
	int64_t ms = pair_limits(p)->connect_timeout_ms;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	int rc = w->failed ? -1 : evbuffer_add(side_output(&p->upstream), w->buf, w->len);

	/* It held a password or a token. */
	if (w->buf)
		OPENSSL_cleanse(w->buf, w->len);
	kw_free(w);
	if (rc < 0)
		return reauth_failed(p, "out of memory");
	if (!p->reauth_timer || evtimer_add(p->reauth_timer, &tv) < 0)
		return reauth_failed(p, "cannot arm a timer (out of memory)");
	return 0;
}

int pair_reauth_start(struct pair *p)
{
	struct kwbuf w;

	p->reauth = calloc(1, sizeof(*p->reauth));
	if (!p->reauth)
		return reauth_failed(p, "out of memory");
	kw_init(&w);
	if (upauth_begin(p->reauth, p->sasl, p->upstream_addr, p->sign_name, p->auth_version, &w) !=
	    UPAUTH_SEND) {
		kw_free(&w);
		return reauth_failed(p, p->reauth->why);
	}
	pair_log(p, LOG_DEBUG, "re-authenticating to %s", p->upstream_addr);
	return reauth_send(p, &w);
}

/* The exchange is over: count it, renew the timer, let requests go. */
static int reauth_done(struct pair *p)
{
	int64_t lifetime = p->reauth->lifetime_ms;

	upauth_free(p->reauth);
	free(p->reauth);
	p->reauth = NULL;
	p->reauth_due = 0;
	p->ks.hold = p->stopping;
	p->gw->stats.upstream_reauths++;
	pair_log(p, LOG_DEBUG, "re-authenticated to %s", p->upstream_addr);
	evtimer_del(p->reauth_timer); /* the answer's deadline */
	pair_reauth_arm(p, lifetime);
	if (p->stopping)
		return pair_settle(p);
	/* What the client sent meanwhile waits in its input. */
	if (pair_resume(p, &p->client) < 0)
		return -1;
	return p->client.paused ? 0 : pair_process_requests(p, 0);
}

int pair_reauth_read(struct pair *p)
{
	struct evbuffer *in = p->upstream.in;

	while (p->reauth) {
		uint8_t *frame;
		struct kwbuf w;
		size_t size;
		int rc;

		rc = evframe_peek(in, KFRAME_RESP_MIN, pair_limits(p)->max_frame_bytes, &frame, &size);
		if (rc == EVFRAME_MORE)
			return 0;
		if (rc != EVFRAME_OK)
			return reauth_failed(p, rc == EVFRAME_BAD ? "bad response size" : "out of memory");
		kw_init(&w);
		rc = upauth_answer(p->reauth, frame, size, &w);
		evframe_drain(in, size);
		if (rc == UPAUTH_FAIL) {
			kw_free(&w);
			return reauth_failed(p, p->reauth->why);
		}
		if (rc == UPAUTH_DONE) {
			kw_free(&w);
			return reauth_done(p);
		}
		if (reauth_send(p, &w) < 0)
			return -1;
	}
	return 0;
}
