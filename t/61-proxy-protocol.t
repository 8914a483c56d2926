#!/usr/bin/perl
# The PROXY protocol on a listener with proxy_protocol = yes (set for that
# service alone in master.conf): v1 and v2 headers give the real client,
# which reflecting mode sends the message back to, allow_hosts checks and
# the log names; headers are parsed strictly and never over-read; a
# connection without a valid header, or from a peer outside
# proxy_protocol_hosts, is closed without a word; a LOCAL header (a
# health check) is answered by dlpgate itself; a listener without the
# setting treats a PROXY line as the junk it is.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use DlpTest;
use DlpHAProxy;

# the reflect port, free on the real client's address and on 127.0.0.1
my $R;
for (1 .. 100) {
    my $p = free_port();
    next unless port_free($p, '127.0.0.9');
    $R = $p;
    last;
}
my $sink = start_sink(host => '127.0.0.9', port => $R, args => ['-h', 'mta.test'],
    dir => test_dir('sink9'));
my $sink1 = start_sink(host => '127.0.0.1', port => $R, args => ['-h', 'local.test'],
    dir => test_dir('sink1'));

my %port = (pp => free_port(), plain => free_port(), strict => free_port());
# (pp lets a client talk before the greeting: the bytes that follow a
# header in the same write must survive the header's reading)
my %opts = (
    pp => 'proxy_protocol = "yes"; proxy_protocol_timeout = "2s"; '
        . 'smtpd_forbid_unauth_pipelining = false;',
    plain => '',
    strict => 'proxy_protocol = "yes"; proxy_protocol_hosts = "127.0.0.2/32";',
);
my $mc = "services = (\n";
for my $name (sort keys %port) {
    $mc .= "  { name = \"$name\"; type = \"inet\"; listen = [\"127.0.0.1:$port{$name}\"];\n"
        . "    command = \"smtpd-proxy\"; user = \"dlpgate\"; process_limit = 4;\n"
        . "    process_min_avail = 0; max_use = 100; max_idle = 100;\n"
        . "    options = { $opts{$name} }; },\n";
}
$mc .= "  { name = \"detector\"; type = \"unix\"; listen = [\"detector\"];\n"
    . "    command = \"detector\"; process_limit = 2; process_min_avail = 1;\n"
    . "    max_use = 1000; max_idle = 300; user = \"dlpgate-detect\"; }\n);\n";
my $dlp = start_dlpgate(master_conf => $mc, conf => { resubmit_port => $R,
    helo_name => 'dlpgate.test', allow_hosts => ['127.0.0.0/8', '2001:db8:1::/48'],
    log_level => 'debug', next_hop_connect_timeout => '5s' });

