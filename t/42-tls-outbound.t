#!/usr/bin/perl
# The next-hop side of TLS: every outbound_tls level against next hops
# that verify, that are self-signed and untrusted, expired, named wrong,
# offer no STARTTLS, refuse it with 454, or inject a line behind their 220.
# When the level requires TLS and it cannot be had, the client gets
# 451 4.7.x, the log names the hop and why, and nothing reaches the next
# hop in the clear. mirror follows the client's STARTTLS.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpTLS;

my $pki = DlpTLS::Pki->new;
my %cert = (
    good => $pki->leaf('good', 'localhost'),
    self => $pki->leaf('self', 'localhost', self => 1),
    trusted_self => $pki->leaf('tself', 'localhost', self => 1),
    expired => $pki->leaf('expired', 'localhost', expired => 1),
    wrongname => $pki->leaf('wrong', 'other.test'),
);

# one keystore for every instance: our key, the test CA, a trusted self-signed hop
my $kdir = test_dir('ks');
mkdir "$kdir/etc";
my $ks = "$kdir/etc/keystore.p12";
my @ko = ('-keystore', $ks, '-storepass', 'changeit');
my ($rc, $out) = dlpkey("$kdir/etc", 'genkeypair', '-alias', 'dlpgate', '-dname', 'CN=dlpgate.test',
    '-keyalg', 'EC', '-keysize', 256, '-validity', 30, @ko);
is($rc, 0, 'keystore made') or diag $out;
($rc, $out) = dlpkey("$kdir/etc", 'importcert', '-alias', 'testca', '-file', $pki->ca, @ko);
is($rc, 0, 'test CA trusted') or diag $out;
($rc, $out) = dlpkey("$kdir/etc", 'importcert', '-alias', 'hop-self', '-file',
    $cert{trusted_self}{cert}, @ko);
is($rc, 0, 'a self-signed next hop trusted by its own certificate') or diag $out;

my %sinks = (
    good => start_tls_sink(cert => $cert{good}),
    self => start_tls_sink(cert => $cert{self}),
    trusted_self => start_tls_sink(cert => $cert{trusted_self}),
    expired => start_tls_sink(cert => $cert{expired}),
    wrongname => start_tls_sink(cert => $cert{wrongname}),
    nostarttls => start_tls_sink(),
    refuse454 => start_tls_sink(cert => $cert{good}, starttls_reply => '454 4.7.0 TLS not available'),
    inject => start_tls_sink(cert => $cert{good}, inject => "250 injected\r\n"),
    broken => start_tls_sink(cert => $cert{good}, break_tls => 1),
);

# expected: tls (delivered inside TLS), plain (delivered in clear), fail (451)
my %expect = (
    none    => { map { $_ => 'plain' } keys %sinks },
    may     => { good => 'tls', self => 'tls', trusted_self => 'tls', expired => 'tls',
                 wrongname => 'tls', nostarttls => 'plain', refuse454 => 'plain', inject => 'fail',
                 broken => 'plain' },
    encrypt => { good => 'tls', self => 'tls', trusted_self => 'tls', expired => 'tls',
                 wrongname => 'tls', nostarttls => 'fail', refuse454 => 'fail', inject => 'fail',
                 broken => 'fail' },
    verify  => { good => 'tls', self => 'fail', trusted_self => 'tls', expired => 'fail',
                 wrongname => 'tls', nostarttls => 'fail', refuse454 => 'fail', inject => 'fail',
                 broken => 'fail' },
    secure  => { good => 'tls', self => 'fail', trusted_self => 'tls', expired => 'fail',
                 wrongname => 'fail', nostarttls => 'fail', refuse454 => 'fail', inject => 'fail',
                 broken => 'fail' },
);

# try - one message through dlpgate; (EHLO code, final code, EHLO text)
sub try_message {
    my ($dlp, %o) = @_;
    my $c = tls_connect($dlp->{port}) or return (undef, undef, 'no connection');
    my ($code, $ehlo) = $c->cmd('EHLO client.test');
    if ($o{starttls}) {
        $c->starttls;
        ($code, $ehlo) = $c->cmd('EHLO client.test');
    }
    return ($code, undef, $ehlo) unless $code == 250;
    my ($final) = $c->send_message(data => "Subject: $o{tag}\r\n\r\nbody $o{tag}\r\n");
    $c->cmd('QUIT');
    return ($code, $final, $ehlo);
}

