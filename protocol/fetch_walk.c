/* fetch_walk.c — resumable walk over a Fetch response (v12+) that skips
 * records by their length and stops where the top-level tagged section
 * starts.  Layout (FetchResponse.json, flexible versions):
 *
 *   header tags | ThrottleTimeMs ErrorCode SessionId | Responses[] {
 *     Topic (v12) or TopicId (v13+) | Partitions[] {
 *       PartitionIndex ErrorCode HighWatermark LastStableOffset LogStartOffset
 *       AbortedTransactions[]? {ProducerId FirstOffset tags}
 *       PreferredReadReplica Records? tags } tags } | tags (NodeEndpoints)
 */
#include "fetch_walk.h"

#include "fetch_walk_internal.h"

enum {
	S_FIXED = KW_S_FIRST, /* ThrottleTimeMs, ErrorCode, SessionId */
	S_TOPICS,      /* Responses[] count */
	S_TOPIC,       /* Topic name or TopicId */
	S_PARTS,       /* Partitions[] count */
	S_PART_FIXED,  /* PartitionIndex .. LogStartOffset */
	S_ABORTED,     /* AbortedTransactions[] count (nullable) */
	S_ABORTED_ONE, /* ProducerId, FirstOffset */
	S_ABORTED_END,
	S_PREFERRED,   /* PreferredReadReplica */
	S_RECORDS,     /* Records length; the records are skipped */
	S_PART_END,
	S_TOPIC_END,
	S_TAIL
};

/* Byte sizes of the fixed runs. */
#define FIXED_TOP 10  /* int32 + int16 + int32 */
#define FIXED_PART 30 /* int32 + int16 + 3 * int64 */
#define FIXED_ABORTED 16
#define TOPIC_ID 16
#define PREFERRED 4
_Static_assert(FIXED_TOP <= KFW_MAX_PRIMITIVE && FIXED_PART <= KFW_MAX_PRIMITIVE &&
		       FIXED_ABORTED <= KFW_MAX_PRIMITIVE && TOPIC_ID <= KFW_MAX_PRIMITIVE,
	       "a fixed run longer than the walker promises to need at once");

void kfw_init(struct kfetch_walk *w, int16_t version)
{
	w->version = version;
	w->state = KW_S_TAGS_COUNT; /* the response header's tagged fields */
	w->after = S_FIXED;
	w->topics_left = w->parts_left = w->aborted_left = w->tags_left = 0;
}

int kfw_uvarint(const uint8_t *buf, size_t len, size_t *pos, uint32_t *v)
{
	uint32_t value = 0;

	for (size_t i = 0; i < 5; i++) {
		uint8_t b;

		if (*pos + i >= len)
			return 0;
		b = buf[*pos + i];
		if (i == 4 && (b & 0xf0))
			return -1;
		value |= (uint32_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*pos += i + 1;
			*v = value;
			return 1;
		}
	}
	return -1;
}

/* Enter a tagged section, resuming at next once it is done. */
static void tags_then(struct kfetch_walk *w, uint8_t next)
{
	w->state = KW_S_TAGS_COUNT;
	w->after = next;
}

int kfw_walk(struct kfetch_walk *w, const uint8_t *buf, size_t len, size_t *used,
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
		case S_FIXED:
			KW_NEED(FIXED_TOP);
			pos += FIXED_TOP;
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
			if (w->version >= 13) {
				KW_NEED(TOPIC_ID);
				pos += TOPIC_ID;
				w->state = S_PARTS;
			} else {
				KW_VARINT(n);
				if (n == 0)
					return KFW_ERROR;
				w->state = S_PARTS;
				KW_SKIP(n - 1);
			}
			break;
		case S_PARTS:
			KW_VARINT(n);
			if (n == 0)
				return KFW_ERROR;
			w->parts_left = n - 1;
			if (w->parts_left)
				w->state = S_PART_FIXED;
			else
				tags_then(w, S_TOPIC_END);
			break;
		case S_PART_FIXED:
			KW_NEED(FIXED_PART);
			pos += FIXED_PART;
			w->state = S_ABORTED;
			break;
		case S_ABORTED:
			KW_VARINT(n); /* 0 is null */
			w->aborted_left = n ? n - 1 : 0;
			w->state = w->aborted_left ? S_ABORTED_ONE : S_PREFERRED;
			break;
		case S_ABORTED_ONE:
			KW_NEED(FIXED_ABORTED);
			pos += FIXED_ABORTED;
			tags_then(w, S_ABORTED_END);
			break;
		case S_ABORTED_END:
			w->state = --w->aborted_left ? S_ABORTED_ONE : S_PREFERRED;
			break;
		case S_PREFERRED:
			KW_NEED(PREFERRED);
			pos += PREFERRED;
			w->state = S_RECORDS;
			break;
		case S_RECORDS:
			KW_VARINT(n); /* 0 is null */
			tags_then(w, S_PART_END);
			if (n > 1)
				KW_SKIP(n - 1);
			break;
		case S_PART_END:
			if (--w->parts_left)
				w->state = S_PART_FIXED;
			else
				tags_then(w, S_TOPIC_END);
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
