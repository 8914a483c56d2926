#!/usr/bin/perl
# A detector that reached max_use is replaced at once, even while workers
# keep their connections to it.
#
# Workers keep their detector connection from message to message, so a
# detector that has accepted max_use connections stops accepting but stays
# to serve the workers still connected, until the last one leaves. master
# must not count it as a ready detector any more: with process_limit = 1
# and max_use = 2, two workers connected to the first detector, a third
# worker's message must still be scanned (by a second detector), not wait
# in the socket until detector_timeout and get 451. The first detector
# keeps serving its two workers, and exits when they are gone.
#
# Also: a detector reports that it served with its use count, not with a
# BUSY record followed at once by IDLE, which master could read apart and
# take for a moment with no idle detector (starting one more than
# process_min_avail for nothing).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpOps;

my $sink = start_sink();
my $dlp = start_dlpgate(conf => { resubmit_port => $sink->{port}, detector_timeout => '5s',
    log_level => 'debug' },
    smtpd => { max_idle => 300 },
    detector => { process_limit => 1, process_min_avail => 1, max_use => 2 });

my @det;
ok(wait_until(sub { @det = $dlp->pids_of('detector'); @det == 1 }, 20), 'one detector');
my $d1 = $det[0];

# three sessions held open, each on its own worker, one message each
my (@c, %worker);
for my $i (1 .. 3) {
    my $c = smtp_connect($dlp->{port});
    is($c->{banner_code}, 220, "session $i: connected");
    $c->cmd("EHLO s$i.test");
    my ($code, $text) = $c->send_message(data => "Subject: s$i\r\n\r\nbody $i\r\n");
    is($code, 250, "session $i: message passes") or diag $text;
    push @c, $c;
}
my @m = $sink->wait_messages(3);
is_deeply([sort map { $_->{body} =~ /^Subject: (.*)$/m } @m], [qw(s1 s2 s3)], 'all three delivered');
unlike($dlp->log, qr/ 3002 /, 'no detector failure');
@det = sort { $a <=> $b } $dlp->pids_of('detector');
is(scalar @det, 2, 'a second detector was started: ' . join(' ', @det));
ok(alive($d1), 'the first still serves its two workers');
my %st = status_counters((dlpgate($dlp->{etc}, 'status'))[1]);
is($st{'service:detector'}[3], 1, 'status: the first detector is retiring');

# the first two workers still use the first detector
for my $i (0, 1) {
    my ($code) = $c[$i]->send_message(data => "Subject: again $i\r\n\r\nbody\r\n");
    is($code, 250, 'session ' . ($i + 1) . ': another message passes');
}
unlike($dlp->log, qr/ 3002 | 5004 /, 'no detector failure, no death');

# when their workers are gone, the first detector exits
my @w = $dlp->pids_of('smtpd-proxy');
$_->cmd('QUIT') for @c;
kill 'TERM', @w;    # workers keep detector connections until they exit
ok(wait_until(sub { !alive($d1) }, 30), 'the first detector exits once its workers are gone');
my $spawned = () = $dlp->log =~ /spawned detector pid/g;
is($spawned, 2, 'two detectors in all');
ok($dlp->stop, 'dlpgate stops cleanly');

# ---- room for more detectors: the first connection starts no spare -------------------------
$sink->clear;
$dlp = start_dlpgate(conf => { resubmit_port => $sink->{port}, log_level => 'debug' },
    detector => { process_limit => 4, process_min_avail => 1 });
my $c = smtp_connect($dlp->{port});
$c->cmd('EHLO one.test');
is(($c->send_message(data => "Subject: one\r\n\r\nbody\r\n"))[0], 250, 'a message passes');
$c->cmd('QUIT');
ok(wait_until(sub { my %s = status_counters((dlpgate($dlp->{etc}, 'status'))[1]);
    ($s{messages} // 0) == 1 }, 20), 'master has heard of it');
$spawned = () = $dlp->log =~ /spawned detector pid/g;
is($spawned, 1, 'still one detector: process_min_avail = 1');
ok($dlp->stop, 'dlpgate stops cleanly');
done_testing;
