#!/usr/bin/perl
# Forwarding mode with next_hop_lookup = mx, against a real authoritative
# DNS server (NSD) on 127.0.0.60 and smtp-sinks on distinct loopback
# addresses sharing one port: equal-preference MX hosts all get mail, a
# lower preference only when the higher ones refuse, null MX / NXDOMAIN /
# no address give 451 4.4.4, SERVFAIL and a dead server 451 4.4.3 (the
# latter within dns_timeout), answers are cached for their TTL (bounded),
# [brackets] suppress the MX lookup, and an MX naming ourselves is skipped.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use IO::Socket::INET;
use DlpTest;
use DlpDNS;

my %ip = (mx1 => '127.0.0.21', mx2 => '127.0.0.22', mx3 => '127.0.0.23',
    down1 => '127.0.0.31', down2 => '127.0.0.32', bk => '127.0.0.33',
    bare => '127.0.0.41', other => '127.0.0.42');

# one port, free on every address a sink will use
my $S;
for (1 .. 100) {
    my $p = 20000 + int(rand(40000));
    next if grep { !port_free($p, $_) } values %ip;
    $S = $p;
    last;
}
die "no common free port" unless $S;

my $records = <<"ZONE";
eq      MX 10 mx1
eq      MX 10 mx2
eq      MX 10 mx3
mx1     A $ip{mx1}
mx2     A $ip{mx2}
mx3     A $ip{mx3}
backup  MX 10 down1
backup  MX 10 down2
backup  MX 20 bk
down1   A $ip{down1}
down2   A $ip{down2}
bk      A $ip{bk}
null    MX 0 .
bare    A $ip{bare}
txtonly TXT "no mail here"
ghost   MX 10 nosuchhost
alias   MX 10 mxalias
mxalias CNAME mx1
cache   MX 10 mx1
self    A 127.0.0.1
other   A $ip{other}
loop    MX 10 self
loop    MX 20 other
refuse  MX 10 gone1
refuse  MX 20 gone2
gone1   A 127.0.0.35
gone2   A 127.0.0.36
ZONE
my $dns = DlpDNS->start(addr => '127.0.0.60', broken => ['broken.test'],
    zones => { 'dlp.test' => $records });

my $td = test_dir();
my %sink;
for my $h (qw(mx1 mx2 mx3 bk bare)) {
    $sink{$h} = start_sink(host => $ip{$h}, port => $S, dir => test_dir("sink-$h"));
}
$sink{down2} = start_sink(host => $ip{down2}, port => $S, dir => test_dir("sink-down2"),
    args => ['-r', 'CONNECT']);

# a UDP socket that takes queries and never answers: a dead DNS server
my $dead = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.61',
    LocalPort => DlpDNS::free_udp_port('127.0.0.61')) or die "udp: $!";
my $refused_port = DlpDNS::free_udp_port('127.0.0.62');

# one dlpgate, one smtpd service per case, each with its own next_hop
my %svc = (
    eq => "eq.dlp.test:$S", backup => "backup.dlp.test:$S",
    null => "null.dlp.test:$S", nx => "nx.dlp.test:$S",
    bare => "bare.dlp.test:$S", txtonly => "txtonly.dlp.test:$S",
    ghost => "ghost.dlp.test:$S", alias => "alias.dlp.test:$S",
    servfail => "x.broken.test:$S", bracket => "[eq.dlp.test]:$S",
    dead => "eq.dlp.test:$S", refused => "eq.dlp.test:$S",
    cache => "cache.dlp.test:$S", refuse => "refuse.dlp.test:$S",
);
my %opts = (
    dead => "dns_servers = \"127.0.0.61:" . $dead->sockport . "\"; dns_timeout = \"3s\";",
    refused => "dns_servers = \"127.0.0.62:$refused_port\"; dns_timeout = \"3s\";",
    cache => "dns_cache_max_ttl = \"15s\";",   # long enough for a loaded machine
);
my %port = map { $_ => free_port() } keys %svc;
# the loop case listens on a port also free on 127.0.0.42, where a sink waits
my $L;
for (1 .. 100) {
    my $p = free_port();
    next unless port_free($p, $ip{other});
    $L = $p;
    last;
}
$port{loop} = $L;
$svc{loop} = "loop.dlp.test:$L";
$sink{other} = start_sink(host => $ip{other}, port => $L, dir => test_dir("sink-other"));

