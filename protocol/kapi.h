/* kapi.h — the table of Kafka APIs, indexed by ApiKey, that drives framing,
 * version clamping and rewriting.
 *
 * Only APIs kgate must treat specially have an entry with behaviour; every
 * other key is cut through untouched at any version.
 */
#ifndef KGATE_KAPI_H
#define KGATE_KAPI_H

#include <stddef.h>
#include <stdint.h>

#include "fetch_walk.h"
#include "kbuf.h"
#include "kmap.h"
#include "rewrite.h"
#include "share_walk.h"

enum {
	KAPI_PRODUCE = 0,
	KAPI_FETCH = 1,
	KAPI_METADATA = 3,
	KAPI_FIND_COORDINATOR = 10,
	KAPI_SASL_HANDSHAKE = 17,
	KAPI_API_VERSIONS = 18,
	KAPI_SASL_AUTHENTICATE = 36,
	KAPI_DESCRIBE_QUORUM = 55,
	KAPI_DESCRIBE_CLUSTER = 60,
	KAPI_SHARE_FETCH = 78,
	KAPI_SHARE_ACKNOWLEDGE = 79,
	KAPI_MAX_KEY = 127 /* table size - 1; larger keys are simply unknown */
};

/* What the gateway does with a response frame. */
enum kapi_mode {
	KAPI_PASS = 0,    /* cut through as it arrives */
	KAPI_REWRITE = 1, /* buffer the whole frame, decode, rewrite, re-frame */
	KAPI_TAIL = 2     /* stream it, rewrite the trailing tagged section in place */
};

/* A streamed response's walker position; each walker keeps its own member. */
union kapi_walk {
	struct kfetch_walk fetch;
	struct kshare_walk share;
};

/* How a KAPI_TAIL response is streamed: a walker that follows the frame's
 * structure, passing opaque bytes by length, and stops where the trailing
 * tagged section begins; then a rewriter for that section that keeps its
 * length, so the frame's size, already forwarded, stays true. */
struct kapi_stream {
	void (*init)(union kapi_walk *w, int16_t version);
	/* As kfw_walk: an enum kfw_result, *used bytes consumed, *skip opaque
	 * bytes to pass on KFW_SKIP. */
	int (*walk)(union kapi_walk *w, const uint8_t *buf, size_t len, size_t *used,
		    uint64_t *skip);
	/* As krw_fetch_tail: in[0..len) rewritten into out[0..len). */
	int (*rewrite_tail)(const uint8_t *in, size_t len, int16_t version, uint8_t *out,
			    const struct kmap *map, int *dropped);
};

#define KAPI_F_LENIENT 0x02 /* requests above max_version are still forwarded */
#define KAPI_F_LEADER_HINTS 0x04 /* what is rewritten is NodeEndpoints (KIP-951) */

/* One row of the table.  Rows are written with designated initializers;
 * what a row leaves out is 0/NULL: rewrite_from 0 with mode KAPI_PASS means
 * "never rewritten", min_version 0 "every version forwarded". */
struct kapi {
	const char *name;
	int16_t max_version;    /* newest version understood; -1 = not clamped */
	int16_t first_flexible; /* first flexible version; -1 = none/unknown */
	int16_t rewrite_from;   /* responses >= this version use mode; -1 = never */
	uint8_t mode;           /* enum kapi_mode for versions >= rewrite_from */
	uint8_t flags;          /* KAPI_F_* */
	krw_fn rewrite;         /* for KAPI_REWRITE */
	const struct kapi_stream *stream; /* for KAPI_TAIL */
	int16_t min_version;    /* oldest version kgate forwards */
	const char *too_old;    /* why older versions are refused (for the log) */
};

/* The row for key (never NULL: unknown keys get an all-pass row). */
const struct kapi *kapi_get(int16_t key);
/* Human-readable name of any ApiKey ("Metadata", "ApiKey(200)"). */
const char *kapi_name(int16_t key, char *scratch, size_t scratch_len);
/* How kgate handles a response to (key, version). */
enum kapi_mode kapi_mode_for(int16_t key, int16_t version);
/* 1 if responses to (key, version) carry a header v1 (tagged fields). */
int kapi_response_header_flexible(int16_t key, int16_t version);
/* 1 if the request header of (key, version) is v2 (tagged fields). */
int kapi_request_header_flexible(int16_t key, int16_t version);
/* 0 if kgate can forward a request of (key, version), else -1 with a reason. */
int kapi_request_check(int16_t key, int16_t version, const char **why);

#endif
