#!/usr/bin/perl
# A next hop that garbles its replies, answers out of turn, or dies can
# never make dlpgate say 2xx to its client for a message it did not
# accept: the client gets 451 4.3.0 or 421 4.4.2 and the log says why.
#
# No real MTA misbehaves on demand, so the next hop here is a small
# scripted server (t/lib/DlpHop.pm): it answers each command with the
# reply of its script.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpHop;

# fake_hop - the scripted next hop (DlpHop), as (port, hop)
sub fake_hop {
    my $hop = start_hop(@_);
    return ($hop->{port}, $hop);
}

my @cases = (
    ['mismatched codes in a multi-line reply', { MAIL => "250-ok\r\n550 no\r\n" },
        'MAIL', qr/^451 4\.3\.0 /],
    ['354 to MAIL', { MAIL => "354 what\r\n" }, 'MAIL', qr/^451 4\.3\.0 /],
    ['binary garbage to RCPT', { RCPT => "\x01\x02\x03\r\n" }, 'RCPT', qr/^451 4\.3\.0 /],
    ['no code at all', { RCPT => "hello\r\n" }, 'RCPT', qr/^451 4\.3\.0 /],
    ['reply code 600', { RCPT => "600 odd\r\n" }, 'RCPT', qr/^451 4\.3\.0 /],
    ['250 to DATA', { DATA => "250 sure\r\n" }, '.', qr/^451 4\.3\.0 /],
    ['354 after the end of data', { '.' => "354 again\r\n" }, '.', qr/^451 4\.3\.0 /],
    ['closed after the content', { '.' => 'CLOSE' }, '.', qr/^421 4\.4\.2 /],
    ['closed at RCPT', { RCPT => 'CLOSE' }, 'RCPT', qr/^421 4\.4\.2 /],
    ['silent after the content', { '.' => 'SILENT' }, '.', qr/^421 4\.4\.2 /],
    # two replies to one command: neither is relayed, either may be another's
    ['two replies to MAIL', { MAIL => "250 ok\r\n250 ok\r\n" }, 'MAIL', qr/^451 4\.3\.0 /],
    # reply hygiene: what no command asked for is never relayed
    ['a reply line over 512 octets', { RCPT => "250 " . ("x" x 600) . "\r\n" },
        'RCPT', qr/^451 4\.3\.0 /],
    ['221 to MAIL', { MAIL => "221 2.0.0 Bye\r\n" }, 'MAIL', qr/^451 4\.3\.0 /],
    ['220 to RCPT', { RCPT => "220 2.0.0 hello again\r\n" }, 'RCPT', qr/^451 4\.3\.0 /],
    ['214 to RCPT', { RCPT => "214 2.0.0 help text\r\n" }, 'RCPT', qr/^451 4\.3\.0 /],
    ['a late second reply to MAIL', { MAIL => ["250 ok\r\n", 0.3, "250 ok\r\n"],
        RCPT => "550 5.1.1 no such user\r\n" }, 'RCPT', qr/^451 4\.3\.0 /,
        qr/^late MAIL/],
    ['a late second reply to the end of data', { '.' => ["250 queued\r\n", 0.3,
        "250 queued twice\r\n"] }, 'NEXT', qr/^451 4\.3\.0 .*protocol/, qr/^late \./],
);

