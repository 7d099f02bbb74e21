/* harness.c — processes, ports and sockets for the integration tests. */
#include "harness.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* Failsafes only: a healthy run takes a fraction of these. */
#define START_DEADLINE_MS 20000
#define STOP_DEADLINE_MS 20000
#define SOCKET_TIMEOUT_S 20

int64_t harness_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* ---- mock cluster ---- */

static void quiet_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	if (level <= 3)
		fprintf(stderr, "mock: %s: %s\n", fac, buf);
}

void mock_start(struct mock *m, int n_brokers)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256], list[512], *save = NULL, *tok;
	int i = 0;

	memset(m, 0, sizeof(*m));
	rd_kafka_conf_set_log_cb(conf, quiet_log_cb);
	m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	ck_assert_msg(m->rk != NULL, "mock handle: %s", errstr);
	m->mc = rd_kafka_mock_cluster_new(m->rk, n_brokers);
	ck_assert_ptr_nonnull(m->mc);
	m->n_brokers = n_brokers;
	snprintf(m->bootstraps, sizeof(m->bootstraps), "%s",
		 rd_kafka_mock_cluster_bootstraps(m->mc));
	/* The bootstrap list is in broker id order, 1..n. */
	snprintf(list, sizeof(list), "%s", m->bootstraps);
	for (tok = strtok_r(list, ",", &save); tok && i < n_brokers;
	     tok = strtok_r(NULL, ",", &save))
		snprintf(m->addr[i++], sizeof(m->addr[0]), "%s", tok);
	ck_assert_int_eq(i, n_brokers);
}

void mock_stop(struct mock *m)
{
	if (m->mc)
		rd_kafka_mock_cluster_destroy(m->mc);
	if (m->rk)
		rd_kafka_destroy(m->rk);
	memset(m, 0, sizeof(*m));
}

/* ---- kgate process ---- */

void kgate_plan(struct kgate *k, int n_brokers)
{
	int fds[HARNESS_MAX_BROKERS + 1] = {0}, ports[HARNESS_MAX_BROKERS + 1] = {0};

	memset(k, 0, sizeof(*k));
	k->pid = -1;
	k->n_brokers = n_brokers;
	/* Hold all sockets open while choosing so the ports are distinct. */
	for (int i = 0; i <= n_brokers; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		socklen_t len = sizeof(sa);

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(fds[i], 0);
		ck_assert_int_eq(bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
		ck_assert_int_eq(getsockname(fds[i], (struct sockaddr *)&sa, &len), 0);
		ports[i] = ntohs(sa.sin_port);
	}
	for (int i = 0; i <= n_brokers; i++)
		close(fds[i]);
	k->bootstrap_port = ports[0];
	snprintf(k->bootstrap, sizeof(k->bootstrap), "127.0.0.1:%d", ports[0]);
	for (int i = 0; i < n_brokers; i++) {
		k->broker_port[i] = ports[i + 1];
		snprintf(k->broker_addr[i], sizeof(k->broker_addr[0]), "127.0.0.1:%d", ports[i + 1]);
	}
}

/* 1 if n loopback ports from base can all be bound now. */
static int ports_free(int base, int n)
{
	int ok = 1;
	int fds[HARNESS_MAX_BROKERS];

	for (int i = 0; i < n; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons((uint16_t)(base + i))};

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(fds[i], 0);
		if (bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) < 0)
			ok = 0;
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	return ok;
}

void kgate_plan_consecutive(struct kgate *k, int n_brokers)
{
	int base = 0;

	kgate_plan(k, n_brokers);
	/* Below Linux's ephemeral range (32768 on), where nothing else is
	 * handed out by the kernel meanwhile. */
	srand((unsigned)getpid() ^ (unsigned)harness_now_ms());
	for (int tries = 0; tries < 100 && !base; tries++) {
		int b = 20000 + rand() % 12000;

		if (b != k->bootstrap_port && (b > k->bootstrap_port ||
					       b + n_brokers <= k->bootstrap_port) &&
		    ports_free(b, n_brokers))
			base = b;
	}
	ck_assert_msg(base, "no %d consecutive free ports", n_brokers);
	for (int i = 0; i < n_brokers; i++) {
		k->broker_port[i] = base + i;
		snprintf(k->broker_addr[i], sizeof(k->broker_addr[0]), "127.0.0.1:%d", base + i);
	}
}

