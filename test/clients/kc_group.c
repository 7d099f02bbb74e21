/* kc_group.c — kgate-client consume's group: members, rebalances, a check of every record. */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kc_group.h"

/* Each flaw as kc_group_verdict names it. */
static const char *const kc_flaw_names[KC_N_FLAWS] = {
	"malformed records", "ids outside --start..--start+--count-1", "duplicate ids",
	"ids not increasing within their partition"};

static struct kc_member *kc_member_of(void *opaque)
{
	return (struct kc_member *)((char *)opaque - offsetof(struct kc_member, h));
}

/* "0,2,5" (or "none") into buf. */
static void kc_partitions_str(const rd_kafka_topic_partition_list_t *parts, char *buf,
			      size_t size)
{
	size_t len = 0;

	snprintf(buf, size, "none");
	for (int i = 0; parts && i < parts->cnt && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%d", i ? "," : "",
					parts->elems[i].partition);
}

/* Pauses (until the group has formed) or resumes the given partitions. */
static void kc_member_hold(struct kc_member *mb, rd_kafka_topic_partition_list_t *parts,
			   bool hold)
{
	rd_kafka_resp_err_t err = hold ? rd_kafka_pause_partitions(mb->h.rk, parts)
				       : rd_kafka_resume_partitions(mb->h.rk, parts);

	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		kc_note_error(&mb->h, rd_kafka_err2name(err), hold ? "pause failed"
								  : "resume failed");
	mb->paused = hold && err == RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* Commits what was consumed before giving partitions up, synchronously, so
 * their next owner starts after it: no redelivery to count as duplicates.
 * The group uses librdkafka's default assignors (range, roundrobin), so the
 * eager protocol: a rebalance revokes everything, then assigns anew. */
void kc_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
		     rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct kc_member *mb = kc_member_of(opaque);
	rd_kafka_resp_err_t aerr;
	int n_assigned = 0;
	char list[512];

	kc_partitions_str(parts, list, sizeof(list));
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		printf("%s: assigned partitions %s\n", mb->h.role, list);
		aerr = rd_kafka_assign(rk, parts);
		if (aerr == RD_KAFKA_RESP_ERR_NO_ERROR) {
			for (int i = 0; i < parts->cnt; i++) {
				int p = parts->elems[i].partition;

				if (p >= 0 && p < KC_MAX_PARTITIONS)
					mb->ever[p / 8] |= (unsigned char)(1u << (p % 8));
				mb->ever_assigned = true;
			}
			/* Resuming also clears a hold left from an earlier
			 * assignment of the same partition. */
			kc_member_hold(mb, parts, !atomic_load(&mb->g->started));
			n_assigned = parts->cnt;
		}
	} else {
		if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
			printf("%s: revoked partitions %s\n", mb->h.role, list);
		else
			kc_note_error(&mb->h, rd_kafka_err2name(err), "rebalance error");
		/* Lost partitions already have another owner: no commit. */
		if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !mb->closing &&
		    !rd_kafka_assignment_lost(rk) &&
		    (aerr = rd_kafka_commit(rk, NULL, 0)) != RD_KAFKA_RESP_ERR_NO_ERROR &&
		    aerr != RD_KAFKA_RESP_ERR__NO_OFFSET)
			kc_note_error(&mb->h, rd_kafka_err2name(aerr),
				      "commit on revoke failed (redelivery possible)");
		aerr = rd_kafka_assign(rk, NULL);
	}
	if (aerr != RD_KAFKA_RESP_ERR_NO_ERROR)
		kc_note_error(&mb->h, rd_kafka_err2name(aerr), "assign failed");
	/* Counted after the hold above, so the group cannot be declared formed
	 * before this member's partitions are held. */
	kc_lock(&mb->g->lock);
	mb->n_assigned = n_assigned;
	kc_unlock(&mb->g->lock);
}

/* Checks a record is one of ours: key "%lld", value the same padded with
 * '.' to KC_VALUE_LEN, in --topic.  Sets *id, or why. */
static bool kc_parse_record(const rd_kafka_message_t *m, const char *topic, long long *id,
			    char *why, size_t why_size)
{
	char key[32], want_key[32], want_value[KC_VALUE_LEN];
	char *end;

	if (strcmp(rd_kafka_topic_name(m->rkt), topic) != 0) {
		snprintf(why, why_size, "from topic \"%s\"", rd_kafka_topic_name(m->rkt));
		return false;
	}
	if (!m->key || m->key_len == 0 || m->key_len >= sizeof(key)) {
		snprintf(why, why_size, "key of %zu bytes", m->key ? m->key_len : 0);
		return false;
	}
	memcpy(key, m->key, m->key_len);
	key[m->key_len] = '\0';
	errno = 0;
	*id = strtoll(key, &end, 10);
	if (*end || errno || *id < 0) {
		snprintf(why, why_size, "key \"%s\" is not an id", key);
		return false;
	}
	kc_format_id(*id, want_key, sizeof(want_key), want_value);
	if (strcmp(key, want_key) != 0 || m->len != KC_VALUE_LEN || !m->payload ||
	    memcmp(m->payload, want_value, KC_VALUE_LEN) != 0) {
		snprintf(why, why_size, "key \"%s\" with a value of %zu bytes starting \"%.*s\"",
			 key, m->len, m->len < 24 ? (int)m->len : 24,
			 m->payload ? (const char *)m->payload : "");
		return false;
	}
	return true;
}

