/* front.h — test/lib/sasl_front.py as the integration tests run it: a SASL
 * front (PLAIN, SCRAM, MSK IAM, KIP-368 lifetimes) before each of the mock
 * cluster's brokers, one process, one loopback port per broker, and what
 * it counted (its stats, JSON). */
#ifndef KGATE_TEST_FRONT_H
#define KGATE_TEST_FRONT_H

#include <jansson.h>
#include <sys/types.h>

#include "harness.h"

/* Room for every mock broker plus an extra listener (0020's bootstrap). */
#define FRONT_MAX (HARNESS_MAX_BROKERS + 1)

struct front {
	pid_t pid;
	int n;
	int port[FRONT_MAX];
	char addr[FRONT_MAX][64]; /* "127.0.0.1:port" */
	char dir[256];            /* its files: stats.json, front.log, and the test's */
	char stats_path[320], log_path[320];
};

/* Makes the front's directory (under $KGATE_TEST_TMP, named prefix-XXXXXX)
 * and picks n free ports, so that the caller can name them in its
 * options before front_run. */
void front_init(struct front *f, const char *prefix, int n);
/* Starts it: listener i forwards to backends[i] ("host:port"), with args
 * (NULL-terminated) after; returns once its first stats are written
 * (every listener bound). */
void front_run(struct front *f, char backends[][64], const char *const *args);
/* Its stats as last written (it rewrites them on a change, within 100 ms). */
json_t *front_stats(const struct front *f);
/* SIGTERM (its final stats are written): it must exit 0; returns them. */
json_t *front_stop(struct front *f);
/* Waits (up to 30 s) until kgate, whose admin listener is at admin_port,
 * has counted in kgate_upstream_auths_total exactly the sign-ins the front
 * answered: every client connection open and idle, so none is being signed
 * in or abandoned half way. */
void front_wait_signins_counted(const struct front *f, int admin_port);
/* stats[key], or stats[key][sub] (0 if absent). */
long long front_stat(json_t *s, const char *key, const char *sub);
/* A list in the stats (failure_messages, violation_details) as one string. */
const char *front_notes(json_t *s, const char *key);
/* What every front must have seen, whatever the test: nothing before
 * authentication, nothing that breaks the protocol or KIP-368, no session
 * used after it expired. */
void front_assert_clean(json_t *s);

#endif
