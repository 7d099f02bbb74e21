/* users_passwd.c — `kgate passwd`: adds, replaces or deletes a user in the
 * credentials file (see users.h), writing it atomically. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "users.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2

static void passwd_usage(FILE *f)
{
	fputs("usage: kgate passwd [--iterations N] [--mechanism M]... FILE USER\n"
	      "       kgate passwd --delete FILE USER\n"
	      "\n"
	      "Adds USER to the credentials file FILE (client_auth.credentials_file),\n"
	      "or replaces its password: reads the password from stdin (one line; on\n"
	      "a terminal without echo, asked twice) and stores SCRAM secrets, never\n"
	      "the password.  FILE is written atomically with mode 0600; other users\n"
	      "are kept.\n"
	      "\n"
	      "      --iterations N   PBKDF2 iterations (4096 to 1000000, default 8192)\n"
	      "      --mechanism M    SCRAM-SHA-256 or SCRAM-SHA-512 (repeatable;\n"
	      "                       default both)\n"
	      "      --delete         remove USER instead\n"
	      "  -h, --help           show this help and exit\n",
	      f);
}

/* One line from fd 0 into pw (no newline; a trailing CR dropped), read a
 * byte at a time so nothing past the line is consumed.  Its length, or -1
 * with err (an empty password is refused). */
static int passwd_read_line(char *pw, size_t cap, char *err, size_t errlen)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(STDIN_FILENO, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "reading the password: %s", strerror(errno));
			return -1;
		}
		if (r == 0 || c == '\n')
			break;
		if (c == '\0') {
			snprintf(err, errlen, "the password contains a NUL byte");
			return -1;
		}
		if (n + 1 >= cap) {
			snprintf(err, errlen, "the password is longer than %zu bytes", cap - 2);
			return -1;
		}
		pw[n++] = c;
	}
	if (n && pw[n - 1] == '\r')
		n--;
	pw[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "empty password refused");
		return -1;
	}
	return (int)n;
}

/* The password: from a terminal without echo, asked twice; otherwise the
 * first line of stdin. */
static int passwd_read(const char *user, char *pw, size_t cap, char *err, size_t errlen)
{
	struct termios old, quiet;
	char again[SCRAM_MAX_PASSWORD + 2];
	int n, m;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &old) < 0)
		return passwd_read_line(pw, cap, err, errlen);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0) {
		snprintf(err, errlen, "cannot turn the terminal's echo off: %s", strerror(errno));
		return -1;
	}
	fprintf(stderr, "Password for %s: ", user);
	fflush(stderr);
	n = passwd_read_line(pw, cap, err, errlen);
	if (n > 0) {
		fprintf(stderr, "Again: ");
		fflush(stderr);
		m = passwd_read_line(again, sizeof(again), err, errlen);
		if (m >= 0 && (m != n || memcmp(pw, again, (size_t)n) != 0)) {
			snprintf(err, errlen, "the passwords differ");
			m = -1;
		}
		if (m < 0)
			n = -1;
		OPENSSL_cleanse(again, sizeof(again));
	}
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return n;
}

/* One mechanism's entry for the file, with a fresh random salt. */
static json_t *passwd_entry(enum scram_hash h, const char *pw, size_t pwlen, uint32_t iterations,
			    char *err, size_t errlen)
{
	uint8_t salt[SCRAM_SALT_LEN];
	struct scram_secret s;
	char salt_b64[64], stored_b64[128], server_b64[128];
	json_t *o;

	if (RAND_bytes(salt, sizeof(salt)) != 1) {
		snprintf(err, errlen, "no random bytes for the salt");
		return NULL;
	}
	if (scram_secret_derive(h, pw, pwlen, salt, sizeof(salt), iterations, &s, err, errlen) < 0)
		return NULL;
	scram_b64_encode(s.salt, s.salt_len, salt_b64, sizeof(salt_b64));
	scram_b64_encode(s.stored_key, scram_hash_len(h), stored_b64, sizeof(stored_b64));
	scram_b64_encode(s.server_key, scram_hash_len(h), server_b64, sizeof(server_b64));
	OPENSSL_cleanse(&s, sizeof(s));
	o = json_pack("{s:s, s:I, s:s, s:s}", "salt", salt_b64, "iterations",
		      (json_int_t)iterations, "stored_key", stored_b64, "server_key", server_b64);
	if (!o)
		snprintf(err, errlen, "out of memory");
	return o;
}

/* The file's current contents (checked: an invalid file is not rewritten),
 * or a new empty one when FILE does not exist yet. */