my @steps = ('MAIL', 'RCPT', 'DATA', '.', 'NEXT');
for my $case (@cases) {
    my ($name, $script, $where, $want, $late) = @$case;
    my ($port, $hop) = fake_hop(%$script);
    my $dlp = start_dlpgate(conf => { operating_mode => 'forward',
        next_hop => ["127.0.0.1:$port"], next_hop_data_done_timeout => 3 });
    my $c = smtp_connect($dlp->{port});
    $c->cmd('EHLO client.test');
    my %got;
    # a late reply must have arrived before the next command goes out
    my $step = sub { my ($line) = @_; $hop->wait_event($late) if $late; return [$c->cmd($line, 20)] };
    $got{MAIL} = [$c->cmd('MAIL FROM:<a@example.com>')];
    $got{RCPT} = $step->('RCPT TO:<b@example.net>') if ($got{MAIL}[0] // 0) == 250;
    $got{DATA} = [$c->cmd('DATA')] if $got{RCPT} && ($got{RCPT}[0] // 0) == 250;
    if ($got{DATA} && ($got{DATA}[0] // 0) == 354) {
        $c->send_raw("Subject: x\r\n\r\nx\r\n.\r\n");
        $got{'.'} = [$c->read_reply(20)];
        $got{NEXT} = $step->('MAIL FROM:<c@example.com>') if ($got{'.'}[0] // 0) == 250;
    }
    like($got{$where}[1] // '', $want, "$name: $where answered " . ($want =~ /451/ ? '451 4.3.0' : '421 4.4.2'));
    # from where it went wrong on, no reply is a 2xx
    my @after = grep { $got{$_} } @steps[(grep { $steps[$_] eq $where } 0 .. $#steps)[0] .. $#steps];
    ok(!grep({ ($got{$_}[0] // 0) =~ /^2/ } @after), "$name: never a 2xx from $where on")
        or diag explain \%got;
    ok(!($got{'.'} && ($got{'.'}[0] // 0) == 250) || $where eq 'NEXT', "$name: no 250 for the content");
    like($dlp->wait_log(qr/200[456] next hop/), qr/cid=/, "$name: logged as a next-hop failure");
    $c->close;
    $dlp->stop;
}

# extra lines after the banner: that next hop is not used
my ($port) = fake_hop(CONNECT => "220 fake.test ESMTP\r\n250 surprise\r\n");
my $dlp = start_dlpgate(conf => { operating_mode => 'forward', next_hop => ["127.0.0.1:$port"] });
my $c = smtp_connect($dlp->{port});
like($c->{banner}, qr/^421 4\.4\.1 /, 'data after the banner: the hop is refused, 421 4.4.1');
like($dlp->log, qr/2003 no next hop reachable .*malformed or unexpected reply/, 'and the log says why');

# a garbled reply read while a pipelined command waits behind it: the hop
# is dropped, and that command gets 421 instead of being written to the
# hop that is gone (a NULL stream: the worker crashed; found by
# smtpd-proxy/fuzz/fuzz-session)
$dlp->stop;
($port) = fake_hop(MAIL => "250-ok\r\n550 no\r\n");
$dlp = start_dlpgate(conf => { operating_mode => 'forward', next_hop => ["127.0.0.1:$port"] });
$c = smtp_connect($dlp->{port});
$c->cmd('EHLO client.test');
$c->send_raw("MAIL FROM:<a\@example.com>\r\nNOOP\r\n");
like(($c->read_reply(10))[1] // '', qr/^451 4\.3\.0 /, 'pipelined MAIL, garbled reply: 451 4.3.0');
like(($c->read_reply(10))[1] // '', qr/^421 4\.4\.2 /, 'the NOOP behind it: 421 4.4.2');
ok($c->closed, 'and the session ends');
unlike($dlp->log, qr/5004 child exited abnormally/, 'no worker crashed');

# a pipelined group whose replies come with one more: which is whose cannot
# be known, so none of them is relayed (the 250 to MAIL may have been meant
# for a command before it), the first gets 451 4.3.0, the hop is dropped
$dlp->stop;
($port) = fake_hop(RCPT => "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n");
$dlp = start_dlpgate(conf => { operating_mode => 'forward', next_hop => ["127.0.0.1:$port"] });
$c = smtp_connect($dlp->{port});
$c->cmd('EHLO client.test');
$c->send_raw("MAIL FROM:<a\@example.com>\r\nRCPT TO:<b\@example.net>\r\n");
like(($c->read_reply(10))[1] // '', qr/^451 4\.3\.0 /,
    'pipelined MAIL and RCPT, three replies: MAIL 451 4.3.0, not 250');
like(($c->read_reply(10))[1] // '', qr/^421 4\.4\.2 /, 'and RCPT 421 4.4.2, not 250');
like($dlp->wait_log(qr/2004 next hop protocol error/) // '', qr/during="reply \(unsolicited data\)"/,
    'logged as unsolicited data');

# "SIZE " without a number: no limit from the next hop. (strtoll() skipped
# the CRLF and took the next line's "250" for it: SIZE 250, and 552 for
# every MAIL that announced more; found by smtpd-proxy/fuzz/fuzz-reply.)
$dlp->stop;
($port) = fake_hop(EHLO => "250-fake.test\r\n250-SIZE \r\n250 8BITMIME\r\n");
$dlp = start_dlpgate(conf => { operating_mode => 'forward', next_hop => ["127.0.0.1:$port"] });
$c = smtp_connect($dlp->{port});
my (undef, $ehlo) = $c->cmd('EHLO client.test');
like($ehlo, qr/^250[- ]SIZE 10240000\r?$/m, 'EHLO: a SIZE without a number leaves message_size_limit') or diag $ehlo;
is(($c->cmd('MAIL FROM:<a@example.com> SIZE=1000'))[0], 250, 'and MAIL SIZE=1000 is relayed');
$c->close;
$dlp->stop;

# big_message - a client in DATA sends lines of 1000 octets to size bytes;
# the final reply, the client and the hop
sub big_message {
    my ($size, %script) = @_;
    my ($port, $hop) = fake_hop(RCVBUF => 16384, %script);
    # one worker: the next session reuses its streams (t/14 checks that)
    my $dlp = start_dlpgate(conf => { operating_mode => 'forward',
        next_hop => ["127.0.0.1:$port"], next_hop_data_timeout => 2 },
        smtpd => { process_limit => 1 });
    my $c = smtp_connect($dlp->{port});
    $c->cmd('EHLO client.test');
    $c->cmd('MAIL FROM:<a@example.com>');
    $c->cmd('RCPT TO:<b@example.net>');
    $c->cmd('DATA');
    my $line = ("x" x 998) . "\r\n";
    $c->send_raw("Subject: big\r\n\r\n" . ($line x int($size / 1000)) . ".\r\n");
    return ([$c->read_reply(60)], $dlp, $hop, $c);
}

# a next hop that stops reading in the middle of the content: the write
# times out, and what was not written is never made up for by an end of
# data (a well-formed, shorter message the hop would accept): the client
# hears 451 4.4.2, the hop is dropped, the log says so
$dlp->stop;
my ($r, $hop);
($r, $dlp, $hop, $c) = big_message(9_000_000, DATA_STALL => 8);
like($r->[1] // '', qr/^451 4\.4\.2 /, 'a next hop that stalls mid-content: 451 4.4.2');
ok($hop->wait_event(qr/^(?:eof|dot)$/m, 30), 'the hop read what it got');
unlike($hop->events, qr/^dot$/m, 'and no end of data came after the lost bytes');
like($dlp->wait_log(qr/2005 next hop timeout/) // '', qr/during="?message content/,
    'logged as a timeout during the content');
like(($c->cmd('MAIL FROM:<a@example.com>'))[1] // '', qr/^421 4\.4\.2 /,
    'the next command: 421, the hop is gone');
# the same worker's next session: a failed write stays with its stream
$c = smtp_connect($dlp->{port});
is($c->{banner_code}, 220, 'the next session of that worker is greeted');
is(($c->cmd('EHLO client.test'))[0], 250, 'and answered');
$c->cmd('QUIT');
$dlp->stop;

# a next hop that speaks while the content is still being sent: nothing
# asked it to, so its words are no reply to anything; we stop sending (no
# end of data), 451 4.3.0, the hop is dropped
($r, $dlp, $hop, $c) = big_message(8_000_000, DURING_DATA => "554 5.0.0 go away\r\n");
like($r->[1] // '', qr/^451 4\.3\.0 /, 'a reply during the content: 451 4.3.0');
ok($hop->wait_event(qr/^(?:eof|dot)$/m, 30), 'the hop read what it got');
unlike($hop->events, qr/^dot$/m, 'and no end of data after its unasked reply');
like($dlp->wait_log(qr/2004 next hop protocol error/) // '', qr/during="?message content/,
    'logged as a protocol error during the content');
$dlp->stop;

# anything after 221 is a protocol error: the client still hears goodbye
($port, $hop) = fake_hop(QUIT => "221 2.0.0 Bye\r\n250 2.0.0 one more thing\r\n");
$dlp = start_dlpgate(conf => { operating_mode => 'forward', next_hop => ["127.0.0.1:$port"] });
$c = smtp_connect($dlp->{port});
$c->cmd('EHLO client.test');
like(($c->cmd('QUIT'))[1] // '', qr/^221 /, 'QUIT: 221');
like($dlp->wait_log(qr/2004 next hop protocol error/) // '', qr/during="?QUIT/,
    'what the hop said after its 221 is logged as a protocol error');
$dlp->stop;

done_testing;
