/* main.c — runs the integration scenarios: real librdkafka clients and raw
 * sockets through a kgate process ($KGATE_BIN), against librdkafka's mock
 * cluster or a scripted broker. */
#include <stdlib.h>

#include "itests.h"

int main(void)
{
	Suite *s = suite_create("integration");
	SRunner *sr;
	int failed;

	suite_add_tcase(s, tcase_0001_produce_consume());
	suite_add_tcase(s, tcase_0002_addresses());
	suite_add_tcase(s, tcase_0003_broker_down());
	suite_add_tcase(s, tcase_0004_garbage());
	suite_add_tcase(s, tcase_0005_fake_broker());
	suite_add_tcase(s, tcase_0006_cli());
	suite_add_tcase(s, tcase_0007_tls());
	suite_add_tcase(s, tcase_0008_client_view());
	suite_add_tcase(s, tcase_0009_soak());
	suite_add_tcase(s, tcase_0010_hostile_broker());
	suite_add_tcase(s, tcase_0011_admin());
	suite_add_tcase(s, tcase_0012_drain());
	suite_add_tcase(s, tcase_0013_timeouts());
	suite_add_tcase(s, tcase_0014_reload());
	suite_add_tcase(s, tcase_0015_kgate_client());
	suite_add_tcase(s, tcase_0016_large_frames());
	suite_add_tcase(s, tcase_0017_workers());
	suite_add_tcase(s, tcase_0018_aws_credentials());
	suite_add_tcase(s, tcase_0019_upstream_sasl());
	suite_add_tcase(s, tcase_0020_client_logins());
	suite_add_tcase(s, tcase_0021_upstream_iam());
	suite_add_tcase(s, tcase_0022_broker_ports());
	suite_add_tcase(s, tcase_0023_sni());
	suite_add_tcase(s, tcase_0024_cluster_growth());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_VERBOSE);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
