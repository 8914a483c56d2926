#!/usr/bin/perl
# The timeouts of a session that stalls where dlpgate.conf(5) says they
# apply: smtpd_data_timeout (a client that stops sending in the middle of
# its message), next_hop_data_timeout (a next hop that stops reading the
# message), tls_handshake_timeout (a client that says STARTTLS and then
# nothing). Each is a few seconds here and every other timeout minutes, so
# the one that ends the session is the one under test; the deadlines the
# test waits with are generous.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use POSIX ();
use DlpTest;
use DlpTLS;

# ---- smtpd_data_timeout: the client stops in the middle of its message ----
my $sink = start_sink();
my $dlp = start_dlpgate(conf => { resubmit_port => $sink->{port}, smtpd_data_timeout => '2s',
    smtpd_timeout => '300s' });
my $c = smtp_connect($dlp->{port});
$c->cmd('EHLO client.test');
is(($c->cmd('MAIL FROM:<a@example.com>'))[0], 250, 'MAIL');
is(($c->cmd('RCPT TO:<b@example.net>'))[0], 250, 'RCPT');
is(($c->cmd('DATA'))[0], 354, 'DATA');
$c->send_raw("Subject: stalled\r\n\r\nthe first half of the mess");
my ($code, $text) = $c->read_reply(60);
like($text // '', qr/^421 4\.4\.2 .*[Tt]imeout/, 'a client silent inside DATA gets 421 4.4.2 (smtpd_data_timeout)');
ok($c->closed(30), 'and the connection is closed');
like($dlp->wait_log(qr/1004 client timeout/, 30) // '', qr/cid=\w+ /, 'logged as a client timeout');
is(scalar($sink->messages), 0, 'nothing reached the next hop');
ok($dlp->stop, 'dlpgate stops');

# ---- next_hop_data_timeout: the next hop stops reading the message ------------
my $hport = free_port();
my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $hport, Listen => 4,
    ReuseAddr => 1) or die "listen: $!";
my $hop = fork // die;
if ($hop == 0) {
    while (my $h = $srv->accept) {
        $h->autoflush(1);
        print $h "220 stuck.test ESMTP\r\n";
        while (my $l = <$h>) {
            if ($l =~ /^EHLO/i) { print $h "250-stuck.test\r\n250 8BITMIME\r\n" }
            elsif ($l =~ /^DATA/i) { print $h "354 go on\r\n"; sleep 120; last }
            elsif ($l =~ /^QUIT/i) { print $h "221 bye\r\n"; last }
            else { print $h "250 ok\r\n" }
        }
        close $h;
    }
    POSIX::_exit(0);
}
close $srv;
reap_at_exit($hop);
$dlp = start_dlpgate(conf => { operating_mode => 'forward', next_hop => ["127.0.0.1:$hport"],
    next_hop_data_timeout => '2s', next_hop_data_done_timeout => '600s',
    message_size_limit => '64m', detector_failure => 'pass' });
$c = smtp_connect($dlp->{port});
$c->cmd('EHLO client.test');
$c->cmd('MAIL FROM:<a@example.com>');
$c->cmd('RCPT TO:<b@example.net>');
is(($c->cmd('DATA'))[0], 354, 'DATA to a next hop that will not read');
# more than the socket buffers of both ends can hold
$c->send_raw("Subject: big\r\n\r\n" . (("x" x 998) . "\r\n") x 24000 . ".\r\n");
($code, $text) = $c->read_reply(90);
like($text // '', qr/^4\d\d 4\.\d\.\d /, 'the client gets a 4xx: the message stays with it');
like($dlp->wait_log(qr/2005 next hop timeout/, 30) // '', qr/cid=\w+ /,
    'logged as a next-hop timeout (next_hop_data_timeout, not the 600s after the end)');
$c->close;
ok($dlp->stop, 'dlpgate stops');
kill 'TERM', $hop;

# ---- tls_handshake_timeout: STARTTLS, then nothing ---------------------------
$dlp = start_tls_dlpgate(conf => { resubmit_port => $sink->{port}, tls_handshake_timeout => '2s',
    smtpd_timeout => '300s', outbound_tls => 'none' });
$c = smtp_connect($dlp->{port});
like(($c->cmd('EHLO client.test'))[1], qr/STARTTLS/, 'STARTTLS offered');
is(($c->cmd('STARTTLS'))[0], 220, 'STARTTLS: 220');
ok($c->closed(60), 'a client that sends no ClientHello is disconnected (tls_handshake_timeout)');
like($dlp->wait_log(qr/4002 TLS handshake failed/, 30) // '', qr/side=client .*reason="[^"]*time/i,
    'logged as a TLS handshake that timed out');
ok($dlp->stop, 'dlpgate stops');
done_testing;
