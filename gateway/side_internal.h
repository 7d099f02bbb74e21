/* side_internal.h — what side.c and side_splice.c share: the splice
 * halves of reading, writing and freeing a side. */
#ifndef KGATE_SIDE_INTERNAL_H
#define KGATE_SIDE_INTERNAL_H

#include "side.h"

/* The socket is readable while a splice runs: into the peer's pipe. */
void side_splice_read(struct side *s);
/* Writes what s's pipe holds, once its output ahead of it is written. */
void side_pipe_flush(struct side *s);
/* While reading is off: watch (on) for the peer hanging up, if the owner
 * asked to (side_watch_hangup), or stop watching (off). */
void side_watch_closed(struct side *s, int on);
/* Ends what s takes part in (as feeder or as pipe holder). */
void side_splice_free(struct side *s);

#endif
