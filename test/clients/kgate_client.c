/* kgate_client.c — a real librdkafka producer and consumer run through kgate,
 * checking from the client's own view that every broker it used was kgate's. */
#include <getopt.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KC_EXIT_FAIL 1
#define KC_EXIT_USAGE 2

#define KC_MAX_MESSAGES 100000
#define KC_MAX_ADDRS 32
#define KC_MAX_STATS_BROKERS 64
/* Failsafes against a dead or stuck gateway, not speed checks: the mock
 * answers in milliseconds.  message.timeout.ms < the flush deadline, so a
 * gateway nobody answers on fails with librdkafka's own delivery error. */
#define KC_MESSAGE_TIMEOUT_MS "30000"
#define KC_FLUSH_DEADLINE_S 45
#define KC_CONSUME_DEADLINE_S 60
#define KC_STATS_DEADLINE_S 15
#define KC_METADATA_TIMEOUT_MS 10000
#define KC_STATS_INTERVAL_MS "500"
/* Tags this run's messages, so records left in the topic by an earlier run
 * against the same kgate are told apart from ours. */
#define KC_RUN_HEADER "kgate-client-run"

/* Command-line options. */
struct kc_opts {
	const char *bootstrap;
	const char *topic;
	int messages;
	const char *expect; /* NULL: report addresses, check nothing */
	bool verbose;
};

/* A comma-separated address list, split in place in buf. */
struct kc_addrs {
	char buf[1024];
	const char *addr[KC_MAX_ADDRS];
	size_t n;
};

/* The address check shared by both handles; bad lists each offender once. */
struct kc_check {
	const struct kc_addrs *expect; /* NULL: no --expect-brokers */
	const struct kc_addrs *bootstrap;
	char bad[KC_MAX_ADDRS][160];
	int n_bad;
	int n_reports; /* handles whose addresses were all printed */
};

/* One entry of the statistics JSON's "brokers" object. */
struct kc_stats_broker {
	char name[160];
	char nodename[160];
	long long nodeid;
	long long connects;
};

/* Per-handle state, passed to every callback as the conf opaque. */
struct kc_handle {
	const char *role; /* "producer" or "consumer" */
	rd_kafka_t *rk;
	int stats_seen; /* stats callbacks so far */
	bool stats_truncated;
	size_t n_brokers;
	struct kc_stats_broker brokers[KC_MAX_STATS_BROKERS];
	char last_error[512];
	bool fatal;
	int delivered, failed; /* producer's delivery reports */
	char first_delivery_error[256];
};

/* What the consumer saw; seen[i - 1] counts message #i of this run. */
struct kc_consumed {
	const char *run_id;
	int n;
	int *seen;
	int distinct;
	int duplicates;
	int unexpected;
	int foreign;
	bool verbose;
};

static double kc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void kc_usage(FILE *f)
{
	fprintf(f, "usage: kgate-client demo --bootstrap HOST:PORT [--topic demo] [--messages 10]\n"
		   "                         [--expect-brokers HOST:PORT,...] [--verbose]\n"
		   "Produces and consumes messages through kgate and prints (and with\n"
		   "--expect-brokers checks) every broker address the client used.\n");
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
	return "  <- NOT the gateway's";
}

