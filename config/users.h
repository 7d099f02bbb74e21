/* users.h — the credentials file clients log in to kgate with (written by
 * `kgate passwd`), and `kgate passwd` itself.
 *
 * The file keeps SCRAM secrets, never passwords:
 *   { "users": { "alice": {
 *       "SCRAM-SHA-256": { "salt": "<base64>", "iterations": 8192,
 *                          "stored_key": "<base64>", "server_key": "<base64>" },
 *       "SCRAM-SHA-512": { ... } } } }
 * PLAIN logins are checked against either secret (scram_check_password).
 */
#ifndef KGATE_USERS_H
#define KGATE_USERS_H

#include <jansson.h>
#include <stddef.h>

#include "../protocol/kdefs.h"
#include "../protocol/scram.h"

/* A credentials file bigger than this is refused rather than read. */
#define USERS_MAX_FILE (16 * 1024 * 1024)

/* A loaded credentials file: immutable, so threads may share it. */
struct users;

/* Loads and checks a credentials file.  NULL with err naming the file and
 * the JSON path ("users.json: users.alice.SCRAM-SHA-256.salt: expected
 * base64 of 1 to 64 bytes") on any error, or out of memory. */
KG_MUSTCHECK struct users *users_load_file(const char *path, char *err, size_t errlen);
/* The same from a string; `what` names it in errors. */
KG_MUSTCHECK struct users *users_load_string(const char *json, const char *what, char *err,
					     size_t errlen);
/* The same from a parsed tree (kgate passwd checks a file before it
 * rewrites it).  root is not kept. */
KG_MUSTCHECK struct users *users_from_json(const json_t *root, const char *what, char *err,
					   size_t errlen);
/* The user's secret for a mechanism; NULL if the user is unknown or has no
 * secret for it. */
const struct scram_secret *users_lookup(const struct users *u, const char *user, enum scram_hash h);
size_t users_count(const struct users *u);
/* NULL is fine. */
void users_free(struct users *u);

/* `kgate passwd [--iterations N] [--mechanism M]... FILE USER` and
 * `kgate passwd --delete FILE USER`; argv[0] is "passwd".  Reads the
 * password from stdin (one line; no echo on a terminal, asked twice),
 * replaces USER (both SCRAM mechanisms unless --mechanism says which) and
 * writes FILE atomically with mode 0600, keeping every other user.
 * Returns the exit status: 0, 1 on failure, 2 on a usage error. */
int users_passwd_main(int argc, char **argv);

#endif
