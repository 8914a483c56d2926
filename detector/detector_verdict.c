/*
 * detector_verdict - from rule hits and the envelope to one verdict
 *
 * detector_policy_fired() evaluates one policy: its exceptions first (an
 * excepted sender, or no recipient left once excepted recipients and
 * domains are set aside, and the policy is silent), then its rules, all
 * of them or at least min_rules of them.
 *
 * detector_decide() combines the policies that fired:
 *	- trial_mode, or mode = monitor: the policy is recorded and notified,
 *	  and counted in the violation headers, but enforces nothing;
 *	- block beats redirect beats modify; the reply of the first blocking
 *	  policy (file order) is given; redirect addresses of every
 *	  redirecting policy are merged; the subject changes and headers of
 *	  every enforcing modify or redirect policy are applied, in file order;
 *	- a message not scanned completely follows unscannable_action, one
 *	  whose scan ran out of time follows detector_failure; when
 *	  unscannable_action blocks or tempfails a message that no blocking
 *	  policy stopped, the decision says so (unscannable), and the
 *	  incident names the policy DET_UNSCANNABLE_POLICY, severity medium;
 *	- every message that goes on gets default_pass_header (when
 *	  add_default_header is on).
 *
 * The new subject keeps the original's encoded words when the added text
 * is plain ASCII; otherwise the whole subject is decoded, changed and
 * encoded again as RFC 2047 UTF-8 words.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "detector.h"

#define VERDICT_SUBJECT_MAX 990

/* excepted_addr - does an address match an exception list or domain? */
static int excepted_addr(const struct det_list *list, const struct det_list *domains,
			 const char *addr)
{
	const char *at = strrchr(addr, '@');

	if (detector_addr_routed(addr))
		return 0; /* it may go anywhere: no exception */
	for (size_t i = 0; i < list->count; i++)
		if (detector_addr_match(list->items[i], addr))
			return 1;
	for (size_t i = 0; at && i < domains->count; i++) {
		char pat[300];

		snprintf(pat, sizeof(pat), "%s%s", domains->items[i][0] == '@' ? "" : "@",
			 domains->items[i]);
		if (detector_addr_match(pat, addr))
			return 1;
	}
	return 0;
}

/* type_in_group - does a sniffed type belong to a named type group? */
static int type_in_group(const char *want, const char *type)
{
	static const struct {
		const char *group;
		const char *members;
	} groups[] = {
		{"archive", " zip rar 7z tar gzip bzip2 xz zstd lz4 lzip lzma compress "},
		{"executable", " exe elf script "},
		{"office", " docx xlsx pptx ole odf rtf "},
		{"image", " png jpeg gif "},
		{"document", " docx xlsx pptx ole odf rtf pdf "},
	};
	char key[24];

	if (strcasecmp(want, type) == 0)
		return 1;
	snprintf(key, sizeof(key), " %s ", type);
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (strcasecmp(want, groups[i].group) == 0 && strstr(groups[i].members, key))
			return 1;
	return 0;
}

/* attachment_matches - any attachment of the right type or name? */
static int attachment_matches(const struct det_rule *r, const struct det_scan *sc)
{
	for (size_t a = 0; a < sc->natt; a++) {
		const char *name = sc->att[a].name;
		const char *dot = strrchr(name, '.');

		for (size_t i = 0; i < r->types.count; i++)
			if (type_in_group(r->types.items[i], sc->att[a].type)
			    || (dot && type_in_group(r->types.items[i], dot + 1)))
				return 1;
		for (size_t i = 0; i < r->names.count; i++) {
			const char *base = strrchr(name, '/');

			if (fnmatch(r->names.items[i], base ? base + 1 : name, FNM_CASEFOLD)
			    == 0)
				return 1;
		}
	}
	return 0;
}

/* rule_matches - one rule of a policy, for one message */
static int rule_matches(const struct det_rule *r, const struct det_scan *sc,
			const struct envelope *env, const char *sender,
			const char *const *rcpts, size_t nrcpt)
{
	switch (r->type) {
	case RULE_KEYWORD:
	case RULE_REGEX:
	case RULE_IDENTIFIER:
	case RULE_EDM:
	case RULE_DOCUMENT:
		return sc->hits[r - sc->ps->rules].count >= r->min_count;
	case RULE_SENDER:
		for (size_t i = 0; i < r->patterns.count; i++)
			if (detector_addr_match(r->patterns.items[i], sender))
				return 1;
		return 0;
	case RULE_RECIPIENT:
		for (size_t k = 0; k < nrcpt; k++) {
			int ok = r->patterns.count == 0;

			for (size_t i = 0; !ok && i < r->patterns.count; i++)
				ok = detector_addr_match(r->patterns.items[i], rcpts[k]);
			if (ok && r->external && detector_addr_internal(rcpts[k]))
				ok = 0;
			if (ok)
				return 1;
		}
		return 0;
	case RULE_SIZE:
		return (long long) sc->msg_size >= r->min_size
			&& (r->max_size == 0 || (long long) sc->msg_size <= r->max_size);
	case RULE_ATTACHMENT:
		return attachment_matches(r, sc);
	case RULE_RCPT_COUNT:
		return env->nrcpt >= r->min_rcpt
			&& (r->max_rcpt == 0 || env->nrcpt <= r->max_rcpt);
	}
	return 0;
}

