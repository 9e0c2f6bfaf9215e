/*
 * priv.c — least privilege: what postcard gives up, in this order (priv.h, docs/security.md).
 *
 *   exec ─▶ priv_harden ─▶ priv_lookup ─▶ capture open ─▶ priv_drop_caps (no -u/-g)
 *                                                      └─▶ outputs, spool, Redis open
 *                                                          ─▶ priv_switch (-u/-g)
 *                                                          ─▶ priv_check_threads
 *
 * Capabilities are per thread (capset(2), PR_CAPBSET_DROP, PR_CAP_AMBIENT and no_new_privs
 * act on the calling thread only): what every thread must lack is given up before the
 * Redis output starts its threads, which inherit it. The user and groups are changed by
 * glibc in every thread (its set*id calls are process-wide, as POSIX says), and leaving
 * uid 0 clears the permitted, effective and ambient sets of each (capabilities(7)).
 * priv_check_threads reads /proc/self/task/ to be sure.
 *
 * Hazards:
 *   [PRIV-THREADS]    a capability dropped in one thread stays in the others: drop before
 *                     threads exist, or leave uid 0 (every thread); then check each thread
 *   [PRIV-ORDER]      setgroups and setgid need CAP_SETGID: before setuid, which ends it
 *   [PRIV-DUMPABLE]   the kernel sets the dumpable flag again when the user changes
 *                     (fs.suid_dumpable): it is set after the switch too
 *   [PRIV-ROOT-AGAIN] a switch is only done when setuid(0) and setgid(0) now fail
 */
#include "priv.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

int priv_core_dumps(bool allow, struct err *e)
{
    if (!allow) {
        struct rlimit none = {0, 0};
        if (setrlimit(RLIMIT_CORE, &none) != 0)
            return err_set(e, "cannot turn core dumps off (RLIMIT_CORE): %s", strerror(errno));
    }
    if (prctl(PR_SET_DUMPABLE, allow ? 1 : 0, 0, 0, 0) != 0)
        return err_set(e, "cannot set the dumpable flag: %s", strerror(errno));
    return 0;
}

/* The ambient set emptied (kernels before 4.3 have none). */
static int clear_ambient(struct err *e)
{
    if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() != 0)
        return err_set(e, "cannot empty the ambient capability set: %s", strerror(errno));
    return 0;
}

int priv_harden(bool allow_core_dumps, struct err *e)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return err_set(e, "cannot set no_new_privs: %s", strerror(errno));
    if (priv_core_dumps(allow_core_dumps, e) != 0 || clear_ambient(e) != 0)
        return -1;
    cap_t c = cap_get_proc();
    if (c == NULL)
        return err_set(e, "cannot read the capability sets: %s", strerror(errno));
    int rc = 0;
    cap_flag_value_t setpcap = CAP_CLEAR;
    if (cap_clear_flag(c, CAP_INHERITABLE) != 0 || cap_set_proc(c) != 0)
        rc = err_set(e, "cannot empty the inheritable capability set: %s", strerror(errno));
    else if (cap_get_flag(c, CAP_SETPCAP, CAP_EFFECTIVE, &setpcap) != 0)
        rc = err_set(e, "cannot read the capability sets: %s", strerror(errno));
    /* the bounding set: only with CAP_SETPCAP; without it nothing can be gained anyway, as
     * no_new_privs is set and postcard executes no program */
    for (cap_value_t v = 0; rc == 0 && setpcap == CAP_SET && v < (cap_value_t)cap_max_bits(); v++)
        if (cap_get_bound(v) == 1 && cap_drop_bound(v) != 0)
            rc = err_set(e, "cannot empty the bounding capability set: %s", strerror(errno));
    cap_free(c);
    return rc;
}

