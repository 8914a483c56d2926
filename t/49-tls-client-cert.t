#!/usr/bin/perl
# outbound_tls_client_cert: a next hop that authenticates its clients gets
# dlpgate's certificate, the keystore's key entry, signed through tlsmgr as
# on the server side (the worker never holds the key). Without the setting
# such a next hop refuses the handshake; over TLS 1.2, where a client signs
# the whole transcript, dlpgate sends no certificate and says so (4014).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpTLS;

plan skip_all => 'needs root (the roles\' users)' unless $> == 0;
my $pki = DlpTLS::Pki->new;
my $hopcert = $pki->leaf('hop', 'localhost');
my $mine = $pki->leaf('dlpgate', 'dlpgate.test');

# dlpgate's keystore: its key and CA-signed chain, imported from PEM
my $dir = test_dir('dlp');
my $etc = "$dir/etc";
mkdir $etc;
spit("$etc/keystore.pass", "changeit\n");
my ($rc, $out) = dlpkey($etc, 'importkey', '-alias', 'dlpgate', '-keyfile', $mine->{key}, '-file', $mine->{chain});
is($rc, 0, 'the key and chain, with importkey') or diag $out;
my ($uid, $gid) = (getpwnam('dlpgate-tls'))[2, 3];
chown $uid, $gid, "$etc/keystore.p12", "$etc/keystore.pass";
chmod 0600, "$etc/keystore.p12", "$etc/keystore.pass";

my $send = sub {
    my ($dlp) = @_;
    my $c = smtp_connect($dlp->{port});
    my ($ec, $et) = $c->cmd('EHLO client.test');
    return ($ec // 0, $et // '') unless ($ec // 0) == 250;
    my ($code, $text) = $c->send_message(from => 'a@example.com', rcpt => ['b@example.net'],
        data => "Subject: cc\r\n\r\nhello\r\n");
    $c->cmd('QUIT');
    $c->close;
    return ($code // 0, $text // '');
};

# a next hop that requires a client certificate from the test CA
my $strict = start_tls_sink(cert => $hopcert, client_ca => $pki->ca);
my $dlp = start_tls_dlpgate(keystore => "$etc/keystore.p12", storepass => 'changeit', conf => { resubmit_port => $strict->{port},
    outbound_tls => 'encrypt', outbound_tls_client_cert => 'yes' });
my ($code, $text) = $send->($dlp);
is($code, 250, 'the next hop that wants a client certificate takes the message') or diag $text, $dlp->log;
my @m = $strict->wait_messages(1, 20);
is(scalar @m, 1, 'it arrived');
is($m[0]{tls}, 1, 'over TLS');
like($strict->log, qr/client certificate: .*CN\s*=\s*dlpgate\.test/, 'the next hop saw dlpgate\'s certificate, verified by its CA');
like($strict->log, qr/TLS TLSv1_3/, 'in TLS 1.3');
unlike($dlp->log, qr/4014 /, 'no 4014');
$dlp->stop;

# without the setting: no certificate, the next hop refuses, nothing in clear
$strict->clear;
my $mark = length($strict->log);
$dlp = start_tls_dlpgate(keystore => "$etc/keystore.p12", storepass => 'changeit', conf => { resubmit_port => $strict->{port},
    outbound_tls => 'encrypt' });
($code, $text) = $send->($dlp);
like("$code $text", qr/^4\d\d /, 'outbound_tls_client_cert = no: the handshake fails, the client gets 4xx');
is(scalar($strict->messages), 0, 'and nothing was delivered');
ok(wait_until(sub { substr($strict->log, $mark) =~ /handshake failed/ }, 20),
    'the next hop refused the handshake (its log may come after our reply)')
    or diag substr($strict->log, $mark);
$dlp->stop;

# TLS 1.2: asked for one, dlpgate sends none and says why
my $old = start_tls_sink(cert => $hopcert, client_ca => $pki->ca, client_cert_optional => 1,
    ssl_version => 'TLSv1_2');
$dlp = start_tls_dlpgate(keystore => "$etc/keystore.p12", storepass => 'changeit', conf => { resubmit_port => $old->{port},
    outbound_tls => 'encrypt', outbound_tls_client_cert => 'yes' });
($code, $text) = $send->($dlp);
is($code, 250, 'a TLS 1.2 next hop that only asks still gets the message') or diag $text;
like($old->log, qr/client certificate: none/, 'without a client certificate');
like($dlp->wait_log(qr/4014 next hop asked for a client certificate, none sent/, 10) // '',
    qr/protocol=TLSv1\.2 reason="dlpgate signs client certificates in TLS 1\.3 only"/, '4014 says why');
$dlp->stop;
done_testing;