# check - what happened at the sink and in the log matches the expectation
sub check {
    my ($dlp, $sink, $want, $label, %o) = @_;
    $sink->clear;
    my $from = $dlp->log_size;
    my $sfrom = length $sink->log;
    my ($ecode, $final, $ehlo) = try_message($dlp, tag => $label, %o);
    if ($want eq 'fail') {
        is($ecode, 451, "$label: client gets 451");
        like($ehlo, qr/^451 4\.7\.5 .*TLS to the next hop .*failed: /, "$label: 451 4.7.5 with the reason");
        my $l = $dlp->wait_log(qr/4010 next hop TLS required but not established/, 10, $from);
        like($l // '', qr/hop=\S+ .*reason="[^"]+"/, "$label: log names the hop and the reason");
        my $slog = substr($sink->log, $sfrom);
        unlike($slog, qr/^C: (MAIL|RCPT|DATA)/m, "$label: nothing sent to the next hop in the clear");
        return;
    }
    is($final, 250, "$label: message delivered");
    my @m = $sink->wait_messages(1);
    is(scalar @m, 1, "$label: one message at the next hop");
    is($m[0]{tls}, $want eq 'tls' ? 1 : 0, "$label: " . ($want eq 'tls' ? 'inside TLS' : 'in plain text'));
    like($m[0]{data}, qr/^body \Q$label\E\r$/m, "$label: content intact");
}

for my $level (qw(none may encrypt verify secure)) {
    for my $hop (sort keys %sinks) {
        my $dlp = start_tls_dlpgate(keystore => $ks, storepass => 'changeit', conf => {
            operating_mode => 'forward', next_hop => ["localhost:$sinks{$hop}{port}"],
            outbound_tls => $level, inbound_tls => 'may' });
        check($dlp, $sinks{$hop}, $expect{$level}{$hop}, "outbound_tls=$level hop=$hop");
        if ($level eq 'verify' && $hop eq 'good') {
            like($dlp->log, qr/4001 TLS handshake completed .*side=next-hop .*peer=localhost verified protocol=TLSv1\.3/,
                'next-hop handshake logged: peer CN, verified, protocol');
        }
        if ($level eq 'secure' && $hop eq 'wrongname') {
            like($dlp->log, qr/4010 .*reason="certificate not verified: [^"]*host/i,
                'wrong name: the reason says so');
        }
        if ($level eq 'verify' && $hop eq 'expired') {
            like($dlp->log, qr/4010 .*reason="certificate not verified: certificate has expired"/,
                'expired: the reason says so');
        }
        $dlp->stop;
    }
}

# mirror: TLS to the next hop exactly when the client used STARTTLS
my $dlp = start_tls_dlpgate(keystore => $ks, storepass => 'changeit', conf => {
    operating_mode => 'forward', next_hop => ["localhost:$sinks{good}{port}"] });