/* Counts a flaw; keeps the first few as examples. */
static void kc_group_flaw(struct kc_group *g, enum kc_flaw f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void kc_group_flaw(struct kc_group *g, enum kc_flaw f, const char *fmt, ...)
{
	va_list ap;

	if (g->flaws[f] < KC_MAX_EXAMPLES) {
		va_start(ap, fmt);
		vsnprintf(g->examples[f][g->flaws[f]], sizeof(g->examples[f][0]), fmt, ap);
		va_end(ap);
	}
	g->flaws[f]++;
}

/* Checks and counts one polled message. */
static void kc_group_take(void *ctx, const rd_kafka_message_t *m)
{
	struct kc_member *mb = ctx;
	struct kc_group *g = mb->g;
	const struct kc_opts *o = g->o;
	char why[160], where[96];
	long long id = -1;
	bool ok;
	int p = m->partition;

	if (m->err) {
		/* Mostly transient (topic or coordinator not yet known, a
		 * broker restarting): keep polling; the deadline bounds it. */
		if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
			kc_note_error(&mb->h, rd_kafka_err2name(m->err),
				      rd_kafka_message_errstr(m));
		return;
	}
	mb->consumed++;
	ok = kc_parse_record(m, o->topic, &id, why, sizeof(why));
	snprintf(where, sizeof(where), "partition %d offset %lld, %s", p, (long long)m->offset,
		 mb->h.role);
	kc_lock(&g->lock);
	if (!ok)
		kc_group_flaw(g, KC_MALFORMED, "%s (%s)", why, where);
	else if (id < o->start || id - o->start >= o->count)
		kc_group_flaw(g, KC_OUT_OF_RANGE, "id %lld (%s)", id, where);
	else if (g->seen[id - o->start] > 0)
		kc_group_flaw(g, KC_DUPLICATE, "id %lld again (%s)", id, where);
	else if (p < 0 || p >= KC_MAX_PARTITIONS)
		kc_group_flaw(g, KC_MALFORMED, "partition beyond the %d tracked (%s)",
			      KC_MAX_PARTITIONS, where);
	if (ok && id >= o->start && id - o->start < o->count) {
		if (g->seen[id - o->start] < 255)
			g->seen[id - o->start]++;
		/* A duplicate is reported as such, not also as out of order. */
		if (g->seen[id - o->start] == 1 && p >= 0 && p < KC_MAX_PARTITIONS) {
			if (id <= g->last_id[p])
				kc_group_flaw(g, KC_OUT_OF_ORDER, "id %lld after id %lld (%s)", id,
					      g->last_id[p], where);
			g->last_id[p] = id;
		}
		if (g->seen[id - o->start] == 1 && ++g->distinct == o->count) {
			g->t_done = kc_now();
			atomic_store(&g->done, true);
		}
	}
	kc_unlock(&g->lock);
}

/* Declares the group formed once every member holds partitions at once. */
static void kc_group_try_start(struct kc_group *g)
{
	int with = 0;

	kc_lock(&g->lock);
	for (int i = 0; i < g->o->members; i++)
		with += g->members[i].n_assigned > 0;
	if (with == g->o->members && !atomic_load(&g->started)) {
		g->t_started = kc_now();
		atomic_store(&g->started, true);
		printf("group \"%s\": all %lld members have partitions after %.2f s; consuming\n",
		       g->o->group, g->o->members, g->t_started - g->t_begin);
	}
	kc_unlock(&g->lock);
}

/* Once every id arrived: fresh statistics for the address report, still
 * checking whatever arrives meanwhile (a late duplicate would show here),
 * then a commit while the whole group is still in: members leaving one by
 * one rebalance it, and a commit then fails, leaving the group's offsets
 * behind what was consumed for whoever uses it next. */
static int kc_member_finish(struct kc_member *mb)
{
	rd_kafka_resp_err_t err;
	rd_kafka_message_t *m;

	if (kc_wait_stats(&mb->h, kc_group_take, mb) < 0)
		return -1;
	while ((err = rd_kafka_commit(mb->h.rk, NULL, 0)) != RD_KAFKA_RESP_ERR_NO_ERROR &&
	       err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
		kc_note_error(&mb->h, rd_kafka_err2name(err), "final commit failed; retrying");
		if (kc_past_deadline()) {
			kc_fail("%s: final commit failed at the --timeout deadline: %s",
				mb->h.role, rd_kafka_err2str(err));
			return -1;
		}
		/* A rebalance in progress needs polling to complete. */
		if ((m = rd_kafka_consumer_poll(mb->h.rk, 200)) != NULL) {
			kc_group_take(mb, m);
			rd_kafka_message_destroy(m);
		}
	}
	mb->closing = true;
	return 0;
}

void *kc_member_run(void *arg)
{
	struct kc_member *mb = arg;
	struct kc_group *g = mb->g;
	rd_kafka_topic_partition_list_t *now;
	rd_kafka_message_t *m;

	while (!atomic_load(&g->done) && !atomic_load(&g->stop) && !kc_past_deadline()) {
		if (!atomic_load(&g->started))
			kc_group_try_start(g);
		if (mb->paused && atomic_load(&g->started) &&
		    rd_kafka_assignment(mb->h.rk, &now) == RD_KAFKA_RESP_ERR_NO_ERROR) {
			kc_member_hold(mb, now, false);
			rd_kafka_topic_partition_list_destroy(now);
		}
		m = rd_kafka_consumer_poll(mb->h.rk, 100);
		if (m) {
			kc_group_take(mb, m);
			rd_kafka_message_destroy(m);
		}
		if (mb->h.fatal)
			atomic_store(&g->stop, true);
	}
	if (atomic_load(&g->done))
		mb->finish_failed = kc_member_finish(mb) < 0;
	return NULL;
}

/* "1:[0,2] 2:[1]" into buf: the partitions each member ever had. */
static void kc_group_partitions_str(const struct kc_group *g, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < g->o->members && len < size; i++) {
		const struct kc_member *mb = &g->members[i];
		int n = 0;

		len += (size_t)snprintf(buf + len, size - len, "%s%d:[", i ? " " : "", i + 1);
		for (int p = 0; p < KC_MAX_PARTITIONS && len < size; p++)
			if (mb->ever[p / 8] & (1u << (p % 8)))
				len += (size_t)snprintf(buf + len, size - len, "%s%d",
							n++ ? "," : "", p);
		if (len < size)
			len += (size_t)snprintf(buf + len, size - len, "]");
	}
}

