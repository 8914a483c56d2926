#!/usr/bin/perl
# dlpgate check validates dlpgate.conf, master.conf and policies.conf
# without starting anything, naming the file, the line and the fix; the
# dlpgate command's exit codes follow the LSB.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpOps;

my $dir = test_dir();
my $port = free_port();
my $etc = ops_conf_dir($dir, port => $port);
my $good_conf = slurp("$etc/dlpgate.conf");
my $good_master = slurp("$etc/master.conf");

my ($rc, $out) = dlpgate($etc, 'check');
is($rc, 0, 'check: a valid configuration');
like($out, qr/configuration in \Q$etc\E is valid \(dlpgate\.conf, master\.conf, 2 services\)/, '... says so');
ok(port_free($port) && !-e "$dir/run/master.pid", 'check starts nothing');

# dlpgate.conf
spit("$etc/dlpgate.conf", $good_conf . "smtpd_timeuot = 30;\n");
($rc, $out) = dlpgate($etc, 'check');
is($rc, 1, 'an unknown setting: 1');
like($out, qr/dlpgate\.conf:2: smtpd_timeuot: unknown setting \(did you mean smtpd_timeout\?\)/,
    '... with file, line and the closest name');
spit("$etc/dlpgate.conf", $good_conf . "message_size_limit = 12;\n");
($rc, $out) = dlpgate($etc, 'check');
like($out, qr/dlpgate\.conf:2: message_size_limit: value 12 out of range 1024\.\.1073741824/, 'out of range');
spit("$etc/dlpgate.conf", $good_conf . "resubmit_port = \"ten\"\n");
($rc, $out) = dlpgate($etc, 'check');
like($out, qr/resubmit_port: "ten" is not an integer/, 'wrong type');
spit("$etc/dlpgate.conf", $good_conf . "resubmit_port = ;\n");
($rc, $out) = dlpgate($etc, 'check');
like($out, qr/dlpgate\.conf:2: syntax error/, 'a syntax error with its line');
spit("$etc/dlpgate.conf", $good_conf);

# master.conf
(my $bad = $good_master) =~ s/max_use = 100;/max_uses = 100;/;
spit("$etc/master.conf", $bad);
($rc, $out) = dlpgate($etc, 'check');
is($rc, 1, 'master.conf with an unknown field: 1');
like($out, qr/master\.conf:2: service smtpd: unknown field "max_uses"/, '... with line and service');
($bad = $good_master) =~ s/command = "detector"/command = "detektor"/;
spit("$etc/master.conf", $bad);
($rc, $out) = dlpgate($etc, 'check');
like($out, qr/service detector: .*detektor: No such file or directory/, 'a program that does not exist');
SKIP: {
    skip 'users are checked as root', 1 if $> != 0;
    ($bad = $good_master) =~ s/user = "dlpgate-detect"/user = "nobody-here"/;
    spit("$etc/master.conf", $bad);
    ($rc, $out) = dlpgate($etc, 'check');
    like($out, qr/service detector: user "nobody-here" does not exist \(run 'dlpgate setup'\)/,
        'a user that does not exist');
}
spit("$etc/master.conf", $good_master);

# policies.conf: the shipped one passes; one that does not parse, or whose
# policies the detector would refuse (dlpscan -t), does not
my $shipped = slurp(top_dir() . '/etc/policies.conf');
ok(defined $shipped && $shipped =~ /policies\s*=/, 'etc/policies.conf is shipped');
spit("$etc/policies.conf", $shipped // '');
($rc, $out) = dlpgate($etc, 'check');
is($rc, 0, 'the shipped policies.conf passes') or diag $out;
spit("$etc/policies.conf", "policies = ( { name = \"cards\" );\n");
($rc, $out) = dlpgate($etc, 'check');
is($rc, 1, 'a policies.conf that does not parse: 1');
like($out, qr/policies\.conf:1: syntax error/, '... with file and line');
spit("$etc/policies.conf", "policies = ( { name = \"ids\"; rules = ( { type = \"identifier\";\n"
    . "  identifier = \"no_such_identifier\"; } ); } );\n");
($rc, $out) = dlpgate($etc, 'check');
is($rc, 1, 'a policy the detector refuses: 1');
like($out, qr/policies\.conf:\d+: identifier: unknown "no_such_identifier"/, '... naming the file, the line and the value');
unlink "$etc/policies.conf";

# LSB exit codes of the command
($rc) = dlpgate($etc);
is($rc, 2, 'no command: 2');
($rc) = dlpgate($etc, 'bogus');
is($rc, 2, 'unknown command: 2');
($rc) = dlpgate($etc, 'status');
is($rc, 3, 'status when stopped: 3');
($rc) = dlpgate($etc, 'stop');
is($rc, 0, 'stop when stopped: 0');
($rc) = dlpgate($etc, 'reload');
is($rc, 3, 'reload when stopped: 3');
spit("$etc/dlpgate.conf", "run_directory = ;\n");
($rc) = dlpgate($etc, 'status');
is($rc, 4, 'status with an unreadable configuration: 4 (unknown)');
($rc) = dlpgate($etc, 'start');
is($rc, 1, 'start with an invalid configuration: 1');
ok(port_free($port), 'and nothing runs');

done_testing;
