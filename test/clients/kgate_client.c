/* kgate_client.c — librdkafka test clients that check, from the client's own view, every broker address they used. */
#include <errno.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/client_view.h"

#define KC_EXIT_FAIL 1
#define KC_EXIT_USAGE 2

#define KC_MAX_MESSAGES 100000 /* demo's --messages */
/* consume keeps one byte per expected id. */
#define KC_MAX_COUNT 100000000LL
#define KC_MAX_START 1000000000000000LL
#define KC_MAX_MEMBERS 64
#define KC_MAX_PARTITIONS 1024
#define KC_MAX_ADDRS 32
/* Distinct client errors shown per handle: a client retrying against a dead
 * broker repeats itself, and the first few say what is wrong. */
#define KC_MAX_ERRORS 16
#define KC_MAX_EXAMPLES 3
#define KC_VALUE_LEN 100
#define KC_DEFAULT_TIMEOUT_S 120
#define KC_EXPECT_FAILURE_TIMEOUT_S 20
/* The watchdog ends the process this long after --timeout: the command's own
 * loops stop at the deadline and say why; this bounds what comes after
 * (closing, destroying) when the cluster is gone. */
#define KC_GRACE_S 5
/* librdkafka scans for timed-out messages about once a second; expect-failure
 * gives its message this much less than the deadline so the failure is
 * reported before it. */
#define KC_TIMEOUT_SCAN_MS 1000
#define KC_DEMO_MESSAGE_TIMEOUT_MS 30000
#define KC_STATS_DEADLINE_S 15
#define KC_METADATA_TIMEOUT_MS 10000
#define KC_PROGRESS_S 10
#define KC_STATS_INTERVAL_MS "500"
/* Tags a demo run's messages, so records left in the topic by an earlier run
 * against the same kgate are told apart from ours. */
#define KC_RUN_HEADER "kgate-client-run"

enum kc_cmd { KC_DEMO, KC_PRODUCE, KC_CONSUME, KC_METADATA, KC_EXPECT_FAILURE, KC_N_CMDS };

static const char *const kc_cmd_names[KC_N_CMDS] = {"demo", "produce", "consume", "metadata",
						     "expect-failure"};

/* Command-line options; integers are 0 when not given. */
#define KC_MAX_PROPS 16

struct kc_opts {
	enum kc_cmd cmd;
	const char *bootstrap;
	const char *topic;
	const char *expect; /* NULL: report addresses, check nothing */
	const char *group;
	long long count, start, rate, messages, partitions, members, expect_count, timeout_s;
	bool verbose;
	/* --set NAME=VALUE: librdkafka properties for every handle (TLS, SASL) */
	const char *props[KC_MAX_PROPS];
	int n_props;
};

#define KC_IN(cmd) (1u << (cmd))
#define KC_ALL ((1u << KC_N_CMDS) - 1)
#define KC_STR(field) offsetof(struct kc_opts, field), 1, 0
#define KC_INT(field, min, max) offsetof(struct kc_opts, field), min, max

/* An option: the commands that take it and those that require it, and the
 * field it sets: a string, or (min <= max) an integer in that range. */
struct kc_optdef {
	const char *name;
	unsigned takes, requires;
	size_t field;
	long long min, max;
};

/* --verbose and --help come first: the two without an argument. */
static const struct kc_optdef kc_optdefs[] = {
	{"verbose", KC_ALL, 0, 0, 0, 0},
	{"help", KC_ALL, 0, 0, 0, 0},
	{"bootstrap", KC_ALL, KC_ALL, KC_STR(bootstrap)},
	{"topic", KC_ALL & ~KC_IN(KC_METADATA), KC_ALL & ~KC_IN(KC_METADATA) & ~KC_IN(KC_DEMO),
	 KC_STR(topic)},
	/* expect-failure's client tries addresses it cannot use, by design. */
	{"expect-brokers", KC_ALL & ~KC_IN(KC_EXPECT_FAILURE), 0, KC_STR(expect)},
	{"timeout", KC_ALL, 0, KC_INT(timeout_s, 1, 86400)},
	{"messages", KC_IN(KC_DEMO), 0, KC_INT(messages, 1, KC_MAX_MESSAGES)},
	{"count", KC_IN(KC_PRODUCE) | KC_IN(KC_CONSUME), KC_IN(KC_PRODUCE) | KC_IN(KC_CONSUME),
	 KC_INT(count, 1, KC_MAX_COUNT)},
	{"start", KC_IN(KC_PRODUCE) | KC_IN(KC_CONSUME), 0, KC_INT(start, 0, KC_MAX_START)},
	{"partitions", KC_IN(KC_PRODUCE), 0, KC_INT(partitions, 1, KC_MAX_PARTITIONS)},
	{"rate", KC_IN(KC_PRODUCE), 0, KC_INT(rate, 0, 10000000)},
	{"group", KC_IN(KC_CONSUME), KC_IN(KC_CONSUME), KC_STR(group)},
	{"members", KC_IN(KC_CONSUME), 0, KC_INT(members, 1, KC_MAX_MEMBERS)},
	{"expect-count", KC_IN(KC_METADATA), 0, KC_INT(expect_count, 1, 10000)},
	/* Handled in kc_parse: collected, not stored in one field. */
	{"set", KC_ALL, 0, 0, 0, 0},
};

#define KC_N_OPTS (sizeof(kc_optdefs) / sizeof(kc_optdefs[0]))

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

/* Set once by main before any other thread starts. */
static const char *kc_cmd = "kgate-client";
static double kc_deadline;
static int kc_timeout_s;
static struct timespec kc_watchdog_at;
/* What the command is doing, for the watchdog's message. */
static _Atomic(const char *) kc_phase = "starting";

static double kc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool kc_past_deadline(void)
{
	return kc_now() >= kc_deadline;
}

/* A blocking call's timeout: cap, or what is left before the deadline. */
static int kc_call_timeout_ms(int cap_ms)
{
	double left_ms = (kc_deadline - kc_now()) * 1000.0;

	return left_ms < 1.0 ? 1 : left_ms < cap_ms ? (int)left_ms : cap_ms;
}

