/*
 * secret.c — a secret read from a file or taken from the environment (secret.h).
 *
 * Hazards:
 *   [SECRET-STDIO]   stdio would keep the file's bytes in its own buffer after fclose:
 *                    read(2) straight into the caller's buffer
 *   [SECRET-ENVIRON] unsetenv only takes the variable out of environ[]: its bytes stay in
 *                    the block /proc/PID/environ shows until they are overwritten
 *   [SECRET-QUOTE]   no message quotes any byte of the secret
 */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int secret_read_file(const char *path, char *buf, size_t n, struct err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return err_set(e, "%s: %s", path, strerror(errno));
    struct stat sb;
    int rc = 0;
    if (fstat(fd, &sb) != 0)
        rc = err_set(e, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        rc = err_set(e, "%s: not a regular file", path);
    else if (sb.st_mode & (S_IROTH | S_IWOTH))
        rc = err_set(e, "%s: other users can read or write it (mode %03o): chmod 600 it", path,
                     (unsigned)(sb.st_mode & 0777));
    size_t len = 0;
    bool has_end = false;
    while (rc == 0 && !has_end && len < n) { /* [SECRET-STDIO] */
        ssize_t k = read(fd, buf + len, n - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            rc = err_set(e, "%s: %s", path, strerror(errno));
        if (k <= 0)
            break;
        has_end = memchr(buf + len, '\n', (size_t)k) != NULL;
        len += (size_t)k;
    }
    close(fd);
    const char *lf = rc == 0 ? memchr(buf, '\n', len) : NULL;
    size_t line = lf != NULL ? (size_t)(lf - buf) : len;
    if (line > 0 && buf[line - 1] == '\r')
        line--;
    if (rc == 0 && line >= n) /* [SECRET-QUOTE] */
        rc = err_set(e, "%s: the first line is longer than %zu bytes", path, n - 1);
    else if (rc == 0 && line == 0)
        rc = err_set(e, "%s: the first line is empty", path);
    else if (rc == 0 && memchr(buf, '\0', line) != NULL)
        rc = err_set(e, "%s: the first line holds a NUL byte", path);
    if (rc != 0) {
        explicit_bzero(buf, n);
        return -1;
    }
    explicit_bzero(buf + line, n - line); /* the rest of the file, and the line end */
    return 0;
}

int secret_take_env(const char *name, char *buf, size_t n, bool *found, struct err *e)
{
    char *v = getenv(name);
    *found = v != NULL;
    explicit_bzero(buf, n);
    if (v == NULL)
        return 0;
    size_t len = strlen(v);
    int rc = 0;
    if (len == 0)
        rc = err_set(e, "%s is set but empty", name);
    else if (len >= n) /* [SECRET-QUOTE] */
        rc = err_set(e, "%s is longer than %zu bytes", name, n - 1);
    else
        memcpy(buf, v, len);
    explicit_bzero(v, len); /* [SECRET-ENVIRON] */
    unsetenv(name);
    return rc;
}
