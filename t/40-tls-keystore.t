#!/usr/bin/perl
# The keystore and dlpkey: every command, every error leaves the keystore
# untouched, and Java's keytool and dlpkey read each other's keystores
# (a keystore made by keytool -genkeypair serves dlpgate).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Digest::SHA qw(sha256_hex);
use DlpTest;
use DlpTLS;

my $dir = test_dir();
my $etc = "$dir/etc";
mkdir $etc;
spit("$etc/keystore.pass", "s3cret-pass\n");
my $ks = "$etc/keystore.p12";
my $pki = DlpTLS::Pki->new;
my $hop = $pki->leaf('hop', 'mx.example.net');

sub kt {
    my ($rc, $out) = dlpkey($etc, @_);
    return wantarray ? ($rc, $out) : $rc;
}
sub digest { sha256_hex(slurp($ks) // '') }

my ($rc, $out) = kt('genkeypair', '-alias', 'Smtp_Prevent', '-dname',
    'CN=dlp.example.com, OU=DLP, O=Example, L=SF, S=California, C=US',
    '-keyalg', 'RSA', '-keysize', 2048, '-validity', 20);
is($rc, 0, 'genkeypair RSA makes a keystore') or diag $out;
is((stat $ks)[2] & 0777, 0600, 'keystore mode 0600');
($rc, $out) = kt('genkeypair', '-alias', 'ec', '-dname', 'CN=ec.example.com', '-keyalg', 'EC',
    '-keysize', 384, '-validity', 400);
is($rc, 0, 'genkeypair EC P-384') or diag $out;
($rc, $out) = kt('list');
like($out, qr/^smtp_prevent, PrivateKeyEntry,/m, 'list: aliases in lower case, as keytool keeps them');
like($out, qr/^ec, PrivateKeyEntry,/m, 'list: EC entry');
like($out, qr/Certificate fingerprint \(SHA-256\): ([0-9A-F]{2}:){31}[0-9A-F]{2}/, 'list: SHA-256 fingerprints');
like($out, qr/WARNING: smtp_prevent expires within 30 days/, 'list: warns about what expires within 30 days');
($rc, $out) = kt('list', '-v');
like($out, qr/Owner: \/C=US\/ST=California\/L=SF\/O=Example\/OU=DLP\/CN=dlp\.example\.com/,
    'list -v: subject from keytool-style -dname');
like($out, qr/Issuer: /, 'list -v: issuer');
like($out, qr/until: \w+ +\d+ [\d:]+ \d{4} GMT/, 'list -v: expiry');

# export, import, and the errors that leave the keystore untouched
($rc, $out) = kt('exportcert', '-alias', 'smtp_prevent', '-file', "$dir/dlp.cer");
is($rc, 0, 'exportcert');
($rc, $out) = kt('exportcert', '-alias', 'smtp_prevent', '-file', "$dir/dlp.pem", '-rfc');
is($rc, 0, 'exportcert -rfc');
like(slurp("$dir/dlp.pem"), qr/\A-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+\/=\n]+-----END CERTIFICATE-----\n\z/,
    'exportcert -rfc writes PEM');
run_cmd('openssl', 'x509', '-in', "$dir/dlp.pem", '-outform', 'DER', '-out', "$dir/dlp.der");
ok(-s "$dir/dlp.der" && slurp("$dir/dlp.cer") eq slurp("$dir/dlp.der"),
    'exportcert without -rfc writes the same certificate in DER, as keytool does');
($rc, $out) = kt('importcert', '-alias', 'mx1', '-file', $hop->{cert});
is($rc, 0, 'importcert PEM: a trusted next-hop certificate') or diag $out;
run_cmd('openssl', 'x509', '-in', $pki->ca, '-outform', 'DER', '-out', "$dir/ca.der");
($rc, $out) = kt('importcert', '-alias', 'testca', '-file', "$dir/ca.der");
is($rc, 0, 'importcert DER') or diag $out;
($rc, $out) = kt('importcert', '-alias', 'mx2', '-file', $hop->{chain}, '-trustcacerts');
is($rc, 0, 'importcert of a chain with -trustcacerts (the chain verifies)') or diag $out;
my $before = digest();
my @errors = (
    [['list', '-storepass', 'wrong-pass'], qr/wrong keystore password/, 'wrong password'],
    [['delete', '-alias', 'nosuch'], qr/alias <nosuch> does not exist/, 'missing alias'],
    [['exportcert', '-alias', 'nosuch'], qr/alias <nosuch> does not exist/, 'export of a missing alias'],
    [['importcert', '-alias', 'mx1', '-file', $hop->{cert}], qr/alias <mx1> already exists/, 'duplicate alias'],
    [['genkeypair', '-alias', 'ec', '-dname', 'CN=x'], qr/alias <ec> already exists/, 'duplicate key alias'],
    [['importcert', '-alias', 'junk', '-file', "$etc/keystore.pass"], qr/is not an X\.509 certificate/, 'a file that is no certificate'],
    [['importcert', '-alias', 'smtp_prevent', '-file', $hop->{cert}], qr/does not belong to the key/, 'a certificate reply for another key'],
    [['genkeypair', '-alias', 'weak', '-dname', 'CN=x', '-keysize', 1024], qr/RSA key size 1024/, 'a weak key size'],
    [['delete', '-alias', 'ec', '-storepass', 'wrong-pass'], qr/wrong keystore password/, 'delete with a wrong password'],
);
for my $e (@errors) {
    my ($r, $o) = kt(@{$e->[0]});
    is($r, 1, "$e->[2]: exit 1");
    like($o, $e->[1], "$e->[2]: a clear error");
}
is(digest(), $before, 'after every error the keystore is byte for byte the same');
is(scalar(my @tmp = glob("$etc/.keystore.p12.*")), 0, 'no temporary files left behind');
($rc, $out) = kt('delete', '-alias', 'mx2');
is($rc, 0, 'delete');
unlike((kt('list'))[1], qr/^mx2,/m, 'deleted entry gone');
($rc, $out) = kt('check');
is($rc, 0, 'check passes') or diag $out;
like($out, qr/smtp_prevent: the private key matches its certificate/, 'check: key matches certificate');
like($out, qr/smtp_prevent: chain of 1 in order/, 'check: chain order');
like($out, qr/smtp_prevent: certificate 1 expires in \d+ days/, 'check: expiry');

# keytool reads dlpkey's keystore
my $kt = -x '/usr/bin/keytool' ? '/usr/bin/keytool' : undef;
SKIP: {
    skip 'keytool not installed (default-jre-headless)', 12 unless $kt;
    ($rc, $out) = run_cmd($kt, '-list', '-storetype', 'PKCS12', '-keystore', $ks, '-storepass', 's3cret-pass');
    is($rc, 0, 'keytool -list reads the keystore dlpkey made') or diag $out;
    like($out, qr/^smtp_prevent, .*PrivateKeyEntry/m, 'keytool sees the RSA key entry');
    like($out, qr/^ec, .*PrivateKeyEntry/m, 'keytool sees the EC key entry');
    like($out, qr/^mx1, .*trustedCertEntry/m, 'keytool sees the trusted certificate as trustedCertEntry');
    like($out, qr/^testca, .*trustedCertEntry/m, 'and the DER one');

    # storepasswd changes the store and the password file; keytool agrees
    ($rc, $out) = kt('storepasswd', '-new', 'n3w-pass-word');
    is($rc, 0, 'storepasswd') or diag $out;
    is(slurp("$etc/keystore.pass"), "n3w-pass-word\n", 'the password file follows');
    ($rc, $out) = run_cmd($kt, '-list', '-storetype', 'PKCS12', '-keystore', $ks, '-storepass', 'n3w-pass-word');
    like($out, qr/contains 4 entries/, 'keytool opens it with the new password');

    # a keystore made by keytool serves dlpgate
    my $jks = "$dir/java.p12";
    ($rc, $out) = run_cmd($kt, '-genkeypair', '-storetype', 'PKCS12', '-keystore', $jks,
        '-storepass', 'javapass', '-alias', 'smtp_prevent', '-keyalg', 'RSA', '-keysize', 2048,
        '-validity', 90, '-dname', 'CN=java.example.com, O=Example');
    is($rc, 0, 'keytool -genkeypair') or diag $out;
    ($rc, $out) = run_cmd($kt, '-importcert', '-noprompt', '-storetype', 'PKCS12', '-keystore', $jks,
        '-storepass', 'javapass', '-alias', 'nexthop', '-file', $hop->{cert});
    is($rc, 0, 'keytool -importcert') or diag $out;
    ($rc, $out) = dlpkey($etc, 'list', '-keystore', $jks, '-storepass', 'javapass');
    like($out, qr/^nexthop, trustedCertEntry,/m, 'dlpkey reads keytool\'s trusted entry');
    my $sink = start_sink();
    my $dlp = start_tls_dlpgate(keystore => $jks, storepass => 'javapass',
        conf => { resubmit_port => $sink->{port}, outbound_tls => 'none' });
    my ($r2, $o2) = openssl_starttls($dlp->{port}, "QUIT\r\n");
    like($o2, qr/subject=.*CN\s*=\s*java\.example\.com/, 'a keystore from keytool -genkeypair serves dlpgate');
    like($dlp->log, qr/4004 keystore loaded .*alias=smtp_prevent .*trusted=1/, 'tlsmgr loaded it: the key and one trusted certificate');
    $dlp->stop;
}

# a wrong password stops tlsmgr with a clear log; workers then offer no STARTTLS
{
    my $sink = start_sink();
    my $d2 = test_dir('ks2');
    mkdir "$d2/etc";
    system('cp', $ks, "$d2/etc/keystore.p12");
    spit("$d2/etc/keystore.pass", "wrong\n");
    chmod 0600, "$d2/etc/keystore.pass";
    chown((getpwnam('dlpgate-tls'))[2, 3], "$d2/etc/keystore.pass", "$d2/etc/keystore.p12");
    my $port = free_port();
    my $dlp = start_dlpgate(dir => $d2, port => $port, conf => { resubmit_port => $sink->{port} },
        master_conf => tls_master_conf($port));
    like($dlp->wait_log(qr/4005 keystore error/, 20) // '', qr/wrong keystore password/,
        'a wrong password: 4005 keystore error says so');
    my ($r, $o) = openssl_starttls($port, "EHLO x\r\nQUIT\r\n");
    unlike($o, qr/250[- ]STARTTLS/, 'without tlsmgr the worker does not offer STARTTLS');
    like($dlp->wait_log(qr/4009 TLS unavailable/, 10) // '', qr/STARTTLS not offered/,
        'and says why (4009)');
    $dlp->stop;
}

# first start: no keystore, a password file as 'dlpgate setup' writes it
# (64 characters): tlsmgr creates the keystore, then opens it with that
# same password (a 63-character truncation once made this fail)
{
    my $sink = start_sink();
    my $d3 = test_dir('ks3');
    mkdir "$d3/etc";
    spit("$d3/etc/keystore.pass", ('0123456789abcdef' x 4) . "\n");
    chmod 0600, "$d3/etc/keystore.pass";
    chown((getpwnam('dlpgate-tls'))[2, 3], "$d3/etc/keystore.pass");
    my $port = free_port();
    my $dlp = start_dlpgate(dir => $d3, port => $port, conf => { resubmit_port => $sink->{port} },
        master_conf => tls_master_conf($port));
    ok($dlp->wait_log(qr/4003 keystore created/, 30), 'first start creates the keystore');
    ok($dlp->wait_log(qr/4012 tlsmgr ready/, 30), 'and opens it with the 64-character password');
    my ($r, $o) = openssl_starttls($port, "EHLO x\r\nQUIT\r\n");
    like($o, qr/250[- ]/, 'STARTTLS works with the new keystore');
    $dlp->stop;
    # a password longer than a keystore password can be is refused, not cut
    spit("$d3/etc/keystore.pass", ('x' x 2000) . "\n");
    ($r, $o) = dlpkey("$d3/etc", 'list', '-keystore', "$d3/etc/keystore.p12");
    like($o, qr/password longer than \d+ characters/, 'an overlong password file is refused');
}

done_testing;
