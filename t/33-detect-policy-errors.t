#!/usr/bin/perl
# A policy file with an error is refused with file, line and reason, both
# by `dlpscan -t` (what `dlpgate check` runs) and by a running gateway at
# reload, which keeps enforcing the last good policies and says so. A
# good file at the next reload takes over.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpDetect;

my $dir = test_dir();
mkdir "$dir/etc";
spit("$dir/etc/dlpgate.conf", "incident_log = \"\";\n");

# check - dlpscan -t on a policy text: (exit status, message)
sub check {
    my ($text, %files) = @_;
    write_policies("$dir/etc", $text, \%files);
    my ($rc, $out) = dlpscan('-c', "$dir/etc", '-t');
    $out =~ s/^.*warning:.*\n//mg;
    chomp $out;
    return ($rc, $out);
}

my $head = "policies = (\n  { name = \"p\";\n";    # lines 1-2
my @bad = (
    ['syntax error', "policies = (\n  { name = \"p\";\n    rules = ( { type = \"keyword\" keywords } ); }\n);\n", 3, qr/syntax error/],
    ['unknown setting', $head . "    colour = \"red\";\n    rules = ( { type = \"keyword\"; keywords = [\"a\"]; } ); }\n);\n",
        3, qr/unknown setting "colour"/],
    ['missing keyword file', $head . "    rules = (\n      { type = \"keyword\";\n        keyword_file = \"nope.txt\"; } ); }\n);\n",
        5, qr{keyword_file ".*/etc/nope\.txt": No such file or directory}],
    ['invalid regex', $head . "    rules = ( { type = \"regex\";\n      patterns = [\"ok\", \"(unclosed\"]; } ); }\n);\n",
        4, qr/invalid regular expression "\(unclosed": Missing close parenthesis/],
    ['regex matching nothing', $head . "    rules = ( { type = \"regex\"; patterns = [\"x*\"]; } ); }\n);\n",
        3, qr/matches the empty string/],
    ['reply with a line break', $head . "    rules = ( { type = \"keyword\"; keywords = [\"a\"]; } );\n"
        . "    action = \"block\";\n    reply = \"550 5.7.1 no\\r\\nRCPT TO:<x\@y>\"; }\n);\n",
        5, qr/reply: holds a control character/],
    ['reply that is not a 5xx', $head . "    rules = ( { type = \"keyword\"; keywords = [\"a\"]; } );\n"
        . "    action = \"block\"; reply = \"250 ok\"; }\n);\n", 4, qr/reply: bad reply "250 ok"/],
    ['redirect without addresses', $head . "    rules = ( { type = \"keyword\"; keywords = [\"a\"]; } );\n"
        . "    action = \"redirect\"; }\n);\n", 2, qr/needs redirect_to/],
    ['bad redirect address', $head . "    rules = ( { type = \"keyword\"; keywords = [\"a\"]; } );\n"
        . "    action = \"redirect\";\n    redirect_to = [\"not an address\"]; }\n);\n", 5, qr/not a mail address/],
    ['unknown identifier', $head . "    rules = (\n      { type = \"identifier\"; identifier = \"passport\"; } ); }\n);\n",
        4, qr/identifier: unknown "passport" \(policies\.conf\(5\) lists them/],
    ['context words refused by context = false', $head . "    rules = (\n      { type = \"identifier\"; identifier = \"nl_bsn\";\n"
        . "        context = false; near = [\"bsn\"]; } ); }\n);\n", 5, qr/context = false with near keywords/],
    ['lookalike_labels not a boolean', $head . "    rules = (\n      { type = \"identifier\"; identifier = \"ca_sin\";\n"
        . "        lookalike_labels = \"no\"; } ); }\n);\n", 5, qr/lookalike_labels: expected true or false/],
    ['duplicate policy', "policies = (\n  { name = \"p\"; rules = ( { type = \"size\"; min_size = 10; } ); },\n"
        . "  { name = \"p\"; rules = ( { type = \"size\"; min_size = 10; } ); }\n);\n", 3, qr/defined twice \(line 2\)/],
    ['bad header to add', $head . "    rules = ( { type = \"keyword\"; keywords = [\"a\"]; } );\n"
        . "    action = \"modify\";\n    add_headers = [\"no colon here\"]; }\n);\n", 5, qr/add_headers: "no colon here"/],
);
for my $b (@bad) {
    my ($rc, $out) = check($b->[1]);
    is($rc, 1, "$b->[0]: refused");
    like($out, qr{^dlpscan: \Q$dir\E/etc/policies\.conf:$b->[2]: }, "$b->[0]: file and line $b->[2]");
    like($out, $b->[3], "$b->[0]: reason");
}
my ($rc, $out) = check($head . "    rules = ( { type = \"keyword\"; keyword_file = \"words.txt\"; } ); }\n);\n",
    'words.txt' => "# comment\nalpha\n\nbeta gamma\n");
is($rc, 0, 'a good file with a keyword file passes the check');
like($out, qr/1 policies, 1 rules, 2 patterns/, 'the check says what it loaded');

# ---- a running gateway: a bad file at reload keeps the old policies ----
my $sink = start_sink();
my $good1 = "policies = ( { name = \"falcon\"; rules = ( { type = \"keyword\"; keyword_file = \"kw.txt\"; } );\n"
    . "  action = \"block\"; reply = \"550 5.7.1 falcon policy\"; } );\n";
my $dlp = start_detect(sink => $sink, policies => $good1, files => { 'kw.txt' => "falcon\n" });
like($dlp->wait_log(qr/3005 policies loaded/), qr/policies=1 rules=1 patterns=1/, 'policies loaded at start');

sub try {
    my ($word) = @_;
    my ($code, $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
        data => "Subject: x\n\nthe $word\n");
    return $code == 550 ? $text : $code;
}
is(try('falcon'), '550 5.7.1 falcon policy', 'the policy blocks');

# reload - SIGHUP, then wait until every detector is of the new generation
sub reload {
    my @old = $dlp->pids_of('detector');
    my $from = $dlp->log_size;
    $dlp->reload;
    ok(wait_until(sub { !grep { kill 0, $_ } @old }, 30), 'old detectors gone after reload');
    return $from;
}

# the keyword file vanishes and a regex is broken: refused, old policies run
unlink "$dlp->{etc}/kw.txt";
my $from = (sub {
    write_policies($dlp->{etc}, "policies = ( { name = \"hawk\";\n  rules = ( { type = \"regex\";\n"
        . "  patterns = [\"hawk(\"]; } ); action = \"block\"; } );\n");
    return reload();
})->();
like($dlp->wait_log(qr/3006 policy file refused/, 30, $from),
    qr{3006 policy file refused \(reason=".*/etc/policies\.conf:3: invalid regular expression "hawk\("},
    'bad file refused with file:line in the log');
like($dlp->wait_log(qr/3007 keeping the last good policies/, 30, $from), qr/policies=1/,
    'the log says the last good policies keep running');
is(try('falcon'), '550 5.7.1 falcon policy', 'the old policy still blocks (its keywords were kept)');
is(try('hawk'), 250, 'the refused policy does not run');

# the keyword file alone is missing: same
write_policies($dlp->{etc}, $good1);
$from = reload();
like($dlp->wait_log(qr/3006 policy file refused/, 30, $from), qr{policies\.conf:1: keyword_file ".*kw\.txt": No such file},
    'missing keyword file refused with file:line');
is(try('falcon'), '550 5.7.1 falcon policy', 'old policies still enforced');

# a good file takes over
write_policies($dlp->{etc}, "policies = ( { name = \"hawk\"; rules = ( { type = \"keyword\"; keywords = [\"hawk\"]; } );\n"
    . "  action = \"block\"; reply = \"550 5.7.1 hawk policy\"; } );\n");
$from = reload();
ok($dlp->wait_log(qr/3005 policies loaded/, 30, $from), 'good file loaded at reload');
is(try('hawk'), '550 5.7.1 hawk policy', 'new policy enforced');
is(try('falcon'), 250, 'old policy gone');
ok($dlp->stop, 'dlpgate stops');
done_testing;
