/* cmd_expect_failure.c — kgate-client expect-failure: pass only if a message is not delivered. */
#include <stdatomic.h>
#include <string.h>

#include "kc.h"

/* librdkafka scans for timed-out messages about once a second; expect-failure
 * gives its message this much less than the deadline so the failure is
 * reported before it. */
#define KC_TIMEOUT_SCAN_MS 1000

int kc_cmd_expect_failure(const struct kc_opts *o, struct kc_check *chk)
{
	struct kc_handle h = {0};
	static const char value[] = "kgate-client expect-failure: must not be delivered";
	long long timeout_ms = (long long)((kc_deadline - kc_now()) * 1000.0) - KC_TIMEOUT_SCAN_MS;
	int rc = -1;

	/* Idempotent like produce, so it fails the way a real client would. */
	if (kc_producer_new(&h, o, timeout_ms < 500 ? 500 : timeout_ms, true) < 0)
		return -1;
	atomic_store(&kc_phase, "waiting for the delivery report");
	if (kc_produce_msg(&h, o->topic, "expect-failure", value, strlen(value), NULL) < 0)
		goto out;
	while (h.delivered + h.failed == 0 && !kc_past_deadline())
		rd_kafka_poll(h.rk, 100);
	if (h.delivered) {
		kc_fail("the message was delivered (partition %d, offset %lld); expected delivery "
			"to fail", (int)h.dr_partition, (long long)h.dr_offset);
	} else {
		/* A failed delivery report, or none by the deadline (an idempotent
		 * producer may hold a message it cannot send): either way the
		 * message did not get through. */
		if (h.failed)
			printf("delivery error: %s\n", h.first_delivery_error);
		else
			printf("not delivered by the --timeout deadline (%d s)\n", kc_timeout_s);
		printf("delivery failed, as expected; the client's errors were:\n");
		for (int i = 0; i < h.n_errors; i++)
			printf("  %s\n", h.errors[i]);
		(void)kc_report_stats(&h, chk); /* whom it tried */
		rc = 0;
	}
out:
	rd_kafka_destroy(h.rk);
	return rc;
}
