/* sasl.h — the Kafka messages that carry SASL (SaslHandshake, key 17, and
 * SaslAuthenticate, key 36, from SaslHandshake*.json and
 * SaslAuthenticate*.json), both ways: kgate signing in to brokers (requests
 * out, responses in), and clients signing in to kgate (requests in,
 * responses out), plus the ApiVersions answer kgate gives a client before
 * it has signed in.
 *
 * Frames are read after their 4-byte size, header included, as everywhere
 * in protocol/; whole frames are written with their size.
 */
#ifndef KGATE_SASL_H
#define KGATE_SASL_H

#include <stddef.h>
#include <stdint.h>

#include "kbuf.h"
#include "kapi.h"
#include "kdefs.h"

/* Newest SaslAuthenticate version kgate speaks (2: flexible). */
#define KSASL_AUTH_MAX_VERSION 2

/* Kafka error codes the SASL exchanges use. */
#define KERR_UNSUPPORTED_SASL_MECHANISM 33
#define KERR_ILLEGAL_SASL_STATE 34
#define KERR_UNSUPPORTED_VERSION 35
#define KERR_SASL_AUTHENTICATION_FAILED 58

/* ---- kgate to a broker ---- */

/* Whole request frames. */
void ksasl_handshake_request(struct kwbuf *w, int32_t correlation_id, const char *client_id,
			     const char *mechanism);
void ksasl_authenticate_request(struct kwbuf *w, int16_t version, int32_t correlation_id,
				const char *client_id, const uint8_t *bytes, size_t len);
/* A SaslHandshake v1 answer: its error code, and the mechanisms the broker
 * enables joined by ", " into mechs (cut to fit).  -1 if malformed. */
KG_MUSTCHECK int ksasl_handshake_response(const uint8_t *in, size_t len, int16_t *error,
					  char *mechs, size_t cap);
/* A SaslAuthenticate answer at version: error code, message (len -1 when
 * null), the server's bytes, and the session lifetime (0 before v1, or
 * when the broker sets none).  -1 if malformed. */
KG_MUSTCHECK int ksasl_authenticate_response(const uint8_t *in, size_t len, int16_t version,
					     int16_t *error, struct kstr *message,
					     struct kstr *bytes, int64_t *lifetime_ms);
/* ---- a client to kgate ---- */

/* A request's header, read from a whole frame (after its size). */
struct ksasl_req {
	int16_t api_key, version;
	int32_t correlation_id;
	size_t body; /* offset of the body in the frame */
};
KG_MUSTCHECK int ksasl_request_header(const uint8_t *in, size_t len, struct ksasl_req *h);
/* The mechanism a SaslHandshake (v0 or v1) asks for. */
KG_MUSTCHECK int ksasl_handshake_mechanism(const uint8_t *in, size_t len,
					   const struct ksasl_req *h, struct kstr *mech);
/* The bytes a SaslAuthenticate carries. */
KG_MUSTCHECK int ksasl_authenticate_bytes(const uint8_t *in, size_t len, const struct ksasl_req *h,
					  struct kstr *bytes);
/* Whole response frames.  mechs: NULL-terminated names. */
void ksasl_handshake_answer(struct kwbuf *w, int32_t correlation_id, int16_t error,
			    const char *const *mechs);
void ksasl_authenticate_answer(struct kwbuf *w, int16_t version, int32_t correlation_id,
			       int16_t error, const char *message, const uint8_t *bytes,
			       size_t len, int64_t lifetime_ms);
/* One API a broker speaks, as ApiVersions lists it. */
struct ksasl_api {
	int16_t key, min, max;
};
/* An ApiVersions answer at version (0-5) listing apis; a version above 5
 * is answered in v0 with UNSUPPORTED_VERSION, as brokers do (KIP-511). */
void ksasl_api_versions_answer(struct kwbuf *w, int16_t version, int32_t correlation_id,
			       const struct ksasl_api *apis, size_t n);
#endif
