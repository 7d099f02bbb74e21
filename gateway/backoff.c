/* backoff.c — the exponential, capped schedule of backoff.h. */
#include "backoff.h"

#define NS_PER_MS 1000000

int backoff_try(struct backoff *b, int64_t now_ns, int64_t min_ms, int64_t max_ms)
{
	int64_t d;

	if (b->next_ns && now_ns < b->next_ns)
		return 0;
	d = b->delay_ms < min_ms ? min_ms : b->delay_ms;
	if (d > max_ms)
		d = max_ms;
	b->next_ns = now_ns + d * NS_PER_MS;
	/* Doubling a capped value cannot overflow: max_ms is config-bounded. */
	b->delay_ms = d * 2 > max_ms ? max_ms : d * 2;
	return 1;
}

int64_t backoff_wait_ms(const struct backoff *b, int64_t now_ns)
{
	if (!b->next_ns || now_ns >= b->next_ns)
		return 0;
	return (b->next_ns - now_ns + NS_PER_MS - 1) / NS_PER_MS;
}

int backoff_idle(const struct backoff *b, int64_t now_ns, int64_t max_ms)
{
	return !b->next_ns || now_ns - b->next_ns >= max_ms * NS_PER_MS;
}

void backoff_reset(struct backoff *b)
{
	b->next_ns = 0;
	b->delay_ms = 0;
}
