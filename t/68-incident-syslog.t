#!/usr/bin/perl
# Incidents reach a SIEM: with incident_syslog = rfc5424 each incident goes
# out as one RFC 5424 message whose structured data carries the incident
# log's fields (masked), over UDP, TCP (RFC 6587 octet counting) or a
# local socket; with json the message is the incident log's own JSON line.
# A syslog server that is down costs a log line (7008), never the mail.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use IO::Socket::UNIX;
use IO::Select;
use JSON::PP;
use Socket qw(SOCK_DGRAM);
use DlpTest;
use DlpDetect;

my $policies = <<'EOF2';
policies = (
  { name = "cards"; severity = "high";
    rules = ( { type = "identifier"; identifier = "credit_card"; } );
    action = "block"; }
);
EOF2
my $card = "Subject: card 4111 1111 1111 1111\n\nplease charge 4111 1111 1111 1111 today\n";

# recv_within - one datagram or undef
sub recv_within {
    my ($sock, $secs) = @_;
    return undef unless IO::Select->new($sock)->can_read($secs);
    my $buf;
    $sock->recv($buf, 65536);
    return $buf;
}

# ---- RFC 5424 over UDP ----
my $udp = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'udp')
    or die "udp: $!";
my $sink = start_sink();
my $dlp = start_detect(sink => $sink, policies => $policies, conf => {
    incident_syslog => 'rfc5424', incident_syslog_server => 'udp:127.0.0.1:' . $udp->sockport,
    incident_syslog_facility => 'local5', helo_name => 'dlp.example.test' });
my ($code) = send_mail($dlp, from => 'Alice@Example.com', rcpt => ['bob@partner.example', 'carol@partner.example'],
    data => $card);
is($code, 550, 'the card message is blocked');
my $m = recv_within($udp, 20);
ok(defined $m, 'one syslog datagram for the incident') or diag $dlp->log;
$m //= '';
# local5 (21) * 8 + crit (2) = 170
like($m, qr/^<170>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z dlp\.example\.test dlpgate \d+ incident \[dlpgate\@32473 /,
    'RFC 5424 header: PRI local5.crit for high, version 1, UTC time, helo_name, app, procid, MSGID incident');
my ($sd) = $m =~ /(\[dlpgate\@32473 .*?(?<!\\)\])/;
ok($sd, 'one SD-ELEMENT');
my %f = ($sd // '') =~ /(\w+)="((?:[^"\\]|\\.)*)"/g;
my @inc = wait_incidents($dlp, 1);
my $file = $inc[0] // {};
is($f{incident}, $file->{incident}, 'incident id as in the incident log');
is($f{action}, 'block', 'action');
is($f{severity}, 'high', 'severity');
is($f{policies}, 'cards', 'policies');
is($f{sender}, 'alice@example.com', 'sender, as the incident log writes it');
is($f{recipients}, 'bob@partner.example,carol@partner.example', 'recipients');
is($f{recipient_count}, '2', 'recipient count');
is($f{client}, '127.0.0.1', 'client');
is($f{subject}, $file->{subject}, 'the masked subject of the incident log');
like($f{samples}, qr/^cards\/identifier credit_card: \*{4} \*{4} \*{4} 1111/, 'masked samples');
unlike($m, qr/4111 1111 1111 1111|4111111111111111/, 'the card number never in clear');
like($m, qr/\] incident [0-9A-F]{16}: block, policies fired: 1$/, 'and a short message text');
$dlp->stop;

# ---- JSON over TCP, octet counting; the same object as the incident log ----
my $tcp = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5, ReuseAddr => 1)
    or die "tcp: $!";
$dlp = start_detect(sink => $sink, policies => $policies, conf => {
    incident_syslog => 'json', incident_syslog_server => 'tcp:127.0.0.1:' . $tcp->sockport });
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@partner.example'], data => $card);
is($code, 550, 'blocked again');
my $frame = '';
if (IO::Select->new($tcp)->can_read(20)) {
    my $c = $tcp->accept;
    while (IO::Select->new($c)->can_read(5)) { my $n = sysread($c, my $b, 65536) or last; $frame .= $b; }
}
my ($len, $msg) = $frame =~ /^(\d+) (.*)\z/s;
ok(defined $len && $len == length($msg), 'RFC 6587 octet counting: the length is the message\'s') or diag $frame;
my ($json) = ($msg // '') =~ /^<\d+>1 \S+ \S+ dlpgate \d+ incident - (\{.*\})$/s;
ok($json, 'RFC 5424 header, no structured data, the JSON object as the message');
@inc = wait_incidents($dlp, 1);
my $line = (split /\n/, slurp($dlp->{incident_log}))[-1];
is($json, $line, 'the JSON is the incident log\'s line, byte for byte');
is(eval { decode_json($json)->{policies}[0]{name} }, 'cards', 'and parses as JSON');
$dlp->stop;

# ---- a local socket, as /dev/log is ----
my $path = test_dir('sock') . '/log';
my $unix = IO::Socket::UNIX->new(Local => $path, Type => SOCK_DGRAM) or die "unix: $!";
chmod 0666, $path;
$dlp = start_detect(sink => $sink, policies => $policies, conf => {
    incident_syslog => 'rfc5424', incident_syslog_server => $path });
send_mail($dlp, from => 'a@example.com', rcpt => ['b@partner.example'], data => $card);
like(recv_within($unix, 20) // '', qr/^<\d+>1 .* incident \[dlpgate\@32473 incident="[0-9A-F]{16}"/,
    'a local datagram socket gets the same message');
$dlp->stop;

# ---- the SIEM is down: the message goes on, the failure is logged ----
my $dead = free_port();
$dlp = start_detect(sink => $sink, policies => $policies, conf => {
    incident_syslog => 'json', incident_syslog_server => "tcp:127.0.0.1:$dead" });
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@partner.example'], data => $card);
is($code, 550, 'with the syslog server down the verdict is the same');
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@partner.example'], data => "Subject: hi\n\nhello\n");
is($code, 250, 'and clean mail flows');
like($dlp->wait_log(qr/7008 incident not sent to syslog/, 20) // '', qr/server=tcp:127\.0\.0\.1:$dead reason="/,
    '7008 names the server and the reason');
is(scalar(wait_incidents($dlp, 1)), 1, 'the incident log still has the incident');
$dlp->stop;

# a server setting that cannot work is refused at load
my $etc = test_dir('conf');
spit("$etc/dlpgate.conf", "incident_syslog_server = \"siem.example.com\";\n");
my ($rc, $out) = run_cmd("$FindBin::Bin/../master/dlpconf", '-c', $etc);
like($out, qr/incident_syslog_server: "siem\.example\.com": use a socket path \(\/dev\/log\), udp:host:port or tcp:host:port/,
    'a server without udp:/tcp: is refused with the forms it takes');
done_testing;
