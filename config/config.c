/* config.c — loading and validating the JSON configuration.
 *
 * The accepted keys are declared once, in the tables below: name, kind,
 * whether required, where the value goes, bounds and default.  The walker
 * reports unknown keys, missing keys and bad values with their JSON path and
 * what was expected, and keeps going so that every error is listed.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tls.h"

enum cfg_kind {
	K_LISTEN,    /* "ip:port" to bind */
	K_ADDR,      /* "host:port" */
	K_ADDR_LIST, /* non-empty array of "host:port" */
	K_ALLOW,     /* array of upstream_allow entries (allow.h) */
	K_INT32,     /* integer within [min, max], into an int32_t */
	K_INT64,     /* integer within [min, max], into an int64_t */
	K_OBJECT,    /* nested keys, same target struct */
	K_BROKERS,   /* array of broker objects */
	K_FILE,      /* path of a readable file */
	K_STRING,    /* non-empty string */
	K_BOOL,      /* true or false, into an int32_t */
	K_ENUM,      /* one of the names in `names`, into an int32_t (its index) */
	K_BLOCK,     /* an object parsed with `sub` into the struct at offset
			(whose first member is its `set`: TLS, upstream_sasl and
			client_auth blocks), or false where allow_false */
	K_MECHS,     /* array of login mechanism names, into a uint32_t mask */
	K_IDENTITIES /* object: identity name -> upstream_sasl block */
};

struct cfg_table;

/* One accepted key. */
struct cfg_key {
	const char *name;
	enum cfg_kind kind;
	int required;
	size_t offset; /* of the target field in the struct being filled */
	const struct cfg_table *sub;
	int64_t min, max, def;
	const char *const *names; /* K_ENUM */
	int allow_false;          /* K_BLOCK: false switches it off here */
};

struct cfg_table {
	const struct cfg_key *keys;
	size_t n;
};

#define TABLE(k) {k, sizeof(k) / sizeof(k[0])}

static const char *const client_auth_names[] = {"none", "optional", "require", NULL};

/* Each row names only what it uses: .required 0 means optional, .min/.max/
 * .def bound K_INT32/K_INT64 (and give K_BOOL/K_ENUM their default),
 * .names lists a K_ENUM's values, .sub is a K_OBJECT's or K_BLOCK's keys,
 * .allow_false lets a K_BLOCK be false. */
#define TLS_SERVER(f) offsetof(struct cfg_tls_server, f)
static const struct cfg_key tls_server_keys[] = {
	{.name = "cert", .kind = K_FILE, .required = 1, .offset = TLS_SERVER(cert)},
	{.name = "key", .kind = K_FILE, .required = 1, .offset = TLS_SERVER(key)},
	{.name = "ca", .kind = K_FILE, .offset = TLS_SERVER(ca)},
	{.name = "client_auth", .kind = K_ENUM, .offset = TLS_SERVER(client_auth),
	 .def = CFG_CLIENT_AUTH_NONE, .names = client_auth_names},
	{.name = "handshake_timeout_ms", .kind = K_INT64,
	 .offset = TLS_SERVER(handshake_timeout_ms), .min = 1, .max = 600000, .def = 10000},
	{.name = "ciphers", .kind = K_STRING, .offset = TLS_SERVER(ciphers)},
};
static const struct cfg_table tls_server_table = TABLE(tls_server_keys);

#define TLS_CLIENT(f) offsetof(struct cfg_tls_client, f)
static const struct cfg_key tls_client_keys[] = {
	{.name = "ca", .kind = K_FILE, .offset = TLS_CLIENT(ca)},
	{.name = "verify", .kind = K_BOOL, .offset = TLS_CLIENT(verify), .min = 0, .max = 1,
	 .def = 1},
	{.name = "cert", .kind = K_FILE, .offset = TLS_CLIENT(cert)},
	{.name = "key", .kind = K_FILE, .offset = TLS_CLIENT(key)},
	{.name = "server_name", .kind = K_STRING, .offset = TLS_CLIENT(server_name)},
};
static const struct cfg_table tls_client_table = TABLE(tls_client_keys);

#define SASL(f) offsetof(struct cfg_sasl, f)
static const struct cfg_key sasl_keys[] = {
	{.name = "mechanism", .kind = K_ENUM, .required = 1, .offset = SASL(mechanism),
	 .names = cfg_sasl_mech_names},
	{.name = "username", .kind = K_STRING, .offset = SASL(username)},
	{.name = "password_file", .kind = K_STRING, .offset = SASL(password_file)},
	{.name = "token_provider", .kind = K_STRING, .offset = SASL(token_provider)},
	{.name = "region", .kind = K_STRING, .offset = SASL(region)},
};
static const struct cfg_table sasl_table = TABLE(sasl_keys);

#define LOGIN(f) offsetof(struct cfg_login, f)
static const struct cfg_key client_auth_keys[] = {
	{.name = "mode", .kind = K_ENUM, .required = 1, .offset = LOGIN(mode),
	 .names = cfg_login_mode_names},
	{.name = "mechanisms", .kind = K_MECHS, .offset = LOGIN(mechanisms)},
	{.name = "credentials_file", .kind = K_FILE, .offset = LOGIN(credentials_file)},
	{.name = "allow_anonymous", .kind = K_BOOL, .offset = LOGIN(allow_anonymous), .max = 1},
	/* Kafka's connection.failed.authentication.delay.ms is 100 ms; a
	 * gateway on a network edge slows guessing down more. */
	{.name = "failed_login_delay_ms", .kind = K_INT64, .offset = LOGIN(failed_login_delay_ms),
	 .min = 0, .max = 60000, .def = 1000},
	{.name = "identities", .kind = K_IDENTITIES, .offset = LOGIN(identities)},
};
static const struct cfg_table client_auth_table = TABLE(client_auth_keys);