/* The one-line reason a check failed, on stderr in one write. */
__attribute__((format(printf, 1, 2))) static void kc_fail(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "kgate-client: %s: %s\n", kc_cmd, line);
}

static void kc_lock(pthread_mutex_t *m)
{
	if (pthread_mutex_lock(m) != 0)
		abort(); /* only a corrupted mutex fails; nothing sane is left */
}

static void kc_unlock(pthread_mutex_t *m)
{
	if (pthread_mutex_unlock(m) != 0)
		abort();
}

/* Ends the process if the command outlives its deadline: a librdkafka call
 * that blocks (closing against a dead cluster) must not hang the test. */
static void *kc_watchdog(void *arg)
{
	(void)arg;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &kc_watchdog_at, NULL) == EINTR)
		;
	fprintf(stderr, "kgate-client: %s: still running %d s past the --timeout deadline "
			"(%d s) while %s; giving up\n", kc_cmd, KC_GRACE_S, kc_timeout_s,
		atomic_load(&kc_phase));
	_exit(KC_EXIT_FAIL);
	return NULL;
}

static int kc_watchdog_start(void)
{
	pthread_t t;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &kc_watchdog_at);
	kc_watchdog_at.tv_sec += kc_timeout_s + KC_GRACE_S;
	err = pthread_create(&t, NULL, kc_watchdog, NULL);
	if (err == 0)
		err = pthread_detach(t);
	if (err != 0) {
		kc_fail("cannot start the watchdog thread: %s", strerror(err));
		return -1;
	}
	return 0;
}

static void kc_usage(FILE *f)
{
	fprintf(f,
		"usage: kgate-client COMMAND --bootstrap HOST:PORT[,HOST:PORT...] [OPTIONS]\n"
		"commands:\n"
		"  demo [--topic demo] [--messages 10]\n"
		"      produce and consume tagged messages; check each arrived once\n"
		"  produce --topic T --count N [--start 0] [--partitions P] [--rate MSGS_PER_S]\n"
		"      idempotent producer of ids S..S+N-1 (key: the id; value: the id\n"
		"      padded with '.' to %d bytes); every delivery must succeed.\n"
		"      --partitions creates the topic with P partitions unless it exists\n"
		"      (it must then have P); --rate 0 is as fast as possible\n"
		"  consume --topic T --count N [--start 0] --group G [--members 1]\n"
		"      a group of M consumers until ids S..S+N-1 have arrived: each once,\n"
		"      well-formed, increasing within each partition; with M >= 2 every\n"
		"      member must have been assigned a partition\n"
		"  metadata [--expect-count K]\n"
		"      print the brokers Metadata lists; with K, retry until it lists K\n"
		"  expect-failure --topic T\n"
		"      produce one message; succeed only if its delivery fails, printing\n"
		"      the client's errors\n"
		"options:\n"
		"  --expect-brokers HOST:PORT,...  every broker address the client used\n"
		"                   must be listed or be a --bootstrap address\n"
		"  --timeout SECONDS  failsafe deadline for the whole command (default %d,\n"
		"                   expect-failure %d); the process ends at most %d s later\n"
		"  --set NAME=VALUE  a librdkafka property for every handle (repeatable),\n"
		"                   e.g. security.protocol=ssl\n"
		"  --verbose        librdkafka's log on stderr\n"
		"exit status: 0 every check held, 1 a check failed (reason on stderr),\n"
		"2 usage error\n",
		KC_VALUE_LEN, KC_DEFAULT_TIMEOUT_S, KC_EXPECT_FAILURE_TIMEOUT_S, KC_GRACE_S);
}

/* Splits a comma-separated list; fails on an empty list or entry. */
static int kc_addrs_parse(const char *list, struct kc_addrs *a)
{
	char *save = NULL, *tok;

	a->n = 0;
	if (strlen(list) >= sizeof(a->buf) || !*list || strstr(list, ",,") ||
	    list[0] == ',' || list[strlen(list) - 1] == ',')
		return -1;
	strcpy(a->buf, list);
	for (tok = strtok_r(a->buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (a->n == KC_MAX_ADDRS)
			return -1;
		a->addr[a->n++] = tok;
	}
	return 0;
}

static bool kc_addrs_contains(const struct kc_addrs *a, const char *addr)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->addr[i], addr) == 0)
			return true;
	return false;
}

/* Checks one address the client used; returns the note to print after it. */
static const char *kc_check_addr(struct kc_check *chk, const char *addr)
{
	int i;

	if (!chk->expect)
		return "";
	if (kc_addrs_contains(chk->expect, addr) || kc_addrs_contains(chk->bootstrap, addr))
		return "  ok";
	for (i = 0; i < chk->n_bad && strcmp(chk->bad[i], addr) != 0; i++)
		;
	/* Past KC_MAX_ADDRS offenders the check has failed anyway. */
	if (i == chk->n_bad && i < KC_MAX_ADDRS)
		snprintf(chk->bad[chk->n_bad++], sizeof(chk->bad[0]), "%s", addr);
	return "  <- NOT in --expect-brokers";
}

/* The address check's verdict, once every handle has been reported. */
static int kc_check_verdict(const struct kc_check *chk)
{
	char list[1024] = "";
	size_t len = 0;

	if (!chk->expect)
		return 0;
	if (chk->n_bad == 0) {
		printf("OK: every broker address the client used is in --expect-brokers "
		       "or --bootstrap\n");
		return 0;
	}
	for (int i = 0; i < chk->n_bad && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, " %s", chk->bad[i]);
	kc_fail("the client used broker addresses not in --expect-brokers:%s", list);
	return -1;
}

/* Stores one option's argument; -1 on a bad value (explained). */
static int kc_set_opt(struct kc_opts *o, const struct kc_optdef *d, const char *arg)
{
	char *end;
	long long v;

	if (d->min > d->max) {
		*(const char **)((char *)o + d->field) = arg;
		return 0;
	}
	errno = 0;
	v = strtoll(arg, &end, 10);
	if (!*arg || *end || errno || v < d->min || v > d->max) {
		fprintf(stderr, "kgate-client: --%s \"%s\": expected an integer %lld..%lld\n",
			d->name, arg, d->min, d->max);
		return -1;
	}
	*(long long *)((char *)o + d->field) = v;
	return 0;
}

