/*
 * fuzz_fp - libFuzzer harness for the fingerprint code (EDM, IDM)
 *
 * At start, dlpindex's own code (included below) indexes a small export
 * and two documents into a temporary directory, and policies with an edm
 * rule (text, digits, address and date columns, every word a candidate)
 * and a document rule are loaded. The first byte of each input says what
 * the rest is:
 *
 *	0	a message: MIME, words, numbers, dates, addresses, rows,
 *		winnowing and the verdict
 *	1	an index file (EDM or IDM by the second byte): checked as a
 *		detector checks its last good copy, then looked up with values
 *		taken from the input
 *	2	a CSV export: every record read
 *
 * Build and run with `make fuzz` (clang, ASan, UBSan).
 */
#define main dlpindex_main
#include "../dlpindex.c"
#undef main

#include "scan.h"

static struct det_policyset *fuzz_ps;
static char fuzz_dir[] = "/tmp/fuzz-fp.XXXXXX";

static const char fuzz_csv[] = "first_name,last_name,ssn,email,dob\n"
			       "Alice,Smithson,123-45-6780,alice@example.com,1985-03-14\n"
			       "Bob,\"O'Brien, Jr\",234-56-7890,bob@corp.example,03/22/1990\n"
			       "Carla,M\xc3\xbcller,345-67-8901,carla@example.org,1 Dec 1979\n";

static const char fuzz_doc[] =
	"The supplier shall deliver the goods within thirty days of the written order "
	"and the customer shall pay every invoice within sixty days of its receipt. "
	"Either party may end this agreement by giving three months written notice.\n";