static const struct cfg_key bootstrap_keys[] = {
	{.name = "listen", .kind = K_LISTEN, .required = 1,
	 .offset = offsetof(struct cfg, bootstrap_listen)},
	{.name = "upstream", .kind = K_ADDR_LIST, .required = 1,
	 .offset = offsetof(struct cfg, bootstrap_upstream)},
	{.name = "tls", .kind = K_BLOCK, .offset = offsetof(struct cfg, bootstrap_tls),
	 .sub = &tls_server_table, .allow_false = 1},
	{.name = "upstream_tls", .kind = K_BLOCK,
	 .offset = offsetof(struct cfg, bootstrap_upstream_tls), .sub = &tls_client_table,
	 .allow_false = 1},
	{.name = "upstream_sasl", .kind = K_BLOCK,
	 .offset = offsetof(struct cfg, bootstrap_upstream_sasl), .sub = &sasl_table},
	{.name = "client_auth", .kind = K_BLOCK,
	 .offset = offsetof(struct cfg, bootstrap_client_auth), .sub = &client_auth_table},
};
static const struct cfg_table bootstrap_table = TABLE(bootstrap_keys);

#define BROKER(f) offsetof(struct cfg_broker, f)
static const struct cfg_key broker_keys[] = {
	{.name = "id", .kind = K_INT32, .required = 1, .offset = BROKER(id), .min = 0,
	 .max = INT32_MAX},
	{.name = "listen", .kind = K_LISTEN, .required = 1, .offset = BROKER(listen)},
	{.name = "advertise", .kind = K_ADDR, .required = 1, .offset = BROKER(advertise)},
	{.name = "upstream", .kind = K_ADDR, .offset = BROKER(upstream)},
	{.name = "tls", .kind = K_BLOCK, .offset = BROKER(tls), .sub = &tls_server_table,
	 .allow_false = 1},
	{.name = "upstream_tls", .kind = K_BLOCK, .offset = BROKER(upstream_tls),
	 .sub = &tls_client_table, .allow_false = 1},
	{.name = "upstream_sasl", .kind = K_BLOCK, .offset = BROKER(upstream_sasl),
	 .sub = &sasl_table},
	{.name = "client_auth", .kind = K_BLOCK, .offset = BROKER(client_auth),
	 .sub = &client_auth_table},
};
static const struct cfg_table broker_table = TABLE(broker_keys);

#define RULE(f) offsetof(struct cfg_broker_ports, f)
static const struct cfg_key broker_ports_keys[] = {
	{.name = "listen_host", .kind = K_STRING, .required = 1, .offset = RULE(listen_host)},
	{.name = "first_port", .kind = K_INT32, .required = 1, .offset = RULE(first_port),
	 .min = 1, .max = 65535},
	{.name = "first_id", .kind = K_INT32, .required = 1, .offset = RULE(first_id), .min = 0,
	 .max = INT32_MAX},
	{.name = "count", .kind = K_INT32, .required = 1, .offset = RULE(count), .min = 1,
	 .max = CFG_RULE_MAX_COUNT},
	{.name = "advertise_host", .kind = K_STRING, .required = 1,
	 .offset = RULE(advertise_host)},
	{.name = "advertise_first_port", .kind = K_INT32, .offset = RULE(advertise_first_port),
	 .min = 1, .max = 65535},
};
static const struct cfg_table broker_ports_table = TABLE(broker_ports_keys);
#define SNI(f) offsetof(struct cfg, sni.f)
#define SNI_LISTENER(f) offsetof(struct cfg, sni_listener.f)
static const struct cfg_key sni_keys[] = {
	{.name = "listen", .kind = K_LISTEN, .required = 1, .offset = SNI_LISTENER(listen)},
	{.name = "advertise_port", .kind = K_INT32, .offset = SNI(advertise_port), .min = 1,
	 .max = 65535},
	{.name = "bootstrap_name", .kind = K_STRING, .required = 1, .offset = SNI(bootstrap_name)},
	{.name = "broker_name", .kind = K_STRING, .required = 1, .offset = SNI(broker_name)},
	{.name = "unmatched", .kind = K_ENUM, .offset = SNI(unmatched),
	 .def = CFG_SNI_TO_BOOTSTRAP, .names = cfg_sni_unmatched_names},
	{.name = "tls", .kind = K_BLOCK, .offset = SNI_LISTENER(tls), .sub = &tls_server_table},
	{.name = "upstream_tls", .kind = K_BLOCK, .offset = SNI_LISTENER(upstream_tls),
	 .sub = &tls_client_table, .allow_false = 1},
	{.name = "upstream_sasl", .kind = K_BLOCK, .offset = SNI_LISTENER(upstream_sasl),
	 .sub = &sasl_table},
	{.name = "client_auth", .kind = K_BLOCK, .offset = SNI_LISTENER(client_auth),
	 .sub = &client_auth_table},
};
static const struct cfg_table sni_table = TABLE(sni_keys);

#define MIB (1024 * 1024)
#define LIMIT(f) offsetof(struct cfg, limits.f)
static const struct cfg_key limits_keys[] = {
	/* Kafka's own socket.request.max.bytes default. */
	{.name = "max_frame_bytes", .kind = K_INT64, .offset = LIMIT(max_frame_bytes),
	 .min = 1024, .max = INT32_MAX, .def = 100 * MIB},
	{.name = "buffer_bytes", .kind = K_INT64, .offset = LIMIT(buffer_bytes), .min = 4096,
	 .max = 1024 * MIB, .def = 1 * MIB},
	{.name = "connect_timeout_ms", .kind = K_INT64, .offset = LIMIT(connect_timeout_ms),
	 .min = 1, .max = 600000, .def = 10000},
	{.name = "max_inflight", .kind = K_INT64, .offset = LIMIT(max_inflight), .min = 1,
	 .max = 1 << 20, .def = 1024},
	/* MSK's largest clusters have tens of brokers; a Metadata answer
	 * listing more than this is refused rather than processed. */
	{.name = "max_brokers", .kind = K_INT64, .offset = LIMIT(max_brokers), .min = 1,
	 .max = 1000000, .def = 10000},
	/* An NLB's deregistration delay is 300 s by default, 30 s when tuned
	 * for Kafka: the usual match. */
	{.name = "drain_timeout_ms", .kind = K_INT64, .offset = LIMIT(drain_timeout_ms), .min = 0,
	 .max = 3600000, .def = 30000},
	/* Kafka's own connections.max.idle.ms. */
	{.name = "idle_timeout_ms", .kind = K_INT64, .offset = LIMIT(idle_timeout_ms), .min = 1000,
	 .max = 86400000, .def = 600000},
	{.name = "frame_timeout_ms", .kind = K_INT64, .offset = LIMIT(frame_timeout_ms), .min = 100,
	 .max = 3600000, .def = 30000},
};
static const struct cfg_table limits_table = TABLE(limits_keys);

