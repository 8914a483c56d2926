package DlpUnit;

# DlpUnit - run programs that print TAP (the C unit tests, the fuzz seed
# replays) as subtests of a prove test
#
#   tap_program('unit-conf', "$top/t/unit/unit-conf");
#
# Each "ok N - name" / "not ok N - name" line of the program becomes a check
# of the subtest, its "#" lines notes; the program's plan must match what it
# printed and it must exit 0. What it wrote to standard error is shown when
# something failed (a sanitizer's report, say).

use strict;
use warnings;
use Exporter 'import';
use Test::More;
use File::Temp qw(tempfile);

our @EXPORT = qw(tap_program make_unit);

use DlpTest qw(top_dir run_cmd);

# make_unit - build the unit tests and the replays (make unit); 1 if it did.
# Tests that prove runs side by side (prove -j) build one at a time: two
# makes writing the same objects leave broken ones.
sub make_unit {
    my ($rc, $out) = run_cmd('flock', top_dir() . '/t/unit', 'make', '-s', '-C', top_dir(), 'unit');
    is($rc, 0, 'make unit builds the unit tests and the fuzz replays') or diag $out;
    return $rc == 0;
}

# tap_program - one program's TAP as a subtest named $name
sub tap_program {
    my ($name, @cmd) = @_;
    my ($efh, $errfile) = tempfile('dlpgate-tap.XXXXXX', TMPDIR => 1, UNLINK => 1);
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if ($pid == 0) {
        open(STDERR, '>&', $efh) or POSIX::_exit(126);
        chdir top_dir() or POSIX::_exit(126);
        exec @cmd or POSIX::_exit(127);
    }
    my @lines = <$fh>;
    close $fh;
    my $status = $?;
    return subtest $name => sub {
        my ($plan, $seen) = (undef, 0);
        for (@lines) {
            chomp;
            if (/^(not )?ok \d+(?: - (.*))?$/) {
                $seen++;
                ok(!$1, $2 // '');
            } elsif (/^1\.\.(\d+)/) {
                $plan = $1;
            } elsif (/^#\s?(.*)/) {
                diag($1);
            } elsif (length) {
                note($_);
            }
        }
        is($plan, $seen, "$name: the plan matches the checks made");
        is($status, 0, "$name: exits 0") or diag(slurp_err($errfile));
        done_testing;
    };
}

sub slurp_err {
    my ($path) = @_;
    open(my $fh, '<', $path) or return '';
    local $/;
    my $text = <$fh> // '';
    return length($text) > 20000 ? substr($text, 0, 20000) . "\n..." : $text;
}

1;
