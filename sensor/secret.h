/*
 * secret.h — a secret postcard is given (the Redis password) read from a file or from the
 * environment, so that it never has to be on the command line, where every local user sees
 * it (ps, /proc/PID/cmdline); and the copies it leaves wiped (docs/security.md).
 */
#ifndef POSTCARD_SECRET_H
#define POSTCARD_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

/*
 * The first line of the file at path (without its LF or CRLF) into buf[0..n), NUL-ended.
 * The file must be a regular file that other users can neither read nor write, and the
 * line must hold 1 to n - 1 bytes and no NUL. Read with read(2) into buf only: no stdio
 * buffer keeps a copy. -1 with e saying why (never quoting the file's bytes).
 */
int secret_read_file(const char *path, char *buf, size_t n, struct err *e);

/*
 * The environment variable name into buf[0..n), NUL-ended; *found says whether it was set.
 * Its value is then wiped where it was (what /proc/PID/environ shows) and the variable
 * unset, whether or not it fits. -1 with e saying why (empty, too long).
 */
int secret_take_env(const char *name, char *buf, size_t n, bool *found, struct err *e);

#endif
