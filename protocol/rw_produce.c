/* rw_produce.c — Produce (ApiKey 0) responses v0-13.
 *
 * From v10 a broker that is not the leader may add the leaders' addresses as
 * top-level tagged field 0, NodeEndpoints (KIP-951).  Produce answers are
 * small, so the gateway decodes them whole; versions before 10 are walked
 * only to validate them.
 */
#include "krw.h"
#include "rewrite.h"

/* Kafka's NOT_LEADER_OR_FOLLOWER error code. */
#define NOT_LEADER_OR_FOLLOWER 6

static int produce_partition(struct kreader *r, int16_t v, int flexible, int *not_leader)
{
	int32_t index, n, batch_index;
	int16_t error_code;
	int64_t i64;
	struct kstr s;

	KR_TRY(kr_i32(r, &index));
	KR_TRY(kr_i16(r, &error_code));
	if (error_code == NOT_LEADER_OR_FOLLOWER)
		*not_leader = 1;
	KR_TRY(kr_i64(r, &i64)); /* BaseOffset */
	if (v >= 2)
		KR_TRY(kr_i64(r, &i64)); /* LogAppendTimeMs */
	if (v >= 5)
		KR_TRY(kr_i64(r, &i64)); /* LogStartOffset */
	if (v >= 8) {
		/* RecordErrors[]: BatchIndex 4 + message >= 1 */
		KR_TRY(kr_array(r, flexible, 5, &n));
		for (int32_t i = 0; i < n; i++) {
			KR_TRY(kr_i32(r, &batch_index));
			KR_TRY(kr_nullable_string(r, flexible, &s));
			if (flexible)
				KR_TRY(kr_skip_tags(r));
		}
		KR_TRY(kr_nullable_string(r, flexible, &s)); /* ErrorMessage */
	}
	if (flexible)
		KR_TRY(kr_skip_tags(r)); /* CurrentLeader (tag 0): ids only */
	return 0;
err:
	return -1;
}

int krw_produce(const uint8_t *in, size_t len, int16_t v, struct kwbuf *out,
		const struct kmap *map)
{
	int flexible = v >= 9;
	struct krw x;
	struct kreader *r = &x.r;
	struct kstr name;
	int32_t topics, partitions, throttle_time_ms;
	int not_leader = 0;

	krw_init(&x, in, len, out, map);
	KR_TRY(krw_header(&x, flexible));
	/* Name or TopicId >= 1, PartitionResponses >= 1 */
	KR_TRY(kr_array(r, flexible, 2, &topics));
	for (int32_t t = 0; t < topics; t++) {
		if (v >= 13)
			KR_TRY(kr_skip(r, 16)); /* TopicId */
		else
			KR_TRY(kr_string(r, flexible, &name));
		/* Index 4 + ErrorCode 2 + BaseOffset 8 */
		KR_TRY(kr_array(r, flexible, 14, &partitions));
		for (int32_t p = 0; p < partitions; p++)
			KR_TRY(produce_partition(r, v, flexible, &not_leader));
		if (flexible)
			KR_TRY(kr_skip_tags(r));
	}
	if (v >= 1)
		KR_TRY(kr_i32(r, &throttle_time_ms));
	if (v >= 10)
		KR_TRY(krw_tags_with_node_endpoints(&x));
	else if (flexible)
		KR_TRY(kr_skip_tags(r));
	/* Leader hints come with NOT_LEADER_OR_FOLLOWER: one signal. */
	if (not_leader && map && map->leader_moved)
		map->leader_moved(map->ctx);
	return krw_finish(&x);
err:
	return KRW_ERROR;
}
