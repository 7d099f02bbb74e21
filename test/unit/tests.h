/* tests.h — the unit test suites (Check), assembled by main.c. */
#ifndef KGATE_TESTS_H
#define KGATE_TESTS_H

#include <check.h>

#include "../../protocol/kbuf.h"
#include "../../protocol/kmap.h"

Suite *suite_kbuf(void);
Suite *suite_vectors(void);
Suite *suite_malformed(void);
Suite *suite_frame(void);
Suite *suite_config(void);
Suite *suite_ports(void);
Suite *suite_fifo(void);
Suite *suite_tail(void);
Suite *suite_kstream(void);
Suite *suite_cluster(void);
Suite *suite_backoff(void);
Suite *suite_hostile(void);
Suite *suite_chunk(void);
Suite *suite_sigv4(void);
Suite *suite_scram(void);
Suite *suite_users(void);
Suite *suite_aws_creds(void);
Suite *suite_auth(void);
Suite *suite_share(void);

/* Path of a file in the source tree (KGATE_SRC or "."). */
const char *test_src_path(const char *rel, char *buf, size_t len);
/* A kmap lookup that sends every node to the one address ctx points at (a
 * struct kmap_addr): the suites that only need "rewritten to something of
 * this length" share it instead of each writing its own. */
int map_fixed(void *ctx, int32_t node_id, const struct kstr *orig_host, int32_t orig_port,
	      struct kmap_addr *out);

/* Share groups' responses built by hand (test_share.c), for the stream
 * tests too: a ShareFetch v (records bytes of records in one partition, a
 * NOT_LEADER_OR_FOLLOWER partition, n_endpoints NodeEndpoints named
 * b-1.msk.internal:9092 for ids 1..n, unknown tags everywhere when unknown)
 * or a ShareAcknowledge, appended to w (from the CorrelationId); returns
 * where NodeEndpoints starts. */
size_t share_fetch_frame(struct kwbuf *w, int16_t v, int32_t correlation_id, size_t records,
			 int n_endpoints, int unknown);
size_t share_ack_frame(struct kwbuf *w, int16_t v, int32_t correlation_id, int n_endpoints,
		       int unknown);
/* Checks a share tail (NodeEndpoints and the top-level tags) as kgate
 * rewrote it with a map to "h":1: every entry mapped (none when dropped),
 * the unknown field kept, any other field padding, nothing left over. */
void share_check_tail(const uint8_t *p, size_t len, int n_endpoints, int unknown, int dropped);

#endif