char *kgate_config_for_mock(const struct kgate *k, const struct mock *m, int static_upstream,
			    const char *extra)
{
	size_t cap = 8192, n = 0;
	char *json = malloc(cap);

	ck_assert_ptr_nonnull(json);
	n += (size_t)snprintf(json + n, cap - n,
			      "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [",
			      k->bootstrap);
	for (int i = 0; i < m->n_brokers; i++)
		n += (size_t)snprintf(json + n, cap - n, "%s\"%s\"", i ? ", " : "", m->addr[i]);
	n += (size_t)snprintf(json + n, cap - n, "] },\n  \"brokers\": [");
	for (int i = 0; i < k->n_brokers; i++) {
		n += (size_t)snprintf(json + n, cap - n,
				      "%s\n    { \"id\": %d, \"listen\": \"%s\", \"advertise\": "
				      "\"%s\"",
				      i ? "," : "", i + 1, k->broker_addr[i], k->broker_addr[i]);
		if (static_upstream)
			n += (size_t)snprintf(json + n, cap - n, ", \"upstream\": \"%s\"",
					      m->addr[i]);
		n += (size_t)snprintf(json + n, cap - n, " }");
	}
	snprintf(json + n, cap - n, " ]%s%s }\n", extra ? ",\n  " : "", extra ? extra : "");
	return json;
}

void fixture_start(struct mock *m, struct kgate *k, int n_mock, int n_kgate,
		   const char *topic, int partitions, int static_upstream)
{
	char *cfg;

	mock_start(m, n_mock);
	ck_assert_int_eq(rd_kafka_mock_topic_create(m->mc, topic, partitions, n_mock), 0);
	kgate_plan(k, n_kgate);
	cfg = kgate_config_for_mock(k, m, static_upstream, NULL);
	kgate_start(k, cfg);
	free(cfg);
}

void kgate_start_static(struct kgate *k, int n, int upstream_port, const char *limits)
{
	char cfg[4096];
	size_t len;

	kgate_plan(k, n);
	len = (size_t)snprintf(cfg, sizeof(cfg),
			       "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": "
			       "[\"127.0.0.1:%d\"] },\n  \"brokers\": [",
			       k->bootstrap, upstream_port);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(cfg + len, sizeof(cfg) - len,
					"%s\n    { \"id\": %d, \"listen\": \"%s\", "
					"\"advertise\": \"%s\", \"upstream\": \"127.0.0.1:%d\" }",
					i ? "," : "", i + 1, k->broker_addr[i], k->broker_addr[i],
					upstream_port);
	snprintf(cfg + len, sizeof(cfg) - len, " ]%s%s }\n", limits ? ",\n  \"limits\": " : "",
		 limits ? limits : "");
	kgate_start(k, cfg);
}

int harness_run_case(TCase *tc)
{
	Suite *s = suite_create("kgate");
	SRunner *sr;
	int failed;

	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}

const char *harness_tmp_root(void)
{
	const char *t = getenv("KGATE_TEST_TMP");

	return t ? t : "/tmp";
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf) {
		n = (long)fread(buf, 1, (size_t)n, f);
		buf[n] = '\0';
	}
	fclose(f);
	return buf;
}

/* The config as the tests run it: a graceful stop drains for at most
 * DRAIN_MS unless the test sets its own drain_timeout_ms (the default, 30 s,
 * is longer than STOP_DEADLINE_MS, and a stalled client would keep it).
 * KGATE_TEST_NO_DRAIN leaves the config alone, for a kgate that predates
 * the key. */
#define DRAIN_MS 3000

