/* upauth.c — signing in to brokers (see upauth.h). */
#include "upauth.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../protocol/frame.h"
#include "../protocol/kapi.h"
#include "../protocol/requests.h"
#include "../protocol/sasl.h"
#include "evframe.h"
#include "sasl_mech.h"

#define CLIENT_ID "kgate"

enum { ST_VERSIONS, ST_HANDSHAKE, ST_AUTH, ST_DONE };

static int fail(struct upauth *a, const char *fmt, const char *arg)
{
	snprintf(a->why, sizeof(a->why), fmt, arg);
	return UPAUTH_FAIL;
}

static int send_handshake(struct upauth *a, struct kwbuf *out)
{
	a->state = ST_HANDSHAKE;
	ksasl_handshake_request(out, ++a->cid, CLIENT_ID, cfg_sasl_mech_names[a->sasl->mechanism]);
	return out->failed ? fail(a, "%s", "out of memory") : UPAUTH_SEND;
}

/* Sends the mechanism's next message as a SaslAuthenticate. */
static int send_token(struct upauth *a, const uint8_t *tok, size_t len, struct kwbuf *out)
{
	ksasl_authenticate_request(out, a->auth_version, ++a->cid, CLIENT_ID, tok, len);
	return out->failed ? fail(a, "%s", "out of memory") : UPAUTH_SEND;
}

/* The host of "host:port" or "[v6]:port". */
static void host_of(const char *peer, char *host, size_t len)
{
	const char *colon = strrchr(peer, ':');
	size_t n = colon ? (size_t)(colon - peer) : strlen(peer);

	if (n >= 2 && peer[0] == '[' && peer[n - 1] == ']') {
		peer++;
		n -= 2;
	}
	snprintf(host, len, "%.*s", (int)n, peer);
}

int upauth_begin(struct upauth *a, const struct cfg_sasl *sasl, const char *peer,
		 const char *name, int16_t auth_version, struct kwbuf *out)
{
	memset(a, 0, sizeof(*a));
	a->sasl = sasl;
	a->cid = 0x4b670000; /* "Kg": easy to tell in a capture */
	if (name)
		snprintf(a->host, sizeof(a->host), "%s", name);
	else
		host_of(peer, a->host, sizeof(a->host));
	a->auth_version = auth_version;
	if (auth_version >= 0)
		return send_handshake(a, out);
	a->state = ST_VERSIONS;
	kreq_api_versions(out, ++a->cid, CLIENT_ID);
	return out->failed ? fail(a, "%s", "out of memory") : UPAUTH_SEND;
}

static int on_versions(struct upauth *a, const uint8_t *f, size_t len, struct kwbuf *out)
{
	int16_t lo, hi;

	if (kresp_api_versions_range(f, len, KAPI_SASL_HANDSHAKE, &lo, &hi) < 0 || hi < 1)
		return fail(a, "%s", "the broker does not offer SaslHandshake v1 (is SASL enabled "
				     "on this listener?)");
	if (kresp_api_versions_range(f, len, KAPI_SASL_AUTHENTICATE, &lo, &hi) < 0)
		return fail(a, "%s", "the broker does not offer SaslAuthenticate");
	a->auth_version = hi < KSASL_AUTH_MAX_VERSION ? hi : KSASL_AUTH_MAX_VERSION;
	if (a->auth_version < lo)
		return fail(a, "%s", "no SaslAuthenticate version in common");
	return send_handshake(a, out);
}

static int on_handshake(struct upauth *a, const uint8_t *f, size_t len, struct kwbuf *out)
{
	char mechs[256], why[300];
	uint8_t *tok = NULL;
	size_t tok_len = 0;
	int16_t err;
	int rc;

	if (ksasl_handshake_response(f, len, &err, mechs, sizeof(mechs)) < 0)
		return fail(a, "%s", "malformed SaslHandshake answer");
	if (err == KERR_UNSUPPORTED_SASL_MECHANISM) {
		snprintf(why, sizeof(why), "the broker does not enable %s here (it offers: %s)",
			 cfg_sasl_mech_names[a->sasl->mechanism], mechs[0] ? mechs : "nothing");
		return fail(a, "%s", why);
	}
	if (err) {
		snprintf(why, sizeof(why), "SaslHandshake failed with error %d", err);
		return fail(a, "%s", why);
	}
	a->state = ST_AUTH;
	if (sasl_mech_first(&a->scram, a->sasl, a->host, &tok, &tok_len, a->why,
			    sizeof(a->why)) < 0)
		return UPAUTH_FAIL;
	rc = send_token(a, tok, tok_len, out);
	OPENSSL_clear_free(tok, tok_len);
	return rc;
}

static int on_authenticate(struct upauth *a, const uint8_t *f, size_t len, struct kwbuf *out)
{
	struct kstr msg, bytes;
	uint8_t *tok = NULL;
	size_t tok_len = 0;
	int16_t err;
	int rc;

	if (ksasl_authenticate_response(f, len, a->auth_version, &err, &msg, &bytes,
					&a->lifetime_ms) < 0)
		return fail(a, "%s", "malformed SaslAuthenticate answer");
	if (err) {
		snprintf(a->why, sizeof(a->why), "the broker refused (error %d): %.*s", err,
			 msg.len > 0 ? (int)msg.len : 10, msg.len > 0 ? (const char *)msg.ptr
								: "no message");
		return UPAUTH_FAIL;
	}
	rc = sasl_mech_next(a->scram, a->sasl, ++a->step, bytes.ptr, (size_t)bytes.len, &tok, &tok_len,
			    a->why, sizeof(a->why));
	if (rc < 0)
		return UPAUTH_FAIL;
	if (rc == 0) {
		a->state = ST_DONE;
		return UPAUTH_DONE;
	}
	rc = send_token(a, tok, tok_len, out);
	OPENSSL_clear_free(tok, tok_len);
	return rc;
}

