#!/usr/bin/perl
# trial_mode: every policy acts as monitor (incidents, headers, no
# enforcement). Loop guard: a message that carries our mark (a keyed HMAC
# over its envelope and content) back from a trusted client
# (loop_guard_hosts) is not scanned twice; anything else proves nothing.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpDetect;

my $policies = <<'EOF';
policies = (
  { name = "cards"; severity = "high"; rules = ( { type = "identifier"; identifier = "credit_card"; } );
    action = "block"; },
  { name = "tag"; severity = "low"; rules = ( { type = "keyword"; keywords = ["falcon"]; } );
    action = "modify"; subject_replace = "replaced"; add_headers = ["X-CFilter: Encrypt"]; }
);
EOF
my $card = "Subject: pay\n\nfalcon 4111 1111 1111 1111\n";

# ---- trial mode ----
my $sink = start_sink();
my $dlp = start_detect(sink => $sink, policies => $policies, conf => { trial_mode => 'yes' });
my ($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'], data => $card);
is($code, 250, 'trial mode: a blocking policy does not block');
my @m = $sink->wait_messages(1);
like($m[0]{body}, qr/^Subject: pay$/m, 'trial mode: no subject change');
unlike($m[0]{body}, qr/^X-CFilter/m, 'trial mode: no added headers');
like($m[0]{body}, qr/^X-DLP-Violations: 2$/m, 'but the violation count');
like($m[0]{body}, qr/^X-DLP-Severity: high$/m, 'and the highest severity');
my @inc = wait_incidents($dlp, 1);
is($inc[0]{trial}, JSON::PP::true, 'incident marked trial');
is($inc[0]{action}, 'pass', 'incident action pass');
is(scalar(grep { $_->{enforced} } @{$inc[0]{policies}}), 0, 'no policy enforced');
ok($dlp->stop, 'dlpgate stops');

# ---- loop guard ----
# A message that passed carries our mark (X-DLP-Loop-Guard: an HMAC with a
# key only the detectors hold, over its envelope and every byte below the
# mark). When it comes back from a trusted client with the same envelope,
# what the mark covers is not scanned again; the lines above it are. A
# mark written, copied or carried over changed content proves nothing, and
# neither does a pass header the sender wrote.
$sink->clear;
$dlp = start_detect(sink => $sink, policies => $policies, conf => { loop_guard_hosts => ['127.0.0.0/8'] });
my %env = (from => 'a@example.com', rcpt => ['b@example.net']);

# sink_copy - the one message the sink got, as it got it
sub sink_copy {
    my @got = $sink->wait_messages(1);
    $sink->clear;
    return $got[0]{body} // '';
}

($code) = send_mail($dlp, %env, data => "Subject: fine\n\nnothing to see\n");
is($code, 250, 'a clean message passes');
my $marked = sink_copy();
like($marked, qr/^X-Filter-Loop: Reflected\nX-DLP-Loop-Guard: 1 [0-9a-f]{32}\nSubject: fine\n/,
    'with our mark as the last added header, right above the message');
my ($markline) = $marked =~ /^(X-DLP-Loop-Guard: [^\n]*)$/m;

my $from = $dlp->log_size;
($code) = send_mail($dlp, %env, data => "Received: from mta.example by mta.example\n$marked");
is($code, 250, 'the marked message back from a trusted client: passes');
like($dlp->wait_log(qr/3010 message already scanned/, 10, $from) // '',
    qr/client=127\.0\.0\.1 covered=\d+/, 'as already scanned (logged)');
is(scalar(() = sink_copy() =~ /^X-Filter-Loop: Reflected$/mg), 1,
    'and the pass header is not added twice');

# the same message to someone else: a mark is for one envelope
$from = $dlp->log_size;
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['c@example.net'], data => $marked);
is($code, 250, 'the marked message to another recipient passes');
like($dlp->wait_log(qr/3001 detector verdict/, 10, $from) // '', qr/action=pass/,
    'after a scan of its own');
unlike(substr($dlp->log, $from), qr/3010 message already scanned/, 'not as already scanned');
sink_copy();

# the covered part changed: a card added to the body under a real mark
(my $changed = $marked) =~ s/nothing to see/4111 1111 1111 1111/;
($code) = send_mail($dlp, %env, data => $changed);
is($code, 550, 'a real mark over changed content proves nothing: scanned, blocked');
($code) = send_mail($dlp, %env, data => "$markline\nSubject: x\n\n4111 1111 1111 1111\n");
is($code, 550, 'a real mark copied onto another message proves nothing');
# what came on top of the mark is scanned, as the policies say
($code) = send_mail($dlp, %env, data => "Subject: 4111 1111 1111 1111\n$marked");
is($code, 550, 'a card in a Subject above the mark is found');
# a mark the sender wrote
($code) = send_mail($dlp, %env, data => "X-DLP-Loop-Guard: 1 " . ('0' x 32)
    . "\nSubject: again\n\n4111 1111 1111 1111\n");
is($code, 550, 'a mark the sender wrote proves nothing');
# our pass header, written by the sender: it never meant anything
my $looped = "X-Filter-Loop: Reflected\nSubject: again\n\n4111 1111 1111 1111\n";
($code) = send_mail($dlp, %env, data => $looped);
is($code, 550, 'a pass header the sender wrote proves nothing');
my $buried = "Subject: again\n\nX-Filter-Loop: Reflected\n4111 1111 1111 1111\n";
($code) = send_mail($dlp, %env, data => $buried);
is($code, 550, 'the header in the body is no header');
is(scalar(grep { $_->{action} eq 'block' } incidents($dlp)), 6, 'each of them an incident');
ok($dlp->stop, 'dlpgate stops');

# without loop_guard_hosts there is no mark, and a marked message is scanned
$dlp = start_detect(sink => $sink, policies => $policies);
($code) = send_mail($dlp, %env, data => "Subject: fine\n\nnothing to see\n");
unlike(sink_copy(), qr/X-DLP-Loop-Guard/, 'without loop_guard_hosts: no mark');
($code) = send_mail($dlp, %env, data => $changed);
is($code, 550, 'without loop_guard_hosts a mark proves nothing');
ok($dlp->stop, 'dlpgate stops');
done_testing;
