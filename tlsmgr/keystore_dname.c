/*
 * keystore_dname - keytool's -dname text as an X.509 name
 *
 * ks_dname_parse() reads what keytool reads: "CN=a, OU=b, O=c, L=d, S=e,
 * C=f" (most specific first), commas or semicolons between parts, '+'
 * inside a multi-valued part, values quoted ("a, b") or with \-escapes,
 * keytool's attribute names (S and ST, EMAIL and EMAILADDRESS, T, DC,
 * UID, STREET, SERIALNUMBER, ...) and dotted OIDs. Where keytool would
 * write a name that X.509 (RFC 5280) forbids, it either writes the
 * X.509 form and says so in note (C=USA becomes C=US: the country is a
 * two-letter ISO 3166 code) or fails with err saying exactly what to
 * write instead. Nothing is printed; the caller shows note and err.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "keystore.h"

#define KS_DNAME_MAX   64   /* attribute=value pairs */
#define KS_DNAME_VALUE 1024 /* bytes of one value */

/* ISO 3166-1 alpha-3 codes followed by their alpha-2 code (Debian's iso-codes). */
static const char ks_iso3166[] =
	"ABWAWAFGAFAGOAOAIAAIALAAXALBALANDADAREAEARGARARMAMASMASATAAQATFTFATGAG"
	"AUSAUAUTATAZEAZBDIBIBELBEBENBJBESBQBFABFBGDBDBGRBGBHRBHBHSBSBIHBABLMBL"
	"BLRBYBLZBZBMUBMBOLBOBRABRBRBBBBRNBNBTNBTBVTBVBWABWCAFCFCANCACCKCCCHECH"
	"CHLCLCHNCNCIVCICMRCMCODCDCOGCGCOKCKCOLCOCOMKMCPVCVCRICRCUBCUCUWCWCXRCX"
	"CYMKYCYPCYCZECZDEUDEDJIDJDMADMDNKDKDOMDODZADZECUECEGYEGERIERESHEHESPES"
	"ESTEEETHETFINFIFJIFJFLKFKFRAFRFROFOFSMFMGABGAGBRGBGEOGEGGYGGGHAGHGIBGI"
	"GINGNGLPGPGMBGMGNBGWGNQGQGRCGRGRDGDGRLGLGTMGTGUFGFGUMGUGUYGYHKGHKHMDHM"
	"HNDHNHRVHRHTIHTHUNHUIDNIDIMNIMINDINIOTIOIRLIEIRNIRIRQIQISLISISRILITAIT"
	"JAMJMJEYJEJORJOJPNJPKAZKZKENKEKGZKGKHMKHKIRKIKNAKNKORKRKWTKWLAOLALBNLB"
	"LBRLRLBYLYLCALCLIELILKALKLSOLSLTULTLUXLULVALVMACMOMAFMFMARMAMCOMCMDAMD"
	"MDGMGMDVMVMEXMXMHLMHMKDMKMLIMLMLTMTMMRMMMNEMEMNGMNMNPMPMOZMZMRTMRMSRMS"
	"MTQMQMUSMUMWIMWMYSMYMYTYTNAMNANCLNCNERNENFKNFNGANGNICNINIUNUNLDNLNORNO"
	"NPLNPNRUNRNZLNZOMNOMPAKPKPANPAPCNPNPERPEPHLPHPLWPWPNGPGPOLPLPRIPRPRKKP"
	"PRTPTPRYPYPSEPSPYFPFQATQAREUREROURORUSRURWARWSAUSASDNSDSENSNSGPSGSGSGS"
	"SHNSHSJMSJSLBSBSLESLSLVSVSMRSMSOMSOSPMPMSRBRSSSDSSSTPSTSURSRSVKSKSVNSI"
	"SWESESWZSZSXMSXSYCSCSYRSYTCATCTCDTDTGOTGTHATHTJKTJTKLTKTKMTMTLSTLTONTO"
	"TTOTTTUNTNTURTRTUVTVTWNTWTZATZUGAUGUKRUAUMIUMURYUYUSAUSUZBUZVATVAVCTVC"
	"VENVEVGBVGVIRVIVNMVNVUTVUWLFWFWSMWSYEMYEZAFZAZMBZMZWEZW";

