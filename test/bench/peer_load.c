/* peer_load.c — the workload of `make bench-peers`: one librdkafka client
 * driving a Kafka node directly or through a proxy, printing one line of
 * numbers per run (the script turns them into the table).  It checks only
 * what makes a number meaningless if wrong: every delivery succeeded, every
 * message expected was consumed.
 *
 *   peer_load produce BOOTSTRAP TOPIC COUNT SIZE [-X name=value]...
 *       as fast as the path allows (acks=1, large batches)
 *   peer_load consume BOOTSTRAP TOPIC COUNT [-X name=value]...
 *       every partition from its beginning, no group, until COUNT arrived
 *   peer_load latency BOOTSTRAP TOPIC RATE SECONDS SIZE [-X name=value]...
 *       RATE messages per second, one at a time (linger.ms=0); the time
 *       from produce() to its delivery report, as percentiles
 *   peer_load idle HOST:PORT COUNT [CAFILE]
 *       COUNT connections (TLS handshakes with CAFILE) held open until
 *       stdin closes; prints "idle N" once they are all open
 *   peer_load delete BOOTSTRAP TOPIC
 *       deletes the topic (a run's gigabyte leaves the broker's tmpfs)
 */
#include <librdkafka/rdkafka.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LATENCIES (10 * 1000 * 1000)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "peer_load: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
	char err[512];

	if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) != RD_KAFKA_CONF_OK)
		die(name, err);
}

/* The common settings, then every -X name=value from argv[from]. */
static rd_kafka_conf_t *make_conf(const char *bootstrap, int argc, char **argv, int from)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	set(conf, "bootstrap.servers", bootstrap);
	for (int i = from; i < argc; i++) {
		char *eq;

		if (strcmp(argv[i], "-X") || i + 1 >= argc || !(eq = strchr(argv[i + 1], '=')))
			die("expected -X name=value, got", argv[i]);
		*eq = '\0';
		set(conf, argv[i + 1], eq + 1);
		i++;
	}
	return conf;
}

/* ---- produce and latency ---- */

static long delivered, failed;
static double *latencies;
static long n_latencies;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (m->err) {
		if (failed++ == 0)
			fprintf(stderr, "peer_load: delivery failed: %s\n", rd_kafka_err2str(m->err));
		return;
	}
	delivered++;
	if (m->_private && n_latencies < MAX_LATENCIES)
		latencies[n_latencies++] = now_s() - *(double *)m->_private;
	free(m->_private);
}

static rd_kafka_t *producer(rd_kafka_conf_t *conf)
{
	char err[512];
	rd_kafka_t *rk;

	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk)
		die("producer", err);
	return rk;
}

static void produce_one(rd_kafka_t *rk, rd_kafka_topic_t *t, char *value, size_t size, int timed)
{
	double *sent = NULL;

	if (timed) {
		sent = malloc(sizeof(*sent));
		if (!sent)
			die("out of memory", NULL);
		*sent = now_s();
	}
	while (rd_kafka_produce(t, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, value, size, NULL, 0,
				sent) < 0) {
		if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			die("produce", rd_kafka_err2str(rd_kafka_last_error()));
		rd_kafka_poll(rk, 10);
	}
}

static void finish(rd_kafka_t *rk, long count)
{
	while (delivered + failed < count)
		rd_kafka_poll(rk, 100);
	if (failed)
		die("some deliveries failed", NULL);
}

static int cmd_produce(int argc, char **argv)
{
	long count = atol(argv[4]);
	size_t size = (size_t)atol(argv[5]);
	rd_kafka_conf_t *conf = make_conf(argv[2], argc, argv, 6);
	char *value = malloc(size);
	rd_kafka_topic_t *t;
	rd_kafka_t *rk;
	double t0, t1;

	if (!value || count <= 0)
		die("bad COUNT or SIZE", NULL);
	memset(value, 'k', size);
	set(conf, "acks", "1");
	set(conf, "linger.ms", "5");
	set(conf, "batch.size", "1000000");
	set(conf, "queue.buffering.max.kbytes", "262144");
	rk = producer(conf);
	t = rd_kafka_topic_new(rk, argv[3], NULL);
	t0 = now_s();
	for (long i = 0; i < count; i++) {
		produce_one(rk, t, value, size, 0);
		rd_kafka_poll(rk, 0);
	}
	finish(rk, count);
	t1 = now_s();
	printf("produced %ld %zu %.3f\n", count, size, t1 - t0);
	rd_kafka_topic_destroy(t);
	rd_kafka_destroy(rk);
	free(value);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	long i = (long)(p * (double)(n_latencies - 1));

	return latencies[i] * 1000.0;
}