/* Returns 0, 1 for --help, or -1 on a usage error (already explained). */
static int kc_parse_args(int argc, char **argv, struct kc_opts *o)
{
	static const struct option longopts[] = {
		{"bootstrap", required_argument, NULL, 'b'},
		{"topic", required_argument, NULL, 't'},
		{"messages", required_argument, NULL, 'n'},
		{"expect-brokers", required_argument, NULL, 'e'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	long n;
	int c;

	*o = (struct kc_opts){.topic = "demo", .messages = 10};
	if (argc < 2 || strcmp(argv[1], "demo") != 0) {
		fprintf(stderr, "kgate-client: expected the command \"demo\"\n");
		return -1;
	}
	/* Parse from "demo" on, with the program's name in its slot so that
	 * getopt_long's own messages name the program. */
	argv[1] = argv[0];
	while ((c = getopt_long(argc - 1, argv + 1, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': o->bootstrap = optarg; break;
		case 't': o->topic = optarg; break;
		case 'e': o->expect = optarg; break;
		case 'v': o->verbose = true; break;
		case 'h': return 1;
		case 'n':
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 || n > KC_MAX_MESSAGES) {
				fprintf(stderr, "kgate-client: --messages \"%s\": expected 1..%d\n",
					optarg, KC_MAX_MESSAGES);
				return -1;
			}
			o->messages = (int)n;
			break;
		default: return -1; /* getopt_long has said what was wrong */
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "kgate-client: unexpected argument \"%s\"\n", argv[optind + 1]);
		return -1;
	}
	if (!o->bootstrap || !*o->bootstrap || !*o->topic) {
		fprintf(stderr, "kgate-client: --bootstrap HOST:PORT is required\n");
		return -1;
	}
	return 0;
}

/* Only with --verbose; rk may be NULL here. */
static void kc_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	fprintf(stderr, "librdkafka %d %s %s: %s\n", level, rk ? rd_kafka_name(rk) : "-", fac,
		buf);
}

/* Errors are kept so a failure can say why; a new one is shown as it comes,
 * since a client retrying against a dead gateway is otherwise silent. */
static void kc_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kc_handle *h = opaque;
	char fatal[256];

	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		h->fatal = true;
		rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		reason = fatal;
	}
	if (strcmp(h->last_error, reason) != 0)
		fprintf(stderr, "kgate-client: %s: client error: %s: %s\n", h->role,
			rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
	snprintf(h->last_error, sizeof(h->last_error), "%s", reason);
}

static const char *kc_last_error(const struct kc_handle *h)
{
	return h->last_error[0] ? h->last_error : "none";
}

static long long kc_json_int(json_t *obj, const char *key, long long dflt)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* Keeps the latest statistics' broker list: the client's own view of whom
 * it knows and has connected to. */
static int kc_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
	struct kc_handle *h = opaque;
	json_error_t jerr;
	json_t *root = json_loadb(json, len, 0, &jerr), *brokers, *b;
	const char *key, *nodename;

	(void)rk;
	if (!root) {
		fprintf(stderr, "kgate-client: %s: bad statistics JSON: %s\n", h->role, jerr.text);
		return 0;
	}
	brokers = json_object_get(root, "brokers");
	if (json_is_object(brokers)) {
		h->n_brokers = 0;
		h->stats_truncated = false;
		json_object_foreach(brokers, key, b) {
			struct kc_stats_broker *sb;

			if (h->n_brokers == KC_MAX_STATS_BROKERS) {
				h->stats_truncated = true;
				break;
			}
			sb = &h->brokers[h->n_brokers++];
			nodename = json_string_value(json_object_get(b, "nodename"));
			snprintf(sb->name, sizeof(sb->name), "%s", key);
			snprintf(sb->nodename, sizeof(sb->nodename), "%s",
				 nodename ? nodename : "");
			sb->nodeid = kc_json_int(b, "nodeid", -1);
			sb->connects = kc_json_int(b, "connects", 0);
		}
		h->stats_seen++;
	}
	json_decref(root);
	return 0; /* librdkafka frees json */
}

static void kc_dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kc_handle *h = opaque;

	(void)rk;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
		h->delivered++;
	else if (h->failed++ == 0)
		snprintf(h->first_delivery_error, sizeof(h->first_delivery_error), "%s",
			 rd_kafka_err2str(m->err));
}