#define ADMIN(f) offsetof(struct cfg, admin.f)
static const struct cfg_key admin_keys[] = {
	{.name = "listen", .kind = K_LISTEN, .required = 1, .offset = ADMIN(listen)},
	{.name = "allow_remote", .kind = K_BOOL, .offset = ADMIN(allow_remote), .max = 1},
	{.name = "probe_interval_ms", .kind = K_INT64, .offset = ADMIN(probe_interval_ms),
	 .min = 100, .max = 3600000, .def = 10000},
};
static const struct cfg_table admin_table = TABLE(admin_keys);

#define DISCOVERY(f) offsetof(struct cfg, discovery.f)
static const struct cfg_key discovery_keys[] = {
	/* A broker that joins is dialled at most this long after it is
	 * listed, even if no client asks for Metadata meanwhile. */
	{.name = "refresh_interval_ms", .kind = K_INT64, .offset = DISCOVERY(refresh_interval_ms),
	 .min = 1000, .max = 86400000, .def = 30000},
	/* librdkafka's reconnect.backoff.ms and reconnect.backoff.max.ms
	 * defaults are 100 and 10000: kgate asks on behalf of many clients. */
	{.name = "backoff_ms", .kind = K_INT64, .offset = DISCOVERY(backoff_ms), .min = 10,
	 .max = 3600000, .def = 500},
	{.name = "backoff_max_ms", .kind = K_INT64, .offset = DISCOVERY(backoff_max_ms), .min = 10,
	 .max = 3600000, .def = 30000},
};
static const struct cfg_table discovery_table = TABLE(discovery_keys);

static const char *const log_format_names[] = {"text", "json", NULL};
static const struct cfg_key log_keys[] = {
	{.name = "format", .kind = K_ENUM, .offset = offsetof(struct cfg, log_format),
	 .def = CFG_LOG_TEXT, .names = log_format_names},
};
static const struct cfg_table log_table = TABLE(log_keys);

static const struct cfg_key tls_keys[] = {
	{.name = "listen", .kind = K_BLOCK, .offset = offsetof(struct cfg, tls_listen),
	 .sub = &tls_server_table},
	{.name = "upstream", .kind = K_BLOCK, .offset = offsetof(struct cfg, tls_upstream),
	 .sub = &tls_client_table},
};
static const struct cfg_table tls_table = TABLE(tls_keys);

/* K_OBJECT rows fill the same struct as their parent (offset 0). */
static const struct cfg_key root_keys[] = {
	{.name = "bootstrap", .kind = K_OBJECT, .required = 1, .sub = &bootstrap_table},
	/* Required unless broker_ports makes the brokers (cfg_ports_expand). */
	{.name = "brokers", .kind = K_BROKERS, .offset = offsetof(struct cfg, brokers),
	 .sub = &broker_table},
	{.name = "broker_ports", .kind = K_BLOCK, .offset = offsetof(struct cfg, broker_ports),
	 .sub = &broker_ports_table},
	{.name = "sni", .kind = K_OBJECT, .sub = &sni_table},
	{.name = "tls", .kind = K_OBJECT, .sub = &tls_table},
	{.name = "limits", .kind = K_OBJECT, .sub = &limits_table},
	{.name = "upstream_allow", .kind = K_ALLOW, .offset = offsetof(struct cfg, upstream_allow)},
	{.name = "admin", .kind = K_OBJECT, .sub = &admin_table},
	{.name = "discovery", .kind = K_OBJECT, .sub = &discovery_table},
	{.name = "log", .kind = K_OBJECT, .sub = &log_table},
	{.name = "upstream_sasl", .kind = K_BLOCK, .offset = offsetof(struct cfg, upstream_sasl),
	 .sub = &sasl_table},
	{.name = "client_auth", .kind = K_BLOCK, .offset = offsetof(struct cfg, client_auth),
	 .sub = &client_auth_table},
	/* 0: one per CPU kgate may run on (gateway/workers.h). */
	{.name = "workers", .kind = K_INT64, .offset = offsetof(struct cfg, workers), .min = 0,
	 .max = CFG_MAX_WORKERS, .def = 0},
};
static const struct cfg_table root_table = TABLE(root_keys);

#define cfg_err cfg_error

/* Applies the defaults of every optional integer in t (and nested tables
 * that fill the same struct). */
static void apply_defaults(const struct cfg_table *t, void *base)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct cfg_key *k = &t->keys[i];

		if (k->kind == K_INT64)
			*(int64_t *)((char *)base + k->offset) = k->def;
		else if (k->kind == K_BOOL || k->kind == K_ENUM)
			*(int32_t *)((char *)base + k->offset) = (int32_t)k->def;
		else if (k->kind == K_OBJECT)
			apply_defaults(k->sub, base);
	}
}

void cfg_defaults(struct cfg *cfg)
{
	apply_defaults(&root_table, cfg);
}

static const char *kind_expected(const struct cfg_key *k)
{
	switch (k->kind) {
	case K_LISTEN:
		return "expected \"ip:port\" to listen on";
	case K_ADDR:
		return "expected \"host:port\"";
	case K_ADDR_LIST:
		return "expected a non-empty array of \"host:port\"";
	case K_ALLOW:
		return "expected an array of CIDRs, addresses, host names or \".domain\" suffixes";
	case K_INT32:
	case K_INT64:
		return "expected an integer";
	case K_OBJECT:
		return "expected an object";
	case K_BROKERS:
		return "expected a non-empty array of broker objects";
	case K_FILE:
		return "expected the path of a readable file";
	case K_STRING:
		return "expected a non-empty string";
	case K_BOOL:
		return "expected true or false";
	case K_ENUM:
		return "expected one of the listed names";
	case K_BLOCK:
		return k->allow_false ? "expected an object (or false for plaintext here)"
				      : "expected an object";
	case K_MECHS:
		return "expected a non-empty array of \"PLAIN\", \"SCRAM-SHA-256\", "
		       "\"SCRAM-SHA-512\"";
	case K_IDENTITIES:
		return "expected an object: identity name -> upstream_sasl block";
	}
	return "";
}

