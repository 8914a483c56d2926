#!/usr/bin/perl
# The client side of TLS: inbound_tls none|may|encrypt, STARTTLS with
# openssl s_client and a Perl client, the message byte-exact inside TLS,
# STARTTLS injection (a client that pipelines behind STARTTLS is dropped,
# or with smtpd_forbid_unauth_pipelining = no its pipelined plaintext is
# discarded, never answered inside TLS), state reset after STARTTLS, implicit TLS, and handshake
# failures logged with their real reason.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use DlpTest;
use DlpTLS;

# raw_hello - STARTTLS, then a ClientHello of this version offering these
# suites; (alert => description) or (suite => the one the server chose)
sub raw_hello {
    my ($port, $version, @suites) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 30)
        or return (error => "connect: $!");
    $s->timeout(30);
    my $reply = sub { my $l; do { $l = <$s> // return '' } while $l =~ /^\d{3}-/; $l };
    $reply->();
    print $s "EHLO raw.test\r\n";
    $reply->();
    print $s "STARTTLS\r\n";
    return (error => 'no 220 to STARTTLS') unless $reply->() =~ /^220/;
    my $ext = pack('n n n n', 0x000a, 4, 2, 0x0017)          # supported_groups: P-256
        . pack('n n C C', 0x000b, 2, 1, 0)                    # ec_point_formats
        . pack('n n n n n', 0x000d, 6, 4, 0x0401, 0x0403);    # signature_algorithms
    my $body = pack('n', $version) . pack('C32', map { int rand 256 } 1 .. 32) . "\0"
        . pack('n n*', 2 * @suites, @suites) . "\x01\x00" . pack('n', length $ext) . $ext;
    my $hs = "\x01" . substr(pack('N', length $body), 1) . $body;
    print $s "\x16\x03\x01" . pack('n', length $hs) . $hs;
    my $head = '';
    while (length($head) < 5) { sysread($s, $head, 5 - length($head), length $head) or last }
    return (error => 'no answer') if length($head) < 5;
    my ($type, $len) = unpack('C x2 n', $head);
    my $rec = '';
    while (length($rec) < $len) { sysread($s, $rec, $len - length($rec), length $rec) or last }
    return (alert => unpack('x C', $rec)) if $type == 21;
    return (suite => unpack('n', substr($rec, 39 + unpack('C', substr($rec, 38, 1)), 2)))
        if $type == 22 && unpack('C', $rec) == 2;
    return (error => "record type $type");
}

my $sink = start_sink(args => ['-h', 'sink.test']);
my $wport = free_port();
my $dlp = start_tls_dlpgate(wrapper_port => $wport, conf => {
    resubmit_port => $sink->{port}, helo_name => 'dlpgate.test',
    outbound_tls => 'none' });

like($dlp->log, qr/4003 keystore created .*subject="\/CN=dlpgate\.test"/,
    'first start: a keystore with a self-signed certificate for helo_name, logged');

# may (the default): STARTTLS offered, and only before TLS
my $c = tls_connect($dlp->{port});
my ($code, $ehlo) = $c->cmd('EHLO client.test');
like($ehlo, qr/^250[- ]STARTTLS$/m, 'inbound_tls=may: STARTTLS offered');
is(($c->cmd('STARTTLS extra'))[0], 501, 'STARTTLS with an argument: 501');
is(($c->cmd('MAIL FROM:<a@example.com>'))[0], 250, 'a transaction in plain text');
is(($c->cmd('STARTTLS'))[0], 503, 'STARTTLS inside a transaction: 503');
is(($c->cmd('RSET'))[0], 250, 'RSET');
($code) = $c->starttls;
is($code, 220, 'STARTTLS: 220, then a TLS handshake');
ok($c->{tls}, 'TLS handshake completed');
is(($c->cmd('MAIL FROM:<a@example.com>'))[0], 503, 'state reset: MAIL after STARTTLS needs EHLO again');
($code, $ehlo) = $c->cmd('EHLO client.test');
is($code, 250, 'EHLO inside TLS');
unlike($ehlo, qr/STARTTLS/, 'STARTTLS not offered inside TLS');
like($ehlo, qr/^250-sink\.test/m, 'EHLO reply still the next hop\'s');
is(($c->cmd('STARTTLS'))[0], 554, 'a second STARTTLS: 554 TLS already active');
my $body = "From: a\@example.com\r\nSubject: tls\r\n\r\nline one\r\n..dot\r\n"
    . "8-bit: gr\xc3\xbc\xc3\x9fe\r\nlast\r\n";
($code) = $c->send_message(from => 'a@example.com', rcpt => ['b@example.net'], data => $body);
is($code, 250, 'message accepted inside TLS');
my @m = $sink->wait_messages(1);
(my $want = "X-Filter-Loop: Reflected\r\n$body") =~ s/\r\n/\n/g;
$want =~ s/^\.//mg;
is($m[0]{body}, $want, 'message arrives byte-exact');
is(($c->cmd('QUIT'))[0], 221, 'QUIT inside TLS');
like($dlp->wait_log(qr/4001 TLS handshake completed .*side=client/),
    qr/peer=none unverified protocol=TLSv1\.3 cipher=TLS_AES_256_GCM_SHA384/,
    'handshake logged: peer, protocol, cipher');

# STARTTLS injection: a command pipelined behind STARTTLS never gets a
# reply. By default the client that did not wait is told so and dropped
# (smtpd_forbid_unauth_pipelining); with it off, what it pipelined is
# discarded before the handshake.
$c = tls_connect($dlp->{port});
$c->cmd('EHLO client.test');
$c->send_raw("STARTTLS\r\nMAIL FROM:<evil\@example.com>\r\nEHLO evil.test\r\n");
($code, my $sync) = $c->read_reply;
like($sync // '', qr/^554 5\.5\.0 /, 'injection: 554 5.5.0 instead of 220');
ok($c->closed, 'injection: and the session ends');
{
    my $lax = start_tls_dlpgate(conf => { resubmit_port => $sink->{port},
        smtpd_forbid_unauth_pipelining => 'false' });
    $c = tls_connect($lax->{port});
    $c->cmd('EHLO client.test');
    $c->send_raw("STARTTLS\r\nMAIL FROM:<evil\@example.com>\r\nEHLO evil.test\r\n");
    ($code) = $c->read_reply;
    $dlp->{lax} = $lax;
}
is($code, 220, 'injection: 220 to STARTTLS');
ok($c->handshake, 'injection: handshake completes');
# the first reply inside TLS must be to our NOOP, not to the injected lines
($code, my $text) = $c->cmd('NOOP');
is($code, 250, 'first reply inside TLS is to the command sent inside TLS');
is(($c->cmd('MAIL FROM:<a@example.com>'))[0], 503,
    'the injected EHLO was not executed: state is fresh, EHLO needed');
is(($c->cmd('QUIT'))[0], 221, 'no reply to an injected line was queued: QUIT gets 221');
like($dlp->{lax}->wait_log(qr/4011 plaintext after STARTTLS discarded/),
    qr/bytes=\d+/, 'discarded plaintext logged with its size');
ok($dlp->{lax}->stop, 'that dlpgate stops');

# the same with openssl s_client and an injected EHLO in one write
my ($rc, $out) = openssl_starttls($dlp->{port}, "NOOP\r\nQUIT\r\n");
like($out, qr/^250 /m, 's_client: NOOP answered inside TLS');

# handshake failures give the real reason. OpenSSL 3 will not offer TLS 1.1
# or RC4, 3DES and export suites at all, so these ClientHellos are written
# by hand: what dlpgate answers them is the test.
my %hello = raw_hello($dlp->{port}, 0x0302, 0xC013, 0xC014, 0x002F);
is($hello{alert}, 70, 'a TLS 1.1 ClientHello: alert 70, protocol_version');
like($dlp->wait_log(qr/4002 TLS handshake failed .*unsupported protocol/), qr/side=client/,
    'log says "unsupported protocol"');
%hello = raw_hello($dlp->{port}, 0x0303, 0xC02F);
is($hello{suite}, 0xC02F, 'a TLS 1.2 ClientHello offering ECDHE-RSA-AES128-GCM-SHA256: chosen');
for my $weak (['RC4-SHA', 0x0005], ['DES-CBC3-SHA', 0x000A], ['EXP-RC4-MD5', 0x0003],
    ['ADH-AES128-SHA (aNULL)', 0x0034], ['DHE-RSA-AES128-GCM-SHA256', 0x009E],
    ['AES128-SHA (static RSA)', 0x002F]) {
    %hello = raw_hello($dlp->{port}, 0x0303, $weak->[1]);
    is($hello{alert}, 40, "$weak->[0] alone: alert 40, handshake_failure")
        or diag explain \%hello;
}
like($dlp->wait_log(qr/4002 TLS handshake failed .*no shared cipher/), qr/side=client/,
    'log says "no shared cipher"');
($rc, $out) = openssl_starttls($dlp->{port}, "QUIT\r\n", '-tls1_2');
like($out, qr/Cipher is ECDHE-RSA-AES256-GCM-SHA384/, 'TLS 1.2 ECDHE works (ServerKeyExchange signed by tlsmgr)');

# implicit TLS: a service-table entry with tls_wrapper_mode
$c = tls_connect($wport, wrapper => 1);
ok($c && $c->{tls}, 'implicit TLS: handshake before the banner');
is($c->{banner_code}, 220, 'implicit TLS: banner inside TLS');
($code, $ehlo) = $c->cmd('EHLO client.test');
unlike($ehlo, qr/STARTTLS/, 'implicit TLS: no STARTTLS offered');
$sink->clear;
($code) = $c->send_message(data => "Subject: 465\r\n\r\nimplicit\r\n");
is($code, 250, 'implicit TLS: message accepted');
@m = $sink->wait_messages(1);
like($m[0]{body}, qr/^implicit$/m, 'implicit TLS: message arrives');
$c->cmd('QUIT');
ok($dlp->stop, 'dlpgate stops');

# none: no STARTTLS
$dlp = start_tls_dlpgate(conf => { resubmit_port => $sink->{port}, inbound_tls => 'none',
    outbound_tls => 'none' });
$c = tls_connect($dlp->{port});
($code, $ehlo) = $c->cmd('EHLO client.test');
unlike($ehlo, qr/STARTTLS/, 'inbound_tls=none: STARTTLS not offered');
is(($c->cmd('STARTTLS'))[0], 502, 'inbound_tls=none: STARTTLS is 502');
is(($c->cmd('MAIL FROM:<a@example.com>'))[0], 250, 'inbound_tls=none: mail in plain text');
$c->cmd('QUIT');
ok($dlp->stop, 'dlpgate stops');

# encrypt: MAIL before STARTTLS gets 530 5.7.0
$dlp = start_tls_dlpgate(conf => { resubmit_port => $sink->{port}, inbound_tls => 'encrypt',
    outbound_tls => 'none' });
$c = tls_connect($dlp->{port});
($code, $ehlo) = $c->cmd('EHLO client.test');
like($ehlo, qr/^250[- ]STARTTLS$/m, 'inbound_tls=encrypt: STARTTLS offered');
($code, $text) = $c->cmd('MAIL FROM:<a@example.com>');
is($code, 530, 'inbound_tls=encrypt: MAIL before STARTTLS is refused');
like($text, qr/^530 5\.7\.0 /, '... with 530 5.7.0');
is(($c->cmd('RCPT TO:<b@example.net>'))[0], 530, '... and RCPT too');
($code) = $c->starttls;
is($code, 220, 'inbound_tls=encrypt: STARTTLS');
$c->cmd('EHLO client.test');
$sink->clear;
($code) = $c->send_message(data => "Subject: enc\r\n\r\nencrypted\r\n");
is($code, 250, 'inbound_tls=encrypt: mail accepted after STARTTLS');
$c->cmd('QUIT');
ok($dlp->stop, 'dlpgate stops');

done_testing;
