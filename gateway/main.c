/* main.c — kgate's entry point: command line, configuration, event loop,
 * signals. */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "../config/cli.h"
#include "../config/gen.h"
#include "demo.h"
#include "gateway.h"
#include "log.h"
#include "server.h"
#include "stats.h"

#ifndef KGATE_VERSION
#define KGATE_VERSION "unknown"
#endif

#define EXIT_START_FAILED 1
#define EXIT_USAGE 2

struct runtime {
	struct event_base *base;
	struct gateway *gw;
};

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct runtime *rt = arg;

	(void)what;
	log_info("received %s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	server_stop(rt->gw);
	event_base_loopexit(rt->base, NULL);
}

static void on_stats_signal(evutil_socket_t sig, short what, void *arg)
{
	struct runtime *rt = arg;

	(void)sig;
	(void)what;
	stats_log(&rt->gw->stats);
}

static int load_config(const struct cli_opts *o, struct cfg *cfg, struct demo **demo)
{
	struct cfg_errors errs;
	char err[512];

	if (o->demo) {
		*demo = demo_start(cfg, err, sizeof(err));
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

static int run(struct cfg_gen *gen, struct demo *demo)
{
	struct runtime rt = {0};
	struct event *sigs[3] = {0};
	const int signums[3] = {SIGINT, SIGTERM, SIGUSR1};
	char err[512];
	int rc = 0;

	signal(SIGPIPE, SIG_IGN);
	rt.base = event_base_new();
	if (!rt.base) {
		log_error("cannot create the event loop");
		return EXIT_START_FAILED;
	}
	rt.gw = server_start(rt.base, gen, err, sizeof(err));
	if (!rt.gw) {
		log_error("%s", err);
		rc = EXIT_START_FAILED;
		goto out;
	}
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(rt.base, signums[i],
				       signums[i] == SIGUSR1 ? on_stats_signal : on_stop_signal, &rt);
		if (!sigs[i] || evsignal_add(sigs[i], NULL) < 0) {
			log_error("cannot install signal handlers");
			rc = EXIT_START_FAILED;
			goto out;
		}
	}
	log_info("kgate %s ready", KGATE_VERSION);
	if (demo)
		demo_print_usage(demo);
	event_base_dispatch(rt.base);
	stats_log(&rt.gw->stats);
	/* The stop signal closed everything (this covers a loop that ended any
	 * other way); let libevent finish what closing started (deferred frees,
	 * cancelled name lookups) before the loop goes away. */
	server_stop(rt.gw);
	event_base_loop(rt.base, EVLOOP_NONBLOCK);
	event_base_loop(rt.base, EVLOOP_NONBLOCK);
out:
	for (int i = 0; i < 3; i++)
		if (sigs[i])
			event_free(sigs[i]);
	server_free(rt.gw);
	event_base_free(rt.base);
	return rc;
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
	for (size_t i = 0; i < cfg.warnings.n; i++) {
		if (o.check)
			fprintf(stderr, "kgate: %s: warning: %s\n", o.config_path, cfg.warnings.msgs[i]);
		else
			log_warn("%s: %s", o.config_path, cfg.warnings.msgs[i]);
	}
	if (o.check) {
		printf("%s: OK: bootstrap %s, %zu broker%s\n", o.config_path,
		       cfg.bootstrap_listen.text, cfg.n_brokers, cfg.n_brokers == 1 ? "" : "s");
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
	rc = run(gen, demo);
	cfg_gen_unref(gen);
	demo_stop(demo);
	libevent_global_shutdown();
	return rc;
}
