/* fuzz_config.c — the configuration loader (config/config.h): JSON text
 * into cfg_load_string, then cfg_free when it loads, cfg_errors_free
 * always.
 *
 * Input: the JSON text (a NUL ends it, as it would a file read as a
 * string).  TLS file keys check their paths with access(); paths that exist
 * on the machine are fine to reach.
 *
 * Why: the configuration is what a user wrote, so any text must give either
 * a configuration or errors, never a crash or a leak (libFuzzer's leak
 * check runs on every input); and what loads must hold what the loader
 * promises: at least one bootstrap upstream and one broker, every address
 * parsed, broker ids unique and in range, advertised addresses unique,
 * every limit within its documented bounds.  Errors always come with words,
 * and loading the same text again gives the same errors.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../config/config.h"
#include "common.h"

static void check_loaded(const struct cfg *c)
{
	const struct cfg_limits *l = &c->limits;

	FUZZ_CHECK(c->bootstrap_listen.host && c->bootstrap_listen.text, "no bootstrap.listen");
	FUZZ_CHECK(c->bootstrap_upstream.n >= 1, "no bootstrap upstream");
	for (size_t i = 0; i < c->bootstrap_upstream.n; i++)
		FUZZ_CHECK(c->bootstrap_upstream.v[i].host, "bootstrap.upstream[%zu] unparsed", i);
	FUZZ_CHECK(c->n_brokers >= 1 && c->brokers, "no brokers");
	for (size_t i = 0; i < c->n_brokers; i++) {
		const struct cfg_broker *b = &c->brokers[i];

		FUZZ_CHECK(b->id >= 0, "brokers[%zu].id %d", i, b->id);
		FUZZ_CHECK(b->listen.host && b->advertise.host, "brokers[%zu] unparsed", i);
		for (size_t j = 0; j < i; j++) {
			const struct cfg_broker *o = &c->brokers[j];

			FUZZ_CHECK(b->id != o->id, "brokers[%zu] and [%zu] share id %d", i, j,
				   b->id);
			FUZZ_CHECK(b->advertise.port != o->advertise.port ||
					   strcasecmp(b->advertise.host, o->advertise.host) != 0,
				   "brokers[%zu] and [%zu] advertise one address", i, j);
		}
	}
	FUZZ_CHECK(l->max_frame_bytes >= 1024 && l->max_frame_bytes <= INT32_MAX,
		   "max_frame_bytes %lld", (long long)l->max_frame_bytes);
	FUZZ_CHECK(l->buffer_bytes >= 4096 && l->buffer_bytes <= 1024 * 1024 * 1024,
		   "buffer_bytes %lld", (long long)l->buffer_bytes);
	FUZZ_CHECK(l->connect_timeout_ms >= 1 && l->connect_timeout_ms <= 600000,
		   "connect_timeout_ms %lld", (long long)l->connect_timeout_ms);
	FUZZ_CHECK(l->max_inflight >= 1 && l->max_inflight <= 1 << 20, "max_inflight %lld",
		   (long long)l->max_inflight);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct cfg cfg, cfg2;
	struct cfg_errors errs, errs2;
	int rc, rc2;

	FUZZ_CHECK(text != NULL, "out of memory");
	memcpy(text, data, size);
	text[size] = '\0';
	rc = cfg_load_string(text, &cfg, &errs);
	FUZZ_CHECK(rc == 0 || rc == -1, "cfg_load_string: %d", rc);
	if (rc == 0) {
		FUZZ_CHECK(errs.n == 0, "loaded, with %zu errors", errs.n);
		check_loaded(&cfg);
		cfg_free(&cfg);
	} else {
		FUZZ_CHECK(errs.n >= 1, "refused without an error");
	}
	for (size_t i = 0; i < errs.n; i++)
		FUZZ_CHECK(errs.msgs[i] && errs.msgs[i][0], "error %zu has no words", i);
	fuzz_mark(errs.n < 64 ? errs.n : 64);

	rc2 = cfg_load_string(text, &cfg2, &errs2);
	FUZZ_CHECK(rc2 == rc && errs2.n == errs.n,
		   "loaded twice: %d with %zu errors, then %d "
		   "with %zu",
		   rc, errs.n, rc2, errs2.n);
	for (size_t i = 0; i < errs.n; i++)
		FUZZ_CHECK(strcmp(errs.msgs[i], errs2.msgs[i]) == 0,
			   "loaded twice: error %zu was \"%s\", then \"%s\"", i, errs.msgs[i],
			   errs2.msgs[i]);
	if (rc2 == 0)
		cfg_free(&cfg2);
	cfg_errors_free(&errs);
	cfg_errors_free(&errs2);
	free(text);
	return 0;
}
