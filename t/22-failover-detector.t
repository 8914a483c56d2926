#!/usr/bin/perl
# The detector fails: messages are deferred (451 4.3.0, detector_failure =
# tempfail by default), never passed unscanned and never lost, and master
# brings the detector back.
#
# A worker keeps its connection to a detector from message to message;
# when that one is gone (EOF) it tries once on a fresh connection. master
# holds the detector's listen socket, so a fresh connection always
# succeeds: while no detector runs, it waits in the socket's backlog until
# a detector accepts it or the worker's detector_timeout expires. So:
#   - kill -9 of a detector that has served: master logs it and starts a new
#     one at once (no throttle); the next message passes.
#   - a detector that is down for longer than detector_timeout (frozen with
#     SIGSTOP, so it stays down as long as the test wants): 451 4.3.0 after
#     detector_timeout (2s on the smtpd service), logged, nothing delivered.
#   - kill -9 of the frozen detector while a message waits on a worker with a
#     long detector_timeout (the "patient" service, one worker, 120s), its
#     request waiting in the socket's backlog: the new detector answers it,
#     the message passes once. The request of the message deferred before is
#     dropped or answered into a closed connection: it stays undelivered.
#   - the same with the request sent on the worker's kept connection, already
#     accepted by the detector that is killed: the worker sees EOF, asks the
#     new detector, and the message passes once.
# Requests waiting on the detector socket are counted with ss.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpOps;

my $sink = start_sink();
my ($port, $patient) = (free_port(), free_port());
my $mc = "services = (\n"
    . "  { name = \"smtpd\"; type = \"inet\"; listen = [\"127.0.0.1:$port\"];\n"
    . "    command = \"smtpd-proxy\"; user = \"dlpgate\"; process_limit = 4; max_idle = 100; },\n"
    . "  { name = \"patient\"; type = \"inet\"; listen = [\"127.0.0.1:$patient\"];\n"
    . "    command = \"smtpd-proxy\"; user = \"dlpgate\"; process_limit = 1; max_idle = 100;\n"
    . "    options = { detector_timeout = \"120s\"; }; },\n"
    . "  { name = \"detector\"; type = \"unix\"; listen = [\"detector\"];\n"
    . "    command = \"detector\"; process_limit = 1; process_min_avail = 1;\n"
    . "    max_use = 1000; max_idle = 300; user = \"dlpgate-detect\"; }\n);\n";
my $dlp = start_dlpgate(port => $port, master_conf => $mc, conf => {
    resubmit_port => $sink->{port}, detector_timeout => '2s' });

# send_one - one message in its own session: (code, text)
sub send_one {
    my ($p, $subject) = @_;
    my $c = smtp_connect($p) or return (undef, 'cannot connect');
    $c->cmd('EHLO client.test');
    my @r = $c->send_message(data => "Subject: $subject\r\n\r\n$subject\r\n", timeout => 180);
    $c->cmd('QUIT');
    return @r;
}

# arrived - the messages with this subject at the sink
sub arrived {
    my ($subject) = @_;
    return grep { $_->{body} =~ /^Subject: \Q$subject\E$/m } $sink->messages;
}

