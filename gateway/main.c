/* main.c — kgate's entry point: command line, configuration, the main
 * thread's event loop (worker 0, signals), the workers. */
#include <event2/event.h>
#include <event2/thread.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "../config/cli.h"
#include "../config/gen.h"
#include "../config/users.h"
#include "aws_creds.h"
#include "demo.h"
#include "gateway.h"
#include "log.h"
#include "stats.h"
#include "workers.h"

#ifndef KGATE_VERSION
#define KGATE_VERSION "unknown"
#endif

#define EXIT_START_FAILED 1
#define EXIT_USAGE 2

struct runtime {
	struct event_base *base;
	struct workers *workers;
	const char *config_path; /* NULL in the demo: nothing to reload */
	uint64_t generation;
	int stopping;
};

/* Every error of a configuration that did not load, as --check prints them. */
static void log_config_errors(const char *path, struct cfg_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		log_error("%s: %s", path, errs->msgs[i]);
	cfg_errors_free(errs);
}

static void stopped(void *arg)
{
	event_base_loopexit(((struct runtime *)arg)->base, NULL);
}

/* The first SIGTERM or SIGINT drains; another stops at once. */
static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct runtime *rt = arg;
	const char *name = sig == SIGINT ? "SIGINT" : "SIGTERM";

	(void)what;
	if (!rt->stopping) {
		rt->stopping = 1;
		log_info("received %s: draining", name);
		workers_drain(rt->workers);
		return;
	}
	log_info("received %s again: stopping now", name);
	workers_stop(rt->workers);
	event_base_loopexit(rt->base, NULL);
}

static void on_stats_signal(evutil_socket_t sig, short what, void *arg)
{
	struct gw_counters *c = workers_counters(((struct runtime *)arg)->workers);

	(void)sig;
	(void)what;
	if (!c) {
		log_error("received SIGUSR1: out of memory");
		return;
	}
	stats_log(&c->total);
	gw_counters_free(c);
}

/* SIGHUP: the configuration file again, and every certificate and key. */
static void on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
	struct runtime *rt = arg;
	struct cfg_errors errs;
	struct cfg_gen *gen;
	struct cfg cfg;
	char err[512];

	(void)sig;
	(void)what;
	if (!rt->config_path) {
		log_warn("received SIGHUP: the demo has no configuration file to reload");
		return;
	}
	log_info("received SIGHUP: reloading %s", rt->config_path);
	if (cfg_load_file(rt->config_path, &cfg, &errs) < 0) {
		log_config_errors(rt->config_path, &errs);
		log_error("reload failed: the configuration has errors; still running generation "
			  "%" PRIu64,
			  rt->generation);
		workers_reload_failed(rt->workers);
		return;
	}
	for (size_t i = 0; i < cfg.warnings.n; i++)
		log_warn("%s: %s", rt->config_path, cfg.warnings.msgs[i]);
	gen = cfg_gen_new(&cfg, rt->generation + 1);
	if (!gen) {
		cfg_free(&cfg);
		log_error("reload failed: out of memory");
		workers_reload_failed(rt->workers);
		return;
	}
	if (workers_reload(rt->workers, gen, err, sizeof(err)) < 0)
		log_error("reload failed: %s; still running generation %" PRIu64, err,
			  rt->generation);
	else
		rt->generation = gen->number;
	cfg_gen_unref(gen);
}

static int load_config(const struct cli_opts *o, struct cfg *cfg, struct demo **demo)
{
	struct cfg_errors errs;
	char err[512];

	if (o->demo) {
		*demo = demo_start(cfg, o->demo_listen, o->demo_advertise, err, sizeof(err));
		if (!*demo) {
			fprintf(stderr, "kgate: %s\n", err);
			return EXIT_START_FAILED;
		}
		return 0;
	}
	if (cfg_load_file(o->config_path, cfg, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "kgate: %s: %s\n", o->config_path, errs.msgs[i]);
		fprintf(stderr, "kgate: %s: %zu error%s\n", o->config_path, errs.n,
			errs.n == 1 ? "" : "s");
		cfg_errors_free(&errs);
		return EXIT_USAGE;
	}
	return 0;
}

/* Once the loop has ended kgate is exiting whatever arrives: freeing the
 * signal events gives the signals back their default action, and an
 * orchestrator's second SIGTERM landing then would turn a clean exit after
 * a drain into death by signal (status 143). Blocked, they stay pending
 * and vanish with the process; SIGKILL still ends a stuck exit. */
