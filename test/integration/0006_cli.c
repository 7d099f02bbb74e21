/* 0006_cli.c — the binary's command line: --check, --help, --version, usage
 * errors, and a listener that cannot be bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/fake_broker.h"
#include "../lib/harness.h"
#include "itests.h"

static char out[8192];

/* Writes json to a temp file and returns its path (static buffer). */
static const char *write_config(const char *json)
{
	static char path[256];
	const char *tmp = getenv("KGATE_TEST_TMP");
	FILE *f;

	snprintf(path, sizeof(path), "%s/cli-%d.json", tmp ? tmp : "/tmp", (int)getpid());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(json, f);
	fclose(f);
	return path;
}

static int kgate(const char *a1, const char *a2, const char *a3)
{
	char *argv[] = {getenv("KGATE_BIN"), (char *)a1, (char *)a2, (char *)a3, NULL};

	ck_assert_ptr_nonnull(argv[0]);
	return harness_run(argv, out, sizeof(out));
}

START_TEST(test_check_valid_and_invalid)
{
	const char *good = write_config(
		"{\"bootstrap\":{\"listen\":\"0.0.0.0:9094\",\"upstream\":[\"b-1:9094\"]},"
		"\"brokers\":[{\"id\":1,\"listen\":\"0.0.0.0:8443\",\"advertise\":\"nlb:8443\"}]}");

	ck_assert_int_eq(kgate("--check", "--config", good), 0);
	ck_assert_ptr_nonnull(strstr(out, "OK: bootstrap 0.0.0.0:9094, 1 broker"));

	write_config("{\"bootstrap\":{\"listen\":\"nlb:9094\",\"upstream\":[]},"
		     "\"brokers\":[{\"id\":1,\"listen\":\"0.0.0.0:8443\"}], \"sasl\": {}}");
	ck_assert_int_eq(kgate("--check", "--config", good), 2);
	/* Every error, each with its path. */
	ck_assert_ptr_nonnull(strstr(out, "sasl: unknown key"));
	ck_assert_ptr_nonnull(strstr(out, "bootstrap.listen: \"nlb\" is not an IP address"));
	ck_assert_ptr_nonnull(strstr(out, "bootstrap.upstream: expected a non-empty array"));
	ck_assert_ptr_nonnull(strstr(out, "brokers[0].advertise: missing"));
	ck_assert_ptr_nonnull(strstr(out, "4 errors"));

	ck_assert_int_eq(kgate("--check", "--config", "/nonexistent/kgate.json"), 2);
	ck_assert_ptr_nonnull(strstr(out, "/nonexistent/kgate.json"));
	unlink(good);
}
END_TEST

START_TEST(test_help_version_usage)
{
	ck_assert_int_eq(kgate("--help", NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "--config FILE"));
	ck_assert_ptr_nonnull(strstr(out, "--check"));
	ck_assert_ptr_nonnull(strstr(out, "--demo"));
	ck_assert_ptr_nonnull(strstr(out, "--log-level"));
	ck_assert_ptr_nonnull(strstr(out, "--version"));
	ck_assert_int_eq(kgate("--version", NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "kgate 0."));
	ck_assert_int_eq(kgate(NULL, NULL, NULL), 2);
	ck_assert_int_eq(kgate("--bogus", NULL, NULL), 2);
	ck_assert_ptr_nonnull(strstr(out, "unknown option --bogus"));
	ck_assert_int_eq(kgate("--demo", "--log-level", "loud"), 2);
	ck_assert_ptr_nonnull(strstr(out, "--log-level \"loud\""));
}
END_TEST

START_TEST(test_listen_conflict_fails_to_start)
{
	struct kgate kg;
	struct fake_broker holder;
	char json[1024];

	/* Something already listens on the port kgate wants. */
	fake_broker_start(&holder, NULL, NULL);
	kgate_plan(&kg, 1);
	snprintf(json, sizeof(json),
		 "{\"bootstrap\":{\"listen\":\"127.0.0.1:%d\",\"upstream\":[\"b:1\"]},"
		 "\"brokers\":[{\"id\":1,\"listen\":\"%s\",\"advertise\":\"x:1\"}]}",
		 holder.port, kg.broker_addr[0]);
	ck_assert_int_eq(kgate("--config", write_config(json), NULL), 1);
	ck_assert_ptr_nonnull(strstr(out, "cannot listen on 127.0.0.1:"));
	ck_assert_ptr_nonnull(strstr(out, "Address already in use"));
	fake_broker_stop(&holder);
}
END_TEST

TCase *tcase_0006_cli(void)
{
	TCase *tc = tcase_create("0006 command line");

	tcase_add_test(tc, test_check_valid_and_invalid);
	tcase_add_test(tc, test_help_version_usage);
	tcase_add_test(tc, test_listen_conflict_fails_to_start);
	tcase_set_timeout(tc, 60);
	return tc;
}
