#!/usr/bin/perl
# XFORWARD through dlpgate with a real Postfix on both sides (the
# FILTER_README recipe): the sending smtp has smtp_send_xforward_command =
# yes, the reinjection listener smtpd_authorized_xforward_hosts, and the
# final Received header and Postfix's log name the original client
# (127.0.0.9, its HELO and the first queue id), not dlpgate. Then, by
# hand: attribute values are checked (xtext, lengths, syntax,
# [UNAVAILABLE]), XFORWARD is offered only when the next hop offers it and
# only to xforward_hosts, and XCLIENT is refused.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpPostfix;

my $ORIG = '127.0.0.9';
my $final = start_sink(args => ['-v', '-h', 'final.test']);
my $dlp_port = free_port();
my $pf = DlpPostfix->start(relay => $final->{port}, content_filter => $dlp_port,
    main => { smtp_send_xforward_command => 'yes', inet_protocols => 'all' });
my $dlp = start_dlpgate(port => $dlp_port, conf => {
    resubmit_port => $pf->{reinject_port}, helo_name => 'dlpgate.test',
    xforward_hosts => ['127.0.0.1'] });

# ---- the recipe: original client in the final Received header and the log -------------
my $c = smtp_connect($pf->{smtp_port}, from => $ORIG);
is($c->{banner_code}, 220, 'Postfix greets the original client');
$c->cmd('EHLO orig-client.test');
my ($code, $text) = $c->send_message(from => 'alice@example.com', rcpt => ['bob@example.net'],
    data => "From: alice\@example.com\r\nSubject: xforward\r\n\r\nhello\r\n");
is($code, 250, 'Postfix queued the message');
my ($qid1) = $text =~ /queued as (\w+)/;
ok($qid1, "first queue id $qid1");
$c->cmd('QUIT');

my @m = $final->wait_messages(1, 60);
is(scalar @m, 1, 'the message went through dlpgate and back to Postfix, then out');
my @rcvd = $m[0]{body} =~ /^(Received: .*?\n)(?=\S)/msg;
like($rcvd[0] // '', qr/^Received: from dlpgate\.test \(localhost \[127\.0\.0\.1\]\)/,
    'top Received header: the reinjection, from dlpgate (Postfix writes it from the TCP peer)');
like($rcvd[1] // '', qr/^Received: from orig-client\.test \(\S+ \[127\.0\.0\.9\]\)/,
    'below it the original client, as the first smtpd saw it');
