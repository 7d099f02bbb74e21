/* demo.c — a 3-broker librdkafka mock cluster inside the process.
 *
 * The mock brokers listen on random loopback ports and advertise those; kgate
 * fronts them on 9094 (bootstrap) and 8443-8445 (one per broker), bound to
 * 127.0.0.1 unless --demo-listen says otherwise, learning the mock's
 * addresses from its Metadata exactly as it would learn a real cluster's.
 */
#include "demo.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct demo {
	rd_kafka_t *rk; /* owns the mock cluster's thread */
	rd_kafka_mock_cluster_t *mcluster;
	char bootstraps[256];
	const char *listen;    /* the IP kgate's listeners bind */
	const char *advertise; /* the host clients are sent to */
};

/* "host:port", bracketing an IPv6 address. */
static const char *hostport(char *buf, size_t len, const char *host, int port)
{
	snprintf(buf, len, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	return buf;
}

static void demo_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	/* librdkafka's syslog levels: 0-3 errors, 4 warnings, 5-7 chatter. */
	if (level <= 3)
		log_error("mock cluster: %s: %s", fac, buf);
	else
		log_debug("mock cluster: %s: %s", fac, buf);
}

/* The gateway configuration for the mock, written as a user would. */
static int demo_config(const struct demo *d, struct cfg *cfg, char *err, size_t errlen)
{
	char json[2048], upstreams[512] = "", *save = NULL, *tok, list[256];
	size_t n = 0;
	struct cfg_errors errs;

	snprintf(list, sizeof(list), "%s", d->bootstraps);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		n += (size_t)snprintf(upstreams + n, sizeof(upstreams) - n, "%s\"%s\"",
				      n ? ", " : "", tok);
	char l[300], a[300];

	n = (size_t)snprintf(json, sizeof(json),
			     "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [%s] },\n"
			     "  \"brokers\": [",
			     hostport(l, sizeof(l), d->listen, DEMO_BOOTSTRAP_PORT), upstreams);
	for (int i = 0; i < DEMO_BROKERS; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n,
				      "%s\n    { \"id\": %d, \"listen\": \"%s\", "
				      "\"advertise\": \"%s\" }",
				      i ? "," : "", i + 1,
				      hostport(l, sizeof(l), d->listen, DEMO_FIRST_BROKER_PORT + i),
				      hostport(a, sizeof(a), d->advertise, DEMO_FIRST_BROKER_PORT + i));
	/* Whoever chose a non-loopback address for the demo chose to let
	 * others see its admin endpoint too. */
	snprintf(json + n, sizeof(json) - n,
		 " ],\n  \"admin\": { \"listen\": \"%s\", \"allow_remote\": true } }\n",
		 hostport(l, sizeof(l), d->listen, DEMO_ADMIN_PORT));
	if (cfg_load_string(json, cfg, &errs) < 0) {
		snprintf(err, errlen, "demo configuration: %s", errs.n ? errs.msgs[0] : "?");
		cfg_errors_free(&errs);
		return -1;
	}
	log_debug("demo configuration:\n%s", json);
	return 0;
}

struct demo *demo_start(struct cfg *cfg, const char *listen, const char *advertise, char *err,
			size_t errlen)
{
	struct demo *d = calloc(1, sizeof(*d));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256];

	if (!d || !conf)
		goto oom;
	d->listen = listen;
	d->advertise = advertise;
	rd_kafka_conf_set_log_cb(conf, demo_log_cb);
	/* This handle only hosts the mock; it never connects anywhere. */
	rd_kafka_conf_set(conf, "client.id", "kgate-demo-mock", errstr, sizeof(errstr));
	d->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!d->rk) {
		rd_kafka_conf_destroy(conf);
		snprintf(err, errlen, "cannot create the mock cluster's handle: %s", errstr);
		free(d);
		return NULL;
	}
	d->mcluster = rd_kafka_mock_cluster_new(d->rk, DEMO_BROKERS);
	if (!d->mcluster) {
		snprintf(err, errlen, "cannot start the mock cluster");
		demo_stop(d);
		return NULL;
	}
	rd_kafka_mock_topic_create(d->mcluster, DEMO_TOPIC, DEMO_PARTITIONS, DEMO_BROKERS);
	snprintf(d->bootstraps, sizeof(d->bootstraps), "%s",
		 rd_kafka_mock_cluster_bootstraps(d->mcluster));
	log_info("mock cluster (librdkafka %s) brokers at %s", rd_kafka_version_str(),
		 d->bootstraps);
	if (demo_config(d, cfg, err, errlen) < 0) {
		demo_stop(d);
		return NULL;
	}
	return d;
oom:
	if (conf)
		rd_kafka_conf_destroy(conf);
	free(d);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

void demo_print_usage(const struct demo *d)
{
	char b[300], first[300], admin[300];

	hostport(b, sizeof(b), d->advertise, DEMO_BOOTSTRAP_PORT);
	hostport(first, sizeof(first), d->advertise, DEMO_FIRST_BROKER_PORT);
	hostport(admin, sizeof(admin), d->advertise, DEMO_ADMIN_PORT);
	printf("kgate demo: a %d-broker mock Kafka cluster (real brokers at %s)\n"
	       "fronted by kgate on %s: bootstrap port %d, brokers %s-%d, topic \"%s\".\n"
	       "Try:  kcat -b %s -L\n"
	       "      echo hello | kcat -b %s -t %s -P\n"
	       "      kcat -b %s -t %s -C -e\n"
	       "Every broker address kcat shows is kgate's. Metrics and health:\n"
	       "      curl http://%s/metrics   (also /healthz /readyz /brokers)\n"
	       "Ctrl-C stops.\n",
	       DEMO_BROKERS, d->bootstraps, d->listen, DEMO_BOOTSTRAP_PORT, first,
	       DEMO_FIRST_BROKER_PORT + DEMO_BROKERS - 1, DEMO_TOPIC, b, b, DEMO_TOPIC, b,
	       DEMO_TOPIC, admin);
	fflush(stdout);
}

void demo_stop(struct demo *d)
{
	if (!d)
		return;
	if (d->mcluster)
		rd_kafka_mock_cluster_destroy(d->mcluster);
	if (d->rk)
		rd_kafka_destroy(d->rk);
	free(d);
}