/* fuzz_write - a file of the temporary directory */
static void fuzz_write(const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", fuzz_dir, name);
	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) < 0 || fclose(fp) != 0)
		msg_fatal("cannot write %s", path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[CONF_ERR_MAX], path[PATH_MAX], fpdir[PATH_MAX], key[PATH_MAX];
	char *over[2];
	struct det_list none = {0};
	char *docs[1];
	int saved, null;

	(void) argc;
	(void) argv;
	msg_open("fuzz-fp", MSG_TO_STDERR, LOG_MAIL);
	msg_set_level(MSG_ERROR);
	if (mkdtemp(fuzz_dir) == NULL)
		msg_fatal("mkdtemp: %m");
	snprintf(fpdir, sizeof(fpdir), "fingerprint_directory=%s/fp", fuzz_dir);
	snprintf(key, sizeof(key), "fingerprint_key=%s/fingerprint.key", fuzz_dir);
	over[0] = fpdir;
	over[1] = key;
	if (conf_load("/nonexistent", over, 2, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	confdir = fuzz_dir;
	/* a fixed secret: the seeds' index files were made under it */
	fuzz_write("fingerprint.key",
		   "dlpgate-fingerprint-key-1 "
		   "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
	snprintf(path, sizeof(path), "%s/fingerprint.key", fuzz_dir);
	chmod(path, 0400);
	fuzz_write("customers.csv", fuzz_csv);
	fuzz_write("contract.txt", fuzz_doc);
	snprintf(path, sizeof(path), "%s/customers.csv", fuzz_dir);
	/* dlpindex's summaries go nowhere; stdout is the caller's again after */
	fflush(stdout);
	if ((saved = dup(1)) < 0 || (null = open("/dev/null", O_WRONLY)) < 0
	    || dup2(null, 1) < 0)
		msg_fatal("stdout: %m");
	(void) cmd_edm("customers", path, &none, 0, 100.0, 3, 6, NULL);
	snprintf(path, sizeof(path), "%s/contract.txt", fuzz_dir);
	docs[0] = path;
	(void) cmd_idm("contracts", 5, 6, &none, docs, 1);
	fflush(stdout);
	if (dup2(saved, 1) < 0)
		msg_fatal("stdout: %m");
	close(saved);
	close(null);
	fuzz_write(
		"policies.conf",
		"policies = (\n"
		" { name = \"rows\"; rules = ( { type = \"edm\"; index = \"customers\";\n"
		"   min_columns = 2; distance = 100; look_in = [\"all\"]; } ); action = "
		"\"block\"; },\n"
		" { name = \"ids\"; rules = ( { type = \"edm\"; index = \"customers\";\n"
		"   columns = [\"ssn\", \"email\", \"dob\"]; min_columns = 2; } ); },\n"
		" { name = \"docs\"; rules = ( { type = \"document\"; index = \"contracts\";\n"
		"   min_overlap = 20; min_shared_words = 12; } ); action = \"block\"; }\n"
		");\n");
	snprintf(path, sizeof(path), "%s/policies.conf", fuzz_dir);
	if ((fuzz_ps = detector_policy_load(fuzz_dir, path, err, sizeof(err))) == NULL)
		msg_fatal("%s", err);
	return 0;
}

/* fuzz_message - a message through the whole scan */
static void fuzz_message(const uint8_t *data, size_t size)
{
	struct det_scan sc;
	struct det_decision d;
	struct envelope env;

	envelope_init(&env);
	env.mail_from = strdup("<a@example.com>");
	envelope_add_rcpt(&env, "<b@example.net>", "");
	if (detector_scan_init(&sc, fuzz_ps, size, 10000) < 0)
		abort();
	detector_mime_scan(&sc, (const char *) data, size);
	detector_decide(&sc, &env, &d);
	detector_decision_free(&d);
	detector_scan_free(&sc);
	envelope_free(&env);
}

/* fuzz_index - an index file, checked, then looked up */
static void fuzz_index(const uint8_t *data, size_t size)
{
	struct det_fpindex x;
	char path[PATH_MAX], err[512];
	enum fp_kind kind;
	int fd;

	if (size < 1)
		return;
	kind = data[0] & 1 ? FP_IDM : FP_EDM;
	snprintf(path, sizeof(path), "%s/input.idx", fuzz_dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0
	    || write(fd, data + 1, size - 1) != (ssize_t) (size - 1))
		abort();
	close(fd);
	memset(&x, 0, sizeof(x));
	/* the file's own key id, so that the structure is what is checked */
	if (size - 1 >= sizeof(struct fp_head)
	    && memcmp(data + 1 + offsetof(struct fp_head, key_id), detector_fp_key_id(), 8)
		    != 0)
		return;
	if (detector_fpindex_check_file(path, kind, 0, &x, err, sizeof(err)) < 0)
		return;
	for (size_t i = 1; i + 8 <= size; i += 8) {
		uint64_t v, one32 = 0;
		uint32_t ref, slot, one, n;
		const uint32_t *post;

		memcpy(&v, data + i, 8);
		if (kind == FP_EDM) {
			if (detector_edm_find(&x, v, FP_DIGITS, "123456789", 0, 9, 0, &ref)
			    && (post = detector_fp_postings(&x, ref, &one, &n)) != NULL)
				for (uint32_t k = 0; k < n; k++)
					one32 += post[k];
		} else if (detector_idm_find(&x, v, &slot)
			   && (post = detector_fp_postings(
				       &x, ((const struct fp_slot2 *) x.slots)[slot].ref, &one,
				       &n))
				   != NULL)
			for (uint32_t k = 0; k < n; k++)
				one32 += post[k];
		if (one32 == 0xdeadbeef)
			fprintf(stderr, ".");
	}
	munmap((void *) x.map, x.size);
}

/* fuzz_csv - every record of an export */
static void fuzz_csv_records(const uint8_t *data, size_t size)
{
	struct csv c = {.file = "input",
			.p = (const char *) data,
			.end = (const char *) data + size,
			.delim = size && data[0] == '\t' ? '\t' : ',',
			.line = 1};
	struct buf rec;
	size_t off[FP_MAX_COLUMNS + 1], nf;
	unsigned long line;
	char err[256];

	buf_init(&rec, 256);
	while (csv_record(&c, &rec, off, &nf, FP_MAX_COLUMNS, &line, err, sizeof(err)) > 0)
		for (size_t i = 0; i < nf; i++)
			if (off[i] > rec.len)
				abort();
	buf_free(&rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_message(data + 1, size - 1);
		break;
	case 1:
		fuzz_index(data + 1, size - 1);
		break;
	default:
		fuzz_csv_records(data + 1, size - 1);
		break;
	}
	return 0;
}