static void parse_addr(json_t *v, const char *path, enum cfg_host_kind kind,
		       const char *expected, struct cfg_addr *out, struct cfg_errors *errs)
{
	char why[256];

	if (!json_is_string(v)) {
		cfg_err(errs, "%s: %s", path, expected);
		return;
	}
	if (cfg_addr_parse(json_string_value(v), kind, out, why, sizeof(why)) < 0)
		cfg_err(errs, "%s: %s, got \"%s\"", path, why, json_string_value(v));
}

static void parse_object(json_t *obj, const char *path, const struct cfg_table *t,
			 void *base, struct cfg_errors *errs);

static void parse_brokers(json_t *v, const char *path, struct cfg *cfg,
			  struct cfg_errors *errs)
{
	size_t n = json_array_size(v);
	char sub[256];

	cfg->brokers_written = 1;
	if (!json_is_array(v) || n == 0) {
		cfg_err(errs, "%s: expected a non-empty array of broker objects", path);
		return;
	}
	cfg->brokers = calloc(n, sizeof(*cfg->brokers));
	if (!cfg->brokers) {
		cfg_err(errs, "%s: out of memory", path);
		return;
	}
	cfg->n_brokers = n;
	cfg->n_explicit = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		cfg->brokers[i].id = -1;
		parse_object(json_array_get(v, i), sub, &broker_table, &cfg->brokers[i], errs);
	}
}

/* K_MECHS: login mechanisms, each once. */
static void parse_mechs(json_t *v, const char *path, const struct cfg_key *k, uint32_t *mask,
			struct cfg_errors *errs)
{
	size_t n = json_array_size(v);

	if (!json_is_array(v) || n == 0) {
		cfg_err(errs, "%s: %s", path, kind_expected(k));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(v, i));
		uint32_t bit = 0;

		for (int m = 0; s && cfg_sasl_mech_names[m]; m++)
			if (strcmp(cfg_sasl_mech_names[m], s) == 0)
				bit = 1u << m;
		if (!(bit & CFG_LOGIN_MECHS)) {
			cfg_err(errs, "%s[%zu]: %s", path, i, kind_expected(k));
			continue;
		}
		if (*mask & bit)
			cfg_err(errs, "%s[%zu]: \"%s\" is listed twice", path, i, s);
		*mask |= bit;
	}
}

/* K_IDENTITIES: each value an upstream_sasl block. */
static void parse_identities(json_t *v, const char *path, const struct cfg_key *k, void *base,
			     struct cfg_errors *errs)
{
	struct cfg_login *a = base;
	const char *name;
	json_t *sasl;
	char sub[300];

	if (!json_is_object(v)) {
		cfg_err(errs, "%s: %s", path, kind_expected(k));
		return;
	}
	a->identities = calloc(json_object_size(v) + 1, sizeof(*a->identities));
	if (!a->identities)
		return;
	json_object_foreach(v, name, sasl) {
		struct cfg_identity *id = &a->identities[a->n_identities];

		snprintf(sub, sizeof(sub), "%s.%s", path, name);
		if (!name[0] || !(id->name = strdup(name))) {
			cfg_err(errs, "%s: an identity needs a name", sub);
			continue;
		}
		a->n_identities++;
		if (!json_is_object(sasl)) {
			cfg_err(errs, "%s: expected an upstream_sasl block", sub);
			continue;
		}
		id->sasl.set = CFG_TLS_ON;
		apply_defaults(&sasl_table, &id->sasl);
		parse_object(sasl, sub, &sasl_table, &id->sasl, errs);
	}
}

static void parse_value(json_t *v, const char *path, const struct cfg_key *k, void *base,
			struct cfg_errors *errs)
{
	void *target = (char *)base + k->offset;

	switch (k->kind) {
	case K_LISTEN:
		parse_addr(v, path, CFG_HOST_IP, kind_expected(k), target, errs);
		break;
	case K_ADDR:
		parse_addr(v, path, CFG_HOST_ANY, kind_expected(k), target, errs);
		break;
	case K_ADDR_LIST: {
		struct cfg_addr_list *l = target;
		size_t n = json_array_size(v);
		char sub[256];

		if (!json_is_array(v) || n == 0) {
			cfg_err(errs, "%s: %s", path, kind_expected(k));
			break;
		}
		l->v = calloc(n, sizeof(*l->v));
		if (!l->v)
			break;
		l->n = n;
		for (size_t i = 0; i < n; i++) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			parse_addr(json_array_get(v, i), sub, CFG_HOST_ANY, "expected \"host:port\"",
				   &l->v[i], errs);
		}
		break;
	}
	case K_ALLOW: {
		struct cfg_allow_list *l = target;
		size_t n = json_array_size(v);
		char sub[256], why[256];

		if (!json_is_array(v)) {
			cfg_err(errs, "%s: %s", path, kind_expected(k));
			break;
		}
		l->v = calloc(n ? n : 1, sizeof(*l->v));
		if (!l->v)
			break;
		for (size_t i = 0; i < n; i++) {
			const char *entry = json_string_value(json_array_get(v, i));

			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			if (!entry) {
				cfg_err(errs, "%s: %s", sub, kind_expected(k));
				continue;
			}
			if (cfg_allow_parse(entry, &l->v[l->n], why, sizeof(why)) < 0) {
				cfg_err(errs, "%s: %s, got \"%s\"", sub, why, entry);
				continue;
			}
			l->n++;
		}
		break;
	}
	case K_INT32:
	case K_INT64: {
		json_int_t i = json_is_integer(v) ? json_integer_value(v) : 0;

		if (!json_is_integer(v) || i < k->min || i > k->max) {
			cfg_err(errs, "%s: expected an integer from %lld to %lld", path,
				(long long)k->min, (long long)k->max);
			break;
		}
		if (k->kind == K_INT32)
			*(int32_t *)target = (int32_t)i;
		else
			*(int64_t *)target = i;
		break;
	}
	case K_OBJECT:
		parse_object(v, path, k->sub, base, errs);
		break;
	case K_BROKERS:
		parse_brokers(v, path, base, errs);
		break;
	case K_FILE:
	case K_STRING: {
		const char *str = json_string_value(v);
		char **out = target;

		if (!str || !str[0]) {
			cfg_err(errs, "%s: %s", path, kind_expected(k));
			break;
		}
		if (k->kind == K_FILE && access(str, R_OK) != 0) {
			cfg_err(errs, "%s: cannot read \"%s\": %s", path, str, strerror(errno));
			break;
		}
		free(*out);
		*out = strdup(str);
		break;
	}
	case K_BOOL:
		if (!json_is_boolean(v))
			cfg_err(errs, "%s: %s", path, kind_expected(k));
		else
			*(int32_t *)target = json_is_true(v);
		break;
	case K_ENUM: {
		const char *str = json_string_value(v);
		int32_t i;

		for (i = 0; str && k->names[i] && strcmp(k->names[i], str) != 0; i++)
			;
		if (!str || !k->names[i]) {
			char list[128] = "";

			for (int j = 0; k->names[j]; j++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"",
					 j ? ", " : "", k->names[j]);
			cfg_err(errs, "%s: expected one of %s", path, list);
			break;
		}
		*(int32_t *)target = i;
		break;
	}
	case K_BLOCK:
		/* Every block struct starts with its `set` member. */
		if (json_is_false(v) && k->allow_false) {
			*(int *)target = CFG_TLS_OFF;
		} else if (json_is_object(v)) {
			*(int *)target = CFG_TLS_ON;
			apply_defaults(k->sub, target);
			parse_object(v, path, k->sub, target, errs);
		} else {
			cfg_err(errs, "%s: %s", path, kind_expected(k));
		}
		break;
	case K_MECHS:
		parse_mechs(v, path, k, target, errs);
		break;
	case K_IDENTITIES:
		parse_identities(v, path, k, base, errs);
		break;
	}
}

