/* kc.h — what kgate-client's files share: options, handles, the address check, deadlines. */
#ifndef KGATE_KC_H
#define KGATE_KC_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../lib/client_view.h"

/* kgate-client checks, from the client's own view, every broker address it used: from
 * Metadata and from its statistics (../lib/client_view.h says which entries count). */

#define KC_EXIT_FAIL 1
#define KC_EXIT_USAGE 2

#define KC_MAX_PARTITIONS 1024
#define KC_MAX_ADDRS 32
/* Distinct client errors shown per handle: a client retrying against a dead
 * broker repeats itself, and the first few say what is wrong. */
#define KC_MAX_ERRORS 16
#define KC_VALUE_LEN 100
/* The watchdog ends the process this long after --timeout: the command's own
 * loops stop at the deadline and say why; this bounds what comes after
 * (closing, destroying) when the cluster is gone. */
#define KC_GRACE_S 5
#define KC_DEMO_MESSAGE_TIMEOUT_MS 30000
#define KC_METADATA_TIMEOUT_MS 10000
#define KC_PROGRESS_S 10
/* Tags a demo run's messages, so records left in the topic by an earlier run
 * against the same kgate are told apart from ours. */
#define KC_RUN_HEADER "kgate-client-run"

enum kc_cmd { KC_DEMO, KC_PRODUCE, KC_CONSUME, KC_METADATA, KC_EXPECT_FAILURE, KC_N_CMDS };

/* Command-line options; integers are 0 when not given. */
#define KC_MAX_PROPS 16

struct kc_opts {
	enum kc_cmd cmd;
	const char *bootstrap;
	const char *topic;
	const char *expect; /* NULL: report addresses, check nothing */
	const char *group;
	long long count, start, rate, messages, partitions, members, expect_count, timeout_s;
	/* consume: duplicate ids tolerated (reported, not failed): a client
	 * that redelivers by design or by a known bug */
	long long allow_redelivery;
	bool verbose;
	/* --set NAME=VALUE: librdkafka properties for every handle (TLS, SASL) */
	const char *props[KC_MAX_PROPS];
	int n_props;
};

/* A comma-separated address list, split in place in buf. */
struct kc_addrs {
	char buf[1024];
	const char *addr[KC_MAX_ADDRS];
	size_t n;
};

/* The address check shared by all handles; bad lists each offender once. */
struct kc_check {
	const struct kc_addrs *expect; /* NULL: no --expect-brokers */
	const struct kc_addrs *bootstrap;
	char bad[KC_MAX_ADDRS][160];
	int n_bad;
	int n_reports; /* handles whose addresses were all printed */
};

/* Per-handle state, passed to every callback as the conf opaque.  Only the
 * thread polling the handle touches it while it is polled. */
struct kc_handle {
	char role[32]; /* "producer", "consumer 2", ... */
	rd_kafka_t *rk;
	int stats_seen; /* stats callbacks so far */
	struct client_view view; /* the latest statistics' brokers */
	char last_error[512];
	char errors[KC_MAX_ERRORS][256]; /* distinct ones, as shown */
	int n_errors;
	bool errors_capped; /* more distinct ones came than are kept */
	bool fatal;
	long long delivered, failed; /* producer's delivery reports */
	char first_delivery_error[256];
	int32_t dr_partition; /* where the last delivered message went */
	int64_t dr_offset;
};

/* Handles a message polled while waiting for something else. */
typedef void kc_take_fn(void *ctx, const rd_kafka_message_t *m);

/* A rebalance callback, as librdkafka takes it. */
typedef void kc_rebalance_fn(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			     rd_kafka_topic_partition_list_t *parts, void *opaque);

/* A command: runs it, reporting addresses to chk; 0 when every check held. */
typedef int kc_cmd_fn(const struct kc_opts *o, struct kc_check *chk);

/* ---- kc_common.c: deadlines, failure messages, locks, the watchdog ---- */

/* Set once (kc_cmd by kc_parse_args, the rest by main) before any other
 * thread starts. */
extern const char *kc_cmd;
extern double kc_deadline;
extern int kc_timeout_s;
/* What the command is doing, for the watchdog's message. */
extern _Atomic(const char *) kc_phase;

double kc_now(void);
bool kc_past_deadline(void);
int kc_call_timeout_ms(int cap_ms);
void kc_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kc_lock(pthread_mutex_t *m);
void kc_unlock(pthread_mutex_t *m);
int kc_watchdog_start(void);
void kc_format_id(long long id, char *key, size_t key_size, char value[KC_VALUE_LEN]);

/* ---- kc_opts.c: the command line ---- */

void kc_usage(FILE *f);
int kc_parse_args(int argc, char **argv, struct kc_opts *o);

/* ---- kc_check.c: --expect-brokers and the reports it checks ---- */

int kc_addrs_parse(const char *list, struct kc_addrs *a);
int kc_check_verdict(const struct kc_check *chk);
void kc_report_metadata(const struct kc_handle *h, const struct rd_kafka_metadata *md,
			struct kc_check *chk);
int kc_report_stats(const struct kc_handle *h, struct kc_check *chk);
int kc_report(struct kc_handle *h, struct kc_check *chk);

/* ---- kc_handle.c: librdkafka handles and their callbacks ---- */

void kc_note_error(struct kc_handle *h, const char *name, const char *reason);
const char *kc_last_error(const struct kc_handle *h);
int kc_handle_new(struct kc_handle *h, rd_kafka_type_t type, const struct kc_opts *o,
		  const char *const extra[][2], size_t n_extra, kc_rebalance_fn *rebalance_cb);
int kc_wait_stats(struct kc_handle *h, kc_take_fn *take, void *ctx);
int kc_producer_new(struct kc_handle *h, const struct kc_opts *o, long long message_timeout_ms,
		    bool idempotent);
int kc_produce_msg(struct kc_handle *h, const char *topic, const char *key, const char *value,
		   size_t len, const char *run_id);
int kc_producer_wait(struct kc_handle *h, long long expected);
int kc_subscribe(struct kc_handle *h, const char *topic);

/* ---- the commands: cmd_*.c ---- */

kc_cmd_fn kc_cmd_demo, kc_cmd_produce, kc_cmd_consume, kc_cmd_metadata, kc_cmd_expect_failure;

#endif
