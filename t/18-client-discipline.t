#!/usr/bin/perl
# SMTP discipline toward the client, Postfix's hardened smtpd as the bar:
# a client that talks before the greeting or pipelines where RFC 2920 does
# not let it is told 554 5.5.0 and dropped; what is no SMTP at all (a web
# request, a message header in command state) ends the session at once, so
# content a broken client sends after a refused DATA is never run as
# commands; BDAT is refused and the session closed before its chunk can be
# read as commands; junk commands and errors have limits (421 4.7.0); RFC
# 5321's sizes hold for paths and command lines; an ESMTP parameter may come
# once; XFORWARD is offered to, and taken from, xforward_hosts only. Each
# case is a raw-socket client against a scripted next hop (t/lib/DlpHop.pm)
# that records every byte it got.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpHop;

my $EHLO = "250-fake.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-DSN\r\n"
    . "250-XFORWARD NAME ADDR PROTO HELO\r\n250 SIZE 50000000\r\n";
# the greeting comes late: a client that does not wait has time to talk
my $hop = start_hop(CONNECT => ["", 0.5, "220 fake.test ESMTP\r\n"], EHLO => $EHLO);

# dlp - dlpgate in front of the scripted hop, with these settings
sub dlp {
    my (%conf) = @_;
    return start_dlpgate(conf => { operating_mode => 'forward',
        next_hop => ["127.0.0.1:$hop->{port}"], %conf });
}

# session - a client greeted and past EHLO
sub session {
    my ($d) = @_;
    my $c = smtp_connect($d->{port});
    $c->cmd('EHLO client.test');
    return $c;
}

my $dlp = dlp();