/* Returns 0, 1 for --help, or -1 on a usage error (already explained). */
static int kc_parse_args(int argc, char **argv, struct kc_opts *o)
{
	struct option longopts[KC_N_OPTS + 1] = {{0}};
	unsigned long seen = 0;
	int c, cmd;

	*o = (struct kc_opts){0};
	for (size_t i = 0; i < KC_N_OPTS; i++)
		longopts[i] = (struct option){kc_optdefs[i].name, i < 2 ? no_argument
									: required_argument,
					      NULL, (int)i};
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return 1;
	for (cmd = 0; cmd < KC_N_CMDS && (argc < 2 || strcmp(argv[1], kc_cmd_names[cmd])); cmd++)
		;
	if (cmd == KC_N_CMDS) {
		fprintf(stderr, "kgate-client: expected a command: demo, produce, consume, "
				"metadata or expect-failure\n");
		return -1;
	}
	o->cmd = (enum kc_cmd)cmd;
	kc_cmd = kc_cmd_names[cmd];
	/* Parse from the command on, with the program's name in its slot so
	 * that getopt_long's own messages name the program. */
	argv[1] = argv[0];
	while ((c = getopt_long(argc - 1, argv + 1, "", longopts, NULL)) != -1) {
		if (c < 0 || (size_t)c >= KC_N_OPTS)
			return -1; /* getopt_long has said what was wrong */
		if (!(kc_optdefs[c].takes & KC_IN(cmd))) {
			fprintf(stderr, "kgate-client: %s does not take --%s\n", kc_cmd,
				kc_optdefs[c].name);
			return -1;
		}
		seen |= 1ul << c;
		if (c == 1)
			return 1;
		if (c == 0) {
			o->verbose = true;
		} else if (strcmp(kc_optdefs[c].name, "set") == 0) {
			if (o->n_props == KC_MAX_PROPS || !strchr(optarg, '=')) {
				fprintf(stderr, "kgate-client: --set NAME=VALUE (at most %d)\n",
					KC_MAX_PROPS);
				return -1;
			}
			o->props[o->n_props++] = optarg;
		} else if (kc_set_opt(o, &kc_optdefs[c], optarg) < 0) {
			return -1;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "kgate-client: unexpected argument \"%s\"\n", argv[optind + 1]);
		return -1;
	}
	for (size_t i = 0; i < KC_N_OPTS; i++)
		if ((kc_optdefs[i].requires & KC_IN(cmd)) && !(seen & (1ul << i))) {
			fprintf(stderr, "kgate-client: %s needs --%s\n", kc_cmd, kc_optdefs[i].name);
			return -1;
		}
	if ((o->bootstrap && !*o->bootstrap) || (o->topic && !*o->topic) ||
	    (o->group && !*o->group)) {
		fprintf(stderr, "kgate-client: %s: empty --bootstrap, --topic or --group\n", kc_cmd);
		return -1;
	}
	o->topic = o->topic ? o->topic : "demo";
	o->messages = o->messages ? o->messages : 10;
	o->members = o->members ? o->members : 1;
	if (!o->timeout_s)
		o->timeout_s = cmd == KC_EXPECT_FAILURE ? KC_EXPECT_FAILURE_TIMEOUT_S
							: KC_DEFAULT_TIMEOUT_S;
	return 0;
}

/* Only with --verbose; rk may be NULL here. */
static void kc_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	fprintf(stderr, "librdkafka %d %s %s: %s\n", level, rk ? rd_kafka_name(rk) : "-", fac,
		buf);
}

/* Keeps the error so a failure can say why, and shows each distinct one as
 * it comes: a client retrying against a dead broker is otherwise silent.
 * They go to stdout: stderr is for the reasons a check failed. */
static void kc_note_error(struct kc_handle *h, const char *name, const char *reason)
{
	int i;

	snprintf(h->last_error, sizeof(h->last_error), "%s: %s", name, reason);
	for (i = 0; i < h->n_errors && strcmp(h->errors[i], h->last_error) != 0; i++)
		;
	if (i < h->n_errors || h->errors_capped)
		return;
	if (h->n_errors == KC_MAX_ERRORS) {
		h->errors_capped = true;
		printf("%s: (more distinct librdkafka errors not shown)\n", h->role);
		return;
	}
	snprintf(h->errors[h->n_errors++], sizeof(h->errors[0]), "%s", h->last_error);
	printf("%s: librdkafka error: %s\n", h->role, h->last_error);
}

/* Transient errors (a broker restarting, a gateway gone for a while) are
 * only noted: librdkafka retries them.  A fatal one ends the command. */
static void kc_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kc_handle *h = opaque;
	char fatal[256];

	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		h->fatal = true;
		err = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		reason = fatal;
	}
	kc_note_error(h, rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static const char *kc_last_error(const struct kc_handle *h)
{
	return h->last_error[0] ? h->last_error : "none";
}

/* Keeps the latest statistics' broker list: the client's own view of whom
 * it knows and has connected (or tried to connect) to. */
static int kc_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
	struct kc_handle *h = opaque;
	char err[256];

	(void)rk;
	if (client_view_parse(json, len, &h->view, err, sizeof(err)) < 0)
		kc_note_error(h, "statistics", err);
	else
		h->stats_seen++;
	return 0; /* librdkafka frees json */
}

static void kc_dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kc_handle *h = opaque;

	(void)rk;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		h->delivered++;
		h->dr_partition = m->partition;
		h->dr_offset = m->offset;
	} else if (h->failed++ == 0) {
		snprintf(h->first_delivery_error, sizeof(h->first_delivery_error),
			 "key %.*s: %s (%s)", m->key ? (int)m->key_len : 6,
			 m->key ? (const char *)m->key : "(none)", rd_kafka_err2str(m->err),
			 rd_kafka_err2name(m->err));
	}
}

/* Creates h->rk with the settings every handle shares plus extra[] pairs;
 * h->role must be set. */