static void parse_object(json_t *obj, const char *path, const struct cfg_table *t,
			 void *base, struct cfg_errors *errs)
{
	const char *key;
	json_t *v;
	char sub[256];

	if (!json_is_object(obj)) {
		cfg_err(errs, "%s: expected an object", path[0] ? path : "(top level)");
		return;
	}
	json_object_foreach(obj, key, v) {
		size_t i;

		for (i = 0; i < t->n && strcmp(t->keys[i].name, key) != 0; i++)
			;
		if (i == t->n) {
			cfg_err(errs, "%s%s%s: unknown key", path, path[0] ? "." : "", key);
			continue;
		}
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct cfg_key *k = &t->keys[i];

		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", k->name);
		v = json_object_get(obj, k->name);
		if (!v) {
			if (k->required)
				cfg_err(errs, "%s: missing (%s)", sub, kind_expected(k));
			continue;
		}
		parse_value(v, sub, k, base, errs);
	}
}

/* Reports every upstream that is one of kgate's own listeners. */
static void check_loops(const struct cfg *cfg, const struct cfg_addr *up, const char *path,
			struct cfg_errors *errs)
{
	char where[64];

	if (cfg_addr_dials_listener(up, &cfg->bootstrap_listen))
		cfg_err(errs, "%s: %s is kgate's own bootstrap.listen: it would dial itself",
			path, up->text);
	for (size_t i = 0; i < cfg->n_brokers; i++) {
		if (!cfg_addr_dials_listener(up, &cfg->brokers[i].listen))
			continue;
		cfg_broker_where(cfg, i, where, sizeof(where));
		cfg_err(errs, "%s: %s is kgate's own %s.listen: it would dial itself", path,
			up->text, where);
	}
	if (cfg_has_sni(cfg) && cfg_addr_dials_listener(up, &cfg->sni_listener.listen))
		cfg_err(errs, "%s: %s is kgate's own sni.listen: it would dial itself", path,
			up->text);
}

/* The sni block: its names, TLS (the name arrives in the handshake), and
 * its address among the others. */
static void check_sni(struct cfg *cfg, struct cfg_errors *errs)
{
	const struct cfg_addr *a = &cfg->sni_listener.listen;
	char where[64];

	if (!cfg_has_sni(cfg))
		return;
	cfg->sni_listener.id = -1;
	if (!cfg->sni.advertise_port)
		cfg->sni.advertise_port = a->port;
	cfg_sni_check(&cfg->sni, "sni", errs);
	if (!cfg_listener_tls(cfg, &cfg->sni_listener))
		cfg_err(errs, "sni.tls: missing (the SNI listener serves TLS only: the server "
			      "name a client asks for arrives in its TLS handshake; set sni.tls "
			      "or tls.listen)");
	if (cfg->bootstrap_listen.host && cfg_addr_listen_overlap(a, &cfg->bootstrap_listen))
		cfg_err(errs, "sni.listen: %s overlaps bootstrap.listen %s", a->text,
			cfg->bootstrap_listen.text);
	if (cfg->admin.listen.host && cfg_addr_listen_overlap(a, &cfg->admin.listen))
		cfg_err(errs, "sni.listen: %s overlaps admin.listen %s", a->text,
			cfg->admin.listen.text);
	for (size_t i = 0; i < cfg->n_brokers; i++) {
		if (!cfg->brokers[i].listen.host ||
		    !cfg_addr_listen_overlap(a, &cfg->brokers[i].listen))
			continue;
		cfg_broker_where(cfg, i, where, sizeof(where));
		cfg_err(errs, "sni.listen: %s overlaps %s.listen %s", a->text, where,
			cfg->brokers[i].listen.text);
	}
}

/* Rules that span several keys: unique ids, listeners, advertised names,
 * upstreams that would loop back into kgate. */
