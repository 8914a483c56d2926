#!/usr/bin/perl
# Reflecting mode: messages go back to the client's own address on
# resubmit_port (smtp-sink here) byte for byte, with only our header added.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;

my $sink = start_sink(args => ['-h', 'sink.test']);
my $dlp = start_dlpgate(conf => { resubmit_port => $sink->{port},
    helo_name => 'dlpgate.test' });

# the banner is the next hop's, relayed
my $c = smtp_connect($dlp->{port});
is($c->{banner_code}, 220, 'banner comes from the next hop');
like($c->{banner}, qr/^220 sink\.test/, 'banner text is the next hop\'s own');

# EHLO: the next hop's extensions, filtered to what we carry
my ($code, $ehlo) = $c->cmd('EHLO client.test');
is($code, 250, 'EHLO accepted');
like($ehlo, qr/^250-sink\.test/, 'EHLO greeting is the next hop\'s');
like($ehlo, qr/^250[- ]PIPELINING$/m, 'PIPELINING offered');
like($ehlo, qr/^250[- ]8BITMIME$/m, '8BITMIME offered');
like($ehlo, qr/^250[- ]DSN$/m, 'DSN offered');
like($ehlo, qr/^250[- ]ENHANCEDSTATUSCODES$/m, 'ENHANCEDSTATUSCODES offered');
like($ehlo, qr/^250[- ]SIZE 10240000$/m, 'SIZE is our limit');
unlike($ehlo, qr/^250[- ](AUTH|XCLIENT|CHUNKING|BINARYMIME|ETRN)/m,
    'AUTH, XCLIENT, CHUNKING, BINARYMIME, ETRN never offered');
like($ehlo, qr/\n250 [^\n]*\z/, 'last EHLO line has a space');

# a message with dot-stuffed lines and 8-bit text
my $body = "From: a\@example.com\r\nTo: b\@example.net\r\nSubject: test 1\r\n\r\n"
    . "line one\r\n..leading dot\r\n.\tdot tab\r\n...\r\n"
    . "8-bit: gr\xc3\xbc\xc3\x9fe \xe6\x97\xa5\xe6\x9c\xac\r\nlast line\r\n";
($code) = $c->send_message(from => 'a@example.com', rcpt => ['b@example.net'],
    mail_params => 'BODY=8BITMIME', data => $body);
is($code, 250, 'message accepted with the next hop\'s 250');
my @m = $sink->wait_messages(1);
is(scalar @m, 1, 'exactly one message at the sink');
(my $want = "X-Filter-Loop: Reflected\r\n$body") =~ s/\r\n/\n/g;
$want =~ s/^\.//mg;    # what the client meant: its lines un-stuffed
is($m[0]{body}, $want, 'content arrives byte-exact after the added header');
is($m[0]{helo}, 'dlpgate.test', 'our helo_name reaches the next hop');
like($m[0]{mail}, qr/^<a\@example\.com> BODY=8BITMIME$/, 'MAIL parameters relayed');

# DSN parameters survive
$sink->clear;
($code) = $c->send_message(from => 'dsn@example.com', mail_params => 'RET=HDRS ENVID=abc123',
    rcpt => ['c@example.net NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@example.net'],
    data => "Subject: dsn\r\n\r\nbody\r\n");
is($code, 250, 'message with DSN parameters accepted');
@m = $sink->wait_messages(1);
like($m[0]{mail}, qr/RET=HDRS ENVID=abc123/, 'RET and ENVID relayed');
like($m[0]{rcpt}[0], qr/NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c\@example\.net/,
    'NOTIFY and ORCPT relayed');

# 50 recipients in one pipelined write, DATA included
$sink->clear;
my @rcpts = map { "r$_\@example.net" } 1 .. 50;
$c->send_raw(join('', "MAIL FROM:<pipe\@example.com>\r\n",
    map({ "RCPT TO:<$_>\r\n" } @rcpts), "DATA\r\n"));
