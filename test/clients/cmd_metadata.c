/* cmd_metadata.c — kgate-client metadata: print (and check) the brokers Metadata lists. */
#include <stdatomic.h>

#include "kc.h"

int kc_cmd_metadata(const struct kc_opts *o, struct kc_check *chk)
{
	struct kc_handle h = {0};
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t err;
	int last_cnt = -1, rc = -1;

	/* Any handle can ask; a producer with nothing to send stays idle. */
	if (kc_producer_new(&h, o, KC_DEMO_MESSAGE_TIMEOUT_MS, false) < 0)
		return -1;
	atomic_store(&kc_phase, "asking for metadata");
	for (;;) {
		err = rd_kafka_metadata(h.rk, 0, NULL, &md,
					kc_call_timeout_ms(KC_METADATA_TIMEOUT_MS));
		if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			md = NULL;
			kc_note_error(&h, rd_kafka_err2name(err), "metadata request failed");
		} else if (!o->expect_count || md->broker_cnt == o->expect_count) {
			break;
		} else if (md->broker_cnt != last_cnt) {
			printf("metadata lists %d brokers; waiting for %lld\n", md->broker_cnt,
			       o->expect_count);
			last_cnt = md->broker_cnt;
		}
		if (kc_past_deadline()) {
			if (md)
				kc_fail("metadata lists %d brokers, not %lld, at the --timeout "
					"deadline (%d s)", md->broker_cnt, o->expect_count,
					kc_timeout_s);
			else
				kc_fail("no metadata by the --timeout deadline (%d s); last "
					"librdkafka error: %s", kc_timeout_s, kc_last_error(&h));
			(void)kc_report_stats(&h, chk); /* whom it tried */
			goto out;
		}
		if (md)
			rd_kafka_metadata_destroy(md);
		md = NULL;
		rd_kafka_poll(h.rk, 1000);
	}
	kc_report_metadata(&h, md, chk);
	atomic_store(&kc_phase, "reporting broker addresses");
	if (kc_wait_stats(&h, NULL, NULL) == 0 && kc_report_stats(&h, chk) == 0)
		rc = 0;
out:
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_destroy(h.rk);
	return rc;
}