# ---- talking before the greeting ------------------------------------------
my $from = $dlp->log_size;
my $c = smtp_connect($dlp->{port}, no_banner => 1);
$c->send_raw("EHLO early.test\r\n");
my ($code, $text) = $c->read_reply(10);
like($text // '', qr/^554 5\.5\.0 /, 'a client that talks before the greeting: 554 5.5.0');
ok($c->closed, 'and is dropped');
like($dlp->wait_log(qr/1006 client protocol error/, 10, $from) // '',
    qr/reason="improper pipelining" after=CONNECT data="EHLO early\.test\\x0D\\x0A"/,
    'logged with what it said, escaped');

# ---- pipelining RFC 2920 does not allow ----------------------------------------
$hop->clear;
$c = smtp_connect($dlp->{port});
$c->send_raw("EHLO client.test\r\nMAIL FROM:<a\@example.com>\r\n");
like(($c->read_reply(10))[1] // '', qr/^554 5\.5\.0 /, 'anything behind EHLO: 554 5.5.0');
ok($c->closed, 'and the client is dropped');
unlike($hop->got, qr/^MAIL/m, 'the MAIL behind it never reached the next hop');

$c = smtp_connect($dlp->{port});
$c->cmd('HELO client.test');
$c->send_raw("MAIL FROM:<a\@example.com>\r\nRCPT TO:<b\@example.net>\r\n");
like(($c->read_reply(10))[1] // '', qr/^554 5\.5\.0 /,
    'pipelining after HELO (never offered): 554 5.5.0');
ok($c->closed, 'and the client is dropped');

# DATA is the last of a group: content sent before the 354 is a client that
# does not wait, and it is not read as the message (nor as commands)
$hop->clear;
$c = session($dlp);
$c->send_raw("MAIL FROM:<a\@example.com>\r\nRCPT TO:<b\@example.net>\r\nDATA\r\n"
    . "Subject: early\r\n\r\nRSET\r\n.\r\n");
is(($c->read_reply(10))[0], 250, 'MAIL in a group');
is(($c->read_reply(10))[0], 250, 'RCPT in a group');
like(($c->read_reply(10))[1] // '', qr/^554 5\.5\.0 /, 'content before 354: 554 5.5.0');
ok($c->closed, 'and the client is dropped');
unlike($hop->got, qr/^(DATA|RSET)/m, 'nothing of it reached the next hop');

# allowed: MAIL, RCPT, DATA in one group, and content with commands after it
$c = session($dlp);
$c->send_raw("MAIL FROM:<a\@example.com>\r\nRCPT TO:<b\@example.net>\r\nDATA\r\n");
is(($c->read_reply(10))[0], 250, 'allowed group: MAIL');
is(($c->read_reply(10))[0], 250, 'allowed group: RCPT');
is(($c->read_reply(10))[0], 354, 'allowed group: DATA');
$c->send_raw("Subject: ok\r\n\r\nok\r\n.\r\nQUIT\r\n");
is(($c->read_reply(10))[0], 250, 'the end of data');
is(($c->read_reply(10))[0], 221, 'and the QUIT behind it');

# with smtpd_forbid_unauth_pipelining = no: logged only
my $lax = dlp(smtpd_forbid_unauth_pipelining => 'false');
$from = $lax->log_size;
$c = smtp_connect($lax->{port}, no_banner => 1);
$c->send_raw("EHLO early.test\r\n");
is(($c->read_reply(10))[0], 220, 'smtpd_forbid_unauth_pipelining = no: the greeting');
is(($c->read_reply(10))[0], 250, 'and the EHLO answered');
like($lax->wait_log(qr/1006 client protocol error/, 10, $from) // '', qr/after=CONNECT/,
    'but logged');
$c->close;
$lax->stop;

# ---- what is no SMTP at all ---------------------------------------------------
for my $line ('GET / HTTP/1.1', 'POST /form HTTP/1.0', 'CONNECT mail.example:25 HTTP/1.1',
              'Subject: a header line', 'From: someone@example.com') {
    $from = $dlp->log_size;
    $c = session($dlp);
    ($code, $text) = $c->cmd($line);
    like($text // '', qr/^221 2\.7\.0 /, "'$line': 221 2.7.0");
    ok($c->closed, "'$line': the session ends");
    like($dlp->wait_log(qr/1006 client protocol error/, 10, $from) // '',
        qr/reason="not an SMTP command"/, "'$line': logged");
}

# a broken client sends its content after a refused DATA: the first header
# line ends the session, nothing of the content runs as a command
$hop->clear;
my $nohop = start_hop(RCPT => "550 5.1.1 no such user\r\n", EHLO => $EHLO);
my $d2 = start_dlpgate(conf => { operating_mode => 'forward',
    next_hop => ["127.0.0.1:$nohop->{port}"] });
$c = session($d2);
$c->cmd('MAIL FROM:<a@example.com>');
is(($c->cmd('RCPT TO:<nobody@example.net>'))[0], 550, 'the only recipient refused');
like(($c->cmd('DATA'))[1] // '', qr/^554 5\.5\.1 /, 'DATA refused: no valid recipients');
$c->send_raw("From: a\@example.com\r\nSubject: x\r\n\r\nMAIL FROM:<evil\@example.com>\r\n"
    . "RCPT TO:<victim\@example.net>\r\nDATA\r\n");
like(($c->read_reply(10))[1] // '', qr/^221 2\.7\.0 /, 'its content: 221 2.7.0 at the first header');
ok($c->closed, 'and the session ends');
unlike($nohop->got, qr/evil|victim/, 'no line of it reached the next hop');
$d2->stop;

# ---- BDAT -----------------------------------------------------------------------
$hop->clear;
$c = session($dlp);
$c->send_raw("BDAT 26 LAST\r\nMAIL FROM:<evil\@example.com>\r\n");
like(($c->read_reply(10))[1] // '', qr/^521 5\.5\.1 /, 'BDAT: 521 5.5.1');
ok($c->closed, 'and the session ends before its chunk is read');
unlike($hop->got, qr/evil/, 'the chunk never ran as a command');

# ---- junk commands and errors --------------------------------------------------
my $strict = dlp(smtpd_junk_command_limit => 3, smtpd_hard_error_limit => 2);
$c = session($strict);
my @codes;
for (1 .. 8) {
    my ($k) = $c->cmd('NOOP');
    push @codes, $k // 'none';
    last if !defined $k || $k != 250;
}
# EHLO and two NOOPs are within the limit of 3, the next two are errors,
# and with two errors the session ends
is_deeply(\@codes, [250, 250, 250, 250, 421], 'junk commands: 421 once over the limit')
    or diag "@codes";
like($strict->wait_log(qr/1009 client limit reached/), qr/errors=2/, 'logged');
ok($c->closed, 'and the session ends');

# a delivered message forgives: the count starts again
$c = session($strict);
$c->cmd('NOOP') for 1 .. 2;
($code) = $c->send_message(data => "Subject: fine\r\n\r\nfine\r\n");
is($code, 250, 'a message delivered');
@codes = map { ($c->cmd('NOOP'))[0] // 'none' } 1 .. 3;
is_deeply(\@codes, [250, 250, 250], 'after it the junk count starts again');
$c->cmd('QUIT');

$c = session($strict);
@codes = ();
for (1 .. 5) {
    ($code, $text) = $c->cmd('FOO');
    push @codes, $code // 'none';
    last if !defined $code || $code != 500;
}
is_deeply(\@codes, [500, 500, 421], 'unknown commands: 500, and 421 at the hard error limit');
like($text // '', qr/^421 4\.7\.0 /, '421 4.7.0');
$strict->stop;

# ---- RFC 5321 sizes, duplicated parameters ------------------------------------------
$c = session($dlp);
my $l64 = 'l' x 64;
my $d63 = join('.', ('d' x 63) x 3) . '.' . ('d' x 61);      # 253 octets
($code, $text) = $c->cmd('MAIL FROM:<' . ('l' x 65) . '@example.com>');
like($text, qr/^501 5\.1\.7 .*local part over 64/, 'a local part of 65 octets: 501 5.1.7');
($code, $text) = $c->cmd('MAIL FROM:<a@' . join('.', ('d' x 63) x 4) . 'd>');
like($text, qr/^501 5\.1\.7 .*domain over 255/, 'a domain of 256 octets: 501 5.1.7');
($code, $text) = $c->cmd("MAIL FROM:<$l64\@$d63>");
like($text, qr/^501 5\.1\.7 .*path over 256/, 'a path of 320 octets: 501 5.1.7');
is(($c->cmd("MAIL FROM:<$l64\@example.com>"))[0], 250, 'a local part of 64 octets: fine');
($code, $text) = $c->cmd('RCPT TO:<' . ('r' x 65) . '@example.net>');
like($text, qr/^501 5\.1\.3 .*local part over 64/, 'RCPT: 501 5.1.3');
($code, $text) = $c->cmd('RCPT TO:<b@example.net> NOTIFY=NEVER NOTIFY=SUCCESS');
like($text, qr/^501 5\.5\.4 .*duplicate NOTIFY/, 'NOTIFY twice: 501 5.5.4');
is(($c->cmd('RCPT TO:<b@example.net> ORCPT=rfc822;' . ('o' x 600)))[0], 250,
    'a RCPT line of 639 octets with DSN offered: within 512 + 500');
$c->cmd('RSET');
($code, $text) = $c->cmd('MAIL FROM:<a@example.com> BODY=7BIT BODY=8BITMIME');
like($text, qr/^501 5\.5\.4 .*duplicate BODY/, 'BODY twice: 501 5.5.4');
($code, $text) = $c->cmd('NOOP ' . ('x' x 520));
like($text, qr/^500 5\.5\.2 .*over 512 octets/, 'a command line over 512 octets: 500 5.5.2');
$c->cmd('QUIT');

# ---- XFORWARD only from xforward_hosts ---------------------------------------------
$c = smtp_connect($dlp->{port});
($code, $text) = $c->cmd('EHLO client.test');
unlike($text, qr/XFORWARD/, 'xforward_hosts empty (the default): XFORWARD not offered');
like(($c->cmd('XFORWARD ADDR=192.0.2.1'))[1] // '', qr/^550 5\.7\.0 /, 'and refused');
$c->cmd('QUIT');
my $xf = dlp(xforward_hosts => ['127.0.0.1']);
$c = smtp_connect($xf->{port});
($code, $text) = $c->cmd('EHLO client.test');
like($text, qr/^250-XFORWARD NAME ADDR PROTO HELO/m, 'to xforward_hosts: offered');
is(($c->cmd('XFORWARD ADDR=192.0.2.1'))[0], 250, 'and relayed');
$c->cmd('QUIT');
$xf->stop;

$dlp->stop;
done_testing;
