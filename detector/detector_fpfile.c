/*
 * detector_fpfile - fingerprint index files: open, check, last good copies
 *
 * detector_fpindex_open() maps NAME.edm or NAME.idm read-only (MAP_SHARED:
 * every detector shares the same pages) after checking it: magic, version,
 * size, the secret it was made under, and that every section lies inside
 * the file with the length its counts announce. Every reference into the
 * postings is checked again where it is used, so a damaged index can give
 * wrong answers but never a read outside the mapping.
 *
 *	FP_OPEN_SOURCE	fingerprint_directory/NAME.ext, and its SHA-256 over
 *			the whole file (dlpscan, `dlpgate check`)
 *	FP_OPEN_SAVE	the same; a good index becomes the last good copy in
 *			run_directory/detector/fingerprints (copied unless the
 *			copy there is the same), and the copy is what is
 *			mapped. A broken or missing index is refused (3102)
 *			and the last good copy runs instead (3103), as with
 *			the policies; with no copy either, the load fails
 *	FP_OPEN_GOOD	only the last good copy (the siblings of the detector
 *			that saved it)
 *
 * Copies are written to a temporary name and renamed: a detector of an
 * older generation keeps its mapping of the file it opened.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <bsd/string.h>

#include "conf_params.h"
#include "evt.h"
#include "mem.h"
#include "msg.h"
#include "detector_fp.h"

#define FP_GOOD_DIR "detector/fingerprints"

_Static_assert(sizeof(struct fp_head) == 136, "fp_head layout");
_Static_assert(sizeof(struct edm_head) == 272, "edm_head layout");
_Static_assert(sizeof(struct idm_head) == 248, "idm_head layout");
_Static_assert(sizeof(struct edm_col) == 64, "edm_col layout");
_Static_assert(sizeof(struct idm_doc) == 32, "idm_doc layout");
_Static_assert(sizeof(struct idm_file) == 32, "idm_file layout");
_Static_assert(sizeof(struct fp_slot3) == 12, "fp_slot3 layout");

/* detector_fp_dir - fingerprint_directory, relative to confdir */
void detector_fp_dir(const char *confdir, char *buf, size_t len)
{
	if (*var_fingerprint_directory == '/')
		strlcpy(buf, var_fingerprint_directory, len);
	else
		snprintf(buf, len, "%s/%s", confdir, var_fingerprint_directory);
}

/* detector_fp_good_dir - where the last good copies are */
void detector_fp_good_dir(char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", var_run_directory, FP_GOOD_DIR);
}

/* detector_fp_ext - ".edm" or ".idm" */
const char *detector_fp_ext(enum fp_kind kind)
{
	return kind == FP_EDM ? ".edm" : ".idm";
}

/* detector_fp_bucket - the home slot of a value */
uint32_t detector_fp_bucket(uint64_t fp, uint32_t slots)
{
	return (uint32_t) (((uint64_t) (uint32_t) fp * slots) >> 32);
}

/* detector_fp_tag - what a slot keeps of a value (never 0: empty) */
uint32_t detector_fp_tag(uint64_t fp)
{
	return (uint32_t) (fp >> 32) | 1;
}

/* bloom_bits - the word and three bits of a value in a Bloom filter */
static inline uint64_t bloom_bits(uint32_t log2, uint64_t fp, size_t *word)
{
	uint64_t g = fp * 0x9e3779b97f4a7c15ULL;

	*word = log2 ? (size_t) (g >> (64 - log2)) : 0;
	return 1ULL << (g >> 8 & 63) | 1ULL << (g >> 14 & 63) | 1ULL << (g >> 20 & 63);
}

/* detector_fp_bloom_add - a value into a Bloom filter of 2^log2 words */
void detector_fp_bloom_add(uint64_t *bloom, uint32_t log2, uint64_t fp)
{
	size_t w;
	uint64_t m = bloom_bits(log2, fp, &w);

	bloom[w] |= m;
}

/* detector_fp_bloom - may the index hold this value? */
int detector_fp_bloom(const struct det_fpindex *x, uint64_t fp)
{
	uint32_t log2 = x->kind == FP_EDM ? x->edm->bloom_log2 : x->idm->bloom_log2;
	size_t w;
	uint64_t m = bloom_bits(log2, fp, &w);

	return (x->bloom[w] & m) == m;
}

/* detector_fp_bloom_prefetch - start reading the Bloom filter word of a value */
void detector_fp_bloom_prefetch(const struct det_fpindex *x, uint64_t fp)
{
	uint32_t log2 = x->kind == FP_EDM ? x->edm->bloom_log2 : x->idm->bloom_log2;
	size_t w;

	(void) bloom_bits(log2, fp, &w);
	__builtin_prefetch(&x->bloom[w]);
}