static char *as_tested(const char *config_json)
{
	json_t *root, *limits;
	json_error_t jerr;
	char *out;

	if (getenv("KGATE_TEST_NO_DRAIN") || strstr(config_json, "drain_timeout_ms"))
		return strdup(config_json);
	root = json_loads(config_json, 0, &jerr);
	if (!root || !json_is_object(root)) {
		json_decref(root);
		return strdup(config_json); /* kgate will say what is wrong */
	}
	limits = json_object_get(root, "limits");
	if (!limits) {
		limits = json_object();
		json_object_set_new(root, "limits", limits);
	}
	if (json_is_object(limits))
		json_object_set_new(limits, "drain_timeout_ms", json_integer(DRAIN_MS));
	out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return out;
}

static void write_config(const char *path, const char *config_json)
{
	char *text = as_tested(config_json);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(text);
}

void kgate_start(struct kgate *k, const char *config_json)
{
	const char *bin = getenv("KGATE_BIN");
	const char *level = getenv("KGATE_TEST_LOG_LEVEL");
	char *cfg_path = k->config_path;
	int64_t deadline;

	ck_assert_msg(bin != NULL, "KGATE_BIN is not set");
	mkdir(harness_tmp_root(), 0755);
	snprintf(k->dir, sizeof(k->dir), "%s/kgate-XXXXXX", harness_tmp_root());
	ck_assert_ptr_nonnull(mkdtemp(k->dir));
	snprintf(k->config_path, sizeof(k->config_path), "%s/kgate.json", k->dir);
	snprintf(k->log_path, sizeof(k->log_path), "%s/kgate.log", k->dir);
	write_config(cfg_path, config_json);

	k->pid = fork();
	ck_assert_int_ge(k->pid, 0);
	if (k->pid == 0) {
		int fd = open(k->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		/* Die with the test, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execl(bin, bin, "--config", cfg_path, "--log-level", level ? level : "info",
		      (char *)NULL);
		_exit(127);
	}
	/* Ready once it says so: every listener is bound by then. */
	deadline = harness_now_ms() + START_DEADLINE_MS;
	while (!kgate_log_contains(k, " ready")) {
		int status;

		if (waitpid(k->pid, &status, WNOHANG) == k->pid) {
			char *log = read_file(k->log_path);

			k->pid = -1;
			ck_abort_msg("kgate exited at start (status %d):\n%s", status,
				     log ? log : "");
		}
		ck_assert_msg(harness_now_ms() < deadline, "kgate did not become ready");
		sleep_ms(10);
	}
}

int kgate_reload(struct kgate *k, const char *config_json)
{
	int ok = kgate_log_count(k, "reloaded the configuration");
	int failed = kgate_log_count(k, "reload failed");
	int64_t deadline = harness_now_ms() + START_DEADLINE_MS;

	write_config(k->config_path, config_json);
	ck_assert_int_eq(kill(k->pid, SIGHUP), 0);
	for (;;) {
		if (kgate_log_count(k, "reloaded the configuration") > ok)
			return 1;
		if (kgate_log_count(k, "reload failed") > failed)
			return 0;
		ck_assert_msg(harness_now_ms() < deadline, "kgate did not answer SIGHUP");
		sleep_ms(10);
	}
}

int kgate_stop(struct kgate *k)
{
	int64_t deadline = harness_now_ms() + STOP_DEADLINE_MS;
	int status = 0;

	if (k->pid <= 0)
		return -1;
	kill(k->pid, SIGTERM);
	while (waitpid(k->pid, &status, WNOHANG) == 0) {
		if (harness_now_ms() > deadline) {
			kill(k->pid, SIGKILL);
			waitpid(k->pid, &status, 0);
			break;
		}
		sleep_ms(5);
	}
	k->pid = -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int kgate_wait_exit(struct kgate *k, int resignal, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	int status;

	if (k->pid <= 0)
		return -1;
	while (waitpid(k->pid, &status, WNOHANG) == 0) {
		if (harness_now_ms() > deadline)
			return -1;
		if (resignal)
			kill(k->pid, resignal);
		sleep_ms(resignal ? 1 : 10);
	}
	k->pid = -1;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

int kgate_log_count(const struct kgate *k, const char *s)
{
	char *log = read_file(k->log_path), *p;
	int n = 0;

	if (!log)
		return 0;
	for (p = log; (p = strstr(p, s)) != NULL; p += strlen(s))
		n++;
	free(log);
	return n;
}

int kgate_log_contains(const struct kgate *k, const char *s)
{
	return kgate_log_count(k, s) > 0;
}

long kgate_rss_kib(const struct kgate *k, int peak)
{
	char path[64], line[256];
	const char *key = peak ? "VmHWM:" : "VmRSS:";
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)k->pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			kib = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return kib;
}

/* Descriptors kgate has open below limit; -1 if unknown. */
static int fds_below(const struct kgate *k, int limit)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)k->pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && atoi(e->d_name) < limit)
			n++;
	closedir(d);
	return n;
}