/* The admin endpoint: its own port, and beyond this host only if asked. */
static void check_admin(const struct cfg *cfg, struct cfg_errors *errs)
{
	const struct cfg_addr *a = &cfg->admin.listen;
	char where[64];

	if (!a->host)
		return;
	if (!cfg_addr_is_loopback(a) && !cfg->admin.allow_remote)
		cfg_err(errs, "admin.listen: %s is not a loopback address: set admin.allow_remote "
			      "to true to serve metrics and health beyond this host",
			a->text);
	if (cfg->bootstrap_listen.host && cfg_addr_listen_overlap(a, &cfg->bootstrap_listen))
		cfg_err(errs, "admin.listen: %s overlaps bootstrap.listen %s", a->text,
			cfg->bootstrap_listen.text);
	for (size_t i = 0; i < cfg->n_brokers; i++) {
		if (!cfg->brokers[i].listen.host ||
		    !cfg_addr_listen_overlap(a, &cfg->brokers[i].listen))
			continue;
		cfg_broker_where(cfg, i, where, sizeof(where));
		cfg_err(errs, "admin.listen: %s overlaps %s.listen %s", a->text, where,
			cfg->brokers[i].listen.text);
	}
}

static void cross_check(struct cfg *cfg, struct cfg_errors *errs)
{
	char path[80], where[64], other[64];

	check_sni(cfg, errs);
	check_admin(cfg, errs);
	if (cfg->discovery.backoff_max_ms < cfg->discovery.backoff_ms)
		cfg_err(errs, "discovery.backoff_max_ms: %" PRId64 " is below discovery.backoff_ms %"
			      PRId64, cfg->discovery.backoff_max_ms, cfg->discovery.backoff_ms);
	for (size_t i = 0; i < cfg->bootstrap_upstream.n; i++) {
		snprintf(path, sizeof(path), "bootstrap.upstream[%zu]", i);
		check_loops(cfg, &cfg->bootstrap_upstream.v[i], path, errs);
	}
	for (size_t i = 0; i < cfg->n_explicit; i++) {
		snprintf(path, sizeof(path), "brokers[%zu].upstream", i);
		check_loops(cfg, &cfg->brokers[i].upstream, path, errs);
	}
	for (size_t i = 0; i < cfg->n_brokers; i++) {
		const struct cfg_broker *b = &cfg->brokers[i];

		cfg_broker_where(cfg, i, where, sizeof(where));
		if (b->listen.host && cfg->bootstrap_listen.host &&
		    cfg_addr_listen_overlap(&b->listen, &cfg->bootstrap_listen))
			cfg_err(errs, "%s.listen: %s overlaps bootstrap.listen %s", where,
				b->listen.text, cfg->bootstrap_listen.text);
		for (size_t j = 0; j < i; j++) {
			const struct cfg_broker *o = &cfg->brokers[j];
			int same_id = b->id >= 0 && b->id == o->id;
			int same_listen = b->listen.host && o->listen.host &&
					  cfg_addr_listen_overlap(&b->listen, &o->listen);
			int same_advertise = b->advertise.host && o->advertise.host &&
					     b->advertise.port == o->advertise.port &&
					     strcasecmp(b->advertise.host, o->advertise.host) == 0;

			if (!same_id && !same_listen && !same_advertise)
				continue;
			cfg_broker_where(cfg, j, other, sizeof(other));
			if (same_id)
				cfg_err(errs, "%s.id: %d is already used by %s", where, b->id, other);
			if (same_listen)
				cfg_err(errs, "%s.listen: %s overlaps %s.listen %s", where,
					b->listen.text, other, o->listen.text);
			if (same_advertise)
				cfg_err(errs,
					"%s.advertise: %s is already advertised by %s; clients would "
					"take them for one broker",
					where, b->advertise.text, other);
		}
	}
}

/* A TLS block's rules that span keys, and a trial load into OpenSSL so
 * that --check fails on what would fail at start. */
/* A private key others can read is a warning, not an error: Kubernetes
 * mounts secrets 0644 unless told otherwise, and refusing to start there
 * would only teach people to switch the check off. */
static void check_key_mode(const char *key, const char *path, struct cfg_errors *warns)
{
	struct stat st;

	if (!key || stat(key, &st) < 0)
		return;
	if (st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP))
		cfg_err(warns, "%s.key: \"%s\" is %s by others (mode %04o): keep private keys "
			       "0600, or 0640 for a group kgate runs in (Kubernetes: defaultMode "
			       "0400 on the secret volume)",
			path, key, st.st_mode & S_IROTH ? "readable" : "writable",
			(unsigned)(st.st_mode & 07777));
}

static void check_tls_server(const struct cfg_tls_server *t, const char *path,
			     struct cfg_errors *errs, struct cfg_errors *warns)
{
	char err[768];
	SSL_CTX *ctx;

	if (t->set != CFG_TLS_ON)
		return;
	check_key_mode(t->key, path, warns);
	if (t->client_auth != CFG_CLIENT_AUTH_NONE && !t->ca) {
		cfg_err(errs, "%s.ca: missing (client_auth \"%s\" verifies client certificates "
			      "against it)",
			path, client_auth_names[t->client_auth]);
		return;
	}
	ctx = cfg_tls_server_ctx(t, err, sizeof(err));
	if (!ctx)
		cfg_err(errs, "%s: %s", path, err);
	SSL_CTX_free(ctx);
}

static void check_tls_client(const struct cfg_tls_client *t, const char *path,
			     struct cfg_errors *errs, struct cfg_errors *warns)
{
	char err[768];
	SSL_CTX *ctx;

	if (t->set != CFG_TLS_ON)
		return;
	check_key_mode(t->key, path, warns);
	/* It is sent as SNI and checked against certificates: a whole name. */
	if (t->server_name && !cfg_host_valid(t->server_name)) {
		cfg_err(errs, "%s.server_name: \"%s\" is not a host name or IP address", path,
			t->server_name);
		return;
	}
	if (!t->cert != !t->key) {
		cfg_err(errs, "%s: \"cert\" and \"key\" go together (a client certificate "
			      "needs its key)",
			path);
		return;
	}
	ctx = cfg_tls_client_ctx(t, err, sizeof(err));
	if (!ctx)
		cfg_err(errs, "%s: %s", path, err);
	SSL_CTX_free(ctx);
}

