/* test_chunk.c — reused read buffers: bytes read into chunks arrive intact,
 * a move that cuts a chunk shares it instead of copying, chunks come back
 * when their last reference is written, idle sides hold none, reads reuse
 * what came back, the free list shrinks to what is used, and a pool closed
 * with chunks still out is freed by the last one. */
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../gateway/chunk.h"
#include "tests.h"

#define PATTERN (8u << 20)

struct pipe_fixture {
	int fd[2];
	struct kg_stats stats;
	struct chunk_pool *pool;
	struct chunk *cur;
	struct evbuffer *in, *out;
	uint8_t *sent;
	size_t n_sent;
};

static void fx_init(struct pipe_fixture *f)
{
	int buf = 4 << 20;

	memset(f, 0, sizeof(*f));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, f->fd), 0);
	setsockopt(f->fd[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(f->fd[1], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	f->pool = chunk_pool_new(&f->stats);
	f->in = evbuffer_new();
	f->out = evbuffer_new();
	f->sent = malloc(PATTERN);
	ck_assert(f->pool && f->in && f->out && f->sent);
	for (size_t i = 0; i < PATTERN; i++)
		f->sent[i] = (uint8_t)(i * 7 + (i >> 9));
}

static void fx_free(struct pipe_fixture *f)
{
	chunk_release(&f->cur);
	evbuffer_free(f->in);
	evbuffer_free(f->out);
	chunk_pool_close(f->pool);
	close(f->fd[0]);
	close(f->fd[1]);
	free(f->sent);
}

/* Sends n more bytes of the pattern and reads them all into f->in. */
static void send_and_read(struct pipe_fixture *f, size_t n)
{
	size_t put = 0, got = 0;

	ck_assert_uint_le(f->n_sent + n, PATTERN);
	while (got < n) {
		ssize_t w = put < n ? write(f->fd[0], f->sent + f->n_sent + put, n - put) : 0;
		ssize_t r;

		ck_assert_int_ge(w, 0);
		put += (size_t)w;
		r = chunk_read(f->pool, &f->cur, f->fd[1], put - got, f->in);
		ck_assert_int_gt(r, 0);
		got += (size_t)r;
	}
	f->n_sent += n;
}

/* buf holds exactly the pattern's bytes [from, from + len). */
static void holds_pattern(struct evbuffer *buf, const struct pipe_fixture *f, size_t from,
			  size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	ck_assert_uint_eq(evbuffer_get_length(buf), len);
	ck_assert_int_eq(evbuffer_copyout(buf, copy, len), (ssize_t)len);
	ck_assert(memcmp(copy, f->sent + from, len) == 0);
	free(copy);
}

START_TEST(test_chunk_read_and_move_shares)
{
	struct pipe_fixture f;
	struct evbuffer_iovec before, after;
	size_t cut = 100000; /* inside the second chunk */

	fx_init(&f);
	send_and_read(&f, 300000);
	holds_pattern(f.in, &f, 0, 300000);
	ck_assert_uint_ge(f.stats.buffer_bytes_in_use, 300000);
	/* Where byte `cut` lives before the move ... */
	{
		struct evbuffer_ptr at;

		evbuffer_ptr_set(f.in, &at, cut, EVBUFFER_PTR_SET);
		ck_assert_int_ge(evbuffer_peek(f.in, 1, &at, &before, 1), 1);
	}
	ck_assert_int_eq(chunk_move(f.in, f.out, cut), 0);
	holds_pattern(f.out, &f, 0, cut);
	holds_pattern(f.in, &f, cut, 300000 - cut);
	/* ... is where the input's first byte is after it: nothing was copied. */
	ck_assert_int_ge(evbuffer_peek(f.in, 1, NULL, &after, 1), 1);
	ck_assert_ptr_eq(after.iov_base, before.iov_base);
	/* And the output's last chain ends where the cut was. */
	{
		struct evbuffer_iovec v[16];
		int n = evbuffer_peek(f.out, -1, NULL, v, 16);

		ck_assert_int_ge(n, 2);
		ck_assert_ptr_eq((uint8_t *)v[n - 1].iov_base + v[n - 1].iov_len,
				 (uint8_t *)before.iov_base);
	}
	/* Move the rest in two uneven steps, then "write" it all. */
	ck_assert_int_eq(chunk_move(f.in, f.out, 1), 0);
	ck_assert_int_eq(chunk_move(f.in, f.out, 300000 - cut - 1), 0);
	ck_assert_uint_eq(evbuffer_get_length(f.in), 0);
	holds_pattern(f.out, &f, 0, 300000);
	evbuffer_drain(f.out, 300000);
	/* Every chunk came back, the one being filled too: an idle side
	 * holds nothing. */
	ck_assert_ptr_null(f.cur);
	ck_assert_uint_eq(f.stats.buffer_bytes_in_use, 0);
	ck_assert_uint_eq(f.stats.buffer_bytes_free, f.stats.buffer_allocations * CHUNK_SIZE);
	fx_free(&f);
}
END_TEST

START_TEST(test_chunk_reuse_and_trim)
{
	struct pipe_fixture f;
	uint64_t allocated;

	fx_init(&f);
	send_and_read(&f, 200000);
	ck_assert_int_eq(chunk_move(f.in, f.out, 200000), 0);
	evbuffer_drain(f.out, 200000);
	allocated = f.stats.buffer_allocations;
	ck_assert_uint_ge(allocated, 4);
	/* The same traffic again is served from the free list. */
	for (int round = 0; round < 20; round++) {
		size_t from = f.n_sent;

		send_and_read(&f, 200000);
		ck_assert_int_eq(chunk_move(f.in, f.out, 200000), 0);
		holds_pattern(f.out, &f, from, 200000);
		evbuffer_drain(f.out, 200000);
	}
	ck_assert_uint_eq(f.stats.buffer_allocations, allocated);
	ck_assert_uint_eq(f.stats.buffer_bytes_free, allocated * CHUNK_SIZE);
	/* Unused for two trim periods: returned to the system. */
	for (int tick = 0; tick < 20; tick++)
		chunk_pool_tick(f.pool);
	ck_assert_uint_eq(f.stats.buffer_bytes_free, 0);
	fx_free(&f);
}
END_TEST

START_TEST(test_chunk_small_reads_pack)
{
	struct pipe_fixture f;

	fx_init(&f);
	/* 100-byte reads held (not written yet) fill one chunk, not 100. */
	for (int i = 0; i < 100; i++)
		send_and_read(&f, 100);
	holds_pattern(f.in, &f, 0, 10000);
	ck_assert_uint_eq(f.stats.buffer_allocations, 1);
	ck_assert_ptr_nonnull(f.cur);
	/* Written: the chunk is back and the side no longer holds it. */
	evbuffer_drain(f.in, 10000);
	ck_assert_ptr_null(f.cur);
	ck_assert_uint_eq(f.stats.buffer_bytes_in_use, 0);
	fx_free(&f);
}
END_TEST

START_TEST(test_chunk_pool_closed_with_chunks_out)
{
	struct pipe_fixture f;
	struct evbuffer *late;

	fx_init(&f);
	send_and_read(&f, 150000);
	late = f.out;
	ck_assert_int_eq(chunk_move(f.in, late, 150000), 0);
	f.out = evbuffer_new();
	chunk_release(&f.cur);
	/* The gateway goes; a bufferevent freed later still holds chunks. */
	fx_free(&f);
	evbuffer_free(late); /* must not touch freed memory (ASan) */
}
END_TEST

Suite *suite_chunk(void)
{
	Suite *s = suite_create("chunk");
	TCase *tc = tcase_create("pool");

	tcase_add_test(tc, test_chunk_read_and_move_shares);
	tcase_add_test(tc, test_chunk_reuse_and_trim);
	tcase_add_test(tc, test_chunk_small_reads_pack);
	tcase_add_test(tc, test_chunk_pool_closed_with_chunks_out);
	suite_add_tcase(s, tc);
	return s;
}
