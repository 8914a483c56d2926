#!/usr/bin/perl
# The LSB init script, run for real on a test configuration: status
# (stopped, 3), start (0), status (running, 0) with mail flowing, reload
# and force-reload (0, a new generation), restart (a new master), stop (0),
# status (stopped, 3), stop again (0), and a bad action (2). Then the
# dlpgate command's own LSB codes for a master that died without cleaning
# up (1), and the systemd unit's commands.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpOps;

my $top = top_dir();
my $init = "$top/etc/init.d/dlpgate";
my $dir = test_dir();
my $sink = start_sink();
my $port = free_port();
my $etc = ops_conf_dir($dir, port => $port,
    conf => { resubmit_port => $sink->{port} });

# the init script finds dlpgate and the config through its environment
$ENV{DLPGATE_DEFAULTS} = '/dev/null';
$ENV{DLPGATE} = "$top/master/dlpgate";
$ENV{DLPGATE_CONFDIR} = $etc;
sub init { return run_cmd($init, @_) }

# whatever happens, no master of ours outlives the test
END { run_cmd("$top/master/dlpgate", '-c', $etc, 'stop') if $etc; }

like(slurp($init), qr/^### BEGIN INIT INFO\n# Provides:\s+dlpgate\n.*# Default-Start:\s+2 3 4 5\n.*### END INIT INFO$/ms,
    'LSB header');

my ($rc, $out) = init('status');
is($rc, 3, 'status before start: 3 (not running)');
like($out, qr/not running/, '... and says so');

($rc, $out) = init('start');
is($rc, 0, 'start: 0') or diag $out;
($rc, $out) = init('status');
is($rc, 0, 'status: 0 (running)');
my %st = status_counters($out);
ok($st{pid} && kill(0, $st{pid}), "status names a live master (pid $st{pid})");
is($st{generation}, 1, 'generation 1');
my $c = smtp_connect($port);
is($c && $c->{banner_code}, 220, 'the service answers');
$c->cmd('EHLO init.test');
my ($code) = $c->send_message(data => "Subject: init\r\n\r\nstarted by the init script\r\n");
is($code, 250, 'and relays a message');
is(scalar($sink->wait_messages(1)), 1, 'which arrives');
$c->cmd('QUIT');

($rc, $out) = init('reload');
is($rc, 0, 'reload: 0') or diag $out;
sub generation { my %s = status_counters((dlpgate($etc, 'status'))[1]); return $s{generation} // 0 }
ok(wait_until(sub { generation() == 2 }, 20), 'master reloaded (generation 2)');
($rc, $out) = init('force-reload');
is($rc, 0, 'force-reload: 0');
ok(wait_until(sub { generation() == 3 }, 20), 'master reloaded again (generation 3)');

($rc, $out) = init('restart');
is($rc, 0, 'restart: 0') or diag $out;
my %st2 = status_counters((init('status'))[1]);
ok($st2{pid} && $st2{pid} != $st{pid} && !alive($st{pid}), 'restart: a new master, the old one gone');
is($st2{generation}, 1, 'the new master starts at generation 1');

($rc, $out) = init('stop');
is($rc, 0, 'stop: 0') or diag $out;
ok(!alive($st2{pid}), 'master is gone');
ok(port_free($port), 'the listen port is closed');
($rc, $out) = init('status');
is($rc, 3, 'status after stop: 3 (not running)');
($rc, $out) = init('stop');
is($rc, 0, 'stop when stopped: 0 (LSB)');
($rc, $out) = init('bogus');
is($rc, 2, 'an unknown action: 2');
like($out, qr/Usage: .*start\|stop\|restart\|reload\|force-reload\|status/, 'with the usage');

# a configuration error makes start fail with 1 and nothing runs
spit("$etc/dlpgate.conf", slurp("$etc/dlpgate.conf") . "smtpd_timout = 5;\n");
($rc, $out) = init('start');
is($rc, 1, 'start with a bad config: 1');
like($out, qr/smtpd_timout: unknown setting \(did you mean smtpd_timeout\?\)/, 'says why');
is((init('status'))[0], 4, 'and status cannot tell (4: unknown, the config is unreadable)');
ok(port_free($port), 'nothing listens');
ops_conf_dir($dir, port => $port, conf => { resubmit_port => $sink->{port} });

# a master killed without cleaning up leaves a pid file: LSB status 1
($rc, $out) = dlpgate($etc, 'start');
is($rc, 0, 'dlpgate start');
%st = status_counters((dlpgate($etc, 'status'))[1]);
my @kids = children_of($st{pid});
kill 'KILL', $st{pid};
ok(wait_until(sub { !alive($st{pid}) }, 10), 'master killed with SIGKILL');
kill 'TERM', @kids;
($rc, $out) = dlpgate($etc, 'status');
is($rc, 1, 'status with a stale pid file: 1');
like($out, qr/not running, but .*master\.pid exists/, 'and says so');
($rc, $out) = dlpgate($etc, 'start');
is($rc, 0, 'start over a stale pid file works') or diag $out;
is((dlpgate($etc, 'status'))[0], 0, 'running again');
is((dlpgate($etc, 'stop'))[0], 0, 'and stops');

# the systemd unit calls the same command
my $unit = slurp("$top/etc/dlpgate.service");
like($unit, qr/^Type=forking$/m, 'systemd: forking (dlpgate start returns once master runs)');
like($unit, qr/^PIDFile=\/run\/dlpgate\/master\.pid$/m, 'systemd: the pid file');
like($unit, qr/^ExecStart=\@SBINDIR\@\/dlpgate start$/m, 'systemd: ExecStart is dlpgate start');
like($unit, qr/^ExecReload=\@SBINDIR\@\/dlpgate reload$/m, 'systemd: ExecReload is dlpgate reload');
like($unit, qr/^ExecStop=\@SBINDIR\@\/dlpgate stop$/m, 'systemd: ExecStop is dlpgate stop');
SKIP: {
    my ($vrc, $vout) = run_cmd('sh', '-c', 'command -v systemd-analyze');
    skip 'no systemd-analyze', 1 if $vrc;
    (my $u = $unit) =~ s/\@SBINDIR\@/$top\/master/g;
    spit("$dir/dlpgate.service", $u);
    ($vrc, $vout) = run_cmd('systemd-analyze', '--man=no', 'verify', "$dir/dlpgate.service");
    my @bad = grep { !/sysinit\.target|Failed to create|not executable|Unit .* not found/ }
        grep { /\S/ } split /\n/, $vout;
    is_deeply(\@bad, [], 'systemd-analyze verify finds nothing wrong in the unit') or diag $vout;
}

done_testing;