/* What keytool's attribute names become, with X.509's bounds (RFC 5280). */
struct ks_attr {
	const char *names; /* keytool's spellings, '|' between */
	const char *sn;    /* OpenSSL's short name */
	int max;           /* characters */
	char kind;         /* u: UTF-8, p: PrintableString, a: IA5 */
};

static const struct ks_attr ks_attrs[] = {
	{"CN", "CN", 64, 'u'},
	{"OU", "OU", 64, 'u'},
	{"O", "O", 64, 'u'},
	{"L", "L", 128, 'u'},
	{"S|ST", "ST", 128, 'u'},
	{"C", "C", 2, 'p'},
	{"STREET", "street", 128, 'u'},
	{"T|TITLE", "title", 64, 'u'},
	{"DC", "DC", 63, 'a'},
	{"UID", "UID", 256, 'u'},
	{"EMAIL|EMAILADDRESS", "emailAddress", 128, 'a'},
	{"SERIALNUMBER", "serialNumber", 64, 'p'},
	{"SURNAME", "SN", 64, 'u'},
	{"GIVENNAME", "GN", 64, 'u'},
	{"INITIALS", "initials", 64, 'u'},
	{"GENERATION", "generationQualifier", 64, 'u'},
	{"DNQ|DNQUALIFIER", "dnQualifier", 64, 'p'},
};

struct ks_ava {
	char key[64];
	char value[KS_DNAME_VALUE];
	int rdn; /* which RDN, in keytool's order */
};

/* ks_attr_find - an attribute by one of keytool's names */
static const struct ks_attr *ks_attr_find(const char *key)
{
	for (size_t i = 0; i < sizeof(ks_attrs) / sizeof(ks_attrs[0]); i++) {
		const char *n = ks_attrs[i].names;

		while (*n) {
			size_t len = strcspn(n, "|");

			if (strlen(key) == len && strncasecmp(key, n, len) == 0)
				return &ks_attrs[i];
			n += len + (n[len] == '|');
		}
	}
	return NULL;
}

/* ks_country - a country code in X.509's two-letter form; 0 or -1 */
static int ks_country(char *value, char *note, size_t notelen, char *err, size_t errlen)
{
	size_t len = strlen(value);
	char up[4] = "";

	for (size_t i = 0; i < len && i < 3; i++)
		up[i] = (char) toupper((unsigned char) value[i]);
	if (len == 2 && isalpha((unsigned char) up[0]) && isalpha((unsigned char) up[1])) {
		memcpy(value, up, 3);
		return 0;
	}
	if (len == 3) {
		for (const char *cp = ks_iso3166; *cp; cp += 5) {
			if (strncmp(cp, up, 3) == 0) {
				snprintf(note, notelen,
					 "C=%s is written as C=%.2s: X.509 takes "
					 "the two-letter ISO 3166 code",
					 value, cp + 3);
				memcpy(value, cp + 3, 2);
				value[2] = 0;
				return 0;
			}
		}
	}
	snprintf(err, errlen,
		 "-dname: C must be a two-letter ISO 3166 code, e.g. C=US "
		 "(not C=%.40s)",
		 value);
	return -1;
}

/* ks_utf8_chars - characters of valid UTF-8 without controls; -1 otherwise */
static long ks_utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;
	long n = 0;

	while (*p) {
		int more = *p < 0x80          ? 0
			: (*p & 0xe0) == 0xc0 ? 1
			: (*p & 0xf0) == 0xe0 ? 2
			: (*p & 0xf8) == 0xf0 ? 3
					      : -1;

		if (more < 0 || (more == 0 && (*p < 0x20 || *p == 0x7f)))
			return -1;
		p++;
		for (int i = 0; i < more; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return -1;
		n++;
	}
	return n;
}