static void ignore_signals_while_exiting(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Every listener is a socket per worker and every client two: a soft limit
 * of 1024 open files (the usual default outside containers) is reached by
 * a broker_ports rule of a few hundred ids.  The hard limit is what the
 * operator allows, so kgate takes it, as servers that know their needs do. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t was;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	was = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		log_info("open files: soft limit raised from %llu to the hard limit, %llu",
			 (unsigned long long)was, (unsigned long long)rl.rlim_max);
}

static int run(struct cfg_gen *gen, struct demo *demo, const char *config_path)
{
	struct runtime rt = {.config_path = config_path, .generation = gen->number};
	static const struct {
		int num;
		event_callback_fn fn;
	} sigs[] = {{SIGINT, on_stop_signal},
		    {SIGTERM, on_stop_signal},
		    {SIGUSR1, on_stats_signal},
		    {SIGHUP, on_reload_signal}};
	struct event *ev[4] = {0};
	char err[512];
	int rc = 0;

	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	rt.base = event_base_new();
	if (!rt.base) {
		log_error("cannot create the event loop");
		return EXIT_START_FAILED;
	}
	rt.workers = workers_start(rt.base, gen, stopped, &rt, err, sizeof(err));
	if (!rt.workers) {
		log_error("%s", err);
		rc = EXIT_START_FAILED;
		goto out;
	}
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		ev[i] = evsignal_new(rt.base, sigs[i].num, sigs[i].fn, &rt);
		if (!ev[i] || evsignal_add(ev[i], NULL) < 0) {
			log_error("cannot install signal handlers");
			rc = EXIT_START_FAILED;
			goto out;
		}
	}
	log_info("kgate %s ready", KGATE_VERSION);
	if (demo)
		demo_print_usage(demo);
	event_base_dispatch(rt.base);
	ignore_signals_while_exiting();
out:
	for (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++)
		if (ev[i])
			event_free(ev[i]);
	/* Stops what a drain left (or a loop that ended any other way), ends
	 * the worker threads and logs the final counters. */
	workers_free(rt.workers);
	event_base_free(rt.base);
	return rc;
}

/* --check: each broker id's listener, the address clients are given for
 * it, where kgate dials it, and which entries the rule made — the table an
 * operator compares with the NLB's listeners. */
static void print_brokers(const struct cfg *cfg)
{
	const struct cfg_broker_ports *r = &cfg->broker_ports;

	if (r->set == CFG_TLS_ON)
		printf("  broker_ports: ids %" PRId32 "-%" PRId32 " on %s ports %" PRId32 "-%" PRId32
		       ", advertised at %s ports %" PRId32 "-%" PRId32 " (%zu from the rule, %zu "
		       "written in brokers[])\n",
		       r->first_id, r->first_id + r->count - 1, r->listen_host, r->first_port,
		       r->first_port + r->count - 1, r->advertise_host,
		       r->advertise_first_port ? r->advertise_first_port : r->first_port,
		       (r->advertise_first_port ? r->advertise_first_port : r->first_port) +
			       r->count - 1,
		       cfg->n_brokers - cfg->n_explicit, cfg->n_explicit);
	printf("  %-10s %-24s %-32s %s\n", "id", "listen", "advertise", "upstream");
	for (size_t i = 0; i < cfg->n_brokers; i++) {
		const struct cfg_broker *b = cfg->by_id[i];

		printf("  %-10" PRId32 " %-24s %-32s %s%s\n", b->id, b->listen.text,
		       b->advertise.text, b->upstream.host ? b->upstream.text : "learned",
		       b->from_rule ? "  (broker_ports)" : "");
	}
}

/* --check: who signs in where, one line per listener, when anyone does. */
static void print_auth(const struct cfg *cfg)
{
	for (size_t i = 0; i < cfg_n_listeners(cfg); i++) {
		const struct cfg_broker *b = cfg_listener_conf(cfg, i);
		const struct cfg_login *a = cfg_login(cfg, b);
		const struct cfg_sasl *s = cfg_upstream_sasl(cfg, b);
		char who[300], mechs[64] = "", name[32];

		if (!s && a->mode == CFG_LOGIN_NONE)
			continue;
		cfg_sasl_describe(s, who, sizeof(who));
		for (int m = CFG_SASL_PLAIN; a->mode == CFG_LOGIN_SASL && m <= CFG_SASL_SCRAM_SHA_512;
		     m++)
			if (a->mechanisms & (1u << m))
				snprintf(mechs + strlen(mechs), sizeof(mechs) - strlen(mechs), "%s%s",
					 mechs[0] ? ", " : " ", cfg_sasl_mech_names[m]);
		if (b == &cfg->sni_listener)
			snprintf(name, sizeof(name), "sni");
		else if (b)
			snprintf(name, sizeof(name), "broker %d", b->id);
		else
			snprintf(name, sizeof(name), "bootstrap");
		printf("  %s %s: clients sign in: %s%s%s%s; kgate signs in upstream as %s\n", name,
		       b ? b->listen.text : cfg->bootstrap_listen.text,
		       cfg_login_mode_names[a->mode], mechs,
		       a->n_identities ? ", identities mapped" : "",
		       a->mode == CFG_LOGIN_NONE && a->allow_anonymous ? " (anonymous allowed)" : "",
		       who);
	}
}

