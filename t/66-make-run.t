#!/usr/bin/perl
# `make run` in a clean copy of the source tree: it builds, starts dlpgate
# with the shipped policies from etc/ (copied to a run directory, nothing
# under /etc read), prints a "try it" block, and the two swaks commands it
# prints do what it says: the first passes (250), the second is blocked by
# the card policy (550 5.7.1) and leaves an incident in the log it names.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX ();
use DlpTest;

plan skip_all => 'needs git and swaks' unless -x '/usr/bin/swaks' && -x '/usr/bin/git';
my $top = top_dir();
my $tree = test_dir('tree');
chmod 0755, $tree;
# a clean tree: the files git knows, nothing built
my ($rc, $out) = run_cmd('sh', '-c', "cd '$top' && git ls-files -z | xargs -0 tar -cf - | tar -xf - -C '$tree'");
is($rc, 0, 'a clean copy of the source tree') or diag $out;
ok(!-e "$tree/master/master", 'with nothing built');

my $port = free_port();
my $resubmit = free_port();
my $log = "$tree/make-run.log";
my $pid = spawn($log, 'make', '-C', $tree, '-s', 'run', "RUN_PORT=$port",
    "RUN_RESUBMIT=$resubmit", "RUN_DIR=$tree/run");
my $try = wait_until(sub { (slurp($log) // '') =~ /Stop with Ctrl-C/ && port_listened($port) }, 300);
ok($try, 'make run prints its "try it" block and listens') or diag slurp($log);
my $text = slurp($log) // '';
like($text, qr/dlpgate listens on 127\.0\.0\.1:$port with the policies of etc\/policies\.conf/, 'it says where it listens');
my @swaks;
while ($text =~ /^  (swaks .*?\\\n\s+.*?)\n/mg) { push @swaks, $1 =~ s/\\\n\s+/ /r }
is(scalar @swaks, 2, 'two swaks commands to try');
my ($incidents) = $text =~ /^Incidents \(one JSON line each, matches masked\): (\S+)/m;
ok($incidents, 'and where the incident log is');

($rc, $out) = run_cmd('sh', '-c', "$swaks[0] 2>&1");
like($out, qr/^<-\s+250 /m, 'the first passes: 250') or diag $out;
unlike($out, qr/^<\*\*\s+[45]\d\d /m, '... and nothing refused it');
($rc, $out) = run_cmd('sh', '-c', "$swaks[1] 2>&1");
like($out, qr/^<\*\*\s+550 5\.7\.1 .*payment-cards/m, 'the second is blocked by the card policy: 550 5.7.1') or diag $out;
ok(wait_until(sub { -s $incidents }, 20), 'an incident is logged where the block said');
my $inc = slurp($incidents) // '';
like($inc, qr/"name":"payment-cards"/, 'naming the policy');
unlike($inc, qr/4111 1111 1111 1111|4111111111111111/, 'with the card number masked');
ok(wait_until(sub { (slurp($log) // '') =~ /config=\Q$tree\E\/run\/etc / }, 20),
    'master read its configuration from the run directory') or diag slurp($log);
like(slurp("$tree/run/etc/policies.conf") // '', qr/payment-cards/, 'the run directory holds the shipped policies');

kill 'INT', -$pid;
ok(wait_until(sub { waitpid($pid, POSIX::WNOHANG()) == $pid }, 30), 'Ctrl-C stops it');
ok(wait_until(sub { port_free($port) && port_free($resubmit) }, 20), 'and everything it started');
done_testing;
