/* pair_login.c — a client logging in to kgate before anything of its
 * reaches a broker (client_auth mode "sasl").
 *
 * Until the client has proved who it is, kgate answers it itself: its
 * ApiVersions with the cluster's APIs as kgate offers them (learned by
 * kgate's own ApiVersions request, discover.c), SaslHandshake v0 or v1,
 * and SaslAuthenticate (or, after a v0 handshake, the unframed tokens that
 * follow it, as kafka-python sends them), checking PLAIN and SCRAM against
 * the credentials file.  Anything else before that closes the connection,
 * as a broker does.  No upstream is dialled until the login succeeds; then
 * the identity picks the upstream credentials (client_auth.identities, else
 * the listener's upstream_sasl) and the pair routes as usual.  A failed
 * login is answered only after failed_login_delay_ms, then closed.
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/users.h"
#include "../protocol/sasl.h"
#include "../protocol/scram.h"
#include "discover.h"
#include "evframe.h"
#include "listener.h"
#include "pair_internal.h"

/* A login message is a few hundred bytes; anything larger is not one. */
#define LOGIN_FRAME_MAX (64 * 1024)
#define LOGIN_FAILED_MSG "Authentication failed: invalid username or password"

struct pair_login {
	const struct cfg_login *cfg;
	int mech;        /* enum cfg_sasl_mech chosen by SaslHandshake, or 0 */
	int raw;         /* after SaslHandshake v0: unframed tokens */
	int16_t version; /* SaslAuthenticate's, for the answer */
	int32_t cid;     /* ... and its correlation id */
	int failed;      /* refused: waiting out the delay */
	int owed;        /* a SaslAuthenticate waits for its answer */
	struct scram_server *scram;
	struct event *delay;
	char why[300];
	char user[SCRAM_MAX_USER + 1];
};

/* The key unknown users' made-up salts derive from: one per process. */
static uint8_t mask_key[SCRAM_MASK_KEY_LEN];
static pthread_once_t mask_once = PTHREAD_ONCE_INIT;

static void make_mask_key(void)
{
	if (RAND_bytes(mask_key, sizeof(mask_key)) != 1)
		abort(); /* no randomness: nothing kgate does with keys is safe */
}

static const char *const login_mech_names[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};

int pair_login_begin(struct pair *p)
{
	const struct cfg_login *a = cfg_login(&p->gen->cfg, p->lst->conf);

	/* A certificate's name can pick upstream credentials only once the
	 * handshake has shown it (pair_login_cert). */
	if (a->mode == CFG_LOGIN_TLS && a->n_identities) {
		p->await_cert = 1;
		return 1;
	}
	if (a->mode != CFG_LOGIN_SASL)
		return 0;
	pthread_once(&mask_once, make_mask_key);
	p->login = calloc(1, sizeof(*p->login));
	if (!p->login)
		return -1;
	p->login->cfg = a;
	p->login_ns = kg_now_ns();
	return 1;
}

void pair_login_free(struct pair *p)
{
	struct pair_login *l = p->login;

	if (!l)
		return;
	scram_server_free(l->scram);
	if (l->delay)
		event_free(l->delay);
	free(l);
	p->login = NULL;
}

static int send_frame(struct pair *p, struct kwbuf *w)
{
	int rc = w->failed ? -1 : evbuffer_add(side_output(&p->client), w->buf, w->len);

	kw_free(w);
	if (rc < 0)
		pair_end(p, LOG_ERROR, "out of memory");
	return rc;
}

/* The answer to the last token: SaslAuthenticate, or unframed after v0. */
static int answer_token(struct pair *p, int16_t error, const char *msg, const void *tok,
			size_t len)
{
	struct pair_login *l = p->login;
	struct kwbuf w;

	kw_init(&w);
	if (l->raw) {
		kw_i32(&w, (int32_t)len);
		kw_put(&w, tok, len);
	} else {
		ksasl_authenticate_answer(&w, l->version, l->cid, error, msg, tok, len, 0);
		l->owed = 0;
	}
	return send_frame(p, &w);
}

