/* 0015_kgate_client.c — kgate-client ($CLIENT_BIN), the librdkafka client
 * the end-to-end tier and the demo drive, through kgate on the mock
 * cluster: an idempotent producer, a consumer group of two members (each
 * on its own thread, beside the client's watchdog thread) that must see
 * every id once and in order, and Metadata; each run checks that every
 * broker the client used was kgate's.  The tool is tested here without
 * root, and make test-tsan runs its threads under ThreadSanitizer (it
 * points CLIENT_BIN at a TSan build).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"
#include "itests.h"

#define TOPIC "kgate-client"
#define PARTITIONS 6
#define MESSAGES "20000"

static char out[65536];

/* Runs kgate-client with args (NULL-terminated) and asserts it passed. */
static void client_passes(const char *what, const char *const args[])
{
	const char *bin = getenv("CLIENT_BIN");
	char *argv[32];
	int argc = 0, rc;
	size_t len;

	ck_assert_msg(bin != NULL, "CLIENT_BIN is not set (make sets it)");
	argv[argc++] = (char *)bin;
	for (int i = 0; args[i]; i++) {
		ck_assert_int_lt(argc, 31);
		argv[argc++] = (char *)args[i];
	}
	argv[argc] = NULL;
	rc = harness_run(argv, out, sizeof(out));
	len = strlen(out);
	/* The end of its output says why, if it failed. */
	ck_assert_msg(rc == 0, "kgate-client %s exited %d:\n%s", what, rc,
		      out + (len > 4000 ? len - 4000 : 0));
	ck_assert_msg(strstr(out, "OK: every broker address the client used"),
		      "kgate-client %s did not check the addresses it used:\n%s", what, out);
}

START_TEST(test_kgate_client_through_kgate)
{
	struct mock mock;
	struct kgate kg;
	char expect[256];

	fixture_start(&mock, &kg, 3, 3, TOPIC, PARTITIONS, 0);
	snprintf(expect, sizeof(expect), "%s,%s,%s", kg.broker_addr[0], kg.broker_addr[1],
		 kg.broker_addr[2]);
	/* clang-format off */
	{
		const char *const args[] = {"produce",
			"--bootstrap", kg.bootstrap, "--topic", TOPIC, "--count", MESSAGES,
			"--expect-brokers", expect, "--timeout", "120", NULL};

		client_passes("produce", args);
	}
	{
		/* A short session: librdkafka 2.0.2's mock coordinator may hold a
		 * rebalance for a whole session timeout (see clients.c). */
		const char *const args[] = {"consume",
			"--bootstrap", kg.bootstrap, "--topic", TOPIC, "--count", MESSAGES,
			"--group", "kgate-0015", "--members", "2",
			"--set", "session.timeout.ms=10000", "--set", "heartbeat.interval.ms=1000",
			"--expect-brokers", expect, "--timeout", "180", NULL};

		client_passes("consume", args);
	}
	{
		const char *const args[] = {"metadata",
			"--bootstrap", kg.bootstrap, "--expect-count", "3",
			"--expect-brokers", expect, NULL};

		client_passes("metadata", args);
	}
	/* clang-format on */
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "protocol_errors=0"));
	mock_stop(&mock);
}
END_TEST

TCase *tcase_0015_kgate_client(void)
{
	TCase *tc = tcase_create("0015 kgate-client");

	tcase_add_test(tc, test_kgate_client_through_kgate);
	tcase_set_timeout(tc, 600);
	return tc;
}