my $mc = "services = (\n";
for my $name (sort keys %svc) {
    my $limit = $name eq 'cache' ? 1 : 4;
    $mc .= "  { name = \"$name\"; type = \"inet\"; listen = [\"127.0.0.1:$port{$name}\"];\n"
        . "    command = \"smtpd-proxy\"; user = \"dlpgate\"; process_limit = $limit;\n"
        . "    process_min_avail = 0; max_use = 100; max_idle = 100;\n"
        . "    options = { next_hop = \"$svc{$name}\"; " . ($opts{$name} // '') . " }; },\n";
}
$mc .= "  { name = \"detector\"; type = \"unix\"; listen = [\"detector\"];\n"
    . "    command = \"detector\"; process_limit = 2; process_min_avail = 1;\n"
    . "    max_use = 1000; max_idle = 300; user = \"dlpgate-detect\"; }\n);\n";
my $dlp = start_dlpgate(master_conf => $mc, conf => {
    operating_mode => 'forward', next_hop_lookup => 'mx', next_hop_host_lookup => 'dns',
    helo_name => 'dlpgate.test',
    dns_servers => [$dns->{server}], dns_timeout => '10s', next_hop_connect_timeout => '5s',
    next_hop_timeout => '10s' });

# deliver - one session with one message; (banner code, banner, final code)
sub deliver {
    my ($svc, $tag) = @_;
    my $c = smtp_connect($port{$svc}, timeout => 30) or return (undef, 'no connection');
    return ($c->{banner_code}, $c->{banner}) unless ($c->{banner_code} // 0) == 220;
    $c->cmd('EHLO client.test');
    my ($code) = $c->send_message(from => "$tag\@example.com",
        data => "Subject: $tag\r\n\r\n$tag\r\n");
    $c->cmd('QUIT');
    $c->close;
    return (220, $c->{banner}, $code);
}

sub count { my ($h) = @_; return scalar(my @m = $sink{$h}->messages) }

# ---- equal preference: every MX host gets mail ----------------------------
my @codes = map { (deliver('eq', "eq$_"))[2] // 0 } 1 .. 30;
is_deeply(\@codes, [(250) x 30], '30 messages to eq.dlp.test all accepted');
wait_until(sub { count('mx1') + count('mx2') + count('mx3') >= 30 }, 20);
my %n = map { $_ => count($_) } qw(mx1 mx2 mx3);
is($n{mx1} + $n{mx2} + $n{mx3}, 30, 'all 30 reached the three equal-preference MX hosts');
ok($n{$_} > 0, "$_ ($ip{$_}) got some ($n{$_})") for qw(mx1 mx2 mx3);
like($dlp->log, qr/8001 next hop domain resolved \(cid=\w+ domain=eq\.dlp\.test lookup=mx answer="MX 10 mx\d\.dlp\.test, 10 mx\d\.dlp\.test, 10 mx\d\.dlp\.test" addresses=3 ttl=60\)/,
    'the MX lookup is logged with the answer and its TTL (the AAAA NODATA: SOA minimum 60)');
$sink{$_}->clear for qw(mx1 mx2 mx3);

# ---- a lower preference only when every higher one refuses ------------------
@codes = map { (deliver('backup', "bk$_"))[2] // 0 } 1 .. 8;
is_deeply(\@codes, [(250) x 8], 'with both preference-10 hosts refusing, mail still flows');
is(scalar(my @m = $sink{bk}->wait_messages(8)), 8, 'all of it went to the preference-20 host');
like($dlp->log, qr/2001 forward connection established \(cid=\w+ hop=bk\.dlp\.test\[127\.0\.0\.33\]:$S mode=forward next_hop=backup\.dlp\.test:$S lookup=mx skipped="[^"]*down1\.dlp\.test\[127\.0\.0\.31\]:$S: Connection refused/,
    'the refused preference-10 host is named in the log');
like($dlp->log, qr/skipped="[^"]*down2\.dlp\.test\[127\.0\.0\.32\]:$S: banner '450 4\.3\.0/,
    'and so is the one greeting with 450');
$sink{bk}->clear;
$sink{down1} = start_sink(host => $ip{down1}, port => $S, dir => test_dir("sink-down1"));
@codes = map { (deliver('backup', "up$_"))[2] // 0 } 1 .. 8;
is_deeply(\@codes, [(250) x 8], 'a preference-10 host is back: mail flows');
is(scalar(@m = $sink{down1}->wait_messages(8)), 8, 'all of it to the preference-10 host');
is(count('bk'), 0, 'none to the preference-20 host while a better one answers');

# ---- every MX host refuses: 421 4.4.1 -------------------------------------
ok(port_free($S, '127.0.0.35') && port_free($S, '127.0.0.36'), 'nothing listens on the refuse.dlp.test hosts');
my ($code, $banner) = deliver('refuse');
like($banner, qr/^421 4\.4\.1 dlpgate\.test Error: no next hop available/, 'every MX host refuses: 421 4.4.1');
like($dlp->log, qr/2003 no next hop reachable \(cid=\w+ client=127\.0\.0\.1 mode=forward tried="gone1\.dlp\.test\[127\.0\.0\.35\]:$S: Connection refused; gone2\.dlp\.test\[127\.0\.0\.36\]:$S: Connection refused" reply="421"\)/,
    'logged with every host, in preference order, and why');

# ---- no address at all: 451 4.4.4 -----------------------------------------
($code, $banner) = deliver('null');
is($code, 451, 'null MX: 451 at greeting');
like($banner, qr/^451 4\.4\.4 dlpgate\.test Error: no address for next hop null\.dlp\.test: null MX/,
    'null MX: 4.4.4 naming the domain and the answer');
like($dlp->log, qr/8003 next hop domain has no address \(cid=\w+ domain=null\.dlp\.test lookup=mx answer="null MX/,
    'null MX logged with the domain and the answer');
($code, $banner) = deliver('nx');
like($banner, qr/^451 4\.4\.4 .*nx\.dlp\.test: NXDOMAIN/, 'NXDOMAIN: 451 4.4.4');
like($dlp->log, qr/8003 next hop domain has no address \(cid=\w+ domain=nx\.dlp\.test lookup=mx answer="NXDOMAIN/,
    'NXDOMAIN logged with the domain and the answer');
($code, $banner) = deliver('txtonly');
like($banner, qr/^451 4\.4\.4 .*txtonly\.dlp\.test: no MX, using the domain's own address; txtonly\.dlp\.test: no A or AAAA record/,
    'no MX and no address: 451 4.4.4');
($code, $banner) = deliver('ghost');
like($banner, qr/^451 4\.4\.4 .*ghost\.dlp\.test: MX 10 nosuchhost\.dlp\.test; nosuchhost\.dlp\.test: NXDOMAIN/,
    'an MX host that does not exist: 451 4.4.4');
($code, $banner) = deliver('bracket');
like($banner, qr/^451 4\.4\.4 .*eq\.dlp\.test: no A or AAAA record/,
    '[eq.dlp.test] is not an MX lookup: its own (missing) address is used');

# after a 451 greeting the session waits for QUIT and never says more than 4xx
my $c = smtp_connect($port{null});
is($c->{banner_code}, 451, '451 greeting again (negative answer from the cache)');
is(($c->cmd('EHLO client.test'))[0], 451, 'EHLO after a 451 greeting: 451');
is(($c->cmd('MAIL FROM:<a@example.com>'))[0], 451, 'MAIL after a 451 greeting: 451');
is(($c->cmd('QUIT'))[0], 221, 'QUIT: 221');
ok($c->closed, 'then the connection closes');
like($dlp->log, qr/8003 next hop domain has no address \(cid=\w+ domain=null\.dlp\.test lookup=mx answer="null MX[^"]*" cached=yes\)/,
    'the cached negative answer is logged as such');

# ---- DNS failures: 451 4.4.3 ----------------------------------------------
($code, $banner) = deliver('servfail');
like($banner, qr/^451 4\.4\.3 dlpgate\.test Error: next hop lookup failed for x\.broken\.test: MX lookup failed: SERVFAIL from 127\.0\.0\.60:\d+/,
    'SERVFAIL: 451 4.4.3 naming the domain and the answer');
like($dlp->log, qr/8002 next hop DNS lookup failed \(cid=\w+ domain=x\.broken\.test lookup=mx answer="MX lookup failed: SERVFAIL from 127\.0\.0\.60:\d+"\)/,
    'SERVFAIL logged');
my $t0 = time;
($code, $banner) = deliver('dead');
my $took = time - $t0;
like($banner, qr/^451 4\.4\.3 .*eq\.dlp\.test: MX lookup failed: timeout/, 'silent DNS server: 451 4.4.3');
cmp_ok($took, '>=', 2.5, sprintf('it waited for the server (%.1fs)', $took));
cmp_ok($took, '<', 3 + 20, 'and gave up at dns_timeout (3s), not much later');
($code, $banner) = deliver('refused');
like($banner, qr/^451 4\.4\.3 .*MX lookup failed: 127\.0\.0\.62:\d+: Connection refused/,
    'no DNS server on the port: 451 4.4.3 at once');
like($dlp->log, qr/2003 no next hop reachable \(cid=\w+ client=127\.0\.0\.1 mode=forward tried="eq\.dlp\.test:$S: MX lookup failed: timeout from 127\.0\.0\.61:\d+" reply="451"\)/,
    'the session log line names the entry, the answer and the reply');

# ---- no MX: the domain's own address; CNAME exchangers; self ---------------
is((deliver('bare', 'bare'))[2], 250, 'no MX: delivered to the domain\'s A record');
is(scalar(@m = $sink{bare}->wait_messages(1)), 1, 'the message is at 127.0.0.41');
is((deliver('alias', 'alias'))[2], 250, 'MX host behind a CNAME: delivered');
is(scalar(@m = $sink{mx1}->wait_messages(1)), 1, 'at the CNAME\'s target');
$sink{mx1}->clear;
is((deliver('loop', 'loop'))[2], 250, 'MX 10 is ourselves: delivered anyway');
is(scalar(@m = $sink{other}->wait_messages(1)), 1, 'to the preference-20 host');
like($dlp->log, qr/8006 next hop loops back to myself \(cid=\w+ hop=self\.dlp\.test\[127\.0\.0\.1\]:$L\)/,
    'the MX that names ourselves is skipped and logged');

# ---- the cache: answers kept for their TTL, bounded by dns_cache_max_ttl ----
my $t_lookup = time;
is((deliver('cache', 'c1'))[2], 250, 'cache.dlp.test: first message');
is(scalar(@m = $sink{mx1}->wait_messages(1)), 1, 'went to mx1');
(my $zone = $records) =~ s/^cache   MX 10 mx1$/cache   MX 10 mx2/m or die;
$dns->update_zone('dlp.test', $zone);
ok(wait_until(sub { my ($mx) = grep { $_->type eq 'MX' } $dns->query('cache.dlp.test', 'MX')->answer;
                    $mx && $mx->exchange eq 'mx2.dlp.test' }, 10, 0.1), 'the zone now says mx2');
is((deliver('cache', 'c2'))[2], 250, 'second message, same worker');
SKIP: {
    # a machine so loaded that 15 s went by proves nothing about the cache
    skip 'the first answer may have expired already (15 s went by)', 1 if time - $t_lookup >= 14;
    is(scalar(@m = $sink{mx1}->wait_messages(2)), 2, 'still mx1: the answer came from the cache');
}
my $switched = wait_until(sub { (deliver('cache', 'c3'))[2] && count('mx2') > 0 }, 60, 0.5);
ok($switched, 'after dns_cache_max_ttl (15s, below the TTL of 300) the new MX is used');
cmp_ok(time - $t_lookup, '>=', 14.9, 'not before the bound ran out');

ok($dlp->stop, 'dlpgate stops cleanly');
done_testing;
