/* bench_rewrite.c — how long the rewriters take: a Metadata v12 response
 * with 3 and with 100 brokers (and a realistic topic list), and the Fetch
 * walker plus tail rewrite.  Prints nanoseconds per response; asserts
 * nothing.  Run with `make bench`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../protocol/fetch_walk.h"
#include "../../protocol/rewrite.h"

#define TOPICS 10
#define PARTITIONS 12
#define RUNS 7

static int map_lookup(void *ctx, int32_t node_id, const struct kstr *orig_host,
		      int32_t orig_port, struct kmap_addr *out)
{
	static char hosts[128][64];
	static int ready;

	(void)ctx;
	(void)orig_host;
	(void)orig_port;
	if (!ready) {
		for (int i = 0; i < 128; i++)
			snprintf(hosts[i], sizeof(hosts[i]), "kafka-nlb.example.com");
		ready = 1;
	}
	if (node_id < 1 || node_id > 127)
		return 0;
	out->host = hosts[node_id];
	out->host_len = (int32_t)strlen(hosts[node_id]);
	out->port = 8442 + node_id;
	return 1;
}

static const struct kmap bench_map = {.lookup = map_lookup, .ctx = NULL};

/* A Metadata v12 response as an MSK cluster of n brokers would send it,
 * listing `topics` topics of PARTITIONS partitions. */
static void metadata_v12(struct kwbuf *w, int n, int topics)
{
	char host[128];
	uint8_t topic_id[16] = {0};

	kw_i32(w, 12345);
	kw_uvarint(w, 0);
	kw_i32(w, 0);
	kw_array_len(w, 1, n);
	for (int i = 1; i <= n; i++) {
		int len = snprintf(host, sizeof(host),
				   "b-%d.mycluster.abc123.c2.kafka.us-east-1.amazonaws.com", i);

		kw_i32(w, i);
		kw_string(w, 1, host, len);
		kw_i32(w, 9094);
		kw_string(w, 1, "use1-az1", 8);
		kw_uvarint(w, 0);
	}
	kw_string(w, 1, "lkc-abc123XYZ", 13);
	kw_i32(w, 1);
	kw_array_len(w, 1, topics);
	for (int t = 0; t < topics; t++) {
		char name[32];
		int len = snprintf(name, sizeof(name), "orders-%d", t);

		kw_i16(w, 0);
		kw_string(w, 1, name, len);
		topic_id[0] = (uint8_t)t;
		kw_put(w, topic_id, 16);
		kw_i8(w, 0);
		kw_array_len(w, 1, PARTITIONS);
		for (int p = 0; p < PARTITIONS; p++) {
			kw_i16(w, 0);
			kw_i32(w, p);
			kw_i32(w, 1 + p % n);
			kw_i32(w, 7);
			for (int a = 0; a < 2; a++) { /* ReplicaNodes, IsrNodes */
				kw_array_len(w, 1, 3);
				for (int r = 0; r < 3; r++)
					kw_i32(w, 1 + (p + r) % n);
			}
			kw_array_len(w, 1, 0);
			kw_uvarint(w, 0);
		}
		kw_i32(w, -2147483647 - 1);
		kw_uvarint(w, 0);
	}
	kw_uvarint(w, 0);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median over RUNS of the mean time per call, each run ~0.2 s. */
typedef int (*bench_fn)(void *arg);

static double bench(bench_fn fn, void *arg)
{
	double runs[RUNS];
	long iters = 1;

	/* Size the run so it takes about 0.2 s. */
	for (;;) {
		double t0 = now_ns();

		for (long i = 0; i < iters; i++)
			fn(arg);
		if (now_ns() - t0 > 2e8)
			break;
		iters *= 2;
	}
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ns();

		for (long i = 0; i < iters; i++)
			fn(arg);
		runs[r] = (now_ns() - t0) / (double)iters;
	}
	qsort(runs, RUNS, sizeof(runs[0]), cmp_double);
	return runs[RUNS / 2];
}

struct md_arg {
	struct kwbuf in, out;
	const struct kmap *map;
};

static int run_metadata(void *arg)
{
	struct md_arg *a = arg;

	kw_reset(&a->out);
	return krw_metadata(a->in.buf, a->in.len, 12, &a->out, a->map);
}

/* A Fetch v16 response: 50 partitions of 1 MiB records (never touched by
 * the walker: it skips them) and NodeEndpoints for 3 brokers. */
