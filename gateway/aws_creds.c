/* aws_creds.c — the AWS credential chain, the thread that keeps its
 * answer fresh, and `kgate aws-credentials` (see aws_creds.h).
 *
 * One set of credentials per process: MSK IAM signs with whatever the
 * chain found, as an SDK's default provider would.  The thread owns every
 * fetch; the rest of kgate reads a copy under the mutex.
 */
#include "aws_creds.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../config/config.h"
#include "aws_profile.h"
#include "aws_providers.h"
#include "log.h"

/* Back-off between failed fetches: doubling from the first to the cap. */
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 60000
/* Refresh this long before the end at the latest (as the SDKs do)... */
#define REFRESH_BEFORE_S 300
/* ...or at this share (per cent) of the lifetime, when that is earlier. */
#define REFRESH_AT_PERCENT 80

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* on CLOCK_MONOTONIC: stop, or the first attempt done */
	pthread_t thread;
	int running, stop, tried, have;
	struct aws_creds cur;
	char why[4096];   /* why there are none, when there are none */
	char lapsed[128]; /* which expired, until new ones come */
	char region[64];
	uint64_t refreshes, failures, expires;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void g_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&g.wake, &a);
	pthread_condattr_destroy(&a);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits on g.wake (g.lock held) until the monotonic deadline; 0 if it has
 * passed. */
static int wait_until(int64_t deadline_ms)
{
	struct timespec ts;
	int64_t now = mono_ms();

	if (now >= deadline_ms)
		return 0;
	if (deadline_ms == INT64_MAX) { /* long-term keys: only stop wakes us */
		pthread_cond_wait(&g.wake, &g.lock);
		return 1;
	}
	ts.tv_sec = deadline_ms / 1000;
	ts.tv_nsec = (deadline_ms % 1000) * 1000000;
	pthread_cond_timedwait(&g.wake, &g.lock, &ts);
	return 1;
}

