/* mailbox.h — running a function on another thread's event loop.
 *
 * Each worker's event loop is touched only by its own thread: nothing it
 * owns (pairs, counters, the learned cluster) has a lock.  When the main
 * thread needs something from a worker — its counters for /metrics, a
 * reload, a drain — it mails a function to the worker's loop, which runs it
 * between two callbacks.  A call waits for the function to have run (the
 * main thread is the only caller, and no worker ever waits on the main
 * thread, so nothing can wait in a circle); a post does not wait (a worker
 * telling the main thread it has stopped).
 */
#ifndef KGATE_MAILBOX_H
#define KGATE_MAILBOX_H

#include "../protocol/kdefs.h"

struct event_base;
struct mailbox;

/* A function to run, owned by the sender until it has run. */
struct mail {
	void (*fn)(void *arg);
	void *arg;
	struct mail *next;
	int wait; /* mailbox_call: the sender waits for done */
	int done;
};

/* A mailbox delivered by base's loop; NULL if out of memory.  The loop
 * needs libevent's threading (evthread_use_pthreads) to be woken from
 * another thread. */
KG_MUSTCHECK struct mailbox *mailbox_new(struct event_base *base);
/* Frees the mailbox; mail never delivered is dropped.  NULL is fine. */
void mailbox_free(struct mailbox *mb);
/* Runs fn(arg) on mb's loop and returns once it has.  Not from that loop's
 * own thread, and only while the loop runs. */
void mailbox_call(struct mailbox *mb, void (*fn)(void *arg), void *arg);
/* The same in two halves, so that several loops work at once: queues m
 * (fn and arg set), then waits until it has run. */
void mailbox_send(struct mailbox *mb, struct mail *m);
void mailbox_wait(struct mailbox *mb, struct mail *m);
/* Queues m to run on mb's loop and returns at once; m stays the sender's
 * and must live until it has run (or the mailbox is freed). */
void mailbox_post(struct mailbox *mb, struct mail *m);

#endif
