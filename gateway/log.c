/* log.c — levelled logging to stderr with UTC timestamps. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum log_level log_current_level = LOG_INFO;
/* Set by the main thread (a reload may change it), read by every worker. */
static atomic_int log_json;
/* The worker this thread runs (0: the main thread's): lines from the
 * others say which, so two workers' lines about pair #3 and #4 are told
 * apart. */
static _Thread_local unsigned log_worker;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int log_level_parse(const char *name, enum log_level *level)
{
	for (int i = LOG_ERROR; i <= LOG_DEBUG; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_set_level(enum log_level level)
{
	log_current_level = level;
}

void log_set_format(int json)
{
	atomic_store_explicit(&log_json, json, memory_order_relaxed);
}

void log_set_worker(unsigned worker)
{
	log_worker = worker;
}

/* The length of the well-formed UTF-8 sequence of 2 to 4 bytes at p, or 0
 * (overlong forms and surrogates included in what is refused). */
static size_t utf8_len(const unsigned char *p)
{
	size_t n = *p >= 0xf0 && *p <= 0xf4 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 && *p <= 0xdf ? 2 : 0;

	if (*p >= 0xf5)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && ((*p == 0xe0 && p[1] < 0xa0) || (*p == 0xed && p[1] >= 0xa0))) ||
	    (n == 4 && ((*p == 0xf0 && p[1] < 0x90) || (*p == 0xf4 && p[1] >= 0x90))))
		return 0;
	return n;
}

/* Writes s into buf as the inside of a JSON string; cut short to fit.
 * Well-formed UTF-8 (kgate's own "…") stays as it is; any other byte
 * outside printable ASCII is escaped. */
static void json_escape(char *buf, size_t len, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, n;

	for (const unsigned char *p = (const unsigned char *)s; *p && o + 7 < len; p++) {
		if (*p == '"' || *p == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)*p;
		} else if (*p >= 0x80 && (n = utf8_len(p)) > 0) {
			memcpy(buf + o, p, n);
			o += n;
			p += n - 1;
		} else if (*p < 0x20 || *p >= 0x7f) {
			o += (size_t)snprintf(buf + o, len - o, "\\u00%c%c", hex[*p >> 4],
					      hex[*p & 15]);
		} else {
			buf[o++] = (char)*p;
		}
	}
	buf[o] = '\0';
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048], stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (atomic_load_explicit(&log_json, memory_order_relaxed)) {
		char msg[2048], escaped[sizeof(msg) * 2], worker[32] = "";

		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		json_escape(escaped, sizeof(escaped), msg);
		if (log_worker)
			snprintf(worker, sizeof(worker), ",\"worker\":%u", log_worker);
		fprintf(stderr, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\"%s,\"msg\":\"%s\"}\n",
			stamp, ts.tv_nsec / 1000000, level_names[level], worker, escaped);
		return;
	}
	n = snprintf(line, sizeof(line), "%s.%03ldZ %-5s ", stamp, ts.tv_nsec / 1000000,
		     level_names[level]);
	if (log_worker)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "[worker %u] ", log_worker);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line so concurrent writers do not interleave. */
	fprintf(stderr, "%s\n", line);
}

const char *log_escape(char *buf, size_t len, const void *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = s;
	size_t o = 0;

	if (len == 0)
		return buf;
	for (size_t i = 0; i < n; i++) {
		int plain = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\';

		/* Room for this byte's form, and "..." and the NUL after it. */
		if (o + (plain ? 1 : 4) + 4 > len) {
			snprintf(buf + o, len - o, "...");
			return buf;
		}
		if (plain) {
			buf[o++] = (char)p[i];
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[p[i] >> 4];
			buf[o++] = hex[p[i] & 15];
		}
	}
	buf[o] = '\0';
	return buf;
}
