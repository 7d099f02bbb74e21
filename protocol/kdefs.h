/* kdefs.h — compiler attributes every module shares.
 *
 * KG_MUSTCHECK marks functions whose failure the caller has to act on
 * (allocation, a socket call, a frame that did not decode): ignoring their
 * result is then a warning, and with WERROR=1 a build failure.
 */
#ifndef KGATE_KDEFS_H
#define KGATE_KDEFS_H

#define KG_MUSTCHECK __attribute__((warn_unused_result))

#endif
