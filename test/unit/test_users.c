/* test_users.c — the credentials file (config/users.c): loading, errors
 * naming the JSON path, lookups; and `kgate passwd` (users_passwd_main) run
 * in-process on a scratch directory, its file read back and its secrets
 * checked against the password. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../config/users.h"
#include "tests.h"

/* Entries that are valid in shape: RFC 7677's salt, 4096 iterations, keys
 * of zeros of each hash's length (32, 64 bytes). */
#define SALT "\"salt\":\"W22ZaJ0SNY7soEsUEjb6gQ==\""
#define K32 "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\""
#define K64                                                                                      \
	"\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
	"AA==\""
#define M256 "{" SALT ",\"iterations\":4096,\"stored_key\":" K32 ",\"server_key\":" K32 "}"
#define M512 "{" SALT ",\"iterations\":4096,\"stored_key\":" K64 ",\"server_key\":" K64 "}"

START_TEST(test_load_lookup)
{
	char err[512] = "";
	struct users *u = users_load_string("{\"users\":{\"bob\":{\"SCRAM-SHA-256\":" M256 "},"
					    "\"alice\":{\"SCRAM-SHA-256\":" M256
					    ",\"SCRAM-SHA-512\":" M512 "},"
					    "\"a,b=c\":{\"SCRAM-SHA-512\":" M512 "}}}",
					    "users.json", err, sizeof(err));
	const struct scram_secret *s;

	ck_assert_msg(u != NULL, "%s", err);
	ck_assert_uint_eq(users_count(u), 3);
	s = users_lookup(u, "alice", SCRAM_SHA_512);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->hash, SCRAM_SHA_512);
	ck_assert_uint_eq(s->iterations, 4096);
	ck_assert_uint_eq(s->salt_len, 16);
	ck_assert_ptr_nonnull(users_lookup(u, "alice", SCRAM_SHA_256));
	ck_assert_ptr_nonnull(users_lookup(u, "bob", SCRAM_SHA_256));
	ck_assert_ptr_null(users_lookup(u, "bob", SCRAM_SHA_512));
	ck_assert_ptr_nonnull(users_lookup(u, "a,b=c", SCRAM_SHA_512));
	ck_assert_ptr_null(users_lookup(u, "carol", SCRAM_SHA_256));
	ck_assert_ptr_null(users_lookup(u, "", SCRAM_SHA_256));
	ck_assert_ptr_null(users_lookup(u, "Alice", SCRAM_SHA_256));
	users_free(u);
	/* no users at all is a valid file */
	u = users_load_string("{\"users\":{}}", "users.json", err, sizeof(err));
	ck_assert_ptr_nonnull(u);
	ck_assert_uint_eq(users_count(u), 0);
	ck_assert_ptr_null(users_lookup(u, "alice", SCRAM_SHA_256));
	users_free(u);
	users_free(NULL);
	ck_assert_ptr_null(users_lookup(NULL, "alice", SCRAM_SHA_256));
}
END_TEST