static void delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pair *p = arg;

	(void)fd;
	(void)what;
	/* After a v0 handshake a broker just closes: no framed answer fits.
	 * Nor does one when the refused frame was not a SaslAuthenticate (an
	 * unknown mechanism, whose handshake has its answer; another request;
	 * a second handshake): the client waits for no SaslAuthenticate answer,
	 * and this one would carry a correlation id it never sent. */
	if (!p->login->raw && p->login->owed &&
	    answer_token(p, KERR_SASL_AUTHENTICATION_FAILED, LOGIN_FAILED_MSG, NULL, 0) < 0)
		return;
	pair_finish(p, "client login refused");
}

/* Refuses the login: counted, logged, answered after the delay, closed. */
static int refuse(struct pair *p, const char *why)
{
	struct pair_login *l = p->login;
	int64_t ms = l->cfg->failed_login_delay_ms;
	/* Timers count from the loop's clock, read once when epoll returned
	 * with the client's token: the answer comes the delay after that
	 * whatever the check cost (a PBKDF2 for PLAIN, SHA-256 or SHA-512, at
	 * the user's iterations), so the time tells nothing. */
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	l->failed = 1;
	p->gw->stats.client_login_failures++;
	p->lst->stats->client_login_failures++;
	pair_log(p, LOG_WARN, "client login refused: %s", why);
	side_pause(&p->client);
	l->delay = evtimer_new(p->gw->base, delay_cb, p);
	if (!l->delay || evtimer_add(l->delay, &tv) < 0) {
		pair_end(p, LOG_ERROR, "out of memory");
		return -1;
	}
	return -1;
}

/* Logged in: pick the upstream credentials and go on as any pair. */
static int logged_in(struct pair *p)
{
	struct pair_login *l = p->login;
	const struct cfg_sasl *mapped = cfg_identity_sasl(l->cfg, l->user);

	p->gw->stats.client_logins++;
	p->lst->stats->client_logins++;
	pair_log(p, LOG_INFO, "client login %s (%s) accepted%s", l->user,
		 cfg_sasl_mech_names[l->mech], mapped ? ", mapped to its own upstream credentials" : "");
	if (mapped)
		p->sasl = mapped;
	pair_login_free(p);
	pair_route(p, NULL);
	return p->state == PAIR_CLOSED ? -1 : 0;
}

void pair_login_cert(struct pair *p)
{
	const struct cfg_login *a = cfg_login(&p->gen->cfg, p->lst->conf);
	const struct cfg_sasl *mapped;
	char cn[SCRAM_MAX_USER + 1];

	p->await_cert = 0;
	if (side_peer_name(&p->client, cn, sizeof(cn)) < 0) {
		p->gw->stats.client_login_failures++;
		p->lst->stats->client_login_failures++;
		pair_end(p, LOG_WARN, "client certificate without a common name to map");
		return;
	}
	mapped = cfg_identity_sasl(a, cn);
	p->gw->stats.client_logins++;
	p->lst->stats->client_logins++;
	pair_log(p, LOG_INFO, "client certificate %s (tls) accepted%s", cn,
		 mapped ? ", mapped to its own upstream credentials" : "");
	if (mapped)
		p->sasl = mapped;
	pair_route(p, NULL);
}

static const struct scram_secret *secret_of(const struct pair_login *l, const char *user,
					    enum scram_hash h)
{
	return users_lookup(l->cfg->users, user, h);
}

