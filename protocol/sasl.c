/* sasl.c — SaslHandshake and SaslAuthenticate, both ways (see sasl.h). */
#include "sasl.h"

#include <string.h>

#include "kapi.h"
#include "requests.h"

/* v5 (Kafka 4.4) answers in v4's layout. */
#define API_VERSIONS_MAX_VERSION 5

void ksasl_handshake_request(struct kwbuf *w, int32_t correlation_id, const char *client_id,
			     const char *mechanism)
{
	size_t off = kreq_begin(w, KAPI_SASL_HANDSHAKE, 1, correlation_id, client_id);

	kw_string(w, 0, mechanism, (int32_t)strlen(mechanism));
	kreq_end(w, off);
}

void ksasl_authenticate_request(struct kwbuf *w, int16_t version, int32_t correlation_id,
				const char *client_id, const uint8_t *bytes, size_t len)
{
	size_t off = kreq_begin(w, KAPI_SASL_AUTHENTICATE, version, correlation_id, client_id);
	int flexible = version >= 2;

	kw_bytes(w, flexible, bytes, len);
	if (flexible)
		kw_uvarint(w, 0);
	kreq_end(w, off);
}

int ksasl_handshake_response(const uint8_t *in, size_t len, int16_t *error, char *mechs,
			     size_t cap)
{
	struct kreader r;
	int32_t cid, n;
	size_t used = 0;

	if (cap)
		mechs[0] = '\0';
	kr_init(&r, in, len);
	KR_TRY(kr_i32(&r, &cid));
	KR_TRY(kr_i16(&r, error));
	KR_TRY(kr_array(&r, 0, 2, &n));
	for (int32_t i = 0; i < n; i++) {
		struct kstr m;

		KR_TRY(kr_string(&r, 0, &m));
		if (used + (size_t)m.len + 3 < cap) {
			if (used) {
				memcpy(mechs + used, ", ", 2);
				used += 2;
			}
			memcpy(mechs + used, m.ptr, (size_t)m.len);
			used += (size_t)m.len;
			mechs[used] = '\0';
		}
	}
	return 0;
err:
	return -1;
}

int ksasl_authenticate_response(const uint8_t *in, size_t len, int16_t version, int16_t *error,
				struct kstr *message, struct kstr *bytes, int64_t *lifetime_ms)
{
	struct kreader r;
	int32_t cid;
	int flexible = version >= 2;

	*lifetime_ms = 0;
	kr_init(&r, in, len);
	KR_TRY(kr_i32(&r, &cid));
	if (flexible)
		KR_TRY(kr_skip_tags(&r)); /* response header v1 */
	KR_TRY(kr_i16(&r, error));
	KR_TRY(kr_nullable_string(&r, flexible, message));
	KR_TRY(kr_bytes(&r, flexible, bytes));
	if (version >= 1)
		KR_TRY(kr_i64(&r, lifetime_ms));
	if (flexible)
		KR_TRY(kr_skip_tags(&r));
	return 0;
err:
	return -1;
}

int ksasl_request_header(const uint8_t *in, size_t len, struct ksasl_req *h)
{
	struct kreader r;
	struct kstr client_id;

	kr_init(&r, in, len);
	KR_TRY(kr_i16(&r, &h->api_key));
	KR_TRY(kr_i16(&r, &h->version));
	KR_TRY(kr_i32(&r, &h->correlation_id));
	KR_TRY(kr_nullable_string(&r, 0, &client_id));
	if (kapi_request_header_flexible(h->api_key, h->version))
		KR_TRY(kr_skip_tags(&r));
	h->body = r.pos;
	return 0;
err:
	return -1;
}

int ksasl_handshake_mechanism(const uint8_t *in, size_t len, const struct ksasl_req *h,
			      struct kstr *mech)
{
	struct kreader r;

	kr_init(&r, in + h->body, len - h->body);
	KR_TRY(kr_string(&r, 0, mech));
	return 0;
err:
	return -1;
}

int ksasl_authenticate_bytes(const uint8_t *in, size_t len, const struct ksasl_req *h,
			     struct kstr *bytes)
{
	struct kreader r;

	kr_init(&r, in + h->body, len - h->body);
	KR_TRY(kr_bytes(&r, h->version >= 2, bytes));
	return 0;
err:
	return -1;
}

void ksasl_handshake_answer(struct kwbuf *w, int32_t correlation_id, int16_t error,
			    const char *const *mechs)
{
	size_t off = kw_reserve_i32(w);
	int32_t n = 0;

	while (mechs[n])
		n++;
	kw_i32(w, correlation_id);
	kw_i16(w, error);
	kw_array_len(w, 0, n);
	for (int32_t i = 0; i < n; i++)
		kw_string(w, 0, mechs[i], (int32_t)strlen(mechs[i]));
	kreq_end(w, off);
}

void ksasl_authenticate_answer(struct kwbuf *w, int16_t version, int32_t correlation_id,
			       int16_t error, const char *message, const uint8_t *bytes,
			       size_t len, int64_t lifetime_ms)
{
	size_t off = kw_reserve_i32(w);
	int flexible = version >= 2;

	kw_i32(w, correlation_id);
	if (flexible)
		kw_uvarint(w, 0);
	kw_i16(w, error);
	kw_string(w, flexible, message, message ? (int32_t)strlen(message) : -1);
	kw_bytes(w, flexible, bytes, len);
	if (version >= 1)
		kw_i64(w, lifetime_ms);
	if (flexible)
		kw_uvarint(w, 0);
	kreq_end(w, off);
}

void ksasl_api_versions_answer(struct kwbuf *w, int16_t version, int32_t correlation_id,
			       const struct ksasl_api *apis, size_t n)
{
	size_t off = kw_reserve_i32(w);
	int16_t error = 0;
	int flexible;

	if (version < 0 || version > API_VERSIONS_MAX_VERSION) {
		version = 0;
		error = KERR_UNSUPPORTED_VERSION;
	}
	flexible = version >= 3;
	kw_i32(w, correlation_id); /* response header v0 in every version */
	kw_i16(w, error);
	kw_array_len(w, flexible, (int32_t)n);
	for (size_t i = 0; i < n; i++) {
		kw_i16(w, apis[i].key);
		kw_i16(w, apis[i].min);
		kw_i16(w, apis[i].max);
		if (flexible)
			kw_uvarint(w, 0);
	}
	if (version >= 1)
		kw_i32(w, 0); /* ThrottleTimeMs */
	if (flexible)
		kw_uvarint(w, 0);
	kreq_end(w, off);
}