static const struct {
	const char *json, *err;
} bad[] = {
	{"[]", "users.json: expected an object with \"users\""},
	{"{}", "users.json: users: missing"},
	{"{\"users\":[]}", "users.json: users: expected an object"},
	{"{\"users\":{},\"x\":1}", "users.json: x: unknown key (expected users)"},
	{"{\"users\":{\"al\":1}}", "users.json: users.al: expected an object with SCRAM-SHA-256"},
	{"{\"users\":{\"al\":{}}}", "users.json: users.al: expected an object with SCRAM-SHA-256"},
	{"{\"users\":{\"\":{\"SCRAM-SHA-256\":" M256 "}}}",
	 "users: the user name \"\": expected 1"},
	{"{\"users\":{\"al\":{\"SCRAM-SHA-1\":" M256 "}}}",
	 "users.json: users.al.SCRAM-SHA-1: unknown mechanism"},
	{"{\"users\":{\"al\":{\"SCRAM-SHA-256\":[]}}}",
	 "users.json: users.al.SCRAM-SHA-256: expected an object"},
	{"{\"users\":{\"al\":{\"SCRAM-SHA-256\":{\"iterations\":4096,\"stored_key\":" K32
	 ",\"server_key\":" K32 "}}}}",
	 "users.json: users.al.SCRAM-SHA-256.salt: missing"},
	{"{\"users\":{\"al\":{\"SCRAM-SHA-256\":{\"salt\":\"!!\",\"iterations\":4096,"
	 "\"stored_key\":" K32 ",\"server_key\":" K32 "}}}}",
	 "users.json: users.al.SCRAM-SHA-256.salt: not valid base64"},
	{"{\"users\":{\"al\":{\"SCRAM-SHA-256\":{\"salt\":\"\",\"iterations\":4096,"
	 "\"stored_key\":" K32 ",\"server_key\":" K32 "}}}}",
	 "users.json: users.al.SCRAM-SHA-256.salt: expected 1 to 64 bytes"},
	{"{\"users\":{\"al\":{\"SCRAM-SHA-256\":{\"salt\":7,\"iterations\":4096,"
	 "\"stored_key\":" K32 ",\"server_key\":" K32 "}}}}",
	 "users.json: users.al.SCRAM-SHA-256.salt: expected a base64 string"},
	{"{\"users\":{\"al\":{\"SCRAM-SHA-256\":{" SALT ",\"stored_key\":" K32
	 ",\"server_key\":" K32 "}}}}",
	 "users.json: users.al.SCRAM-SHA-256.iterations: missing"},
	{"{\"users\":{\"al\":{\"SCRAM-SHA-256\":{" SALT ",\"iterations\":4095,\"stored_key\":" K32
	 ",\"server_key\":" K32 "}}}}",
	 "users.json: users.al.SCRAM-SHA-256.iterations: expected an integer from 4096 to 1000000"},
	{"{\"users\":{\"al\":{\"SCRAM-SHA-256\":{" SALT
	 ",\"iterations\":\"4096\",\"stored_key\":" K32 ",\"server_key\":" K32 "}}}}",
	 "users.al.SCRAM-SHA-256.iterations: expected an integer"},
	{"{\"users\":{\"al\":{\"SCRAM-SHA-256\":{" SALT
	 ",\"iterations\":1000001,\"stored_key\":" K32 ",\"server_key\":" K32 "}}}}",
	 "users.al.SCRAM-SHA-256.iterations: expected an integer"},
	/* a SHA-512 key under SHA-256, and the other way round */
	{"{\"users\":{\"al\":{\"SCRAM-SHA-256\":{" SALT ",\"iterations\":4096,\"stored_key\":" K64
	 ",\"server_key\":" K32 "}}}}",
	 "users.json: users.al.SCRAM-SHA-256.stored_key: 64 bytes, expected 32"},
	{"{\"users\":{\"al\":{\"SCRAM-SHA-512\":{" SALT ",\"iterations\":4096,\"stored_key\":" K64
	 ",\"server_key\":" K32 "}}}}",
	 "users.json: users.al.SCRAM-SHA-512.server_key: 32 bytes, expected 64"},
	{"{\"users\":{\"al\":{\"SCRAM-SHA-512\":{" SALT ",\"iterations\":4096,\"stored_key\":" K64
	 "}}}}",
	 "users.json: users.al.SCRAM-SHA-512.server_key: missing"},
	{"{\"users\":{\"al\":{\"SCRAM-SHA-256\":{" SALT ",\"iterations\":4096,\"stored_key\":" K32
	 ",\"server_key\":" K32 ",\"password\":\"x\"}}}}",
	 "users.json: users.al.SCRAM-SHA-256.password: unknown key"},
	{"{\"users\":{\"al\":{},\"al\":{}}}", "users.json:1:"},
	{"{\"users\":", "users.json:1:"},
};

START_TEST(test_load_errors)
{
	char err[512] = "";
	struct users *u = users_load_string(bad[_i].json, "users.json", err, sizeof(err));

	ck_assert_ptr_null(u);
	ck_assert_msg(strstr(err, bad[_i].err) != NULL, "%s\n  gave: %s\n  want: %s", bad[_i].json,
		      err, bad[_i].err);
}
END_TEST

START_TEST(test_load_file_errors)
{
	char err[512];

	ck_assert_ptr_null(users_load_file("/nonexistent/users.json", err, sizeof(err)));
	ck_assert_str_eq(err, "/nonexistent/users.json: No such file or directory");
	ck_assert_ptr_null(users_load_file("/tmp", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "expected a regular file"));
}
END_TEST

