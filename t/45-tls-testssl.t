#!/usr/bin/perl
# testssl.sh --starttls smtp, every check it has, against dlpgate with its
# defaults (RSA key, tls_protocols, tls_ciphers): protocols, cipher
# categories and order, forward secrecy and curves, session resumption,
# the certificate's key and signature, the known vulnerabilities, client
# simulations. No finding may be vulnerable or rated worse than LOW, but
# those that judge the certificate's provenance: the one here is the
# self-signed one made at first start (not trusted, no CRL or OCSP, ten
# years, no host name), which an operator replaces. Slow: about two
# minutes.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpTLS;

my $testssl = (grep { -x } '/usr/bin/testssl', '/usr/bin/testssl.sh')[0];
plan skip_all => 'testssl.sh is not installed (Debian package testssl.sh)' unless $testssl;

my $sink = start_sink();
my $dlp = start_tls_dlpgate(conf => { resubmit_port => $sink->{port}, outbound_tls => 'none' });
my $json = "$dlp->{dir}/testssl.json";
my ($rc, $out) = run_cmd('timeout', 900, $testssl, '--starttls', 'smtp', '--quiet',
    '--color', '0', '--warnings', 'batch', '--jsonfile', $json, "127.0.0.1:$dlp->{port}");
ok(-s $json, 'testssl.sh ran and wrote its findings') or diag $out;
my $text = slurp($json) // '';
my @findings;
while ($text =~ /\{\s*"id"\s*:\s*"([^"]*)".*?"severity"\s*:\s*"([^"]*)".*?"finding"\s*:\s*"([^"]*)"/sg) {
    push @findings, { id => $1, severity => $2, finding => $3 };
}
cmp_ok(scalar @findings, '>', 80, 'testssl.sh reported its findings');
my %provenance = map { $_ => 1 } qw(cert_trust cert_chain_of_trust cert_validityPeriod
    cert_revocation DNS_CAArecord);
my @bad = grep { $_->{severity} =~ /^(MEDIUM|HIGH|CRITICAL)$/ && !$provenance{$_->{id}} } @findings;
is(join("; ", map { "$_->{id}: $_->{finding}" } @bad), '', 'nothing rated MEDIUM, HIGH or CRITICAL');
my @vuln = grep { $_->{finding} =~ /(?<!not )vulnerable/i && $_->{finding} !~ /not vulnerable/i } @findings;
is(join("; ", map { "$_->{id}: $_->{finding}" } @vuln), '', 'no vulnerable finding');
my %by = map { $_->{id} => $_->{finding} } @findings;
like($by{SSLv3} // '', qr/not offered/, 'SSLv3 not offered');
like($by{TLS1} // '', qr/not offered/, 'TLS 1.0 not offered');
like($by{TLS1_1} // '', qr/not offered/, 'TLS 1.1 not offered');
like($by{TLS1_3} // '', qr/^offered/, 'TLS 1.3 offered');
like($by{cipherlist_aNULL} // '', qr/not offered/, 'no anonymous ciphers');
like($by{cipherlist_EXPORT} // '', qr/not offered/, 'no export ciphers');
like($by{cipher_order} // '', qr/server/, 'the server chooses the cipher');
ok(exists $by{heartbleed} && exists $by{ROBOT} && exists $by{'clientsimulation-openssl_303'},
    'the vulnerability checks and client simulations ran');
like($by{cert_chain_of_trust} // '', qr/self signed/, 'the one finding left out is the self-signed certificate');
ok($dlp->stop, 'dlpgate stops');
done_testing;