/* detector_policy_fired - does policy p fire for this message? */
int detector_policy_fired(const struct det_policyset *ps, const struct det_scan *sc,
			  const struct envelope *env, size_t p)
{
	const struct det_policy *pol = &ps->policies[p];
	char sender[SCAN_ADDR_MAX + 1];
	char **rcpts;
	size_t nrcpt = 0;
	unsigned matched = 0;
	int fired = 0;

	if (!pol->enabled)
		return 0;
	detector_addr_bare(env->mail_from ? env->mail_from : "<>", sender, sizeof(sender));
	if (*sender && excepted_addr(&pol->exc_senders, &pol->exc_domains, sender))
		return 0;
	rcpts = xcalloc(env->nrcpt + 1, sizeof(char *));
	for (size_t i = 0; i < env->nrcpt; i++) {
		char a[SCAN_ADDR_MAX + 1];

		detector_addr_bare(env->rcpt[i].addr, a, sizeof(a));
		if (!excepted_addr(&pol->exc_rcpts, &pol->exc_domains, a))
			rcpts[nrcpt++] = xstrdup(a);
	}
	if (env->nrcpt > 0 && nrcpt == 0)
		goto out; /* every recipient is an exception */
	for (uint32_t i = 0; i < pol->nrules; i++) {
		if (rule_matches(&ps->rules[pol->first_rule + i], sc, env, sender,
				 (const char *const *) rcpts, nrcpt))
			matched++;
		else if (pol->match_all)
			goto out;
	}
	fired = pol->match_all ? matched == pol->nrules : matched >= pol->min_rules;
out:
	for (size_t i = 0; i < nrcpt; i++)
		free(rcpts[i]);
	free(rcpts);
	return fired;
}

/* list_add_unique - append unless present (case-insensitive) */
static void list_add_unique(struct det_list *l, const char *item, size_t max)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcasecmp(l->items[i], item) == 0)
			return;
	if (l->count < max)
		detector_list_add(l, item);
}

/* splice_ok - may ASCII text go next to the raw subject as it is? */
static int splice_ok(const char *raw, const char *pre, const char *app)
{
	size_t rl = strlen(raw), pl = strlen(pre), al = strlen(app);

	if (!detector_is_ascii(raw, rl) || !detector_is_ascii(pre, pl)
	    || !detector_is_ascii(app, al) || strstr(pre, "=?") || strstr(app, "=?")
	    || rl + pl + al > VERDICT_SUBJECT_MAX)
		return 0;
	/* an encoded word needs white space between it and other text */
	if (pl && pre[pl - 1] != ' ' && strncmp(raw, "=?", 2) == 0)
		return 0;
	if (al && app[0] != ' ' && rl >= 2 && strcmp(raw + rl - 2, "?=") == 0)
		return 0;
	return 1;
}

/* new_subject - the subject after every enforcing policy's changes */
static char *new_subject(const struct det_scan *sc, const struct det_policyset *ps,
			 const struct det_decision *d)
{
	struct buf pre, app, out, utf;
	const char *replace = NULL;
	char *result;

	buf_init(&pre, 64);
	buf_init(&app, 64);
	for (size_t i = 0; i < d->nfired; i++) {
		const struct det_policy *p = &ps->policies[d->fired[i]];

		if (p->monitor || var_trial_mode
		    || (p->action != ACT_MODIFY && p->action != ACT_REDIRECT))
			continue;
		if (p->subject_replace && replace == NULL)
			replace = p->subject_replace;
		if (p->subject_prepend)
			buf_puts(&pre, p->subject_prepend);
		if (p->subject_append)
			buf_puts(&app, p->subject_append);
	}
	if (replace == NULL && pre.len == 0 && app.len == 0) {
		buf_free(&pre);
		buf_free(&app);
		return NULL;
	}
	buf_init(&out, 256);
	if (replace == NULL && sc->subject_raw
	    && splice_ok(sc->subject_raw, pre.data, app.data)) {
		buf_printf(&out, "%s%s%s", pre.data, sc->subject_raw, app.data);
	} else {
		buf_init(&utf, 256);
		buf_printf(&utf, "%s%s%s", pre.data,
			   replace               ? replace
				   : sc->subject ? sc->subject
						 : "",
			   app.data);
		detector_subject_encode(utf.data, &out);
		buf_free(&utf);
	}
	result = xstrdup(out.data);
	/* folded subjects keep tabs: a header value goes back as one line */
	for (char *cp = result; *cp; cp++)
		if ((unsigned char) *cp < 0x20 || *cp == 0x7f)
			*cp = ' ';
	buf_free(&out);
	buf_free(&pre);
	buf_free(&app);
	return result;
}