static void check_all_tls(struct cfg *cfg, struct cfg_errors *errs)
{
	struct cfg_errors *warns = &cfg->warnings;
	char path[64];

	check_tls_server(&cfg->tls_listen, "tls.listen", errs, warns);
	check_tls_client(&cfg->tls_upstream, "tls.upstream", errs, warns);
	check_tls_server(&cfg->bootstrap_tls, "bootstrap.tls", errs, warns);
	check_tls_client(&cfg->bootstrap_upstream_tls, "bootstrap.upstream_tls", errs, warns);
	if (cfg_has_sni(cfg)) {
		check_tls_server(&cfg->sni_listener.tls, "sni.tls", errs, warns);
		check_tls_client(&cfg->sni_listener.upstream_tls, "sni.upstream_tls", errs, warns);
	}
	for (size_t i = 0; i < cfg->n_brokers; i++) {
		snprintf(path, sizeof(path), "brokers[%zu].tls", i);
		check_tls_server(&cfg->brokers[i].tls, path, errs, warns);
		snprintf(path, sizeof(path), "brokers[%zu].upstream_tls", i);
		check_tls_client(&cfg->brokers[i].upstream_tls, path, errs, warns);
	}
}

const struct cfg_sasl *cfg_upstream_sasl(const struct cfg *cfg, const struct cfg_broker *b)
{
	const struct cfg_sasl *own = b ? &b->upstream_sasl : &cfg->bootstrap_upstream_sasl;
	const struct cfg_sasl *s = own->set != CFG_TLS_ABSENT ? own : &cfg->upstream_sasl;

	return cfg_sasl_on(s) ? s : NULL;
}

const struct cfg_login *cfg_login(const struct cfg *cfg, const struct cfg_broker *b)
{
	static const struct cfg_login none = {.mode = CFG_LOGIN_NONE};
	const struct cfg_login *own = b ? &b->client_auth : &cfg->bootstrap_client_auth;
	const struct cfg_login *a = own->set != CFG_TLS_ABSENT ? own : &cfg->client_auth;

	return a->set > 0 ? a : &none;
}

/* The IAM block among a listener's upstream_sasl and its identities. */
static const struct cfg_sasl *iam_of(const struct cfg *cfg, const struct cfg_broker *b)
{
	const struct cfg_sasl *s = cfg_upstream_sasl(cfg, b);
	const struct cfg_login *a = cfg_login(cfg, b);

	for (size_t i = 0; !cfg_sasl_iam(s) && i < a->n_identities; i++)
		s = &a->identities[i].sasl;
	return cfg_sasl_iam(s) ? s : NULL;
}

const char *cfg_iam_region(const struct cfg *cfg)
{
	const struct cfg_sasl *s = iam_of(cfg, NULL);

	for (size_t i = 0; !s && i < cfg->n_brokers; i++)
		s = iam_of(cfg, &cfg->brokers[i]);
	if (!s && cfg_has_sni(cfg))
		s = iam_of(cfg, &cfg->sni_listener);
	return s ? s->region : NULL;
}

/* What one listener's authentication settings add up to. */
static void check_listener_auth(struct cfg *cfg, const struct cfg_broker *b, const char *path,
				struct cfg_errors *errs)
{
	const struct cfg_login *a = cfg_login(cfg, b);
	const struct cfg_addr *listen = b ? &b->listen : &cfg->bootstrap_listen;
	const struct cfg_tls_server *tls = cfg_listener_tls(cfg, b);
	int loopback = listen->host && cfg_addr_is_loopback(listen);

	if (a->mode == CFG_LOGIN_TLS && (!tls || tls->client_auth != CFG_CLIENT_AUTH_REQUIRE))
		cfg_err(errs, "%s: client_auth mode \"tls\" needs TLS on the listener with "
			      "client_auth \"require\" (a verified client certificate)",
			path);
	if (a->mode == CFG_LOGIN_NONE && cfg_upstream_sasl(cfg, b) && !loopback &&
	    !a->allow_anonymous)
		cfg_err(errs, "%s: anyone who reaches %s would act as kgate's upstream_sasl "
			      "user at the brokers: set client_auth (mode \"sasl\" or \"tls\"), "
			      "listen on loopback, or set client_auth.allow_anonymous to true",
			path, listen->text ? listen->text : "it");
	if (a->mode == CFG_LOGIN_SASL && (a->mechanisms & (1u << CFG_SASL_PLAIN)) && !tls &&
	    !loopback)
		cfg_err(&cfg->warnings, "%s: client_auth allows PLAIN on a listener without TLS: "
					"passwords cross the network in the clear",
			path);
}

static void check_all_auth(struct cfg *cfg, struct cfg_errors *errs)
{
	char path[64];

	cfg_sasl_check(&cfg->upstream_sasl, "upstream_sasl", errs);
	cfg_login_check(&cfg->client_auth, "client_auth", errs);
	cfg_sasl_check(&cfg->bootstrap_upstream_sasl, "bootstrap.upstream_sasl", errs);
	cfg_login_check(&cfg->bootstrap_client_auth, "bootstrap.client_auth", errs);
	for (size_t i = 0; i < cfg->n_brokers; i++) {
		snprintf(path, sizeof(path), "brokers[%zu].upstream_sasl", i);
		cfg_sasl_check(&cfg->brokers[i].upstream_sasl, path, errs);
		snprintf(path, sizeof(path), "brokers[%zu].client_auth", i);
		cfg_login_check(&cfg->brokers[i].client_auth, path, errs);
	}
	if (cfg_has_sni(cfg)) {
		cfg_sasl_check(&cfg->sni_listener.upstream_sasl, "sni.upstream_sasl", errs);
		cfg_login_check(&cfg->sni_listener.client_auth, "sni.client_auth", errs);
	}
	if (errs->n)
		return;
	check_listener_auth(cfg, NULL, "bootstrap", errs);
	if (cfg_has_sni(cfg))
		check_listener_auth(cfg, &cfg->sni_listener, "sni", errs);
	for (size_t i = 0; i < cfg->n_brokers; i++) {
		cfg_broker_where(cfg, i, path, sizeof(path));
		check_listener_auth(cfg, &cfg->brokers[i], path, errs);
	}
}

const struct cfg_tls_server *cfg_listener_tls(const struct cfg *cfg, const struct cfg_broker *b)
{
	const struct cfg_tls_server *own = b ? &b->tls : &cfg->bootstrap_tls;
	const struct cfg_tls_server *t = own->set != CFG_TLS_ABSENT ? own : &cfg->tls_listen;

	return t->set == CFG_TLS_ON ? t : NULL;
}

