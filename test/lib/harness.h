/* harness.h — running kgate and a librdkafka mock cluster for integration
 * tests: processes, ports, configs, logs, raw sockets.
 */
#ifndef KGATE_HARNESS_H
#define KGATE_HARNESS_H

#include <check.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#define HARNESS_MAX_BROKERS 8

/* A librdkafka mock cluster in this process. */
struct mock {
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	int n_brokers;
	char bootstraps[512];
	char addr[HARNESS_MAX_BROKERS][64]; /* broker id i+1 listens here */
};

void mock_start(struct mock *m, int n_brokers);
void mock_stop(struct mock *m);

/* A kgate process under test. */
struct kgate {
	pid_t pid;
	char dir[256];      /* temp dir: config and log */
	char config_path[320];
	char log_path[320];
	int bootstrap_port;
	int broker_port[HARNESS_MAX_BROKERS];
	int n_brokers;
	char bootstrap[64]; /* "127.0.0.1:port" */
	char broker_addr[HARNESS_MAX_BROKERS][64];
};

/* Picks free loopback ports for a gateway of n brokers. */
void kgate_plan(struct kgate *k, int n_brokers);
/* kgate_plan, with the brokers' ports consecutive (for broker_ports):
 * broker i (id i + 1) at broker_port[0] + i. */
void kgate_plan_consecutive(struct kgate *k, int n_brokers);
/* Config for fronting the mock: broker i listens on k's port, advertises
 * it, and dials the mock broker directly if static_upstream, else learns. */
char *kgate_config_for_mock(const struct kgate *k, const struct mock *m, int static_upstream,
			    const char *extra);
/* Writes config, starts $KGATE_BIN, waits until every listener accepts. */
void kgate_start(struct kgate *k, const char *config_json);
/* Writes a new config and sends SIGHUP; 1 once kgate says it reloaded, 0
 * once it says the reload failed. */
int kgate_reload(struct kgate *k, const char *config_json);
/* SIGTERM and wait; returns the exit status (or 128+signal). */
int kgate_stop(struct kgate *k);
/* Waits up to timeout_ms for kgate to exit by itself, sending it `resignal`
 * every millisecond meanwhile unless 0; its status as kgate_stop gives it,
 * or -1 if it is still running (it stays owned by the caller then). */
int kgate_wait_exit(struct kgate *k, int resignal, int timeout_ms);
/* 1 if kgate's stderr log contains s. */
int kgate_log_contains(const struct kgate *k, const char *s);
/* Counts occurrences of s in the log. */
int kgate_log_count(const struct kgate *k, const char *s);
/* Peak and current resident memory of kgate, in KiB (VmHWM, VmRSS). */
long kgate_rss_kib(const struct kgate *k, int peak);
/* How many file descriptors kgate has open (-1 if unknown). */
int kgate_fd_count(const struct kgate *k);
/* Lowers kgate's descriptor limit so that exactly n descriptors are free
 * below it (the old limits into *old, to be set back with prlimit). */
void kgate_leave_fds(const struct kgate *k, int n, struct rlimit *old);
/* Connections kgate has accepted that are still established: TCP sockets
 * in state ESTABLISHED on one of kgate's listening ports (on kgate's side;
 * -1 if unknown).  A client that has left shows as CLOSE_WAIT until kgate
 * closes its side, so it is not counted. */
int kgate_established(const struct kgate *k);
/* Waits (up to timeout_ms) until kgate's descriptors are exactly idle_fds
 * (what it holds with no client: listeners, log, event loop) plus two per
 * established client connection (its socket and its upstream's), seen on
 * three samples in a row; returns 1 if so, 0 at the deadline.  Stores the
 * last counts seen in *fds and *conns. */
int kgate_wait_fds_settled(const struct kgate *k, int idle_fds, int timeout_ms, int *fds,
			   int *conns);
/* kgate's user+system CPU time so far, in seconds (-1 if unknown). */
double kgate_cpu_seconds(const struct kgate *k);
/* Prints kgate's peak memory under label and asserts it stayed below
 * max_kib: the one bound every back-pressure test holds kgate to. */