/* Everything the group's consumption must satisfy; 0 when it all holds. */
int kc_group_verdict(const struct kc_group *g)
{
	const struct kc_opts *o = g->o;
	char list[1024] = "", parts[2048];
	size_t len = 0;
	int rc = 0;

	if (!atomic_load(&g->done)) {
		const char *last = "none";

		for (int i = 0; i < o->members && len < sizeof(list); i++) {
			if (g->members[i].n_assigned == 0)
				len += (size_t)snprintf(list + len, sizeof(list) - len, " %d", i + 1);
			if (g->members[i].h.last_error[0])
				last = g->members[i].h.last_error;
		}
		if (atomic_load(&g->stop))
			kc_fail("fatal client error (%s); %lld of %lld ids arrived", last,
				g->distinct, o->count);
		else if (!atomic_load(&g->started))
			kc_fail("gave up at the --timeout deadline (%d s): the group never had "
				"partitions for every member (without:%s); last librdkafka error: "
				"%s", kc_timeout_s, list, last);
		else
			kc_fail("gave up at the --timeout deadline (%d s): %lld of %lld ids "
				"arrived; last librdkafka error: %s", kc_timeout_s, g->distinct,
				o->count, last);
		rc = -1;
	} else {
		kc_group_partitions_str(g, parts, sizeof(parts));
		printf("consumed %lld messages with %lld members: partitions per member %s, "
		       "%.2f s\n", o->count, o->members, parts,
		       g->t_done - (g->t_started > 0 ? g->t_started : g->t_begin));
	}
	len = 0;
	for (int i = 0; i < o->members && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%d:%lld", i ? " " : "",
					i + 1, g->members[i].consumed);
	printf("messages per member %s\n", list);
	for (int f = 0; f < KC_N_FLAWS; f++) {
		if (!g->flaws[f])
			continue;
		len = 0;
		for (int e = 0; e < KC_MAX_EXAMPLES && e < g->flaws[f] && len < sizeof(list); e++)
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
						e ? "; " : "", g->examples[f][e]);
		if (f == KC_DUPLICATE && g->flaws[f] <= o->allow_redelivery) {
			printf("redelivered: %lld ids (at most %lld allowed), first: %s\n",
			       g->flaws[f], o->allow_redelivery, list);
			continue;
		}
		kc_fail("%lld %s, first: %s", g->flaws[f], kc_flaw_names[f], list);
		rc = -1;
	}
	if (o->members >= 2) {
		len = 0;
		for (int i = 0; i < o->members && len < sizeof(list); i++)
			if (!g->members[i].ever_assigned)
				len += (size_t)snprintf(list + len, sizeof(list) - len, " %d", i + 1);
		if (len) {
			kc_fail("members never assigned a partition:%s", list);
			rc = -1;
		}
	}
	return rc;
}
