/* fetch_walk_internal.h — what the streaming walkers (fetch_walk.c, share_walk.c) share,
 * internal to protocol/: the states of the tagged section every flexible
 * structure ends with, and the macros their walk loops read primitives
 * with, so that each walker is only its own structure.
 *
 * The macros expect the walk function's locals: buf and len (the bytes
 * offered), pos (consumed so far), rc, and the outputs used and skip; and
 * a need_more label that reports pos consumed and KFW_NEED_MORE.  The
 * walker's struct has state, after (where a tagged section resumes) and
 * tags_left.
 */
#ifndef KGATE_FETCH_WALK_INTERNAL_H
#define KGATE_FETCH_WALK_INTERNAL_H

#include "fetch_walk.h"

/* Every walker's first states; its own start at KW_S_FIRST. */
enum { KW_S_TAGS_COUNT, KW_S_TAG_KEY, KW_S_TAG_SIZE, KW_S_FIRST };

/* k bytes must be at hand, else wait for more. */
#define KW_NEED(k)                                                            \
	do {                                                                  \
		if (len - pos < (k))                                          \
			goto need_more;                                       \
	} while (0)
/* Reads an unsigned varint into v, or waits for more, or refuses. */
#define KW_VARINT(v)                                                          \
	do {                                                                  \
		rc = kfw_uvarint(buf, len, &pos, &(v));                       \
		if (rc == 0)                                                  \
			goto need_more;                                       \
		if (rc < 0)                                                   \
			return KFW_ERROR;                                     \
	} while (0)
/* Has the caller pass k opaque bytes (if any) before walking on. */
#define KW_SKIP(k)                                                            \
	do {                                                                  \
		if ((k) > 0) {                                                \
			*used = pos;                                          \
			*skip = (k);                                          \
			return KFW_SKIP;                                      \
		}                                                             \
	} while (0)
/* The switch cases of a tagged section: count, then each field's tag and
 * size, its data skipped; then w->after.  n is a uint32_t scratch. */
#define KW_TAG_STATES(w, n)                                                   \
	case KW_S_TAGS_COUNT:                                                 \
		KW_VARINT(n);                                                 \
		(w)->tags_left = (n);                                         \
		(w)->state = (n) ? KW_S_TAG_KEY : (w)->after;                 \
		break;                                                        \
	case KW_S_TAG_KEY:                                                    \
		KW_VARINT(n); /* the tag: every one is opaque here */         \
		(w)->state = KW_S_TAG_SIZE;                                   \
		break;                                                        \
	case KW_S_TAG_SIZE:                                                   \
		KW_VARINT(n);                                                 \
		(w)->state = --(w)->tags_left ? KW_S_TAG_KEY : (w)->after;    \
		KW_SKIP(n);                                                   \
		break

#endif
