/* tsan_threads.c — C11 threads (<threads.h>) routed through pthreads, in
 * ThreadSanitizer builds only, so that TSan sees librdkafka's threads.
 *
 * Debian's librdkafka creates its threads and takes its locks with glibc's
 * C11 threads (thrd_create, mtx_lock, cnd_wait, call_once), which call
 * glibc's pthread internals directly.  TSan (gcc 12's and clang's alike)
 * intercepts only the pthread_* entry points, so a thread librdkafka starts
 * has no TSan state and crashes in TSan's allocator at its first malloc
 * (google/sanitizers#1195, #1603), and librdkafka's locks would be invisible
 * to it.  Defining these functions in the test program interposes them on
 * librdkafka's references (as libtsan interposes pthread_create itself);
 * each forwards to the pthread function TSan intercepts.  glibc lays out
 * mtx_t, cnd_t and once_flag as pthread_mutex_t, pthread_cond_t and
 * pthread_once_t (its own C11 functions cast them the same way), and
 * thrd_t is pthread_t.
 *
 * The lock and condition calls keep their synchronization but not the
 * memory accesses TSan records on the lock object itself: only librdkafka
 * calls these (nothing of ours includes <threads.h>), and it publishes its
 * locks to other threads with its own atomics, which TSan cannot see, so a
 * lock initialized on one librdkafka thread and taken on another would be
 * reported as a race on the lock's bytes.  That is the same treatment
 * tsan.supp's called_from_lib gives the pthread calls librdkafka makes
 * directly.  Thread creation and joining are tracked in full.
 *
 * Outside a TSan build this file is empty: librdkafka uses glibc's own.
 */
#if defined(__SANITIZE_THREAD__)
#define KGATE_TSAN_THREADS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KGATE_TSAN_THREADS 1
#endif
#endif

#ifdef KGATE_TSAN_THREADS

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

/* ThreadSanitizer's interface: ignore this thread's memory accesses (not its
 * synchronization) between the two calls. */
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);

/* Runs a lock call with the lock's own bytes unrecorded (see the top). */
#define QUIET(call)                           \
	({                                    \
		int quiet_rc_;                \
		__tsan_ignore_thread_begin(); \
		quiet_rc_ = (call);           \
		__tsan_ignore_thread_end();   \
		quiet_rc_;                    \
	})

_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "mtx_t is a pthread mutex");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "cnd_t is a pthread condition");
_Static_assert(sizeof(thrd_t) == sizeof(pthread_t), "thrd_t is a pthread_t");
_Static_assert(sizeof(once_flag) == sizeof(pthread_once_t), "once_flag is a pthread_once_t");

/* What a C11 thread starts with; freed by the thread. */
struct c11_start {
	thrd_start_t func;
	void *arg;
};

static void *c11_trampoline(void *p)
{
	struct c11_start s = *(struct c11_start *)p;

	free(p);
	return (void *)(intptr_t)s.func(s.arg);
}

static int c11_status(int err)
{
	return err == 0                         ? thrd_success
	       : err == ETIMEDOUT               ? thrd_timedout
	       : err == EBUSY                   ? thrd_busy
	       : err == ENOMEM || err == EAGAIN ? thrd_nomem
						: thrd_error;
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
	struct c11_start *s = malloc(sizeof(*s));
	pthread_t t;
	int err;

	if (!s)
		return thrd_nomem;
	s->func = func;
	s->arg = arg;
	err = pthread_create(&t, NULL, c11_trampoline, s);
	if (err != 0) {
		free(s);
		return c11_status(err);
	}
	*thr = (thrd_t)t;
	return thrd_success;
}

int thrd_join(thrd_t thr, int *res)
{
	void *ret;
	int err = pthread_join((pthread_t)thr, &ret);

	if (err == 0 && res)
		*res = (int)(intptr_t)ret;
	return c11_status(err);
}

int thrd_detach(thrd_t thr)
{
	return c11_status(pthread_detach((pthread_t)thr));
}

_Noreturn void thrd_exit(int res)
{
	pthread_exit((void *)(intptr_t)res);
}

int mtx_init(mtx_t *m, int type)
{
	pthread_mutexattr_t attr;
	int err;

	pthread_mutexattr_init(&attr);
	if (type & mtx_recursive)
		pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	err = QUIET(pthread_mutex_init((pthread_mutex_t *)m, &attr));
	pthread_mutexattr_destroy(&attr);
	return c11_status(err);
}

int mtx_lock(mtx_t *m)
{
	return c11_status(QUIET(pthread_mutex_lock((pthread_mutex_t *)m)));
}

int mtx_trylock(mtx_t *m)
{
	return c11_status(QUIET(pthread_mutex_trylock((pthread_mutex_t *)m)));
}

int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts)
{
	return c11_status(QUIET(pthread_mutex_timedlock((pthread_mutex_t *)m, ts)));
}

int mtx_unlock(mtx_t *m)
{
	return c11_status(QUIET(pthread_mutex_unlock((pthread_mutex_t *)m)));
}

void mtx_destroy(mtx_t *m)
{
	(void)QUIET(pthread_mutex_destroy((pthread_mutex_t *)m));
}

int cnd_init(cnd_t *c)
{
	return c11_status(QUIET(pthread_cond_init((pthread_cond_t *)c, NULL)));
}

int cnd_signal(cnd_t *c)
{
	return c11_status(QUIET(pthread_cond_signal((pthread_cond_t *)c)));
}

int cnd_broadcast(cnd_t *c)
{
	return c11_status(QUIET(pthread_cond_broadcast((pthread_cond_t *)c)));
}

int cnd_wait(cnd_t *c, mtx_t *m)
{
	return c11_status(QUIET(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m)));
}

/* ts is TIME_UTC, i.e. CLOCK_REALTIME: pthread_cond_timedwait's default. */
int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict ts)
{
	return c11_status(
		QUIET(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, ts)));
}

void cnd_destroy(cnd_t *c)
{
	(void)QUIET(pthread_cond_destroy((pthread_cond_t *)c));
}

void call_once(once_flag *flag, void (*func)(void))
{
	(void)QUIET(pthread_once((pthread_once_t *)&flag->__data, func));
}

#endif