/* Creates h->rk with the settings both handles share plus extra[] pairs. */
static int kc_handle_new(struct kc_handle *h, rd_kafka_type_t type, const struct kc_opts *o,
			 const char *const extra[][2], size_t n_extra)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[512], client_id[64];
	const char *const common[][2] = {
		{"bootstrap.servers", o->bootstrap},
		{"client.id", client_id},
		{"statistics.interval.ms", KC_STATS_INTERVAL_MS},
	};

	snprintf(client_id, sizeof(client_id), "kgate-client-%s", h->role);
	for (size_t i = 0; i < 3 + n_extra; i++) {
		const char *const *kv = i < 3 ? common[i] : extra[i - 3];

		if (rd_kafka_conf_set(conf, kv[0], kv[1], errstr, sizeof(errstr)) !=
		    RD_KAFKA_CONF_OK) {
			fprintf(stderr, "kgate-client: %s: %s=%s: %s\n", h->role, kv[0], kv[1],
				errstr);
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
	rd_kafka_conf_set_opaque(conf, h);
	h->rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
	if (!h->rk) {
		rd_kafka_conf_destroy(conf); /* rd_kafka_new only takes it on success */
		fprintf(stderr, "kgate-client: cannot create the %s: %s\n", h->role, errstr);
		return -1;
	}
	return 0;
}

/* Counts one consumed message against this run's; prints it. */
static void kc_take_message(const rd_kafka_message_t *m, struct kc_consumed *c,
			    struct kc_handle *h)
{
	rd_kafka_headers_t *hdrs;
	const void *run = NULL;
	size_t run_len = 0;
	char value[128], key[32];
	int i = 0, end = 0, vlen = (int)(m->len < sizeof(value) - 1 ? m->len : sizeof(value) - 1);

	if (m->err) {
		/* Mostly transient (topic or coordinator not yet known): keep
		 * polling; the deadline bounds it. */
		snprintf(h->last_error, sizeof(h->last_error), "%s", rd_kafka_message_errstr(m));
		fprintf(stderr, "kgate-client: consumer: %s\n", h->last_error);
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

/* Polls until a statistics callback newer than now has fired, so the view
 * printed afterwards is current.  A consumer keeps taking messages. */
static int kc_wait_stats(struct kc_handle *h, struct kc_consumed *c)
{
	int before = h->stats_seen;
	double deadline = kc_now() + KC_STATS_DEADLINE_S;
	rd_kafka_message_t *m;

	while (h->stats_seen == before) {
		if (kc_now() > deadline) {
			fprintf(stderr, "kgate-client: %s: no statistics callback within %d s\n",
				h->role, KC_STATS_DEADLINE_S);
			return -1;
		}
		if (!c) {
			rd_kafka_poll(h->rk, 100);
		} else if ((m = rd_kafka_consumer_poll(h->rk, 100)) != NULL) {
			kc_take_message(m, c, h);
			rd_kafka_message_destroy(m);
		}
	}
	return 0;
}

/* Prints the brokers the handle used, (a) from Metadata and (b) from its
 * statistics, checking each against chk. */
static int kc_report(struct kc_handle *h, struct kc_check *chk)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t err;
	char addr[300];

	err = rd_kafka_metadata(h->rk, 0, NULL, &md, KC_METADATA_TIMEOUT_MS);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "kgate-client: %s: metadata request failed: %s\n", h->role,
			rd_kafka_err2str(err));
		return -1;
	}
	printf("%s: rd_kafka_metadata() brokers (answered by %s):\n", h->role,
	       md->orig_broker_name);
	for (int i = 0; i < md->broker_cnt; i++) {
		snprintf(addr, sizeof(addr), "%s:%d", md->brokers[i].host, md->brokers[i].port);
		printf("  broker %d -> %s%s\n", md->brokers[i].id, addr, kc_check_addr(chk, addr));
	}
	rd_kafka_metadata_destroy(md);

	printf("%s: statistics brokers (stats callback #%d):\n", h->role, h->stats_seen);
	for (size_t i = 0; i < h->n_brokers; i++) {
		const struct kc_stats_broker *b = &h->brokers[i];

		if (b->nodeid >= 0 || b->connects > 0)
			printf("  %s: nodeid %lld, nodename %s, connects %lld\n", b->name,
			       b->nodeid, b->nodename[0] ? b->nodename : "(none)", b->connects);
	}
	for (size_t i = 0; i < h->n_brokers; i++) {
		const struct kc_stats_broker *b = &h->brokers[i];

		if (b->connects <= 0)
			continue;
		/* An entry with no nodename never connected anywhere.  The
		 * logical GroupCoordinator entry carries the address
		 * FindCoordinator answered with, so it is checked too. */
		if (!b->nodename[0])
			printf("%s: %s: no address, not checked\n", h->role, b->name);
		else
			printf("%s: client connected to: %s%s\n", h->role, b->nodename,
			       kc_check_addr(chk, b->nodename));
	}
	if (h->stats_truncated && chk->expect) {
		fprintf(stderr, "kgate-client: %s: statistics list more than %d brokers; "
				"cannot check them all\n", h->role, KC_MAX_STATS_BROKERS);
		return -1;
	}
	chk->n_reports++;
	return 0;
}