static int kc_handle_new(struct kc_handle *h, rd_kafka_type_t type, const struct kc_opts *o,
			 const char *const extra[][2], size_t n_extra,
			 void (*rebalance_cb)(rd_kafka_t *, rd_kafka_resp_err_t,
					      rd_kafka_topic_partition_list_t *, void *))
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[512], client_id[64];
	const char *const common[][2] = {
		{"bootstrap.servers", o->bootstrap},
		{"client.id", client_id},
		{"statistics.interval.ms", KC_STATS_INTERVAL_MS},
	};

	snprintf(client_id, sizeof(client_id), "kgate-client-%s", h->role);
	for (char *p = client_id; *p; p++)
		if (*p == ' ')
			*p = '-';
	for (size_t i = 0; i < 3 + n_extra; i++) {
		const char *const *kv = i < 3 ? common[i] : extra[i - 3];

		if (rd_kafka_conf_set(conf, kv[0], kv[1], errstr, sizeof(errstr)) !=
		    RD_KAFKA_CONF_OK) {
			kc_fail("%s: %s=%s: %s", h->role, kv[0], kv[1], errstr);
			rd_kafka_conf_destroy(conf);
			return -1;
		}
	}
	for (int i = 0; i < o->n_props; i++) {
		char name[128];
		const char *eq = strchr(o->props[i], '=');

		snprintf(name, sizeof(name), "%.*s", (int)(eq - o->props[i]), o->props[i]);
		if (rd_kafka_conf_set(conf, name, eq + 1, errstr, sizeof(errstr)) !=
		    RD_KAFKA_CONF_OK) {
			kc_fail("%s: --set %s: %s", h->role, o->props[i], errstr);
			rd_kafka_conf_destroy(conf);
			return -1;
		}
	}
	/* NULL: librdkafka logs nothing. Its errors still reach kc_error_cb. */
	rd_kafka_conf_set_log_cb(conf, o->verbose ? kc_log_cb : NULL);
	rd_kafka_conf_set_error_cb(conf, kc_error_cb);
	rd_kafka_conf_set_stats_cb(conf, kc_stats_cb);
	if (type == RD_KAFKA_PRODUCER)
		rd_kafka_conf_set_dr_msg_cb(conf, kc_dr_msg_cb);
	if (rebalance_cb)
		rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
	rd_kafka_conf_set_opaque(conf, h);
	h->rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
	if (!h->rk) {
		rd_kafka_conf_destroy(conf); /* rd_kafka_new only takes it on success */
		kc_fail("cannot create the %s: %s", h->role, errstr);
		return -1;
	}
	return 0;
}

/* Polls until a statistics callback newer than now has fired, so the view
 * printed afterwards is current.  A consumer hands what it polls to take. */
static int kc_wait_stats(struct kc_handle *h, kc_take_fn *take, void *ctx)
{
	int before = h->stats_seen;
	double deadline = kc_now() + KC_STATS_DEADLINE_S;
	rd_kafka_message_t *m;

	while (h->stats_seen == before) {
		if (kc_now() > deadline) {
			kc_fail("%s: no statistics callback within %d s", h->role,
				KC_STATS_DEADLINE_S);
			return -1;
		}
		if (!take) {
			rd_kafka_poll(h->rk, 100);
		} else if ((m = rd_kafka_consumer_poll(h->rk, 100)) != NULL) {
			take(ctx, m);
			rd_kafka_message_destroy(m);
		}
	}
	return 0;
}

/* Prints the brokers a Metadata answer lists, checking each against chk. */
static void kc_report_metadata(const struct kc_handle *h, const struct rd_kafka_metadata *md,
			       struct kc_check *chk)
{
	char addr[300];

	printf("%s: rd_kafka_metadata() lists %d brokers (answered by %s):\n", h->role,
	       md->broker_cnt, md->orig_broker_name);
	for (int i = 0; i < md->broker_cnt; i++) {
		snprintf(addr, sizeof(addr), "%s:%d", md->brokers[i].host, md->brokers[i].port);
		printf("  broker %d %s%s\n", md->brokers[i].id, addr, kc_check_addr(chk, addr));
	}
}

/* Prints (and checks) the addresses of the handle's latest statistics. */
static int kc_report_stats(const struct kc_handle *h, struct kc_check *chk)
{
	const struct client_view *v = &h->view;

	printf("%s: statistics brokers (stats callback #%d):\n", h->role, h->stats_seen);
	for (size_t i = 0; i < v->n_brokers; i++) {
		const struct client_view_broker *b = &v->brokers[i];

		if (b->nodeid >= 0 || b->connects > 0)
			printf("  %s: nodeid %lld, nodename %s, connects %lld\n", b->name,
			       b->nodeid, b->nodename[0] ? b->nodename : "(none)", b->connects);
	}
	/* Each entry, not each address: the logical GroupCoordinator entry
	 * shows beside the broker it points at. */
	for (size_t i = 0; i < v->n_brokers; i++) {
		const struct client_view_broker *b = &v->brokers[i];

		switch (client_view_use(b)) {
		case CLIENT_VIEW_IDLE:
			break;
		case CLIENT_VIEW_NO_ADDRESS:
			printf("%s: %s: no address, not checked\n", h->role, b->name);
			break;
		case CLIENT_VIEW_USED:
			printf("%s: client used: %s%s\n", h->role, b->nodename,
			       kc_check_addr(chk, b->nodename));
			break;
		}
	}
	if (v->truncated && chk->expect) {
		kc_fail("%s: statistics list more than %d brokers; cannot check them all",
			h->role, CLIENT_VIEW_MAX_BROKERS);
		return -1;
	}
	return 0;
}

/* Prints the brokers the handle used, (a) from Metadata and (b) from its
 * statistics, checking each against chk. */
static int kc_report(struct kc_handle *h, struct kc_check *chk)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t err;

	err = rd_kafka_metadata(h->rk, 0, NULL, &md, kc_call_timeout_ms(KC_METADATA_TIMEOUT_MS));
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		kc_fail("%s: metadata request failed: %s", h->role, rd_kafka_err2str(err));
		return -1;
	}
	kc_report_metadata(h, md, chk);
	rd_kafka_metadata_destroy(md);
	if (kc_report_stats(h, chk) < 0)
		return -1;
	chk->n_reports++;
	return 0;
}