check($dlp, $sinks{good}, 'plain', 'mirror, client in plain text');
check($dlp, $sinks{good}, 'tls', 'mirror, client used STARTTLS', starttls => 1);
like($dlp->wait_log(qr/1007 message complete .*tls_in=TLSv1\.3 tls_out=TLSv1\.3 /) // '',
    qr/verdict=pass/, 'the summary line says TLS on both sides');
{
    my ($src, $status) = run_cmd(top_dir() . '/master/dlpgate', '-c', $dlp->{etc}, 'status');
    like($status, qr/^\s*TLS sessions\s+in=1 out=1$/m,
        'status counts the TLS sessions in and out') or diag $status;
}
$dlp->stop;
# mirror, a next hop that cannot be verified: the first client that takes
# STARTTLS hears 451 4.7.5, and then 421 4.7.5 (the real cause, not "next
# hop connection lost"); every worker remembers the hop through tlsmgr, and
# the next clients are not offered STARTTLS: their mail flows in plain text
# instead of being deferred forever by a may-TLS client
$dlp = start_tls_dlpgate(keystore => $ks, storepass => 'changeit', conf => {
    operating_mode => 'forward', next_hop => ["localhost:$sinks{self}{port}"] });
{
    my $from = $dlp->log_size;
    my $c = tls_connect($dlp->{port});
    like(($c->cmd('EHLO client.test'))[1], qr/^250[- ]STARTTLS/m,
        'mirror, untrusted next hop: STARTTLS offered while nothing is known');
    $c->starttls;
    like(($c->cmd('EHLO client.test'))[1], qr/^451 4\.7\.5 .*TLS to the next hop .*failed: /,
        'its EHLO inside TLS: 451 4.7.5 with the reason');
    like($dlp->wait_log(qr/4010 next hop TLS required but not established/, 10, $from) // '',
        qr/reason="certificate not verified/, '4010 names the reason');
    like(($c->cmd('EHLO client.test'))[1], qr/^421 4\.7\.5 .*TLS to the next hop failed/,
        'the next command: 421 4.7.5 naming TLS as the cause');
    ok($c->closed, 'then the session ends');
    $from = $dlp->log_size;
    $c = tls_connect($dlp->{port});
    my (undef, $ehlo) = $c->cmd('EHLO client.test');
    unlike($ehlo, qr/STARTTLS/, 'the hop failed: STARTTLS is no longer offered');
    $sinks{self}->clear;
    my ($code) = $c->send_message(data => "Subject: unmirrored\r\n\r\nbody\r\n");
    is($code, 250, 'and the mail flows');
    my @m = $sinks{self}->wait_messages(1);
    is($m[0]{tls}, 0, 'in plain text, as the client sent it');
    like($dlp->wait_log(qr/4015 STARTTLS not offered/, 10, $from) // '',
        qr/reason="TLS to the next hop failed lately: certificate not verified/,
        'the log says why STARTTLS was not offered');
    $c->cmd('QUIT');
}
$dlp->stop;
$dlp = start_tls_dlpgate(keystore => $ks, storepass => 'changeit', conf => {
    operating_mode => 'forward', next_hop => ["localhost:$sinks{self}{port}"],
    mirror_verify => 'false' });
check($dlp, $sinks{self}, 'tls', 'mirror_verify=no, untrusted next hop', starttls => 1);
$dlp->stop;
# mirror, a next hop without STARTTLS: a client's TLS could not be carried
# on, so it is not offered; the mail flows in plain text on both sides
$dlp = start_tls_dlpgate(keystore => $ks, storepass => 'changeit', conf => {
    operating_mode => 'forward', next_hop => ["localhost:$sinks{nostarttls}{port}"] });
{
    my $from = $dlp->log_size;
    my $c = tls_connect($dlp->{port});
    my (undef, $ehlo) = $c->cmd('EHLO client.test');
    unlike($ehlo, qr/STARTTLS/, 'mirror, next hop without STARTTLS: STARTTLS not offered');
    $c->cmd('QUIT');
    like($dlp->wait_log(qr/4015 STARTTLS not offered/, 10, $from) // '',
        qr/hop=\S+ outbound_tls=mirror reason="next hop offers no STARTTLS"/, 'and the log says why');
}
check($dlp, $sinks{nostarttls}, 'plain', 'mirror, next hop without STARTTLS');
$dlp->stop;
# with inbound_tls = encrypt the client must use TLS: offered anyway, and
# the 451 says why the mail cannot go
$dlp = start_tls_dlpgate(keystore => $ks, storepass => 'changeit', conf => {
    operating_mode => 'forward', next_hop => ["localhost:$sinks{nostarttls}{port}"],
    inbound_tls => 'encrypt' });
check($dlp, $sinks{nostarttls}, 'fail', 'mirror, inbound encrypt, next hop without STARTTLS',
    starttls => 1);
$dlp->stop;

# every inbound_tls x outbound_tls combination against a verifying next hop:
# the client takes STARTTLS when offered; TLS to the next hop follows the
# table (mirror: when the client used TLS); inbound encrypt without
# STARTTLS is refused (t/41 covers that side)
for my $in (qw(none may encrypt)) {
    for my $outl (qw(mirror none may encrypt verify secure)) {
        my $label = "inbound_tls=$in outbound_tls=$outl";
        my $dlp = start_tls_dlpgate(keystore => $ks, storepass => 'changeit', conf => {
            operating_mode => 'forward', next_hop => ["localhost:$sinks{good}{port}"],
            inbound_tls => $in, outbound_tls => $outl });
        my $client_tls = $in ne 'none';
        my $want = $outl eq 'none' ? 'plain' : $outl eq 'mirror' ? ($client_tls ? 'tls' : 'plain') : 'tls';
        check($dlp, $sinks{good}, $want, $label, starttls => $client_tls);
        $dlp->stop;
    }
}

# implicit TLS counts as the client's TLS for mirror
{
    my $wport = free_port();
    my $dlp = start_tls_dlpgate(keystore => $ks, storepass => 'changeit', wrapper_port => $wport,
        conf => { operating_mode => 'forward', next_hop => ["localhost:$sinks{good}{port}"] });
    $sinks{good}->clear;
    my $c = tls_connect($wport, wrapper => 1);
    $c->cmd('EHLO client.test');
    my ($code) = $c->send_message(data => "Subject: wrapped\r\n\r\nwrapped\r\n");
    is($code, 250, 'implicit TLS, mirror: delivered');
    my @m = $sinks{good}->wait_messages(1);
    is($m[0]{tls}, 1, 'implicit TLS, mirror: the next hop got it inside TLS');
    $c->cmd('QUIT');
    $dlp->stop;
}

done_testing;
