/*
 * file_replace - replace a file so that readers see the old or the new one
 *
 * See file_replace.h. The temporary file is made with mkostemp() in the
 * target's directory, so the rename never crosses file systems; it is
 * 0600 until commit, so a secret written into it is never readable by
 * others, not even for a moment.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_replace.h"

/* file_replace_fail - say why, remove the temporary file, -1 */
static int file_replace_fail(struct file_replace *fr, const char *what, const char *name,
			     char *err, size_t errlen)
{
	snprintf(err, errlen, "%s %s: %s", what, name, strerror(errno));
	file_replace_abort(fr);
	return -1;
}

/* file_replace_target - the target's mode and owner, if it exists */
static int file_replace_target(struct file_replace *fr, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(fr->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot look at %s: %s", fr->path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "cannot look at %s: %s", fr->path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is %s: not replaced", fr->path,
			 S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
		return -1;
	}
	fr->mode = st.st_mode & 07777;
	fr->uid = st.st_uid;
	fr->gid = st.st_gid;
	return 0;
}

/* file_replace_open - a temporary file beside path, to become path */
int file_replace_open(struct file_replace *fr, const char *path, mode_t mode, uid_t uid,
		      gid_t gid, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int) (slash - path + 1) : 0;

	fr->fd = -1;
	fr->mode = mode;
	fr->uid = uid;
	fr->gid = gid;
	if (*path == 0 || (slash && slash[1] == 0)
	    || snprintf(fr->path, sizeof(fr->path), "%s", path) >= (int) sizeof(fr->path)
	    || snprintf(fr->tmp, sizeof(fr->tmp), "%.*s.%s.XXXXXX", dirlen, path, path + dirlen)
		    >= (int) sizeof(fr->tmp)) {
		snprintf(err, errlen,
			 "cannot replace \"%.200s\": not a file name of "
			 "at most %d bytes",
			 path, PATH_MAX - 16);
		return -1;
	}
	if (file_replace_target(fr, err, errlen) < 0)
		return -1;
	if ((fr->fd = mkostemp(fr->tmp, O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot create a temporary file beside %s: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* file_replace_write - append len bytes to the temporary file */
int file_replace_write(struct file_replace *fr, const void *data, size_t len, char *err,
		       size_t errlen)
{
	const char *cp = data;

	while (len > 0) {
		ssize_t n = write(fr->fd, cp, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return file_replace_fail(fr, "write", fr->tmp, err, errlen);
		}
		cp += n;
		len -= (size_t) n;
	}
	return 0;
}

/* file_replace_sync_dir - make the rename in path's directory durable */
static int file_replace_sync_dir(const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int fd, rc;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int) (slash - path) + (slash == path) : 1,
		 slash ? path : ".");
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "open directory %s: %s", dir, strerror(errno));
		return -1;
	}
	/* a file system that cannot sync directories says EINVAL: nothing to do */
	rc = fsync(fd) < 0 && errno != EINVAL ? -1 : 0;
	if (rc < 0)
		snprintf(err, errlen, "fsync directory %s: %s", dir, strerror(errno));
	close(fd);
	return rc;
}

/* file_replace_commit - mode, owner, fsync, rename over the target, fsync dir */
int file_replace_commit(struct file_replace *fr, char *err, size_t errlen)
{
	if (fchmod(fr->fd, fr->mode) < 0)
		return file_replace_fail(fr, "chmod", fr->tmp, err, errlen);
	if (geteuid() == 0 && (fr->uid != (uid_t) -1 || fr->gid != (gid_t) -1)
	    && fchown(fr->fd, fr->uid, fr->gid) < 0)
		return file_replace_fail(fr, "chown", fr->tmp, err, errlen);
	if (fsync(fr->fd) < 0)
		return file_replace_fail(fr, "fsync", fr->tmp, err, errlen);
	if (close(fr->fd) < 0) {
		fr->fd = -1;
		return file_replace_fail(fr, "close", fr->tmp, err, errlen);
	}
	fr->fd = -1;
	if (rename(fr->tmp, fr->path) < 0) {
		snprintf(err, errlen, "rename %s to %s: %s", fr->tmp, fr->path,
			 strerror(errno));
		file_replace_abort(fr);
		return -1;
	}
	return file_replace_sync_dir(fr->path, err, errlen);
}

/* file_replace_abort - remove the temporary file */
void file_replace_abort(struct file_replace *fr)
{
	if (fr->fd >= 0)
		close(fr->fd);
	fr->fd = -1;
	(void) unlink(fr->tmp);
}

/* file_replace - replace path with len bytes of data */
int file_replace(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
		 gid_t gid, char *err, size_t errlen)
{
	struct file_replace fr;

	if (file_replace_open(&fr, path, mode, uid, gid, err, errlen) < 0
	    || file_replace_write(&fr, data, len, err, errlen) < 0)
		return -1;
	return file_replace_commit(&fr, err, errlen);
}
