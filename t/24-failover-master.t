#!/usr/bin/perl
# kill -9 of master: every child exits after its current session, none
# lingers as an orphan, and a new master can start on the same
# run_directory at once, while the old session is still in flight.
#
# Each child is told of master's death by the kernel (PR_SET_PDEATHSIG) and
# sees EOF on its status socket. The idle ones exit at once: two smtpd
# workers kept ready, and the two detectors, which no worker is connected
# to (a detector stays while a worker keeps a connection to it). The worker
# of the session in flight closes its copy of the listen socket at once, so
# the port is free (a new client is refused, not left hanging in a backlog
# nobody accepts from) and keeps serving its client. The detectors being
# gone with master, the session's next message is deferred (451 4.3.0:
# nothing lost, nothing passed unscanned). A new master then starts on the
# same directories; the old session's next message is scanned by the new
# master's detector and passes. When the client quits, the old worker
# exits. Orphans are looked for by what they hold: no process but master
# and its children may keep the listen port or the detector socket (ss).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpOps;

my $sink = start_sink();
my %conf = (resubmit_port => $sink->{port});
my $dlp = start_dlpgate(conf => \%conf, smtpd => { process_min_avail => 2 });
my $port = $dlp->{port};
my $det_path = "$dlp->{run}/private/detector";

# holders - pids that hold the listen port or the detector socket open
sub holders {
    my %pids;
    for my $q (['-tlnpH', 'sport', '=', ":$port"], ['-xlnpH', 'src', $det_path]) {
        my (undef, $out) = run_cmd('ss', @$q);
        $pids{$_} = 1 for $out =~ /pid=(\d+)/g;
    }
    return sort { $a <=> $b } keys %pids;
}

# a session in the middle of a transaction
my $ca = smtp_connect($port);
is($ca->{banner_code}, 220, 'A: connected');
is(($ca->cmd('EHLO a.test'))[0], 250, 'A: EHLO');
is(($ca->cmd('MAIL FROM:<a@example.com>'))[0], 250, 'A: MAIL');
is(($ca->cmd('RCPT TO:<r@example.net>'))[0], 250, 'A: RCPT');
my @busy = $dlp->serving;
is(scalar @busy, 1, 'one worker serves A');
my $wa = $busy[0];
ok(wait_until(sub { my @s = $dlp->pids_of('smtpd-proxy'); @s == 3 }, 20),
    'two more workers wait idle');
ok(wait_until(sub { $dlp->pids_of('detector') == 2 }, 20), 'two detectors run');
my @kids = sort { $a <=> $b } children_of($dlp->{pid});
is(scalar @kids, 5, 'master has five children: ' . join(' ', @kids));
is_deeply([holders()], [sort { $a <=> $b } $dlp->{pid}, @kids],
    'they and master hold the sockets');

ok(kill('KILL', $dlp->{pid}), "kill -9 master $dlp->{pid}");
is(waitpid($dlp->{pid}, 0), $dlp->{pid}, 'master is dead');
delete $dlp->{pid};

my @idle = grep { $_ != $wa } @kids;
ok(wait_until(sub { !grep { alive($_) } @idle }, 30), 'the idle workers and the detectors exit');
ok(alive($wa), 'A\'s worker still serves A');
ok(wait_until(sub { my @h = holders(); !@h }, 30), 'and holds no socket: nobody does');
ok(!smtp_connect($port, no_banner => 1), 'a new client is refused at once');

# A goes on: the next hop still answers, the message is deferred
is(($ca->cmd('NOOP'))[0], 250, 'A: NOOP answered');
my ($code, $text) = $ca->cmd('DATA');
is($code, 354, 'A: DATA');
$ca->send_raw("Subject: master died\r\n\r\nbody\r\n.\r\n");
($code, $text) = $ca->read_reply(60);
is($code, 451, 'A: the message is deferred, the detector having gone with master');
like($text, qr/^451 4\.3\.0 /, 'A: 451 4.3.0');

# a new master on the same directories, A still in flight
my $new = start_dlpgate(dir => $dlp->{dir}, port => $port, conf => \%conf,
    log => "$dlp->{dir}/master2.log");
ok($new->wait_log(qr/5001 master started/, 30),
    'a new master starts on the same run_directory and port');
my %st = status_counters((dlpgate($new->{etc}, 'status'))[1]);
is($st{pid}, $new->{pid}, 'dlpgate status shows the new master');
ok(alive($wa), 'A\'s old worker still serves A');
ok(!grep({ $_ == $wa } children_of($new->{pid})), 'it is no child of the new master');
is(($ca->cmd('MAIL FROM:<a@example.com>'))[0], 250, 'A: MAIL again');
is(($ca->cmd('RCPT TO:<r@example.net>'))[0], 250, 'A: RCPT');
is(($ca->cmd('DATA'))[0], 354, 'A: DATA');
$ca->send_raw("Subject: old session\r\n\r\nbody\r\n.\r\n");
($code, $text) = $ca->read_reply(60);
is($code, 250, 'A: this one passes, scanned by the new master\'s detector') or diag $text;
is(($ca->cmd('QUIT'))[0], 221, 'A: QUIT');
ok(wait_until(sub { !alive($wa) }, 30), 'A\'s worker exits after its session');
is_deeply([grep { alive($_) } @kids], [], 'none of the old master\'s children is left');
like($dlp->log, qr/1003 connection closed \(cid=\w+ client=127\.0\.0\.1 messages=2 /,
    'A\'s session ended normally');

my $c = smtp_connect($port);
is($c->{banner_code}, 220, 'the new master serves');
$c->cmd('EHLO c.test');
($code, $text) = $c->send_message(data => "Subject: new master\r\n\r\nbody\r\n");
is($code, 250, 'and passes mail') or diag $text;
$c->cmd('QUIT');
my @m = $sink->wait_messages(2);
is_deeply([sort map { $_->{body} =~ /^Subject: (.*)$/m } @m], ['new master', 'old session'],
    'two messages delivered: the old session\'s second and the new one');
ok(!grep({ $_->{body} !~ /\AX-Filter-Loop: Reflected\n/ } @m), 'both scanned');
my %ours = map { $_ => 1 } $new->{pid}, children_of($new->{pid});
is_deeply([grep { !$ours{$_} } holders()], [], 'only the new master and its children hold the sockets');
ok($new->stop, 'the new master stops cleanly');

done_testing;