/* detector_fp_postings - the postings of a slot's ref; NULL if it is out of bounds */
const uint32_t *detector_fp_postings(const struct det_fpindex *x, uint32_t ref, uint32_t *one,
				     uint32_t *n)
{
	uint64_t np = x->kind == FP_EDM ? x->edm->postings : x->idm->postings;

	if (ref & FP_REF_INLINE) {
		*one = ref & ~FP_REF_INLINE;
		*n = 1;
		return one;
	}
	if ((uint64_t) ref >= np || x->post[ref] == 0 || (uint64_t) x->post[ref] > np - ref - 1)
		return NULL;
	*n = x->post[ref];
	return x->post + ref + 1;
}

/* section_ok - does [off, off+len) lie in the file, 8-aligned? */
static int section_ok(const struct det_fpindex *x, uint64_t off, uint64_t len, uint64_t want,
		      const char *what, char *err, size_t errlen)
{
	if (off % 8 || off < sizeof(struct fp_head) || off > x->size || len > x->size - off
	    || len != want) {
		snprintf(err, errlen, "%s: section %s out of bounds (damaged file?)", x->path,
			 what);
		return -1;
	}
	return 0;
}

/* check_edm - the sections of an EDM index */
static int check_edm(struct det_fpindex *x, char *err, size_t errlen)
{
	const struct edm_head *h = (const struct edm_head *) x->map;

	if (x->size < sizeof(*h) || h->h.head_size != sizeof(*h)) {
		snprintf(err, errlen, "%s: bad header size", x->path);
		return -1;
	}
	if (h->cols == 0 || h->cols > FP_MAX_COLUMNS || h->rows > FP_MAX_ROWS || h->slots == 0
	    || h->values > h->slots || h->bloom_log2 > 32 || h->max_probe > h->slots
	    || h->postings > UINT32_MAX) {
		snprintf(err, errlen, "%s: counts out of range (damaged file?)", x->path);
		return -1;
	}
	if (section_ok(x, h->cols_off, (uint64_t) h->cols * sizeof(struct edm_col),
		       (uint64_t) h->cols * sizeof(struct edm_col), "columns", err, errlen)
		    < 0
	    || section_ok(x, h->slots_off, (uint64_t) h->slots * sizeof(struct fp_slot3),
			  (uint64_t) h->slots * sizeof(struct fp_slot3), "slots", err, errlen)
		    < 0
	    || section_ok(x, h->post_off, h->postings * 4, h->postings * 4, "postings", err,
			  errlen)
		    < 0
	    || section_ok(x, h->bloom_off, 8ULL << h->bloom_log2, 8ULL << h->bloom_log2,
			  "bloom", err, errlen)
		    < 0)
		return -1;
	x->edm = h;
	x->cols = (const struct edm_col *) (x->map + h->cols_off);
	x->slots = x->map + h->slots_off;
	x->post = (const uint32_t *) (x->map + h->post_off);
	x->bloom = (const uint64_t *) (x->map + h->bloom_off);
	for (uint32_t c = 0; c < h->cols; c++)
		if (memchr(x->cols[c].name, 0, sizeof(x->cols[c].name)) == NULL
		    || x->cols[c].name[0] == 0 || x->cols[c].type >= FP_NTYPES) {
			snprintf(err, errlen, "%s: column %u is damaged", x->path, c + 1);
			return -1;
		}
	return 0;
}

