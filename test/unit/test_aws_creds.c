/* test_aws_creds.c — the pure parts of the AWS credential chain: expiry
 * times, URLs, key masking (the providers themselves are exercised against
 * a fake AWS in integration test 0018). */
#include <string.h>

#include "../../gateway/aws_creds.h"
#include "../../gateway/aws_providers.h"
#include "../../gateway/http_fetch.h"
#include "tests.h"

START_TEST(test_time_parse)
{
	int64_t t = 0;

	ck_assert_int_eq(aws_time_parse("2026-11-27T16:00:00Z", &t), 0);
	ck_assert_int_eq(t, 1795795200);
	ck_assert_int_eq(aws_time_parse("2026-11-27T16:00:00.123Z", &t), 0);
	ck_assert_int_eq(t, 1795795200);
	ck_assert_int_eq(aws_time_parse("2026-11-27T17:30:00+01:30", &t), 0);
	ck_assert_int_eq(t, 1795795200);
	ck_assert_int_eq(aws_time_parse("2026-11-27T14:00:00-02:00", &t), 0);
	ck_assert_int_eq(t, 1795795200);
	ck_assert_int_eq(aws_time_parse("1970-01-01T00:00:00Z", &t), 0);
	ck_assert_int_eq(t, 0);
	ck_assert_int_eq(aws_time_parse("2026-11-27 16:00:00Z", &t), -1);
	ck_assert_int_eq(aws_time_parse("2026-11-27T16:00:00", &t), -1);
	ck_assert_int_eq(aws_time_parse("2026-13-27T16:00:00Z", &t), -1);
	ck_assert_int_eq(aws_time_parse("2026-11-27T16:00Z", &t), -1);
	ck_assert_int_eq(aws_time_parse("2026-11-27T16:00:00Zjunk", &t), -1);
	ck_assert_int_eq(aws_time_parse("", &t), -1);
}
END_TEST

START_TEST(test_url_split)
{
	char host[64], port[8];
	const char *path;
	int https;

	ck_assert_int_eq(http_url_split("https://sts.eu-west-1.amazonaws.com/", &https, host,
					sizeof(host), port, sizeof(port), &path),
			 0);
	ck_assert_int_eq(https, 1);
	ck_assert_str_eq(host, "sts.eu-west-1.amazonaws.com");
	ck_assert_str_eq(port, "443");
	ck_assert_str_eq(path, "/");
	ck_assert_int_eq(http_url_split("http://169.254.170.2/v2/credentials?id=1", &https, host,
					sizeof(host), port, sizeof(port), &path),
			 0);
	ck_assert_int_eq(https, 0);
	ck_assert_str_eq(port, "80");
	ck_assert_str_eq(path, "/v2/credentials?id=1");
	ck_assert_int_eq(http_url_split("http://[fd00:ec2::254]:8080", &https, host, sizeof(host),
					port, sizeof(port), &path),
			 0);
	ck_assert_str_eq(host, "fd00:ec2::254");
	ck_assert_str_eq(port, "8080");
	ck_assert_str_eq(path, "/");
	/* Not usable: other schemes, credentials in the URL, bad ports. */
	ck_assert_int_eq(http_url_split("ftp://x/", &https, host, sizeof(host), port, sizeof(port),
					&path),
			 -1);
	ck_assert_int_eq(http_url_split("http://user@evil/", &https, host, sizeof(host), port,
					sizeof(port), &path),
			 -1);
	ck_assert_int_eq(http_url_split("http://x:80a/", &https, host, sizeof(host), port,
					sizeof(port), &path),
			 -1);
	ck_assert_int_eq(http_url_split("http://:80/", &https, host, sizeof(host), port,
					sizeof(port), &path),
			 -1);
	ck_assert_int_eq(http_url_split("http://[::1/", &https, host, sizeof(host), port,
					sizeof(port), &path),
			 -1);
}
END_TEST

START_TEST(test_mask)
{
	char buf[32];

	ck_assert_str_eq(aws_creds_mask("AKIAIOSFODNN7EXAMPLE", buf, sizeof(buf)),
			 "AKIA\u2026MPLE");
	ck_assert_str_eq(aws_creds_mask("ABCDEFGH", buf, sizeof(buf)), "\u2026EFGH");
	ck_assert_str_eq(aws_creds_mask("ABC", buf, sizeof(buf)), "\u2026");
}
END_TEST

Suite *suite_aws_creds(void)
{
	Suite *s = suite_create("aws_creds");
	TCase *tc = tcase_create("parsing");

	tcase_add_test(tc, test_time_parse);
	tcase_add_test(tc, test_url_split);
	tcase_add_test(tc, test_mask);
	suite_add_tcase(s, tc);
	return s;
}