/* A producer with acks=all; message_timeout_ms bounds librdkafka's retries. */
static int kc_producer_new(struct kc_handle *h, const struct kc_opts *o,
			   long long message_timeout_ms, bool idempotent)
{
	char timeout[32];
	const char *const extra[][2] = {
		{"acks", "all"},
		{"enable.idempotence", idempotent ? "true" : "false"},
		{"message.timeout.ms", timeout},
	};

	snprintf(timeout, sizeof(timeout), "%lld", message_timeout_ms);
	snprintf(h->role, sizeof(h->role), "producer");
	return kc_handle_new(h, RD_KAFKA_PRODUCER, o, extra, 3, NULL);
}

/* Queues one message (with a run header unless run_id is NULL), waiting
 * while the local queue is full. */
static int kc_produce_msg(struct kc_handle *h, const char *topic, const char *key,
			  const char *value, size_t len, const char *run_id)
{
	rd_kafka_vu_t vu[5] = {
		{.vtype = RD_KAFKA_VTYPE_TOPIC, .u.cstr = topic},
		{.vtype = RD_KAFKA_VTYPE_KEY, .u.mem = {(void *)key, strlen(key)}},
		{.vtype = RD_KAFKA_VTYPE_VALUE, .u.mem = {(void *)value, len}},
		{.vtype = RD_KAFKA_VTYPE_MSGFLAGS, .u.i = RD_KAFKA_MSG_F_COPY},
		{.vtype = RD_KAFKA_VTYPE_HEADER, .u.header = {KC_RUN_HEADER, run_id, -1}},
	};
	rd_kafka_resp_err_t err;
	rd_kafka_error_t *error;

	for (;;) {
		error = rd_kafka_produceva(h->rk, vu, run_id ? 5 : 4);
		if (!error)
			return 0;
		err = rd_kafka_error_code(error);
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || kc_past_deadline()) {
			kc_fail("%s: cannot produce message with key %s: %s", h->role, key,
				rd_kafka_error_string(error));
			rd_kafka_error_destroy(error);
			return -1;
		}
		rd_kafka_error_destroy(error);
		/* A full local queue drains as deliveries are reported. */
		rd_kafka_poll(h->rk, 100);
	}
}

/* Serves delivery reports until all `expected` are in; 0 only when every
 * one succeeded.  A failed report, a fatal error or the deadline end it. */
static int kc_producer_wait(struct kc_handle *h, long long expected)
{
	atomic_store(&kc_phase, "waiting for delivery reports");
	/* The counts decide, not rd_kafka_flush's result: a short flush serves
	 * the callbacks and lets the deadline be checked. */
	while (h->delivered + h->failed < expected && !h->failed && !h->fatal &&
	       !kc_past_deadline())
		rd_kafka_flush(h->rk, 100);
	if (h->fatal)
		kc_fail("%s: fatal client error: %s", h->role, kc_last_error(h));
	else if (h->failed)
		kc_fail("%s: message not delivered: %s; last librdkafka error: %s", h->role,
			h->first_delivery_error, kc_last_error(h));
	else if (h->delivered < expected)
		kc_fail("%s: gave up at the --timeout deadline (%d s) with %lld of %lld messages "
			"delivered; last librdkafka error: %s", h->role, kc_timeout_s,
			h->delivered, expected, kc_last_error(h));
	else
		return 0;
	return -1;
}

/* Subscribes a consumer handle; its callbacks are then served by
 * rd_kafka_consumer_poll. */
static int kc_subscribe(struct kc_handle *h, const char *topic)
{
	rd_kafka_topic_partition_list_t *topics;
	rd_kafka_resp_err_t err;

	err = rd_kafka_poll_set_consumer(h->rk);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		topics = rd_kafka_topic_partition_list_new(1);
		rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
		err = rd_kafka_subscribe(h->rk, topics);
		rd_kafka_topic_partition_list_destroy(topics);
	}
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		kc_fail("%s: cannot subscribe to \"%s\": %s", h->role, topic,
			rd_kafka_err2str(err));
		return -1;
	}
	return 0;
}

/* ---- demo ---- */

/* What the demo's consumer saw; seen[i - 1] counts message #i of this run. */
struct kc_consumed {
	struct kc_handle *h;
	const char *run_id;
	int n;
	int *seen;
	int distinct;
	int duplicates;
	int unexpected;
	int foreign;
	bool verbose;
};

/* Counts one consumed message against this run's; prints it. */
static void kc_demo_take(void *ctx, const rd_kafka_message_t *m)
{
	struct kc_consumed *c = ctx;
	rd_kafka_headers_t *hdrs;
	const void *run = NULL;
	size_t run_len = 0;
	char value[128], key[32];
	int i = 0, end = 0, vlen = (int)(m->len < sizeof(value) - 1 ? m->len : sizeof(value) - 1);

	if (m->err) {
		/* Mostly transient (topic or coordinator not yet known): keep
		 * polling; the deadline bounds it. */
		kc_note_error(c->h, rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
		return;
	}
	if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    rd_kafka_header_get_last(hdrs, KC_RUN_HEADER, &run, &run_len) !=
		    RD_KAFKA_RESP_ERR_NO_ERROR ||
	    run_len != strlen(c->run_id) || memcmp(run, c->run_id, run_len) != 0) {
		c->foreign++;
		if (c->verbose)
			printf("skipped partition %d offset %lld: not from this run\n",
			       m->partition, (long long)m->offset);
		return;
	}
	memcpy(value, m->payload ? m->payload : "", (size_t)vlen);
	value[vlen] = '\0';
	printf("consumed partition %d offset %lld: %s\n", m->partition, (long long)m->offset,
	       value);
	if (sscanf(value, "hello from kgate demo #%d%n", &i, &end) != 1 || end != vlen ||
	    (size_t)vlen != m->len || i < 1 || i > c->n) {
		c->unexpected++;
		printf("  ^ unexpected value\n");
		return;
	}
	snprintf(key, sizeof(key), "key-%d", i);
	if (m->key_len != strlen(key) || memcmp(m->key, key, m->key_len) != 0) {
		c->unexpected++;
		printf("  ^ wrong key (expected %s)\n", key);
		return;
	}
	if (c->seen[i - 1]++ == 0)
		c->distinct++;
	else
		c->duplicates++;
}

