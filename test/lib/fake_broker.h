/* fake_broker.h — a scripted Kafka "broker" on a loopback port, for testing
 * the gateway against responses no real broker would send: oversized,
 * malformed, mismatched, or carrying fields librdkafka's mock never emits.
 */
#ifndef KGATE_FAKE_BROKER_H
#define KGATE_FAKE_BROKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct fake_broker;

/* Called on the broker's thread for each accepted connection; returns when
 * done with it (the harness closes fd). */
typedef void (*fake_handler_fn)(struct fake_broker *fb, int fd);

struct fake_broker {
	int listen_fd;
	int port;
	pthread_t thread;
	fake_handler_fn handler;
	void *ctx;              /* for the handler */
	atomic_int stop;        /* set by fake_broker_stop, read by the broker's thread */
	atomic_int connections; /* accepted so far, read by the test's thread */
};

void fake_broker_start(struct fake_broker *fb, fake_handler_fn handler, void *ctx);
/* ... on 127.0.0.1:port (0: any free port), e.g. a broker back where it was. */
void fake_broker_start_at(struct fake_broker *fb, int port, fake_handler_fn handler, void *ctx);
void fake_broker_stop(struct fake_broker *fb);

/* A request as the fake broker read it. */
struct fake_request {
	int16_t api_key, api_version;
	int32_t correlation_id;
	uint8_t *frame; /* whole frame after the size */
	size_t len;
};

/* Reads one request frame; -1 on EOF or error. */
int fake_read_request(int fd, struct fake_request *req);
void fake_request_free(struct fake_request *req);
/* Sends all of buf, in pieces of at most chunk bytes (0: at once). */
int fake_send(int fd, const void *buf, size_t len, size_t chunk);

#endif