const struct cfg_tls_client *cfg_upstream_tls(const struct cfg *cfg, const struct cfg_broker *b)
{
	const struct cfg_tls_client *own = b ? &b->upstream_tls : &cfg->bootstrap_upstream_tls;
	const struct cfg_tls_client *t = own->set != CFG_TLS_ABSENT ? own : &cfg->tls_upstream;

	return t->set == CFG_TLS_ON ? t : NULL;
}

static int by_id_cmp(const void *a, const void *b)
{
	int32_t x = (*(const struct cfg_broker *const *)a)->id;
	int32_t y = (*(const struct cfg_broker *const *)b)->id;

	return (x > y) - (x < y);
}

/* The index cfg_broker_by_id searches. */
static void index_brokers(struct cfg *cfg, struct cfg_errors *errs)
{
	cfg->by_id = malloc((cfg->n_brokers ? cfg->n_brokers : 1) * sizeof(*cfg->by_id));
	if (!cfg->by_id) {
		cfg_err(errs, "brokers: out of memory");
		return;
	}
	for (size_t i = 0; i < cfg->n_brokers; i++)
		cfg->by_id[i] = &cfg->brokers[i];
	qsort(cfg->by_id, cfg->n_brokers, sizeof(*cfg->by_id), by_id_cmp);
}

static int cfg_from_json(json_t *root, struct cfg *cfg, struct cfg_errors *errs)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg_defaults(cfg);
	parse_object(root, "", &root_table, cfg, errs);
	/* brokers[] is optional where an sni block fronts the brokers. */
	cfg->sni_written = json_is_object(root) && json_object_get(root, "sni") != NULL;
	if (json_is_object(root))
		cfg_ports_expand(cfg, errs);
	if (errs->n == 0)
		cross_check(cfg, errs);
	if (errs->n == 0)
		check_all_tls(cfg, errs);
	if (errs->n == 0)
		check_all_auth(cfg, errs);
	if (errs->n == 0)
		index_brokers(cfg, errs);
	if (errs->n) {
		cfg_free(cfg);
		return -1;
	}
	return 0;
}

static int cfg_load(json_t *root, const json_error_t *jerr, const char *what,
		    struct cfg *cfg, struct cfg_errors *errs)
{
	int rc;

	memset(errs, 0, sizeof(*errs));
	memset(cfg, 0, sizeof(*cfg));
	if (!root) {
		cfg_err(errs, "%s:%d:%d: %s", what, jerr->line, jerr->column, jerr->text);
		return -1;
	}
	rc = cfg_from_json(root, cfg, errs);
	json_decref(root);
	return rc;
}

int cfg_load_file(const char *path, struct cfg *cfg, struct cfg_errors *errs)
{
	json_error_t jerr;

	return cfg_load(json_load_file(path, JSON_REJECT_DUPLICATES, &jerr), &jerr, path,
			cfg, errs);
}

int cfg_load_string(const char *json, struct cfg *cfg, struct cfg_errors *errs)
{
	json_error_t jerr;

	return cfg_load(json_loads(json, JSON_REJECT_DUPLICATES, &jerr), &jerr, "(string)",
			cfg, errs);
}

static void tls_server_free(struct cfg_tls_server *t)
{
	free(t->cert);
	free(t->key);
	free(t->ca);
	free(t->ciphers);
}

static void tls_client_free(struct cfg_tls_client *t)
{
	free(t->ca);
	free(t->cert);
	free(t->key);
	free(t->server_name);
}

static void broker_free(struct cfg_broker *b)
{
	cfg_addr_free(&b->listen);
	cfg_addr_free(&b->advertise);
	cfg_addr_free(&b->upstream);
	tls_server_free(&b->tls);
	tls_client_free(&b->upstream_tls);
	cfg_sasl_free(&b->upstream_sasl);
	cfg_login_free(&b->client_auth);
}

void cfg_free(struct cfg *cfg)
{
	tls_server_free(&cfg->tls_listen);
	tls_server_free(&cfg->bootstrap_tls);
	tls_client_free(&cfg->tls_upstream);
	tls_client_free(&cfg->bootstrap_upstream_tls);
	cfg_sasl_free(&cfg->upstream_sasl);
	cfg_sasl_free(&cfg->bootstrap_upstream_sasl);
	cfg_login_free(&cfg->client_auth);
	cfg_login_free(&cfg->bootstrap_client_auth);
	cfg_addr_free(&cfg->bootstrap_listen);
	cfg_addr_free(&cfg->admin.listen);
	for (size_t i = 0; i < cfg->bootstrap_upstream.n; i++)
		cfg_addr_free(&cfg->bootstrap_upstream.v[i]);
	free(cfg->bootstrap_upstream.v);
	for (size_t i = 0; i < cfg->n_brokers; i++)
		broker_free(&cfg->brokers[i]);
	free(cfg->brokers);
	broker_free(&cfg->sni_listener);
	cfg_sni_free(&cfg->sni);
	free(cfg->by_id);
	free(cfg->broker_ports.listen_host);
	free(cfg->broker_ports.advertise_host);
	cfg_allow_list_free(&cfg->upstream_allow);
	cfg_errors_free(&cfg->warnings);
	memset(cfg, 0, sizeof(*cfg));
}

int cfg_upstream_allowed(const struct cfg *cfg, const char *host)
{
	return cfg_allow_match(&cfg->upstream_allow, host);
}

const struct cfg_broker *cfg_broker_by_id(const struct cfg *cfg, int32_t id)
{
	size_t lo = 0, hi = cfg->n_brokers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int32_t m = cfg->by_id[mid]->id;

		if (m == id)
			return cfg->by_id[mid];
		if (m < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t cfg_n_listeners(const struct cfg *cfg)
{
	return cfg->n_brokers + 1 + (cfg_has_sni(cfg) ? 1 : 0);
}

const struct cfg_broker *cfg_listener_conf(const struct cfg *cfg, size_t i)
{
	if (i == 0)
		return NULL;
	return i <= cfg->n_brokers ? &cfg->brokers[i - 1] : &cfg->sni_listener;
}