/* ks_ava_check - one attribute's value against X.509's rules */
static int ks_ava_check(const struct ks_attr *a, struct ks_ava *v, char *note, size_t notelen,
			char *err, size_t errlen)
{
	long chars = ks_utf8_chars(v->value);

	if (*v->value == 0) {
		snprintf(err, errlen,
			 "-dname: %s has no value: write %s=value, or leave "
			 "%s out",
			 v->key, v->key, v->key);
		return -1;
	}
	if (chars < 0) {
		snprintf(err, errlen,
			 "-dname: the value of %s is not UTF-8 text (or holds "
			 "control characters)",
			 v->key);
		return -1;
	}
	if (a == NULL)
		return 0;
	if (strcmp(a->sn, "C") == 0)
		return ks_country(v->value, note, notelen, err, errlen);
	if (chars > a->max) {
		snprintf(err, errlen,
			 "-dname: %s may have at most %d characters in X.509 "
			 "(this one has %ld)",
			 v->key, a->max, chars);
		return -1;
	}
	for (const unsigned char *cp = (const unsigned char *) v->value; *cp; cp++) {
		if (a->kind == 'a' && *cp >= 0x80) {
			snprintf(err, errlen, "-dname: %s must be ASCII", v->key);
			return -1;
		}
		if (a->kind == 'p' && !isalnum(*cp) && strchr(" '()+,-./:=?", *cp) == NULL) {
			snprintf(err, errlen,
				 "-dname: %s may hold only letters, digits, spaces "
				 "and ' ( ) + , - . / : = ?",
				 v->key);
			return -1;
		}
	}
	return 0;
}

/* ks_dname_value - one value, quoted or \-escaped; the rest of the text */
static const char *ks_dname_value(const char *cp, char *out, size_t outlen, char *err,
				  size_t errlen)
{
	size_t len = 0, keep = 0;
	int quoted = *cp == '"';

	cp += quoted;
	while (*cp && (quoted ? *cp != '"' : strchr(",;+", *cp) == NULL)) {
		int ch = (unsigned char) *cp++;

		if (ch == '\\' && isxdigit((unsigned char) cp[0])
		    && isxdigit((unsigned char) cp[1])) {
			char hex[3] = {cp[0], cp[1], 0};

			ch = (int) strtol(hex, NULL, 16);
			cp += 2;
		} else if (ch == '\\' && *cp) {
			ch = (unsigned char) *cp++;
		} else if (ch == '\\') {
			snprintf(err, errlen,
				 "-dname: a \\ at the end: write \\\\ for a "
				 "backslash");
			return NULL;
		} else if (ch == ' ' && !quoted) {
			if (len + 1 >= outlen)
				goto long_value;
			out[len++] = ' ';
			continue; /* trailing blanks are dropped below */
		}
		if (len + 1 >= outlen)
			goto long_value;
		out[len++] = (char) ch;
		keep = len;
	}
	if (quoted && *cp != '"') {
		snprintf(err, errlen, "-dname: a quote that is not closed");
		return NULL;
	}
	cp += quoted;
	out[quoted ? len : keep] = 0;
	return cp;
long_value:
	snprintf(err, errlen, "-dname: a value longer than %d bytes", KS_DNAME_VALUE - 1);
	return NULL;
}

