/* backoff.h — how often kgate may ask the cluster again about one thing.
 *
 * A broker that does not answer, a node id the cluster does not list, a run
 * of NOT_LEADER answers: each may make kgate fetch the cluster's Metadata,
 * but not once per client.  A struct backoff is one such thing's schedule:
 * the first ask is allowed at once, the next only after min_ms, then after
 * twice that, and so on up to max_ms; a reset (the broker answered) starts
 * over.  Pure arithmetic on a clock the caller passes in, so the schedule is
 * unit-tested without waiting.
 */
#ifndef KGATE_BACKOFF_H
#define KGATE_BACKOFF_H

#include <stdint.h>

struct backoff {
	int64_t next_ns;  /* no ask before this (0: never asked) */
	int64_t delay_ms; /* the wait the next allowed ask will start (0: min_ms) */
};

/* 1 if asking is allowed at now_ns — the wait that follows is started and
 * the one after it doubled (capped at max_ms) — or 0 while waiting. */
int backoff_try(struct backoff *b, int64_t now_ns, int64_t min_ms, int64_t max_ms);
/* Milliseconds until asking is allowed again (0: now), rounded up. */
int64_t backoff_wait_ms(const struct backoff *b, int64_t now_ns);
/* 1 if nothing asked for max_ms past the end of the last wait: the trouble
 * is over or forgotten, and the schedule may start over. */
int backoff_idle(const struct backoff *b, int64_t now_ns, int64_t max_ms);
/* Starts the schedule over: the next ask is allowed at once. */
void backoff_reset(struct backoff *b);

#endif
