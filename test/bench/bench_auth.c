/* bench_auth.c — what authenticating to the upstream costs kgate in CPU: one
 * MSK IAM OAUTHBEARER token, one AWS_MSK_IAM payload (each a SigV4 presign:
 * two SHA-256 and five HMAC-SHA256, plus the strings), with and without a
 * session token.  Prints microseconds of process CPU per operation (median
 * of RUNS, each ITERATIONS operations); asserts nothing.  Run with
 * `make bench`.
 *
 * Each measured operation is a row of ops[]: another mechanism's cost
 * (SCRAM's client-first/client-final, the PBKDF2 of a login) is one more
 * function of type bench_op and one more row.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../protocol/msk_iam.h"

#define RUNS 7
#define ITERATIONS 20000
#define NOW 1700000000 /* any fixed time: the cost does not depend on it */
#define UA "kgate/bench"

/* What every operation gets: the credentials, and the region and broker. */
struct bench_ctx {
	struct aws_creds creds;
	const char *region;
	const char *host;
};

/* One operation; 0 when it worked (a failure stops the benchmark). */
typedef int (*bench_op)(const struct bench_ctx *ctx);

static int op_iam_token(const struct bench_ctx *ctx)
{
	char *t = msk_iam_token(&ctx->creds, ctx->region, NOW, 0, UA);

	free(t);
	return t ? 0 : -1;
}

static int op_iam_payload(const struct bench_ctx *ctx)
{
	char *p = msk_iam_payload(&ctx->creds, ctx->region, ctx->host, NOW, UA);

	free(p);
	return p ? 0 : -1;
}

/* The operations measured, in the order printed.  session: run with a
 * session token (~1 KiB, as STS and IMDS hand out) too. */
static const struct {
	const char *name;
	bench_op op;
	int session;
} ops[] = {
	{"MSK IAM token (OAUTHBEARER)", op_iam_token, 1},
	{"AWS_MSK_IAM payload", op_iam_payload, 1},
	/* SCRAM-SHA-256 / SCRAM-SHA-512 client and server steps go here. */
};

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median over RUNS of the CPU microseconds per call of op; < 0 on failure. */
static double measure(bench_op op, const struct bench_ctx *ctx)
{
	double runs[RUNS];

	for (int r = 0; r < RUNS; r++) {
		double t0 = cpu_us();

		for (int i = 0; i < ITERATIONS; i++)
			if (op(ctx) < 0)
				return -1;
		runs[r] = (cpu_us() - t0) / ITERATIONS;
	}
	qsort(runs, RUNS, sizeof(runs[0]), cmp_double);
	return runs[RUNS / 2];
}

int main(void)
{
	struct bench_ctx ctx = {
		.region = "us-east-1",
		.host = "b-1.demo.abc123.c2.kafka.us-east-1.amazonaws.com",
	};

	strcpy(ctx.creds.access_key, "ASIAIOSFODNN7EXAMPLE");
	strcpy(ctx.creds.secret_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	printf("kgate auth micro-benchmarks (CPU per operation, median of %d x %d, one core)\n",
	       RUNS, ITERATIONS);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		for (int session = 0; session <= ops[i].session; session++) {
			double us;

			memset(ctx.creds.session_token, 'T', 1024);
			ctx.creds.session_token[session ? 1024 : 0] = '\0';
			us = measure(ops[i].op, &ctx);
			if (us < 0) {
				fprintf(stderr, "bench: %s failed\n", ops[i].name);
				return 1;
			}
			printf("%-30s %-22s %6.2f us\n", ops[i].name,
			       session ? "(1 KiB session token)" : "(long-term keys)", us);
		}
	}
	return 0;
}
