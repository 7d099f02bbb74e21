/* test_fifo.c — the in-flight request ring: order, growth, bound. */
#include "../../gateway/fifo.h"
#include "tests.h"

START_TEST(test_fifo_order_and_wrap)
{
	struct fifo f;
	struct fifo_entry e;
	int32_t next_in = 0, next_out = 0;

	fifo_init(&f, 1000);
	/* Interleave pushes and pops so the ring wraps while it grows. */
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 7 + round; i++) {
			e.correlation_id = next_in++;
			e.api_key = (int16_t)(e.correlation_id % 70);
			e.api_version = 3;
			ck_assert_int_eq(fifo_push(&f, &e), 0);
		}
		for (int i = 0; i < 5 + round; i++) {
			ck_assert_int_eq(fifo_pop(&f, &e), 0);
			ck_assert_int_eq(e.correlation_id, next_out);
			ck_assert_int_eq(e.api_key, next_out % 70);
			next_out++;
		}
	}
	while (fifo_pop(&f, &e) == 0)
		ck_assert_int_eq(e.correlation_id, next_out++);
	ck_assert_int_eq(next_out, next_in);
	fifo_free(&f);
}
END_TEST

START_TEST(test_fifo_bound)
{
	struct fifo f;
	struct fifo_entry e = {.correlation_id = 1};

	fifo_init(&f, 3);
	ck_assert_int_eq(fifo_push(&f, &e), 0);
	ck_assert_int_eq(fifo_push(&f, &e), 0);
	ck_assert_int_eq(fifo_push(&f, &e), 0);
	ck_assert(fifo_full(&f));
	ck_assert_int_eq(fifo_push(&f, &e), -1);
	ck_assert_int_eq(fifo_pop(&f, &e), 0);
	ck_assert(!fifo_full(&f));
	fifo_free(&f);
	ck_assert_int_eq(fifo_pop(&f, &e), -1);
}
END_TEST

Suite *suite_fifo(void)
{
	Suite *s = suite_create("fifo");
	TCase *tc = tcase_create("ring");

	tcase_add_test(tc, test_fifo_order_and_wrap);
	tcase_add_test(tc, test_fifo_bound);
	suite_add_tcase(s, tc);
	return s;
}
