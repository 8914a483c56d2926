#!/usr/bin/perl
# SMTP smuggling is impossible by construction: only <CR><LF>.<CR><LF>
# ends the content, a bare CR or LF anywhere refuses the message as a
# whole, so no other end-of-data spelling can reach the next hop and be
# read there as the end of one message and the start of another.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;

my $sink = start_sink();
my $dlp = start_dlpgate(conf => { resubmit_port => $sink->{port} });

my $smuggled = "MAIL FROM:<ceo\@example.com>\r\nRCPT TO:<victim\@example.net>\r\n"
    . "DATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n";
my %ends = (
    'LF . LF'     => "\n.\n",
    'LF . CRLF'   => "\n.\r\n",
    'CRLF . LF'   => "\r\n.\n",
    'CR . CR'     => "\r.\r",
    'CR . CRLF'   => "\r.\r\n",
    'CRLF . CR'   => "\r\n.\r",
    'LF . CR LF'  => "\n.\r\n",
);

for my $name (sort keys %ends) {
    $sink->clear;
    my $c = smtp_connect($dlp->{port});
    $c->cmd('EHLO client.test');
    my ($code, $text) = $c->send_message(from => 'alice@example.com',
        data => "Subject: innocent\r\n\r\nhello$ends{$name}$smuggled");
    is($code, 554, "$name: the message is refused");
    like($text, qr/^554 5\.6\.0 /, "$name: with 5.6.0");
    # one more message on the same session proves we stayed in sync
    ($code) = $c->send_message(from => 'bob@example.com',
        data => "Subject: after\r\n\r\nafter\r\n");
    is($code, 250, "$name: the next message is accepted");
    my @m = $sink->wait_messages(1);
    is(scalar @m, 1, "$name: exactly one message reached the next hop");
    unlike(join('', map { $_->{raw} } @m), qr/smuggled|ceo\@example/,
        "$name: nothing smuggled reached the next hop");
    $c->cmd('QUIT');
}

# a dot line inside proper content is content, dot-stuffed both ways
$sink->clear;
my $c = smtp_connect($dlp->{port});
$c->cmd('EHLO client.test');
my ($code) = $c->send_message(data => "Subject: dots\r\n\r\na\r\n..\r\n.b\r\n");
is($code, 250, 'a message with stuffed dot lines is accepted');
my @m = $sink->wait_messages(1);
like($m[0]{body}, qr/\na\n\.\nb\n\z/, 'its dot lines arrive as the client meant them');

# pipelined commands right after the end of data are commands, not content
$sink->clear;
$c->send_raw("MAIL FROM:<p\@example.com>\r\nRCPT TO:<q\@example.net>\r\nDATA\r\n");
is(($c->read_reply)[0], 250, 'pipelined MAIL');
is(($c->read_reply)[0], 250, 'pipelined RCPT');
is(($c->read_reply)[0], 354, 'pipelined DATA');
$c->send_raw("Subject: one\r\n\r\none\r\n.\r\nRSET\r\nNOOP\r\n");
is(($c->read_reply)[0], 250, 'end of data');
is(($c->read_reply)[0], 250, 'RSET after it is a command');
is(($c->read_reply)[0], 250, 'NOOP too');
@m = $sink->wait_messages(1);
is(scalar @m, 1, 'one message');
unlike($m[0]{body}, qr/RSET|NOOP/, 'the commands are not in the content');
$c->cmd('QUIT');
$dlp->stop;

# a header we add is a line like any other: ".X-Dot: yes" is stuffed, and
# arrives with its dot (found by smtpd-proxy/fuzz/fuzz-data)
$sink->clear;
$dlp = start_dlpgate(conf => { resubmit_port => $sink->{port},
    default_pass_header => '.X-Dot: yes' });
$c = smtp_connect($dlp->{port});
$c->cmd('EHLO client.test');
($code) = $c->send_message(data => "Subject: dot header\r\n\r\nbody\r\n");
is($code, 250, 'a message with a dotted default_pass_header is accepted');
@m = $sink->wait_messages(1);
like($m[0]{raw} // '', qr/^\.X-Dot: yes\r?$/m, 'the header arrives with its dot');
$c->cmd('QUIT');

done_testing;
