#!/usr/bin/perl
# trial_mode: every policy acts as monitor (incidents, headers, no
# enforcement). Loop guard: a message that carries our pass header from a
# trusted client (loop_guard_hosts) is not scanned twice; from anyone else,
# or without loop_guard_hosts, the header proves nothing.

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
$sink->clear;
$dlp = start_detect(sink => $sink, policies => $policies, conf => { loop_guard_hosts => ['127.0.0.0/8'] });
my $looped = "X-Filter-Loop: Reflected\nSubject: again\n\n4111 1111 1111 1111\n";
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'], data => $looped);
is($code, 250, 'our pass header from a trusted client: not scanned again');
@m = $sink->wait_messages(1);
is(scalar(() = $m[0]{body} =~ /^X-Filter-Loop: Reflected$/mg), 1, 'and the pass header is not added twice');
like($dlp->wait_log(qr/3010 message already scanned/), qr/client=127\.0\.0\.1/, 'loop guard logged');
is(scalar(incidents($dlp)), 0, 'no incident');
my $buried = "Subject: again\n\nX-Filter-Loop: Reflected\n4111 1111 1111 1111\n";
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'], data => $buried);
is($code, 550, 'the header in the body is no header');
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
    data => "X-Filter-Loop: Something else\nSubject: x\n\n4111 1111 1111 1111\n");
is($code, 550, 'another value is not our header');
ok($dlp->stop, 'dlpgate stops');

$dlp = start_detect(sink => $sink, policies => $policies);
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'], data => $looped);
is($code, 550, 'without loop_guard_hosts the header proves nothing');
ok($dlp->stop, 'dlpgate stops');
done_testing;