static int kc_produce(const struct kc_opts *o, const char *run_id, struct kc_check *chk)
{
	struct kc_handle h = {.role = "producer"};
	const char *const extra[][2] = {
		{"acks", "all"},
		{"enable.idempotence", "true"},
		{"message.timeout.ms", KC_MESSAGE_TIMEOUT_MS},
	};
	char key[32], value[64];
	double deadline = kc_now() + KC_FLUSH_DEADLINE_S;
	rd_kafka_resp_err_t err;
	int rc = -1;

	if (kc_handle_new(&h, RD_KAFKA_PRODUCER, o, extra, 3) < 0)
		return -1;
	for (int i = 1; i <= o->messages; i++) {
		snprintf(key, sizeof(key), "key-%d", i);
		snprintf(value, sizeof(value), "hello from kgate demo #%d", i);
		do {
			err = rd_kafka_producev(h.rk, RD_KAFKA_V_TOPIC(o->topic),
						RD_KAFKA_V_KEY(key, strlen(key)),
						RD_KAFKA_V_VALUE(value, strlen(value)),
						RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
						RD_KAFKA_V_HEADER(KC_RUN_HEADER, run_id, -1),
						RD_KAFKA_V_END);
			/* A full local queue drains as deliveries are reported. */
			if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
				rd_kafka_poll(h.rk, 100);
		} while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
		if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			fprintf(stderr, "kgate-client: producer: cannot produce message #%d: %s\n",
				i, rd_kafka_err2str(err));
			goto out;
		}
	}
	/* The delivery-report counts decide, not rd_kafka_flush's result: a
	 * short flush serves the callbacks and lets the deadline be checked. */
	while (h.delivered + h.failed < o->messages && !h.fatal && kc_now() < deadline)
		rd_kafka_flush(h.rk, 200);
	if (h.delivered + h.failed < o->messages) {
		fprintf(stderr, "kgate-client: producer: %s after %d of %d delivery reports; "
				"last client error: %s\n", h.fatal ? "fatal error" : "gave up",
			h.delivered + h.failed, o->messages, kc_last_error(&h));
		goto out;
	}
	if (h.failed) {
		fprintf(stderr, "kgate-client: producer: %d of %d messages failed: %s; "
				"last client error: %s\n", h.failed, o->messages,
			h.first_delivery_error, kc_last_error(&h));
		goto out;
	}
	printf("produced %d messages to \"%s\" (acks=all, idempotent): all delivered\n",
	       o->messages, o->topic);
	if (kc_wait_stats(&h, NULL) == 0 && kc_report(&h, chk) == 0)
		rc = 0;
out:
	/* Outstanding messages (failure paths) are abandoned with the handle. */
	rd_kafka_destroy(h.rk);
	return rc;
}

