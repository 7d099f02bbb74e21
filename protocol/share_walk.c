/* share_walk.c — resumable walk over a ShareFetch response (v0-2, flexible
 * in every version) that skips records and messages by their length and
 * stops where NodeEndpoints starts.  Layout (ShareFetchResponse.json: v0 in
 * the 4.0 snapshot, v1-2 in kafka-clients 4.4.0; v2's response is v1's):
 *
 *   header tags | ThrottleTimeMs ErrorCode | ErrorMessage |
 *   AcquisitionLockTimeoutMs (v1+) | Responses[] {
 *     TopicId | Partitions[] {
 *       PartitionIndex ErrorCode | ErrorMessage | AcknowledgeErrorCode |
 *       AcknowledgeErrorMessage | CurrentLeader {LeaderId LeaderEpoch tags} |
 *       Records | AcquiredRecords[] {FirstOffset LastOffset DeliveryCount tags}
 *       tags } tags } | NodeEndpoints[] ... | tags
 *
 * Records is nullable in the snapshot's v0 and not from v1, but both encode
 * a length of 0 the same way, so the walker takes either.
 */
#include "share_walk.h"

#include "fetch_walk_internal.h"

enum {
	S_STRING = KW_S_FIRST, /* a nullable compact string, skipped; then after */
	S_TOP_FIXED,    /* ThrottleTimeMs, ErrorCode */
	S_LOCK,         /* AcquisitionLockTimeoutMs (v1+) */
	S_TOPICS,       /* Responses[] count */
	S_TOPIC,        /* TopicId */
	S_PARTS,        /* Partitions[] count */
	S_PART_FIXED,   /* PartitionIndex, ErrorCode */
	S_ACK_CODE,     /* AcknowledgeErrorCode */
	S_LEADER,       /* CurrentLeader's LeaderId, LeaderEpoch */
	S_RECORDS,      /* Records length; the records are skipped */
	S_ACQUIRED,     /* AcquiredRecords[] count */
	S_ACQUIRED_ONE, /* FirstOffset, LastOffset, DeliveryCount */
	S_ACQUIRED_END,
	S_PART_END,
	S_TOPIC_END,
	S_TAIL
};

#define FIXED_TOP 6     /* int32 + int16 */
#define LOCK 4
#define TOPIC_ID 16
#define FIXED_PART 6    /* int32 + int16 */
#define ACK_CODE 2
#define LEADER 8        /* int32 + int32 */
#define ACQUIRED 18     /* int64 + int64 + int16 */
_Static_assert(FIXED_TOP <= KSW_MAX_PRIMITIVE && TOPIC_ID <= KSW_MAX_PRIMITIVE &&
		       LEADER <= KSW_MAX_PRIMITIVE && ACQUIRED <= KSW_MAX_PRIMITIVE,
	       "a fixed run longer than the walker promises to need at once");

void ksw_init(struct kshare_walk *w, int16_t version)
{
	w->version = version;
	w->state = KW_S_TAGS_COUNT; /* the response header's tagged fields */
	w->after = S_TOP_FIXED;
	w->topics_left = w->parts_left = w->acquired_left = w->tags_left = 0;
}

/* Go to state s, then to next once s (a string or tagged section) is done. */
static void then(struct kshare_walk *w, uint8_t s, uint8_t next)
{
	w->state = s;
	w->after = next;
}

/* A partition is done: the next one, or the topic's tagged section. */
static void part_end(struct kshare_walk *w)
{
	if (--w->parts_left)
		w->state = S_PART_FIXED;
	else
		then(w, KW_S_TAGS_COUNT, S_TOPIC_END);
}

int ksw_walk(struct kshare_walk *w, const uint8_t *buf, size_t len, size_t *used,
	     uint64_t *skip)
{
	size_t pos = 0;
	uint32_t n;
	int rc;

	/* Nothing consumed until a primitive is complete: every return,
	 * errors included, leaves both outputs defined. */
	*used = 0;
	*skip = 0;
	for (;;) {
		switch (w->state) {
		KW_TAG_STATES(w, n);
		case S_STRING:
			KW_VARINT(n); /* 0 is null */
			w->state = w->after;
			if (n > 1)
				KW_SKIP(n - 1);
			break;
		case S_TOP_FIXED:
			KW_NEED(FIXED_TOP);
			pos += FIXED_TOP;
			then(w, S_STRING, w->version >= 1 ? S_LOCK : S_TOPICS);
			break;
		case S_LOCK:
			KW_NEED(LOCK);
			pos += LOCK;
			w->state = S_TOPICS;
			break;
		case S_TOPICS:
			KW_VARINT(n);
			if (n == 0) /* null: Responses is not nullable */
				return KFW_ERROR;
			w->topics_left = n - 1;
			w->state = w->topics_left ? S_TOPIC : S_TAIL;
			break;
		case S_TOPIC:
			KW_NEED(TOPIC_ID);
			pos += TOPIC_ID;
			w->state = S_PARTS;
			break;
		case S_PARTS:
			KW_VARINT(n);
			if (n == 0)
				return KFW_ERROR;
			w->parts_left = n - 1;
			if (w->parts_left)
				w->state = S_PART_FIXED;
			else
				then(w, KW_S_TAGS_COUNT, S_TOPIC_END);
			break;
		case S_PART_FIXED:
			KW_NEED(FIXED_PART);
			pos += FIXED_PART;
			then(w, S_STRING, S_ACK_CODE);
			break;
		case S_ACK_CODE:
			KW_NEED(ACK_CODE);
			pos += ACK_CODE;
			then(w, S_STRING, S_LEADER);
			break;
		case S_LEADER:
			KW_NEED(LEADER);
			pos += LEADER;
			then(w, KW_S_TAGS_COUNT, S_RECORDS); /* CurrentLeader's own */
			break;
		case S_RECORDS:
			KW_VARINT(n); /* 0 is null (v0) */
			w->state = S_ACQUIRED;
			if (n > 1)
				KW_SKIP(n - 1);
			break;
		case S_ACQUIRED:
			KW_VARINT(n);
			if (n == 0) /* not nullable */
				return KFW_ERROR;
			w->acquired_left = n - 1;
			if (w->acquired_left)
				w->state = S_ACQUIRED_ONE;
			else
				then(w, KW_S_TAGS_COUNT, S_PART_END);
			break;
		case S_ACQUIRED_ONE:
			KW_NEED(ACQUIRED);
			pos += ACQUIRED;
			then(w, KW_S_TAGS_COUNT, S_ACQUIRED_END);
			break;
		case S_ACQUIRED_END:
			if (--w->acquired_left)
				w->state = S_ACQUIRED_ONE;
			else
				then(w, KW_S_TAGS_COUNT, S_PART_END);
			break;
		case S_PART_END:
			part_end(w);
			break;
		case S_TOPIC_END:
			w->state = --w->topics_left ? S_TOPIC : S_TAIL;
			break;
		case S_TAIL:
			*used = pos;
			return KFW_TAIL;
		default:
			return KFW_ERROR;
		}
	}
need_more:
	*used = pos;
	return KFW_NEED_MORE;
}
