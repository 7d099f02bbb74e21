/* fake_broker.c — accept loop and frame I/O for scripted brokers. */
#include "fake_broker.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../protocol/kbuf.h"
#include "harness.h"

static void *fake_loop(void *arg)
{
	struct fake_broker *fb = arg;

	while (!atomic_load(&fb->stop)) {
		struct pollfd pfd = {fb->listen_fd, POLLIN, 0};
		int fd, one = 1;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		fd = accept4(fb->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		atomic_fetch_add(&fb->connections, 1);
		fb->handler(fb, fd);
		close(fd);
	}
	return NULL;
}

void fake_broker_start(struct fake_broker *fb, fake_handler_fn handler, void *ctx)
{
	fake_broker_start_at(fb, 0, handler, ctx);
}

void fake_broker_start_at(struct fake_broker *fb, int port, fake_handler_fn handler, void *ctx)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	socklen_t len = sizeof(sa);
	int one = 1;

	memset(fb, 0, sizeof(*fb));
	atomic_init(&fb->stop, 0);
	atomic_init(&fb->connections, 0);
	fb->handler = handler;
	fb->ctx = ctx;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fb->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fb->listen_fd, 0);
	setsockopt(fb->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert_int_eq(bind(fb->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fb->listen_fd, 16), 0);
	ck_assert_int_eq(getsockname(fb->listen_fd, (struct sockaddr *)&sa, &len), 0);
	fb->port = ntohs(sa.sin_port);
	ck_assert_int_eq(pthread_create(&fb->thread, NULL, fake_loop, fb), 0);
}

void fake_broker_stop(struct fake_broker *fb)
{
	atomic_store(&fb->stop, 1);
	pthread_join(fb->thread, NULL);
	close(fb->listen_fd);
}

int fake_read_request(int fd, struct fake_request *req)
{
	uint8_t size_be[4];
	int32_t size;

	memset(req, 0, sizeof(*req));
	if (raw_recv(fd, size_be, 4) < 0)
		return -1;
	size = kbuf_get_i32(size_be);
	if (size < 8 || size > 64 * 1024 * 1024)
		return -1;
	req->frame = malloc((size_t)size);
	if (!req->frame || raw_recv(fd, req->frame, (size_t)size) < 0) {
		free(req->frame);
		req->frame = NULL;
		return -1;
	}
	req->len = (size_t)size;
	req->api_key = kbuf_get_i16(req->frame);
	req->api_version = kbuf_get_i16(req->frame + 2);
	req->correlation_id = kbuf_get_i32(req->frame + 4);
	return 0;
}

void fake_request_free(struct fake_request *req)
{
	free(req->frame);
	req->frame = NULL;
}

int fake_send(int fd, const void *buf, size_t len, size_t chunk)
{
	const uint8_t *p = buf;

	while (len > 0) {
		size_t n = chunk && chunk < len ? chunk : len;

		if (raw_send(fd, p, n) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}