static int kc_consume(const struct kc_opts *o, struct kc_consumed *c, struct kc_check *chk)
{
	struct kc_handle h = {.role = "consumer"};
	char group[96];
	const char *const extra[][2] = {
		{"group.id", group},
		{"auto.offset.reset", "earliest"},
	};
	rd_kafka_topic_partition_list_t *topics;
	rd_kafka_message_t *m;
	rd_kafka_resp_err_t err;
	double deadline = kc_now() + KC_CONSUME_DEADLINE_S;
	int rc = -1;

	snprintf(group, sizeof(group), "kgate-client-%s", c->run_id);
	if (kc_handle_new(&h, RD_KAFKA_CONSUMER, o, extra, 2) < 0)
		return -1;
	/* Callbacks (stats, errors) are served by rd_kafka_consumer_poll. */
	err = rd_kafka_poll_set_consumer(h.rk);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		topics = rd_kafka_topic_partition_list_new(1);
		rd_kafka_topic_partition_list_add(topics, o->topic, RD_KAFKA_PARTITION_UA);
		err = rd_kafka_subscribe(h.rk, topics);
		rd_kafka_topic_partition_list_destroy(topics);
	}
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "kgate-client: consumer: cannot subscribe to \"%s\": %s\n",
			o->topic, rd_kafka_err2str(err));
		rd_kafka_destroy(h.rk);
		return -1;
	}
	while (c->distinct < c->n && !h.fatal && kc_now() < deadline) {
		m = rd_kafka_consumer_poll(h.rk, 200);
		if (m) {
			kc_take_message(m, c, &h);
			rd_kafka_message_destroy(m);
		}
	}
	if (c->distinct < c->n)
		fprintf(stderr, "kgate-client: consumer: %s after %d s: consumed %d of %d "
				"messages; last client error: %s\n",
			h.fatal ? "fatal error" : "gave up", KC_CONSUME_DEADLINE_S, c->distinct,
			c->n, kc_last_error(&h));
	else if (kc_wait_stats(&h, c) == 0 && kc_report(&h, chk) == 0)
		rc = 0;
	err = rd_kafka_consumer_close(h.rk);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "kgate-client: consumer: close: %s\n", rd_kafka_err2str(err));
		rc = -1;
	}
	rd_kafka_destroy(h.rk);
	return rc;
}

/* Prints what arrived against what was produced; 0 when exactly once each. */
static int kc_verify(const struct kc_consumed *c)
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

int main(int argc, char **argv)
{
	struct kc_opts o;
	struct kc_addrs expect, bootstrap;
	struct kc_check chk = {.bootstrap = &bootstrap};
	struct kc_consumed c = {0};
	char run_id[64];
	int ok = 0, rc;

	/* Lines in order with librdkafka's errors on stderr, also when piped. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = kc_parse_args(argc, argv, &o);
	if (rc != 0) {
		kc_usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : KC_EXIT_USAGE;
	}
	if (kc_addrs_parse(o.bootstrap, &bootstrap) < 0 ||
	    (o.expect && kc_addrs_parse(o.expect, &expect) < 0)) {
		fprintf(stderr, "kgate-client: expected a list HOST:PORT[,HOST:PORT...]\n");
		kc_usage(stderr);
		return KC_EXIT_USAGE;
	}
	if (o.expect)
		chk.expect = &expect;
	snprintf(run_id, sizeof(run_id), "%ld-%ld", (long)getpid(), (long)time(NULL));
	c = (struct kc_consumed){.run_id = run_id, .n = o.messages, .verbose = o.verbose,
				 .seen = calloc((size_t)o.messages, sizeof(int))};
	if (!c.seen) {
		fprintf(stderr, "kgate-client: out of memory\n");
		return KC_EXIT_FAIL;
	}
	printf("kgate-client (librdkafka %s): bootstrap %s, topic \"%s\", %d messages, run %s\n",
	       rd_kafka_version_str(), o.bootstrap, o.topic, o.messages, run_id);
	/* Nothing to consume or verify when producing failed. */
	if (kc_produce(&o, run_id, &chk) == 0) {
		ok = kc_consume(&o, &c, &chk) == 0;
		ok = kc_verify(&c) == 0 && ok;
	}
	if (chk.expect && chk.n_bad) {
		printf("FAIL: the client used broker addresses that are not the gateway's:");
		for (int i = 0; i < chk.n_bad; i++)
			printf(" %s", chk.bad[i]);
		printf("\n");
		ok = 0;
	} else if (chk.expect && chk.n_reports == 2) {
		printf("OK: every broker address the client used is the gateway's\n");
	}
	free(c.seen);
	printf("%s\n", ok ? "kgate-client: PASS" : "kgate-client: FAIL");
	return ok ? 0 : KC_EXIT_FAIL;
}
