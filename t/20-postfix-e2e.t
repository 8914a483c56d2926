#!/usr/bin/perl
# End to end with a real Postfix, the README's recipe: content_filter =
# smtp:[127.0.0.1]:<dlpgate>, a 10026-style reinjection listener that
# dlpgate reflects to, final delivery to smtp-sink. smtp-source submits 100
# messages over 10 parallel sessions to Postfix's smtp port; each one is
# delivered exactly once to the final sink (its own recipient, from -N, and
# its own Message-Id: no duplicate, none missing), carries dlpgate's
# X-Filter-Loop: Reflected header once, with its content whole, and
# Postfix's queue is empty at the end. Bounded: 100 messages, deadlines
# on everything.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpPostfix;

my $N = 100;
my $final = start_sink(args => ['-h', 'final.test']);
my $dlp_port = free_port();
my $pf = DlpPostfix->start(relay => $final->{port}, content_filter => $dlp_port);
my $dlp = start_dlpgate(port => $dlp_port, conf => {
    resubmit_port => $pf->{reinject_port}, helo_name => 'dlpgate.test' });

# 100 messages, 10 sessions, 2 KB of payload each; recipients 1b..100b
my ($rc, $out) = run_cmd('timeout', '120', 'smtp-source', '-s', 10, '-m', $N, '-N',
    '-l', 2048, '-f', 'sender@example.com', '-t', 'b@example.net', '-S', 'e2e',
    "127.0.0.1:$pf->{smtp_port}");
is($rc, 0, "smtp-source submitted $N messages to Postfix") or diag $out;

ok(wait_until(sub { $pf->queue_count == 0 && $final->messages >= $N }, 180),
    'Postfix delivered everything and its queue is empty')
    or diag sprintf("queue %d, final sink %d", $pf->queue_count, scalar(my @x = $final->messages));
is($pf->queue_count, 0, 'the queue is empty');
my @m = $final->messages;
is(scalar @m, $N, "the final sink has exactly $N messages");

# exactly once: each recipient and each Message-Id once
# smtp-source's payload (-l 2048): 25 lines of a digit and 77 X, one of 48 X
my $payload = join('', map { ($_ % 10) . ('X' x 77) . "\n" } 1 .. 25) . ('X' x 48) . "\n";
my (%rcpt, %mid, @bad);
for my $m (@m) {
    $rcpt{(split / /, $_)[0]}++ for @{$m->{rcpt}};
    my ($id) = $m->{body} =~ /^Message-Id: (\S+)$/mi;
    $mid{$id // 'none'}++;
    my $hdrs = () = $m->{body} =~ /^X-Filter-Loop: Reflected$/mg;
    my ($content) = $m->{body} =~ /^Subject: e2e\n\n(.*)\z/ms;
    push @bad, $m->{file} unless $hdrs == 1 && defined $content && $content eq $payload;
}
my @want = map { "<${_}b\@example.net>" } 1 .. $N;
is_deeply([sort keys %rcpt], [sort @want], 'every recipient 1b..100b arrived, no other');
is_deeply([grep { $rcpt{$_} != 1 } sort keys %rcpt], [], 'none twice');
is(scalar(keys %mid), $N, "$N distinct Message-Ids");
is_deeply([grep { $mid{$_} != 1 } sort keys %mid], [], 'no Message-Id twice');
is_deeply(\@bad, [], 'each carries X-Filter-Loop: Reflected once, its subject and its content');

# the path: Postfix -> dlpgate -> Postfix -> sink, every time, first try
my $log = $pf->log;
my $via_dlp = () = $log =~ /relay=127\.0\.0\.1\[127\.0\.0\.1\]:$dlp_port, .*status=sent/g;
my $to_sink = () = $log =~ /relay=127\.0\.0\.1\[127\.0\.0\.1\]:$final->{port}, .*status=sent/g;
is($via_dlp, $N, "Postfix handed $N messages to dlpgate (status=sent)");
is($to_sink, $N, "and delivered $N reinjected messages to the final sink");
unlike($log, qr/status=(deferred|bounced)/, 'nothing deferred or bounced');
my $passed = () = $dlp->log =~ /1007 message complete \(.* verdict=pass policies=\S+ hop=127\.0\.0\.1:$pf->{reinject_port} reply="250 /g;
is($passed, $N, "dlpgate logged $N messages passed with the next hop's 250");
unlike($dlp->log, qr/ 3002 | 5004 /, 'no detector failure, no child died');

ok($dlp->stop, 'dlpgate stops cleanly');
$pf->stop;
done_testing;
