/* test_backoff.c — the schedule that bounds kgate's own Metadata refreshes
 * while a broker is down (gateway/backoff.h), on a clock the test moves:
 * allowed at once, then after min, 2·min, … up to max; nothing in between,
 * however often it is asked; a reset starts over; idle after max. */
#include "../../gateway/backoff.h"
#include "tests.h"

#define MS 1000000LL

START_TEST(test_backoff_schedule)
{
	/* When asks are allowed, asking every millisecond for 40 s. */
	static const int64_t expect[] = {0, 500, 1500, 3500, 7500, 15500, 25500, 35500};
	struct backoff b = {0};
	size_t n = 0;
	int64_t t0 = 1000 * MS;

	for (int64_t ms = 0; ms <= 40000; ms++) {
		if (!backoff_try(&b, t0 + ms * MS, 500, 10000))
			continue;
		ck_assert_msg(n < sizeof(expect) / sizeof(expect[0]), "extra ask at %lld ms",
			      (long long)ms);
		ck_assert_int_eq(ms, expect[n]);
		n++;
	}
	ck_assert_uint_eq(n, sizeof(expect) / sizeof(expect[0]));
}
END_TEST

START_TEST(test_backoff_wait_reset_idle)
{
	struct backoff b = {0};
	int64_t t = 5 * MS;

	ck_assert_int_eq(backoff_wait_ms(&b, t), 0);
	ck_assert(backoff_idle(&b, t, 1000));
	ck_assert(backoff_try(&b, t, 100, 1000));
	ck_assert_int_eq(backoff_wait_ms(&b, t), 100);
	ck_assert_int_eq(backoff_wait_ms(&b, t + MS / 2), 100); /* rounded up */
	ck_assert(!backoff_try(&b, t + 99 * MS, 100, 1000));
	ck_assert(!backoff_idle(&b, t + 99 * MS, 1000));
	ck_assert(backoff_try(&b, t + 100 * MS, 100, 1000));
	ck_assert_int_eq(backoff_wait_ms(&b, t + 100 * MS), 200);
	/* A full max past the wait's end: idle. */
	ck_assert(!backoff_idle(&b, t + 1299 * MS, 1000));
	ck_assert(backoff_idle(&b, t + 1300 * MS, 1000));
	/* Reset: allowed at once, from min again. */
	backoff_reset(&b);
	ck_assert(backoff_try(&b, t + 101 * MS, 100, 1000));
	ck_assert_int_eq(backoff_wait_ms(&b, t + 101 * MS), 100);
	/* min == max: a fixed period. */
	backoff_reset(&b);
	for (int i = 0; i < 5; i++) {
		ck_assert(backoff_try(&b, t + i * 300 * MS, 300, 300));
		ck_assert(!backoff_try(&b, t + (i * 300 + 299) * MS, 300, 300));
	}
	/* Bounds reloaded smaller: the next wait takes the new max. */
	backoff_reset(&b);
	for (int i = 0; i < 8; i++)
		ck_assert(backoff_try(&b, t + (int64_t)i * 3600000 * MS, 1000, 3600000));
	ck_assert(backoff_try(&b, t + 8LL * 3600000 * MS, 10, 50));
	ck_assert_int_eq(backoff_wait_ms(&b, t + 8LL * 3600000 * MS), 50);
}
END_TEST

Suite *suite_backoff(void)
{
	Suite *s = suite_create("backoff");
	TCase *tc = tcase_create("schedule");

	tcase_add_test(tc, test_backoff_schedule);
	tcase_add_test(tc, test_backoff_wait_reset_idle);
	suite_add_tcase(s, tc);
	return s;
}
