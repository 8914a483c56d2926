#!/usr/bin/perl
# Real peers on both sides: a Postfix that hands mail to dlpgate over
# STARTTLS (smtp_tls_security_level = encrypt) and takes it back on its
# reinjection port with STARTTLS (reflecting mode, outbound_tls = mirror,
# the next hop verified against the keystore), and swaks with --tls
# straight to dlpgate. The message arrives at the final sink intact.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpPostfix;
use DlpTLS;

plan skip_all => 'needs root (Postfix)' unless $> == 0;

my $pki = DlpTLS::Pki->new;
my $pfcert = $pki->leaf('postfix', 'localhost');
chmod 0644, $pfcert->{cert}, $pfcert->{chain};

my $sink = start_sink(args => ['-h', 'final.test']);
my $dport = free_port();
my $pf = DlpPostfix->start(relay => $sink->{port}, content_filter => $dport, main => {
    smtpd_tls_cert_file => $pfcert->{chain}, smtpd_tls_key_file => $pfcert->{key},
    smtpd_tls_security_level => 'may', smtp_tls_security_level => 'may',
    smtp_tls_loglevel => 1, smtpd_tls_loglevel => 1, smtpd_tls_received_header => 'yes',
});

# the keystore trusts Postfix's certificate (as Network Prevent's TLS setup says to)
my $dir = test_dir('dlp');
mkdir "$dir/etc";
my ($rc, $out) = dlpkey("$dir/etc", 'genkeypair', '-alias', 'dlpgate', '-dname', 'CN=dlpgate.test',
    '-keyalg', 'RSA', '-keysize', 2048, '-validity', 30, '-storepass', 'changeit');
is($rc, 0, 'dlpgate key made with dlpkey') or diag $out;
spit("$dir/etc/keystore.pass", "changeit\n");
chmod 0600, "$dir/etc/keystore.pass";
chown((getpwnam('dlpgate-tls'))[2, 3], "$dir/etc/keystore.pass");
($rc, $out) = dlpkey("$dir/etc", 'importcert', '-alias', 'postfix', '-file', $pfcert->{cert});
is($rc, 0, 'Postfix certificate imported as trusted') or diag $out;
my $dlp = start_tls_dlpgate(dir => $dir, port => $dport, conf => {
    resubmit_port => $pf->{reinject_port}, helo_name => 'dlpgate.test' });

# dlpkey tlsverify against the Postfix next hop
($rc, $out) = dlpkey("$dir/etc", 'tlsverify', 'localhost', "127.0.0.1:$pf->{reinject_port}");
is($rc, 0, 'tlsverify: Postfix verifies') or diag $out;
like($out, qr/TLS connection established: protocol TLSv1\.3, cipher \S+/, 'tlsverify prints protocol and cipher');
like($out, qr/chain\[0\]: .*CN\s*=\s*localhost/, 'tlsverify prints the chain');
like($out, qr/TLS certificate verified/, 'tlsverify verdict');
($rc, $out) = dlpkey("$dir/etc", 'tlsverify', 'mx.example.com', "127.0.0.1:$pf->{reinject_port}");
is($rc, 1, 'tlsverify: wrong domain fails');
like($out, qr/does NOT match mx\.example\.com/, 'tlsverify says the name does not match');

# Postfix -> dlpgate (TLS) -> Postfix (TLS) -> sink
my $body = "From: a\@example.com\r\nTo: b\@example.net\r\nSubject: via postfix\r\n\r\n"
    . "first line\r\n.leading dot\r\n8-bit \xc3\xa9t\xc3\xa9\r\nlast line\r\n";
my $msgfile = "$dir/msg.eml";
spit($msgfile, $body);
($rc, $out) = run_cmd('swaks', '--server', "127.0.0.1:$pf->{smtp_port}", '--from', 'a@example.com',
    '--to', 'b@example.net', '--data', $msgfile, '--timeout', 60);
is($rc, 0, 'swaks submits to Postfix') or diag $out;
my @m = $sink->wait_messages(1, 30);
is(scalar @m, 1, 'the message reaches the final sink through dlpgate')
    or diag "dlpgate:\n" . $dlp->log . "\npostfix:\n" . $pf->log;
like($m[0]{raw} // '', qr/^X-Filter-Loop: Reflected$/m, 'it went through dlpgate');
like($m[0]{raw} // '', qr/\nfirst line\n\.leading dot\n8-bit \xc3\xa9t\xc3\xa9\nlast line\n/,
    'content intact');
like($dlp->log, qr/4001 TLS handshake completed .*side=client .*protocol=TLSv1\.3/,
    'Postfix used STARTTLS to dlpgate (offered, so taken)');
like($dlp->log, qr/4001 TLS handshake completed .*side=next-hop .*peer=localhost verified .*level=verify/,
    'mirror: dlpgate used STARTTLS to Postfix and verified it');
ok(wait_until(sub { $pf->log =~ /(?:Trusted|Untrusted|Anonymous) TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:$dport/ }, 20),
    'Postfix logs TLS to dlpgate');
ok(wait_until(sub { $pf->log =~ /(?:Anonymous|Trusted|Untrusted) TLS connection established from localhost\[127\.0\.0\.1\]/ }, 20),
    'Postfix logs TLS from dlpgate on its reinjection port');

# swaks with --tls straight to dlpgate
$sink->clear;
($rc, $out) = run_cmd('swaks', '--server', "127.0.0.1:$dport", '--tls', '--from', 'c@example.com',
    '--to', 'd@example.net', '--header', 'Subject: swaks tls', '--body', 'swaks body', '--timeout', 60);
is($rc, 0, 'swaks --tls through dlpgate') or diag $out;
like($out, qr/<-  220 2\.0\.0 Ready to start TLS/, 'swaks saw our 220 to STARTTLS');
like($out, qr/TLS started with cipher TLSv1\.3/, 'swaks: TLS 1.3');
@m = $sink->wait_messages(1, 90);
like($m[0]{body} // '', qr/swaks body/, 'swaks message reaches the sink');

ok($dlp->wait_log(qr/4001 .*side=next-hop .*resumed=yes/, 10),
    'the second session to Postfix resumed a TLS session cached in tlsmgr');

ok($dlp->stop, 'dlpgate stops');
$pf->stop;
done_testing;
