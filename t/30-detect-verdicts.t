#!/usr/bin/perl
# Response rules through the whole pipeline (client -> dlpgate -> smtp-sink):
# pass, block with the policy's 5xx, modify (subject and headers), redirect,
# monitor headers, notify by SMTP, precedence, and one incident line per
# message with masked samples only.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64;
use MIME::QuotedPrint;
use Encode qw(decode);
use DlpTest;
use DlpDetect;

my $policies = <<'EOF';
policies = (
  { name = "cards"; severity = "high";
    rules = ( { type = "identifier"; identifier = "credit_card"; near = ["card"]; distance = 40; } );
    action = "block"; reply = "550 5.7.1 Card data may not leave (policy cards)";
    notify = ["dlp-admin@example.com"]; notify_sender = true; },
  { name = "secret"; severity = "medium";
    rules = ( { type = "keyword"; keywords = ["project falcon", "confidential"]; } );
    action = "modify"; subject_prepend = "[SECURE] ";
    add_headers = ["X-CFilter: Encrypt", "X-DLP-Policy: secret", "X-Archive: yes"]; },
  { name = "quarantine";
    rules = ( { type = "keyword"; keywords = ["quarantine-me"]; look_in = ["subject"]; } );
    action = "redirect"; redirect_to = ["review@example.com", "<audit@example.com>"];
    add_headers = ["X-CFilter: Quarantine"]; },
  { name = "watch-iban"; mode = "monitor"; severity = "low";
    rules = ( { type = "identifier"; identifier = "iban"; } ); },
  { name = "rename";
    rules = ( { type = "keyword"; keywords = ["renameme"]; } );
    action = "modify"; subject_replace = "Geprüft: vertraulich"; }
);
EOF

my $sink = start_sink();
my $nsink = start_sink();
my $dlp = start_detect(policies => $policies, sink => $sink,
    files => { 'notify.txt' => "Policy=\${policy} Sev=\${severity} From=\${sender} To=\${recipients} Subj=\${subject}\nMatches:\n\${matches}" },
    conf => { notify_relay => "127.0.0.1:$nsink->{port}", notify_from => 'dlp@gw.test',
              notify_template => 'notify.txt' });

# 1. a clean message passes byte for byte, with the pass header only
my $clean = "From: a\@example.com\nTo: b\@example.net\nSubject: lunch\n\nSee you at noon.\n";
my ($code, $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'], data => $clean);
is($code, 250, 'clean message: the next hop\'s 250');
my @m = $sink->wait_messages(1);
is($m[0]{body}, "X-Filter-Loop: Reflected\n$clean", 'clean message arrives unchanged after the pass header');
is(scalar(incidents($dlp)), 0, 'clean message: no incident');

# 2. a card number next to "card": blocked with the policy's reply, recorded, notified
$sink->clear;
my $card = "From: alice\@example.com\nTo: bob\@partner.net\nSubject: order\n\n"
    . "Here is my card: 4111 1111 1111 1111, valid to 12/29.\n";
($code, $text) = send_mail($dlp, from => 'alice@example.com', rcpt => ['bob@partner.net'], data => $card);
is($code, 550, 'card number: 550');
is($text, '550 5.7.1 Card data may not leave (policy cards)', 'the policy\'s own reply text');
my @inc = wait_incidents($dlp, 1);
is(scalar @inc, 1, 'one incident line');
is($inc[0]{policies}[0]{name}, 'cards', 'incident names the policy');
is($inc[0]{action}, 'block', 'incident action block');
is($inc[0]{severity}, 'high', 'incident severity');
is($inc[0]{sender}, 'alice@example.com', 'incident sender');
is_deeply($inc[0]{recipients}, ['bob@partner.net'], 'incident recipients');
like($inc[0]{message_id}, qr/^<?[^\s]*>?$/, 'incident Message-ID field');
is($inc[0]{policies}[0]{rules}[0]{samples}[0], '**** **** **** 1111', 'sample masked to the last four digits');
is($inc[0]{policies}[0]{rules}[0]{count}, 1, 'match count');
my @n = $nsink->wait_messages(1, 30);
is(scalar @n, 1, 'notification delivered through notify_relay');
is_deeply([sort @{$n[0]{rcpt}}], ['<alice@example.com>', '<dlp-admin@example.com>'],
    'notification to the policy\'s recipients and the sender');
like($n[0]{mail}, qr/^<dlp\@gw\.test>/, 'notification from notify_from');
like($n[0]{body}, qr/^X-Filter-Loop: Reflected$/m, 'notification carries the pass header');
like($n[0]{body}, qr/^Subject: DLP incident \w+: policy cards \(high\)$/m, 'notification subject');
like($n[0]{body}, qr/\*\*\*\* \*\*\*\* \*\*\*\* 1111/, 'notification shows the masked match');
my ($nb) = $n[0]{body} =~ /\n\n(.*)\z/s;
like(decode_qp($nb), qr/^Policy=cards Sev=high From=alice\@example\.com To=bob\@partner\.net Subj=order$/m,
    'notification follows notify_template');
like($dlp->wait_log(qr/7004 notification sent/) // '',
    qr/7004 notification sent \(id=\S+ relay=127\.0\.0\.1:$nsink->{port} rcpts=2 attempts=1\)/,
    'notification sent is logged: its id, the relay, both recipients (notify, notify_sender), one attempt');
is($sink->messages, 0, 'the blocked message never reached the next hop');
for my $where (['master log', $dlp->log], ['incident log', DlpTest::slurp($dlp->{incident_log})],
    ['notification', $n[0]{body}]) {
    unlike($where->[1], qr/4111[ -]?1111[ -]?1111[ -]?1111/, "no clear card number in the $where->[0]");
}

# 3. a phrase split over a line: modify, subject prepended, three headers
$sink->clear;
my $secret = "From: a\@example.com\nTo: b\@example.net\nSubject: status\n\nAbout Project\n  Falcon: on time.\n";
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'], data => $secret);
is($code, 250, 'keyword: message goes on');
@m = $sink->wait_messages(1);
my ($hdr, $body) = split /\n\n/, $m[0]{body}, 2;
like($hdr, qr/^Subject: \[SECURE\] status$/m, 'subject prepended');
unlike($hdr, qr/^Subject: status$/m, 'old subject gone');
like($hdr, qr/^X-CFilter: Encrypt$/m, 'X-CFilter: Encrypt added');
like($hdr, qr/^X-DLP-Policy: secret$/m, 'second header added');
like($hdr, qr/^X-Archive: yes$/m, 'third header added');
is($body, "About Project\n  Falcon: on time.\n", 'body unchanged');
is(scalar(wait_incidents($dlp, 2)), 2, 'modify is an incident too');

# 4. an RFC 2047 subject keeps its encoded word when ASCII is prepended
$sink->clear;
my $enc = "=?UTF-8?B?" . encode_base64("Grüße", '') . "?=";
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
    data => "Subject: $enc\nFrom: a\@example.com\n\nstrictly confidential\n");
