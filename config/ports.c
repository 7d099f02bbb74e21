/* ports.c — the broker_ports rule (see ports.h).
 *
 * An NLB in front of an MSK cluster gives broker N the port first + (N −
 * first_id): writing one brokers[] entry per broker says the same thing
 * N times, and a broker added later has no entry until someone writes one.
 * The rule says it once and covers ids the cluster does not have yet, so a
 * broker that joins is served on its port as soon as the cluster lists it.
 * It is expanded here into ordinary brokers[] entries: listeners, routing,
 * rewriting and reloads treat them exactly like written ones.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

void cfg_broker_where(const struct cfg *cfg, size_t i, char *buf, size_t len)
{
	if (cfg->brokers[i].from_rule)
		snprintf(buf, len, "broker_ports (id %" PRId32 ")", cfg->brokers[i].id);
	else
		snprintf(buf, len, "brokers[%zu]", i);
}

/* "host:port" parsed as the config's own addresses are (so the text, the
 * bracketing of IPv6 hosts and the checks are the same). */
static int make_addr(const char *host, int64_t port, enum cfg_host_kind kind,
		     struct cfg_addr *out, char *why, size_t whylen)
{
	char text[CFG_HOST_MAX + 16];

	cfg_addr_format(text, sizeof(text), host, (unsigned)port);
	return cfg_addr_parse(text, kind, out, why, whylen);
}

/* The rule's own values, each error with its path; 0 if usable. */
static int check_rule(const struct cfg_broker_ports *r, struct cfg_errors *errs)
{
	int64_t last_id = (int64_t)r->first_id + r->count - 1;
	int64_t adv_first = r->advertise_first_port ? r->advertise_first_port : r->first_port;
	size_t before = errs->n;
	struct cfg_addr probe;
	char why[256];

	if (make_addr(r->listen_host, r->first_port, CFG_HOST_IP, &probe, why, sizeof(why)) < 0)
		cfg_error(errs, "broker_ports.listen_host: %s", why);
	else
		cfg_addr_free(&probe);
	if (!cfg_host_valid(r->advertise_host) || cfg_addr_is_wildcard(&(struct cfg_addr){
							  .host = r->advertise_host}))
		cfg_error(errs, "broker_ports.advertise_host: expected a host name or address "
				"clients can connect to, got \"%s\"",
			  r->advertise_host);
	if (last_id > INT32_MAX)
		cfg_error(errs, "broker_ports.count: ids %" PRId32 " to %" PRId64 " go past %d",
			  r->first_id, last_id, INT32_MAX);
	if ((int64_t)r->first_port + r->count - 1 > 65535)
		cfg_error(errs, "broker_ports.count: ports %" PRId32 " to %" PRId64 " go past 65535",
			  r->first_port, (int64_t)r->first_port + r->count - 1);
	if (adv_first + r->count - 1 > 65535)
		cfg_error(errs, "broker_ports.count: advertised ports %" PRId64 " to %" PRId64
				" go past 65535",
			  adv_first, adv_first + r->count - 1);
	return errs->n == before ? 0 : -1;
}

void cfg_ports_expand(struct cfg *cfg, struct cfg_errors *errs)
{
	const struct cfg_broker_ports *r = &cfg->broker_ports;
	int64_t adv_first;
	struct cfg_broker *all;
	size_t n;
	char why[256];

	/* Said along with every other mistake; brokers: [] said so already. */
	if (r->set != CFG_TLS_ON && !cfg->brokers_written && !cfg->sni_written)
		cfg_error(errs, "brokers: missing (expected a non-empty array of broker objects, "
				"a broker_ports rule, or an sni block)");
	/* The rule's values are whole only if nothing failed to parse. */
	if (r->set != CFG_TLS_ON || errs->n || check_rule(r, errs) < 0)
		return;
	all = realloc(cfg->brokers, (cfg->n_brokers + (size_t)r->count) * sizeof(*all));
	if (!all) {
		cfg_error(errs, "broker_ports: out of memory");
		return;
	}
	cfg->brokers = all;
	adv_first = r->advertise_first_port ? r->advertise_first_port : r->first_port;
	n = cfg->n_brokers;
	for (int32_t k = 0; k < r->count; k++) {
		int32_t id = r->first_id + k;
		struct cfg_broker *b = &all[n];
		int named = 0;

		/* brokers[] is short (it is written by hand): a scan is fine. */
		for (size_t i = 0; i < cfg->n_explicit && !named; i++)
			named = all[i].id == id;
		if (named)
			continue;
		memset(b, 0, sizeof(*b));
		b->id = id;
		b->from_rule = 1;
		if (make_addr(r->listen_host, (int64_t)r->first_port + k, CFG_HOST_IP, &b->listen,
			      why, sizeof(why)) < 0 ||
		    make_addr(r->advertise_host, adv_first + k, CFG_HOST_ANY, &b->advertise, why,
			      sizeof(why)) < 0) {
			/* check_rule accepted both hosts: only memory can fail. */
			cfg_addr_free(&b->listen);
			cfg_error(errs, "broker_ports (id %" PRId32 "): %s", id, why);
			break;
		}
		n++;
	}
	cfg->n_brokers = n;
}
