/* config.h — the gateway's JSON configuration, validated.
 *
 *   { "bootstrap": { "listen": "0.0.0.0:9094", "upstream": ["b-1:9094", ...] },
 *     "brokers": [ { "id": 1, "listen": "0.0.0.0:8443",
 *                    "advertise": "nlb.example.com:8443",
 *                    "upstream": "b-1:9094" }, ... ],
 *     "limits": { ... optional, see cfg_limits } }
 *
 * A broker without "upstream" is dialled at the address the cluster itself
 * advertises for its id.  See config/kgate.sample.json for every key.
 */
#ifndef KGATE_CONFIG_H
#define KGATE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "allow.h"
#include "auth.h"
#include "errors.h"
#include "sni.h"
#include "tls.h"

/* One broker kgate fronts: a brokers[] entry, or one made by the
 * broker_ports rule (from_rule), which then has no blocks of its own. */
struct cfg_broker {
	int32_t id;
	int32_t from_rule;
	struct cfg_addr listen;
	struct cfg_addr advertise;
	struct cfg_addr upstream; /* host NULL: learned from the cluster */
	struct cfg_tls_server tls;
	struct cfg_tls_client upstream_tls;
	struct cfg_sasl upstream_sasl;
	struct cfg_login client_auth;
};

/* The "broker_ports" rule: node id first_id + k listens on listen_host at
 * first_port + k and is advertised at advertise_host, advertise_first_port
 * + k, for k in [0, count).  cfg_load turns it into brokers[] entries for
 * every id in range that brokers[] does not name itself. */
struct cfg_broker_ports {
	int set; /* enum cfg_tls_set: parsed as a block */
	char *listen_host;
	int32_t first_port;
	int32_t first_id;
	int32_t count;
	char *advertise_host;
	int32_t advertise_first_port; /* 0: first_port */
};

/* The most ids a rule may cover: each is a listening socket per worker. */
#define CFG_RULE_MAX_COUNT 1024

/* Resource bounds (the "limits" block). */
struct cfg_limits {
	int64_t max_frame_bytes;    /* largest frame accepted either way */
	int64_t buffer_bytes;       /* per-direction high watermark */
	int64_t connect_timeout_ms; /* upstream connect (DNS included) */
	int64_t max_inflight;       /* requests awaiting answers per connection */
	int64_t max_brokers;        /* node ids kgate learns; longer listings refused */
	int64_t drain_timeout_ms;   /* a graceful stop waits this long for pairs */
	int64_t idle_timeout_ms;    /* a pair with no bytes either way is closed */
	int64_t frame_timeout_ms;   /* a request begun but not complete is closed */
};

/* The admin endpoint (the "admin" block): metrics, health, brokers. */
struct cfg_admin {
	struct cfg_addr listen;    /* host NULL: no admin endpoint */
	int32_t allow_remote;      /* listen may be other than loopback */
	int64_t probe_interval_ms; /* kgate asks the cluster this often (readiness) */
};

/* How kgate keeps its view of the cluster fresh (the "discovery" block,
 * gateway/refresh.h): its own Metadata request at least every
 * refresh_interval_ms, and on a dial failure or NOT_LEADER answer at most
 * once per back-off period, which doubles from backoff_ms up to
 * backoff_max_ms while the broker stays down. */
struct cfg_discovery {
	int64_t refresh_interval_ms;
	int64_t backoff_ms;
	int64_t backoff_max_ms;
};

enum cfg_log_format { CFG_LOG_TEXT, CFG_LOG_JSON };

/* A list of addresses ("bootstrap.upstream"). */
struct cfg_addr_list {
	struct cfg_addr *v;
	size_t n;
};