static int kc_demo_produce(const struct kc_opts *o, const char *run_id, struct kc_check *chk)
{
	struct kc_handle h = {0};
	char key[32], value[64];
	int rc = -1;

	/* message.timeout.ms below the deadline: a gateway nobody answers on
	 * fails with librdkafka's own delivery error. */
	if (kc_producer_new(&h, o, KC_DEMO_MESSAGE_TIMEOUT_MS, true) < 0)
		return -1;
	for (int i = 1; i <= o->messages; i++) {
		snprintf(key, sizeof(key), "key-%d", i);
		snprintf(value, sizeof(value), "hello from kgate demo #%d", i);
		if (kc_produce_msg(&h, o->topic, key, value, strlen(value), run_id) < 0)
			goto out;
	}
	if (kc_producer_wait(&h, o->messages) < 0)
		goto out;
	printf("produced %lld messages to \"%s\" (acks=all, idempotent): all delivered\n",
	       o->messages, o->topic);
	if (kc_wait_stats(&h, NULL, NULL) == 0 && kc_report(&h, chk) == 0)
		rc = 0;
out:
	/* Outstanding messages (failure paths) are abandoned with the handle. */
	rd_kafka_destroy(h.rk);
	return rc;
}

static int kc_demo_consume(const struct kc_opts *o, struct kc_consumed *c, struct kc_check *chk)
{
	struct kc_handle h = {.role = "consumer"};
	char group[96];
	const char *const extra[][2] = {
		{"group.id", group},
		{"auto.offset.reset", "earliest"},
	};
	rd_kafka_message_t *m;
	rd_kafka_resp_err_t err;
	int rc = -1;

	c->h = &h;
	snprintf(group, sizeof(group), "kgate-client-%s", c->run_id);
	if (kc_handle_new(&h, RD_KAFKA_CONSUMER, o, extra, 2, NULL) < 0)
		return -1;
	if (kc_subscribe(&h, o->topic) < 0) {
		rd_kafka_destroy(h.rk);
		return -1;
	}
	while (c->distinct < c->n && !h.fatal && !kc_past_deadline()) {
		m = rd_kafka_consumer_poll(h.rk, 200);
		if (m) {
			kc_demo_take(c, m);
			rd_kafka_message_destroy(m);
		}
	}
	if (c->distinct < c->n)
		kc_fail("consumer: %s: consumed %d of %d messages; last librdkafka error: %s",
			h.fatal ? "fatal error" : "gave up at the --timeout deadline", c->distinct,
			c->n, kc_last_error(&h));
	else if (kc_wait_stats(&h, kc_demo_take, c) == 0 && kc_report(&h, chk) == 0)
		rc = 0;
	err = rd_kafka_consumer_close(h.rk);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		kc_fail("consumer: close: %s", rd_kafka_err2str(err));
		rc = -1;
	}
	rd_kafka_destroy(h.rk);
	return rc;
}

/* Prints what arrived against what was produced; 0 when exactly once each. */
static int kc_demo_verify(const struct kc_consumed *c)
{
	int missing = 0;

	for (int i = 0; i < c->n; i++)
		if (c->seen[i] == 0 && missing++ < 20)
			printf("missing: hello from kgate demo #%d\n", i + 1);
	printf("summary: produced %d, consumed %d distinct, %d missing, %d duplicates, "
	       "%d unexpected (%d from earlier runs skipped)\n",
	       c->n, c->distinct, missing, c->duplicates, c->unexpected, c->foreign);
	if (missing || c->duplicates || c->unexpected) {
		printf("FAIL: the messages consumed are not exactly the ones produced\n");
		return -1;
	}
	printf("OK: all %d messages consumed exactly once\n", c->n);
	return 0;
}

static int kc_cmd_demo(const struct kc_opts *o, struct kc_check *chk)
{
	char run_id[64];
	struct kc_consumed c;
	bool ok = false;

	snprintf(run_id, sizeof(run_id), "%ld-%ld", (long)getpid(), (long)time(NULL));
	c = (struct kc_consumed){.run_id = run_id, .n = o->messages, .verbose = o->verbose,
				 .seen = calloc((size_t)o->messages, sizeof(int))};
	if (!c.seen) {
		kc_fail("out of memory");
		return -1;
	}
	printf("kgate-client (librdkafka %s): bootstrap %s, topic \"%s\", %lld messages, run %s\n",
	       rd_kafka_version_str(), o->bootstrap, o->topic, o->messages, run_id);
	/* Nothing to consume or verify when producing failed. */
	if (kc_demo_produce(o, run_id, chk) == 0) {
		ok = kc_demo_consume(o, &c, chk) == 0;
		ok = kc_demo_verify(&c) == 0 && ok;
	}
	if (chk->expect && chk->n_bad) {
		printf("FAIL: the client used broker addresses that are not the gateway's:");
		for (int i = 0; i < chk->n_bad; i++)
			printf(" %s", chk->bad[i]);
		printf("\n");
		ok = false;
	} else if (chk->expect && chk->n_reports == 2) {
		printf("OK: every broker address the client used is the gateway's\n");
	}
	free(c.seen);
	printf("%s\n", ok ? "kgate-client: PASS" : "kgate-client: FAIL");
	return ok ? 0 : -1;
}

/* ---- produce ---- */

/* An id's record: key "%lld", value the same padded with '.'. */
static void kc_format_id(long long id, char *key, size_t key_size, char value[KC_VALUE_LEN])
{
	int n = snprintf(key, key_size, "%lld", id);

	memcpy(value, key, (size_t)n);
	memset(value + n, '.', (size_t)(KC_VALUE_LEN - n));
}

/* Is the topic's Metadata ready: 1 with all `want` partitions led, 0 not
 * yet, -1 when it has another partition count (explained). */
