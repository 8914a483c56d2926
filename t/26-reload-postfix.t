#!/usr/bin/perl
# Reloads during a burst from a real Postfix lose and double nothing.
#
# t/51 shows one raw session surviving a reload. Here Postfix is the
# client, with its parallel deliveries and cached connections that carry
# many messages each: smtp-source submits 100 messages over 10 sessions,
# Postfix hands them to dlpgate, which passes them to smtp-sink. The sink
# waits a second before its 354 (-w 1), so every message spends a second
# inside dlpgate and sessions are in flight when, at 20, 50 and 80
# messages delivered, the configuration is changed (default_pass_header
# X-Gen: 1, 2, 3, 4) and reloaded. Every message is delivered exactly once
# with exactly one X-Gen header; Postfix defers nothing; no child dies;
# the old generations' workers all exit once their sessions end.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpOps;
use DlpPostfix;

my $N = 100;
my $sink = start_sink(args => ['-w', 1]);
my $dlp_port = free_port();
# dlpgate passes mail straight to the sink: Postfix never relays (relayhost unused)
my $pf = DlpPostfix->start(relay => 9, content_filter => $dlp_port);
my %conf = (resubmit_port => $sink->{port}, default_pass_header => 'X-Gen: 1');
my $dlp = start_dlpgate(port => $dlp_port, conf => \%conf);

my $src = spawn("$dlp->{dir}/smtp-source.out", 'timeout', '120', 'smtp-source',
    '-s', 10, '-m', $N, '-N', '-f', 'sender@example.com', '-t', 'b@example.net',
    '-S', 'reload', "127.0.0.1:$pf->{smtp_port}");

my (@at, $queued_at_first_reload);
for my $gen (2 .. 4) {
    my $at = 30 * ($gen - 1) - 10;
    ok(wait_until(sub { $sink->messages >= $at }, 120), "$at messages delivered");
    push @at, scalar(my @x = $sink->messages);
    $queued_at_first_reload //= $pf->queue_count;
    my $mark = $dlp->log_size;
    spit("$dlp->{etc}/dlpgate.conf", conf_text({ %conf, run_directory => $dlp->{run},
        default_pass_header => "X-Gen: $gen" }));
    $dlp->reload;
    ok($dlp->wait_log(qr/5003 master reloaded configuration \(generation=$gen /, 30, $mark),
        "reloaded: generation $gen");
}
ok($at[0] < $N, "the first reload came with $at[0] of $N delivered: mid-burst");
cmp_ok($queued_at_first_reload, '>', 0, 'while Postfix still had mail queued for dlpgate');

ok(wait_until(sub { waitpid($src, POSIX::WNOHANG()) == $src }, 150), 'smtp-source is done');
is($? >> 8, 0, 'and succeeded') or diag slurp("$dlp->{dir}/smtp-source.out");
ok(wait_until(sub { $sink->messages >= $N && $pf->queue_count == 0 }, 180),
    'everything delivered, the queue is empty');
my @m = $sink->messages;
is(scalar @m, $N, "exactly $N messages");
my (%rcpt, %gen, @bad);
for my $m (@m) {
    $rcpt{(split / /, $_)[0]}++ for @{$m->{rcpt}};
    my @g = $m->{body} =~ /^X-Gen: (\d)$/mg;
    push @bad, $m->{file} unless @g == 1;
    $gen{$g[0] // 'none'}++;
}
is_deeply([sort keys %rcpt], [sort map { "<${_}b\@example.net>" } 1 .. $N],
    'every recipient once: none lost');
is_deeply([grep { $rcpt{$_} > 1 } keys %rcpt], [], 'none twice');
is_deeply(\@bad, [], 'each message has exactly one X-Gen header');
note('messages by generation: ' . join(', ', map { "$_: $gen{$_}" } sort keys %gen));
cmp_ok(scalar(grep { $_ ne 'none' } keys %gen), '>=', 2,
    'each reload took effect for the sessions after it: several generations delivered');
unlike($pf->log, qr/status=(deferred|bounced)/, 'Postfix deferred nothing');
unlike($dlp->log, qr/ 5004 | 5009 | 3002 /, 'no child died or was killed, no detector failure');

ok(wait_until(sub { my %s = status_counters((dlpgate($dlp->{etc}, 'status'))[1]);
    ($s{generation} // 0) == 4 && defined $s{'service:smtpd'} && $s{'service:smtpd'}[3] == 0
    && $s{'service:detector'}[3] == 0 }, 60),
    'the old generations\' children all exited (status: none retiring)');

# a new session gets the last generation's setting
my $c = smtp_connect($dlp_port);
$c->cmd('EHLO last.test');
is(($c->send_message(data => "Subject: last\r\n\r\nlast\r\n"))[0], 250, 'one more message');
$c->cmd('QUIT');
my ($last) = grep { $_->{body} =~ /^Subject: last$/m } $sink->wait_messages($N + 1);
like($last->{body} // '', qr/^X-Gen: 4$/m, 'with X-Gen: 4');

ok($dlp->stop, 'dlpgate stops cleanly');
$pf->stop;
done_testing;
