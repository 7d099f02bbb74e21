/* share_walk.h — a streaming walker over ShareFetch responses (v0-2).
 *
 * ShareFetch (KIP-932) carries records like Fetch, and after them, as an
 * ordinary field rather than a tagged one, NodeEndpoints: the leaders of
 * partitions answered NOT_LEADER_OR_FOLLOWER.  Like the Fetch walker
 * (fetch_walk.h), this one consumes the structure a primitive at a time,
 * tells the caller how many opaque bytes (records, error messages, tagged
 * field payloads) to pass unexamined, and says where the tail begins — here
 * at NodeEndpoints, so that the tail the caller holds and rewrites in place
 * (krw_share_fetch_tail) is NodeEndpoints followed by the top-level tagged
 * section.  Same results (enum kfw_result) and the same contract as
 * kfw_walk: it starts right after the CorrelationId, never reads past what
 * it is given, and keeps no pointer into it between calls.
 */
#ifndef KGATE_SHARE_WALK_H
#define KGATE_SHARE_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "fetch_walk.h"

/* The walker's position in the response structure. */
struct kshare_walk {
	int16_t version;
	uint8_t state;
	uint8_t after;         /* state to resume once a string or tagged section ends */
	uint32_t topics_left;
	uint32_t parts_left;
	uint32_t acquired_left;
	uint32_t tags_left;
};

/* The most bytes the walker reads at once (an AcquiredRecords entry). */
#define KSW_MAX_PRIMITIVE 18
_Static_assert(KSW_MAX_PRIMITIVE <= KFW_MAX_PRIMITIVE,
	       "callers offer the Fetch walker's minimum; ShareFetch must not need more");

void ksw_init(struct kshare_walk *w, int16_t version);
/* As kfw_walk, over a ShareFetch response; KFW_TAIL is at NodeEndpoints. */
int ksw_walk(struct kshare_walk *w, const uint8_t *buf, size_t len, size_t *used,
	     uint64_t *skip);

#endif
