/*
 * fuzz_conf - libFuzzer harness for the configuration loader
 *
 * Input: a first byte that picks the mode, then text.
 *	even	a value for one parameter (the second byte picks which, in
 *		the table's order): conf_parse_text(), conf_validate() and
 *		conf_format_value(). A value that is valid must survive what
 *		dlpconf -e does with it: formatted as libconfig source, written
 *		as "name = text;" and read back with conf_check_file() and
 *		conf_load(), it loads, and to the same value.
 *	odd	a whole dlpgate.conf: conf_check_file(), and when that says
 *		it loads, conf_load() must agree.
 * @include lines are left out: a file may include any file, and reading
 * /dev/zero is the administrator's own choice, not a parser defect.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "conf_params.h"
#include "mem.h"
#include "fuzz_util.h"

/*
 * libconfig 1.5 (Debian 12) leaks the text of a string it was reading when
 * the file has a syntax error right after it (strbuf_append in its
 * scanner): tens of bytes per refused file, in libconfig, not ours.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

static char fuzz_dir[] = "/tmp/fuzz-conf.XXXXXX";
static char fuzz_path[sizeof(fuzz_dir) + 32];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet("fuzz-conf");
	fuzz_defaults(NULL, 0);
	if (mkdtemp(fuzz_dir) == NULL)
		abort();
	snprintf(fuzz_path, sizeof(fuzz_path), "%s/%s", fuzz_dir, CONF_MAIN_FILE);
	return 0;
}

/* fuzz_write - the file that conf_load() and conf_check_file() read */
static void fuzz_write(const char *text, size_t len)
{
	int fd = open(fuzz_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, text, len) != (ssize_t) len)
		abort();
	close(fd);
}

/* fuzz_value - one parameter's value, through dlpconf -e's steps */
static void fuzz_value(const struct conf_param *p, const char *text)
{
	char err[CONF_ERR_MAX], err2[CONF_ERR_MAX];
	char *before, *after;
	struct buf src;
	int ok;

	err[0] = 0;
	ok = conf_validate(p, text, err, sizeof(err)) == 0;
	if (!ok && err[0] == 0)
		abort(); /* refused without a reason */
	buf_init(&src, 256);
	if ((conf_format_value(p, text, &src, err2, sizeof(err2)) == 0) != ok)
		abort();
	if (!ok) {
		buf_free(&src);
		return;
	}
	/* the live value from the file text, then from text (an override) */
	{
		char *file = xasprintf("%s = %s;\n", p->name, src.data);

		fuzz_write(file, strlen(file));
		if (conf_check_file(fuzz_path, "fuzz", err, sizeof(err)) < 0
		    || conf_load(fuzz_dir, NULL, 0, err, sizeof(err)) < 0) {
			fprintf(stderr, "formatted value refused: %s\n%s", err, file);
			abort();
		}
		free(file);
	}
	after = conf_value_text(p);
	/* -o name=value trims the blanks around '=': compare only without them */
	if (!isspace((unsigned char) text[0])) {
		char *ov = xasprintf("%s=%s", p->name, text);

		if (conf_load("/nonexistent", &ov, 1, err, sizeof(err)) < 0) {
			fprintf(stderr, "-o %s refused: %s\n", ov, err);
			abort();
		}
		free(ov);
		before = conf_value_text(p);
		if (strcmp(before, after) != 0) {
			fprintf(stderr, "%s: \"%s\" from -o, \"%s\" from the file\n", p->name,
				before, after);
			abort();
		}
		free(before);
	}
	/* and the text form of the live value is itself a valid value */
	if (conf_validate(p, after, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: own text \"%s\" refused: %s\n", p->name, after, err);
		abort();
	}
	free(after);
	buf_free(&src);
	fuzz_defaults(NULL, 0);
}

/* fuzz_file - a whole dlpgate.conf */
static void fuzz_file(const char *text, size_t len)
{
	char err[CONF_ERR_MAX] = "", err2[CONF_ERR_MAX] = "";
	int checked, loaded;

	fuzz_write(text, len);
	checked = conf_check_file(fuzz_path, "fuzz", err, sizeof(err)) == 0;
	if (!checked && err[0] == 0)
		abort();
	loaded = conf_load(fuzz_dir, NULL, 0, err2, sizeof(err2)) == 0;
	if (checked != loaded) {
		fprintf(stderr, "conf_check_file %d (%s), conf_load %d (%s)\n", checked, err,
			loaded, err2);
		abort();
	}
	if (loaded)
		fuzz_defaults(NULL, 0);
}

/* fuzz_has_include - "@include" anywhere, in any case, NULs or not */
static int fuzz_has_include(const uint8_t *data, size_t size)
{
	static const char word[] = "@include";

	for (size_t i = 0; i + sizeof(word) - 1 <= size; i++)
		if (strncasecmp((const char *) data + i, word, sizeof(word) - 1) == 0)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 2 || size > 65536)
		return 0;
	text = xstrndup((const char *) data + 2, size - 2);
	if (data[0] & 1) {
		if (!fuzz_has_include(data + 2, size - 2))
			fuzz_file((const char *) data + 2, size - 2);
	} else {
		fuzz_value(&conf_params[data[1] % conf_param_count], text);
	}
	free(text);
	return 0;
}
