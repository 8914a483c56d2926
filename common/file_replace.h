/*
 * file_replace - replace a file so that readers see the old or the new one
 *
 * The one way dlpgate replaces a file (configuration, keystore, password
 * file, policy state, notification spool), after Postfix's edit_file():
 *
 *	file_replace_open()	creates a temporary file beside the target,
 *				named .NAME.XXXXXX (mkstemp: a new file, never
 *				a link), readable by its owner only
 *	file_replace_write()	appends to it (or write to fr.fd directly)
 *	file_replace_commit()	gives it the target's mode and owner (those
 *				of open's arguments for a new file), fsyncs
 *				it, renames it over the target and fsyncs the
 *				directory, so that the rename survives a crash
 *	file_replace_abort()	removes it
 *
 * file_replace() does all of it for data in memory.
 *
 * A target that is a symbolic link or not a regular file is refused
 * (examined with O_NOFOLLOW): the link is not followed, nor silently
 * replaced by a file. Owners are kept only when running as root.
 *
 * Each call returns 0, or -1 with a reason in err that names the file;
 * after a failed write or commit the temporary file is gone. Readers that
 * scan the directory skip names that start with '.', and may remove old
 * ones that a process left when it died.
 */
#ifndef DLP_FILE_REPLACE_H
#define DLP_FILE_REPLACE_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

struct file_replace {
	int fd;              /* the temporary file, open for writing */
	char tmp[PATH_MAX];  /* its name */
	char path[PATH_MAX]; /* the target */
	mode_t mode;         /* the target's, or the one asked for */
	uid_t uid;           /* the target's, or the one asked for */
	gid_t gid;
};

int file_replace_open(struct file_replace *fr, const char *path, mode_t mode, uid_t uid,
		      gid_t gid, char *err, size_t errlen);
int file_replace_write(struct file_replace *fr, const void *data, size_t len, char *err,
		       size_t errlen);
int file_replace_commit(struct file_replace *fr, char *err, size_t errlen);
void file_replace_abort(struct file_replace *fr);
int file_replace(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
		 gid_t gid, char *err, size_t errlen);

#endif
