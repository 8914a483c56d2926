#!/usr/bin/perl
# Privilege separation. As root: master runs as root, the workers as
# dlpgate, the detectors as dlpgate-detect (ps); dlpgate setup makes the
# keystore password file tlsmgr's alone, the worker's user cannot read it
# (nor a keystore with the same modes), and check and start refuse a
# secret file that another role could read, naming the path and the fix.
# A chrooted worker still relays. Started as another user, everything
# runs as that user and the log says privilege separation is off.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpOps;

plan skip_all => 'privilege separation needs root' if $> != 0;
for my $u (qw(dlpgate dlpgate-detect dlpgate-tls)) {
    plan skip_all => "user $u missing: run ./master/dlpgate setup" unless defined uid_of($u);
}

my $top = top_dir();
my $sink = start_sink();
my $dlp = start_dlpgate(conf => { resubmit_port => $sink->{port} },
    smtpd => { process_min_avail => 2 });
my $etc = $dlp->{etc};

# ps: each role under its user
# a child starts as root and drops privileges before it reports for work
my ($wu, $du) = (uid_of('dlpgate'), uid_of('dlpgate-detect'));
ok(wait_until(sub { my @w = $dlp->pids_of('smtpd-proxy'); my @d = $dlp->pids_of('detector');
    @w == 2 && @d >= 1 && !grep { (proc_uid($_) // -1) != $wu } @w
        and !grep { (proc_uid($_) // -1) != $du } @d }, 20),
    'two workers and a detector run, each started');
is(proc_uid($dlp->{pid}), 0, 'master runs as root');
my @w = $dlp->pids_of('smtpd-proxy');
is_deeply([map { proc_uid($_) } @w], [(uid_of('dlpgate')) x 2], 'workers run as dlpgate');
my @d = $dlp->pids_of('detector');
is_deeply([map { proc_uid($_) } @d], [(uid_of('dlpgate-detect')) x @d], 'detectors run as dlpgate-detect');
my (undef, $ps) = run_cmd('ps', '-o', 'user:20,args', '--ppid', $dlp->{pid});
like($ps, qr/^dlpgate\s+smtpd-proxy: smtpd\b/m, 'ps shows the worker as dlpgate (title: its service)');
like($ps, qr/^dlpgate-detect\s+detector: detector\b/m, 'ps shows the detector as dlpgate-detect');
my $status = slurp("/proc/$w[0]/status");
like($status, qr/^CapEff:\s+0+$/m, 'a worker has no capabilities left');

# setup: the keystore password file, tlsmgr's alone
my ($rc, $out) = dlpgate($etc, 'setup');
is($rc, 0, 'dlpgate setup') or diag $out;
# (keystore and keystore_password_file default to these, in the config directory)
my $pass = "$etc/keystore.pass";
like($out, qr/created the keystore password file \Q$pass\E \(mode 0600, owner dlpgate-tls\)/,
    'setup says it created the password file');
my @st = stat $pass;
is($st[2] & 07777, 0600, 'password file: mode 0600');
is($st[4], uid_of('dlpgate-tls'), 'password file: owner dlpgate-tls');
like(slurp($pass), qr/\A[0-9a-f]{64}\n\z/, 'a random password of 256 bits');
my $before = slurp($pass);
dlpgate($etc, 'setup');
is(slurp($pass), $before, 'setup again keeps the password');
is((stat "$dlp->{run}/private")[2] & 07777, 0750, 'run_directory/private: 0750');
is((stat "$dlp->{run}/private")[5], scalar getgrnam('dlpgate'), '... group dlpgate');

# a keystore-like file with the modes tlsmgr's keystore has
my $ks = "$etc/keystore.p12";
spit($ks, "not really PKCS#12\n");
chown uid_of('dlpgate-tls'), (getpwnam('dlpgate-tls'))[3], $ks;
chmod 0600, $ks;

my ($ok, $err) = as_user('dlpgate', sub { open(my $f, '<', $pass) });
ok(!$ok, 'the worker\'s user cannot read the password file');
like($err, qr/Permission denied/, '... permission denied');
($ok, $err) = as_user('dlpgate', sub { open(my $f, '<', $ks) });
ok(!$ok, 'the worker\'s user cannot read the keystore');
($ok) = as_user('dlpgate-detect', sub { open(my $f, '<', $ks) });
ok(!$ok, 'nor can the detector\'s');
($ok) = as_user('dlpgate-tls', sub { open(my $f, '<', $ks) && open(my $g, '<', $pass) });
ok($ok, 'tlsmgr\'s user can read both');

($rc, $out) = dlpgate($etc, 'check');
is($rc, 0, 'check passes with private secrets') or diag $out;

# secrets another role could read: check and start refuse, with the fix
chmod 0644, $pass;
($rc, $out) = dlpgate($etc, 'check');
is($rc, 1, 'check: a world-readable password file fails');
like($out, qr/^dlpgate: \Q$pass\E: mode 0644 lets every user read it; fix: chmod 600 \Q$pass\E$/m,
    '... naming the path and the fix');
my $port2 = free_port();
my $dir2 = test_dir();
my $etc2 = ops_conf_dir($dir2, port => $port2, conf => { resubmit_port => $sink->{port} });
system('cp', '-p', $pass, $ks, $etc2);
($rc, $out) = dlpgate($etc2, 'start');
is($rc, 1, 'start refuses it too');
like($out, qr/mode 0644 lets every user read it/, '... saying why');
ok(port_free($port2), '... and nothing listens');
chmod 0640, $pass;
($rc, $out) = dlpgate($etc, 'check');
like($out, qr/mode 0640 lets its group read it; fix: chmod 600/, 'group-readable fails too');
chmod 0600, $pass;
chown uid_of('dlpgate'), -1, $ks;
($rc, $out) = dlpgate($etc, 'check');
is($rc, 1, 'check: a keystore owned by the worker\'s user fails');
like($out, qr/\Q$ks\E: owned by dlpgate \(uid \d+\), but only dlpgate-tls \(tlsmgr\) may read it; fix: chown dlpgate-tls \Q$ks\E/,
    '... naming the owner and the fix');
chown uid_of('dlpgate-tls'), -1, $ks;
chmod 0777, $etc;
($rc, $out) = dlpgate($etc, 'check');
like($out, qr/its directory \Q$etc\E is writable by group or others.*fix: chmod go-w/,
    'a directory others can write to fails');
chmod 0755, $etc;
is((dlpgate($etc, 'check'))[0], 0, 'fixed: check passes again');

# master refuses at reload too, and keeps running
chmod 0644, $ks;
my $mark = $dlp->log_size;
$dlp->reload;
ok($dlp->wait_log(qr/6003 new configuration refused.*mode 0644 lets every user read it/, 20, $mark),
    'master refuses a reload with an unsafe keystore');
chmod 0600, $ks;
ok($dlp->stop, 'dlpgate stops');

# a chrooted worker (chroot = run_directory) relays and is jailed
my $cdir = test_dir();
$dlp = start_dlpgate(dir => $cdir, conf => { resubmit_port => $sink->{port} },
    smtpd => { chroot => "$cdir/run" });
my $c = smtp_connect($dlp->{port});
$c->cmd('EHLO chroot.test');
my ($code) = $c->send_message(data => "Subject: chrooted\r\n\r\nfrom a jailed worker\r\n");
is($code, 250, 'a chrooted worker relays a message (the detector socket is reachable)');
my ($jailed) = $dlp->pids_of('smtpd-proxy');
is(readlink("/proc/$jailed/root"), $dlp->{run}, 'the worker\'s root is run_directory');
$c->cmd('QUIT');
unlike($dlp->log, qr/3002 detector failure/, 'no detector failure');
ok($dlp->stop, 'dlpgate stops');

# as root, master binds port 25 itself; the worker serving it is unprivileged
SKIP: {
    skip '127.0.0.2:25 is in use', 4 unless port_free(25, '127.0.0.2');
    my $pdir = test_dir();
    my $m25 = DlpTest::default_master_conf(25, {}) =~ s/127\.0\.0\.1:25"/127.0.0.2:25"/r;
    $dlp = start_dlpgate(dir => $pdir, conf => { resubmit_port => $sink->{port} },
        master_conf => $m25);
    $c = smtp_connect(25, host => '127.0.0.2');
    is($c && $c->{banner_code}, 220, 'port 25 (127.0.0.2:25) answers, no redirect needed');
    $c->cmd('EHLO port25.test') if $c;
    ($code) = $c ? $c->send_message(data => "Subject: port 25\r\n\r\nbody\r\n") : (0);
    is($code, 250, 'and relays');
    my ($w25) = $dlp->pids_of('smtpd-proxy');
    is(proc_uid($w25 // 0), uid_of('dlpgate'), 'served by a worker running as dlpgate');
    $c->cmd('QUIT') if $c;
    ok($dlp->stop, 'dlpgate stops');
}

# started as another user: no privilege separation, and the log says so
# (the programs from a directory that user can reach, as an installed tree)
my $bin = programs_for_anyone(qw(master/master smtpd-proxy/smtpd-proxy detector/detector
    tlsmgr/tlsmgr));
my $dir3 = test_dir();
chown uid_of('dlpgate'), -1, $dir3;
my $port3 = free_port();
my $etc3 = ops_conf_dir($dir3, port => $port3, conf => { resubmit_port => $sink->{port},
    daemon_directory => $bin });
my $log3 = "$dir3/master.log";
my $pid3 = spawn($log3, 'setpriv', '--reuid=dlpgate', '--regid=dlpgate', '--clear-groups',
    "$bin/master", '-f', '-c', $etc3);
ok(wait_until(sub { (slurp($log3) // '') =~ /5007 privilege separation off/ }, 20),
    'as dlpgate: the log says privilege separation is off')
    or diag slurp($log3);
like(slurp($log3), qr/5007 privilege separation off \(reason="not started as root: every role runs as uid ${\ uid_of('dlpgate')}"\)/,
    '... with the uid');
$c = smtp_connect($port3);
$c->cmd('EHLO nopriv.test');
($code) = $c->send_message(data => "Subject: unprivileged\r\n\r\nbody\r\n");
is($code, 250, 'and it relays');
my @all = ($pid3, children_of($pid3));
my ($m3) = grep { (readlink("/proc/$_/exe") // '') eq "$bin/master" } @all;
my @roles = grep { $_ != ($m3 // 0) } map { children_of($_) } $m3 // ();
ok(@roles >= 2, 'a worker and a detector run');
is_deeply([sort { $a <=> $b } map { proc_uid($_) } $m3 // (), @roles],
    [(uid_of('dlpgate')) x (1 + @roles)], 'master and every role run as dlpgate');
is((stat "$dir3/run/private")[2] & 07777, 0700, 'the private directory is 0700');
$c->cmd('QUIT');
kill 'TERM', $m3 if $m3;
ok(wait_until(sub { !alive($m3) }, 20), 'it stops');

done_testing;
