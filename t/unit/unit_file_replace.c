/*
 * unit_file_replace - replacing a file: content, mode, links, leftovers
 *
 * In a private directory under /tmp: a new file gets the mode asked for,
 * a replaced one keeps its own; a symbolic link or a directory is not
 * replaced; an aborted or failed replacement leaves no temporary file
 * and the old content in place.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_replace.h"
#include "tap.h"

static char unit_dir[] = "/tmp/unit-file-replace.XXXXXX";

/* unit_path - a name in the test directory */
static const char *unit_path(const char *name)
{
	static char path[sizeof(unit_dir) + 64];

	snprintf(path, sizeof(path), "%s/%s", unit_dir, name);
	return path;
}

/* unit_read - a small file's content, or "(none)" */
static const char *unit_read(const char *name)
{
	static char text[256];
	int fd = open(unit_path(name), O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return "(none)";
	text[n] = 0;
	return text;
}

/* unit_mode - a file's permission bits, or -1 */
static int unit_mode(const char *name)
{
	struct stat st;

	return lstat(unit_path(name), &st) == 0 ? (int) (st.st_mode & 07777) : -1;
}

/* unit_entries - how many names the test directory holds */
static int unit_entries(void)
{
	DIR *d = opendir(unit_dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

/* unit_cleanup - empty and remove the test directory */
static void unit_cleanup(void)
{
	DIR *d = opendir(unit_dir);
	struct dirent *de;

	while (d && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			(void) (unlink(unit_path(de->d_name)) == 0
				|| rmdir(unit_path(de->d_name)));
	if (d)
		closedir(d);
	rmdir(unit_dir);
}

int main(void)
{
	struct file_replace fr;
	char err[512];
	int rc;

	if (mkdtemp(unit_dir) == NULL) {
		tap_ok(0, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	umask(022);
	rc = file_replace(unit_path("new"), "one\n", 4, 0640, (uid_t) -1, (gid_t) -1, err,
			  sizeof(err));
	tap_ok(rc == 0, "a new file is written: %s", rc ? err : "");
	tap_is_str(unit_read("new"), "one\n", "with its content");
	tap_is_int(unit_mode("new"), 0640, "and the mode asked for");

	chmod(unit_path("new"), 0604);
	rc = file_replace(unit_path("new"), "two\n", 4, 0600, (uid_t) -1, (gid_t) -1, err,
			  sizeof(err));
	tap_ok(rc == 0, "an existing file is replaced: %s", rc ? err : "");
	tap_is_str(unit_read("new"), "two\n", "with the new content");
	tap_is_int(unit_mode("new"), 0604, "keeping its own mode");
	tap_is_int(unit_entries(), 1, "no temporary file is left");

	tap_ok(symlink("new", unit_path("link")) == 0, "a symbolic link to it");
	rc = file_replace(unit_path("link"), "three\n", 6, 0600, (uid_t) -1, (gid_t) -1, err,
			  sizeof(err));
	tap_ok(rc < 0 && strstr(err, "is a symbolic link: not replaced"),
	       "a symbolic link is not replaced: %s", err);
	tap_is_str(unit_read("new"), "two\n", "nor followed");

	tap_ok(mkdir(unit_path("dir"), 0700) == 0, "a directory");
	rc = file_replace(unit_path("dir"), "x", 1, 0600, (uid_t) -1, (gid_t) -1, err,
			  sizeof(err));
	tap_ok(rc < 0 && strstr(err, "is not a regular file: not replaced"),
	       "is not replaced: %s", err);

	rc = file_replace(unit_path("missing/file"), "x", 1, 0600, (uid_t) -1, (gid_t) -1, err,
			  sizeof(err));
	tap_ok(rc < 0 && strstr(err, "cannot create a temporary file beside"),
	       "a file in a directory that is not there: %s", err);

	rc = file_replace_open(&fr, unit_path("new"), 0600, (uid_t) -1, (gid_t) -1, err,
			       sizeof(err));
	tap_ok(rc == 0 && fr.fd >= 0
		       && strncmp(fr.tmp, unit_path(".new."), strlen(unit_path(".new."))) == 0,
	       "the temporary file is .NAME.XXXXXX beside it: %s", fr.tmp);
	tap_is_int(unit_mode(fr.tmp + strlen(unit_dir) + 1), 0600,
		   "readable by its owner only until it is complete");
	tap_ok(file_replace_write(&fr, "half", 4, err, sizeof(err)) == 0, "written to");
	file_replace_abort(&fr);
	tap_is_str(unit_read("new"), "two\n", "an aborted replacement leaves the old content");
	tap_is_int(unit_entries(), 3, "and no temporary file (new, link, dir)");

	tap_ok(file_replace(unit_path(""), "x", 1, 0600, (uid_t) -1, (gid_t) -1, err,
			    sizeof(err))
		       < 0,
	       "a path ending in / is refused: %s", err);
	unit_cleanup();
	return tap_done();
}
