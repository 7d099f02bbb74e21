/* upauth.h — kgate signing in to a broker (upstream_sasl), and signing in
 * again before the session ends (KIP-368).
 *
 * The exchange is a machine fed whole answer frames and giving whole
 * request frames, with correlation ids of its own, so the same code runs
 * on a connection just dialled (upauth_connect: ApiVersions, SaslHandshake
 * v1, SaslAuthenticate until done, before any client byte) and on a pair's
 * upstream between two client requests (re-authentication: SaslHandshake
 * and SaslAuthenticate, at the version learned the first time).
 */
#ifndef KGATE_UPAUTH_H
#define KGATE_UPAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "../config/auth.h"
#include "../protocol/kbuf.h"
#include "../protocol/kdefs.h"

struct bufferevent;
struct scram_client;

enum upauth_rc { UPAUTH_SEND, UPAUTH_DONE, UPAUTH_FAIL };

struct upauth {
	const struct cfg_sasl *sasl; /* the caller keeps it alive */
	char host[256];              /* the broker's name (AWS_MSK_IAM signs it) */
	int state;
	int16_t auth_version;  /* SaslAuthenticate's, from ApiVersions */
	int step;              /* SaslAuthenticate answers read */
	int32_t cid;           /* of the request awaiting its answer */
	int64_t lifetime_ms;   /* what the broker allows (0: no limit) */
	struct scram_client *scram;
	char why[512];         /* UPAUTH_FAIL: why, the broker's words included */
};

/* Starts an exchange with peer ("host:port"; name, if not NULL, is the
 * broker's own name, which AWS_MSK_IAM signs: the one its certificate
 * carries, when kgate reaches it through an NLB under another): a fresh connection asks ApiVersions first; a
 * re-authentication (auth_version >= 0, from the first one) goes straight
 * to SaslHandshake.  The first request is put in out.  UPAUTH_SEND, or
 * UPAUTH_FAIL (out of memory, no credentials yet). */
KG_MUSTCHECK int upauth_begin(struct upauth *a, const struct cfg_sasl *sasl, const char *peer,
			      const char *name, int16_t auth_version, struct kwbuf *out);
/* The answer to the last request: the next request in out (UPAUTH_SEND),
 * signed in (UPAUTH_DONE; a->lifetime_ms says for how long), or failed. */
KG_MUSTCHECK int upauth_answer(struct upauth *a, const uint8_t *frame, size_t len,
			       struct kwbuf *out);
/* The correlation id the awaited answer carries. */
static inline int32_t upauth_expected(const struct upauth *a)
{
	return a->cid;
}
void upauth_free(struct upauth *a);

/* ---- on a connection just dialled ---- */

/* bev signed in (and the caller's again), or NULL and why; auth_version and
 * lifetime_ms are for re-authentication. */
typedef void (*upauth_done_fn)(void *ctx, struct bufferevent *bev, const char *why,
			       int16_t auth_version, int64_t lifetime_ms);
struct upauth_conn;
/* Runs the exchange on bev (connected to peer, "host:port"; name as for
 * upauth_begin), each answer
 * within timeout_ms and at most max_frame bytes.  Never calls done before
 * returning; NULL if out of memory (bev is then freed). */
KG_MUSTCHECK struct upauth_conn *upauth_connect(struct bufferevent *bev, const char *peer,
						const char *name, const struct cfg_sasl *sasl,
						int64_t timeout_ms, int64_t max_frame,
						upauth_done_fn done, void *ctx);
/* Abandons it (bev freed); done is not called. */
void upauth_conn_cancel(struct upauth_conn *c);

#endif
