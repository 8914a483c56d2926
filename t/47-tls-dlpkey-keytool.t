#!/usr/bin/perl
# dlpkey takes what keytool takes: the Symantec Network Prevent for Email
# guide's keytool commands run as they are written (only the program name
# changed), options before or after the command, keytool's spellings, a
# -dname X.509 cannot hold refused before anything is written with what to
# write instead, certreq answered by a CA and served, importkeystore from
# PKCS#12, importkey from PEM files, a JKS keystore answered with the
# keytool command that converts it, and keytool reading what dlpkey wrote.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpTLS;

my $TOP = top_dir();
my $DLPKEY = "$TOP/tlsmgr/dlpkey";
my $dir = test_dir();
my $etc = "$dir/etc";
mkdir $etc;
chdir $dir or die "chdir $dir: $!";
my $kt = -x '/usr/bin/keytool' ? '/usr/bin/keytool' : undef;

# key - dlpkey with keytool's own arguments, run in the test directory
sub key { return run_cmd($DLPKEY, '-c', $etc, @_) }
# key_stdin - the same, with a line on standard input and no terminal
sub key_stdin {
    my ($line, @args) = @_;
    spit("$dir/stdin", "$line\n");
    return run_cmd('setsid', 'sh', '-c', 'exec "$@" < "$0"', "$dir/stdin", $DLPKEY, '-c', $etc, @args);
}

# ---- the guide's commands, verbatim (c:\Vontu\... becomes prevent.ks) ----
my $pw = 'prevent_keystore_password';
my ($rc, $out) = key(qw(-genkeypair -dname),
    'CN=John Doe, OU=DLP_Development, O=Symantec, L=SanFrancisco, S=California, C=USA',
    qw(-alias smtp_prevent -keypass), $pw, qw(-keystore prevent.ks -storepass), $pw,
    qw(-validity 90));
is($rc, 0, 'the guide\'s genkeypair succeeds') or diag $out;
like($out, qr/C=USA is written as C=US: X\.509 takes the two-letter ISO 3166 code/,
    'C=USA becomes C=US, and dlpkey says so');
($rc, $out) = run_cmd('openssl', 'pkcs12', '-in', 'prevent.ks', '-passin', "pass:$pw", '-nokeys');
like($out, qr/subject=C\s*=\s*US, ST\s*=\s*California, L\s*=\s*SanFrancisco, O\s*=\s*Symantec, OU\s*=\s*DLP_Development, CN\s*=\s*John Doe/,
    'the certificate carries the guide\'s name, S as ST, in X.500 order');
($rc, $out) = key(qw(-exportcert -alias smtp_prevent -file smtp_prevent.cer -keystore prevent.ks -storepass), $pw);
is($rc, 0, 'the guide\'s exportcert succeeds') or diag $out;
is((stat 'smtp_prevent.cer')[2] & 0777, 0644, 'the exported certificate is public: mode 0644');
like(slurp('smtp_prevent.cer'), qr/\A\x30\x82/, '... in DER, as keytool writes it without -rfc');
($rc, $out) = key(qw(-importcert -alias new_mta_alias -file smtp_prevent.cer -keystore prevent.ks -storepass), $pw);
is($rc, 0, 'the guide\'s importcert succeeds') or diag $out;
# the guide's second form gives no -storepass: keytool asks, and so does dlpkey
($rc, $out) = key_stdin($pw, qw(-importcert -alias prevent_alias -file .\smtp_prevent.cer -keystore prevent.ks -trustcacerts));
like($out, qr/cannot open \.\\smtp_prevent\.cer/, 'a Windows path names the file it could not open');
($rc, $out) = key_stdin($pw, qw(-importcert -alias prevent_alias -file ./smtp_prevent.cer -keystore prevent.ks -trustcacerts));
is($rc, 0, 'importcert -trustcacerts without -storepass reads the password as keytool does') or diag $out;
like($out, qr/Enter keystore password:/, 'after asking for it');
($rc, $out) = key(qw(-v -list -keystore prevent.ks -storepass), $pw);
is($rc, 0, 'the support article\'s "-v -list" (options before the command)') or diag $out;
like($out, qr/Alias name: smtp_prevent\nEntry type: PrivateKeyEntry/, 'list -v shows the key entry');
like($out, qr/Alias name: new_mta_alias\nEntry type: trustedCertEntry/, 'and the imported certificate');
my ($rc2, $out2) = key(qw(-list -v -keystore prevent.ks -storepass), $pw);
is($out2, $out, '-list -v and -v -list say the same');
($rc, $out) = key(qw(-storepasswd -new prevent_keystore_password2 -keystore prevent.ks -storepass), $pw);
is($rc, 0, 'the guide\'s storepasswd') or diag $out;
$pw .= '2';