static int kc_topic_ready(struct kc_handle *h, rd_kafka_topic_t *rkt, int want)
{
	const struct rd_kafka_metadata *md;
	const struct rd_kafka_metadata_topic *t;
	rd_kafka_resp_err_t err;
	int rc = 1;

	err = rd_kafka_metadata(h->rk, 0, rkt, &md, kc_call_timeout_ms(KC_METADATA_TIMEOUT_MS));
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		kc_note_error(h, rd_kafka_err2name(err), "metadata request failed");
		return 0;
	}
	t = md->topic_cnt == 1 ? &md->topics[0] : NULL;
	if (!t || t->err != RD_KAFKA_RESP_ERR_NO_ERROR || t->partition_cnt == 0) {
		rc = 0;
	} else if (t->partition_cnt != want) {
		kc_fail("topic \"%s\" exists with %d partitions, not --partitions %d", t->topic,
			t->partition_cnt, want);
		rc = -1;
	} else {
		for (int i = 0; i < t->partition_cnt; i++)
			if (t->partitions[i].err != RD_KAFKA_RESP_ERR_NO_ERROR ||
			    t->partitions[i].leader < 0)
				rc = 0;
	}
	rd_kafka_metadata_destroy(md);
	return rc;
}

/* Asks for the topic with P partitions and the broker's default replication
 * factor; retriable errors (a broker restarting) are retried until the
 * deadline.  Returns the topic error, or an admin request's error. */
