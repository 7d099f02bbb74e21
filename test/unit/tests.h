/* tests.h — the unit test suites (Check), assembled by main.c. */
#ifndef KGATE_TESTS_H
#define KGATE_TESTS_H

#include <check.h>

Suite *suite_kbuf(void);
Suite *suite_vectors(void);
Suite *suite_malformed(void);
Suite *suite_frame(void);
Suite *suite_config(void);
Suite *suite_fifo(void);
Suite *suite_tail(void);

/* Path of a file in the source tree (KGATE_SRC or "."). */
const char *test_src_path(const char *rel, char *buf, size_t len);

#endif