int kgate_fd_count(const struct kgate *k)
{
	return fds_below(k, INT_MAX);
}

/* 1 if the TCP socket with this inode is listed in `table` (a /proc/net
 * file) as listening or established (tcp_states 0x0A, 0x01). */
static int tcp_socket_lasts(const char *table, unsigned long inode)
{
	FILE *f = fopen(table, "r");
	char line[512];
	int found = 0;

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long ino;
		unsigned state;

		found = sscanf(line, " %*u: %*[0-9A-Fa-f]:%*x %*[0-9A-Fa-f]:%*x %x %*x:%*x "
				     "%*x:%*x %*x %*u %*u %lu", &state, &ino) == 2 &&
			ino == inode && (state == 0x0A || state == 0x01);
	}
	fclose(f);
	return found;
}

/* How many of kgate's TCP sockets are on their way in or out: connecting,
 * half closed, or closed and not yet released. kgate settles each on its own
 * in a moment (libevent, for one, shuts an answered admin connection down at
 * once but closes it a turn of the loop later), and counting descriptors
 * while one is there counts one too many. A socket that ended its exchange
 * leaves the kernel's tables altogether, so its protocol is asked of the
 * descriptor itself; other sockets (evdns' UDP ones, Unix ones) last. */
static int kgate_sockets_in_flux(const struct kgate *k)
{
	char dir[64], path[320], target[64], proto[16];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)k->pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		unsigned long inode;
		ssize_t len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (sscanf(target, "socket:[%lu]", &inode) != 1)
			continue;
		len = getxattr(path, "system.sockprotoname", proto, sizeof(proto) - 1);
		if (len <= 0)
			continue; /* gone meanwhile */
		proto[len] = '\0';
		if (strncmp(proto, "TCP", 3) == 0 &&
		    !tcp_socket_lasts("/proc/net/tcp", inode) &&
		    !tcp_socket_lasts("/proc/net/tcp6", inode))
			n++;
	}
	closedir(d);
	return n;
}

void kgate_leave_fds(const struct kgate *k, int n, struct rlimit *old)
{
	int64_t deadline = harness_now_ms() + 10000;
	struct rlimit lowered;
	int limit;

	/* The count below is exact only once no socket is coming or going. */
	while (kgate_sockets_in_flux(k) != 0) {
		ck_assert_msg(harness_now_ms() < deadline,
			      "kgate kept %d sockets half closed or connecting for 10 s",
			      kgate_sockets_in_flux(k));
		usleep(10000);
	}
	ck_assert_int_eq(prlimit(k->pid, RLIMIT_NOFILE, NULL, old), 0);
	ck_assert_int_ge(fds_below(k, 8), 0);
	for (limit = 8; limit - fds_below(k, limit) != n; limit++)
		ck_assert_int_lt(limit, 4096);
	lowered = *old;
	lowered.rlim_cur = (rlim_t)limit;
	ck_assert_int_eq(prlimit(k->pid, RLIMIT_NOFILE, &lowered, NULL), 0);
}

