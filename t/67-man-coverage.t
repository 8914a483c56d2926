#!/usr/bin/perl
# The man pages document everything the code accepts: every setting of the
# parameter table, every policy rule type, rule option and policy key the
# policy loader reads, every dlpkey command and option, every event code.
# The lists are read from the code itself, so a new setting, rule type,
# dlpkey verb or event without its documentation fails here.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;

my $top = top_dir();

# page - a man page's text as a reader sees the words (roff escapes undone)
sub page {
    my ($name) = @_;
    my $t = slurp("$top/man/$name") // die "no man/$name (make first)";
    $t =~ s/\\-/-/g;
    $t =~ s/\\\(dq/"/g;
    $t =~ s/\\f[BIRP]//g;
    $t =~ s/\\&//g;
    $t =~ s/\\e/\\/g;
    return $t;
}
sub has_word {
    my ($text, $word) = @_;
    return $text =~ /(?<![\w-])\Q$word\E(?![\w])/;
}

# ---- settings: the parameter table, as dlpconf -d lists it ----
my ($rc, $out) = run_cmd("$top/master/dlpconf", '-d');
my @settings = map { /^(\w+) =/ ? $1 : () } split /\n/, $out;
cmp_ok(scalar @settings, '>', 50, 'the parameter table lists the settings');
my $conf5 = page('dlpgate.conf.5');
my @missing = grep { $conf5 !~ /^\.B \Q$_\E$/m && !has_word($conf5, $_) } @settings;
is_deeply(\@missing, [], 'every setting is in dlpgate.conf(5)');

# ---- the policy language: every name the loader accepts ----
my $pol = slurp("$top/detector/detector_policy.c");
my %words;
while ($pol =~ /static const char \*const (\w+)\[\]\s*=\s*\{(.*?)\};/sg) {
    my ($array, $body) = ($1, $2);
    $words{$_} = $array for $body =~ /"([^"]+)"/g;
}
cmp_ok(scalar keys %words, '>', 30, 'the policy loader\'s names: rule types, rule options, policy keys, actions');
ok($words{keyword} && $words{notify_sender} && $words{min_count}, 'including keyword, notify_sender, min_count');
my $p5 = page('policies.conf.5');
@missing = sort grep { !has_word($p5, $_) } keys %words;
is_deeply(\@missing, [], 'every one of them is in policies.conf(5)');

# ---- dlpkey: the verb table and the option table ----
my $dk = slurp("$top/tlsmgr/dlpkey.c");
my ($verbs) = $dk =~ /dlpkey_verbs\[\]\s*=\s*\{(.*?)\n\};/s;
my @verbs = ($verbs // '') =~ /\{"(\w+)",\s*(?:"(\w+)"|NULL)/g;
@verbs = grep { defined } @verbs;
cmp_ok(scalar @verbs, '>=', 11, 'dlpkey\'s verb table');
my ($opts) = $dk =~ /dlpkey_options\[\]\s*=\s*\{(.*?)\n\};/s;
my @opts = ($opts // '') =~ /OPT\("(-[\w:]+)"/g;
cmp_ok(scalar @opts, '>=', 20, 'dlpkey\'s option table');
my $k1 = page('dlpkey.1');
@missing = grep { !has_word($k1, $_) && $k1 !~ /(?<![\w-])-\Q$_\E(?![\w-])/ } @verbs;
is_deeply(\@missing, [], 'every dlpkey command (and keytool spelling) is in dlpkey(1)');
@missing = grep { $k1 !~ /(?<![\w-])\Q$_\E(?![\w-])/ } @opts;
is_deeply(\@missing, [], 'every dlpkey option is in dlpkey(1)');

# ---- event codes: EVT_TABLE ----
my $evt = slurp("$top/common/evt.h");
my %codes = $evt =~ /X\(\w+,\s*(\d{4}),\s*"([^"]+)"\)/g;
cmp_ok(scalar keys %codes, '>', 60, 'the event table');
my $all = join "\n", map { page($_ =~ s{.*/}{}r) } glob("$top/man/*.[158]");
@missing = sort grep { $all !~ /\b$_\b/ } keys %codes;
is_deeply(\@missing, [], 'every event code is in a man page');
my $log5 = page('dlpgate.log.5');
@missing = sort grep { $log5 !~ /^\.B $_\n\Q$codes{$_}\E$/m } keys %codes;
is_deeply(\@missing, [], 'dlpgate.log(5) gives each code with its text');

# every command and daemon has its page, and make install installs it
for my $prog (qw(dlpgate dlpconf dlpkey dlpscan dlpindex master smtpd-proxy detector tlsmgr)) {
    my @pages = glob("$top/man/$prog.[18]");
    ok(@pages, "$prog has a man page");
}
# INSTALL names every file make install installs
my $dest = test_dir('install');
($rc, $out) = run_cmd('make', '-s', '-C', $top, 'install', "DESTDIR=$dest");
is($rc, 0, 'make install DESTDIR=...') or diag $out;
my @files = map { s{^\Q$dest\E}{}r } split /\n/, (run_cmd('find', $dest, '-type', 'f'))[1];
cmp_ok(scalar @files, '>', 20, 'it installs the programs, configuration, man pages, init script and unit');
my $install = slurp("$top/INSTALL");
@missing = grep { my $b = s{.*/}{}r; $install !~ /(?<![\w.-])\Q$b\E(?![\w-])/ } @files;
is_deeply(\@missing, [], 'INSTALL lists every one of them');
done_testing;