struct cfg {
	struct cfg_addr bootstrap_listen;
	struct cfg_addr_list bootstrap_upstream; /* tried in turn */
	struct cfg_tls_server bootstrap_tls;
	struct cfg_tls_client bootstrap_upstream_tls;
	struct cfg_tls_server tls_listen;   /* default for every listener */
	struct cfg_tls_client tls_upstream; /* default for every upstream */
	struct cfg_sasl bootstrap_upstream_sasl;
	struct cfg_login bootstrap_client_auth;
	struct cfg_sasl upstream_sasl;       /* default for every upstream */
	struct cfg_login client_auth;  /* default for every listener */
	struct cfg_broker *brokers; /* brokers[] as written, then the rule's */
	size_t n_brokers;
	size_t n_explicit;          /* how many of them brokers[] wrote */
	int brokers_written;        /* the "brokers" key was there, valid or not */
	int sni_written;            /* ... and the "sni" key */
	struct cfg_broker_ports broker_ports;
	/* The "sni" block: its listener's settings as a broker's (only listen,
	 * tls, upstream_tls, upstream_sasl and client_auth are used; id -1),
	 * and its names.  listen.host NULL: no SNI listener (cfg_has_sni). */
	struct cfg_broker sni_listener;
	struct cfg_sni sni;
	const struct cfg_broker **by_id; /* brokers sorted by id (cfg_broker_by_id) */
	struct cfg_errors warnings;       /* valid, but worth saying (--check, start) */
	struct cfg_limits limits;
	struct cfg_allow_list upstream_allow; /* where learned addresses may point */
	struct cfg_admin admin;
	struct cfg_discovery discovery;
	int32_t log_format; /* enum cfg_log_format */
	int64_t workers;    /* event loop threads; 0: one per CPU (workers_count) */
};

/* More threads than this would only add contention on a machine kgate
 * could use them on. */
#define CFG_MAX_WORKERS 256


/* 1 if the configuration has an SNI listener. */
static inline int cfg_has_sni(const struct cfg *cfg)
{
	return cfg->sni_listener.listen.host != NULL;
}
/* Listeners in their order: 0 the bootstrap, 1 .. n_brokers each broker's,
 * then the SNI listener if configured. */
size_t cfg_n_listeners(const struct cfg *cfg);
/* The settings of listener i, to hand to the functions below (NULL for the
 * bootstrap, whose settings are struct cfg's own). */
const struct cfg_broker *cfg_listener_conf(const struct cfg *cfg, size_t i);

/* Parses and validates; 0 on success, -1 with errs filled (cfg is then
 * freed).  Never stops at the first error. */
int cfg_load_file(const char *path, struct cfg *cfg, struct cfg_errors *errs);
int cfg_load_string(const char *json, struct cfg *cfg, struct cfg_errors *errs);
void cfg_free(struct cfg *cfg);
/* Sets every default (the limits block); the rest stays zero. */
void cfg_defaults(struct cfg *cfg);
/* The TLS a listener serves (b NULL: bootstrap), or NULL for plaintext. */
const struct cfg_tls_server *cfg_listener_tls(const struct cfg *cfg, const struct cfg_broker *b);
/* The TLS kgate speaks to a listener's upstream, or NULL for plaintext. */
const struct cfg_tls_client *cfg_upstream_tls(const struct cfg *cfg, const struct cfg_broker *b);
/* Who kgate is to a listener's upstream (b NULL: bootstrap), or NULL. */
const struct cfg_sasl *cfg_upstream_sasl(const struct cfg *cfg, const struct cfg_broker *b);
/* What a listener asks of its clients (never NULL: mode none by default). */
const struct cfg_login *cfg_login(const struct cfg *cfg, const struct cfg_broker *b);
/* The region of the first upstream_sasl block (a listener's, or an
 * identity's) that signs with AWS IAM, or NULL when none does (then the
 * credential chain need not run). */
const char *cfg_iam_region(const struct cfg *cfg);
/* 1 if kgate may dial host, learned from the cluster (upstream_allow). */
int cfg_upstream_allowed(const struct cfg *cfg, const char *host);
/* For the loader (config.c; ports.c has it): requires some broker —
 * brokers[] or a broker_ports rule — then, if nothing failed so far,
 * checks the rule's values together and appends a broker for every id in
 * its range that brokers[] does not name (written entries win). */
void cfg_ports_expand(struct cfg *cfg, struct cfg_errors *errs);
/* Where brokers[i] came from, for messages: "brokers[3]" or
 * "broker_ports (id 7)". */
void cfg_broker_where(const struct cfg *cfg, size_t i, char *buf, size_t len);
/* The broker with this id, or NULL (a binary search: it runs for every
 * endpoint of every rewritten response). */
const struct cfg_broker *cfg_broker_by_id(const struct cfg *cfg, int32_t id);

#endif
