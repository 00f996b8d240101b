/*
 * Writing under the run directory without following a symbolic link
 * planted there (a stage can write into it too): every component of a
 * path below the root is opened with openat(O_NOFOLLOW), so a link in
 * place of logs/, samples/, plots/, monitor/ or a file name cannot send a
 * write outside.  A link found there fails with ELOOP.  Paths not below
 * the root (or no root set) are opened as given, with O_NOFOLLOW on the
 * last component only.
 */
#ifndef BENCHCTL_UTIL_BENEATH_H
#define BENCHCTL_UTIL_BENEATH_H

#include <stdbool.h>
#include <sys/types.h>

/* The directory whose inside is protected (a copy is kept; NULL: none).
 * Set once before threads start (the run's directory); read without
 * locks afterwards. */
void beneath_set_root(const char *dir);

/* open(2) of path with flags | O_NOFOLLOW | O_CLOEXEC, every directory
 * component below the root opened without following links (and made,
 * with 0755, when flags has O_CREAT).  The file descriptor, or -1 with
 * errno (ELOOP: a symbolic link below the root). */
int open_beneath(const char *path, int flags, mode_t mode);

/* The directory that holds path, opened (O_PATH) as open_beneath does
 * (made when create), and the last component of path in *last (a pointer
 * into path).  The descriptor, or -1 with errno. */
int open_parent_beneath(const char *path, bool create, const char **last);

/* mkdir -p of a directory strictly below the root, never through a link
 * (mkdir_p calls it for such paths).  False with errno (ELOOP: a link). */
bool mkdir_beneath(const char *path);

/* The root (NULL: none). */
const char *beneath_root(void);

/* Is path the root or below it (lexically)?  False without a root. */
bool beneath_root_has(const char *path);

/*
 * A file below the root written by someone benchctl does not control (a
 * plugin, a program it runs): the writer gets a path in a fresh directory
 * benchctl made next to the destination (.benchctl-put.XXXXXXXX), so no
 * link planted at the destination, at the writer's own temporary names
 * or on the way can send its write elsewhere; afterwards benchctl checks
 * that nothing on the way was swapped and moves what was written into
 * place.  Outside the root (or without one) the writer gets the
 * destination itself.
 */
typedef struct beneath_put {
    char *path;       /* where the writer writes (owned) */
    char *dest;       /* the destination (owned) */
    char *stage_name; /* the fresh directory's name in the destination's; NULL: none */
    int pdfd, sdfd;   /* the destination's directory and the fresh one; -1: none */
    dev_t pdev, sdev;
    ino_t pino, sino;
} beneath_put;

/* Prepare dest for a writer: its directories made below the root without
 * following a link, the fresh directory made.  false with *why (owned, a
 * sentence naming dest) when a link is in the way or something cannot be
 * made; bp is then released already. */
bool beneath_put_begin(beneath_put *bp, const char *dest, char **why);
/* After the writer succeeded: check that the way to dest is the one
 * prepared and move the regular files it wrote (dest, and any file it
 * wrote beside it) into dest's directory.  false with *why (owned) when
 * it wrote nothing at bp->path, left a link there, or something on the way
 * was swapped for another directory or a link (nothing is moved then). */
bool beneath_put_commit(beneath_put *bp, char **why);
/* Remove the fresh directory and what is left in it; release bp. */
void beneath_put_end(beneath_put *bp);

#endif
