#!/usr/bin/perl
# Forwarding mode: the next_hop list is tried in order until one answers
# 220; with none reachable the client gets 421 4.4.1 and the log names
# every hop and why. Replies of the next hop come back with its own codes.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;

my $sink = start_sink(args => ['-h', 'sink.test']);
my $down = free_port();             # nobody listens here
my $dlp = start_dlpgate(conf => { operating_mode => 'forward',
    next_hop => ["127.0.0.1:$down", "[127.0.0.1]:$sink->{port}"] });

# the first hop is down: the second one takes the message
my $c = smtp_connect($dlp->{port});
is($c->{banner_code}, 220, 'banner from the second next hop');
is(($c->cmd('EHLO client.test'))[0], 250, 'EHLO');
my ($code) = $c->send_message(data => "Subject: fwd\r\n\r\nforwarded\r\n");
is($code, 250, 'message accepted by the reachable next hop');
my @m = $sink->wait_messages(1);
is(scalar @m, 1, 'message arrives at the second next hop');
like($m[0]{body}, qr/^X-Filter-Loop: Reflected\nSubject: fwd\n\nforwarded\n\z/,
    'content intact, our header first');
like($dlp->log, qr/2001 forward connection established \(cid=\w+ hop=127\.0\.0\.1:$sink->{port} mode=forward .*skipped="127\.0\.0\.1:$down: Connection refused"\)/,
    'log names the hop used and the one skipped');
$c->cmd('QUIT');
$dlp->stop;

# no next hop at all: 421 4.4.1, and the log says which and why
my $down2 = free_port();
$dlp = start_dlpgate(conf => { operating_mode => 'forward',
    next_hop => ["127.0.0.1:$down", "127.0.0.1:$down2"] });
$c = smtp_connect($dlp->{port});
is($c->{banner_code}, 421, 'no next hop reachable: 421');
like($c->{banner}, qr/^421 4\.4\.1 /, 'with enhanced code 4.4.1');
ok($c->closed, 'and the connection is closed');
my $line = $dlp->wait_log(qr/2003 no next hop reachable/);
like($line, qr/tried="127\.0\.0\.1:$down: Connection refused; 127\.0\.0\.1:$down2: Connection refused"/,
    'log names each hop and why');
$dlp->stop;

# the next hop refuses a recipient, or DATA, or the message: its own reply
my $picky = start_sink(args => ['-f', 'RCPT']);
$dlp = start_dlpgate(conf => { operating_mode => 'forward',
    next_hop => ["127.0.0.1:$picky->{port}"] });
$c = smtp_connect($dlp->{port});
$c->cmd('EHLO client.test');
is(($c->cmd('MAIL FROM:<a@example.com>'))[0], 250, 'MAIL accepted');
my ($rcode, $rtext) = $c->cmd('RCPT TO:<nobody@example.net>');
is($rcode, 500, 'refused RCPT comes back with the next hop\'s code');
is($rtext, '500 5.3.0 Error: command failed', 'and its text, verbatim');
($code, my $text) = $c->cmd('DATA');
is($code, 554, 'DATA with no accepted recipient refused by us');
like($text, qr/^554 5\.5\.1 /, 'with 5.5.1');
$c->cmd('QUIT');
$dlp->stop;

for my $case (['DATA', 550, qr/^550 5\.3\.0 /], ['.', 550, qr/^550 5\.3\.0 /]) {
    my ($cmd, $want, $re) = @$case;
    my $s = start_sink(args => ['-f', $cmd, '-B', '550 5.3.0 Error: refused by next hop']);
    $dlp = start_dlpgate(conf => { operating_mode => 'forward',
        next_hop => ["127.0.0.1:$s->{port}"] });
    $c = smtp_connect($dlp->{port});
    $c->cmd('EHLO client.test');
    my ($fcode, $ftext) = $c->send_message(data => "Subject: x\r\n\r\nx\r\n");
    is($fcode, $want, "next hop refusing '$cmd': the client gets its code");
    like($ftext, $re, 'and its enhanced code');
    is(($c->cmd('NOOP'))[0], 250, 'the session goes on');
    like($dlp->log, qr/1007 message complete .*reply="550 5\.3\.0 Error: refused by next hop"/,
        'log has the next hop\'s reply');
    $c->cmd('QUIT');
    $dlp->stop;
    $s->stop;
}

# a temporary refusal keeps its 4xx
my $soft = start_sink(args => ['-r', 'MAIL']);
$dlp = start_dlpgate(conf => { operating_mode => 'forward',
    next_hop => ["127.0.0.1:$soft->{port}"] });
$c = smtp_connect($dlp->{port});
$c->cmd('EHLO client.test');
($code, $text) = $c->cmd('MAIL FROM:<a@example.com>');
is($code, 450, 'soft refusal of MAIL: 450 relayed');
is(($c->cmd('RCPT TO:<b@example.net>'))[0], 503, 'RCPT after a refused MAIL: 503');
$c->cmd('QUIT');

done_testing;