static int cmd_latency(int argc, char **argv)
{
	long rate = atol(argv[4]), seconds = atol(argv[5]), count = rate * seconds;
	size_t size = (size_t)atol(argv[6]);
	rd_kafka_conf_t *conf = make_conf(argv[2], argc, argv, 7);
	char *value = malloc(size);
	rd_kafka_topic_t *t;
	rd_kafka_t *rk;
	double t0;

	latencies = malloc(sizeof(*latencies) * MAX_LATENCIES);
	if (!value || !latencies || count <= 0 || count > MAX_LATENCIES)
		die("bad RATE, SECONDS or SIZE", NULL);
	memset(value, 'k', size);
	set(conf, "acks", "1");
	set(conf, "linger.ms", "0");
	rk = producer(conf);
	t = rd_kafka_topic_new(rk, argv[3], NULL);
	/* One message first, so the connection setup is not measured. */
	produce_one(rk, t, value, size, 0);
	finish(rk, 1);
	delivered = 0;
	t0 = now_s();
	for (long i = 0; i < count; i++) {
		double due = t0 + (double)i / (double)rate, wait;

		while ((wait = due - now_s()) > 0)
			rd_kafka_poll(rk, wait > 0.001 ? 1 : 0);
		produce_one(rk, t, value, size, 1);
		rd_kafka_poll(rk, 0);
	}
	finish(rk, count);
	qsort(latencies, (size_t)n_latencies, sizeof(*latencies), cmp_double);
	printf("latency %ld p50 %.3f p99 %.3f p999 %.3f max %.3f\n", n_latencies, pct(0.5),
	       pct(0.99), pct(0.999), pct(1.0));
	rd_kafka_topic_destroy(t);
	rd_kafka_destroy(rk);
	free(value);
	return 0;
}

/* ---- consume ---- */

static int cmd_consume(int argc, char **argv)
{
	long count = atol(argv[4]), got = 0;
	rd_kafka_conf_t *conf = make_conf(argv[2], argc, argv, 5);
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_partition_list_t *parts;
	rd_kafka_topic_t *t;
	char err[512];
	size_t bytes = 0;
	rd_kafka_t *rk;
	double t0, t1;

	set(conf, "group.id", "peer-load");
	set(conf, "enable.auto.commit", "false");
	set(conf, "fetch.max.bytes", "52428800");
	set(conf, "max.partition.fetch.bytes", "10485760");
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!rk)
		die("consumer", err);
	t = rd_kafka_topic_new(rk, argv[3], NULL);
	if (rd_kafka_metadata(rk, 0, t, &md, 30000) || md->topic_cnt != 1 || md->topics[0].err)
		die("no metadata for the topic", argv[3]);
	parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
	for (int i = 0; i < md->topics[0].partition_cnt; i++)
		rd_kafka_topic_partition_list_add(parts, argv[3], md->topics[0].partitions[i].id)
			->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_metadata_destroy(md);
	t0 = now_s();
	if (rd_kafka_assign(rk, parts))
		die("assign failed", NULL);
	while (got < count) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);

		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			rd_kafka_message_destroy(m);
			continue;
		}
		if (m->err)
			die("consume", rd_kafka_message_errstr(m));
		got++;
		bytes += m->len;
		rd_kafka_message_destroy(m);
	}
	t1 = now_s();
	printf("consumed %ld %zu %.3f\n", got, got ? bytes / (size_t)got : 0, t1 - t0);
	rd_kafka_topic_partition_list_destroy(parts);
	rd_kafka_topic_destroy(t);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return 0;
}

/* ---- idle ---- */

static int connect_to(const char *hostport)
{
	char host[256], *colon;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	int fd;

	snprintf(host, sizeof(host), "%s", hostport);
	colon = strrchr(host, ':');
	if (!colon)
		die("expected HOST:PORT, got", hostport);
	*colon = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &ai))
		die("cannot resolve", hostport);
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die("cannot connect to", hostport);
	freeaddrinfo(ai);
	return fd;
}

static int cmd_idle(int argc, char **argv)
{
	long count = atol(argv[3]);
	SSL_CTX *ctx = NULL;
	char c;

	if (argc > 4) {
		ctx = SSL_CTX_new(TLS_client_method());
		if (!ctx || SSL_CTX_load_verify_locations(ctx, argv[4], NULL) != 1)
			die("cannot load the CA file", argv[4]);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	for (long i = 0; i < count; i++) {
		int fd = connect_to(argv[2]);

		if (ctx) {
			SSL *ssl = SSL_new(ctx);

			/* Kept for the process's life: the connection stays open. */
			if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) {
				ERR_print_errors_fp(stderr);
				die("TLS handshake failed with", argv[2]);
			}
		}
	}
	printf("idle %ld\n", count);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}

/* ---- delete ---- */

static int cmd_delete(int argc, char **argv)
{
	rd_kafka_conf_t *conf = make_conf(argv[2], argc, argv, 4);
	rd_kafka_DeleteTopic_t *del = rd_kafka_DeleteTopic_new(argv[3]);
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	char err[512];
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));

	if (!rk)
		die("admin client", err);
	q = rd_kafka_queue_new(rk);
	rd_kafka_DeleteTopics(rk, &del, 1, NULL, q);
	ev = rd_kafka_queue_poll(q, 60000);
	if (!ev || rd_kafka_event_error(ev))
		die("delete failed", ev ? rd_kafka_event_error_string(ev) : "timed out");
	rd_kafka_event_destroy(ev);
	rd_kafka_DeleteTopic_destroy(del);
	rd_kafka_queue_destroy(q);
	rd_kafka_destroy(rk);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 6 && !strcmp(argv[1], "produce"))
		return cmd_produce(argc, argv);
	if (argc >= 5 && !strcmp(argv[1], "consume"))
		return cmd_consume(argc, argv);
	if (argc >= 7 && !strcmp(argv[1], "latency"))
		return cmd_latency(argc, argv);
	if (argc >= 4 && !strcmp(argv[1], "idle"))
		return cmd_idle(argc, argv);
	if (argc >= 4 && !strcmp(argv[1], "delete"))
		return cmd_delete(argc, argv);
	fprintf(stderr, "usage: see the comment at the top of test/bench/peer_load.c\n");
	return 2;
}