int upauth_answer(struct upauth *a, const uint8_t *frame, size_t len, struct kwbuf *out)
{
	if (len < 4 || kbuf_get_i32(frame) != a->cid)
		return fail(a, "%s", "an answer with another correlation id");
	switch (a->state) {
	case ST_VERSIONS:
		return on_versions(a, frame, len, out);
	case ST_HANDSHAKE:
		return on_handshake(a, frame, len, out);
	case ST_AUTH:
		return on_authenticate(a, frame, len, out);
	default:
		return fail(a, "%s", "an answer after the exchange ended");
	}
}

void upauth_free(struct upauth *a)
{
	sasl_mech_free(a->scram);
	a->scram = NULL;
}

/* ---- on a connection just dialled ---- */

struct upauth_conn {
	struct upauth a;
	struct bufferevent *bev;
	struct event *timer;
	struct kwbuf out;
	int64_t timeout_ms, max_frame;
	upauth_done_fn done;
	void *ctx;
	char peer[320];
};

static void conn_free(struct upauth_conn *c, int keep_bev)
{
	upauth_free(&c->a);
	if (c->bev) {
		bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
		if (!keep_bev)
			bufferevent_free(c->bev);
	}
	if (c->timer)
		event_free(c->timer);
	kw_free(&c->out);
	free(c);
}

void upauth_conn_cancel(struct upauth_conn *c)
{
	if (c)
		conn_free(c, 0);
}

static void conn_end(struct upauth_conn *c, const char *why)
{
	struct bufferevent *bev = why ? NULL : c->bev;
	upauth_done_fn done = c->done;
	void *ctx = c->ctx;
	int16_t version = c->a.auth_version;
	int64_t lifetime = c->a.lifetime_ms;
	char reason[600];

	snprintf(reason, sizeof(reason), "%s", why ? why : "");
	if (bev)
		bufferevent_disable(bev, EV_READ);
	conn_free(c, bev != NULL);
	done(ctx, bev, bev ? NULL : reason, version, lifetime);
}

static int conn_send(struct upauth_conn *c)
{
	struct timeval tv = {c->timeout_ms / 1000, (c->timeout_ms % 1000) * 1000};
	int rc = bufferevent_write(c->bev, c->out.buf, c->out.len);

	/* It held a password or a token. */
	OPENSSL_cleanse(c->out.buf, c->out.len);
	kw_reset(&c->out);
	if (rc < 0)
		return -1;
	evtimer_add(c->timer, &tv);
	return 0;
}

static void conn_read(struct bufferevent *bev, void *arg)
{
	struct upauth_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (;;) {
		uint8_t *frame;
		size_t size;
		int rc;

		rc = evframe_peek(in, KFRAME_RESP_MIN, c->max_frame, &frame, &size);
		if (rc != EVFRAME_OK) {
			if (rc != EVFRAME_MORE)
				conn_end(c, rc == EVFRAME_BAD ? "bad response size" : "out of memory");
			return;
		}
		rc = upauth_answer(&c->a, frame, size, &c->out);
		evframe_drain(in, size);
		if (rc == UPAUTH_FAIL) {
			conn_end(c, c->a.why);
			return;
		}
		if (rc == UPAUTH_DONE) {
			/* A broker says nothing unasked: anything more is not
			 * the client's to read. */
			conn_end(c, evbuffer_get_length(in) ? "bytes after the SASL exchange" : NULL);
			return;
		}
		if (conn_send(c) < 0) {
			conn_end(c, "out of memory");
			return;
		}
	}
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	conn_end(arg, what & BEV_EVENT_EOF ? "the broker closed the connection during SASL"
					   : "the connection failed during SASL");
}

static void conn_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_end(arg, "no answer in time during SASL");
}

struct upauth_conn *upauth_connect(struct bufferevent *bev, const char *peer, const char *name,
				   const struct cfg_sasl *sasl, int64_t timeout_ms,
				   int64_t max_frame, upauth_done_fn done, void *ctx)
{
	struct upauth_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		bufferevent_free(bev);
		return NULL;
	}
	c->bev = bev;
	c->done = done;
	c->ctx = ctx;
	c->timeout_ms = timeout_ms;
	c->max_frame = max_frame;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	kw_init(&c->out);
	c->timer = evtimer_new(bufferevent_get_base(bev), conn_timeout, c);
	if (!c->timer || upauth_begin(&c->a, sasl, peer, name, -1, &c->out) != UPAUTH_SEND) {
		conn_free(c, 0);
		return NULL;
	}
	bufferevent_setcb(bev, conn_read, NULL, conn_event, c);
	if (bufferevent_enable(bev, EV_READ | EV_WRITE) < 0 || conn_send(c) < 0) {
		conn_free(c, 0);
		return NULL;
	}
	return c;
}
