/* fuzz_sasl.c — the SASL messages of protocol/sasl.h, both ways.
 *
 * Input: [which] [version] [the frame after its size ...]:
 *   which % 4 == 0  a client's request to kgate before it has logged in:
 *                   its header, then the SaslHandshake mechanism or the
 *                   SaslAuthenticate bytes (pair_login.c)
 *   1               a broker's SaslHandshake answer (upauth.c)
 *   2               a broker's SaslAuthenticate answer at version % 3
 *   3               a broker's ApiVersions v0 answer, every entry
 *
 * Why: the first comes from anyone who reaches a listener that asks clients
 * to log in, before kgate knows who they are; the others from a broker
 * before kgate has signed in.  Besides never crashing or over-reading:
 * every string and byte field a decoder returns lies inside the frame;
 * what kgate writes itself (the answers a client is sent, the requests a
 * broker is sent) decodes back to what was written.
 */
#include <string.h>

#include "../../protocol/requests.h"
#include "../../protocol/sasl.h"
#include "common.h"

static void inside(const uint8_t *in, size_t len, const struct kstr *s, const char *what)
{
	if (s->len <= 0)
		return;
	FUZZ_CHECK(s->ptr >= in && s->ptr + s->len <= in + len, "%s outside the frame", what);
}

static void client_request(const uint8_t *in, size_t len)
{
	struct ksasl_req h;
	struct kstr s;
	struct kwbuf w;
	int16_t err;
	char mechs[64];

	if (ksasl_request_header(in, len, &h) < 0)
		return;
	fuzz_mark(1);
	FUZZ_CHECK(h.body <= len, "body offset %zu past %zu", h.body, len);
	if (h.api_key == KAPI_SASL_HANDSHAKE && ksasl_handshake_mechanism(in, len, &h, &s) == 0) {
		static const char *const offered[] = {"PLAIN", "SCRAM-SHA-512", NULL};

		fuzz_mark(2);
		inside(in, len, &s, "mechanism");
		/* The answer kgate sends decodes as sent. */
		kw_init(&w);
		ksasl_handshake_answer(&w, h.correlation_id, 33, offered);
		FUZZ_CHECK(!w.failed && ksasl_handshake_response(w.buf + 4, w.len - 4, &err, mechs,
								 sizeof(mechs)) == 0 &&
				   err == 33 && strcmp(mechs, "PLAIN, SCRAM-SHA-512") == 0,
			   "handshake answer round trip");
		kw_free(&w);
	}
	if (h.api_key == KAPI_SASL_AUTHENTICATE && ksasl_authenticate_bytes(in, len, &h, &s) == 0) {
		int16_t v = h.version < 0 || h.version > 2 ? 0 : h.version;
		struct kstr msg, back;
		int64_t lifetime;

		fuzz_mark(3 + (size_t)v);
		inside(in, len, &s, "auth bytes");
		/* Echoed back in kgate's answer, they decode unchanged. */
		kw_init(&w);
		ksasl_authenticate_answer(&w, v, h.correlation_id, 0, NULL, s.ptr, (size_t)s.len, 0);
		FUZZ_CHECK(!w.failed &&
				   ksasl_authenticate_response(w.buf + 4, w.len - 4, v, &err, &msg,
							       &back, &lifetime) == 0 &&
				   back.len == s.len &&
				   (s.len == 0 || memcmp(back.ptr, s.ptr, (size_t)s.len) == 0),
			   "authenticate answer round trip");
		kw_free(&w);
	}
}

static int count_api(void *ctx, int16_t key, int16_t min, int16_t max)
{
	(void)key;
	(void)min;
	(void)max;
	(*(size_t *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *in = data + 2;
	size_t len = size - 2, n = 0;
	struct kstr msg, bytes;
	int64_t lifetime;
	int16_t err;
	char mechs[128];

	if (size < 2)
		return 0;
	switch (data[0] % 4) {
	case 0:
		client_request(in, len);
		break;
	case 1:
		if (ksasl_handshake_response(in, len, &err, mechs, sizeof(mechs)) == 0) {
			fuzz_mark(10);
			FUZZ_CHECK(strlen(mechs) < sizeof(mechs), "mechanisms overran");
		}
		break;
	case 2:
		if (ksasl_authenticate_response(in, len, (int16_t)(data[1] % 3), &err, &msg, &bytes,
						&lifetime) == 0) {
			fuzz_mark(11 + data[1] % 3);
			inside(in, len, &msg, "error message");
			inside(in, len, &bytes, "auth bytes");
			FUZZ_CHECK(data[1] % 3 >= 1 || lifetime == 0, "a lifetime before v1");
		}
		break;
	case 3:
		if (kresp_api_versions_each(in, len, count_api, &n) == 0) {
			fuzz_mark(14);
			FUZZ_CHECK(n <= len / 6, "%zu entries in %zu bytes", n, len);
		}
		break;
	}
	return 0;
}