/* ---- kgate passwd ---- */

static char dir[64];
static char file[128];

static void scratch_setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/kgate-unit-users-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/users.json", dir);
}

static void scratch_teardown(void)
{
	char p[256];

	unlink(file);
	snprintf(p, sizeof(p), "%s/other.json", dir);
	unlink(p);
	rmdir(dir);
}

/* users_passwd_main with argv (NULL-terminated, "passwd" first) and stdin
 * holding `input` (NULL: empty); its stdout and stderr dropped.  Its
 * status. */
static int passwd_run(const char *input, const char *const *argv)
{
	int fds[2], saved_in = dup(0), saved_out = dup(1), saved_err = dup(2);
	int null = open("/dev/null", O_WRONLY);
	int argc = 0, rc;
	char *args[16];

	for (; argv[argc]; argc++)
		args[argc] = (char *)argv[argc];
	args[argc] = NULL;
	ck_assert_int_eq(pipe(fds), 0);
	if (input)
		ck_assert_int_eq(write(fds[1], input, strlen(input)), (int)strlen(input));
	close(fds[1]);
	dup2(fds[0], 0);
	close(fds[0]);
	fflush(stdout);
	dup2(null, 1);
	dup2(null, 2);
	close(null);
	rc = users_passwd_main(argc, args);
	fflush(stdout);
	dup2(saved_in, 0);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_in);
	close(saved_out);
	close(saved_err);
	return rc;
}

static struct users *load(void)
{
	char err[512];
	struct users *u = users_load_file(file, err, sizeof(err));

	ck_assert_msg(u != NULL, "%s", err);
	return u;
}

static void check_mode(void)
{
	struct stat st;

	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
}

START_TEST(test_passwd)
{
	static const uint8_t mask[SCRAM_MASK_KEY_LEN] = {1};
	const struct scram_secret *s;
	struct users *u;
	char err[256];

	ck_assert_int_eq(
		passwd_run("s3cret\n", (const char *const[]){"passwd", file, "alice", NULL}), 0);
	check_mode();
	u = load();
	ck_assert_uint_eq(users_count(u), 1);
	s = users_lookup(u, "alice", SCRAM_SHA_256);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->iterations, SCRAM_DEFAULT_ITERATIONS);
	ck_assert_uint_ge(s->salt_len, 16);
	ck_assert_int_eq(scram_check_password(s, "s3cret", 6), 1);
	ck_assert_int_eq(scram_check_password(s, "s3cret\n", 7), 0);
	ck_assert_msg(scram_exchange(SCRAM_SHA_256, "alice", "s3cret", s, mask, err, sizeof(err)) ==
			      0,
		      "%s", err);
	s = users_lookup(u, "alice", SCRAM_SHA_512);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(scram_check_password(s, "s3cret", 6), 1);
	ck_assert_msg(scram_exchange(SCRAM_SHA_512, "alice", "s3cret", s, mask, err, sizeof(err)) ==
			      0,
		      "%s", err);
	users_free(u);

	/* a second user, one mechanism, CRLF line end; alice is kept */
	ck_assert_int_eq(passwd_run("pw two\r\nignored\n",
				    (const char *const[]){"passwd", "--mechanism", "SCRAM-SHA-512",
							  "--iterations", "4096", file, "bob",
							  NULL}),
			 0);
	check_mode();
	u = load();
	ck_assert_uint_eq(users_count(u), 2);
	ck_assert_ptr_null(users_lookup(u, "bob", SCRAM_SHA_256));
	s = users_lookup(u, "bob", SCRAM_SHA_512);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->iterations, 4096);
	ck_assert_int_eq(scram_check_password(s, "pw two", 6), 1);
	ck_assert_int_eq(scram_check_password(users_lookup(u, "alice", SCRAM_SHA_256), "s3cret", 6),
			 1);
	users_free(u);

	/* replacing alice with one mechanism drops her other secret */
	ck_assert_int_eq(passwd_run("new\n",
				    (const char *const[]){"passwd", "--mechanism", "SCRAM-SHA-256",
							  file, "alice", NULL}),
			 0);
	u = load();
	ck_assert_int_eq(scram_check_password(users_lookup(u, "alice", SCRAM_SHA_256), "new", 3),
			 1);
	ck_assert_ptr_null(users_lookup(u, "alice", SCRAM_SHA_512));
	users_free(u);

	/* --delete */
	ck_assert_int_eq(
		passwd_run(NULL, (const char *const[]){"passwd", "--delete", file, "alice", NULL}),
		0);
	check_mode();
	u = load();
	ck_assert_uint_eq(users_count(u), 1);
	ck_assert_ptr_null(users_lookup(u, "alice", SCRAM_SHA_256));
	ck_assert_ptr_nonnull(users_lookup(u, "bob", SCRAM_SHA_512));
	users_free(u);
	ck_assert_int_eq(
		passwd_run(NULL, (const char *const[]){"passwd", "--delete", file, "alice", NULL}),
		1);
}
END_TEST

