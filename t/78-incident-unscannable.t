#!/usr/bin/perl
# A message that unscannable_action blocks or tempfails, because it could
# not be scanned completely, is an incident: in the incident log, event
# 7001 and the incident syslog stream, with the policy "(unscannable)" and
# the reason, so that an administrator sees it as well as the policies'
# incidents. A policy that blocks first makes the incident its own; with
# unscannable_action = pass there is none; dlpscan -j prints the same line.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use IO::Select;
use JSON::PP;
use DlpTest;
use DlpDetect;

my $policies = <<'EOF2';
policies = (
  { name = "cards"; severity = "high";
    rules = ( { type = "identifier"; identifier = "credit_card"; } ); action = "block"; },
  { name = "watch"; mode = "monitor"; severity = "low";
    rules = ( { type = "keyword"; keywords = ["osprey"]; } ); action = "block"; }
);
EOF2
my $H = "From: a\@example.com\nTo: b\@partner.example\n";
my $REASON = 'unknown Content-Transfer-Encoding x-gzip64 in the message';
# unreadable - a body in a transfer encoding no reader knows, and some text
sub unreadable {
    my ($text) = @_;
    return "${H}Subject: report\nContent-Type: text/plain\nContent-Transfer-Encoding: x-gzip64\n\n"
        . "H4sIAAAAAAAAA0vLz0nVTcrPz0lVyEgtSgUAGPA0vBAAAAA=\n$text\n";
}
# recv_within - one datagram or undef
sub recv_within {
    my ($sock, $secs) = @_;
    return undef unless IO::Select->new($sock)->can_read($secs);
    my $buf;
    $sock->recv($buf, 65536);
    return $buf;
}
# sd - the fields of an RFC 5424 message's SD-ELEMENT
sub sd {
    my ($m) = @_;
    my ($el) = ($m // '') =~ /(\[dlpgate\@32473 .*?(?<!\\)\])/;
    return ($el // '') =~ /(\w+)="((?:[^"\\]|\\.)*)"/g;
}
# send - one message; (code, the new incidents)
sub send_one {
    my ($dlp, $data) = @_;
    my $before = () = incidents($dlp);
    my ($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@partner.example'], data => $data);
    my @inc = incidents($dlp);
    return ($code, @inc[$before .. $#inc]);
}

my $udp = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'udp')
    or die "udp: $!";
my $sink = start_sink();

# ---- unscannable_action = block ----------------------------------------------
my $dlp = start_detect(sink => $sink, policies => $policies, conf => {
    unscannable_action => 'block', incident_syslog => 'rfc5424',
    incident_syslog_server => 'udp:127.0.0.1:' . $udp->sockport, incident_syslog_facility => 'local5' });
my ($code, @inc) = send_one($dlp, unreadable("nothing to see\n"));
is($code, 550, 'a message that cannot be read is blocked (unscannable_action = block)');
is(scalar @inc, 1, 'and is an incident, though no policy fired');
my $i = $inc[0] // {};
is($i->{action}, 'block', 'incident: action block');
is($i->{severity}, 'medium', 'incident: severity medium');
is($i->{complete}, JSON::PP::false, 'incident: not complete');
is($i->{not_scanned}, $REASON, 'incident: the reason');
is_deeply($i->{policies}, [{ name => '(unscannable)', mode => 'prevent', severity => 'medium',
    action => 'block', enforced => JSON::PP::true, reason => $REASON, rules => [] }],
    'incident: the one policy is "(unscannable)", with the action and the reason');
like($dlp->log, qr/7001 incident recorded \(cid=\w+ incident=$i->{incident} policies=\(unscannable\) severity=medium action=block\)/,
    '7001 names it');
like($dlp->log, qr/3009 message not scanned completely \(cid=\w+ reason="\Q$REASON\E" unscannable_action=block action=block\)/,
    '3009 as before');
my $m = recv_within($udp, 20);
ok(defined $m, 'the incident went to the syslog stream') or diag $dlp->log;
my %f = sd($m);
is($f{incident}, $i->{incident}, 'syslog: the incident id of the log');
is($f{policies}, '(unscannable)', 'syslog: policies="(unscannable)"');
is($f{not_scanned}, $REASON, 'syslog: not_scanned with the reason');
is($f{complete}, 'false', 'syslog: complete="false"');
# local5 (21) * 8 + err (3) for medium = 171
like($m // '', qr/^<171>1 .*\] incident [0-9A-F]{16}: block, policies fired: 0, not scanned completely \(unscannable_action = block\)$/,
    'syslog: PRI for medium, and the message text says why');

($code, @inc) = send_one($dlp, unreadable("card 4111 1111 1111 1111\n"));
is($code, 550, 'a card in a message not read completely: blocked');
is(join(',', map { $_->{name} } @{$inc[0]{policies} // []}), 'cards',
    'the blocking policy\'s incident; unscannable_action did not decide');
is($inc[0]{not_scanned}, $REASON, 'which still says what was not read');
%f = sd(recv_within($udp, 20));
is($f{policies}, 'cards', 'syslog: the policy');
is($f{not_scanned}, $REASON, 'syslog: and the reason');

($code, @inc) = send_one($dlp, unreadable("the osprey flies\n"));
is($code, 550, 'a monitored match in a message not read completely: blocked as unscannable');
is(join(',', map { $_->{name} } @{$inc[0]{policies} // []}), 'watch,(unscannable)',
    'the incident names the monitor policy and "(unscannable)"');
is($inc[0]{severity}, 'medium', 'severity: the higher of low and medium');
%f = sd(recv_within($udp, 20));
is($f{policies}, 'watch,(unscannable)', 'syslog: both');

($code, @inc) = send_one($dlp, "${H}Subject: hello\n\nall good\n");
is($code, 250, 'a clean message passes');
is(scalar @inc, 0, 'and is no incident');

# dlpscan -j: the incident line the detector writes
my $file = "$dlp->{dir}/unreadable.eml";
spit($file, unreadable("nothing\n"));
my ($rc, $out) = dlpscan('-c', "$dlp->{dir}/etc", '-j', $file);
my ($json) = $out =~ /^  incident (\{.*\})$/m;
ok($json, 'dlpscan -j prints an incident for it') or diag $out;
my $d = eval { decode_json($json // '{}') } // {};
is(join(',', map { $_->{name} } @{$d->{policies} // []}), '(unscannable)', 'dlpscan -j: "(unscannable)"');
is($d->{not_scanned}, $REASON, 'dlpscan -j: the reason');
ok($dlp->stop, 'dlpgate stops');

# ---- unscannable_action = tempfail -------------------------------------------
$dlp = start_detect(sink => $sink, policies => $policies, conf => { unscannable_action => 'tempfail' });
($code, @inc) = send_one($dlp, unreadable("nothing to see\n"));
is($code, 451, 'unscannable_action = tempfail: 451');
is(scalar @inc, 1, 'an incident');
is_deeply([map { [$_->{name}, $_->{action}] } @{$inc[0]{policies} // []}], [['(unscannable)', 'tempfail']],
    'policy "(unscannable)", action tempfail');
is($inc[0]{action}, 'tempfail', 'the incident\'s action: tempfail');
ok($dlp->stop, 'dlpgate stops');

# ---- unscannable_action = pass: the message goes on, no incident -------------
$dlp = start_detect(sink => $sink, policies => $policies, conf => {});
($code, @inc) = send_one($dlp, unreadable("nothing to see\n"));
is($code, 250, 'unscannable_action = pass: it goes on');
is(scalar @inc, 0, 'no incident');
like($dlp->log, qr/3009 message not scanned completely \(cid=\w+ reason="\Q$REASON\E" unscannable_action=pass action=pass\)/,
    'only 3009');
ok($dlp->stop, 'dlpgate stops');
done_testing;