static int plain(struct pair *p, const uint8_t *tok, size_t len)
{
	struct pair_login *l = p->login;
	const struct scram_secret *s;
	struct sasl_plain m;
	char err[200];
	int ok;

	if (sasl_plain_parse(tok, len, &m, err, sizeof(err)) < 0)
		return refuse(p, err);
	snprintf(l->user, sizeof(l->user), "%s", m.username);
	/* Either stored hash checks a PLAIN password. */
	s = secret_of(l, m.username, SCRAM_SHA_512);
	if (!s)
		s = secret_of(l, m.username, SCRAM_SHA_256);
	if (s) {
		ok = scram_check_password(s, m.password, m.password_len) == 1;
	} else {
		/* An unknown user costs the same PBKDF2 as a known one, so the
		 * time to the answer does not tell them apart. */
		static const struct scram_secret unknown = {
			.hash = SCRAM_SHA_512,
			.salt_len = SCRAM_SALT_LEN,
			.iterations = SCRAM_DEFAULT_ITERATIONS,
		};

		(void)scram_check_password(&unknown, m.password, m.password_len);
		ok = 0;
	}
	sasl_plain_clear(&m);
	if (!ok) {
		snprintf(err, sizeof(err), "%s (PLAIN): %s", l->user,
			 s ? "wrong password" : "unknown user");
		return refuse(p, err);
	}
	if (answer_token(p, 0, NULL, NULL, 0) < 0)
		return -1;
	return logged_in(p);
}

static int scram(struct pair *p, const uint8_t *tok, size_t len)
{
	struct pair_login *l = p->login;
	enum scram_hash h = l->mech == CFG_SASL_SCRAM_SHA_256 ? SCRAM_SHA_256 : SCRAM_SHA_512;
	char out[SCRAM_MSG_MAX], err[200], why[300];
	int n;

	if (!l->scram) {
		l->scram = scram_server_new(h, mask_key, NULL, err, sizeof(err));
		if (!l->scram || scram_server_read_first(l->scram, tok, len, err, sizeof(err)) < 0)
			return refuse(p, err);
		snprintf(l->user, sizeof(l->user), "%s", scram_server_user(l->scram));
		n = scram_server_first(l->scram, secret_of(l, l->user, h), out, sizeof(out), err,
				       sizeof(err));
		if (n < 0)
			return refuse(p, err);
		return answer_token(p, 0, NULL, out, (size_t)n);
	}
	n = scram_server_final(l->scram, tok, len, out, sizeof(out), err, sizeof(err));
	if (n < 0) {
		snprintf(why, sizeof(why), "%s (%s): %s", l->user, cfg_sasl_mech_names[l->mech],
			 scram_server_user_known(l->scram) ? err : "unknown user");
		return refuse(p, why);
	}
	if (answer_token(p, 0, NULL, out, (size_t)n) < 0)
		return -1;
	return logged_in(p);
}

static int token(struct pair *p, const uint8_t *tok, size_t len)
{
	if (!p->login->mech)
		return refuse(p, "SaslAuthenticate before SaslHandshake");
	return p->login->mech == CFG_SASL_PLAIN ? plain(p, tok, len) : scram(p, tok, len);
}

static int handshake(struct pair *p, const uint8_t *f, size_t len, const struct ksasl_req *h)
{
	struct pair_login *l = p->login;
	const char *offered[4];
	size_t n = 0;
	struct kstr mech;
	struct kwbuf w;
	int chosen = 0;
	char why[300];

	if (l->mech || ksasl_handshake_mechanism(f, len, h, &mech) < 0 || h->version > 1)
		return refuse(p, "malformed or repeated SaslHandshake");
	for (int m = CFG_SASL_PLAIN; m <= CFG_SASL_SCRAM_SHA_512; m++) {
		if (!(l->cfg->mechanisms & (1u << m)))
			continue;
		offered[n++] = login_mech_names[m - CFG_SASL_PLAIN];
		if ((size_t)mech.len == strlen(cfg_sasl_mech_names[m]) &&
		    memcmp(mech.ptr, cfg_sasl_mech_names[m], (size_t)mech.len) == 0)
			chosen = m;
	}
	offered[n] = NULL;
	kw_init(&w);
	ksasl_handshake_answer(&w, h->correlation_id, chosen ? 0 : KERR_UNSUPPORTED_SASL_MECHANISM,
			       offered);
	if (send_frame(p, &w) < 0)
		return -1;
	if (!chosen) {
		snprintf(why, sizeof(why), "mechanism \"%.*s\" is not enabled here",
			 mech.len > 0 ? (int)(mech.len > 64 ? 64 : mech.len) : 0,
			 mech.len > 0 ? (const char *)mech.ptr : "");
		return refuse(p, why);
	}
	l->mech = chosen;
	l->raw = h->version == 0;
	return 0;
}

