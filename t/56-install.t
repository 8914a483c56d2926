#!/usr/bin/perl
# make install DESTDIR=...: commands in sbin, daemons in libexec/dlpgate,
# configuration that is never overwritten, every man page (readable with
# man), the init script and the systemd unit with the installed paths.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpOps;

my $top = top_dir();
my $dest = test_dir() . '/root';
my $prefix = '/usr/local';

# an administrator's dlpgate.conf is already there
my $mine = "# mine, keep it\nresubmit_port = 10099;\n";
system('mkdir', '-p', "$dest/etc/dlpgate");
spit("$dest/etc/dlpgate/dlpgate.conf", $mine);

my ($rc, $out) = run_cmd('make', '-s', '-C', $top, 'install', "DESTDIR=$dest");
is($rc, 0, 'make install DESTDIR=... succeeds') or diag $out;
like($out, qr/keeping \Q$dest\E\/etc\/dlpgate\/dlpgate\.conf/, 'it says it keeps the existing config');
like($out, qr/run 'dlpgate setup' as root on the target/, 'no setup with DESTDIR, and it says so');

for my $f (qw(sbin/dlpgate sbin/dlpconf sbin/dlpindex libexec/dlpgate/master
    libexec/dlpgate/smtpd-proxy libexec/dlpgate/detector)) {
    ok(-x "$dest$prefix/$f" && -f _, "$prefix/$f installed, executable");
}
is(slurp("$dest/etc/dlpgate/dlpgate.conf"), $mine, 'the existing dlpgate.conf is not overwritten');
is(slurp("$dest/etc/dlpgate/master.conf"), slurp("$top/etc/master.conf"), 'master.conf installed');
is((stat "$dest/etc/dlpgate/master.conf")[2] & 07777, 0644, 'master.conf: 0644');

my @pages = qw(man8/dlpgate.8 man1/dlpconf.1 man1/dlpkey.1 man1/dlpscan.1 man1/dlpindex.1
    man5/dlpgate.conf.5
    man5/master.conf.5 man5/policies.conf.5 man8/master.8 man8/smtpd-proxy.8 man8/detector.8
    man8/tlsmgr.8);
for my $p (@pages) {
    my $path = "$dest$prefix/share/man/$p";
    (my $name = $p) =~ s{.*/|\.\d$}{}g;
    ok(-f $path, "$p installed");
    my ($mrc, $text) = run_cmd('sh', '-c', "MANWIDTH=80 man -l '$path' 2>&1 | col -bx");
    like($text, qr/^NAME\n\s+\Q$name\E\s+-\s+\S/m, "man $name renders with a NAME section");
    my (undef, $warn) = run_cmd('groff', '-man', '-ww', '-z', $path);
    is($warn, '', "$p: no groff warnings");
}
($rc, $out) = run_cmd('sh', '-c', "MANPATH=$dest$prefix/share/man man -w dlpgate.conf master.conf dlpconf");
is($rc, 0, 'man finds the pages by name under MANPATH') or diag $out;
my (undef, $conf5) = run_cmd('sh', '-c', "MANWIDTH=100 man -l $dest$prefix/share/man/man5/dlpgate.conf.5 | col -bx");
like($conf5, qr/^\s+smtpd_timeout\n\s+\(time, 1 to 3600 seconds; default: 300s; read by smtpd-proxy\)/m,
    'dlpgate.conf(5) shows a parameter with its range and default');

my $init = slurp("$dest/etc/init.d/dlpgate");
ok(-x "$dest/etc/init.d/dlpgate", 'init script installed, executable');
like($init, qr/^: "\$\{DLPGATE:=\/usr\/local\/sbin\/dlpgate\}"$/m, 'init script: the installed dlpgate');
my $unit = slurp("$dest/lib/systemd/system/dlpgate.service");
like($unit, qr/^ExecStart=\/usr\/local\/sbin\/dlpgate start$/m, 'systemd unit: the installed dlpgate');
unlike($unit . $init, qr/\@SBINDIR\@/, 'no placeholder left');

# the installed dlpgate runs the installed daemons
($rc, $out) = run_cmd("$dest$prefix/sbin/dlpconf", '-c', "$dest/etc/dlpgate", '-n');
is($out, "resubmit_port = 10099\n", 'the installed dlpconf reads the installed config');
($rc, $out) = run_cmd("$dest$prefix/sbin/dlpconf", '-d', 'daemon_directory');
is($out, "daemon_directory = $prefix/libexec/dlpgate\n", 'daemon_directory points at libexec/dlpgate');

# a second install keeps everything in /etc
spit("$dest/etc/dlpgate/master.conf", "# edited\n" . slurp("$top/etc/master.conf"));
($rc, $out) = run_cmd('make', '-s', '-C', $top, 'install', "DESTDIR=$dest");
is($rc, 0, 'make install again');
like(slurp("$dest/etc/dlpgate/master.conf"), qr/\A# edited\n/, 'an edited master.conf is kept');

done_testing;
