/* main.c — runs every unit suite; exits non-zero if any test failed. */
#include <stdio.h>
#include <stdlib.h>

#include "../../gateway/log.h"
#include "tests.h"

const char *test_src_path(const char *rel, char *buf, size_t len)
{
	const char *root = getenv("KGATE_SRC");

	snprintf(buf, len, "%s/%s", root ? root : ".", rel);
	return buf;
}

int map_fixed(void *ctx, int32_t node_id, const struct kstr *orig_host, int32_t orig_port,
	      struct kmap_addr *out)
{
	(void)node_id;
	(void)orig_host;
	(void)orig_port;
	*out = *(const struct kmap_addr *)ctx;
	return 1;
}

int main(void)
{
	SRunner *sr;
	int failed;

	/* The code under test logs what it learns and refuses; the tests
	 * check the behaviour, and the integration tier checks the lines. */
	log_set_level(LOG_ERROR);
	sr = srunner_create(suite_kbuf());
	srunner_add_suite(sr, suite_vectors());
	srunner_add_suite(sr, suite_malformed());
	srunner_add_suite(sr, suite_frame());
	srunner_add_suite(sr, suite_config());
	srunner_add_suite(sr, suite_ports());
	srunner_add_suite(sr, suite_fifo());
	srunner_add_suite(sr, suite_tail());
	srunner_add_suite(sr, suite_kstream());
	srunner_add_suite(sr, suite_cluster());
	srunner_add_suite(sr, suite_backoff());
	srunner_add_suite(sr, suite_hostile());
	srunner_add_suite(sr, suite_chunk());
	srunner_add_suite(sr, suite_sigv4());
	srunner_add_suite(sr, suite_scram());
	srunner_add_suite(sr, suite_users());
	srunner_add_suite(sr, suite_aws_creds());
	srunner_add_suite(sr, suite_auth());
	srunner_add_suite(sr, suite_share());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
