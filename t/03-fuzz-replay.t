#!/usr/bin/perl
# Every fuzz seed and regression input, replayed once through its harness
# built by gcc with ASan and UBSan (replay-NAME, make unit): a seed that
# once found a bug keeps guarding it without clang or make fuzz.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpUnit;

my $top = top_dir();
make_unit() or BAIL_OUT('the fuzz replays do not build');
my ($rc, $out) = run_cmd('make', '-s', '-C', $top, 'replay-list');
is($rc, 0, 'make replay-list') or diag $out;
my %seeds = map { split ' ', $_, 2 } grep { /\S/ } split /\n/, $out;

# every harness of the tree is a make fuzz target, so it is replayed here
for my $src (sort glob("$top/*/fuzz/fuzz_*.c")) {
    my ($dir, $name) = $src =~ m{^\Q$top\E/(.*)/fuzz_(\w+)\.c$};
    ok(exists $seeds{"$dir/replay-$name"}, "$dir/fuzz_$name.c is in FUZZ_TARGETS");
}
for my $replay (sort keys %seeds) {
    my @files = grep { -f } glob("$top/$seeds{$replay}/*");
    ok(scalar(@files), "$replay has seeds in $seeds{$replay}") or next;
    tap_program($replay, "$top/$replay", $seeds{$replay});
}
done_testing;
