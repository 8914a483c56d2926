#!/usr/bin/perl
# dlpgate stop (SIGTERM) with a session in flight.
#
# Within shutdown_timeout: new connections are refused at once, the session
# in flight finishes its message (250, delivered whole: the detector stays
# up until the last session ended), then master stops by itself, killing
# nobody, and `dlpgate stop` returns 0.
#
# Past shutdown_timeout (2s): master kills the worker (5009, SIGTERM); its
# client, halfway through DATA, sees the connection drop with no reply, so
# no 250, and nothing reaches the next hop; master stops.
#
# ^C on a foreground master (SIGINT to its whole process group, as a
# terminal sends it) stops the same way: the children ignore it and master
# stops them in order.
#
# (t/55 does the same for dlpgate drain, which has no deadline.)

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpOps;

my $sink = start_sink();

# first_half - what in_data sends before the stop
sub first_half { my ($subject) = @_; return "Subject: $subject\r\n\r\n" . ("before the stop\r\n" x 300) }

# ---- the session finishes within shutdown_timeout ------------------------------------------
my $dlp = start_dlpgate(conf => { resubmit_port => $sink->{port}, shutdown_timeout => '60s' });
my $first = first_half('finishes');
my $c = in_data($dlp->{port}, 'finishes', $first);
my @w = $dlp->serving;
is(scalar @w, 1, "worker $w[0] serves it");
my $mark = $dlp->log_size;
my $out = "$dlp->{dir}/stop.out";
my $stop = spawn($out, "$FindBin::Bin/../master/dlpgate", '-c', $dlp->{etc}, 'stop');
ok($dlp->wait_log(qr/5002 master stopping \(workers=1 shutdown_timeout=60s\)/, 20, $mark),
    'master is stopping, one session in flight');
ok(wait_until(sub { !smtp_connect($dlp->{port}, no_banner => 1) }, 10), 'new connections are refused');
ok(alive($dlp->{pid}), 'master waits for the session');
ok(scalar($dlp->pids_of('detector')), 'the detector still runs');

my $second = "after the stop\r\n" x 300;
$c->send_raw($second . ".\r\n");
my ($code, $text) = $c->read_reply(60);
is($code, 250, 'the message in flight is accepted') or diag $text;
is(($c->cmd('QUIT'))[0], 221, 'QUIT');
my @m = $sink->wait_messages(1);
(my $want = $first . $second) =~ s/\r\n/\n/g;
ok(@m == 1 && $m[0]{body} eq "X-Filter-Loop: Reflected\n$want", 'it arrived whole');

ok(wait_until(sub { waitpid($dlp->{pid}, POSIX::WNOHANG()) == $dlp->{pid} }, 30),
    'master exits once the session ended');
delete $dlp->{pid};
ok(wait_until(sub { waitpid($stop, POSIX::WNOHANG()) == $stop }, 30), 'dlpgate stop returns');
is($? >> 8, 0, 'with exit status 0');
like(slurp($out), qr/dlpgate: stopped/, 'and says so');
like($dlp->log, qr/5008 master stopped/, 'master logged its stop');
unlike($dlp->log, qr/ 5009 | 5004 /, 'no child was killed, none died');
ok(!alive($w[0]), 'the worker is gone');

# ---- the session outlasts shutdown_timeout --------------------------------------------------
$sink->clear;
$dlp = start_dlpgate(conf => { resubmit_port => $sink->{port}, shutdown_timeout => '2s' });
$c = in_data($dlp->{port}, 'outlasts', first_half('outlasts'));
@w = $dlp->serving;
is(scalar @w, 1, "worker $w[0] serves it");
my @det = $dlp->pids_of('detector');
$mark = $dlp->log_size;
ok(kill('TERM', $dlp->{pid}), 'SIGTERM to master');
ok($dlp->wait_log(qr/5002 master stopping \(workers=1 shutdown_timeout=2s\)/, 20, $mark), 'master is stopping');
ok($c->closed(60), 'past shutdown_timeout the connection drops');
is($c->{buf}, '', 'with no reply at all: no 250');
like(substr($dlp->log, $mark), qr/5009 child killed at shutdown \(service=smtpd pid=$w[0] signal=TERM\)/,
    'master killed the worker, and said so');
ok(wait_until(sub { waitpid($dlp->{pid}, POSIX::WNOHANG()) == $dlp->{pid} }, 30), 'master exits');
delete $dlp->{pid};
like($dlp->log, qr/5008 master stopped/, 'master logged its stop');
ok(!grep({ alive($_) } @w, @det), 'the worker and the detector are gone');
# nothing half-sent may reach the next hop: a message of its own after the
# kill shows the sink is done with the killed session
my $s = smtp_connect($sink->{port});
$s->cmd('HELO probe.test');
is(($s->send_message(data => "Subject: probe\r\n\r\nprobe\r\n"))[0], 250, 'the sink takes a probe');
$s->cmd('QUIT');
@m = $sink->wait_messages(1);
is_deeply([map { $_->{body} =~ /^Subject: (.*)$/m } @m], ['probe'], 'and has nothing from the killed session');

# ---- ^C in the foreground ------------------------------------------------------------------
$sink->clear;
$dlp = start_dlpgate(conf => { resubmit_port => $sink->{port}, shutdown_timeout => '60s' });
$c = in_data($dlp->{port}, 'interrupted', first_half('interrupted'));
@w = $dlp->serving;
$mark = $dlp->log_size;
ok(kill('INT', -$dlp->{pid}), 'SIGINT to the process group of master -f');
ok($dlp->wait_log(qr/5002 master stopping \(workers=1 /, 20, $mark), 'master is stopping');
ok(alive($w[0]), 'the worker lives on');
$c->send_raw("the rest\r\n.\r\n");
is(($c->read_reply(60))[0], 250, 'the message in flight is accepted');
$c->cmd('QUIT');
is(scalar($sink->wait_messages(1)), 1, 'and delivered');
ok(wait_until(sub { waitpid($dlp->{pid}, POSIX::WNOHANG()) == $dlp->{pid} }, 30), 'master exits');
delete $dlp->{pid};
unlike(substr($dlp->log, $mark), qr/ 5009 | 5004 /, 'no child was killed, none died of the signal');

done_testing;
