#!/usr/bin/perl
# Two dlpgate instances behind a real HAProxy (send-proxy-v2, SMTP health
# checks): messages from an MTA on 127.0.0.9 are spread over both, each
# instance reflects them back to 127.0.0.9 (the address in the PROXY
# header, not the balancer's) and logs that client; with one instance
# stopped, all mail still flows through the other.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpHAProxy;

my $MTA = '127.0.0.9';
my $R;
for (1 .. 100) {
    my $p = free_port();
    next unless port_free($p, $MTA);
    $R = $p;
    last;
}
# the MTA's reinjection listener; nothing listens on the balancer's address
my $sink = start_sink(host => $MTA, port => $R, args => ['-h', 'mta.test']);

# dlpgate_pp - an instance whose smtpd service takes PROXY headers
sub dlpgate_pp {
    my ($name) = @_;
    my $port = free_port();
    my $mc = "services = (\n"
        . "  { name = \"smtpd\"; type = \"inet\"; listen = [\"127.0.0.1:$port\"];\n"
        . "    command = \"smtpd-proxy\"; user = \"dlpgate\"; process_limit = 8;\n"
        . "    process_min_avail = 1; max_use = 100; max_idle = 100;\n"
        . "    options = { proxy_protocol = \"yes\"; }; },\n"
        . "  { name = \"detector\"; type = \"unix\"; listen = [\"detector\"];\n"
        . "    command = \"detector\"; process_limit = 2; process_min_avail = 1;\n"
        . "    max_use = 1000; max_idle = 300; user = \"dlpgate-detect\"; }\n);\n";
    return start_dlpgate(port => $port, master_conf => $mc, dir => test_dir($name),
        conf => { resubmit_port => $R, helo_name => "$name.test" });
}
my %dlp = (a => dlpgate_pp('dlpa'), b => dlpgate_pp('dlpb'));
my $lb = DlpHAProxy->start(backends => [$dlp{a}{port}, $dlp{b}{port}]);
ok($lb->wait_up(2), 'HAProxy sees both dlpgate instances up (SMTP checks through PROXY LOCAL)');

# send - n sessions of one message each, from the MTA's address
sub send_from_mta {
    my ($n, $tag) = @_;
    my @codes;
    for my $i (1 .. $n) {
        my $c = smtp_connect($lb->{port}, from => $MTA, timeout => 30);
        if (!$c || ($c->{banner_code} // 0) != 220) {
            push @codes, $c ? $c->{banner_code} // 'none' : 'no connection';
            next;
        }
        $c->cmd('EHLO mta.test');
        my ($code) = $c->send_message(from => "$tag$i\@example.com",
            data => "Subject: $tag $i\r\n\r\nbody $i\r\n", timeout => 60);
        push @codes, $code;
        $c->cmd('QUIT');
        $c->close;
    }
    return @codes;
}

# done - messages an instance completed for the MTA
sub done {
    my ($d, $tag) = @_;
    my @l = $d->log =~ /^.*1007 message complete \(cid=\w+ client=\Q$MTA\E from=<\Q$tag\E\d+\@example\.com>.* verdict=pass .*hop=\Q$MTA\E:$R reply="250 .*$/mg;
    return scalar @l;
}

my @codes = send_from_mta(20, 'lb');
is_deeply(\@codes, [(250) x 20], '20 messages through HAProxy, all accepted');
my @m = $sink->wait_messages(20, 30);
is(scalar @m, 20, 'all 20 reflected back to the MTA at 127.0.0.9');
my ($na, $nb) = (done($dlp{a}, 'lb'), done($dlp{b}, 'lb'));
is($na + $nb, 20, "each message went through one instance (a=$na b=$nb)");
ok($na >= 5 && $nb >= 5, 'round robin spread them over both');
like($dlp{a}->log, qr/1001 connection accepted \(cid=\w+ client=127\.0\.0\.9:\d+ via=127\.0\.0\.1:\d+ proxy=v2\)/,
    'instance a logs the MTA as the client, the balancer as via');
like($dlp{b}->log, qr/1001 connection accepted \(cid=\w+ client=127\.0\.0\.9:\d+ via=127\.0\.0\.1:\d+ proxy=v2\)/,
    'so does instance b');
is_deeply([grep { /: (?:8101|8102|2003) / } split /\n/, $dlp{a}->log . $dlp{b}->log], [],
    'no PROXY header refused, no next hop missed (health checks included)');
is_deeply([sort { $a <=> $b } map { $_->{body} =~ /^Subject: lb (\d+)$/m ? $1 : () }
    grep { $_->{raw} =~ /^X-Filter-Loop: Reflected$/m } @m], [1 .. 20],
    'the sink got each of the 20 messages once, each through dlpgate');

# one instance down: everything goes through the other
ok($dlp{a}->stop, 'instance a stopped');
$sink->clear;
my $before_b = done($dlp{b}, 'down');
@codes = send_from_mta(10, 'down');
is_deeply(\@codes, [(250) x 10], 'with a stopped, 10 more messages all accepted');
is(scalar(@m = $sink->wait_messages(10, 30)), 10, 'and all 10 reached the MTA');
is(done($dlp{b}, 'down') - $before_b, 10, 'all through instance b');
ok(wait_until(sub { ($lb->stat->{dlp1} // '') =~ /DOWN/ }, 20), 'HAProxy marked a down');
is($lb->stat->{dlp2}, 'UP', 'and b still up');

$lb->stop;
ok($dlp{b}->stop, 'instance b stops cleanly');
done_testing;