/* ks_dname_split - attribute=value pairs, in keytool's order */
static int ks_dname_split(const char *dname, struct ks_ava *ava, int *n, char *err,
			  size_t errlen)
{
	const char *cp = dname;
	int rdn = 0;

	*n = 0;
	while (*cp) {
		size_t klen = 0;

		while (*cp == ' ')
			cp++;
		if (*cp == 0)
			break;
		if (*n >= KS_DNAME_MAX) {
			snprintf(err, errlen, "-dname: more than %d parts", KS_DNAME_MAX);
			return -1;
		}
		while (*cp && *cp != '=' && strchr(",;+", *cp) == NULL) {
			if (klen + 1 < sizeof(ava[*n].key))
				ava[*n].key[klen++] = *cp;
			cp++;
		}
		while (klen > 0 && ava[*n].key[klen - 1] == ' ')
			klen--;
		ava[*n].key[klen] = 0;
		if (*cp != '=' || klen == 0) {
			snprintf(err, errlen,
				 "-dname: \"%.*s\" is not NAME=value, e.g. "
				 "\"CN=mail.example.com, O=Example, C=US\"",
				 (int) klen, ava[*n].key);
			return -1;
		}
		for (cp++; *cp == ' '; cp++)
			/* void */;
		if ((cp = ks_dname_value(cp, ava[*n].value, sizeof(ava[*n].value), err, errlen))
		    == NULL)
			return -1;
		while (*cp == ' ')
			cp++;
		ava[(*n)++].rdn = rdn;
		if (*cp == '+') {
			cp++;
		} else if (*cp == ',' || *cp == ';') {
			cp++;
			rdn++;
		} else if (*cp) {
			snprintf(err, errlen,
				 "-dname: text after the value of %s: put a "
				 "comma between parts, quotes around a value with commas",
				 ava[*n - 1].key);
			return -1;
		}
	}
	if (*n == 0) {
		snprintf(err, errlen,
			 "-dname is empty: write e.g. \"CN=mail.example.com, "
			 "O=Example, C=US\"");
		return -1;
	}
	return 0;
}

/* ks_dname_parse - keytool's -dname as an X.509 name (see above) */
X509_NAME *ks_dname_parse(const char *dname, char *note, size_t notelen, char *err,
			  size_t errlen)
{
	static struct ks_ava ava[KS_DNAME_MAX];
	X509_NAME *name = X509_NAME_new();
	int n;

	if (note && notelen)
		*note = 0;
	if (ks_dname_split(dname, ava, &n, err, errlen) < 0)
		goto fail;

	/* keytool writes the most specific part first; X.500 order is reversed */
	for (int i = n - 1; i >= 0; i--) {
		int first = i;
		const struct ks_attr *a;
		ASN1_OBJECT *obj = NULL;

		while (first > 0 && ava[first - 1].rdn == ava[i].rdn)
			first--;
		for (int j = first; j <= i; j++) {
			const char *key = ava[j].key;

			if (strncasecmp(key, "OID.", 4) == 0)
				key += 4;
			a = ks_attr_find(key);
			if (a == NULL
			    && (isdigit((unsigned char) *key) == 0
				|| (obj = OBJ_txt2obj(key, 1)) == NULL)) {
				ERR_clear_error();
				snprintf(err, errlen,
					 "-dname: unknown attribute %s (use CN, OU, O, "
					 "L, ST, C, STREET, T, DC, UID, EMAILADDRESS, "
					 "SERIALNUMBER "
					 "or a dotted OID)",
					 ava[j].key);
				goto fail;
			}
			if (ks_ava_check(a, &ava[j], note, notelen, err, errlen) < 0) {
				ASN1_OBJECT_free(obj);
				goto fail;
			}
			if (!(a ? X509_NAME_add_entry_by_txt(name, a->sn, MBSTRING_UTF8,
							     (unsigned char *) ava[j].value, -1,
							     -1, j == first ? 0 : -1)
				: X509_NAME_add_entry_by_OBJ(name, obj, MBSTRING_UTF8,
							     (unsigned char *) ava[j].value, -1,
							     -1, j == first ? 0 : -1))) {
				ks_openssl_error(err, errlen,
						 "-dname: X.509 refuses this part");
				ASN1_OBJECT_free(obj);
				goto fail;
			}
			ASN1_OBJECT_free(obj);
			obj = NULL;
		}
		i = first;
	}
	return name;
fail:
	X509_NAME_free(name);
	return NULL;
}
