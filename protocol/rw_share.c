/* rw_share.c — share groups' (KIP-932) responses: ShareFetch (ApiKey 78)
 * and ShareAcknowledge (79), v0-2 (v0 from the 4.0 snapshot, v1-2 from
 * kafka-clients 4.4.0).
 *
 * Both end with NodeEndpoints — the leaders of partitions answered
 * NOT_LEADER_OR_FOLLOWER — as an ordinary field before the top-level tagged
 * section, not as a tagged field as in Fetch and Produce.  ShareAcknowledge
 * answers are small and decoded whole.  ShareFetch carries records, so the
 * gateway streams it (share_walk.h) and holds only its tail, NodeEndpoints
 * and the tagged section, which is rewritten here without changing its
 * length: the frame's size is already on its way to the client.  A shorter
 * NodeEndpoints leaves a gap that padding fields in the tagged section fill
 * (krw_tags_fit); a longer one cannot fit, so NodeEndpoints goes out empty
 * and the client refreshes Metadata, as it does for a leader it cannot find.
 */
#include <string.h>

#include "krw.h"
#include "rewrite.h"

/* Reads the top-level tagged section at r (all of what is left): its field
 * count and, in *fields_off, where its fields start. */
static int tag_section(struct kreader *r, uint32_t *count, size_t *fields_off)
{
	uint32_t tag, size;

	KR_TRY(kr_uvarint(r, count));
	if (*count > kr_remaining(r) / 2)
		goto err;
	*fields_off = r->pos;
	for (uint32_t i = 0; i < *count; i++) {
		KR_TRY(kr_uvarint(r, &tag));
		KR_TRY(kr_uvarint(r, &size));
		KR_TRY(kr_skip(r, size));
	}
	if (kr_remaining(r) != 0)
		goto err;
	return 0;
err:
	return -1;
}

int krw_share_fetch_tail(const uint8_t *in, size_t len, int16_t version, uint8_t *out,
			 const struct kmap *map, int *dropped)
{
	struct kwbuf endpoints, fields;
	struct krw y;
	size_t ne_len, fields_off;
	uint32_t count;
	int rc = KRW_ERROR;

	(void)version; /* the tail is the same in every version */
	*dropped = 0;
	kw_init(&endpoints);
	kw_init(&fields);
	krw_init(&y, in, len, &endpoints, map);
	if (krw_node_endpoints(&y) < 0)
		goto out;
	ne_len = y.r.pos;
	if (tag_section(&y.r, &count, &fields_off) < 0)
		goto out;
	rc = KRW_UNCHANGED;
	if (!y.changed)
		goto out;
	krw_emit_to(&y, ne_len); /* the rewritten NodeEndpoints, whole */
	kw_put(&fields, in + fields_off, len - fields_off);
	rc = KRW_ERROR;
	if (endpoints.failed || fields.failed)
		goto out;
	rc = KRW_CHANGED;
	if (endpoints.len <= ne_len &&
	    krw_tags_fit(&fields, count, len - endpoints.len, out + endpoints.len) == 0) {
		memcpy(out, endpoints.buf, endpoints.len);
		goto out;
	}
	/* An empty array: one byte, so the gap is the old list's length less
	 * one — at least 11 bytes for a list of one, which padding fills. */
	*dropped = 1;
	out[0] = 1;
	if (krw_tags_fit(&fields, count, len - 1, out + 1) < 0)
		rc = KRW_ERROR;
out:
	kw_free(&endpoints);
	kw_free(&fields);
	return rc;
}

/* One ShareAcknowledge partition: PartitionIndex, ErrorCode, ErrorMessage,
 * CurrentLeader {LeaderId, LeaderEpoch, tags}, tags. */
static int ack_partition(struct kreader *r)
{
	int32_t i32;
	int16_t error_code;
	struct kstr s;

	KR_TRY(kr_i32(r, &i32));
	KR_TRY(kr_i16(r, &error_code));
	KR_TRY(kr_nullable_string(r, 1, &s));
	KR_TRY(kr_i32(r, &i32));
	KR_TRY(kr_i32(r, &i32));
	KR_TRY(kr_skip_tags(r));
	KR_TRY(kr_skip_tags(r));
	return 0;
err:
	return -1;
}

int krw_share_acknowledge(const uint8_t *in, size_t len, int16_t v, struct kwbuf *out,
			  const struct kmap *map)
{
	struct krw x;
	struct kreader *r = &x.r;
	struct kstr s;
	int32_t topics, partitions, i32;
	int16_t error_code;

	krw_init(&x, in, len, out, map);
	KR_TRY(krw_header(&x, 1)); /* flexible in every version */
	KR_TRY(kr_i32(r, &i32));   /* ThrottleTimeMs */
	KR_TRY(kr_i16(r, &error_code));
	KR_TRY(kr_nullable_string(r, 1, &s)); /* ErrorMessage */
	if (v >= 2)
		KR_TRY(kr_i32(r, &i32)); /* AcquisitionLockTimeoutMs */
	/* TopicId 16 + Partitions 1 + tags 1 */
	KR_TRY(kr_array(r, 1, 18, &topics));
	for (int32_t t = 0; t < topics; t++) {
		KR_TRY(kr_skip(r, 16)); /* TopicId */
		/* Index 4 + ErrorCode 2 + ErrorMessage 1 + CurrentLeader 9 + tags 1 */
		KR_TRY(kr_array(r, 1, 17, &partitions));
		for (int32_t p = 0; p < partitions; p++)
			KR_TRY(ack_partition(r));
		KR_TRY(kr_skip_tags(r));
	}
	KR_TRY(krw_node_endpoints(&x));
	KR_TRY(kr_skip_tags(r));
	return krw_finish(&x);
err:
	return KRW_ERROR;
}