struct fetch_arg {
	struct kwbuf in;
	size_t tail;
	uint8_t *out;
};

static void fetch_v16(struct fetch_arg *a)
{
	struct kwbuf *w = &a->in, ne;
	uint8_t id[16] = {1};

	kw_i32(w, 1);
	kw_uvarint(w, 0);
	kw_i32(w, 0);
	kw_i16(w, 0);
	kw_i32(w, 0);
	kw_array_len(w, 1, 5);
	for (int t = 0; t < 5; t++) {
		kw_put(w, id, 16);
		kw_array_len(w, 1, 10);
		for (int p = 0; p < 10; p++) {
			kw_i32(w, p);
			kw_i16(w, 0);
			kw_i64(w, 1000);
			kw_i64(w, 1000);
			kw_i64(w, 0);
			kw_uvarint(w, 0);
			kw_i32(w, -1);
			kw_uvarint(w, (1u << 20) + 1);
			memset(kw_extend(w, 1u << 20), 0x5a, 1u << 20);
			kw_uvarint(w, 0);
		}
		kw_uvarint(w, 0);
	}
	a->tail = w->len;
	kw_init(&ne);
	kw_array_len(&ne, 1, 3);
	for (int i = 1; i <= 3; i++) {
		char host[96];
		int len = snprintf(host, sizeof(host),
				   "b-%d.mycluster.abc123.c2.kafka.us-east-1.amazonaws.com", i);

		kw_i32(&ne, i);
		kw_string(&ne, 1, host, len);
		kw_i32(&ne, 9094);
		kw_uvarint(&ne, 0);
		kw_uvarint(&ne, 0);
	}
	kw_uvarint(w, 1);
	kw_uvarint(w, 0);
	kw_uvarint(w, (uint32_t)ne.len);
	kw_put(w, ne.buf, ne.len);
	kw_free(&ne);
	a->out = malloc(w->len - a->tail);
}

static int run_fetch(void *arg)
{
	struct fetch_arg *a = arg;
	struct kfetch_walk walk;
	size_t pos = 4, used;
	uint64_t skip;
	int dropped;

	kfw_init(&walk, 16);
	for (;;) {
		size_t n = a->in.len - pos < 256 ? a->in.len - pos : 256;
		int rc = kfw_walk(&walk, a->in.buf + pos, n, &used, &skip);

		pos += used;
		if (rc == KFW_SKIP)
			pos += skip;
		else if (rc == KFW_TAIL)
			break;
		else if (rc != KFW_NEED_MORE)
			return -1;
	}
	return krw_fetch_tail(a->in.buf + pos, a->in.len - pos, 16, a->out, &bench_map,
			      &dropped);
}

int main(void)
{
	static const int sizes[] = {3, 100}, topic_counts[] = {0, TOPICS};
	struct fetch_arg f;

	printf("kgate rewrite micro-benchmarks (median of %d runs, one core)\n", RUNS);
	for (size_t t = 0; t < 2; t++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct md_arg a;
			double ns, ns_none;

			kw_init(&a.in);
			kw_init(&a.out);
			metadata_v12(&a.in, sizes[i], topic_counts[t]);
			a.map = &bench_map;
			if (run_metadata(&a) != KRW_CHANGED) {
				fprintf(stderr, "bench: rewrite failed\n");
				return 1;
			}
			ns = bench(run_metadata, &a);
			/* The same response with nothing to substitute: a walk,
			 * no copy. */
			a.map = NULL;
			ns_none = bench(run_metadata, &a);
			printf("Metadata v12, %3d brokers, %2d topics x %d partitions (%5zu bytes): "
			       "%7.0f ns rewritten, %7.0f ns validated only\n",
			       sizes[i], topic_counts[t], PARTITIONS, a.in.len, ns, ns_none);
			kw_free(&a.in);
			kw_free(&a.out);
		}
	}
	kw_init(&f.in);
	fetch_v16(&f);
	if (run_fetch(&f) != KRW_CHANGED) {
		fprintf(stderr, "bench: fetch walk failed\n");
		return 1;
	}
	printf("Fetch v16, 50 partitions x 1 MiB records (%zu bytes): %.0f ns to walk it "
	       "and rewrite its tail in place\n",
	       f.in.len, bench(run_fetch, &f));
	kw_free(&f.in);
	free(f.out);
	return 0;
}
