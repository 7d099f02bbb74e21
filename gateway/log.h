/* log.h — levelled logging to stderr.
 *
 * One line per event: UTC timestamp, level, message — as text, or as a JSON
 * object for log shippers.  Connection code adds
 * its own prefix (see pair.c) so every line about a client says which one.
 * Anything a peer sent goes through log_escape first.
 */
#ifndef KGATE_LOG_H
#define KGATE_LOG_H

#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern enum log_level log_current_level;

/* Parses "error", "warn", "info" or "debug"; -1 if it is none of them. */
int log_level_parse(const char *name, enum log_level *level);
void log_set_level(enum log_level level);
/* 1: one JSON object per line ({"time", "level", "msg"}, escaped per
 * JSON's rules, bytes outside ASCII as \u00XX); 0: plain text. */
void log_set_format(int json);
/* This thread runs worker n: its lines say so ("[worker n]", or a "worker"
 * field in JSON) unless n is 0, the main thread. */
void log_set_worker(unsigned n);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes s[0..n) into buf for a log line: printable ASCII as it is, every
 * other byte (and the backslash) as \xHH, so nothing a peer sent can end a
 * line or drive a terminal.  Cut short with "..." if buf is too small.
 * Returns buf. */
const char *log_escape(char *buf, size_t len, const void *s, size_t n);

/* Arguments are not evaluated when the level is off. */
#define log_enabled(lvl) ((lvl) <= log_current_level)
#define LOG(lvl, ...)                                                         \
	do {                                                                  \
		if (log_enabled(lvl))                                         \
			log_msg((lvl), __VA_ARGS__);                          \
	} while (0)
#define log_error(...) LOG(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) LOG(LOG_WARN, __VA_ARGS__)
#define log_info(...) LOG(LOG_INFO, __VA_ARGS__)
#define log_debug(...) LOG(LOG_DEBUG, __VA_ARGS__)

#endif