# ---- keytool's spellings and -rfc ----
for my $v (['-genkey', qw(-alias g1 -dname CN=g1.example.com)], ['genkeypair', qw(-alias g2 -dname CN=g2.example.com)],
           ['-export', qw(-alias g1 -file g1.pem -rfc)], ['export', qw(-alias g1 -rfc)],
           ['-import', qw(-alias g1trust -file g1.pem -noprompt)], ['-list', qw(-rfc -alias g1)],
           ['-delete', qw(-alias g2)], ['-certreq', qw(-alias g1 -file g1.csr)]) {
    my ($verb, @rest) = @$v;
    ($rc, $out) = key($verb, @rest, qw(-keystore prevent.ks -storepass), $pw);
    is($rc, 0, "keytool's $verb works") or diag $out;
}
like(slurp('g1.pem'), qr/^-----BEGIN CERTIFICATE-----/, '-export -rfc writes PEM');
($rc, $out) = key(qw(-list -rfc -alias g1 -keystore prevent.ks -storepass), $pw);
like($out, qr/-----BEGIN CERTIFICATE-----/, '-list -rfc prints the certificates in PEM');
($rc, $out) = key(qw(-frobnicate -keystore prevent.ks -storepass), $pw);
isnt($rc, 0, 'an unknown command is refused');

