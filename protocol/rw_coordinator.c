/* rw_coordinator.c — FindCoordinator (ApiKey 10) responses v0-6.
 *
 * v0-3 name one coordinator; v4+ answer a batch (Coordinators[], KIP-699).
 * Entries with an error or NodeId -1 carry no usable address and are left as
 * the broker sent them.
 */
#include "krw.h"
#include "rewrite.h"

static int usable(int16_t error_code, int32_t node_id)
{
	return error_code == 0 && node_id != -1;
}

int krw_find_coordinator(const uint8_t *in, size_t len, int16_t v,
			 struct kwbuf *out, const struct kmap *map)
{
	int flexible = v >= 3;
	struct krw x;
	struct kreader *r = &x.r;
	struct krw_endpoint ep;
	struct kstr s;
	int32_t n, node_id, throttle_time_ms;
	int16_t error_code;

	krw_init(&x, in, len, out, map);
	KR_TRY(krw_header(&x, flexible));
	if (v >= 1)
		KR_TRY(kr_i32(r, &throttle_time_ms));
	if (v <= 3) {
		KR_TRY(kr_i16(r, &error_code));
		if (v >= 1)
			KR_TRY(kr_nullable_string(r, flexible, &s)); /* ErrorMessage */
		KR_TRY(kr_i32(r, &node_id));
		KR_TRY(krw_read_endpoint(&x, flexible, node_id, &ep));
		if (usable(error_code, node_id))
			krw_substitute(&x, flexible, &ep);
	} else {
		/* Key 1 + NodeId 4 + Host 1 + Port 4 + ErrorCode 2 + Msg 1 + tags 1 */
		KR_TRY(kr_array(r, flexible, 14, &n));
		for (int32_t i = 0; i < n; i++) {
			KR_TRY(kr_string(r, flexible, &s)); /* Key */
			KR_TRY(kr_i32(r, &node_id));
			KR_TRY(krw_read_endpoint(&x, flexible, node_id, &ep));
			/* ErrorCode comes after the address here. */
			KR_TRY(kr_i16(r, &error_code));
			KR_TRY(kr_nullable_string(r, flexible, &s)); /* ErrorMessage */
			KR_TRY(kr_skip_tags(r));
			if (usable(error_code, node_id))
				krw_substitute(&x, flexible, &ep);
		}
	}
	if (flexible)
		KR_TRY(kr_skip_tags(r));
	return krw_finish(&x);
err:
	return KRW_ERROR;
}