static const char *fmt_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == 0)
		snprintf(buf, len, "never");
	else if (!gmtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

const char *aws_creds_mask(const char *access_key, char *buf, size_t len)
{
	size_t n = strlen(access_key);

	if (n >= 12)
		snprintf(buf, len, "%.4s\u2026%s", access_key, access_key + n - 4);
	else if (n >= 8)
		snprintf(buf, len, "\u2026%s", access_key + n - 4);
	else
		snprintf(buf, len, "\u2026");
	return buf;
}

static const char *region_or_env(const char *region)
{
	if (!region || !*region)
		region = getenv("AWS_REGION");
	if (!region || !*region)
		region = getenv("AWS_DEFAULT_REGION");
	return region && *region ? region : NULL;
}

int aws_creds_resolve(const char *region, struct aws_creds *out, char *why, size_t len)
{
	char reason[1024];
	size_t n = 0;
	int i;

	region = region_or_env(region);
	why[0] = '\0';
	for (i = 0; i < 5; i++) {
		static const char *const names[] = {"environment", "profile", "web identity",
						    "container", "imds"};
		int rc;

		reason[0] = '\0';
		switch (i) {
		case 0:
			rc = aws_from_env(out, reason, sizeof(reason));
			break;
		case 1:
			rc = aws_from_profile(out, reason, sizeof(reason));
			break;
		case 2:
			rc = aws_from_web_identity(region, out, reason, sizeof(reason));
			break;
		case 3:
			rc = aws_from_container(out, reason, sizeof(reason));
			break;
		default:
			rc = aws_from_imds(out, reason, sizeof(reason));
			break;
		}
		if (rc == 0)
			return 0;
		if (n < len)
			n += (size_t)snprintf(why + n, len - n, "%s%s: %s", i ? "; " : "", names[i],
					      reason[0] ? reason : "failed");
	}
	explicit_bzero(out, sizeof(*out));
	return -1;
}

/* When to fetch again, in ms from now, after getting credentials that
 * expire at exp (unix s) at now: the earlier of REFRESH_AT_PERCENT of the
 * lifetime and REFRESH_BEFORE_S before the end, at least a second away. */
static int64_t refresh_in_ms(int64_t now, int64_t exp)
{
	int64_t life_ms = (exp - now) * 1000, at = life_ms * REFRESH_AT_PERCENT / 100;

	if (exp - REFRESH_BEFORE_S > now && (exp - REFRESH_BEFORE_S - now) * 1000 < at)
		at = (exp - REFRESH_BEFORE_S - now) * 1000;
	return at < 1000 ? 1000 : at;
}

/* Notices (g.lock held) that the current credentials have expired. */
static void check_expired(void)
{
	char t[32];

	if (!g.have || g.cur.expires == 0 || (int64_t)time(NULL) < g.cur.expires)
		return;
	g.have = 0;
	g.expires++;
	snprintf(g.lapsed, sizeof(g.lapsed), "the AWS credentials from %s expired at %s",
		 g.cur.provider, fmt_time(g.cur.expires, t, sizeof(t)));
	log_error("%s; still trying to refresh them", g.lapsed);
	explicit_bzero(&g.cur, sizeof(g.cur));
}

/* One fetch and what follows from it (g.lock held on entry and exit, not
 * during the fetch); returns the monotonic time of the next one. */
static int64_t fetch_once(struct aws_creds *c, char *why, size_t len, int *streak)
{
	int64_t now, retry;
	char t[32], key[32], region[sizeof(g.region)];
	int rc;

	/* A reload may change it meanwhile (aws_creds_ensure). */
	snprintf(region, sizeof(region), "%s", g.region);
	pthread_mutex_unlock(&g.lock);
	rc = aws_creds_resolve(region, c, why, len);
	now = (int64_t)time(NULL);
	if (rc == 0 && c->expires != 0 && c->expires <= now) {
		snprintf(why, len, "the credentials from %s expired already (at %s)", c->provider,
			 fmt_time(c->expires, t, sizeof(t)));
		rc = -1;
	}
	pthread_mutex_lock(&g.lock);
	if (rc == 0) {
		g.cur = *c;
		g.have = 1;
		g.lapsed[0] = '\0';
		g.refreshes++;
		*streak = 0;
		log_info("AWS credentials from %s (access key %s, expire %s)", c->provider,
			 aws_creds_mask(c->access_key, key, sizeof(key)),
			 fmt_time(c->expires, t, sizeof(t)));
		explicit_bzero(c, sizeof(*c));
		/* Long-term keys never expire: no refresh. */
		return g.cur.expires == 0 ? INT64_MAX
					  : mono_ms() + refresh_in_ms(now, g.cur.expires);
	}
	g.failures++;
	check_expired();
	if (g.have) {
		log_warn("cannot refresh the AWS credentials from %s (they expire at %s): %s",
			 g.cur.provider, fmt_time(g.cur.expires, t, sizeof(t)), why);
	} else {
		snprintf(g.why, sizeof(g.why), "%s", why);
		log_error("no AWS credentials%s%s%s: %s", g.lapsed[0] ? " (" : "", g.lapsed,
			  g.lapsed[0] ? ")" : "", why);
	}
	retry = (int64_t)RETRY_FIRST_MS << (*streak < 6 ? *streak : 6);
	if (retry > RETRY_MAX_MS)
		retry = RETRY_MAX_MS;
	(*streak)++;
	return mono_ms() + retry;
}

static void *creds_thread(void *arg)
{
	struct aws_creds *c = malloc(sizeof(*c));
	char *why = malloc(sizeof(g.why));
	int streak = 0;

	(void)arg;
	pthread_mutex_lock(&g.lock);
	if (!c || !why) {
		snprintf(g.why, sizeof(g.why), "out of memory");
		g.tried = 1;
		pthread_cond_broadcast(&g.wake);
	}
	while (c && why && !g.stop) {
		int64_t next = fetch_once(c, why, sizeof(g.why), &streak);

		g.tried = 1;
		pthread_cond_broadcast(&g.wake);
		while (!g.stop) {
			int64_t until = next;

			/* Wake at the expiry too, to count it and say so. */
			if (g.have && g.cur.expires) {
				int64_t left = (g.cur.expires - (int64_t)time(NULL)) * 1000;
				int64_t at = mono_ms() + (left > 0 ? left : 0);

				if (at < until)
					until = at;
			}
			if (!wait_until(until)) {
				check_expired();
				if (mono_ms() >= next)
					break;
			}
		}
	}
	pthread_mutex_unlock(&g.lock);
	free(c);
	free(why);
	return NULL;
}

/* How long kgate waits at start (or reload) for the first credentials:
 * IMDS and the container endpoint answer in milliseconds, STS in a second
 * or two; what is not found by then is still looked for, in the thread. */
#define ENSURE_WAIT_MS 5000

void aws_creds_ensure(const struct cfg *cfg)
{
	const char *region = cfg_iam_region(cfg);

	if (!region)
		return;
	if (aws_creds_start(region) < 0) {
		/* Running already: a reload may have moved the region, which
		 * picks STS's endpoint for web identity from the next fetch. */
		pthread_mutex_lock(&g.lock);
		if (g.running && strcmp(g.region, region) != 0) {
			log_info("AWS region for STS now %s (was %s), from the next refresh",
				 region, g.region);
			snprintf(g.region, sizeof(g.region), "%s", region);
		}
		pthread_mutex_unlock(&g.lock);
		return;
	}
	if (aws_creds_wait(ENSURE_WAIT_MS) < 0)
		log_warn("no AWS credentials yet after %d ms; kgate keeps looking, and IAM sign-ins "
			 "fail until it finds some",
			 ENSURE_WAIT_MS);
}

int aws_creds_start(const char *region)
{
	sigset_t all, old;
	const char *r;
	int rc;

	pthread_once(&g_once, g_init);
	pthread_mutex_lock(&g.lock);
	if (g.running) {
		pthread_mutex_unlock(&g.lock);
		return -1;
	}
	r = region_or_env(region);
	snprintf(g.region, sizeof(g.region), "%s", r ? r : "");
	g.stop = g.tried = g.have = 0;
	g.lapsed[0] = '\0';
	snprintf(g.why, sizeof(g.why), "still looking");
	/* The thread takes no signals: they stay the main thread's, and a TLS
	 * write to a closed socket cannot kill the process with SIGPIPE. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&g.thread, NULL, creds_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_mutex_unlock(&g.lock);
		log_error("cannot start the AWS credentials thread: %s", strerror(rc));
		return -1;
	}
	g.running = 1;
	pthread_mutex_unlock(&g.lock);
	return 0;
}

int aws_creds_wait(int64_t timeout_ms)
{
	int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int rc;

	pthread_once(&g_once, g_init);
	pthread_mutex_lock(&g.lock);
	while (g.running && !g.tried && wait_until(deadline))
		;
	check_expired();
	rc = g.have ? 0 : -1;
	pthread_mutex_unlock(&g.lock);
	return rc;
}

int aws_creds_get(struct aws_creds *out, char *why, size_t len)
{
	int rc = -1;

	pthread_mutex_lock(&g.lock);
	if (g.have && (g.cur.expires == 0 || (int64_t)time(NULL) < g.cur.expires)) {
		if (out)
			*out = g.cur;
		rc = 0;
	} else if (!g.running) {
		snprintf(why, len, "AWS credentials not started");
	} else if (g.have) {
		char t[32];

		snprintf(why, len, "the AWS credentials from %s expired at %s", g.cur.provider,
			 fmt_time(g.cur.expires, t, sizeof(t)));
	} else {
		snprintf(why, len, "no AWS credentials%s%s%s: %s", g.lapsed[0] ? " (" : "",
			 g.lapsed, g.lapsed[0] ? ")" : "", g.why);
	}
	pthread_mutex_unlock(&g.lock);
	return rc;
}

void aws_creds_stop(void)
{
	pthread_mutex_lock(&g.lock);
	if (!g.running) {
		pthread_mutex_unlock(&g.lock);
		return;
	}
	g.stop = 1;
	pthread_cond_broadcast(&g.wake);
	pthread_mutex_unlock(&g.lock);
	/* A fetch in flight ends within its timeouts (1 s per request for the
	 * link-local endpoints, 5 s for STS). */
	pthread_join(g.thread, NULL);
	pthread_mutex_lock(&g.lock);
	g.running = g.have = g.tried = 0;
	explicit_bzero(&g.cur, sizeof(g.cur));
	pthread_mutex_unlock(&g.lock);
}

void aws_creds_stats(struct aws_creds_stats *out)
{
	pthread_mutex_lock(&g.lock);
	memset(out, 0, sizeof(*out));
	out->refreshes = g.refreshes;
	out->failures = g.failures;
	out->expires = g.expires;
	out->have = g.have && (g.cur.expires == 0 || (int64_t)time(NULL) < g.cur.expires);
	if (out->have) {
		out->expiry = g.cur.expires;
		snprintf(out->provider, sizeof(out->provider), "%s", g.cur.provider);
	}
	pthread_mutex_unlock(&g.lock);
}

int aws_creds_main(int argc, char **argv)
{
	static const struct option opts[] = {{"region", required_argument, NULL, 'r'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *region = NULL;
	struct aws_creds *c;
	char why[4096], key[32], t[32];
	int o, rc;

	opterr = 0;
	optind = 1;
	while ((o = getopt_long(argc, argv, "+r:h", opts, NULL)) != -1) {
		if (o == 'r') {
			region = optarg;
		} else if (o == 'h') {
			printf("usage: kgate aws-credentials [--region R]\n"
			       "Looks for AWS credentials as kgate does for MSK IAM (environment,\n"
			       "profile, web identity, container, EC2 instance metadata) and\n"
			       "prints where they came from, the key id (masked) and the expiry.\n"
			       "Exit status: 0 found, 1 none (with each provider's reason).\n");
			return 0;
		} else {
			fprintf(stderr, "kgate aws-credentials: unknown option or missing value: %s\n"
					"usage: kgate aws-credentials [--region R]\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kgate aws-credentials: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	c = malloc(sizeof(*c));
	if (!c) {
		fprintf(stderr, "kgate aws-credentials: out of memory\n");
		return 1;
	}
	rc = aws_creds_resolve(region, c, why, sizeof(why));
	if (rc == 0) {
		int64_t left = c->expires ? c->expires - (int64_t)time(NULL) : 0;

		printf("provider: %s\naccess key: %s\nsession token: %s\nexpires: %s",
		       c->provider, aws_creds_mask(c->access_key, key, sizeof(key)),
		       c->session_token[0] ? "yes" : "no", fmt_time(c->expires, t, sizeof(t)));
		if (c->expires)
			printf(" (in %lld s)", (long long)left);
		printf("\n");
	} else {
		fprintf(stderr, "kgate: no AWS credentials: %s\n", why);
	}
	explicit_bzero(c, sizeof(*c));
	free(c);
	return rc == 0 ? 0 : 1;
}
