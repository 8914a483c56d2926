#!/usr/bin/perl
# README's five-minute recipe, as written, on a Postfix with Debian's own
# TLS defaults (smtp_tls_security_level = may, a self-signed certificate on
# smtpd, like the snakeoil one): mail goes through dlpgate and back, once
# each, with our header, and the reinjecting Postfix logs the original
# client (XFORWARD).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpPostfix;

plan skip_all => 'needs root to run Postfix' if $>;
my $dir = test_dir('recipe');
my ($cert, $key) = ("$dir/cert.pem", "$dir/key.pem");
my ($src, $sout) = run_cmd('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
    '-subj', '/CN=mail.example.test', '-days', 2, '-keyout', $key, '-out', $cert);
is($src, 0, 'a self-signed certificate for Postfix, like its snakeoil one') or diag $sout;

my $sink = start_sink();
my $reinject = free_port();
my $dlp = start_dlpgate(conf => { resubmit_port => $reinject, xforward_hosts => ['127.0.0.1'] });
my $pf = DlpPostfix->start(relay => $sink->{port}, content_filter => $dlp->{port},
    reinject_port => $reinject, readme_recipe => 1, main => {
        smtpd_tls_cert_file => $cert, smtpd_tls_key_file => $key,
        smtpd_tls_security_level => 'may', smtp_tls_security_level => 'may' });

my ($rc, $out) = run_cmd('smtp-source', '-m', 10, '-s', 2, '-f', 'alice@example.com',
    '-t', 'bob@example.net', "127.0.0.1:$pf->{smtp_port}");
is($rc, 0, 'ten messages submitted to Postfix') or diag $out;
my @m = $sink->wait_messages(10, 60);
is(scalar @m, 10, 'all ten delivered');
is(scalar(grep { $_->{body} =~ /^X-Filter-Loop: Reflected$/m } @m), 10, 'each went through dlpgate');
ok(wait_until(sub { $pf->queue_count == 0 }, 30), "Postfix's queue is empty");
my @done = $dlp->log =~ /1007 message complete [^\n]*tls_in=none [^\n]*verdict=pass/g;
is(scalar @done, 10, 'dlpgate passed ten, on the plain loopback leg');
like($pf->log, qr/orig_client=localhost\[127\.0\.0\.1\]/, 'the reinjecting Postfix logs the original client');
unlike($pf->log, qr/status=deferred/, 'nothing was deferred');

done_testing;