# detector - the one detector, once it is not the one given
sub detector {
    my ($not) = @_;
    my @d;
    wait_until(sub { @d = $dlp->pids_of('detector'); @d == 1 && $d[0] != ($not // 0) }, 30);
    return @d == 1 && $d[0] != ($not // 0) ? $d[0] : undef;
}

my ($code, $text) = send_one($port, 'first');
is($code, 250, 'a message passes') or diag $text;
my $d1 = detector();
ok($d1, "the detector ($d1) has served");

# ---- kill -9 of a detector that served: back at once --------------------------------
my $mark = $dlp->log_size;
ok(kill('KILL', $d1), "kill -9 detector $d1");
ok($dlp->wait_log(qr/5004 child exited abnormally \(service=detector pid=$d1 reason="killed by signal 9" sessions=\d+\)/, 20, $mark),
    'master logs the death');
my $d2 = detector($d1);
ok($d2, "master started a new detector ($d2)");
($code, $text) = send_one($port, 'after the kill');
is($code, 250, 'the next message passes') or diag $text;
unlike(substr($dlp->log, $mark), qr/ 5005 /, 'not throttled: the dead one had served');

# ---- a detector that is down: 451 after detector_timeout --------------------------------
ok(kill('STOP', $d2), "freeze detector $d2");
$mark = $dlp->log_size;
($code, $text) = send_one($port, 'while down');
is($code, 451, 'while the detector is down: 451');
like($text, qr/^451 4\.3\.0 .*content scanner unavailable, try again later$/, 'with 4.3.0');
like(substr($dlp->log, $mark), qr/3002 detector failure \(cid=\w+ reason="no verdict within detector_timeout \(2s\)" action=tempfail\)/,
    'logged as a detector failure: no verdict within detector_timeout');
like(substr($dlp->log, $mark), qr/1007 message complete \(.*verdict=tempfail \(detector failure\) .*reply="451 4\.3\.0 detector failure"/,
    'and the message as deferred');

# ---- kill -9 of it while a message waits: the new detector answers ---------------------
# in_flight - a message on the patient service, its request waiting on the
# frozen detector; returns the client
sub in_flight {
    my ($subject) = @_;
    my $before = $dlp->waiting('detector');
    my $c = smtp_connect($patient);
    $c->cmd('EHLO patient.test');
    is(($c->cmd('MAIL FROM:<p@example.com>'))[0], 250, "$subject: MAIL");
    is(($c->cmd('RCPT TO:<r@example.net>'))[0], 250, "$subject: RCPT");
    is(($c->cmd('DATA'))[0], 354, "$subject: DATA");
    $c->send_raw("Subject: $subject\r\n\r\n$subject\r\n.\r\n");
    ok(wait_until(sub { $dlp->waiting('detector') == $before + 1 }, 60),
        "$subject: its request waits on the frozen detector");
    return $c;
}

my $c = in_flight('waiting');
$mark = $dlp->log_size;
ok(kill('KILL', $d2), "kill -9 detector $d2, frozen");
($code, $text) = $c->read_reply(180);
is($code, 250, 'the waiting message passes') or diag $text;
$c->cmd('QUIT');
ok($dlp->wait_log(qr/5004 child exited abnormally \(service=detector pid=$d2 reason="killed by signal 9"/, 20, $mark),
    'master logged the death');
my $d3 = detector($d2);
ok($d3, "a new detector ($d3) answered it");
unlike(substr($dlp->log, $mark), qr/ 5005 /, 'not throttled');

# ---- the same on the worker's kept connection: EOF, then a fresh one ----------------------
ok(kill('STOP', $d3), "freeze detector $d3, which the patient worker is connected to");
$c = in_flight('kept');
my $d3_queued = grep { /ESTAB\s+[1-9]/ && /pid=$d3,/ }
    split /\n/, (run_cmd('ss', '-xanpH', 'src', "$dlp->{run}/private/detector"))[1];
is($d3_queued, 1, 'the request was sent on the kept connection, accepted by the frozen detector');
$mark = $dlp->log_size;
ok(kill('KILL', $d3), "kill -9 detector $d3");
($code, $text) = $c->read_reply(180);
is($code, 250, 'the message passes through the next detector') or diag $text;
$c->cmd('QUIT');
my $d4 = detector($d3);
ok($d4, "the next detector is $d4");
unlike(substr($dlp->log, $mark), qr/ 3002 /, 'no detector failure');

($code, $text) = send_one($port, 'last');
is($code, 250, 'normal service') or diag $text;
ok(wait_until(sub { arrived('last') == 1 }, 30), 'delivered');
is(scalar(arrived('first')), 1, 'first: delivered once');
is(scalar(arrived('after the kill')), 1, 'after the kill: delivered once');
is(scalar(arrived('waiting')), 1, 'the waiting message: delivered once');
is(scalar(arrived('kept')), 1, 'the message on the kept connection: delivered once');
like((arrived('waiting'))[0]{body}, qr/\AX-Filter-Loop: Reflected\nSubject: waiting\n/, 'scanned');
is(scalar(arrived('while down')), 0, 'the deferred message: not delivered');
my %st = status_counters((dlpgate($dlp->{etc}, 'status'))[1]);
is($st{detector_failures}, 1, 'status: one detector failure');
is($st{children_died}, 3, 'status: three children died');

ok($dlp->stop, 'dlpgate stops cleanly');
done_testing;