is($code, 250, 'encoded subject: passes modified');
@m = $sink->wait_messages(1);
like($m[0]{body}, qr/^Subject: \[SECURE\] \Q$enc\E$/m, 'prefix added before the untouched encoded word');

# a folded subject (with a tab) is changed as one line
$sink->clear;
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
    data => "Subject: part one\n\tpart two\nFrom: a\@example.com\n\nconfidential\n");
is($code, 250, 'folded subject: passes modified');
@m = $sink->wait_messages(1);
like($m[0]{body}, qr/^Subject: \[SECURE\] part one part two$/m, 'folded subject prepended on one line');

# subject_replace with non-ASCII text: RFC 2047 encoded words
$sink->clear;
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
    data => "Subject: whatever\n\nrenameme\n");
is($code, 250, 'subject_replace: passes modified');
@m = $sink->wait_messages(1);
my ($subj) = $m[0]{body} =~ /^Subject: (.*)$/m;
like($subj, qr/^(=\?UTF-8\?B\?[A-Za-z0-9+\/=]+\?= ?)+$/, 'replaced subject is RFC 2047 encoded');
my $decoded = join('', map { decode_base64($_) } $subj =~ /\?B\?([^?]+)\?=/g);
is($decoded, "Geprüft: vertraulich", 'and decodes to the configured text');

# 5. redirect: the reviewers get it instead of the recipients
$sink->clear;
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['x@partner.net', 'y@partner.net'],
    data => "Subject: please quarantine-me\nFrom: a\@example.com\n\nhello\n");
is($code, 250, 'redirect: accepted');
@m = $sink->wait_messages(1);
is_deeply($m[0]{rcpt}, ['<review@example.com>', '<audit@example.com>'], 'recipients replaced by redirect_to');
like($m[0]{body}, qr/^X-CFilter: Quarantine$/m, 'redirect policy header added');

# 6. monitor: passes with violation headers, incident not enforced
$sink->clear;
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
    data => "Subject: pay\nFrom: a\@example.com\n\nIBAN DE89 3704 0044 0532 0130 00\n");
is($code, 250, 'monitor: passes');
@m = $sink->wait_messages(1);
like($m[0]{body}, qr/^X-DLP-Violations: 1$/m, 'violation count header');
like($m[0]{body}, qr/^X-DLP-Severity: low$/m, 'violation severity header');
@inc = wait_incidents($dlp, 7);
is($inc[-1]{policies}[0]{enforced}, JSON::PP::false, 'monitor incident is not enforced');
is($inc[-1]{action}, 'pass', 'monitor incident action pass');
is($inc[-1]{policies}[0]{rules}[0]{samples}[0], 'DE89**************3000', 'IBAN masked');

# 7. several policies: block beats redirect beats modify; one incident, all policies
$sink->clear;
($code, $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
    data => "Subject: quarantine-me\nFrom: a\@example.com\n\nconfidential card 5555 5555 5555 4444\n");
is($code, 550, 'block wins over redirect and modify');
@inc = wait_incidents($dlp, 8);
is(scalar @inc, 8, 'one incident line for the message');
is_deeply([sort map { $_->{name} } @{$inc[-1]{policies}}], [qw(cards quarantine secret)],
    'the incident lists every policy that fired');
# redirect beats modify
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
    data => "Subject: quarantine-me\nFrom: a\@example.com\n\nconfidential\n");
is($code, 250, 'redirect plus modify: accepted');
@m = $sink->wait_messages(1);
is_deeply($m[0]{rcpt}, ['<review@example.com>', '<audit@example.com>'], 'redirect wins over modify');
like($m[0]{body}, qr/^Subject: \[SECURE\] quarantine-me$/m, 'and the modify policy\'s subject change applies');

# the detector logged verdicts with policies, never the values
like($dlp->log, qr/3001 detector verdict \(cid=\w+ action=block policies=cards/, 'verdict logged with policies');
like($dlp->log, qr/7001 incident recorded \(cid=\w+ incident=\w+ policies=cards/, 'incident logged');
unlike($dlp->log, qr/5555 ?5555 ?5555 ?4444/, 'no card number in the log');
ok($dlp->stop, 'dlpgate stops');
done_testing;
