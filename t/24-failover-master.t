#!/usr/bin/perl
# kill -9 of master: every child exits after its current session, none
# lingers as an orphan, and a new master starts on the same run_directory.
#
# Each child sees EOF on its status socket when master dies. The idle ones
# (two smtpd workers kept ready, the detector) exit at once; the worker of
# the session in flight keeps serving it: its client still gets replies
# from the next hop. The detector being gone with master, that session's
# message is deferred (451 4.3.0: nothing lost, nothing passed unscanned).
# When the client quits, the worker exits too. A client that connects
# meanwhile waits in the listen socket's backlog, which closes (the
# connection drops, no banner) when the last worker exits. Orphans are
# looked for by what they hold: no process may keep the listen port or the
# detector socket (ss), besides the pids we knew.

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
ok(wait_until(sub { $dlp->pids_of('detector') == 1 }, 20), 'the detector runs');
my @kids = sort { $a <=> $b } children_of($dlp->{pid});
is(scalar @kids, 4, 'master has four children: ' . join(' ', @kids));
is_deeply([holders()], [sort { $a <=> $b } $dlp->{pid}, @kids],
    'they and master hold the sockets');

ok(kill('KILL', $dlp->{pid}), "kill -9 master $dlp->{pid}");
is(waitpid($dlp->{pid}, 0), $dlp->{pid}, 'master is dead');
delete $dlp->{pid};

my @idle = grep { $_ != $wa } @kids;
ok(wait_until(sub { !grep { alive($_) } @idle }, 30), 'the idle workers and the detector exit');
ok(alive($wa), 'A\'s worker still serves A');
is_deeply([holders()], [$wa], 'only A\'s worker holds a socket now');

# a latecomer waits in the backlog; nobody will accept it
my $late = smtp_connect($port, no_banner => 1);
ok($late, 'a new client can still connect (the kernel completes it)');

# A goes on: the next hop still answers, the message is deferred
is(($ca->cmd('NOOP'))[0], 250, 'A: NOOP answered');
my ($code, $text) = $ca->cmd('DATA');
is($code, 354, 'A: DATA');
$ca->send_raw("Subject: master died\r\n\r\nbody\r\n.\r\n");
($code, $text) = $ca->read_reply(60);
is($code, 451, 'A: the message is deferred, the detector having gone with master');
like($text, qr/^451 4\.3\.0 /, 'A: 451 4.3.0');
is(($ca->cmd('RSET'))[0], 250, 'A: RSET answered');
is(($ca->cmd('QUIT'))[0], 221, 'A: QUIT');
ok(wait_until(sub { !alive($wa) }, 30), 'A\'s worker exits after its session');
ok($late->closed(30), 'the latecomer\'s connection drops');
is($late->{buf}, '', 'with no banner');
is_deeply([grep { alive($_) } @kids], [], 'none of master\'s children is left');
is_deeply([holders()], [], 'no process holds the port or the detector socket');
ok(port_free($port), 'the port is free');
like($dlp->log, qr/1003 connection closed \(cid=\w+ client=127\.0\.0\.1 messages=1 /,
    'A\'s session ended normally');

# a new master on the same directories
my $new = start_dlpgate(dir => $dlp->{dir}, port => $port, conf => \%conf,
    log => "$dlp->{dir}/master2.log");
like($new->log, qr/5001 master started/, 'a new master starts on the same run_directory');
my %st = status_counters((dlpgate($new->{etc}, 'status'))[1]);
is($st{pid}, $new->{pid}, 'dlpgate status shows the new master');
my $c = smtp_connect($port);
is($c->{banner_code}, 220, 'it serves');
$c->cmd('EHLO c.test');
($code, $text) = $c->send_message(data => "Subject: new master\r\n\r\nbody\r\n");
is($code, 250, 'and passes mail') or diag $text;
$c->cmd('QUIT');
my @m = $sink->wait_messages(1);
is(scalar @m, 1, 'one message delivered in all');
like($m[0]{body}, qr/\AX-Filter-Loop: Reflected\nSubject: new master\n/, 'the new master\'s');
ok($new->stop, 'the new master stops cleanly');

done_testing;
