/* rw_cluster.c — DescribeCluster (ApiKey 60) responses v0-2: Brokers[].
 *
 * From v1 the request can ask for controllers instead (EndpointType 2); those
 * ids are controller ids, not brokers kgate maps, so such answers are only
 * validated, never rewritten.  A decision, not a gap: kgate fronts brokers
 * only and has no address a controller's could become (mapping the ids
 * through the broker table would hand out brokers for controllers), and
 * the brokers kgate talks to answer such requests with
 * MISMATCHED_ENDPOINT_TYPE and no entries anyway (KIP-919: controllers
 * serve them).  test_share.c and the vectors pin it.
 */
#include "krw.h"
#include "rewrite.h"

#define ENDPOINT_TYPE_BROKERS 1

int krw_describe_cluster(const uint8_t *in, size_t len, int16_t v,
			 struct kwbuf *out, const struct kmap *map)
{
	struct krw x;
	struct kreader *r = &x.r;
	struct krw_endpoint ep;
	struct kstr s;
	int32_t n, i32, broker_id;
	int16_t error_code;
	int8_t endpoint_type = ENDPOINT_TYPE_BROKERS, is_fenced;

	krw_init(&x, in, len, out, map);
	KR_TRY(krw_header(&x, 1)); /* flexible in every version */
	KR_TRY(kr_i32(r, &i32));   /* ThrottleTimeMs */
	KR_TRY(kr_i16(r, &error_code));
	KR_TRY(kr_nullable_string(r, 1, &s)); /* ErrorMessage */
	if (v >= 1)
		KR_TRY(kr_i8(r, &endpoint_type));
	KR_TRY(kr_string(r, 1, &s)); /* ClusterId */
	KR_TRY(kr_i32(r, &i32));     /* ControllerId */
	/* BrokerId 4 + Host 1 + Port 4 + Rack 1 + tags 1 */
	KR_TRY(kr_array(r, 1, 11, &n));
	if (endpoint_type == ENDPOINT_TYPE_BROKERS)
		KR_TRY(krw_list_begin(&x, n));
	for (int32_t i = 0; i < n; i++) {
		KR_TRY(kr_i32(r, &broker_id));
		KR_TRY(krw_read_endpoint(&x, 1, broker_id, &ep));
		if (endpoint_type == ENDPOINT_TYPE_BROKERS)
			krw_substitute(&x, 1, &ep);
		KR_TRY(kr_nullable_string(r, 1, &s)); /* Rack */
		if (v >= 2)
			KR_TRY(kr_i8(r, &is_fenced));
		KR_TRY(kr_skip_tags(r));
	}
	KR_TRY(kr_i32(r, &i32)); /* ClusterAuthorizedOperations */
	KR_TRY(kr_skip_tags(r));
	return krw_finish(&x);
err:
	return krw_failed(&x);
}