static int is_kgate_port(const struct kgate *k, unsigned port)
{
	if (port == (unsigned)k->bootstrap_port)
		return 1;
	for (int i = 0; i < k->n_brokers; i++)
		if (port == (unsigned)k->broker_port[i])
			return 1;
	return 0;
}

int kgate_established(const struct kgate *k)
{
	/* sl local_address rem_address st ...; addresses are hex "IP:PORT".
	 * Only kgate listens on its ports, and connecting sockets never take
	 * a port a listener has bound, so a local port of kgate's is kgate's
	 * side of a connection it accepted. */
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned local_port, state;

		if (sscanf(line, " %*u: %*8x:%x %*8x:%*x %x", &local_port, &state) == 2 &&
		    state == 0x01 /* TCP_ESTABLISHED */ && is_kgate_port(k, local_port))
			n++;
	}
	fclose(f);
	return n;
}

int kgate_wait_fds_settled(const struct kgate *k, int idle_fds, int timeout_ms, int *fds,
			   int *conns)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	int in_a_row = 0;

	for (;;) {
		*conns = kgate_established(k);
		*fds = kgate_fd_count(k);
		if (*fds >= 0 && *conns >= 0 && *fds == idle_fds + 2 * *conns &&
		    kgate_established(k) == *conns)
			in_a_row++;
		else
			in_a_row = 0;
		if (in_a_row == 3)
			return 1;
		if (harness_now_ms() >= deadline)
			return 0;
		sleep_ms(20);
	}
}

double kgate_cpu_seconds(const struct kgate *k)
{
	char path[64];
	unsigned long utime = 0, stime = 0;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)k->pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	/* Fields 14 and 15; the command name (field 2) has no spaces here. */
	n = fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
		   &stime);
	fclose(f);
	return n == 2 ? (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK) : -1;
}

void kgate_assert_peak_rss(const struct kgate *k, const char *label, long max_kib)
{
	long peak = kgate_rss_kib(k, 1);

	fprintf(stderr, "%s: kgate peak RSS %ld KiB\n", label, peak);
	ck_assert_msg(peak > 0 && peak < max_kib, "kgate peak RSS %ld KiB", peak);
}

int kgate_wait_log(const struct kgate *k, const char *s, int n, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;

	while (kgate_log_count(k, s) < n) {
		if (harness_now_ms() >= deadline)
			return 0;
		sleep_ms(10);
	}
	return 1;
}

uint64_t kgate_counter_now(const struct kgate *k, const char *name)
{
	int before = kgate_log_count(k, "stats:");
	char line[4096], key[128];
	uint64_t v = 0;
	int found = 0;
	FILE *f;

	kill(k->pid, SIGUSR1);
	ck_assert(kgate_wait_log(k, "stats:", before + 1, 10000));
	snprintf(key, sizeof(key), " %s=", name);
	f = fopen(k->log_path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		const char *at = strstr(line, key);

		if (at) {
			v = strtoull(at + strlen(key), NULL, 10);
			found = 1;
		}
	}
	fclose(f);
	ck_assert_msg(found, "no counter %s in kgate's log", name);
	return v;
}

int kgate_wait_counter(const struct kgate *k, const char *counter, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;

	while (!kgate_log_contains(k, counter)) {
		if (harness_now_ms() >= deadline)
			return 0;
		kill(k->pid, SIGUSR1);
		sleep_ms(50);
	}
	return 1;
}

int kgate_owns(const struct kgate *k, const char *addr)
{
	if (strcmp(addr, k->bootstrap) == 0)
		return 1;
	for (int i = 0; i < k->n_brokers; i++)
		if (strcmp(addr, k->broker_addr[i]) == 0)
			return 1;
	return 0;
}

pid_t harness_spawn(char *const argv[], const char *log_path)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