START_TEST(test_passwd_refusals)
{
	char other[256];
	FILE *f;
	struct stat st;

	/* empty passwords, nothing on stdin: refused, no file made */
	ck_assert_int_eq(passwd_run("\n", (const char *const[]){"passwd", file, "al", NULL}), 1);
	ck_assert_int_eq(passwd_run("", (const char *const[]){"passwd", file, "al", NULL}), 1);
	ck_assert_int_eq(passwd_run(NULL, (const char *const[]){"passwd", file, "al", NULL}), 1);
	ck_assert_int_eq(stat(file, &st), -1);
	/* usage errors */
	ck_assert_int_eq(passwd_run("pw\n", (const char *const[]){"passwd", file, NULL}), 2);
	ck_assert_int_eq(passwd_run("pw\n", (const char *const[]){"passwd", file, "a", "b", NULL}),
			 2);
	ck_assert_int_eq(passwd_run("pw\n", (const char *const[]){"passwd", "--iterations", "4095",
								  file, "al", NULL}),
			 2);
	ck_assert_int_eq(passwd_run("pw\n", (const char *const[]){"passwd", "--iterations", "9x",
								  file, "al", NULL}),
			 2);
	ck_assert_int_eq(passwd_run("pw\n", (const char *const[]){"passwd", "--mechanism", "PLAIN",
								  file, "al", NULL}),
			 2);
	ck_assert_int_eq(passwd_run("pw\n",
				    (const char *const[]){"passwd", "--delete", "--mechanism",
							  "SCRAM-SHA-256", file, "al", NULL}),
			 2);
	ck_assert_int_eq(passwd_run("pw\n",
				    (const char *const[]){"passwd", "--bogus", file, "al", NULL}),
			 2);
	ck_assert_int_eq(passwd_run("pw\n", (const char *const[]){"passwd", file, "", NULL}), 2);
	ck_assert_int_eq(stat(file, &st), -1);
	/* an invalid file is left as it is */
	snprintf(other, sizeof(other), "%s/other.json", dir);
	f = fopen(other, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"users\":{\"x\":{}}}", f);
	fclose(f);
	ck_assert_int_eq(passwd_run("pw\n", (const char *const[]){"passwd", other, "al", NULL}), 1);
	ck_assert_int_eq(stat(other, &st), 0);
	ck_assert_int_eq((int)st.st_size, (int)strlen("{\"users\":{\"x\":{}}}"));
	/* a directory that does not exist */
	ck_assert_int_eq(passwd_run("pw\n", (const char *const[]){"passwd", "/nonexistent/u.json",
								  "al", NULL}),
			 1);
	ck_assert_int_eq(passwd_run(NULL, (const char *const[]){"passwd", "--help", NULL}), 0);
}
END_TEST

Suite *suite_users(void)
{
	Suite *s = suite_create("users");
	TCase *tc = tcase_create("users");
	TCase *pw = tcase_create("passwd");

	tcase_add_test(tc, test_load_lookup);
	tcase_add_loop_test(tc, test_load_errors, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_load_file_errors);
	suite_add_tcase(s, tc);
	tcase_set_timeout(pw, 60);
	tcase_add_checked_fixture(pw, scratch_setup, scratch_teardown);
	tcase_add_test(pw, test_passwd);
	tcase_add_test(pw, test_passwd_refusals);
	suite_add_tcase(s, pw);
	return s;
}
