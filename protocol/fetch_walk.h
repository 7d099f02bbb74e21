/* fetch_walk.h — a streaming walker over Fetch responses (v12+).
 *
 * Fetch responses carry records and can be tens of megabytes, and since v16
 * their last bytes — the top-level tagged section — may hold NodeEndpoints
 * (KIP-951).  Rather than hold a whole response to rewrite its end, the
 * gateway streams it: this walker consumes the structure a primitive at a
 * time, tells the caller how many opaque bytes (records, topic names,
 * tagged-field payloads) to pass through unexamined, and says when the
 * trailing tagged section begins.  The caller then rewrites that section in
 * place with krw_fetch_tail(), keeping the frame length unchanged.
 *
 * The walker starts right after the CorrelationId (at the response header's
 * tagged fields).  It never looks at more bytes than it is given and keeps
 * no pointers into them between calls.
 */
#ifndef KGATE_FETCH_WALK_H
#define KGATE_FETCH_WALK_H

#include <stddef.h>
#include <stdint.h>

enum kfw_result {
	KFW_NEED_MORE = 0, /* the next primitive is incomplete: call again with more */
	KFW_SKIP = 1,      /* pass *skip opaque bytes through, then call again */
	KFW_TAIL = 2,      /* the rest of the frame is the top-level tagged section */
	KFW_ERROR = -1     /* malformed */
};

/* The walker's position in the response structure. */
struct kfetch_walk {
	int16_t version;
	uint8_t state;
	uint8_t after;         /* state to resume once a tagged section ends */
	uint32_t topics_left;
	uint32_t parts_left;
	uint32_t aborted_left;
	uint32_t tags_left;
};

/* The most bytes the walker reads at once (a partition's fixed fields,
 * PartitionIndex to LogStartOffset); callers must offer at least this many
 * bytes when that many remain in the frame, or it cannot move on. */
#define KFW_MAX_PRIMITIVE 30

void kfw_init(struct kfetch_walk *w, int16_t version);
/* Walks structure at buf[0..len).  *used is how many bytes were consumed
 * (to be forwarded), *skip how many opaque bytes follow on KFW_SKIP. */
int kfw_walk(struct kfetch_walk *w, const uint8_t *buf, size_t len, size_t *used,
	     uint64_t *skip);

/* Reads an unsigned varint at buf[*pos..len) for a walker (ShareFetch's
 * too): 1 = read (*pos moved past it), 0 = incomplete, -1 = invalid (more
 * than 5 bytes). */
int kfw_uvarint(const uint8_t *buf, size_t len, size_t *pos, uint32_t *v);

#endif
