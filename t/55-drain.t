#!/usr/bin/perl
# dlpgate drain: new sessions are refused at once, the session in flight
# finishes its message with no deadline, then master exits by itself and
# the drain command returns 0.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpOps;

my $sink = start_sink();
my $dlp = start_dlpgate(conf => { resubmit_port => $sink->{port},
    shutdown_timeout => 1 });
my $etc = $dlp->{etc};

# a session in flight
my $first = "Subject: drained\r\n\r\n" . ("before the drain\r\n" x 100);
my $a = in_data($dlp->{port}, 'in flight', $first);

# drain, in the background: it returns when master has exited
my $mark = $dlp->log_size;
my $out = "$dlp->{dir}/drain.out";
my $drain = spawn($out, "$FindBin::Bin/../master/dlpgate", '-c', $etc, 'drain');
ok($dlp->wait_log(qr/5011 master draining \(workers=1\)/, 20, $mark), 'master is draining');
ok(wait_until(sub { !smtp_connect($dlp->{port}, no_banner => 1) }, 10),
    'new connections are refused');
my %st = status_counters((dlpgate($etc, 'status'))[1]);
is($st{state}, 'draining', 'status says draining');
like((dlpgate($etc, 'status', '--prometheus'))[1], qr/^dlpgate_draining 1$/m, 'and so do the metrics');

# well past shutdown_timeout (1s): a drain has no deadline
ok(!wait_until(sub { waitpid($drain, POSIX::WNOHANG()) == $drain }, 3),
    'the drain waits for the session in flight (3s, past shutdown_timeout)');
ok(alive($dlp->{pid}), 'master still runs');

my $second = "after the drain\r\n" x 100;
$a->send_raw($second . ".\r\n");
my ($code) = $a->read_reply(30);
is($code, 250, 'the message in flight is accepted');
my @m = grep { $_->{body} =~ /^Subject: drained$/m } $sink->wait_messages(1);
(my $want = $first . $second) =~ s/\r\n/\n/g;
ok(@m && substr($m[0]{body}, -length $want) eq $want, 'and arrives whole');
is(($a->cmd('QUIT'))[0], 221, 'QUIT');

ok(wait_until(sub { waitpid($dlp->{pid}, POSIX::WNOHANG()) == $dlp->{pid} }, 30),
    'master exits once the session ended');
delete $dlp->{pid};
ok(wait_until(sub { waitpid($drain, POSIX::WNOHANG()) == $drain }, 10), 'dlpgate drain returns');
is($? >> 8, 0, 'with exit status 0');
like(slurp($out), qr/draining .*\n.*drained and stopped/s, 'and says what it did');
like($dlp->log, qr/5008 master stopped/, 'master logged its stop');
unlike($dlp->log, qr/ 5009 /, 'no child was killed');
is((dlpgate($etc, 'status'))[0], 3, 'status: 3, not running');
($code, $out) = dlpgate($etc, 'drain');
is($code, 0, 'drain when not running: 0');

done_testing;