like($m[0]{body}, qr/^X-Filter-Loop: Reflected$/m, 'dlpgate passed it (its header is there)');
my ($qid2) = ($rcvd[0] // '') =~ /with E?SMTP id (\w+)/;
ok($qid2 && $qid2 ne $qid1, "the reinjected copy has its own queue id $qid2");
like($pf->log, qr/\b\Q$qid2\E: client=localhost\[127\.0\.0\.1\], orig_queue_id=\Q$qid1\E, orig_client=\S+\[127\.0\.0\.9\]/,
    'Postfix logs the reinjected message with the original client and queue id (ADDR, IDENT)');
my $sinklog = slurp("$final->{dir}/../sink-$final->{port}.log") // '';
like($sinklog, qr/XFORWARD ADDR=127\.0\.0\.9\b/,
    'the reinjected message keeps the original address: Postfix forwards it to the final hop');
like($sinklog, qr/XFORWARD PROTO=ESMTP HELO=orig-client\.test\b/, 'and the original HELO and protocol');
like($dlp->log, qr/1007 message complete \(cid=\w+ client=127\.0\.0\.1 from=<alice\@example\.com>/,
    'dlpgate itself saw Postfix as its client');

# ---- by hand, forwarding to the reinjection listener -------------------------------
my $fwd_port = free_port();
my $strict_port = free_port();
my $nox_port = free_port();
my $nox_sink = start_sink(args => ['-F', '-h', 'noxforward.test']);
my $mc = "services = (\n"
    . "  { name = \"fwd\"; type = \"inet\"; listen = [\"127.0.0.1:$fwd_port\"];\n"
    . "    command = \"smtpd-proxy\"; user = \"dlpgate\"; process_limit = 4; max_idle = 100; },\n"
    . "  { name = \"strict\"; type = \"inet\"; listen = [\"127.0.0.1:$strict_port\"];\n"
    . "    command = \"smtpd-proxy\"; user = \"dlpgate\"; process_limit = 4; max_idle = 100;\n"
    . "    options = { xforward_hosts = \"127.0.0.2/32\"; }; },\n"
    . "  { name = \"nox\"; type = \"inet\"; listen = [\"127.0.0.1:$nox_port\"];\n"
    . "    command = \"smtpd-proxy\"; user = \"dlpgate\"; process_limit = 4; max_idle = 100;\n"
    . "    options = { next_hop = \"[127.0.0.1]:$nox_sink->{port}\"; }; },\n"
    . "  { name = \"detector\"; type = \"unix\"; listen = [\"detector\"];\n"
    . "    command = \"detector\"; process_limit = 2; process_min_avail = 1;\n"
    . "    max_use = 1000; max_idle = 300; user = \"dlpgate-detect\"; }\n);\n";
my $fwd = start_dlpgate(master_conf => $mc, conf => { operating_mode => 'forward',
    next_hop => ["[127.0.0.1]:$pf->{reinject_port}"], helo_name => 'dlpgate.test',
    xforward_hosts => ['127.0.0.1'] });

$c = smtp_connect($fwd_port);
my ($ecode, $ehlo) = $c->cmd('EHLO hand.test');
like($ehlo, qr/^250[- ]XFORWARD NAME ADDR PROTO HELO/m, 'the next hop\'s XFORWARD is offered, with its attributes');
is(($c->cmd('XFORWARD NAME=spike.example ADDR=127.0.0.77 PORT=4242 PROTO=ESMTP'))[0], 250,
    'XFORWARD NAME ADDR PORT PROTO accepted');
is(($c->cmd('XFORWARD HELO=odd+3Chelo+3E IDENT=Q+2D123 SOURCE=REMOTE'))[0], 250,
    'a second XFORWARD with xtext values accepted');
$final->clear;
($code) = $c->send_message(from => 'hand@example.com', data => "Subject: hand\r\n\r\nhand\r\n");
is($code, 250, 'message accepted');
@m = $final->wait_messages(1, 60);
is(scalar @m, 1, 'the message arrived');
like($pf->log, qr/: client=localhost\[127\.0\.0\.1\], orig_queue_id=Q-123, orig_client=spike\.example\[127\.0\.0\.77\]/,
    'Postfix logs the forwarded name, address and ident (xtext decoded)');
$sinklog = slurp("$final->{dir}/../sink-$final->{port}.log") // '';
like($sinklog, qr/XFORWARD NAME=spike\.example ADDR=127\.0\.0\.77\b/, 'name and address reached the final hop');
like($sinklog, qr/XFORWARD PROTO=ESMTP HELO=odd\?helo\?/,
    'the HELO was decoded and neutered (<> became ?) on its way');

# every malformed attribute is refused by dlpgate itself
my $from = $fwd->log_size;
my %bad = (
    'XFORWARD' => '501 5.5.4 Syntax',
    'XFORWARD NAME' => 'attribute=value expected',
    'XFORWARD NAME=' => 'attribute=value expected',
    'XFORWARD FOO=bar' => 'unknown attribute name',
    'XFORWARD NAME=a.test NAME=b.test' => 'attribute given twice',
    'XFORWARD NAME=bad!name' => 'Bad NAME syntax',
    'XFORWARD ADDR=999.1.1.1' => 'Bad ADDR syntax',
    'XFORWARD ADDR=IPv6:127.0.0.1' => 'Bad ADDR syntax',
    'XFORWARD PORT=70000' => 'Bad PORT syntax',
    'XFORWARD PORT=-1' => 'Bad PORT syntax',
    'XFORWARD PROTO=' . ('E' x 65) => 'Bad PROTO syntax',
    'XFORWARD SOURCE=MAYBE' => 'Bad SOURCE syntax',
    'XFORWARD NAME=a+ZZb' => 'bad xtext',
    'XFORWARD HELO=a+00b' => 'bad xtext',
    'XFORWARD HELO=' . ('h' x 256) => 'too long',
);
for my $cmd (sort keys %bad) {
    my ($rc, $rt) = $c->cmd($cmd);
    like("$rc $rt", qr/^501 .*\Q$bad{$cmd}\E/, "refused: " . substr($cmd, 0, 40));
}
like(substr($fwd->log, $from), qr/8201 XFORWARD refused \(cid=\w+ client=127\.0\.0\.1 reason="Bad ADDR syntax"\)/,
    'refusals are logged with the reason');
is(($c->cmd('XFORWARD NAME=[UNAVAILABLE] ADDR=[UNAVAILABLE] PORT=[UNAVAILABLE] HELO=[UNAVAILABLE]'))[0],
    250, '[UNAVAILABLE] values accepted');
is(($c->cmd('XFORWARD ADDR=IPv6:2001:db8::1 PROTO=ESMTPSA'))[0], 250, 'an IPv6: address accepted');
is(($c->cmd('XFORWARD NAME=[TEMPUNAVAIL]'))[0], 250,
    'NAME=[TEMPUNAVAIL] accepted (relayed as [UNAVAILABLE], which Postfix takes)');
is(($c->cmd('MAIL FROM:<x@example.com>'))[0], 250, 'MAIL');
is(($c->cmd('XFORWARD NAME=late.test'))[0], 503, 'XFORWARD inside a transaction: 503');
is(($c->cmd('RSET'))[0], 250, 'RSET');
($code, $text) = $c->cmd('XCLIENT ADDR=10.9.9.9');
is($code, 502, 'XCLIENT: 502 not implemented');
like($fwd->log, qr/8202 XCLIENT refused \(cid=\w+ client=127\.0\.0\.1\)/, 'XCLIENT attempt logged');
$c->cmd('QUIT');
unlike($ehlo, qr/XCLIENT/, 'XCLIENT is never offered');

# a client outside xforward_hosts is not offered XFORWARD and may not use it
$c = smtp_connect($strict_port);
($ecode, $ehlo) = $c->cmd('EHLO hand.test');
is($ecode, 250, 'EHLO on the strict service');
unlike($ehlo, qr/XFORWARD/, 'XFORWARD not offered outside xforward_hosts');
($code, $text) = $c->cmd('XFORWARD ADDR=127.0.0.77');
like($text, qr/^550 5\.7\.0 Error: insufficient authorization/, 'and refused: 550 5.7.0');
like($fwd->log, qr/8201 XFORWARD refused \(cid=\w+ client=127\.0\.0\.1 reason="not in xforward_hosts"\)/,
    'logged');
$c->cmd('QUIT');

# a next hop without XFORWARD: not offered, 502
$c = smtp_connect($nox_port);
($ecode, $ehlo) = $c->cmd('EHLO hand.test');
like($ehlo, qr/^250-noxforward\.test/, 'EHLO from the next hop without XFORWARD');
unlike($ehlo, qr/XFORWARD/, 'XFORWARD not offered when the next hop lacks it');
is(($c->cmd('XFORWARD ADDR=127.0.0.77'))[0], 502, 'XFORWARD: 502 when the next hop lacks it');
$c->cmd('QUIT');

ok($fwd->stop, 'forwarding dlpgate stops cleanly');
ok($dlp->stop, 'reflecting dlpgate stops cleanly');
$pf->stop;
done_testing;
