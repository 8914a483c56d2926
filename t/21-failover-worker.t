#!/usr/bin/perl
# kill -9 of a worker in the middle of DATA loses nothing and says no 250.
#
# A raw client: DATA, half the content, then kill -9 of the worker serving
# it (the one whose title names its client). The client sees the
# connection drop with no reply at all, nothing reaches the final sink,
# master logs the death (5004, killed by signal 9, in its first session)
# without throttling the service, and a new worker serves the next client.
#
# Postfix as the client: the worker must die after Postfix has sent the
# whole message and before any final reply. To stop there deterministically
# the detector is frozen (SIGSTOP): the worker has spooled the message and
# waits for a verdict (detector_timeout is long), which we see as one
# request waiting on the detector socket (ss); nothing has gone to the
# next hop's DATA yet. kill -9 of that worker: Postfix loses the connection
# at end of data, defers the message and keeps it queued. The detector
# thaws; Postfix's retry (within seconds: DlpPostfix's fast retries) goes
# through a new worker, and the message reaches the final sink exactly once.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpOps;
use DlpPostfix;

my $final = start_sink(args => ['-h', 'final.test']);
my $dlp_port = free_port();
my $pf = DlpPostfix->start(relay => $final->{port}, content_filter => $dlp_port);
# one detector, so that freezing it freezes scanning
my $dlp = start_dlpgate(port => $dlp_port, detector => { process_limit => 1, process_min_avail => 1 }, conf => {
    resubmit_port => $pf->{reinject_port}, detector_timeout => '120s' });

# arrived - the messages with this subject at the final sink
sub arrived {
    my ($subject) = @_;
    return grep { $_->{body} =~ /^Subject: \Q$subject\E$/m } $final->messages;
}

# ---- a raw client, half its content sent ---------------------------------------------
my $a = in_data($dlp->{port}, 'A', "Subject: killed\r\n\r\n" . ("first half\r\n" x 500));
my @w;
ok(wait_until(sub { @w = $dlp->serving; @w == 1 }, 10), 'one worker serves A');
my $victim = $w[0];
my $mark = $dlp->log_size;
ok(kill('KILL', $victim), "kill -9 worker $victim");
ok($a->closed(20), 'A: the connection drops');
is($a->{buf}, '', 'A: no reply at all, so no 250');
ok($dlp->wait_log(qr/5004 child exited abnormally \(service=smtpd pid=$victim reason="killed by signal 9" sessions=1\)/, 20, $mark),
    'master logs the death: killed by signal 9, in its first session');

# the next client gets a new worker, and its message goes through
my $b = smtp_connect($dlp->{port});
is($b && $b->{banner_code}, 220, 'B: connected');
is(($b->cmd('EHLO b.test'))[0], 250, 'B: EHLO');
@w = $dlp->serving;
ok(@w == 1 && $w[0] != $victim, "B is served by a new worker ($w[0])");
my ($code, $text) = $b->send_message(from => 'b@example.com',
    data => "Subject: after the kill\r\n\r\nbody b\r\n");
is($code, 250, 'B: message accepted') or diag $text;
is(($b->cmd('QUIT'))[0], 221, 'B: QUIT');
ok(wait_until(sub { arrived('after the kill') == 1 && $pf->queue_count == 0 }, 60),
    'B\'s message reached the final sink');
is(scalar(arrived('killed')), 0, 'A\'s half message reached nobody');
unlike(substr($dlp->log, $mark), qr/ 5005 /, 'the service was not throttled (the worker had served)');

# ---- Postfix as the client, killed at end of data ---------------------------------------
my @det = $dlp->pids_of('detector');
is(scalar @det, 1, 'one detector runs');
my $det = $det[0];
ok(kill('STOP', $det), 'freeze the detector');
my $pfmark = length $pf->log;
my $c = smtp_connect($pf->{smtp_port});
$c->cmd('EHLO client.test');
($code, $text) = $c->send_message(from => 'pf@example.com', rcpt => ['pf@example.net'],
    data => "Subject: postfix killed\r\nMessage-Id: <killed.1\@client.test>\r\n\r\n"
    . ("line of the message\r\n" x 200));
is($code, 250, 'Postfix queued the message');
my ($qid) = $text =~ /queued as (\w+)/;
$c->cmd('QUIT');

ok(wait_until(sub { $dlp->waiting('detector') == 1 }, 60),
    'the worker has the whole message and waits for the frozen detector');
@w = $dlp->serving;
is(scalar @w, 1, 'one worker serves Postfix');
$victim = $w[0];
$mark = $dlp->log_size;
ok(kill('KILL', $victim), "kill -9 worker $victim");
ok(wait_until(sub { substr($pf->log, $pfmark) =~ /\b\Q$qid\E: to=<pf\@example\.net>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:$dlp_port, .*status=deferred \(lost connection with 127\.0\.0\.1\[127\.0\.0\.1\] while sending end of data/ }, 60),
    'Postfix lost the connection at end of data and deferred the message');
# (a count can miss a file Postfix is moving between its queues: ask again;
# what counts is that the message is held until a delivery succeeds, and
# the checks below see it delivered exactly once)
ok(wait_until(sub { $pf->queue_count == 1 || arrived('postfix killed') >= 1 }, 10),
    'Postfix keeps it queued, or has delivered its retry')
    or diag "queue count " . $pf->queue_count . "\nPostfix:\n" . substr($pf->log, $pfmark);
ok($dlp->wait_log(qr/5004 child exited abnormally \(service=smtpd pid=$victim reason="killed by signal 9"/, 20, $mark),
    'master logs the death');
ok(kill('CONT', $det), 'thaw the detector');

# Postfix's own retry comes within seconds; on a loaded machine its queue
# manager may wait longer, so it is also asked to retry now and then
my $asked = time;
ok(wait_until(sub {
        if (time - $asked >= 10) { $pf->flush; $asked = time }
        arrived('postfix killed') >= 1 && $pf->queue_count == 0 }, 120),
    'Postfix retried, and the message reached the final sink')
    or diag "Postfix:\n" . substr($pf->log, $pfmark) . "\ndlpgate:\n" . substr($dlp->log, $mark);
is($pf->queue_count, 0, 'the queue is empty');
my @m = arrived('postfix killed');
is(scalar @m, 1, 'exactly once');
like($m[0]{body} // '', qr/^X-Filter-Loop: Reflected\n(?:.*\n)*Message-Id: <killed\.1\@client\.test>$/m,
    'scanned by dlpgate, the same message');
like(substr($pf->log, $pfmark), qr/\b\Q$qid\E: to=<pf\@example\.net>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:$dlp_port, .*status=sent/,
    'the retry through dlpgate was accepted');
my $died = () = $dlp->log =~ / 5004 /g;
is($died, 2, 'two deaths in all, the two we caused');
my %st = status_counters((dlpgate($dlp->{etc}, 'status'))[1]);
is($st{children_died}, 2, 'status counts them');
unlike($dlp->log, qr/ 5005 /, 'no throttle');

ok($dlp->stop, 'dlpgate stops cleanly');
$pf->stop;
done_testing;
