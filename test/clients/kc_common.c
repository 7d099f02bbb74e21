/* kc_common.c — kgate-client's deadline, failure lines, locks, watchdog and record format. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kc.h"

const char *kc_cmd = "kgate-client";
double kc_deadline;
int kc_timeout_s;
_Atomic(const char *) kc_phase = "starting";
static struct timespec kc_watchdog_at;

double kc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool kc_past_deadline(void)
{
	return kc_now() >= kc_deadline;
}

/* A blocking call's timeout: cap, or what is left before the deadline. */
int kc_call_timeout_ms(int cap_ms)
{
	double left_ms = (kc_deadline - kc_now()) * 1000.0;

	return left_ms < 1.0 ? 1 : left_ms < cap_ms ? (int)left_ms : cap_ms;
}

/* The one-line reason a check failed, on stderr in one write. */
void kc_fail(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "kgate-client: %s: %s\n", kc_cmd, line);
}

void kc_lock(pthread_mutex_t *m)
{
	if (pthread_mutex_lock(m) != 0)
		abort(); /* only a corrupted mutex fails; nothing sane is left */
}

void kc_unlock(pthread_mutex_t *m)
{
	if (pthread_mutex_unlock(m) != 0)
		abort();
}

/* Ends the process if the command outlives its deadline: a librdkafka call
 * that blocks (closing against a dead cluster) must not hang the test. */
static void *kc_watchdog(void *arg)
{
	(void)arg;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &kc_watchdog_at, NULL) == EINTR)
		;
	fprintf(stderr, "kgate-client: %s: still running %d s past the --timeout deadline "
			"(%d s) while %s; giving up\n", kc_cmd, KC_GRACE_S, kc_timeout_s,
		atomic_load(&kc_phase));
	_exit(KC_EXIT_FAIL);
	return NULL;
}

int kc_watchdog_start(void)
{
	pthread_t t;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &kc_watchdog_at);
	kc_watchdog_at.tv_sec += kc_timeout_s + KC_GRACE_S;
	err = pthread_create(&t, NULL, kc_watchdog, NULL);
	if (err == 0)
		err = pthread_detach(t);
	if (err != 0) {
		kc_fail("cannot start the watchdog thread: %s", strerror(err));
		return -1;
	}
	return 0;
}

/* An id's record: key "%lld", value the same padded with '.'. */
void kc_format_id(long long id, char *key, size_t key_size, char value[KC_VALUE_LEN])
{
	int n = snprintf(key, key_size, "%lld", id);

	memcpy(value, key, (size_t)n);
	memset(value + n, '.', (size_t)(KC_VALUE_LEN - n));
}
