/* bench_idle.c — what an idle client costs kgate: 1,000 clients connect
 * and say nothing, each linked to its own upstream connection (a scripted
 * broker that accepts and waits); kgate's resident memory before and after,
 * per pair.  Prints numbers; asserts nothing about them.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/fake_broker.h"
#include "../lib/harness.h"

#define CLIENTS 1000

/* Holds each connection open until the broker stops. */
static void hold(struct fake_broker *fb, int fd)
{
	char b[256];

	while (!fb->stop && read(fd, b, sizeof(b)) > 0)
		;
}

START_TEST(bench_idle_pairs)
{
	static int fds[CLIENTS];
	struct fake_broker fb;
	struct kgate kg;
	long before, after;
	int base_fds;
	int64_t deadline;

	fake_broker_start(&fb, hold, NULL);
	kgate_start_static(&kg, 1, fb.port, NULL);
	before = kgate_rss_kib(&kg, 0);
	base_fds = kgate_fd_count(&kg);
	for (int i = 0; i < CLIENTS; i++)
		fds[i] = raw_connect(kg.bootstrap_port);
	/* Every client accepted and its upstream connected: two descriptors
	 * each (the failsafe deadline only stops a broken run). */
	deadline = harness_now_ms() + 60000;
	while (kgate_fd_count(&kg) < base_fds + 2 * CLIENTS && harness_now_ms() < deadline)
		usleep(10000);
	after = kgate_rss_kib(&kg, 0);
	printf("%d idle client pairs: kgate RSS %ld KiB before, %ld KiB after: %.1f KiB per pair "
	       "(%d descriptors open)\n",
	       CLIENTS, before, after, (double)(after - before) / CLIENTS, kgate_fd_count(&kg));
	for (int i = 0; i < CLIENTS; i++)
		close(fds[i]);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	fake_broker_stop(&fb);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("idle");

	tcase_add_test(tc, bench_idle_pairs);
	tcase_set_timeout(tc, 300);
	return harness_run_case(tc) ? 1 : 0;
}
