/* cmd_consume.c — kgate-client consume: a group of M consumers reads a known set of ids. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kc_group.h"

int kc_cmd_consume(const struct kc_opts *o, struct kc_check *chk)
{
	const char *const extra[][2] = {
		{"group.id", o->group},
		{"auto.offset.reset", "earliest"},
		{"enable.auto.commit", "true"},
	};
	struct kc_group *g = calloc(1, sizeof(*g));
	int started = 0, rc = -1, err;
	double next_progress;
	bool consumed, ok;

	if (!g || !(g->seen = calloc((size_t)o->count, 1)) ||
	    !(g->members = calloc((size_t)o->members, sizeof(*g->members)))) {
		kc_fail("out of memory");
		goto out;
	}
	g->o = o;
	if ((err = pthread_mutex_init(&g->lock, NULL)) != 0) {
		kc_fail("pthread_mutex_init: %s", strerror(err));
		goto out;
	}
	for (int p = 0; p < KC_MAX_PARTITIONS; p++)
		g->last_id[p] = -1;
	for (int i = 0; i < o->members; i++) {
		struct kc_member *mb = &g->members[i];

		*mb = (struct kc_member){.g = g};
		snprintf(mb->h.role, sizeof(mb->h.role), "consumer %d", i + 1);
		if (kc_handle_new(&mb->h, RD_KAFKA_CONSUMER, o, extra, 3, kc_rebalance_cb) < 0)
			goto stop;
		if (kc_subscribe(&mb->h, o->topic) < 0)
			goto stop;
	}
	atomic_store(&kc_phase, "consuming");
	g->t_begin = kc_now();
	for (; started < o->members; started++) {
		err = pthread_create(&g->members[started].thread, NULL, kc_member_run,
				     &g->members[started]);
		if (err != 0) {
			kc_fail("pthread_create: %s", strerror(err));
			atomic_store(&g->stop, true);
			goto stop;
		}
	}
	/* The members' threads stop on the same conditions. */
	next_progress = g->t_begin + KC_PROGRESS_S;
	while (!atomic_load(&g->done) && !atomic_load(&g->stop) && !kc_past_deadline()) {
		usleep(100 * 1000);
		if (kc_now() >= next_progress) {
			kc_lock(&g->lock);
			printf("consumers: %lld of %lld ids so far\n", g->distinct, o->count);
			kc_unlock(&g->lock);
			next_progress += KC_PROGRESS_S;
		}
	}
stop:
	for (int i = 0; i < started; i++)
		if ((err = pthread_join(g->members[i].thread, NULL)) != 0)
			kc_fail("pthread_join: %s", strerror(err)); /* cannot happen */
	consumed = started == o->members && kc_group_verdict(g) == 0;
	ok = consumed;
	atomic_store(&kc_phase, "reporting broker addresses");
	for (int i = 0; i < o->members; i++) {
		struct kc_member *mb = &g->members[i];

		if (consumed)
			ok = !mb->finish_failed && kc_report(&mb->h, chk) == 0 && ok;
		else if (mb->h.rk)
			(void)kc_report_stats(&mb->h, chk); /* whom it tried */
	}
	atomic_store(&kc_phase, "closing the consumers");
	for (int i = 0; i < o->members; i++) {
		struct kc_member *mb = &g->members[i];

		if (!mb->h.rk)
			continue;
		/* Closing commits the final offsets; after a failure it could
		 * wait on a dead coordinator, and there is nothing to keep. */
		if (!consumed) {
			rd_kafka_destroy_flags(mb->h.rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
			continue;
		}
		err = rd_kafka_consumer_close(mb->h.rk);
		if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			kc_fail("%s: close: %s", mb->h.role,
				rd_kafka_err2str((rd_kafka_resp_err_t)err));
			ok = false;
		}
		rd_kafka_destroy(mb->h.rk);
	}
	rc = ok ? 0 : -1;
	if (pthread_mutex_destroy(&g->lock) != 0)
		rc = -1;
out:
	if (g) {
		free(g->members);
		free(g->seen);
	}
	free(g);
	return rc;
}
