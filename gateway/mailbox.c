/* mailbox.c — a locked queue of functions and an event that runs them on
 * the receiving loop (see mailbox.h). */
#include "mailbox.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>

struct mailbox {
	pthread_mutex_t lock;
	pthread_cond_t delivered; /* a waited-for mail has run */
	struct mail *head, **tail;
	struct event *ev; /* made active by senders: libevent wakes the loop */
};

/* On the receiving loop: everything queued so far, in order. */
static void deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mailbox *mb = arg;
	struct mail *m, *next;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&mb->lock);
	m = mb->head;
	mb->head = NULL;
	mb->tail = &mb->head;
	pthread_mutex_unlock(&mb->lock);
	for (; m; m = next) {
		int wait = m->wait;

		/* A waiting sender's mail is gone as soon as done is seen. */
		next = m->next;
		m->fn(m->arg);
		if (wait) {
			pthread_mutex_lock(&mb->lock);
			m->done = 1;
			pthread_cond_broadcast(&mb->delivered);
			pthread_mutex_unlock(&mb->lock);
		}
	}
}

struct mailbox *mailbox_new(struct event_base *base)
{
	struct mailbox *mb = calloc(1, sizeof(*mb));

	if (!mb)
		return NULL;
	mb->tail = &mb->head;
	mb->ev = event_new(base, -1, 0, deliver_cb, mb);
	if (!mb->ev || pthread_mutex_init(&mb->lock, NULL) != 0) {
		if (mb->ev)
			event_free(mb->ev);
		free(mb);
		return NULL;
	}
	if (pthread_cond_init(&mb->delivered, NULL) != 0) {
		pthread_mutex_destroy(&mb->lock);
		event_free(mb->ev);
		free(mb);
		return NULL;
	}
	return mb;
}

void mailbox_free(struct mailbox *mb)
{
	if (!mb)
		return;
	event_free(mb->ev);
	pthread_cond_destroy(&mb->delivered);
	pthread_mutex_destroy(&mb->lock);
	free(mb);
}

/* Queues m and wakes the receiving loop. */
static void enqueue(struct mailbox *mb, struct mail *m, int wait)
{
	m->next = NULL;
	m->wait = wait;
	m->done = 0;
	pthread_mutex_lock(&mb->lock);
	*mb->tail = m;
	mb->tail = &m->next;
	pthread_mutex_unlock(&mb->lock);
	event_active(mb->ev, EV_TIMEOUT, 0);
}

void mailbox_post(struct mailbox *mb, struct mail *m)
{
	enqueue(mb, m, 0);
}

void mailbox_send(struct mailbox *mb, struct mail *m)
{
	enqueue(mb, m, 1);
}

void mailbox_wait(struct mailbox *mb, struct mail *m)
{
	pthread_mutex_lock(&mb->lock);
	while (!m->done)
		pthread_cond_wait(&mb->delivered, &mb->lock);
	pthread_mutex_unlock(&mb->lock);
}

void mailbox_call(struct mailbox *mb, void (*fn)(void *arg), void *arg)
{
	struct mail m = {.fn = fn, .arg = arg};

	mailbox_send(mb, &m);
	mailbox_wait(mb, &m);
}
