/* session.h — kgate's own requests on an upstream connection.
 *
 * A session holds a connection to a broker while kgate talks to it itself:
 * it frames each request with a correlation id of its own, remembers what it
 * asked, matches every answer to its request and hands that answer to the
 * request's callback.  What a session reads never reaches a client.  Today
 * discovery (discover.h) asks for ApiVersions and Metadata on a connection
 * of its own; SASL to brokers and re-authentication will run the same kind
 * of exchange on a pair's upstream before, and between, the client's bytes.
 */
#ifndef KGATE_SESSION_H
#define KGATE_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "../protocol/kbuf.h"
#include "../protocol/kdefs.h"

struct bufferevent;
struct session;

/* An answer: the frame after its size, header included (as the protocol/
 * decoders read it).  The session may be freed from inside. */
typedef void (*session_answer_fn)(void *ctx, const uint8_t *frame, size_t len);
/* The session cannot go on (closed, failed, malformed, no answer in time).
 * Called at most once; the session may be freed from inside. */
typedef void (*session_fail_fn)(void *ctx, const char *why);
/* Writes a request's body for version. */
typedef void (*session_body_fn)(struct kwbuf *w, int16_t version);

/* Takes over bev, a connection to peer ("host:port", for messages); answers
 * may be up to max_frame bytes and each must come within timeout_ms.  NULL
 * if out of memory (bev is then freed). */
KG_MUSTCHECK struct session *session_new(struct bufferevent *bev, const char *peer,
					 int64_t max_frame, int64_t timeout_ms,
					 session_fail_fn fail, void *ctx);
/* Sends a request (body may be NULL for an empty one); answer gets its
 * response.  0, or -1 if it could not be sent (out of memory, too many
 * outstanding). */
KG_MUSTCHECK int session_send(struct session *s, int16_t api_key, int16_t version,
			      session_body_fn body, session_answer_fn answer);
/* Closes the connection; neither callback is called again.  NULL is fine. */
void session_free(struct session *s);

#endif
