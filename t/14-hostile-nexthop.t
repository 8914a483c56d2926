#!/usr/bin/perl
# A next hop that garbles its replies, answers out of turn, or dies can
# never make dlpgate say 2xx to its client for a message it did not
# accept: the client gets 451 4.3.0 or 421 4.4.2 and the log says why.
#
# No real MTA misbehaves on demand, so the next hop here is a small
# scripted server: it answers each command with the reply of its script.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use POSIX ();
use DlpTest;

# fake_hop - a one-connection-at-a-time server playing a script
sub fake_hop {
    my (%script) = @_;
    my $port = free_port();
    my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
        Listen => 16, ReuseAddr => 1) or die "listen: $!";
    my $pid = fork // die;
    if ($pid == 0) {
        while (my $c = $srv->accept) {
            $c->autoflush(1);
            print $c $script{CONNECT} // "220 fake.test ESMTP\r\n";
            while (my $line = <$c>) {
                my ($verb) = $line =~ /^(\w+)/;
                $verb = uc($verb // '');
                my $reply = $script{$verb} // "250 2.0.0 Ok\r\n";
                $reply = "250-fake.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
                    if $verb eq 'EHLO' && !exists $script{EHLO};
                $reply = "354 go\r\n" if $verb eq 'DATA' && !exists $script{DATA};
                last if $reply eq 'CLOSE';
                next if $reply eq 'SILENT';
                print $c $reply;
                if ($verb eq 'DATA' && $reply =~ /^354/) {
                    while (my $l = <$c>) { last if $l eq ".\r\n" }
                    my $end = $script{'.'} // "250 2.0.0 Ok: queued\r\n";
                    last if $end eq 'CLOSE';
                    next if $end eq 'SILENT';
                    print $c $end;
                }
                last if $verb eq 'QUIT';
            }
            close $c;
        }
        POSIX::_exit(0);
    }
    close $srv;
    reap_at_exit($pid);
    return ($port, $pid);
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
    ['two replies to MAIL', { MAIL => "250 ok\r\n250 ok\r\n" }, 'RCPT', qr/^421 4\.4\.2 /],
);

for my $case (@cases) {
    my ($name, $script, $where, $want) = @$case;
    my ($port) = fake_hop(%$script);
    my $dlp = start_dlpgate(conf => { operating_mode => 'forward',
        next_hop => ["127.0.0.1:$port"], next_hop_data_done_timeout => 3 });
    my $c = smtp_connect($dlp->{port});
    $c->cmd('EHLO client.test');
    my %got;
    ($got{MAIL}) = [$c->cmd('MAIL FROM:<a@example.com>')];
    ($got{RCPT}) = [$c->cmd('RCPT TO:<b@example.net>')] if $got{MAIL}[0] && $got{MAIL}[0] == 250;
    ($got{DATA}) = [$c->cmd('DATA')] if $got{RCPT} && $got{RCPT}[0] == 250;
    if ($got{DATA} && $got{DATA}[0] == 354) {
        $c->send_raw("Subject: x\r\n\r\nx\r\n.\r\n");
        $got{'.'} = [$c->read_reply(20)];
    }
    like($got{$where}[1] // '', $want, "$name: $where answered " . ($want =~ /451/ ? '451 4.3.0' : '421 4.4.2'));
    my @steps = ('MAIL', 'RCPT', 'DATA', '.');
    my ($from) = grep { $steps[$_] eq $where } 0 .. $#steps;
    is_deeply([grep { $got{$_} && ($got{$_}[0] // 0) =~ /^2/ } @steps[$from .. $#steps]], [],
        "$name: never a 2xx for the message from $where on");
    ok(!($got{'.'} && ($got{'.'}[0] // 0) == 250), "$name: no 250 for the content");
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

done_testing;