# pp - connect to a service, send bytes first, read the banner
sub pp {
    my ($data, %o) = @_;
    my $c = smtp_connect($port{$o{svc} // 'pp'}, no_banner => 1) or die "connect: $!";
    $c->send_raw($data) if length $data;
    return $c if $o{no_banner};
    my ($code, $text) = $c->read_reply($o{timeout} // 10);
    $c->{banner_code} = $code;
    $c->{banner} = $text;
    return $c;
}

# refused - the connection is closed with nothing said; the log says why
sub refused {
    my ($data, $why, $name) = @_;
    my $from = $dlp->log_size;
    my $c = pp($data, no_banner => 1);
    my $closed = $c->closed(10);
    ok($closed && $c->{buf} eq '', "$name: closed without a byte");
    like(substr($dlp->log, $from), qr/8101 PROXY header refused \(cid=\w+ peer=127\.0\.0\.1:\d+ reason="[^"]*$why/,
        "$name: logged ($why)");
}

# ---- v1: the real client is used for everything ----------------------------
my $c = pp(proxy_v1('127.0.0.9', '127.0.0.1', 4711, $port{pp}));
like($c->{banner}, qr/^220 mta\.test/, 'v1: the banner comes from the real client\'s resubmit port');
$c->cmd('EHLO mta.test');
my ($code) = $c->send_message(from => 'v1@example.com', data => "Subject: v1\r\n\r\nv1\r\n");
is($code, 250, 'v1: message accepted');
$c->cmd('QUIT');
my @m = $sink->wait_messages(1);
is(scalar @m, 1, 'v1: reflected to 127.0.0.9, the address in the header');
is(scalar(my @none = $sink1->messages), 0, 'nothing went back to the balancer\'s address');
like($dlp->log, qr/1001 connection accepted \(cid=\w+ client=127\.0\.0\.9:4711 via=127\.0\.0\.1:\d+ proxy=v1\)/,
    'v1: log names the real client and the balancer');
like($dlp->log, qr/1007 message complete \(cid=\w+ client=127\.0\.0\.9 from=<v1\@example\.com>/,
    'v1: the message log names the real client');
$sink->clear;

# ---- v2, TLVs and a CRC32C; header and command in one write -------------------
$c = pp(proxy_v2('127.0.0.9', '127.0.0.1', 4712, $port{pp},
    tlvs => [[0x05, 'unique-id-1'], [0x04, "\0\0\0"], [0xE0, 'x' x 300]], crc => 1)
    . "EHLO pipelined.test\r\n");
like($c->{banner}, qr/^220 mta\.test/, 'v2 with TLVs and a good CRC32C: accepted');
my ($ecode, $ehlo) = $c->read_reply;
is($ecode, 250, 'a command sent in the same write as the header is not eaten');
($code) = $c->send_message(from => 'v2@example.com', data => "Subject: v2\r\n\r\nv2\r\n");
is($code, 250, 'v2: message accepted');
$c->cmd('QUIT');
is(scalar(@m = $sink->wait_messages(1)), 1, 'v2: reflected to the real client');
like($dlp->log, qr/1001 connection accepted \(cid=\w+ client=127\.0\.0\.9:4712 via=127\.0\.0\.1:\d+ proxy=v2\)/,
    'v2: log names the real client');
$c = pp(proxy_v1('127.0.0.9', '127.0.0.1', 4713, $port{pp}) . "NOOP\r\n");
is($c->{banner_code}, 220, 'v1 header and a command in one write');
is(($c->read_reply)[0], 250, 'the command after a v1 header is intact');
$c->close;

# ---- allow_hosts judges the real client ----------------------------------------
$c = pp(proxy_v2('10.1.2.3', '127.0.0.1', 5000, $port{pp}));
like($c->{banner}, qr/^554 5\.7\.1 dlpgate\.test Error: access denied for 10\.1\.2\.3/,
    'a real client outside allow_hosts is denied by its own address');
like($dlp->log, qr/1002 connection denied by allow_hosts \(cid=\w+ client=10\.1\.2\.3:5000 via=127\.0\.0\.1:\d+ proxy=v2\)/,
    'and logged with it');
$c = pp(proxy_v2('2001:db8:2::1', '2001:db8::25', 5001, 25));
like($c->{banner}, qr/^554 5\.7\.1 .* for 2001:db8:2::1/, 'v2 over IPv6: the address is parsed');
$c = pp(proxy_v1('2001:db8:1::7', '2001:db8::25', 5002, 25));
unlike($c->{banner} // '', qr/^554/, 'v1 TCP6 inside allow_hosts is not denied');
like($dlp->log, qr/client=\[2001:db8:1::7\]:5002 via=127\.0\.0\.1:\d+ proxy=v1/, "v1 TCP6 parsed");
$c->close;

# ---- LOCAL: the balancer's health check, answered by dlpgate itself ------------------
$c = pp(proxy_v2(undef, undef, 0, 0, local => 1));
like($c->{banner}, qr/^220 dlpgate\.test ESMTP dlpgate/, 'LOCAL: dlpgate greets by itself');
is(($c->cmd('EHLO lb.test'))[0], 250, 'LOCAL: EHLO 250');
is(($c->cmd('MAIL FROM:<a@example.com>'))[0], 503, 'LOCAL: no mail');
is(($c->cmd('QUIT'))[0], 221, 'LOCAL: QUIT');
$c = pp("PROXY UNKNOWN\r\n");
like($c->{banner}, qr/^220 dlpgate\.test ESMTP/, 'v1 UNKNOWN is a health check too');
$c->close;
is(scalar(@none = $sink1->messages), 0, 'health checks never reach a next hop');

# ---- strict parsing: every malformed header is refused -------------------------------
refused("EHLO client.test\r\n", 'no PROXY header', 'plain SMTP');
refused("PROXY TCP4 127.0.0.9 127.0.0.1 4711 25", 'timeout', 'v1 without CRLF (timeout 2s)');
refused('', 'timeout', 'silence');
refused("PROXY TCP4 127.0.0.9 127.0.0.1 " . ('1' x 100) . "\r\n", 'longer than 107', 'v1 over 107 bytes');
refused("PROXY TCP4 127.0.0.9  127.0.0.1 4711 25\r\n", 'exactly 6 fields', 'v1 double space');
refused("PROXY TCP4 127.0.0.9 127.0.0.1 65536 25\r\n", 'bad TCP4 address or port', 'v1 port 65536');
refused("PROXY TCP4 127.0.0.9 127.0.0.1 4711 25 extra\r\n", 'exactly 6 fields', 'v1 extra field');
refused("PROXY TCP4 ::1 ::1 4711 25\r\n", 'bad TCP4 address', 'v1 TCP4 with IPv6 addresses');
refused("PROXY TCP5 127.0.0.9 127.0.0.1 4711 25\r\n", 'bad v1 protocol', 'v1 unknown protocol');
refused("PROXY TCP4 127.0.0.9 127.0.0.1 4711 25\n", 'CRLF', 'v1 bare LF');
refused(proxy_v2('127.0.0.9', '127.0.0.1', 1, 25, ver => 1), 'version 1', 'v2 version nibble 1');
refused(proxy_v2('127.0.0.9', '127.0.0.1', 1, 25, fam => 0x12), 'datagram', 'v2 over UDP');
refused(proxy_v2('127.0.0.9', '127.0.0.1', 1, 25, fam => 0x41), 'unknown v2 address family', 'v2 unknown family');
refused(proxy_v2('127.0.0.9', '127.0.0.1', 1, 25, len => 8) . "\0" x 8, 'too short', 'v2 block shorter than TCP4');
refused(proxy_v2('127.0.0.9', '127.0.0.1', 1, 25, len => 3000), 'limit 2048', 'v2 length over the bound');
refused(proxy_v2('127.0.0.9', '127.0.0.1', 1, 25, len => 14) . "\x05\x00", 'truncated TLV', 'v2 truncated TLV');
refused(proxy_v2('127.0.0.9', '127.0.0.1', 1, 25, tlvs => [[0x05, 'abc']], len => 17), 'TLV longer', 'v2 TLV overruns');
refused(proxy_v2('127.0.0.9', '127.0.0.1', 1, 25, bad_crc => 1), 'CRC32C mismatch', 'v2 bad CRC32C');
refused(proxy_v2('127.0.0.9', '127.0.0.1', 1, 25, tlvs => [map { [0x04, ''] } 1 .. 65]), 'more than 64 TLVs', 'v2 65 TLVs');
refused("\r\n\r\n\0\r\nQUIX\n" . "\x21\x11\x00\x0c" . "\0" x 12, 'bad v2 signature', 'v2 bad signature');
{
    # a balancer whose health check timed out while connecting closes
    # before its first byte: a lost connection, not a refused header
    my $from = $dlp->log_size;
    my $c = pp('', no_banner => 1);
    $c->close;
    ok(wait_until(sub { substr($dlp->log, $from) =~ /1005 client lost connection \(cid=\w+ client=127\.0\.0\.1:\d+ during="PROXY header"\)/ }, 10),
        'a peer gone before its first byte: 1005 client lost connection');
    unlike(substr($dlp->log, $from), qr/8101/, 'and no PROXY header refused');
}
my $t0 = time;
refused(substr(proxy_v2('127.0.0.9', '127.0.0.1', 1, 25), 0, 20), 'timeout', 'v2 cut short');
cmp_ok(time - $t0, '>=', 1.9, 'a stalled header is waited for proxy_protocol_timeout (2s)');
cmp_ok(time - $t0, '<', 2 + 20, 'and not much longer');

# ---- only proxy_protocol_hosts may send a header --------------------------------
$c = pp(proxy_v1('127.0.0.9', '127.0.0.1', 4711, 25), svc => 'strict', no_banner => 1);
ok($c->closed(10) && $c->{buf} eq '', 'a peer outside proxy_protocol_hosts is closed at once');
like($dlp->log, qr/8102 PROXY peer not in proxy_protocol_hosts \(cid=\w+ peer=127\.0\.0\.1:\d+\)/,
    'and logged');

# ---- a listener without proxy_protocol: a PROXY line is just junk -------------------
$c = pp('', svc => 'plain');
like($c->{banner}, qr/^220 local\.test/, 'plain listener: reflected to the connection\'s own address');
($code) = $c->cmd(proxy_v1('127.0.0.9', '127.0.0.1', 4711, 25) =~ s/\r\n$//r);
is($code, 500, 'plain listener: a PROXY line is an unknown command');
is(($c->cmd('QUIT'))[0], 221, 'and the session goes on');
is(scalar(@m = $sink->messages), 1, 'no message went to the address in the line');

ok($dlp->stop, 'dlpgate stops cleanly');
done_testing;