static json_t *passwd_load(const char *path, char *err, size_t errlen)
{
	struct users *u;
	json_error_t jerr;
	json_t *root;

	if (access(path, F_OK) < 0 && errno == ENOENT) {
		root = json_pack("{s:{}}", "users");
		if (!root)
			snprintf(err, errlen, "out of memory");
		return root;
	}
	u = users_load_file(path, err, errlen); /* size, type, every entry */
	if (!u)
		return NULL;
	users_free(u);
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		snprintf(err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
	return root;
}

/* Writes root to path atomically: a temporary file in the same directory
 * (so rename stays on one file system), mode 0600, fsync'd, renamed over
 * path, and the directory fsync'd so the rename itself survives a crash. */
static int passwd_write(const char *path, const json_t *root, char *err, size_t errlen)
{
	char tmp[4096], dir[4096], *text, *slash;
	size_t len, off = 0;
	int fd, dfd, rc = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	len = strlen(text);
	fd = mkstemp(tmp); /* created 0600 */
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		free(text);
		return -1;
	}
	if (fchmod(fd, 0600) < 0)
		goto io_fail;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto io_fail;
		off += (size_t)w;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) < 0)
		goto io_fail;
	if (close(fd) < 0) {
		fd = -1;
		goto io_fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto io_fail;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	rc = 0;
	goto out;
io_fail:
	snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

/* Parses the options; fills the rest.  0, or EXIT_USAGE after a message. */
static int passwd_opts(int argc, char **argv, uint32_t *iterations, int *mech, int *del, int *help)
{
	static const struct option longopts[] = {
		{"iterations", required_argument, NULL, 'i'},
		{"mechanism", required_argument, NULL, 'm'},
		{"delete", no_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum scram_hash h;
	char *end;
	long v;
	int c;

	opterr = 0;
	optind = 0; /* glibc: start over (main may have run getopt before) */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < SCRAM_MIN_ITERATIONS ||
			    v > SCRAM_MAX_ITERATIONS) {
				fprintf(stderr,
					"kgate passwd: --iterations \"%s\": expected %d to %d\n",
					optarg, SCRAM_MIN_ITERATIONS, SCRAM_MAX_ITERATIONS);
				return EXIT_USAGE;
			}
			*iterations = (uint32_t)v;
			break;
		case 'm':
			if (scram_hash_parse(optarg, &h) < 0) {
				fprintf(stderr,
					"kgate passwd: --mechanism \"%s\": expected SCRAM-SHA-256 "
					"or SCRAM-SHA-512\n",
					optarg);
				return EXIT_USAGE;
			}
			mech[h] = 1;
			break;
		case 'd':
			*del = 1;
			break;
		case 'h':
			*help = 1;
			return 0;
		case ':':
			fprintf(stderr, "kgate passwd: option %s needs a value\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "kgate passwd: unknown option %s\n", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "kgate passwd: expected FILE USER\n(kgate passwd --help shows the "
				"options)\n");
		return EXIT_USAGE;
	}
	if (*del && (mech[0] || mech[1] || *iterations)) {
		fprintf(stderr, "kgate passwd: --delete takes no --iterations or --mechanism\n");
		return EXIT_USAGE;
	}
	return 0;
}

int users_passwd_main(int argc, char **argv)
{
	char pw[SCRAM_MAX_PASSWORD + 2], err[512];
	int mech[2] = {0, 0}, del = 0, help = 0, rc, n, i;
	uint32_t iterations = 0;
	const char *path, *user;
	json_t *root = NULL, *users, *entry = NULL;

	rc = passwd_opts(argc, argv, &iterations, mech, &del, &help);
	if (rc || help) {
		if (help)
			passwd_usage(stdout);
		return rc;
	}
	path = argv[optind];
	user = argv[optind + 1];
	if (!mech[0] && !mech[1])
		mech[0] = mech[1] = 1;
	if (!iterations)
		iterations = SCRAM_DEFAULT_ITERATIONS;
	if (!*user || strlen(user) > SCRAM_MAX_USER) {
		fprintf(stderr, "kgate passwd: USER: expected 1 to %d bytes\n", SCRAM_MAX_USER);
		return EXIT_USAGE;
	}
	root = passwd_load(path, err, sizeof(err));
	if (!root)
		goto fail;
	users = json_object_get(root, "users");
	if (del) {
		if (!json_object_get(users, user)) {
			snprintf(err, sizeof(err), "%s: no user \"%s\"", path, user);
			goto fail;
		}
		json_object_del(users, user);
	} else {
		n = passwd_read(user, pw, sizeof(pw), err, sizeof(err));
		if (n < 0)
			goto fail;
		/* The user is replaced whole: a mechanism left out keeps no
		 * secret of the old password. */
		entry = json_object();
		for (i = 0; entry && i < 2; i++) {
			json_t *e;

			if (!mech[i])
				continue;
			e = passwd_entry((enum scram_hash)i, pw, (size_t)n, iterations, err,
					 sizeof(err));
			if (e && json_object_set_new(entry, scram_hash_name((enum scram_hash)i), e))
				snprintf(err, sizeof(err), "out of memory");
			if (!e || !json_object_get(entry, scram_hash_name((enum scram_hash)i))) {
				OPENSSL_cleanse(pw, sizeof(pw));
				goto fail;
			}
		}
		OPENSSL_cleanse(pw, sizeof(pw));
		if (!entry || json_object_set_new(users, user, entry) < 0) {
			entry = NULL; /* set_new took it, even on failure */
			snprintf(err, sizeof(err), "USER \"%s\": not valid UTF-8, or out of memory",
				 user);
			goto fail;
		}
		entry = NULL;
	}
	if (passwd_write(path, root, err, sizeof(err)) < 0)
		goto fail;
	if (del)
		fprintf(stderr, "kgate passwd: %s removed from %s\n", user, path);
	else
		fprintf(stderr, "kgate passwd: %s set in %s (%s%s%s, %u iterations)\n", user, path,
			mech[0] ? "SCRAM-SHA-256" : "", mech[0] && mech[1] ? ", " : "",
			mech[1] ? "SCRAM-SHA-512" : "", iterations);
	json_decref(root);
	return 0;
fail:
	json_decref(entry);
	json_decref(root);
	fprintf(stderr, "kgate passwd: %s\n", err);
	return EXIT_FAIL;
}
