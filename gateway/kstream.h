/* kstream.h — Kafka framing for one client connection, over evbuffers.
 *
 * Requests are framed on the way up: each size is judged as soon as its four
 * bytes are in, the header is peeked and checked against the API table, and
 * {correlation id, api key, version} is remembered in order — except for
 * Produce with acks=0, which gets no answer — before the frame is cut
 * through.  Responses are framed on the way down and checked against the
 * oldest request still waiting; then they are cut through as they arrive,
 * held whole and rewritten (the APIs whose answers carry broker addresses),
 * or streamed while the API's walker follows their structure, holding only
 * the trailing tagged section to rewrite it in place.
 *
 * Bytes move from `in` to `out` chain by chain: records are never copied.
 * An input of chunk references (a plaintext side's, chunk.h) is cut at a
 * frame boundary by sharing the chunk; any other input copies the part of
 * the one chain a boundary falls in (evbuffer_remove_buffer).  Nothing here touches a socket or a connection
 * pair: the caller reads into `in`, passes its peer's output as `out`, and
 * acts on the result — stops reading while the output or the FIFO is full,
 * closes the connection with kstream_why() on an error.
 */
#ifndef KGATE_KSTREAM_H
#define KGATE_KSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "../config/config.h"
#include "../protocol/kapi.h"
#include "../protocol/kdefs.h"
#include "fifo.h"
#include "stats.h"

struct evbuffer;

/* What kstream_requests and kstream_responses report. */
enum kstream_result {
	KS_ERROR = -1,   /* malformed or unexpected input: ks->why says what */
	KS_IDLE = 0,     /* everything forwarded, or waiting for more bytes */
	KS_OUT_FULL = 1, /* the output holds limits.buffer_bytes: stop reading */
	KS_FIFO_FULL = 2, /* limits.max_inflight requests await answers */
	KS_HELD = 3       /* at a request boundary, and ks->hold asks to stop there */
};

/* Where one direction's decoder is in its stream. */
enum kstream_state {
	KS_FRAME, /* at a frame boundary, waiting for the next header */
	KS_PASS,  /* cutting through the rest of a frame */
	KS_WHOLE, /* holding a whole response to rewrite it */
	KS_WALK,  /* streaming a response while walking its structure */
	KS_TAIL   /* holding a streamed response's trailing tagged section */
};

/* Where one direction is in its current frame. */
struct kstream_dir {
	enum kstream_state state;
	uint64_t left; /* bytes of the current frame still to forward */
	uint64_t done; /* frames forwarded to their end */
	int chunked;   /* its input holds only chunk references: the caller
			* sets it before each run (side_chunked) */
};

/* What every stream of one gateway shares (one event loop: a stream's
 * error is read before another stream can write one). */
struct kstream_env {
	struct kg_stats *stats;     /* the gateway's totals */
	struct kg_api_stats *apis;  /* per ApiKey: KG_API_SLOTS of them */
	struct kwbuf *scratch;  /* rewrite output, reused frame after frame */
	const struct kmap *map; /* node id -> advertised address */
	char why[512];          /* the last KS_ERROR's reason (kstream_why) */
};

/* Words for log lines and errors; the strings belong to the caller and must
 * outlive the stream (upstream may change between dials). */
struct kstream_names {
	uint64_t id;               /* the connection's number in log lines */
	const char *client;        /* "10.0.0.9:51234" */
	const char *listener;      /* the listener's address as configured */
	const char *listener_name; /* "bootstrap", "broker 1" */
	const char *upstream;      /* "host:port" being forwarded to */
};

struct kstream {
	struct kstream_env *env;
	struct kg_stats *local;  /* the listener's share of the counters */
	struct kstream_names names;
	/* node id -> advertised address: env's, or its listener's own (the
	 * SNI listener's clients see every broker under its pattern) */
	const struct kmap *map;
	int64_t max_frame;       /* limits.max_frame_bytes */
	size_t high_water;       /* limits.buffer_bytes */
	struct fifo inflight;    /* requests awaiting responses, oldest first */
	struct kstream_dir up;   /* requests: client -> upstream */
	struct kstream_dir down; /* responses: upstream -> client */
	/* The response being forwarded: */
	struct fifo_entry req;   /* the request it answers */
	int32_t frame_size;      /* its size field */
	uint64_t skip;           /* KS_WALK: opaque bytes to pass before walking on */
	union kapi_walk walk;    /* KS_WALK: the API's walker */
	int unblocked;           /* a response freed a slot of a full FIFO */
	int hold;                /* forward no new request (a graceful stop) */
	int own_sasl;            /* SASL requests are refused: kgate signs in
				  * upstream, or the client signed in to kgate */
};

/* 1 when nothing is half-way in either direction and no response is owed:
 * closing now loses nothing the client was told about. */
static inline int kstream_at_rest(const struct kstream *ks)
{
	return ks->up.state == KS_FRAME && ks->down.state == KS_FRAME && ks->inflight.len == 0;
}

void kstream_init(struct kstream *ks, struct kstream_env *env, struct kg_stats *local,
		  const struct kstream_names *names, const struct cfg_limits *limits);
void kstream_free(struct kstream *ks);
/* Why the last call returned KS_ERROR. */
static inline const char *kstream_why(const struct kstream *ks) { return ks->env->why; }
/* Frames and forwards requests from in (the client's) to out (towards the
 * upstream) until in is used up or something stops it.  final: the client
 * has gone; forward what it sent whatever the output holds. */
KG_MUSTCHECK int kstream_requests(struct kstream *ks, struct evbuffer *in, struct evbuffer *out,
				  int final);
/* The same for responses, from in (the upstream's) to out (the client's).
 * When it returns with ks->unblocked set, the requests can go on (the
 * caller clears it). */
KG_MUSTCHECK int kstream_responses(struct kstream *ks, struct evbuffer *in, struct evbuffer *out,
				   int final);
/* How many of direction d's next bytes kgate forwards without looking at
 * them (the rest of a cut-through frame, or the records a walker skips):
 * the caller may move them itself (splice), then says so. */
uint64_t kstream_opaque(const struct kstream *ks, const struct kstream_dir *d);
/* n of those bytes (at most kstream_opaque's) were forwarded. */
void kstream_forwarded(struct kstream *ks, struct kstream_dir *d, uint64_t n);

#endif
