#!/usr/bin/perl
# The project's C code has no cppcheck warnings (README, "How the code reads").

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;

my $top = top_dir();
my ($rc, $out) = run_cmd('cppcheck', '--quiet', '--enable=warning,portability,performance',
    '--std=c11', '-D_GNU_SOURCE', '--inline-suppr', "-I$top/common",
    '--include=/usr/include/bsd/sys/queue.h', '--suppress=missingIncludeSystem',
    '--error-exitcode=1', '-j2', map { "$top/$_" } qw(common master smtpd-proxy detector tlsmgr));
is($rc, 0, 'cppcheck exits 0');
is($out, '', 'and has nothing to say') or diag $out;
done_testing;
