/* front.c — running test/lib/sasl_front.py (see front.h). */
#include "front.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FRONT_START_MS 20000
#define FRONT_STOP_MS 10000

void front_init(struct front *f, const char *prefix, int n)
{
	const char *tmp = harness_tmp_root();

	ck_assert_int_le(n, FRONT_MAX);
	memset(f, 0, sizeof(*f));
	f->pid = -1;
	f->n = n;
	mkdir(tmp, 0755);
	snprintf(f->dir, sizeof(f->dir), "%s/%s-XXXXXX", tmp, prefix);
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->stats_path, sizeof(f->stats_path), "%s/stats.json", f->dir);
	snprintf(f->log_path, sizeof(f->log_path), "%s/front.log", f->dir);
	for (int i = 0; i < n; i++) {
		f->port[i] = harness_free_port();
		snprintf(f->addr[i], sizeof(f->addr[0]), "127.0.0.1:%d", f->port[i]);
	}
}

void front_run(struct front *f, char backends[][64], const char *const *args)
{
	char src[512], listen[FRONT_MAX][96];
	char *argv[2 + 2 * FRONT_MAX + 64];
	size_t k = 0;
	int64_t deadline;

	argv[k++] = "/usr/bin/python3";
	argv[k++] = (char *)harness_src_path("test/lib/sasl_front.py", src, sizeof(src));
	for (int i = 0; i < f->n; i++) {
		snprintf(listen[i], sizeof(listen[0]), "%d=%s", f->port[i], backends[i]);
		argv[k++] = "--listen";
		argv[k++] = listen[i];
	}
	while (*args) {
		ck_assert_uint_lt(k, sizeof(argv) / sizeof(argv[0]) - 1);
		argv[k++] = (char *)*args++;
	}
	argv[k] = NULL;
	f->pid = harness_spawn(argv, f->log_path);
	deadline = harness_now_ms() + FRONT_START_MS;
	while (access(f->stats_path, R_OK) != 0) {
		int status;

		ck_assert_msg(waitpid(f->pid, &status, WNOHANG) == 0,
			      "sasl_front.py exited at start (see %s)", f->log_path);
		ck_assert_msg(harness_now_ms() < deadline, "sasl_front.py did not start");
		usleep(10000);
	}
}

json_t *front_stats(const struct front *f)
{
	json_error_t jerr;
	json_t *s = json_load_file(f->stats_path, 0, &jerr);

	ck_assert_msg(s != NULL, "%s: %s", f->stats_path, jerr.text);
	return s;
}

json_t *front_stop(struct front *f)
{
	int64_t deadline = harness_now_ms() + FRONT_STOP_MS;
	int status = 0;

	kill(f->pid, SIGTERM);
	while (waitpid(f->pid, &status, WNOHANG) == 0) {
		if (harness_now_ms() > deadline) {
			harness_kill(f->pid);
			ck_abort_msg("sasl_front.py did not stop on SIGTERM");
		}
		usleep(10000);
	}
	f->pid = -1;
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "sasl_front.py ended with status %d (see %s)", status, f->log_path);
	return front_stats(f);
}

void front_wait_signins_counted(const struct front *f, int admin_port)
{
	int64_t deadline = harness_now_ms() + 30000;

	for (;;) {
		/* The front's count first: its stats may be up to 100 ms old,
		 * and kgate counts a sign-in once it has the answer the front
		 * counted, so the two meet and stay met. */
		json_t *s = front_stats(f);
		long long answered = front_stat(s, "authenticated", NULL);
		double counted = harness_metric(admin_port, "kgate_upstream_auths_total", NULL);

		json_decref(s);
		if (counted == (double)answered)
			return;
		ck_assert_msg(harness_now_ms() < deadline,
			      "kgate_upstream_auths_total %.0f, the fronts answered %lld sign-ins",
			      counted, answered);
		usleep(20000);
	}
}

long long front_stat(json_t *s, const char *key, const char *sub)
{
	json_t *v = json_object_get(s, key);

	if (sub)
		v = json_object_get(v, sub);
	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

const char *front_notes(json_t *s, const char *key)
{
	static char buf[4096];
	json_t *arr = json_object_get(s, key), *v;
	size_t i, n = 0;

	buf[0] = '\0';
	json_array_foreach(arr, i, v)
	{
		if (json_is_string(v) && n < sizeof(buf) - 1)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s; ", json_string_value(v));
	}
	return buf;
}

void front_assert_clean(json_t *s)
{
	ck_assert_msg(front_stat(s, "unauthenticated_requests", NULL) == 0,
		      "the front got %lld request(s) before authentication",
		      front_stat(s, "unauthenticated_requests", NULL));
	ck_assert_msg(front_stat(s, "violations", NULL) == 0, "re-authentication violations: %s",
		      front_notes(s, "violation_details"));
	ck_assert_msg(front_stat(s, "expired", NULL) == 0,
		      "%lld connection(s) used after their session expired",
		      front_stat(s, "expired", NULL));
	ck_assert_int_eq(front_stat(s, "protocol_errors", NULL), 0);
}
