#!/usr/bin/perl
# Our EHLO goes to the next hop as soon as the client has the greeting, so
# that its reply is there when the client's own EHLO comes (a round trip
# less per session). Whatever the client says first, every command still
# gets the reply that belongs to it: a NOOP or a QUIT before EHLO is not
# answered with the EHLO's reply, and a client that says EHLO after them
# gets a fresh EHLO reply.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpHop;

my $hop = start_hop(NOOP => "250 2.0.0 noop from the hop\r\n", QUIT => "221 2.0.0 hop bye\r\n");
my $dlp = start_dlpgate(conf => { operating_mode => 'forward',
    next_hop => ["127.0.0.1:$hop->{port}"] }, smtpd => { process_limit => 1 });

# the EHLO is out before the client says anything
my $c = smtp_connect($dlp->{port});
is($c->{banner_code}, 220, 'greeting relayed');
ok(wait_until(sub { $hop->got =~ /\AEHLO \S+\r\n\z/ }, 10),
    'our EHLO reached the next hop while the client was silent');
my ($code, $text) = $c->cmd('EHLO client.test');
is($code, 250, 'the client EHLO is answered');
like($text, qr/^250-PIPELINING$/m, 'with the extensions of the next hop');
is(() = $hop->got =~ /^EHLO /mg, 1, 'from that one EHLO: no second one went out');
($code) = $c->send_message(data => "Subject: early\r\n\r\nhello\r\n");
is($code, 250, 'a message goes through');
is(($c->cmd('QUIT'))[0], 221, 'QUIT');
$c->close;
ok($hop->wait_event(qr/closed/), 'the next hop saw the session end');

# a NOOP first: its own reply, not the EHLO's
$hop->clear;
$c = smtp_connect($dlp->{port});
ok(wait_until(sub { $hop->got =~ /^EHLO /m }, 10), 'EHLO out early again');
($code, $text) = $c->cmd('NOOP');
is($code, 250, 'NOOP before EHLO');
like($text, qr/noop from the hop/, 'answered with the reply to NOOP');
($code, $text) = $c->cmd('EHLO client.test');
is($code, 250, 'then EHLO');
like($text, qr/^250-PIPELINING$/m, 'answered with an EHLO reply');
is(join(',', $hop->got =~ /^(\w+)/mg), 'EHLO,NOOP,EHLO',
    'the hop heard EHLO, NOOP, and an EHLO for the client');
($code) = $c->send_message(data => "Subject: noop first\r\n\r\nhello\r\n");
is($code, 250, 'and a message goes through');
$c->cmd('QUIT');
$c->close;

# MAIL before EHLO is refused here; the EHLO after it is answered
$hop->clear;
$c = smtp_connect($dlp->{port});
is(($c->cmd('MAIL FROM:<a@example.com>'))[0], 503, 'MAIL before EHLO: 503');
($code, $text) = $c->cmd('EHLO client.test');
is($code, 250, 'EHLO after it');
like($text, qr/^250-PIPELINING$/m, 'with the extensions of the next hop');
$c->cmd('QUIT');
$c->close;

# QUIT first: the hop's goodbye, not its EHLO reply
$hop->clear;
$c = smtp_connect($dlp->{port});
ok(wait_until(sub { $hop->got =~ /^EHLO /m }, 10), 'EHLO out early');
($code, $text) = $c->cmd('QUIT');
is($code, 221, 'QUIT before EHLO: 221');
unlike($dlp->log, qr/2004 next hop protocol error/, 'and no protocol error');
$c->close;
$dlp->stop;

# a next hop that hangs up instead of answering our EHLO
my $gone = start_hop(EHLO => 'CLOSE');
$dlp = start_dlpgate(conf => { operating_mode => 'forward',
    next_hop => ["127.0.0.1:$gone->{port}"] });
$c = smtp_connect($dlp->{port});
is($c->{banner_code}, 220, 'greeting relayed');
like(($c->cmd('EHLO client.test'))[1] // '', qr/^421 4\.4\.2 /,
    'its hang-up is the client EHLO\'s 421');
$dlp->stop;

done_testing;