/* check_idm - the sections of an IDM index */
static int check_idm(struct det_fpindex *x, char *err, size_t errlen)
{
	const struct idm_head *h = (const struct idm_head *) x->map;

	if (x->size < sizeof(*h) || h->h.head_size != sizeof(*h)) {
		snprintf(err, errlen, "%s: bad header size", x->path);
		return -1;
	}
	if (h->k < 1 || h->k > FP_IDM_K_MAX || h->w < 1 || h->w > FP_IDM_W_MAX || h->slots == 0
	    || h->fps > h->slots || h->bloom_log2 > 32 || h->max_probe > h->slots
	    || h->docs == 0 || h->docs >= FP_REF_INLINE || h->postings > UINT32_MAX
	    || h->files > h->docs) {
		snprintf(err, errlen, "%s: counts out of range (damaged file?)", x->path);
		return -1;
	}
	if (section_ok(x, h->docs_off, (uint64_t) h->docs * sizeof(struct idm_doc),
		       (uint64_t) h->docs * sizeof(struct idm_doc), "documents", err, errlen)
		    < 0
	    || section_ok(x, h->names_off, h->names_len, h->names_len, "names", err, errlen) < 0
	    || section_ok(x, h->slots_off, (uint64_t) h->slots * sizeof(struct fp_slot2),
			  (uint64_t) h->slots * sizeof(struct fp_slot2), "slots", err, errlen)
		    < 0
	    || section_ok(x, h->post_off, h->postings * 4, h->postings * 4, "postings", err,
			  errlen)
		    < 0
	    || section_ok(x, h->files_off, (uint64_t) h->files * sizeof(struct idm_file),
			  (uint64_t) h->files * sizeof(struct idm_file), "files", err, errlen)
		    < 0
	    || section_ok(x, h->bloom_off, 8ULL << h->bloom_log2, 8ULL << h->bloom_log2,
			  "bloom", err, errlen)
		    < 0)
		return -1;
	x->idm = h;
	x->docs = (const struct idm_doc *) (x->map + h->docs_off);
	x->names = (const char *) (x->map + h->names_off);
	x->slots = x->map + h->slots_off;
	x->post = (const uint32_t *) (x->map + h->post_off);
	x->files = (const struct idm_file *) (x->map + h->files_off);
	x->bloom = (const uint64_t *) (x->map + h->bloom_off);
	for (uint32_t d = 0; d < h->docs; d++)
		if (x->docs[d].name_off > h->names_len
		    || x->docs[d].name_len > h->names_len - x->docs[d].name_off
		    || x->docs[d].name_len == 0) {
			snprintf(err, errlen, "%s: document %u is damaged", x->path, d + 1);
			return -1;
		}
	for (uint32_t f = 0; f < h->files; f++)
		if (x->files[f].doc >= h->docs) {
			snprintf(err, errlen, "%s: file entry %u is damaged", x->path, f + 1);
			return -1;
		}
	return 0;
}

/* sum_ok - is the file's SHA-256 the one in its header? */
static int sum_ok(const struct det_fpindex *x)
{
	unsigned char zero[32] = {0}, d[32];
	unsigned int n = 0;
	size_t at = offsetof(struct fp_head, sum);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1
		&& EVP_DigestUpdate(md, x->map, at) == 1
		&& EVP_DigestUpdate(md, zero, sizeof(zero)) == 1
		&& EVP_DigestUpdate(md, x->map + at + 32, x->size - at - 32) == 1
		&& EVP_DigestFinal_ex(md, d, &n) == 1
		&& memcmp(d, ((const struct fp_head *) x->map)->sum, 32) == 0;
	EVP_MD_CTX_free(md);
	return ok;
}

/* detector_fpindex_check_file - map and check one file into x; 0 or -1 */
int detector_fpindex_check_file(const char *path, enum fp_kind kind, int whole,
				struct det_fpindex *x, char *err, size_t errlen)
{
	const struct fp_head *h;
	struct stat st;
	void *map;
	int fd;

	strlcpy(x->path, path, sizeof(x->path));
	x->kind = kind;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((uint64_t) st.st_size < sizeof(struct edm_head)
	    || (uint64_t) st.st_size > SIZE_MAX / 2) {
		snprintf(err, errlen, "%s: too short to be an index", path);
		close(fd);
		return -1;
	}
	map = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
		return -1;
	}
	x->map = map;
	x->size = (size_t) st.st_size;
	h = map;
	if (memcmp(h->magic, kind == FP_EDM ? FP_EDM_MAGIC : FP_IDM_MAGIC, 8) != 0)
		snprintf(err, errlen, "%s: not a dlpgate %s index", path,
			 kind == FP_EDM ? "EDM" : "IDM");
	else if (h->version != FP_VERSION)
		snprintf(err, errlen, "%s: index version %u (this dlpgate reads %u)", path,
			 h->version, FP_VERSION);
	else if (h->file_size != (uint64_t) st.st_size)
		snprintf(err, errlen, "%s: %llu bytes, its header says %llu (truncated?)", path,
			 (unsigned long long) st.st_size, (unsigned long long) h->file_size);
	else if (memcmp(h->key_id, detector_fp_key_id(), 8) != 0)
		snprintf(err, errlen, "%s: made under another fingerprint key (index it again)",
			 path);
	else if ((kind == FP_EDM ? check_edm(x, err, errlen) : check_idm(x, err, errlen)) < 0)
		;
	else if (whole && !sum_ok(x))
		snprintf(err, errlen, "%s: checksum mismatch (damaged file?)", path);
	else {
		memcpy(x->name, h->name, sizeof(x->name) - 1);
		x->name[sizeof(x->name) - 1] = 0;
		(void) madvise(map, x->size, MADV_RANDOM);
		return 0;
	}
	munmap(map, x->size);
	x->map = NULL;
	return -1;
}