/* A user or group given as a number: all digits, below 2^31. */
static bool numeric_id(const char *s, unsigned long *v)
{
    char *end;
    if (s[0] == '\0' || !isdigit((unsigned char)s[0]))
        return false;
    errno = 0;
    *v = strtoul(s, &end, 10);
    return errno == 0 && *end == '\0' && *v < 0x80000000ul;
}

/* The supplementary groups of the user pw (with gid): the group database's list. */
static int user_groups(const struct passwd *pw, gid_t gid, struct priv_target *t, struct err *e)
{
    int n = 32;
    for (int tries = 0; tries < 8; tries++) {
        gid_t *g = xmalloc((size_t)n * sizeof *g);
        int want = n;
        if (getgrouplist(pw->pw_name, gid, g, &want) >= 0) {
            t->groups = g;
            t->n_groups = (size_t)want;
            return 0;
        }
        free(g);
        if (want <= n) /* it failed without saying how many it needs */
            break;
        n = want;
    }
    return err_set(e, "-u %s: cannot list the user's groups", t->user);
}

int priv_lookup(const char *user, const char *group, struct priv_target *t, struct err *e)
{
    memset(t, 0, sizeof *t);
    if (user == NULL)
        return err_set(e, "-g GROUP needs -u USER");
    snprintf(t->user, sizeof t->user, "%s", user);
    unsigned long num;
    bool is_num = numeric_id(user, &num);
    struct passwd *pw = getpwnam(user);
    if (pw == NULL && is_num)
        pw = getpwuid((uid_t)num);
    if (pw == NULL && !is_num)
        return err_set(e, "-u %s: no such user", user);
    t->uid = pw != NULL ? pw->pw_uid : (uid_t)num;
    if (t->uid == 0)
        return err_set(e, "-u %s: that is root; give an unprivileged user (docs/security.md)",
                       user);
    if (group != NULL) {
        snprintf(t->group, sizeof t->group, "%s", group);
        struct group *gr = getgrnam(group);
        if (gr == NULL && numeric_id(group, &num))
            t->gid = (gid_t)num;
        else if (gr == NULL)
            return err_set(e, "-g %s: no such group", group);
        else
            t->gid = gr->gr_gid;
    } else if (pw != NULL) {
        t->gid = pw->pw_gid;
        struct group *gr = getgrgid(t->gid);
        snprintf(t->group, sizeof t->group, "%s", gr != NULL ? gr->gr_name : "");
    } else {
        return err_set(e, "-u %s: not in the user database: give its group with -g", user);
    }
    if (pw != NULL)
        return user_groups(pw, t->gid, t, e);
    t->groups = xmalloc(sizeof *t->groups);
    t->groups[0] = t->gid;
    t->n_groups = 1;
    return 0;
}

void priv_target_free(struct priv_target *t)
{
    free(t->groups);
    t->groups = NULL;
    t->n_groups = 0;
}

int priv_drop_caps(struct err *e)
{
    cap_t none = cap_init(); /* every flag clear */
    cap_t now = NULL;
    int rc = 0;
    if (none == NULL)
        return err_set(e, "cannot give up the capabilities: %s", strerror(errno));
    if (cap_set_proc(none) != 0)
        rc = err_set(e, "cannot give up the capabilities: %s", strerror(errno));
    else if (clear_ambient(e) != 0)
        rc = -1;
    else if ((now = cap_get_proc()) == NULL)
        rc = err_set(e, "cannot read the capability sets: %s", strerror(errno));
    else if (cap_compare(now, none) != 0) {
        char *txt = cap_to_text(now, NULL);
        rc = err_set(e, "capabilities still held after giving them up: %s", txt ? txt : "?");
        cap_free(txt);
    }
    for (cap_value_t v = 0; rc == 0 && CAP_AMBIENT_SUPPORTED() && v < (cap_value_t)cap_max_bits();
         v++)
        if (cap_get_ambient(v) == 1)
            rc = err_set(e, "an ambient capability is still held after giving them up");
    cap_free(now);
    cap_free(none);
    return rc;
}

