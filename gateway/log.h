/* log.h — levelled logging to stderr.
 *
 * One line per event: UTC timestamp, level, message.  Connection code adds
 * its own prefix (see conn.h) so every line about a client says which one.
 */
#ifndef KGATE_LOG_H
#define KGATE_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern enum log_level log_current_level;

/* Parses "error", "warn", "info" or "debug"; -1 if it is none of them. */
int log_level_parse(const char *name, enum log_level *level);
void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
