/* gen.h — a configuration as a generation the gateway runs.
 *
 * Once loaded, a configuration never changes: it is wrapped in a
 * reference-counted generation that every listener and connection pair
 * holds for as long as it lives.  A reload builds the next generation and
 * hands it to new listeners and pairs, while the old ones keep the one they
 * started with; the last reference frees it.  (twemproxy's reload never
 * shipped because everything pointed into one config: this is the seam it
 * lacked.)
 */
#ifndef KGATE_GEN_H
#define KGATE_GEN_H

#include <stdatomic.h>
#include <stdint.h>

#include "../protocol/kdefs.h"
#include "config.h"

struct cfg_gen {
	atomic_uint refs;
	uint64_t number; /* 1 for the first configuration, then one more per reload */
	struct cfg cfg;
	/* Each listener's TLS contexts (cfg_gen_tls), shared by every worker:
	 * indexed as cfg_listener_conf (0 the bootstrap, then each broker, then
	 * the SNI listener); NULL where plaintext. */
	SSL_CTX **listen_tls, **upstream_tls;
};

/* A generation holding cfg's contents (cfg is left zeroed), with one
 * reference for the caller; NULL if out of memory (cfg untouched). */
KG_MUSTCHECK struct cfg_gen *cfg_gen_new(struct cfg *cfg, uint64_t number);
/* Builds g's TLS contexts once, for every worker (OpenSSL contexts may be
 * shared between threads once built): the certificates are read once per
 * generation, every worker serves the same ones, and a session cached or a
 * ticket issued by one worker resumes on another.  Nothing to do if built
 * already.  -1 with err filled ("broker 2 listener: ...") if one cannot be. */
KG_MUSTCHECK int cfg_gen_tls(struct cfg_gen *g, char *err, size_t errlen);
/* Another reference to g; returns g. */
struct cfg_gen *cfg_gen_ref(struct cfg_gen *g);
/* Drops a reference; the last one frees the configuration.  NULL is fine. */
void cfg_gen_unref(struct cfg_gen *g);

#endif