my @codes;
push @codes, ($c->read_reply)[0] for 1 .. 52;
is_deeply(\@codes, [250, (250) x 50, 354], '52 pipelined replies, in order');
$c->send_raw("Subject: fifty\r\n\r\nhello fifty\r\n.\r\n");
($code) = $c->read_reply;
is($code, 250, 'pipelined message accepted');
@m = $sink->wait_messages(1);
is(scalar @{$m[0]{rcpt}}, 50, 'all 50 recipients reach the next hop');
is($m[0]{rcpt}[49], '<r50@example.net>', 'in order');

# a pipelined RSET ends a transaction whose replies come after it: the
# next one's envelope (what the detector sees) is its own, not both
# (found by smtpd-proxy/fuzz/fuzz-session: rcpts=3 here, and a leak)
$sink->clear;
$c->send_raw("MAIL FROM:<old\@example.com>\r\nRCPT TO:<o1\@example.net>\r\n"
    . "RCPT TO:<o2\@example.net>\r\nRSET\r\nMAIL FROM:<new\@example.com>\r\n"
    . "RCPT TO:<n1\@example.net>\r\nDATA\r\n");
@codes = ();
push @codes, ($c->read_reply)[0] for 1 .. 7;
is_deeply(\@codes, [250, 250, 250, 250, 250, 250, 354], 'MAIL RCPT RCPT RSET MAIL RCPT DATA pipelined');
$c->send_raw("Subject: after rset\r\n\r\nhello\r\n.\r\n");
is(($c->read_reply)[0], 250, 'the message after the pipelined RSET is accepted');
like($dlp->wait_log(qr/1007 message complete .*from=<new\@example\.com>/),
    qr/from=<new\@example\.com> rcpts=1 /, 'its envelope is the new transaction alone');

# an envelope too big for the request record travels in its own memfd
$sink->clear;
my @many = map { sprintf "recipient-%05d\@a-rather-long-domain.example.net", $_ } 1 .. 1500;
$c->send_raw(join('', "MAIL FROM:<many\@example.com>\r\n",
    map({ "RCPT TO:<$_>\r\n" } @many), "DATA\r\n"));
my ($accepted, $over) = (0, 0);
for (1 .. 1501) {
    my ($rc) = $c->read_reply;
    $accepted++ if defined $rc && $rc == 250;
    $over++ if defined $rc && $rc == 452;
}
is($accepted, 1001, 'MAIL and 1000 recipients accepted');
is($over, 500, 'the 500 over smtpd_recipient_limit get 452');
is(($c->read_reply)[0], 354, 'DATA');
$c->send_raw("Subject: many\r\n\r\nmany\r\n.\r\n");
($code) = $c->read_reply;
is($code, 250, 'a message with a 50 KB envelope is scanned and accepted');
@m = $sink->wait_messages(1);
is(scalar @{$m[0]{rcpt}}, 1000, '... and reaches the next hop with its 1000 recipients');

# a 5 MB message
$sink->clear;
my $line = ('x' x 70) . "\r\n";
my $big = "Subject: big\r\n\r\n" . ($line x int(5 * 1024 * 1024 / length $line));
($code) = $c->send_message(data => $big, timeout => 60);
is($code, 250, '5 MB message accepted');
@m = $sink->wait_messages(1, 60);
(my $bigwant = "X-Filter-Loop: Reflected\r\n$big") =~ s/\r\n/\n/g;
ok($m[0]{body} eq $bigwant, '5 MB message arrives byte-exact');

# RSET and NOOP are relayed; QUIT is answered 221 (and said to the next hop)
is(($c->cmd('RSET'))[0], 250, 'RSET');
is(($c->cmd('NOOP'))[0], 250, 'NOOP');
($code, my $text) = $c->cmd('QUIT');
is($code, 221, 'QUIT answered 221');
ok($c->closed, 'connection closed after QUIT');

# the log says what happened, with the connection id
like($dlp->log, qr/1007 message complete \(cid=[0-9A-F]{12} client=127\.0\.0\.1 from=<a\@example\.com> rcpts=1 size=\d+ tls_in=none tls_out=none verdict=pass/,
    'message complete logged with cid, sender, verdict');

ok($dlp->stop, 'dlpgate stops cleanly');
done_testing;
