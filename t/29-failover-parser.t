#!/usr/bin/perl
# A parser of archives or documents that crashes or hangs costs its
# attachment, not the detector: each container is read in a child process
# of the detector, under limits. The test finds that child while it reads
# a slow attachment (gigabytes of bzip2'd zeros) and
#   - kills it with SIGSEGV, as a crash in libarchive would: the message
#     is unscannable ("parser crashed (signal 11) in zeros.bz2") and
#     blocked (unscannable_action = block), the detector is the same
#     process, and the next messages are scanned as before;
#   - stops it (SIGSTOP), as an endless loop would: the detector kills it
#     at the scan's deadline and answers in time (before the worker's
#     detector_timeout): a scan out of time, deferred per detector_failure.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX qw(_exit);
use Time::HiRes qw(time);
use DlpTest;
use DlpDetect;

my $policies = <<'EOF';
policies = (
  { name = "card"; rules = ( { type = "identifier"; identifier = "credit_card"; look_in = ["all"]; } );
    action = "block"; reply = "550 5.7.1 found card"; }
);
EOF
my $bz = slurp(top_dir() . "/t/fixtures/hostile/zeros-1g.bz2");
my $slow = mime_message(from => 'a@example.com', to => 'b@example.net', subject => 'slow',
    parts => [{ body => "hi\n", disposition => 'inline' },
              { type => 'application/x-bzip2', filename => 'zeros.bz2', body => $bz x 8, encoding => 'base64' }]);
my $card = "From: a\@example.com\nTo: b\@example.net\nSubject: c\n\ncard 4111 1111 1111 1111\n";

# parsers - the detectors' children that read a container now (not the
# notification runner, which may also have exited and wait to be reaped)
sub parsers {
    my ($dlp) = @_;
    return grep { (slurp("/proc/$_/cmdline") // '') !~ /notify/
                  && (slurp("/proc/$_/stat") // '') =~ /^\d+ \(.*\) [RSD]/s }
        map { children_of($_) } $dlp->pids_of('detector');
}

# in_background - send a message from a child process; its result comes in a file
sub in_background {
    my ($dlp, $msg, $file) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my ($code, $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
            data => $msg, timeout => 120);
        spit($file, ($code // 'none') . ' ' . ($text // ''));
        _exit(0);
    }
    return $pid;
}

my $sink = start_sink();
my $dlp = start_detect(policies => $policies, sink => $sink, conf => {
    unscannable_action => 'block', detector_decoded_size_limit => '4g', message_size_limit => '20m' });
my $tmp = test_dir();
my @before = sort $dlp->pids_of('detector');

# a crash
my $bg = in_background($dlp, $slow, "$tmp/crash");
my @p;
ok(wait_until(sub { @p = parsers($dlp) }, 30), 'a parser process reads the attachment');
kill 'SEGV', @p;
waitpid($bg, 0);
like(slurp("$tmp/crash"), qr/^550 .*could not be scanned/, 'parser crashed: the message is blocked as unscannable');
like($dlp->wait_log(qr/3009 message not scanned/, 10),
    qr/reason="parser crashed \(signal 11\) in zeros\.bz2"/, 'the reason names the crash and the attachment');
is_deeply([sort $dlp->pids_of('detector')], \@before, 'the detector is the same process');
unlike($dlp->log, qr/5004 child exited abnormally.*detector/, 'no detector died');
my ($code, $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'], data => $card);
is($text, '550 5.7.1 found card', 'the next message is scanned');
my @left = parsers($dlp);
ok(!@left, 'no parser process is left') or diag(map { slurp("/proc/$_/stat") } @left);
ok($dlp->stop, 'dlpgate stops');

# a hang: the worker waits 4 s; the detector's deadline is 80% of that
$dlp = start_detect(policies => $policies, sink => $sink, conf => {
    unscannable_action => 'block', detector_decoded_size_limit => '4g', message_size_limit => '20m',
    detector_timeout => '4s' });
my $t0 = time;
$bg = in_background($dlp, $slow, "$tmp/hang");
ok(wait_until(sub { @p = parsers($dlp) }, 30), 'a parser process reads the attachment');
kill 'STOP', @p;
waitpid($bg, 0);
my $took = time - $t0;
like(slurp("$tmp/hang"), qr/^451 451 4\.3\.0 .*message scan deferred/,
    'parser stopped: the detector answers in time, deferred as a scan out of time (detector_failure)');
like($dlp->wait_log(qr/3011 /, 10), qr/3011 scan time limit reached/, 'logged as a scan that ran out of time');
ok($took < 4, sprintf('answered within detector_timeout (%.1f s)', $took));
ok(wait_until(sub { !grep { kill 0, $_ } @p }, 10), 'the stopped parser was killed');
($code, $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'], data => $card);
is($text, '550 5.7.1 found card', 'the next message is scanned');
ok($dlp->stop, 'dlpgate stops');
done_testing;