/* copy_file - src to dst through a temporary name; 0 or -1 */
static int copy_file(const struct det_fpindex *src, const char *dst, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	size_t off = 0;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", dst, (long) getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	while (off < src->size) {
		ssize_t n = write(fd, src->map + off, src->size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", tmp,
				 n < 0 ? strerror(errno) : "short write");
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t) n;
	}
	if (close(fd) < 0 || rename(tmp, dst) < 0) {
		snprintf(err, errlen, "%s: %s", dst, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* detector_fpindex_close - unmap and free */
void detector_fpindex_close(struct det_fpindex *x)
{
	if (x == NULL)
		return;
	if (x->map)
		munmap((void *) x->map, x->size);
	free(x);
}

/* save_good - keep a checked index as the last good copy; map the copy */
static void save_good(struct det_fpindex *x, const char *good)
{
	struct det_fpindex old;
	char err[512];
	int same;

	memset(&old, 0, sizeof(old));
	same = detector_fpindex_check_file(good, x->kind, 0, &old, err, sizeof(err)) == 0
		&& memcmp(((const struct fp_head *) old.map)->sum,
			  ((const struct fp_head *) x->map)->sum, 32)
			== 0;
	if (old.map)
		munmap((void *) old.map, old.size);
	if (!same && copy_file(x, good, err, sizeof(err)) < 0) {
		evt_warn(DET_STATE, NULL, "reason=\"cannot keep a copy of index %s: %s\"",
			 x->name, err);
		return;
	}
	/* every detector maps the copy: one set of pages for all */
	memset(&old, 0, sizeof(old));
	if (detector_fpindex_check_file(good, x->kind, 0, &old, err, sizeof(err)) == 0) {
		munmap((void *) x->map, x->size);
		old.fallback = 0;
		*x = old;
	}
}

/* detector_fpindex_open - an index by name; NULL with the reason in err */
struct det_fpindex *detector_fpindex_open(const char *confdir, const char *name,
					  enum fp_kind kind, enum fp_open_mode mode, char *err,
					  size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX], good[PATH_MAX], err2[512];
	struct det_fpindex *x = xcalloc(1, sizeof(*x));

	if (!detector_fp_name_ok(name)) {
		snprintf(err, errlen,
			 "index \"%s\": names are letters, digits, '_', '.' and '-'", name);
		free(x);
		return NULL;
	}
	detector_fp_dir(confdir, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s%s", dir, name, detector_fp_ext(kind));
	detector_fp_good_dir(dir, sizeof(dir));
	snprintf(good, sizeof(good), "%s/%s%s", dir, name, detector_fp_ext(kind));
	if (mode == FP_OPEN_GOOD) {
		if (detector_fpindex_check_file(good, kind, 0, x, err, errlen) < 0) {
			free(x);
			return NULL;
		}
		return x;
	}
	if (detector_fpindex_check_file(path, kind, 1, x, err, errlen) == 0) {
		if (mode == FP_OPEN_SAVE) {
			(void) mkdir(dir, 0700);
			save_good(x, good);
			evt_info(FP_LOADED, NULL, "index=%s file=%s size=%zu", name, path,
				 x->size);
		}
		return x;
	}
	if (mode != FP_OPEN_SAVE) {
		free(x);
		return NULL;
	}
	evt_error(FP_REFUSED, NULL, "index=%s reason=\"%s\"", name, err);
	memset(x, 0, sizeof(*x));
	if (detector_fpindex_check_file(good, kind, 0, x, err2, sizeof(err2)) < 0) {
		free(x);
		return NULL;
	}
	x->fallback = 1;
	evt_warn(FP_KEPT, NULL, "index=%s file=%s", name, good);
	return x;
}

/* detector_fp_good_prune - remove last good copies no policy uses any more */
void detector_fp_good_prune(const char *const *keep, size_t nkeep)
{
	char dir[PATH_MAX], path[PATH_MAX];
	DIR *d;
	struct dirent *de;

	detector_fp_good_dir(dir, sizeof(dir));
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t i;

		if (de->d_name[0] == '.')
			continue;
		for (i = 0; i < nkeep; i++)
			if (strcmp(de->d_name, keep[i]) == 0)
				break;
		if (i < nkeep)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		(void) unlink(path);
	}
	closedir(d);
}
