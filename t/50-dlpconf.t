#!/usr/bin/perl
# dlpconf: shows effective, default and file settings; -e and -X edit a
# commented dlpgate.conf in place so that only the edited line changes; bad
# names and values leave the file byte-identical; -M shows and edits the
# service table; dlpgate.conf(5) lists every parameter of the table.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpOps;

my $dir = test_dir();
my $etc = "$dir/etc";
mkdir $etc;
my $conf = "$etc/dlpgate.conf";

# a config with every kind of comment and a few libconfig corners
my $commented = <<'EOF';
# dlpgate.conf for the test: comments must survive every edit
/* a block comment
   over two lines, with "quotes" and a fake = setting; */
operating_mode = "reflect";   # trailing comment, with a "quote"
resubmit_port : 10026;        // separator ':' and a C++ comment
// allow_hosts = [ "10.0.0.0/8" ];   commented out: not a setting
allow_hosts = [ "127.0.0.0/8",
                "::1/128" ];  # a list over two lines
default_pass_header = "X-Filter-Loop: " "Reflected";  # two strings, one value
syslog_name = "dlp # not a comment";
smtpd_timeout = 300
message_size_limit = 10240000;

# the end
EOF
spit($conf, $commented);

# showing
my ($rc, $out) = dlpconf($etc);
is($rc, 0, 'dlpconf shows the effective settings');
like($out, qr/^smtpd_timeout = 300s$/m, 'a setting from the file');
like($out, qr/^shutdown_timeout = 30s$/m, 'a default for what the file does not set');
like($out, qr/^default_pass_header = X-Filter-Loop: Reflected$/m, 'adjacent strings are one value');
like($out, qr/^syslog_name = dlp # not a comment$/m, '# inside a string is no comment');
like($out, qr/^metrics_listen =$/m, 'an empty value');
my @all = $out =~ /^(\w+) =/mg;

($rc, $out) = dlpconf($etc, '-n');
is($rc, 0, 'dlpconf -n');
is_deeply([sort $out =~ /^(\w+) =/mg],
    [sort qw(operating_mode resubmit_port allow_hosts default_pass_header syslog_name
        smtpd_timeout message_size_limit)], '-n lists exactly what the file sets');

($rc, $out) = dlpconf($etc, '-d', 'smtpd_timeout', 'helo_name');
is($out, "helo_name =\nsmtpd_timeout = 300s\n", '-d shows defaults, in table order');
($rc, $out) = dlpconf($etc, '-h', 'allow_hosts', 'resubmit_port');
is($out, "10026\n127.0.0.0/8, ::1/128\n", '-h shows values only, in table order');
($rc, $out) = dlpconf($etc, '-d');
is_deeply([$out =~ /^(\w+) =/mg], \@all, '-d lists the same parameters as the effective view');

# -e: one line changes, comments and layout stay
my $before = "$dir/before.conf";
spit($before, $commented);
($rc, $out) = dlpconf($etc, '-e', 'resubmit_port=10027');
is($rc, 0, '-e resubmit_port=10027') or diag $out;
is_deeply([file_diff($before, $conf)],
    ['< resubmit_port : 10026;        // separator \':\' and a C++ comment',
     '> resubmit_port : 10027;        // separator \':\' and a C++ comment'],
    'only the edited line changed, its comment and separator kept');
is((dlpconf($etc, 'resubmit_port'))[1], "resubmit_port = 10027\n", 'the new value is effective');

spit($before, slurp($conf));
($rc, $out) = dlpconf($etc, '-e', 'smtpd_timeout=5m', 'operating_mode=forward',
    'next_hop=[192.0.2.25]:25, mx.example.com');
is($rc, 0, 'three edits at once') or diag $out;
is_deeply([sort(file_diff($before, $conf))], [sort
    '< operating_mode = "reflect";   # trailing comment, with a "quote"',
     '< smtpd_timeout = 300',
     '> operating_mode = "forward";   # trailing comment, with a "quote"',
     '> smtpd_timeout = "5m"',
     '> next_hop = [ "[192.0.2.25]:25", "mx.example.com" ];'],
    'two lines replaced (no terminator added), a new setting appended');
($rc, $out) = dlpconf($etc, 'smtpd_timeout', 'next_hop');
is($out, "next_hop = [192.0.2.25]:25, mx.example.com\nsmtpd_timeout = 300s\n",
    'time with a unit and a list read back');

spit($before, slurp($conf));
($rc, $out) = dlpconf($etc, '-e', 'allow_hosts=127.0.0.0/8,10.0.0.0/8',
    'default_pass_header=X-Scanned: "yes" \\o/', 'add_default_header=no');
is($rc, 0, 'a list over two lines, quotes and backslashes') or diag $out;
like(slurp($conf), qr/^allow_hosts = \[ "127\.0\.0\.0\/8", "10\.0\.0\.0\/8" \];  # a list over two lines$/m,
    'the two-line list became one line, its comment kept');
is((dlpconf($etc, 'default_pass_header'))[1], "default_pass_header = X-Scanned: \"yes\" \\o/\n",
    'quotes and backslashes escaped and read back');
is(scalar(() = file_diff($before, $conf)), 6, 'nothing else changed (3 lines out, 3 in)');

# errors: one line, exit 1, the file untouched
spit($before, slurp($conf));
for my $case (
    [['smtp_timeout=60'], qr/^dlpconf: unknown setting "smtp_timeout" \(did you mean "smtpd_timeout"\?\)\n\z/, 'unknown name with a suggestion'],
    [['smtpd_timeout=99999'], qr/^dlpconf: smtpd_timeout: value 99999 out of range 1\.\.3600\n\z/, 'out of range'],
    [['operating_mode=bounce'], qr/^dlpconf: operating_mode: "bounce" is not one of reflect\|forward\n\z/, 'bad choice'],
    [['resubmit_port=ten'], qr/^dlpconf: resubmit_port: "ten" is not an integer\n\z/, 'not a number'],
    [['allow_hosts=127.0.0.1/8'], qr/^dlpconf: allow_hosts: bad network "127\.0\.0\.1\/8"/, 'bad list item'],
    [['metrics_listen=0.0.0.0:9125'], qr/not a loopback address/, 'metrics_listen refuses a non-loopback address'],
    [['resubmit_port'], qr/^dlpconf: "resubmit_port": expected name=value\n\z/, 'no value'],
    [['resubmit_port=10028', 'smtpd_timeout=-1'], qr/smtpd_timeout/, 'a good and a bad edit: neither applied'],
) {
    my ($args, $re, $what) = @$case;
    ($rc, $out) = dlpconf($etc, '-e', @$args);
    is($rc, 1, "$what: exit 1");
    like($out, $re, "$what: one clear line");
    is(slurp($conf), slurp($before), "$what: file untouched");
}
($rc, $out) = dlpconf($etc, 'smtpd_timout');
like($out, qr/did you mean "smtpd_timeout"/, 'showing an unknown name suggests too');
is($rc, 1, '... with exit 1');
($rc, $out) = dlpconf($etc, '-e');
is($rc, 2, 'usage error: exit 2');
ok(!glob("$etc/.dlpgate.conf.*"), 'no temporary file left behind');

# -X removes a setting and its line, nothing else
spit($before, slurp($conf));
($rc, $out) = dlpconf($etc, '-X', 'syslog_name', 'message_size_limit');
is($rc, 0, '-X two settings');
is_deeply([file_diff($before, $conf)],
    ['< syslog_name = "dlp # not a comment";', '< message_size_limit = 10240000;'],
    'their lines are gone, nothing else changed');
is((dlpconf($etc, 'syslog_name'))[1], "syslog_name = dlpgate\n", 'a removed setting is back to its default');
like(slurp($conf), qr/\A# dlpgate\.conf for the test.*\n# the end\n/s, 'first and last comments intact');

# a config that libconfig refuses is not edited
spit("$etc/dlpgate.conf", "resubmit_port = 10026;\nbroken = ;\n");
($rc, $out) = dlpconf($etc, '-e', 'resubmit_port=10027');
is($rc, 1, 'a broken file: exit 1');
like($out, qr/dlpgate\.conf:2: /, '... naming the line');
is(slurp("$etc/dlpgate.conf"), "resubmit_port = 10026;\nbroken = ;\n", '... untouched');

# a missing file is created by -e
unlink $conf;
($rc, $out) = dlpconf($etc, '-e', 'resubmit_port=10029');
is($rc, 0, '-e without a file');
is(slurp($conf), "resubmit_port = 10029;\n", 'creates it with the setting');

# -M: the service table
my $mc = <<'EOF';
# the service table of the test
services = (
  # the workers
  { name = "smtpd"; type = "inet"; listen = ["127.0.0.1:10025"];
    command = "smtpd-proxy"; process_limit = 100; process_min_avail = 0;
    max_use = 100; max_idle = "100s"; user = "dlpgate"; },

  { name = "detector"; type = "unix"; listen = ["detector"];
    command = "detector";
    process_limit = 8;     # a comment after a field
    user = "dlpgate-detect";
  }
);
EOF
spit("$etc/master.conf", $mc);
($rc, $out) = dlpconf($etc, '-M');
is($rc, 0, '-M');
like($out, qr/^smtpd\s+inet\s+127\.0\.0\.1:10025\s+smtpd-proxy\s+100\s+0\s+100\s+100s\s+dlpgate\s+-$/m,
    'one line per service');
($rc, $out) = dlpconf($etc, '-M', 'detector');
like($out, qr/^detector\.process_limit = 8$/m, '-M service shows every field');
like($out, qr/^detector\.max_use = 100$/m, '... with defaults for missing fields');
is((dlpconf($etc, '-M', 'smtpd.listen'))[1], "smtpd.listen = 127.0.0.1:10025\n", '-M service.field');

spit($before, $mc);
($rc, $out) = dlpconf($etc, '-M', 'smtpd.process_limit=7', 'detector.process_limit=3',
    'detector.max_idle=1h', 'smtpd.options.log_level=debug');
is($rc, 0, '-M edits four fields') or diag $out;
is_deeply([sort(file_diff($before, "$etc/master.conf"))], [sort
    '<     command = "smtpd-proxy"; process_limit = 100; process_min_avail = 0;',
     '<     max_use = 100; max_idle = "100s"; user = "dlpgate"; },',
     '<     process_limit = 8;     # a comment after a field',
     '>     command = "smtpd-proxy"; process_limit = 7; process_min_avail = 0;',
     '>     max_use = 100; max_idle = "100s"; user = "dlpgate"; options = { log_level = "debug"; }; },',
     '>     process_limit = 3;     # a comment after a field',
     '>     max_idle = "1h";'],
    'values replaced in place, new fields added in the layout of their group');
is((dlpconf($etc, '-M', 'smtpd.options'))[1], "smtpd.options.log_level = debug\n",
    'the per-service setting reads back');
is((dlpconf($etc, '-M', 'detector.max_idle'))[1], "detector.max_idle = 3600s\n", 'and the time');

spit($before, slurp("$etc/master.conf"));
for my $case (
    [['smtpd.proces_limit=3'], qr/unknown service field "proces_limit" \(did you mean "process_limit"\?\)/],
    [['smtpd.process_limit=0'], qr/smtpd\.process_limit: value 0 out of range 1\.\.10000/],
    [['relay.max_use=3'], qr/no service "relay" in master\.conf \(services: smtpd, detector\)/],
    [['smtpd.options.log_levl=debug'], qr/did you mean "log_level"/],
    [['smtpd.process_min_avail=200'], qr/master\.conf:4: service smtpd: process_min_avail 200 is over process_limit 7/],
) {
    ($rc, $out) = dlpconf($etc, '-M', @{$case->[0]});
    is($rc, 1, "-M $case->[0][0]: exit 1");
    like($out, $case->[1], "-M $case->[0][0]: says why");
}
is(slurp("$etc/master.conf"), slurp($before), '-M errors leave master.conf untouched');

($rc, $out) = dlpconf($etc, '-MX', 'detector.max_idle', 'smtpd.options.log_level');
is($rc, 0, '-MX removes fields');
is_deeply([sort(file_diff($before, "$etc/master.conf"))], [sort
    '<     max_use = 100; max_idle = "100s"; user = "dlpgate"; options = { log_level = "debug"; }; },',
     '<     max_idle = "1h";',
     '>     max_use = 100; max_idle = "100s"; user = "dlpgate"; options = { }; },'],
    '... and only them');
($rc, $out) = run_cmd("$FindBin::Bin/../master/dlpgate", '-c', $etc, '-o',
    "run_directory=$dir/run", 'check');
is($rc, 0, 'the edited files pass dlpgate check') or diag $out;

# without master.conf, the first -M edit writes the built-in table
unlink "$etc/master.conf";
($rc, $out) = dlpconf($etc, '-M', 'smtpd.max_use=50');
is($rc, 0, '-M edit without master.conf');
like(slurp("$etc/master.conf"), qr/max_use = 50;.*name = "detector"/s, 'writes the built-in table, edited');

# dlpgate.conf(5): its parameter list, as man shows it to an administrator
my $man = slurp("$FindBin::Bin/../man/dlpgate.conf.5") // '';
like($man, qr/^\.B metrics_listen\n\(string; default: empty; read by master\)/m,
    'dlpgate.conf(5): type, default and role of a parameter');
($rc, $out) = run_cmd('sh', '-c', "MANWIDTH=300 man -l -P cat $FindBin::Bin/../man/dlpgate.conf.5");
like($out, qr/^ +shutdown_timeout\n +\(time, 0 to 3600 seconds; default: 30s; read by master\)\n +How long dlpgate stop lets sessions in flight/m,
    'rendered: a name, its line of facts, its description (`command` as bold text)');
like($out, qr/\(string; default: ECDHE\+AESGCM:ECDHE\+CHACHA20; read by smtpd-proxy\)/,
    'rendered: a long default with its break points invisible');
unlike($out, qr/\\[&:e]|\\f[BR]/, 'no roff escape shows through');

done_testing;