static void apis_ready(struct cluster_waiter *w, const char *failure)
{
	struct pair *p = pair_of(w, waiter);

	p->state = PAIR_NEW;
	if (!p->gw->n_cluster_apis) {
		pair_log(p, LOG_WARN, "cannot answer ApiVersions: %s",
			 failure ? failure : "the cluster did not say");
		pair_end(p, LOG_INFO, "the cluster's APIs are unknown; the client will retry");
		return;
	}
	pair_process_requests(p, 0);
}

/* 1 answered, 0 waiting for the cluster's APIs, -1 closed. */
static int api_versions(struct pair *p, const struct ksasl_req *h)
{
	struct kwbuf w;

	if (!p->gw->n_cluster_apis) {
		p->state = PAIR_RESOLVING;
		p->waiter.ready = apis_ready;
		discover_wait(p->gw, &p->waiter);
		return 0;
	}
	kw_init(&w);
	ksasl_api_versions_answer(&w, h->version, h->correlation_id, p->gw->cluster_apis,
				  p->gw->n_cluster_apis);
	return send_frame(p, &w) < 0 ? -1 : 1;
}

/* One whole frame (or unframed token) the client sent: 1 handled, 0 wait,
 * -1 the pair is closing. */
static int one(struct pair *p, const uint8_t *f, size_t len)
{
	struct pair_login *l = p->login;
	struct ksasl_req h;
	struct kstr bytes;
	char why[200];

	if (l->raw)
		return token(p, f, len) < 0 ? -1 : 1;
	if (ksasl_request_header(f, len, &h) < 0)
		return refuse(p, "malformed request");
	switch (h.api_key) {
	case KAPI_API_VERSIONS:
		return api_versions(p, &h);
	case KAPI_SASL_HANDSHAKE:
		return handshake(p, f, len, &h) < 0 ? -1 : 1;
	case KAPI_SASL_AUTHENTICATE:
		if (ksasl_authenticate_bytes(f, len, &h, &bytes) < 0 || h.version > 2)
			return refuse(p, "malformed SaslAuthenticate");
		l->version = h.version;
		l->cid = h.correlation_id;
		l->owed = 1;
		return token(p, bytes.ptr, (size_t)bytes.len) < 0 ? -1 : 1;
	default:
		snprintf(why, sizeof(why), "%s v%d before logging in (client_auth is \"sasl\" here)",
			 kapi_get(h.api_key)->name, h.version);
		return refuse(p, why);
	}
}

int pair_login_read(struct pair *p)
{
	struct evbuffer *in = p->client.in;

	while (p->login && !p->login->failed && p->state == PAIR_NEW) {
		uint8_t *frame;
		size_t size;
		int rc;

		/* A client that sends and never reads must not grow kgate's
		 * answers without bound: read it again once they drain
		 * (SIDE_FLUSHED). */
		if (side_output_len(&p->client) >= (size_t)pair_limits(p)->buffer_bytes) {
			side_pause(&p->client);
			return 0;
		}
		rc = evframe_peek(in, 0, LOGIN_FRAME_MAX, &frame, &size);
		if (rc == EVFRAME_MORE) {
			if (p->client.paused && side_resume(&p->client) < 0) {
				pair_end(p, LOG_ERROR, "cannot watch sockets (out of memory)");
				return -1;
			}
			return 0;
		}
		if (rc == EVFRAME_BAD)
			return refuse(p, "a frame too large for a login");
		if (rc == EVFRAME_NOMEM) {
			pair_end(p, LOG_ERROR, "out of memory");
			return -1;
		}
		rc = one(p, frame, size);
		if (rc == 0)
			return 0; /* the frame stays until the cluster's APIs are in */
		if (p->state != PAIR_CLOSED)
			evframe_drain(in, size);
		if (rc < 0)
			return -1;
	}
	return 0;
}
