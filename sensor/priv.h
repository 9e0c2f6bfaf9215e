/*
 * priv.h — what postcard gives up, and when (docs/security.md):
 *
 *   start      priv_harden: no new privileges (PR_SET_NO_NEW_PRIVS), no core dumps
 *              (unless --allow-core-dumps), the inheritable and ambient capability sets
 *              emptied and the bounding set too where the process may (CAP_SETPCAP)
 *   -u/-g      priv_lookup: the user, the group and the user's supplementary groups,
 *              looked up before anything is opened
 *   capture    priv_drop_caps: once the capture is open, every capability, before any
 *   open       thread exists (without -u/-g)
 *   outputs    priv_switch (-u/-g): setgroups, setgid, setuid once the capture, the files,
 *   open       the spool and Redis are open; checked with getresuid/getresgid, setuid(0)
 *              must fail; then priv_check_threads: no thread holds a capability
 *
 * Each step returns 0, or -1 with e saying what could not be given up: postcard then
 * refuses to go on (main.c). Linux only (prctl, capabilities: libcap).
 */
#ifndef POSTCARD_PRIV_H
#define POSTCARD_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common.h"

/* Who postcard becomes with -u USER [-g GROUP]. */
struct priv_target {
    char user[64];   /* -u as given (a name, or a number) */
    char group[64];  /* -g as given, or the user's primary group's name ("" if unnamed) */
    uid_t uid;       /* the user's id; never 0 */
    gid_t gid;       /* -g, else the user's primary group */
    gid_t *groups;   /* supplementary groups: the user's in the group database, and gid */
    size_t n_groups; /* entries in groups */
};

/* At start, single-threaded: no new privileges, core dumps off (unless allow_core_dumps), the
 * inheritable, ambient and (where allowed) bounding capability sets emptied. */
int priv_harden(bool allow_core_dumps, struct err *e);

/* Core dumps allowed or not (PR_SET_DUMPABLE; RLIMIT_CORE 0 when not). The kernel resets the
 * dumpable flag when the user changes: priv_switch calls this again. */
int priv_core_dumps(bool allow, struct err *e);

/* -u USER (NULL: none) and -g GROUP (NULL: the user's primary group) into t. -1 when the user
 * or the group is unknown, or the user is root. priv_target_free releases t->groups. */
int priv_lookup(const char *user, const char *group, struct priv_target *t, struct err *e);
void priv_target_free(struct priv_target *t);

/* Every capability of the calling thread given up (permitted, effective, inheritable,
 * ambient), checked. Threads created afterwards hold none. */
int priv_drop_caps(struct err *e);

/* Become t: supplementary groups, group, user (every thread: glibc's set*id), then checked:
 * getresuid/getresgid, the groups, setuid(0) refused, no capability left in this thread;
 * core dumps set again as allow_core_dumps says. */
int priv_switch(const struct priv_target *t, bool allow_core_dumps, struct err *e);

/* No thread of the process holds a capability (permitted, effective, ambient) and each has
 * no_new_privs, as /proc/self/task/ says. 0 when /proc is not there to ask. */
int priv_check_threads(struct err *e);

#endif
