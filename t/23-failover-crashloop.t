#!/usr/bin/perl
# A crash loop is throttled, not a fork storm.
#
# The detector service's command does not exist: every child exits 127
# before it serves. master logs each death (5004) and throttles the service
# (5005) for 2s, then 4s, then service_throttle_time (4s here), and starts
# no child in between: we count the deaths against the throttles and check
# the log's own timestamps keep each delay. While no detector runs, a
# message gets 451 4.3.0 after detector_timeout (the request waits in the
# socket master holds, nobody answers): deferred, not lost, not passed.
#
# An smtpd service that dies at start (its chroot directory is missing,
# which master cannot know: the child does the chroot) is throttled the same way while a
# client waits for it; the smtpd service beside it keeps working.
#
# Fixing master.conf and reloading lifts the throttle at once: a detector
# starts without waiting out the delay and the next message passes.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::Local qw(timegm);
use DlpTest;

my $sink = start_sink();
my $dlp_dir = test_dir();
my ($port, $bad_port) = (free_port(), free_port());

# master_conf - the table, with the detector's command given
sub master_conf {
    my ($command) = @_;
    return "services = (\n"
    . "  { name = \"smtpd\"; type = \"inet\"; listen = [\"127.0.0.1:$port\"];\n"
    . "    command = \"smtpd-proxy\"; user = \"dlpgate\"; process_limit = 4; max_idle = 100; },\n"
    . "  { name = \"badopt\"; type = \"inet\"; listen = [\"127.0.0.1:$bad_port\"];\n"
    . "    command = \"smtpd-proxy\"; user = \"dlpgate\"; process_limit = 4; max_idle = 100;\n"
    . "    chroot = \"$dlp_dir/no-such-dir\"; },\n"
    . "  { name = \"detector\"; type = \"unix\"; listen = [\"detector\"];\n"
    . "    command = \"$command\"; process_limit = 2; process_min_avail = 1;\n"
    . "    max_use = 1000; max_idle = 300; user = \"dlpgate-detect\"; }\n);\n";
}

my $dlp = start_dlpgate(dir => $dlp_dir, port => $port, master_conf => master_conf('nosuchdetector'),
    conf => { resubmit_port => $sink->{port}, service_throttle_time => '4s',
              detector_timeout => '1s' });

# events - (time, delay or undef) of a service's 5004 and 5005 lines
sub events {
    my ($svc, $code) = @_;
    my @e;
    for my $l (split /\n/, $dlp->log) {
        next unless $l =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+(?:\.\d+)?) .* $code .*\(service=\Q$svc\E (.*)$/;
        my $t = timegm(0, $5, $4, $3, $2 - 1, $1) + $6;
        my ($delay) = $7 =~ /^delay=(\d+)s/;
        push @e, [$t, $delay];
    }
    return @e;
}

# ---- the detector: deaths and growing delays --------------------------------------------
ok(wait_until(sub { events('detector', 5005) >= 4 }, 60), 'the detector service was throttled four times');
my @deaths = events('detector', 5004);
my @throttles = events('detector', 5005);
is_deeply([map { $_->[1] } @throttles[0 .. 3]], [2, 4, 4, 4],
    'delays 2s, 4s, then service_throttle_time (4s)');
my @in_window = grep { $_->[0] <= $throttles[3][0] } @deaths;
is(scalar @in_window, 4, 'four deaths up to the fourth throttle: one child per throttle, no fork storm');
my @early = grep { $deaths[$_ + 1][0] - $deaths[$_][0] < $throttles[$_][1] - 0.1 } 0 .. 2;
is_deeply(\@early, [], 'each next child started only after its delay (log timestamps)');
like($dlp->log, qr/5004 child exited abnormally \(service=detector pid=\d+ reason="exit status 127" sessions=0\)/,
    'the deaths say why');
like($dlp->log, qr/5005 service throttled \(service=detector delay=2s reason="child \d+ exit status 127 before it served"\)/,
    'and the throttle says why');
like($dlp->log, qr/cannot execute \S+nosuchdetector: No such file or directory/, 'the child said what failed');

# ---- no detector: 451 --------------------------------------------------------------
my $c = smtp_connect($port);
is($c->{banner_code}, 220, 'the smtpd service works');
$c->cmd('EHLO client.test');
my ($code, $text) = $c->send_message(data => "Subject: no detector\r\n\r\nbody\r\n");
is($code, 451, 'no detector: the message gets 451');
like($text, qr/^451 4\.3\.0 /, '4.3.0');
$c->cmd('QUIT');

# ---- an smtpd that dies at start, with a client waiting ------------------------------------
my $mark = $dlp->log_size;
my $w = smtp_connect($bad_port, no_banner => 1);
ok($w, 'a client connects to the broken smtpd service (the kernel accepts)');
ok(wait_until(sub { my @t = grep { $_->[0] } events('badopt', 5005); @t >= 2 }, 60),
    'the broken smtpd service is throttled again and again while the client waits');
my @bt = events('badopt', 5005);
is_deeply([map { $_->[1] } @bt[0, 1]], [2, 4], 'with 2s, then 4s');
like(substr($dlp->log, $mark), qr/chroot \S+\/no-such-dir: No such file or directory/, 'the child said what is wrong');
like(substr($dlp->log, $mark), qr/5004 child exited abnormally \(service=badopt pid=\d+ reason="exit status 1" sessions=0\)/,
    'each death logged');
my ($wc) = $w->read_reply(0.5);
is($wc, undef, 'the waiting client got no banner from a dead worker');
$w->close;
$c = smtp_connect($port);
is(($c->cmd('EHLO client.test'))[0], 250, 'the good smtpd service is unaffected');
$c->cmd('QUIT');
my %deaths_by;
$deaths_by{$_}++ for $dlp->log =~ /5004 child exited abnormally \(service=(\w+)/g;
ok(!$deaths_by{smtpd}, 'no smtpd child died');

# ---- fix and reload: the throttle is lifted at once ----------------------------------------
spit("$dlp->{etc}/master.conf", master_conf('detector'));
# reload just after a throttle starts, so that it lands well inside the delay
$mark = $dlp->log_size;
ok($dlp->wait_log(qr/5005 service throttled \(service=detector delay=4s/, 30, $mark),
    'the detector service is throttled for 4s');
$mark = $dlp->log_size;
$dlp->reload;
ok($dlp->wait_log(qr/5003 master reloaded configuration/, 20, $mark), 'reloaded');
like(substr($dlp->log, $mark), qr/5006 service resumed \(service=detector reason=reload\)/,
    'the reload lifted the detector\'s throttle');
ok(wait_until(sub { $dlp->pids_of('detector') >= 1 }, 20), 'a detector runs');
$c = smtp_connect($port);
$c->cmd('EHLO client.test');
($code, $text) = $c->send_message(data => "Subject: fixed\r\n\r\nbody\r\n");
is($code, 250, 'the next message passes') or diag $text;
$c->cmd('QUIT');
my @m = $sink->wait_messages(1);
is(scalar @m, 1, 'one message delivered');
like($m[0]{body} // '', qr/\AX-Filter-Loop: Reflected\nSubject: fixed\n/, 'the fixed one, scanned');
unlike(substr($dlp->log, $mark), qr/5004 child exited abnormally \(service=detector/,
    'the new detector did not die');

ok($dlp->stop, 'dlpgate stops cleanly');
done_testing;
