/* itests.h — the integration scenarios (numbered, one file each). */
#ifndef KGATE_ITESTS_H
#define KGATE_ITESTS_H

#include <check.h>

TCase *tcase_0001_produce_consume(void);
TCase *tcase_0002_addresses(void);
TCase *tcase_0003_broker_down(void);
TCase *tcase_0004_garbage(void);
TCase *tcase_0005_fake_broker(void);
TCase *tcase_0006_cli(void);
TCase *tcase_0007_tls(void);
TCase *tcase_0008_client_view(void);
TCase *tcase_0009_soak(void);
TCase *tcase_0010_hostile_broker(void);
TCase *tcase_0011_admin(void);
TCase *tcase_0012_drain(void);
TCase *tcase_0013_timeouts(void);
TCase *tcase_0014_reload(void);
TCase *tcase_0015_kgate_client(void);
TCase *tcase_0016_large_frames(void);
TCase *tcase_0017_workers(void);
TCase *tcase_0018_aws_credentials(void);
TCase *tcase_0019_upstream_sasl(void);
TCase *tcase_0020_client_logins(void);
TCase *tcase_0021_upstream_iam(void);
TCase *tcase_0022_broker_ports(void);
TCase *tcase_0023_sni(void);
TCase *tcase_0024_cluster_growth(void);

#endif