# ---- -dname: what X.509 cannot hold is refused first, with what to write ----
my @bad = (
    ['CN=a, C=United States', qr/C must be a two-letter ISO 3166 code, e\.g\. C=US \(not C=United States\)/],
    ['CN=' . ('a' x 65), qr/CN may have at most 64 characters in X\.509 \(this one has 65\)/],
    ['CN=a, XX=b', qr/unknown attribute XX \(use CN, OU, O, L, ST, C,/],
    ['CN=a, O=', qr/O has no value: write O=value, or leave O out/],
    ['mail.example.com', qr/"mail\.example\.com" is not NAME=value, e\.g\. "CN=mail\.example\.com/],
    ['CN="unclosed', qr/a quote that is not closed/],
    ["EMAIL=m\xc3\xbcller\@example.com", qr/EMAIL must be ASCII/],
);
for my $b (@bad) {
    ($rc, $out) = key(qw(genkeypair -alias x -keystore new.ks -storepass 123456 -dname), $b->[0]);
    is($rc, 1, "-dname '$b->[0]' is refused");
    like($out, qr/\Adlpkey: error: -dname:? $b->[1]/, "... and the error, first, says what to write");
    ok(!-e 'new.ks', '... and no keystore was created');
}
($rc, $out) = key(qw(genkeypair -alias q -keystore new.ks -storepass 123456 -dname),
    'CN="Doe, John", O=A\, B + OU=Sales; L=K\C3\B6ln, C=de');
is($rc, 0, 'quotes, escapes, + and ; as keytool reads them') or diag $out;
($rc, $out) = run_cmd('openssl', 'pkcs12', '-in', 'new.ks', '-passin', 'pass:123456', '-nokeys');
like($out, qr/subject=C\s*=\s*DE, L\s*=\s*K\\?C3\\?B6ln|subject=C\s*=\s*DE, L\s*=\s*K\x{f6}ln|subject=C\s*=\s*DE, L = K/, 'C in upper case, UTF-8 L');
like($out, qr/O\s*=\s*"A, B"\s*\+\s*OU\s*=\s*Sales|OU\s*=\s*Sales\s*\+\s*O\s*=\s*"A, B"/, 'a multi-valued part');
like($out, qr/CN\s*=\s*"Doe, John"/, 'a quoted value with a comma');

# ---- certreq, a CA's reply, and dlpgate serving the CA-signed chain ----
my $ca = "$dir/ca";
mkdir $ca;
run_cmd('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', "$ca/ca.key",
    '-out', "$ca/ca.pem", '-subj', '/CN=dlpgate test CA', '-days', 30);
spit("$etc/keystore.pass", "serve-pass\n");
my $ks = "$etc/keystore.p12";
($rc, $out) = key(qw(genkeypair -alias dlpgate -dname), 'CN=mail.dlp.test, O=Example, C=US');
is($rc, 0, 'a key for the CA to certify') or diag $out;
($rc, $out) = key(qw(certreq -alias dlpgate -file mail.csr));
is($rc, 0, 'certreq') or diag $out;
is((stat 'mail.csr')[2] & 0777, 0644, 'the request is public: mode 0644');
($rc, $out) = run_cmd('openssl', 'req', '-in', 'mail.csr', '-noout', '-verify', '-subject', '-text');
like($out, qr/verify OK/i, 'the request is signed with the key');
like($out, qr/DNS:mail\.dlp\.test/, 'and asks for the names the certificate serves');
($rc, $out) = run_cmd('openssl', 'x509', '-req', '-in', 'mail.csr', '-CA', "$ca/ca.pem",
    '-CAkey', "$ca/ca.key", '-CAcreateserial', '-out', 'mail.crt', '-days', 20, '-copy_extensions', 'copy');
is($rc, 0, 'the test CA signs it') or diag $out;
($rc, $out) = key(qw(importcert -alias ca -file), "$ca/ca.pem");
is($rc, 0, 'the CA certificate, trusted') or diag $out;
($rc, $out) = key(qw(importcert -alias dlpgate -file mail.crt));
is($rc, 0, 'the CA\'s reply is installed') or diag $out;
like($out, qr/Certificate reply was installed in keystore \(alias dlpgate, chain of 2\)/,
    'the chain is completed from the trusted CA certificate, as keytool does');
($rc, $out) = key(qw(importcert -alias dlpgate -file), "$ca/ca.pem");
like($out, qr/does not belong to the key of <dlpgate>/, 'a reply for another key is refused');
{
    my ($uid, $gid) = (getpwnam('dlpgate-tls'))[2, 3];
    chown $uid, $gid, $ks, "$etc/keystore.pass";
    chmod 0600, $ks, "$etc/keystore.pass";
    my $sink = start_sink();
    my $dlp = start_tls_dlpgate(dir => $dir, conf => { resubmit_port => $sink->{port}, outbound_tls => 'none' });
    my ($r, $o) = openssl_starttls($dlp->{port}, "QUIT\r\n", '-CAfile', "$ca/ca.pem", '-showcerts');
    like($o, qr/Verify return code: 0 \(ok\)/, 'dlpgate serves the CA-signed certificate: it verifies against the CA');
    like($o, qr/1 s:\s*CN\s*=\s*dlpgate test CA/, 'with the CA in the chain it sends');
    $dlp->stop;
}

# ---- importkeystore from PKCS#12, importkey from PEM, JKS ----
run_cmd('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'other.key', '-out', 'other.pem', '-subj', '/CN=other.example.com', '-days', 30);
run_cmd('openssl', 'pkcs12', '-export', '-inkey', 'other.key', '-in', 'other.pem', '-name', 'Other',
    '-out', 'other.p12', '-passout', 'pass:otherpass');
($rc, $out) = key(qw(importkeystore -srckeystore other.p12 -srcstoretype PKCS12 -srcstorepass otherpass
    -keystore imported.p12 -storepass 123456));
is($rc, 0, 'importkeystore from a PKCS#12 file made by openssl') or diag $out;
($rc, $out) = key(qw(list -keystore imported.p12 -storepass 123456));
like($out, qr/^other, PrivateKeyEntry,/m, 'its key entry arrives under its alias');
($rc, $out) = key(qw(importkeystore -srckeystore other.p12 -srcstorepass otherpass -keystore imported.p12 -storepass 123456));
like($out, qr/alias <other> already exists .* -destalias/, 'an alias already there is not overwritten silently');
($rc, $out) = key(qw(importkeystore -srckeystore other.p12 -srcstorepass otherpass -srcalias other -destalias renamed
    -keystore imported.p12 -storepass 123456));
is($rc, 0, '-srcalias/-destalias') or diag $out;
run_cmd('openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'mta.key');
run_cmd('openssl', 'req', '-new', '-key', 'mta.key', '-subj', '/CN=mta.dlp.test', '-out', 'mta.csr');
run_cmd('openssl', 'x509', '-req', '-in', 'mta.csr', '-CA', "$ca/ca.pem", '-CAkey', "$ca/ca.key",
    '-CAcreateserial', '-out', 'mta.crt', '-days', 20);
spit('chain.pem', slurp("$ca/ca.pem") . slurp('mta.crt'));
($rc, $out) = key(qw(importkey -alias mta -keyfile mta.key -file chain.pem -keystore imported.p12 -storepass 123456));
is($rc, 0, 'importkey: a key and a chain (CA first) from PEM files') or diag $out;
like($out, qr/chain of 2 imported as <mta>/, 'the chain is put in order, leaf first');
($rc, $out) = key(qw(importkey -alias mta2 -keyfile other.key -file mta.crt -keystore imported.p12 -storepass 123456));
like($out, qr/does not belong to the key of <mta2>/, 'a key and a certificate that do not match are refused');

SKIP: {
    skip 'keytool not installed (default-jre-headless)', 10 unless $kt;
    ($rc, $out) = run_cmd($kt, '-exportcert', '-alias', 'smtp_prevent', '-file', 'kt.cer',
        '-keystore', 'prevent.ks', '-storepass', $pw);
    is($rc, 0, 'keytool exports the guide\'s certificate') or diag $out;
    ok(slurp('kt.cer') eq slurp('smtp_prevent.cer'), '... byte for byte what dlpkey exported');
    ($rc, $out) = run_cmd($kt, '-list', '-keystore', 'imported.p12', '-storepass', '123456');
    is($rc, 0, 'keytool reads the keystore importkeystore/importkey wrote') or diag $out;
    like($out, qr/^mta, .*PrivateKeyEntry/m, 'keytool sees the imported key');
    ($rc, $out) = run_cmd($kt, '-list', '-v', '-keystore', 'prevent.ks', '-storepass', $pw, '-alias', 'smtp_prevent');
    like($out, qr/Owner: CN=John Doe, OU=DLP_Development, O=Symantec, L=SanFrancisco, ST=California, C=US/,
        'keytool reads the guide\'s key as dlpkey wrote it');
    ($rc, $out) = run_cmd($kt, '-list', '-v', '-keystore', $ks, '-storepass', 'serve-pass', '-alias', 'dlpgate');
    like($out, qr/Certificate chain length: 2/, 'keytool sees the CA-signed chain');
    ($rc, $out) = run_cmd($kt, '-genkeypair', '-alias', 'java', '-dname', 'CN=java.example.com',
        '-keyalg', 'EC', '-keystore', 'java.p12', '-storepass', 'javapass');
    ($rc, $out) = key(qw(-list -v -keystore java.p12 -storepass javapass));
    like($out, qr/Alias name: java\nEntry type: PrivateKeyEntry/, 'dlpkey reads keytool\'s keystore');
    ($rc, $out) = run_cmd($kt, '-genkeypair', '-alias', 'j', '-dname', 'CN=j.example.com', '-keyalg', 'RSA',
        '-storetype', 'JKS', '-keystore', 'old.jks', '-storepass', 'javapass');
    ($rc, $out) = key(qw(-list -keystore old.jks -storepass javapass));
    like($out, qr/old\.jks is a Java JKS keystore, not PKCS#12; convert it with: (keytool -importkeystore -srckeystore old\.jks -srcstoretype JKS -destkeystore old\.p12 -deststoretype pkcs12)/,
        'a JKS keystore: the keytool command that converts it');
    my ($cmd) = $out =~ /convert it with: (keytool [^(]*?) \(/;
    ($rc, $out) = run_cmd('sh', '-c', "$cmd -srcstorepass javapass -deststorepass javapass");
    is($rc, 0, 'that command converts it') or diag $out;
    ($rc, $out) = key(qw(importkeystore -srckeystore old.p12 -srcstorepass javapass -keystore imported.p12 -storepass 123456));
    is($rc, 0, 'and the result imports') or diag $out;
}

chdir '/';
done_testing;