void harness_kill(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

int harness_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

void harness_wait_port(int port)
{
	int64_t deadline = harness_now_ms() + START_DEADLINE_MS;

	for (;;) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
		if (rc == 0)
			return;
		ck_assert_msg(harness_now_ms() < deadline, "nothing listens on port %d", port);
		sleep_ms(10);
	}
}

const char *cert_path(int slot, const char *name)
{
	static char paths[8][512];
	const char *dir = getenv("KGATE_CERTS");

	ck_assert_msg(dir != NULL, "KGATE_CERTS is not set (make sets it)");
	snprintf(paths[slot % 8], sizeof(paths[0]), "%s/%s", dir, name);
	return paths[slot % 8];
}

int harness_run(char *const argv[], char *out, size_t len)
{
	int pipefd[2], status;
	size_t n = 0;
	pid_t pid;

	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t r = read(pipefd[0], out + n, len - 1 - n);

		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == len - 1) {
			char sink[256];

			while (read(pipefd[0], sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	out[n] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- raw sockets ---- */

int raw_connect(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {SOCKET_TIMEOUT_S, 0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	ck_assert_int_ge(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
		      "connect to port %d: %s", port, strerror(errno));
	return fd;
}

int raw_send(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int raw_recv(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int raw_wait_closed(int fd, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	char sink[4096];

	for (;;) {
		struct pollfd pfd = {fd, POLLIN, 0};
		int64_t left = deadline - harness_now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return 0;
		n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return 1;
	}
}

int http_get(int port, const char *path, char **body)
{
	char req[512], *buf = NULL, *sep;
	size_t n = 0, cap = 0;
	int fd = raw_connect(port), status = -1;

	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	ck_assert_int_eq(raw_send(fd, req, strlen(req)), 0);
	/* HTTP/1.0: the server closes when the answer is whole. */
	for (;;) {
		ssize_t r;

		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		r = recv(fd, buf + n, cap - n - 1, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	ck_assert_ptr_nonnull(buf);
	buf[n] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		status = -1;
	sep = strstr(buf, "\r\n\r\n");
	if (body) {
		*body = strdup(sep ? sep + 4 : "");
		ck_assert_ptr_nonnull(*body);
	}
	free(buf);
	return status;
}

double harness_metric(int admin_port, const char *name, const char *labels)
{
	char *body = NULL, *line, series[256];
	double sum = -1;
	size_t len;

	if (labels)
		snprintf(series, sizeof(series), "%s{%s} ", name, labels);
	else
		snprintf(series, sizeof(series), "%s", name);
	len = strlen(series);
	ck_assert_int_eq(http_get(admin_port, "/metrics", &body), 200);
	for (line = body; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *v;

		if (strncmp(line, series, len) != 0)
			continue;
		if (labels) {
			v = line + len - 1;
		} else {
			if (line[len] != ' ' && line[len] != '{')
				continue;
			v = line[len] == '{' ? strchr(line, '}') : line + len;
			if (!v)
				continue;
		}
		sum = (sum < 0 ? 0 : sum) + strtod(v + 1, NULL);
	}
	free(body);
	ck_assert_msg(sum >= 0, "kgate's /metrics has no %s", series);
	return sum;
}

const char *harness_src_path(const char *rel, char *buf, size_t len)
{
	const char *root = getenv("KGATE_SRC");

	snprintf(buf, len, "%s/%s", root ? root : ".", rel);
	return buf;
}

void harness_passwd_add(const char *file, const char *user, const char *password)
{
	const char *bin = getenv("KGATE_BIN");
	char cmd[1024];
	FILE *p;
	int status;

	ck_assert_msg(bin != NULL, "KGATE_BIN is not set");
	snprintf(cmd, sizeof(cmd), "'%s' passwd '%s' '%s'", bin, file, user);
	p = popen(cmd, "w");
	ck_assert_ptr_nonnull(p);
	fprintf(p, "%s\n", password);
	status = pclose(p);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "kgate passwd %s %s: status %d", file, user, status);
}
