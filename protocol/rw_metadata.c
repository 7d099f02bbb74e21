/* rw_metadata.c — Metadata (ApiKey 3) responses v0-13: Brokers[] rewritten.
 *
 * The whole response is walked, topics included, so that a truncated or
 * malformed answer is refused instead of forwarded.
 */
#include "krw.h"
#include "rewrite.h"

/* ReplicaNodes, IsrNodes, OfflineReplicas: arrays of int32. */
static int skip_int32_array(struct kreader *r, int flexible)
{
	int32_t n;

	if (kr_array(r, flexible, 4, &n) < 0)
		return -1;
	return kr_skip(r, (size_t)n * 4);
}

static int metadata_partition(struct kreader *r, int16_t v, int flexible)
{
	int16_t error_code;
	int32_t partition_index, leader_id, leader_epoch;

	KR_TRY(kr_i16(r, &error_code));
	KR_TRY(kr_i32(r, &partition_index));
	KR_TRY(kr_i32(r, &leader_id));
	if (v >= 7)
		KR_TRY(kr_i32(r, &leader_epoch));
	KR_TRY(skip_int32_array(r, flexible)); /* ReplicaNodes */
	KR_TRY(skip_int32_array(r, flexible)); /* IsrNodes */
	if (v >= 5)
		KR_TRY(skip_int32_array(r, flexible)); /* OfflineReplicas */
	if (flexible)
		KR_TRY(kr_skip_tags(r));
	return 0;
err:
	return -1;
}

static int metadata_topic(struct kreader *r, int16_t v, int flexible)
{
	int16_t error_code;
	int8_t is_internal;
	int32_t n, topic_authorized_operations;
	struct kstr name;

	KR_TRY(kr_i16(r, &error_code));
	if (v >= 12)
		KR_TRY(kr_nullable_string(r, flexible, &name));
	else
		KR_TRY(kr_string(r, flexible, &name));
	if (v >= 10)
		KR_TRY(kr_skip(r, 16)); /* TopicId */
	if (v >= 1)
		KR_TRY(kr_i8(r, &is_internal));
	/* ErrorCode 2 + PartitionIndex 4 + LeaderId 4 + two arrays >= 2 */
	KR_TRY(kr_array(r, flexible, 12, &n));
	for (int32_t i = 0; i < n; i++)
		KR_TRY(metadata_partition(r, v, flexible));
	if (v >= 8)
		KR_TRY(kr_i32(r, &topic_authorized_operations));
	if (flexible)
		KR_TRY(kr_skip_tags(r));
	return 0;
err:
	return -1;
}

int krw_metadata(const uint8_t *in, size_t len, int16_t v, struct kwbuf *out,
		 const struct kmap *map)
{
	int flexible = v >= 9;
	struct krw x;
	struct kreader *r = &x.r;
	struct kstr s;
	int32_t n, i32;
	int16_t i16;

	krw_init(&x, in, len, out, map);
	KR_TRY(krw_header(&x, flexible));
	if (v >= 3)
		KR_TRY(kr_i32(r, &i32)); /* ThrottleTimeMs */
	/* NodeId 4 + Host >= 1 + Port 4 */
	KR_TRY(kr_array(r, flexible, 9, &n));
	KR_TRY(krw_list_begin(&x, n));
	for (int32_t i = 0; i < n; i++) {
		KR_TRY(krw_node_host_port(&x, flexible)); /* Brokers[] */
		if (v >= 1)
			KR_TRY(kr_nullable_string(r, flexible, &s)); /* Rack */
		if (flexible)
			KR_TRY(kr_skip_tags(r));
	}
	if (v >= 2)
		KR_TRY(kr_nullable_string(r, flexible, &s)); /* ClusterId */
	if (v >= 1)
		KR_TRY(kr_i32(r, &i32)); /* ControllerId */
	/* ErrorCode 2 + Name >= 1 + Partitions >= 1 */
	KR_TRY(kr_array(r, flexible, 4, &n));
	for (int32_t i = 0; i < n; i++)
		KR_TRY(metadata_topic(r, v, flexible));
	if (v >= 8 && v <= 10)
		KR_TRY(kr_i32(r, &i32)); /* ClusterAuthorizedOperations */
	if (v >= 13)
		KR_TRY(kr_i16(r, &i16)); /* ErrorCode */
	if (flexible)
		KR_TRY(kr_skip_tags(r));
	return krw_finish(&x);
err:
	return krw_failed(&x);
}
