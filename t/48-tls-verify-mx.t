#!/usr/bin/perl
# dlpkey tlsverify DOMAIN without a host checks every MX host of the domain
# in preference order, as a real next hop would be tried: an authoritative
# DNS server (NSD) holds the MX records, a real Postfix with STARTTLS is the
# first mail host, an smtp-sink without TLS the second. Each host gets its
# own report (TLS offered, protocol, cipher, chain, verification, expiry)
# and the exit status says whether every one of them verified.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpDNS;
use DlpPostfix;
use DlpTLS;

plan skip_all => 'needs root (Postfix)' unless $> == 0;

my $pki = DlpTLS::Pki->new;
my $pfcert = $pki->leaf('postfix', 'mx1.example.test');
chmod 0644, $pfcert->{cert}, $pfcert->{chain};

my $plain = '127.0.0.47';
my $port;
for (1 .. 100) {
    my $p = 20000 + int(rand(40000));
    next unless port_free($p, '127.0.0.1') && port_free($p, $plain);
    $port = $p;
    last;
}
die "no common free port" unless $port;
my $sink = start_sink(port => free_port());
my $pf = DlpPostfix->start(relay => $sink->{port}, smtp_port => $port, main => {
    smtpd_tls_cert_file => $pfcert->{chain}, smtpd_tls_key_file => $pfcert->{key},
    smtpd_tls_security_level => 'may' });
my $notls = start_sink(host => $plain, port => $port);

my $dns = DlpDNS->start(zones => { 'example.test' => <<"ZONE", 'tls.test' => <<"ZONE2" });
\@      MX 20 mx2
\@      MX 10 mx1
mx1    A 127.0.0.1
mx2    A $plain
ZONE
\@      MX 10 mx1.example.test.
ZONE2

my $dir = test_dir('dlp');
my $etc = "$dir/etc";
mkdir $etc;
spit("$etc/dlpgate.conf", "dns_servers = \"$dns->{server}\";\n");
my ($rc, $out) = dlpkey($etc, qw(genkeypair -alias dlpgate -dname CN=dlpgate.test -storepass changeit));
is($rc, 0, 'a keystore') or diag $out;
spit("$etc/keystore.pass", "changeit\n");
($rc, $out) = dlpkey($etc, 'importcert', '-alias', 'testca', '-file', $pki->ca);
is($rc, 0, 'the CA of the Postfix certificate is trusted') or diag $out;

($rc, $out) = dlpkey($etc, 'tlsverify', 'example.test', '-port', $port);
is($rc, 1, 'one of the two MX hosts offers no TLS: tlsverify fails') or diag $out;
like($out, qr/== MX mx1\.example\.test \(preference 10\).*== MX mx2\.example\.test \(preference 20\)/s,
    'both MX hosts, lowest preference first');
my ($one, $two) = split /== MX mx2/, $out;
like($one, qr/Connecting to mx1\.example\.test \[127\.0\.0\.1:$port\]/, 'mx1: its address');
like($one, qr/TLS offered: yes/, 'mx1: TLS offered');
like($one, qr/TLS connection established: protocol TLSv1\.[23], cipher \S+/, 'mx1: protocol and cipher');
like($one, qr/chain\[0\]: .*CN\s*=\s*mx1\.example\.test/, 'mx1: the chain');
like($one, qr/TLS certificate verified\./, 'mx1: verified against the keystore');
like($one, qr/TLS certificate name matches example\.test or mx1\.example\.test/, 'mx1: the name matches the MX host');
like($one, qr/TLS certificate expires \w+ +\d+ [\d:]+ \d{4} GMT \(\d+ days\)/, 'mx1: the expiry');
like($one, qr/TLS verification completed\./, 'mx1: passes');
like($two, qr/Connecting to mx2\.example\.test \[\Q$plain\E:$port\]/, 'mx2: its address');
like($two, qr/TLS offered: no/, 'mx2: no TLS offered');
like($two, qr/TLS verification FAILED\./, 'mx2: fails');
like($out, qr/example\.test: TLS verification FAILED for at least one mail host/, 'the summary');

($rc, $out) = dlpkey($etc, 'tlsverify', 'tls.test', '-port', $port);
is($rc, 0, 'a domain whose only MX host verifies: exit 0') or diag $out;
like($out, qr/tls\.test: every mail host verified/, 'and says so');
($rc, $out) = dlpkey($etc, 'tlsverify', 'nosuch.example.test', '-port', $port);
is($rc, 1, 'a domain without mail hosts: exit 1');
like($out, qr/no mail host for nosuch\.example\.test/, 'and says so');

$pf->stop;
done_testing;