/* Are the process's groups exactly t's (in any order)? */
static bool groups_are(const struct priv_target *t)
{
    int n = getgroups(0, NULL);
    if (n < 0)
        return false;
    gid_t *g = xmalloc(((size_t)n + 1) * sizeof *g);
    n = getgroups(n, g);
    bool ok = n >= 0;
    for (int i = 0; ok && i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < t->n_groups && !found; k++)
            found = g[i] == t->groups[k];
        ok = found;
    }
    for (size_t k = 0; ok && k < t->n_groups; k++) {
        bool found = false;
        for (int i = 0; i < n && !found; i++)
            found = g[i] == t->groups[k];
        ok = found;
    }
    free(g);
    return ok;
}

int priv_switch(const struct priv_target *t, bool allow_core_dumps, struct err *e)
{
    const char *who = t->user;
    /* [PRIV-ORDER] groups first: setgroups and setgid need the privilege setuid ends */
    if (setgroups(t->n_groups, t->groups) != 0)
        return err_set(e, "-u %s: cannot set the supplementary groups (setgroups): %s", who,
                       strerror(errno));
    if (setresgid(t->gid, t->gid, t->gid) != 0)
        return err_set(e, "-u %s: cannot change the group to %lu (setresgid): %s", who,
                       (unsigned long)t->gid, strerror(errno));
    if (setresuid(t->uid, t->uid, t->uid) != 0)
        return err_set(e, "-u %s: cannot change the user to %lu (setresuid): %s", who,
                       (unsigned long)t->uid, strerror(errno));
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) != 0 || ru != t->uid || eu != t->uid || su != t->uid)
        return err_set(e, "-u %s: the user ids are not all %lu after the change", who,
                       (unsigned long)t->uid);
    if (getresgid(&rg, &eg, &sg) != 0 || rg != t->gid || eg != t->gid || sg != t->gid)
        return err_set(e, "-u %s: the group ids are not all %lu after the change", who,
                       (unsigned long)t->gid);
    if (!groups_are(t))
        return err_set(e, "-u %s: the supplementary groups are not the user's after the change",
                       who);
    if (setuid(0) == 0 || (t->gid != 0 && setgid(0) == 0)) /* [PRIV-ROOT-AGAIN] */
        return err_set(e, "-u %s: root could be taken back after the change", who);
    if (priv_drop_caps(e) != 0)
        return -1;
    return priv_core_dumps(allow_core_dumps, e); /* [PRIV-DUMPABLE] */
}

/* The hex value of "Name:\tHEX" in a status line, or -1 when the line is another's. */
static long long status_hex(const char *line, const char *name)
{
    size_t k = strlen(name);
    if (strncmp(line, name, k) != 0)
        return -1;
    return strtoll(line + k, NULL, 16);
}

int priv_check_threads(struct err *e)
{
    DIR *d = opendir("/proc/self/task");
    if (d == NULL)
        return 0;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/self/task/%.20s/status", de->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue; /* the thread has just ended */
        int nnp = -1;
        while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
            static const char *const sets[] = {"CapPrm:", "CapEff:", "CapAmb:"};
            for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
                if (status_hex(line, sets[i]) > 0) /* [PRIV-THREADS] */
                    rc = err_set(e, "thread %s still holds capabilities (%s %s)", de->d_name,
                                 sets[i], line + strlen(sets[i]) + 1);
            if (strncmp(line, "NoNewPrivs:", 11) == 0)
                nnp = (int)strtol(line + 11, NULL, 10);
        }
        fclose(f);
        if (rc == 0 && nnp == 0)
            rc = err_set(e, "thread %s can gain privileges (no_new_privs not set)", de->d_name);
    }
    closedir(d);
    if (rc != 0) { /* the line from status ends with its newline */
        size_t n = strlen(e->msg);
        if (n > 0 && e->msg[n - 1] == '\n')
            e->msg[n - 1] = '\0';
    }
    return rc;
}
