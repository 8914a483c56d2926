#!/usr/bin/perl
# Every C file reads as .clang-format writes it (README, "How the code reads"), so that
# a change is a change of meaning, never of layout.

use strict;
use warnings;
use File::Find;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;

my $top = top_dir();
ok(-x '/usr/bin/clang-format', 'clang-format is installed (make deps)');
my @files;
find({ no_chdir => 1, wanted => sub { push @files, $_ if /\.[ch]\z/ && -f $_ } },
    map { "$top/$_" } qw(common master smtpd-proxy detector tlsmgr t/unit));
cmp_ok(scalar @files, '>', 100, 'the C files are found (' . scalar(@files) . ')');
my @off;
for my $f (sort @files) {
    my ($rc, $out) = run_cmd('clang-format', "--style=file:$top/.clang-format", '--dry-run', '--Werror', $f);
    push @off, ($f =~ s/^\Q$top\E\///r) . ($out =~ /^(.*?:\d+:\d+)/ ? " (first at $1)" : '') if $rc != 0;
}
is(scalar @off, 0, 'every C file is laid out as clang-format -i would write it')
    or diag "run clang-format -i on:\n  " . join("\n  ", @off);
done_testing;