static rd_kafka_resp_err_t kc_create_topic(struct kc_handle *h, const struct kc_opts *o,
					   char *errstr, size_t errstr_size)
{
	rd_kafka_NewTopic_t *nt;
	rd_kafka_AdminOptions_t *ao;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	const rd_kafka_topic_result_t **res;
	size_t n_res = 0;
	rd_kafka_resp_err_t err;
	int timeout_ms = kc_call_timeout_ms(30000);

	nt = rd_kafka_NewTopic_new(o->topic, o->partitions, -1, errstr, errstr_size);
	if (!nt)
		return RD_KAFKA_RESP_ERR__INVALID_ARG;
	ao = rd_kafka_AdminOptions_new(h->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	if (!ao) {
		rd_kafka_NewTopic_destroy(nt);
		snprintf(errstr, errstr_size, "cannot make CreateTopics options");
		return RD_KAFKA_RESP_ERR__INVALID_ARG;
	}
	q = rd_kafka_queue_new(h->rk);
	/* The operation timeout has the controller answer once the topic is
	 * created, not merely accepted. */
	err = rd_kafka_AdminOptions_set_request_timeout(ao, timeout_ms, errstr, errstr_size);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
		err = rd_kafka_AdminOptions_set_operation_timeout(ao, timeout_ms, errstr,
								  errstr_size);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_CreateTopics(h->rk, &nt, 1, ao, q);
		/* The request timeout above guarantees a result event. */
		ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
		if (!ev) {
			err = RD_KAFKA_RESP_ERR__TIMED_OUT;
			snprintf(errstr, errstr_size, "no CreateTopics result");
		} else if ((err = rd_kafka_event_error(ev)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
			snprintf(errstr, errstr_size, "%s", rd_kafka_event_error_string(ev));
		} else {
			res = rd_kafka_CreateTopics_result_topics(
				rd_kafka_event_CreateTopics_result(ev), &n_res);
			err = n_res == 1 ? rd_kafka_topic_result_error(res[0])
					 : RD_KAFKA_RESP_ERR__BAD_MSG;
			snprintf(errstr, errstr_size, "%s",
				 n_res == 1 && rd_kafka_topic_result_error_string(res[0])
					 ? rd_kafka_topic_result_error_string(res[0])
					 : rd_kafka_err2str(err));
		}
		if (ev)
			rd_kafka_event_destroy(ev);
	}
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(ao);
	rd_kafka_NewTopic_destroy(nt);
	return err;
}

/* Makes sure --topic exists with --partitions partitions, all led, before
 * anything is produced (so auto-creation cannot pick another count). */
static int kc_ensure_topic(struct kc_handle *h, const struct kc_opts *o)
{
	char errstr[512];
	rd_kafka_resp_err_t err;
	rd_kafka_topic_t *rkt;
	int ready = 0;

	atomic_store(&kc_phase, "creating the topic");
	for (;;) {
		err = kc_create_topic(h, o, errstr, sizeof(errstr));
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR ||
		    err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
			break;
		kc_note_error(h, rd_kafka_err2name(err), errstr);
		if (err == RD_KAFKA_RESP_ERR__INVALID_ARG ||
		    err == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS ||
		    err == RD_KAFKA_RESP_ERR_INVALID_CONFIG ||
		    err == RD_KAFKA_RESP_ERR_POLICY_VIOLATION ||
		    err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
		    err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED ||
		    err == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION || kc_past_deadline()) {
			kc_fail("cannot create topic \"%s\" with %lld partitions: %s", o->topic,
				o->partitions, errstr);
			return -1;
		}
		rd_kafka_poll(h->rk, 1000);
	}
	printf("topic \"%s\": %s\n", o->topic,
	       err ? "already exists" : "created (broker's default replication factor)");
	rkt = rd_kafka_topic_new(h->rk, o->topic, NULL);
	if (!rkt) {
		kc_fail("topic \"%s\": %s", o->topic, rd_kafka_err2str(rd_kafka_last_error()));
		return -1;
	}
	/* A new topic takes a moment to reach every broker's metadata. */
	while ((ready = kc_topic_ready(h, rkt, o->partitions)) == 0 && !kc_past_deadline())
		rd_kafka_poll(h->rk, 200);
	rd_kafka_topic_destroy(rkt);
	if (ready == 0)
		kc_fail("topic \"%s\" has no leader for all %lld partitions by the --timeout "
			"deadline; last librdkafka error: %s", o->topic, o->partitions,
			kc_last_error(h));
	else if (ready > 0)
		printf("topic \"%s\": %lld partitions, all with a leader\n", o->topic,
		       o->partitions);
	return ready > 0 ? 0 : -1;
}

/* Waits for message k's turn under --rate, serving delivery reports. */
static void kc_pace(struct kc_handle *h, const struct kc_opts *o, double t0, long long k)
{
	double due = t0 + (double)k / (double)o->rate, wait;

	while ((wait = due - kc_now()) > 0 && !kc_past_deadline())
		rd_kafka_poll(h->rk, wait > 0.1 ? 100 : (int)(wait * 1000.0) + 1);
}

static int kc_cmd_produce(const struct kc_opts *o, struct kc_check *chk)
{
	struct kc_handle h = {0};
	char key[32], value[KC_VALUE_LEN];
	double t0, next_progress;
	long long k;
	int rc = -1;

	if (kc_producer_new(&h, o, (long long)o->timeout_s * 1000, true) < 0)
		return -1;
	if (o->partitions && kc_ensure_topic(&h, o) < 0)
		goto out;
	atomic_store(&kc_phase, "producing");
	t0 = kc_now();
	next_progress = t0 + KC_PROGRESS_S;
	for (k = 0; k < o->count && !h.failed && !h.fatal && !kc_past_deadline(); k++) {
		if (o->rate > 0)
			kc_pace(&h, o, t0, k);
		kc_format_id(o->start + k, key, sizeof(key), value);
		if (kc_produce_msg(&h, o->topic, key, value, KC_VALUE_LEN, NULL) < 0)
			goto out;
		/* Serves delivery reports while producing flat out. */
		if ((k & 1023) == 0)
			rd_kafka_poll(h.rk, 0);
		if (kc_now() >= next_progress) {
			printf("producer: %lld of %lld queued, %lld delivered\n", k + 1, o->count,
			       h.delivered);
			next_progress += KC_PROGRESS_S;
		}
	}
	if (kc_producer_wait(&h, o->count) < 0) {
		(void)kc_report_stats(&h, chk); /* shows whom it was trying */
		goto out;
	}
	printf("produced %lld messages (first %lld, last %lld) in %.2f s\n", o->count, o->start,
	       o->start + o->count - 1, kc_now() - t0);
	atomic_store(&kc_phase, "reporting broker addresses");
	if (kc_wait_stats(&h, NULL, NULL) == 0 && kc_report(&h, chk) == 0)
		rc = 0;
out:
	/* Outstanding messages (failure paths) are abandoned with the handle. */
	atomic_store(&kc_phase, "destroying the producer");
	rd_kafka_destroy(h.rk);
	return rc;
}

/* ---- consume ---- */

enum kc_flaw { KC_MALFORMED, KC_OUT_OF_RANGE, KC_DUPLICATE, KC_OUT_OF_ORDER, KC_N_FLAWS };

static const char *const kc_flaw_names[KC_N_FLAWS] = {
	"malformed records", "ids outside --start..--start+--count-1", "duplicate ids",
	"ids not increasing within their partition"};

struct kc_member;

/* The consumer group: what all members consumed, checked as it arrives. */
struct kc_group {
	const struct kc_opts *o;
	struct kc_member *members;
	pthread_mutex_t lock; /* guards what follows the atomics */
	atomic_bool started;  /* every member had partitions at once */
	atomic_bool done;     /* every id arrived */
	atomic_bool stop;     /* a member hit a fatal error */
	double t_begin, t_started, t_done;
	unsigned char *seen; /* seen[id - start]: arrivals, saturating */
	long long distinct;
	long long last_id[KC_MAX_PARTITIONS]; /* -1: none yet */
	long long flaws[KC_N_FLAWS];
	char examples[KC_N_FLAWS][KC_MAX_EXAMPLES][192];
};

/* One member: its own handle, polled only by its own thread. */
struct kc_member {
	struct kc_handle h;
	struct kc_group *g;
	pthread_t thread;
	bool paused;          /* holding its partitions until the group formed */
	int n_assigned;       /* current partitions; under g->lock */
	bool ever_assigned;
	unsigned char ever[KC_MAX_PARTITIONS / 8]; /* partitions it ever had */
	long long consumed;
	bool closing;         /* offsets committed; nothing left to commit */
	bool finish_failed;   /* final commit or statistics failed (explained) */
};

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
static void kc_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
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

static void *kc_member_run(void *arg)
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
static int kc_group_verdict(const struct kc_group *g)
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

static int kc_cmd_consume(const struct kc_opts *o, struct kc_check *chk)
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

/* ---- metadata ---- */

static int kc_cmd_metadata(const struct kc_opts *o, struct kc_check *chk)
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

/* ---- expect-failure ---- */

static int kc_cmd_expect_failure(const struct kc_opts *o, struct kc_check *chk)
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

int main(int argc, char **argv)
{
	struct kc_opts o;
	struct kc_addrs expect, bootstrap;
	struct kc_check chk = {.bootstrap = &bootstrap};
	int rc;

	/* Lines in order with librdkafka's errors on stderr, also when piped. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = kc_parse_args(argc, argv, &o);
	if (rc != 0) {
		if (rc > 0)
			kc_usage(stdout);
		else
			fprintf(stderr, "kgate-client: see kgate-client --help\n");
		return rc > 0 ? 0 : KC_EXIT_USAGE;
	}
	if (kc_addrs_parse(o.bootstrap, &bootstrap) < 0 ||
	    (o.expect && kc_addrs_parse(o.expect, &expect) < 0)) {
		fprintf(stderr, "kgate-client: --bootstrap, --expect-brokers: expected "
				"HOST:PORT[,HOST:PORT...] (at most %d)\n", KC_MAX_ADDRS);
		return KC_EXIT_USAGE;
	}
	if (o.expect)
		chk.expect = &expect;
	kc_timeout_s = o.timeout_s;
	kc_deadline = kc_now() + o.timeout_s;
	if (kc_watchdog_start() < 0)
		return KC_EXIT_FAIL;
	switch (o.cmd) {
	case KC_DEMO: return kc_cmd_demo(&o, &chk) == 0 ? 0 : KC_EXIT_FAIL;
	case KC_PRODUCE: rc = kc_cmd_produce(&o, &chk); break;
	case KC_CONSUME: rc = kc_cmd_consume(&o, &chk); break;
	case KC_METADATA: rc = kc_cmd_metadata(&o, &chk); break;
	case KC_EXPECT_FAILURE: rc = kc_cmd_expect_failure(&o, &chk); break;
	default: rc = -1; break;
	}
	if (rc == 0)
		rc = kc_check_verdict(&chk);
	return rc == 0 ? 0 : KC_EXIT_FAIL;
}