/* add_header - a verdict header, if there is room */
static void add_header(struct det_decision *d, const char *h)
{
	if (h && *h && d->headers.count < SCAN_MAX_HEADERS)
		detector_list_add(&d->headers, h);
}

/* detector_decide - the verdict for a scanned message */
void detector_decide(struct det_scan *sc, const struct envelope *env, struct det_decision *d)
{
	const struct det_policyset *ps = sc->ps;
	enum det_action act = ACT_PASS;
	unsigned monitored = 0;
	enum det_severity msev = SEV_INFO;
	char h[1024];

	detector_fp_finish(sc); /* documents: the message as a whole */
	memset(d, 0, sizeof(*d));
	d->scanned = 1;
	d->fired = xcalloc(ps->npolicies + 1, sizeof(uint32_t));
	for (size_t p = 0; p < ps->npolicies; p++) {
		const struct det_policy *pol = &ps->policies[p];

		if (!detector_policy_fired(ps, sc, env, p))
			continue;
		d->fired[d->nfired++] = (uint32_t) p;
		if (d->nfired == 1 || pol->severity > d->severity)
			d->severity = pol->severity;
		if (pol->monitor || var_trial_mode) {
			if (monitored++ == 0 || pol->severity > msev)
				msev = pol->severity;
			continue;
		}
		if (pol->action > act)
			act = pol->action;
		if (pol->action == ACT_BLOCK && d->reply[0] == 0)
			snprintf(d->reply, sizeof(d->reply), "%s", pol->reply);
		if (pol->action == ACT_REDIRECT)
			for (size_t i = 0; i < pol->redirect.count; i++)
				list_add_unique(&d->rcpt, pol->redirect.items[i],
						SCAN_MAX_REDIRECT);
	}
	d->monitor_only = d->nfired > 0 && act == ACT_PASS;
	/* what could not be read */
	if (sc->timed_out && act != ACT_BLOCK
	    && var_detector_failure == DETECTOR_FAILURE_TEMPFAIL) {
		d->action = SCAN_TEMPFAIL;
		return;
	}
	if (sc->incomplete && !sc->timed_out && act != ACT_BLOCK
	    && var_unscannable_action != UNSCANNABLE_PASS) {
		/* an incident of its own: the administrator sees what was stopped */
		d->unscannable = 1;
		if (d->nfired == 0 || d->severity < SEV_MEDIUM)
			d->severity = SEV_MEDIUM;
		if (var_unscannable_action == UNSCANNABLE_TEMPFAIL) {
			d->action = SCAN_TEMPFAIL;
			return;
		}
		act = ACT_BLOCK;
		snprintf(d->reply, sizeof(d->reply), "%s", var_unscannable_reply);
	}
	switch (act) {
	case ACT_BLOCK:
		d->action = SCAN_BLOCK;
		return;
	case ACT_REDIRECT:
		d->action = SCAN_REDIRECT;
		break;
	case ACT_MODIFY:
		d->action = SCAN_MODIFY;
		break;
	case ACT_PASS:
		d->action = SCAN_PASS;
		break;
	}
	if (var_add_default_header)
		add_header(d, var_default_pass_header);
	if (monitored && *var_violation_count_header) {
		snprintf(h, sizeof(h), "%s: %u", var_violation_count_header, monitored);
		add_header(d, h);
	}
	if (monitored && *var_violation_severity_header) {
		snprintf(h, sizeof(h), "%s: %s", var_violation_severity_header,
			 detector_severity_name(msev));
		add_header(d, h);
	}
	if (sc->timed_out)
		add_header(d, var_detector_failure_header);
	else if (sc->incomplete)
		add_header(d, var_unscannable_header);
	if (act >= ACT_MODIFY) {
		for (size_t i = 0; i < d->nfired; i++) {
			const struct det_policy *p = &ps->policies[d->fired[i]];

			if (p->monitor || var_trial_mode)
				continue;
			if (p->action == ACT_MODIFY || p->action == ACT_REDIRECT)
				for (size_t k = 0; k < p->add_headers.count; k++)
					if (d->headers.count < SCAN_MAX_HEADERS)
						list_add_unique(&d->headers,
								p->add_headers.items[k],
								SCAN_MAX_HEADERS);
		}
		d->subject = new_subject(sc, ps, d);
	}
}

/* detector_decision_unscanned - pass without a scan (loop guard, failure) */
void detector_decision_unscanned(struct det_decision *d, const char *header)
{
	memset(d, 0, sizeof(*d));
	d->action = SCAN_PASS;
	if (header)
		add_header(d, header);
}

/* detector_decision_free - release a decision */
void detector_decision_free(struct det_decision *d)
{
	detector_list_free(&d->rcpt);
	detector_list_free(&d->headers);
	free(d->subject);
	free(d->fired);
	memset(d, 0, sizeof(*d));
}
