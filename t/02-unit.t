#!/usr/bin/perl
# The C unit tests of the pure functions (t/unit/unit_*.c, built by make
# unit with ASan and UBSan): each program's checks, as a subtest.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpUnit;

my $top = top_dir();
make_unit() or BAIL_OUT('the unit tests do not build');
my @src = sort glob("$top/t/unit/unit_*.c");
ok(scalar(@src), 'there are unit tests');
for my $src (@src) {
    my ($name) = $src =~ m{/unit_(\w+)\.c$};
    ok(-x "$top/t/unit/unit-$name", "unit-$name is built (listed in t/unit/build.mk)")
        or next;
    tap_program("unit-$name", "$top/t/unit/unit-$name");
}
done_testing;
