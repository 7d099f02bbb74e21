/* bench_auth.c — what authentication costs kgate in CPU: one MSK IAM
 * OAUTHBEARER token, one AWS_MSK_IAM payload (each a SigV4 presign: two
 * SHA-256 and five HMAC-SHA256, plus the strings), with and without a
 * session token; a whole SCRAM exchange (kgate signing in to a broker, or
 * a client logging in to kgate: the client's PBKDF2 is nearly all of it);
 * and a PLAIN login checked against a stored SCRAM hash (one PBKDF2 at the
 * file's iterations, paid by kgate).  Prints microseconds of process CPU
 * per operation (median of RUNS); asserts nothing.  Run with `make bench`.
 *
 * Each measured operation is a row of ops[].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../protocol/msk_iam.h"
#include "../../protocol/scram.h"

#define RUNS 7
#define ITERATIONS 20000
#define NOW 1700000000 /* any fixed time: the cost does not depend on it */
#define UA "kgate/bench"

/* What every operation gets: the credentials, and the region and broker. */
struct bench_ctx {
	struct aws_creds creds;
	const char *region;
	const char *host;
	struct scram_secret s256, s512;         /* "pencil", 4096 iterations */
	struct scram_secret s512_login;         /* ... 8192: kgate passwd's */
	uint8_t mask_key[SCRAM_MASK_KEY_LEN];
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

static int op_scram_256(const struct bench_ctx *ctx)
{
	return scram_exchange(SCRAM_SHA_256, "user", "pencil", &ctx->s256, ctx->mask_key, NULL, 0);
}

static int op_scram_512(const struct bench_ctx *ctx)
{
	return scram_exchange(SCRAM_SHA_512, "user", "pencil", &ctx->s512, ctx->mask_key, NULL, 0);
}

/* The client's share of an exchange: what is left is the server's. */
static int op_pbkdf2_512(const struct bench_ctx *ctx)
{
	struct scram_secret s;

	return scram_secret_derive(SCRAM_SHA_512, "pencil", 6, ctx->s512.salt, ctx->s512.salt_len,
				   4096, &s, NULL, 0);
}

static int op_plain_login(const struct bench_ctx *ctx)
{
	return scram_check_password(&ctx->s512_login, "pencil", 6) == 1 ? 0 : -1;
}

/* The operations measured, in the order printed.  session: run with a
 * session token (~1 KiB, as STS and IMDS hand out) too. */
static const struct {
	const char *name;
	bench_op op;
	int session;
	int iterations; /* per run */
} ops[] = {
	{"MSK IAM token (OAUTHBEARER)", op_iam_token, 1, ITERATIONS},
	{"AWS_MSK_IAM payload", op_iam_payload, 1, ITERATIONS},
	{"SCRAM-SHA-256 exchange", op_scram_256, 0, 200},
	{"SCRAM-SHA-512 exchange", op_scram_512, 0, 200},
	{"SCRAM-SHA-512 PBKDF2 alone", op_pbkdf2_512, 0, 200},
	{"PLAIN login to kgate", op_plain_login, 0, 200},
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
static double measure(bench_op op, const struct bench_ctx *ctx, int iterations)
{
	double runs[RUNS];

	for (int r = 0; r < RUNS; r++) {
		double t0 = cpu_us();

		for (int i = 0; i < iterations; i++)
			if (op(ctx) < 0)
				return -1;
		runs[r] = (cpu_us() - t0) / iterations;
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
	static const uint8_t salt[16] = "kgate bench salt";

	for (size_t i = 0; i < sizeof(ctx.mask_key); i++)
		ctx.mask_key[i] = (uint8_t)i;
	if (scram_secret_derive(SCRAM_SHA_256, "pencil", 6, salt, sizeof(salt), 4096, &ctx.s256,
				NULL, 0) < 0 ||
	    scram_secret_derive(SCRAM_SHA_512, "pencil", 6, salt, sizeof(salt), 4096, &ctx.s512,
				NULL, 0) < 0 ||
	    scram_secret_derive(SCRAM_SHA_512, "pencil", 6, salt, sizeof(salt),
				SCRAM_DEFAULT_ITERATIONS, &ctx.s512_login, NULL, 0) < 0) {
		fprintf(stderr, "bench: cannot derive SCRAM secrets\n");
		return 1;
	}
	printf("kgate auth micro-benchmarks (CPU per operation, median of %d runs, one core)\n"
	       "  SCRAM exchanges are both sides in memory at 4096 iterations (Kafka's\n"
	       "  default): the client's PBKDF2 is nearly all of it, whichever side kgate is;\n"
	       "  a PLAIN login costs kgate one PBKDF2 at the credentials file's %d.\n",
	       RUNS, SCRAM_DEFAULT_ITERATIONS);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		for (int session = 0; session <= ops[i].session; session++) {
			double us;

			memset(ctx.creds.session_token, 'T', 1024);
			ctx.creds.session_token[session ? 1024 : 0] = '\0';
			us = measure(ops[i].op, &ctx, ops[i].iterations);
			if (us < 0) {
				fprintf(stderr, "bench: %s failed\n", ops[i].name);
				return 1;
			}
			printf("%-30s %-22s %8.2f us\n", ops[i].name,
			       !ops[i].session ? ""
			       : session      ? "(1 KiB session token)"
					      : "(long-term keys)",
			       us);
		}
	}
	return 0;
}
