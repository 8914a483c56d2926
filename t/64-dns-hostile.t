#!/usr/bin/perl
# DNS answers are hostile input. Against a server that lies
# (t/lib/hostile-dns.pl): replies with the wrong id, for another question
# or with a compression loop are ignored and the honest one used; a flood
# of noise makes the server count as failed (451 4.4.3) long before
# dns_timeout; a truncated UDP answer is fetched over TCP; a CNAME loop,
# 400 MX records, an exchanger name with a space, a null MX beside a real
# one and forged records for other names are all handled within bounds.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use DlpTest;
use DlpDNS;

my $S;
for (1 .. 100) {
    my $p = free_port('127.0.0.21');
    next unless port_free($p, '127.0.0.99') && port_free($p, '127.0.0.98');
    $S = $p;
    last;
}
my $sink = start_sink(host => '127.0.0.21', port => $S, args => ['-h', 'okhost.test']);

my $td = test_dir('hostile');
my $dport = DlpDNS::free_udp_port('127.0.0.63');
my $dlog = "$td/hostile.log";
spawn($dlog, $^X, "$FindBin::Bin/lib/hostile-dns.pl", '127.0.0.63', $dport);
wait_until(sub { !DlpDNS::udp_tcp_free('127.0.0.63', $dport) }, 10) or die "hostile DNS did not start";

my @cases = qw(ok spoof garbage trunc cnloop many evilname mixnull inject);
my %port = map { $_ => free_port() } @cases;
# where the test is that no timeout was waited for, the timeout is long: a
# loaded machine takes seconds, never half a minute
my %slow = (spoof => 1, garbage => 1);
my $mc = "services = (\n";
for my $name (@cases) {
    $mc .= "  { name = \"$name\"; type = \"inet\"; listen = [\"127.0.0.1:$port{$name}\"];\n"
        . "    command = \"smtpd-proxy\"; user = \"dlpgate\"; process_limit = 2; max_idle = 100;\n"
        . "    options = { next_hop = \"$name.x.test:$S\";"
        . ($slow{$name} ? ' dns_timeout = "60s";' : '') . " }; },\n";
}
$mc .= "  { name = \"detector\"; type = \"unix\"; listen = [\"detector\"];\n"
    . "    command = \"detector\"; process_limit = 2; process_min_avail = 1;\n"
    . "    max_use = 1000; max_idle = 300; user = \"dlpgate-detect\"; }\n);\n";
my $dlp = start_dlpgate(master_conf => $mc, conf => {
    operating_mode => 'forward', next_hop_lookup => 'mx', helo_name => 'dlpgate.test',
    dns_servers => ["127.0.0.63:$dport"], dns_timeout => '4s',
    next_hop_connect_timeout => '5s' });

# try - one session: (banner code, banner text, final code, seconds)
sub try {
    my ($svc) = @_;
    my $t0 = time;
    my $c = smtp_connect($port{$svc}, timeout => 30) or return (undef, 'no connection');
    my @r = ($c->{banner_code}, $c->{banner});
    if (($c->{banner_code} // 0) == 220) {
        $c->cmd('EHLO client.test');
        push @r, ($c->send_message(from => "$svc\@example.com",
            data => "Subject: $svc\r\n\r\n$svc\r\n"))[0];
        $c->cmd('QUIT');
    } else {
        push @r, undef;
    }
    $c->close;
    return (@r, time - $t0);
}

sub queries { my ($re) = @_; my @q = (slurp($dlog) // '') =~ /^QUERY $re$/mg; return scalar @q }

my ($code, $banner, $final, $took) = try('ok');
is($final, 250, 'an honest answer: delivered');

($code, $banner, $final, $took) = try('spoof');
is($final, 250, 'wrong id, wrong question and a compression loop ignored; the honest reply used');
cmp_ok($took, '<', 30, 'without waiting for a timeout (dns_timeout 60s)');
is(queries('spoof\.x\.test MX udp'), 1, 'one query was enough');

my $from = $dlp->log_size;
($code, $banner, $final, $took) = try('garbage');
like($banner, qr/^451 4\.4\.3 .*garbage\.x\.test: MX lookup failed: bad replies from 127\.0\.0\.63:\d+/,
    'a flood of noise: 451 4.4.3');
cmp_ok($took, '<', 30, 'decided without waiting for dns_timeout (60s)');
like(substr($dlp->log, $from), qr/8004 DNS reply refused \(cid=\w+ server=127\.0\.0\.63:\d+ reason="8 replies that do not parse or do not match the query"\)/,
    'the noise is logged');

($code, $banner, $final) = try('trunc');
is($final, 250, 'a truncated UDP answer: delivered');
is(queries('trunc\.x\.test MX tcp'), 1, 'after asking again over TCP');

($code, $banner) = try('cnloop');
like($banner, qr/^451 4\.4\.3 .*cnloop\.x\.test: MX lookup failed: CNAME chain too long/,
    'a CNAME loop: 451 4.4.3');

($code, $banner, $final, $took) = try('many');
is($final, 250, '400 MX records: delivered to the one host with an address');
my $hosts = () = (slurp($dlog) // '') =~ /^QUERY host\d+\.x\.test A udp$/mg;
cmp_ok($hosts, '<=', 32, "at most 32 exchangers looked up ($hosts)");
is(queries('many\.x\.test MX tcp'), 1, 'the big answer came over TCP');
like($dlp->log, qr/2001 forward connection established \(cid=\w+ hop=host7\.x\.test\[127\.0\.0\.21\]:$S/,
    'host7 it was');

$from = $dlp->log_size;
($code, $banner) = try('evilname');
like($banner, qr/^451 4\.4\.4 .*evilname\.x\.test: MX \(no usable exchanger\)/,
    'an exchanger name with a space is not used: 451 4.4.4');
like(substr($dlp->log, $from), qr/8004 DNS reply refused \(cid=\w+ domain=evilname\.x\.test\. reason="unusable MX record"\)/, 'and logged');

($code, $banner, $final) = try('mixnull');
is($final, 250, 'a null MX beside a real one: the real one is used');

$sink->clear;
($code, $banner, $final) = try('inject');
is($final, 250, 'forged records for other names: delivered');
like($dlp->log, qr/2001 forward connection established \(cid=\w+ hop=okhost\.x\.test\[127\.0\.0\.21\]:$S mode=forward next_hop=inject\.x\.test/,
    'to the address from our own A query, not the forged ones');
is((try('ok'))[2], 250, 'and the forged MX for ok.x.test was not believed');
unlike($dlp->log, qr/127\.0\.0\.9[89]|evil\.example/, 'no forged name or address was ever used');

my @pids = $dlp->pids_of('smtpd-proxy');
ok(@pids > 0, 'the workers are all still there');
unlike($dlp->log, qr/5004 child exited abnormally/, 'no worker crashed');
ok($dlp->stop, 'dlpgate stops cleanly');
done_testing;