void kgate_assert_peak_rss(const struct kgate *k, const char *label, long max_kib);
/* Waits (up to timeout_ms) until kgate's log holds s at least n times;
 * returns 1 if it did, 0 on timeout, for the caller to assert with its
 * own message. */
int kgate_wait_log(const struct kgate *k, const char *s, int n, int timeout_ms);
/* Asks kgate for its counters (SIGUSR1) until a counters line holds
 * counter ("name=value ", e.g. "connections_open=0 "); 1 if one did
 * within timeout_ms, else 0. */
int kgate_wait_counter(const struct kgate *k, const char *counter, int timeout_ms);
/* One of kgate's counters now ("bytes_spliced"): asked for with SIGUSR1,
 * read from the counters line that answers. */
uint64_t kgate_counter_now(const struct kgate *k, const char *name);
/* 1 if addr ("host:port") is one of kgate's listeners. */
int kgate_owns(const struct kgate *k, const char *addr);

/* The usual fixture: a mock cluster of n_mock brokers with topic (of
 * partitions, replicated on every broker), and kgate fronting n_kgate of
 * them, dialling them directly (static_upstream) or learning where they are. */
void fixture_start(struct mock *m, struct kgate *k, int n_mock, int n_kgate,
		   const char *topic, int partitions, int static_upstream);
/* Starts kgate with n brokers whose bootstrap and broker upstreams are all
 * 127.0.0.1:upstream_port (a scripted broker); extra is a "limits" object
 * or NULL. */
void kgate_start_static(struct kgate *k, int n, int upstream_port, const char *limits);
/* Runs one test case alone, in this process (for the benchmarks, whose
 * helpers report through Check); returns the number of failures. */
int harness_run_case(TCase *tc);

/* Starts a command in the background (output to log_path), dying with the
 * test; returns its pid. */
pid_t harness_spawn(char *const argv[], const char *log_path);
/* Kills and reaps a spawned process. */
void harness_kill(pid_t pid);
/* A free loopback port (bound and released; good enough for tests). */
int harness_free_port(void);
/* Where tests keep their files: $KGATE_TEST_TMP, or /tmp. */
const char *harness_tmp_root(void);
/* Waits (failsafe deadline) until something accepts on 127.0.0.1:port. */
void harness_wait_port(int port);
/* Path of a file in the test PKI (KGATE_CERTS), in a static buffer per slot. */
const char *cert_path(int slot, const char *name);

/* Runs a command (argv) to completion; returns its exit status, with stdout
 * and stderr captured into out (NUL-terminated, truncated to len). */
int harness_run(char *const argv[], char *out, size_t len);
/* `kgate passwd FILE USER` (KGATE_BIN), the password on its stdin as an
 * operator pipes it; asserts it succeeded. */
void harness_passwd_add(const char *file, const char *user, const char *password);

/* Raw sockets: connect to 127.0.0.1:port (blocking, with timeouts). */
int raw_connect(int port);
int raw_send(int fd, const void *buf, size_t len);
/* Reads exactly len bytes; -1 on EOF/error/timeout. */
int raw_recv(int fd, void *buf, size_t len);
/* 1 if the peer closes the connection (EOF or reset) within timeout_ms,
 * discarding anything it sends first. */
int raw_wait_closed(int fd, int timeout_ms);

/* Path of a file in the source tree (KGATE_SRC, or "."). */
const char *harness_src_path(const char *rel, char *buf, size_t len);
/* GET path from an HTTP server on 127.0.0.1:port; returns the status code
 * and, if body is not NULL, the body (malloc'd). */
int http_get(int port, const char *path, char **body);
/* From kgate's /metrics (the admin listener at admin_port): the series
 * `name{labels}`, or with labels NULL the family `name` summed over its
 * series; asserts it is there. */
double harness_metric(int admin_port, const char *name, const char *labels);

/* Milliseconds on a monotonic clock. */
int64_t harness_now_ms(void);

#endif