int main(int argc, char **argv)
{
	struct cli_opts o;
	struct cfg cfg;
	struct cfg_gen *gen;
	struct demo *demo = NULL;
	enum log_level level;
	char err[256];
	int rc;

	/* Commands of their own: a word first, then its own options. */
	if (argc > 1 && strcmp(argv[1], "passwd") == 0)
		return users_passwd_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "aws-credentials") == 0)
		return aws_creds_main(argc - 1, argv + 1);
	if (cli_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "kgate: %s\n(kgate --help shows the options)\n", err);
		return EXIT_USAGE;
	}
	if (o.help) {
		cli_usage(stdout);
		return 0;
	}
	if (o.version) {
		printf("kgate %s\n", KGATE_VERSION);
		return 0;
	}
	if (log_level_parse(o.log_level, &level) < 0) {
		fprintf(stderr, "kgate: --log-level \"%s\": expected error, warn, info or debug\n",
			o.log_level);
		return EXIT_USAGE;
	}
	log_set_level(level);
	memset(&cfg, 0, sizeof(cfg));
	rc = load_config(&o, &cfg, &demo);
	if (rc != 0)
		return rc;
	log_set_format(cfg.log_format == CFG_LOG_JSON);
	for (size_t i = 0; i < cfg.warnings.n; i++) {
		if (o.check)
			fprintf(stderr, "kgate: %s: warning: %s\n", o.config_path, cfg.warnings.msgs[i]);
		else
			log_warn("%s: %s", o.config_path, cfg.warnings.msgs[i]);
	}
	if (o.check) {
		unsigned workers = workers_count(&cfg);

		printf("%s: OK: bootstrap %s, %zu broker%s, %u worker%s\n", o.config_path,
		       cfg.bootstrap_listen.text, cfg.n_brokers, cfg.n_brokers == 1 ? "" : "s",
		       workers, workers == 1 ? "" : "s");
		if (cfg_has_sni(&cfg))
			printf("  sni %s (TLS): bootstrap name %s; broker N as %s, advertised at "
			       "port %" PRId32 "; other names and none: %s\n",
			       cfg.sni_listener.listen.text, cfg.sni.bootstrap_name,
			       cfg.sni.broker_name, cfg.sni.advertise_port,
			       cfg.sni.unmatched == CFG_SNI_REFUSE ? "refused (TLS unrecognized_name)"
								    : "routed to bootstrap");
		print_brokers(&cfg);
		print_auth(&cfg);
		printf("  discovery: Metadata at least every %" PRId64 " ms; after a dial failure "
		       "or NOT_LEADER at most once per %" PRId64 "..%" PRId64 " ms per broker\n",
		       cfg.discovery.refresh_interval_ms, cfg.discovery.backoff_ms,
		       cfg.discovery.backoff_max_ms);
		cfg_free(&cfg);
		return 0;
	}
	gen = cfg_gen_new(&cfg, 1);
	if (!gen) {
		fprintf(stderr, "kgate: out of memory\n");
		cfg_free(&cfg);
		demo_stop(demo);
		return EXIT_START_FAILED;
	}
	/* Before any loop exists: each worker's loop can then be woken from
	 * another thread (its mailbox), and libevent's shared state (its
	 * random numbers for DNS ids) is locked. */
	if (evthread_use_pthreads() < 0) {
		fprintf(stderr, "kgate: cannot set up libevent for threads\n");
		cfg_gen_unref(gen);
		demo_stop(demo);
		return EXIT_START_FAILED;
	}
	aws_creds_ensure(&gen->cfg);
	rc = run(gen, demo, o.demo ? NULL : o.config_path);
	aws_creds_stop();
	cfg_gen_unref(gen);
	demo_stop(demo);
	libevent_global_shutdown();
	return rc;
}
