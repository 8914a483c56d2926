#!/usr/bin/perl
# Logging: log_level per role through the options of master.conf (the
# workers quiet, the detector verbose, master as dlpgate.conf says), changed
# with dlpconf -M and applied by reload; syslog_name in every line; one
# "message complete" summary line per message with its fields.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpOps;

my $sink = start_sink();
my $port = free_port();
my $mc = <<"EOF2";
services = (
  { name = "smtpd"; type = "inet"; listen = ["127.0.0.1:$port"];
    command = "smtpd-proxy"; process_limit = 4; user = "dlpgate";
    options = { log_level = "warn"; }; },
  { name = "detector"; type = "unix"; listen = ["detector"];
    command = "detector"; process_limit = 2; process_min_avail = 1;
    user = "dlpgate-detect"; options = { log_level = "debug"; }; }
);
EOF2
my $dlp = start_dlpgate(port => $port, master_conf => $mc,
    conf => { resubmit_port => $sink->{port}, syslog_name => 'dlptest' });
my $etc = $dlp->{etc};

# send_one - one message in its own session
sub send_one {
    my ($subject) = @_;
    my $c = smtp_connect($port);
    $c->cmd('EHLO log.test');
    my ($code) = $c->send_message(from => 'sender@example.com',
        rcpt => ['one@example.net', 'two@example.net'],
        data => "Subject: $subject\r\n\r\nbody\r\n");
    $c->cmd('QUIT');
    $c->closed(10);
    return $code;
}

is(send_one('quiet workers'), 250, 'a message with quiet workers, a verbose detector');
ok($dlp->wait_log(qr/dlptest\/detector\[\d+\]: debug: /),
    'the detector logs at debug level');
ok($dlp->wait_log(qr/dlptest\/master\[\d+\]: 5001 master started/), 'master logs at info level');
ok(wait_until(sub { $sink->messages >= 1 }, 10), 'the message went through');
# a bare LF in the content: a warning (1008) the quiet workers still log
my $w = smtp_connect($port);
$w->cmd('EHLO log.test');
$w->cmd('MAIL FROM:<sender@example.com>');
$w->cmd('RCPT TO:<one@example.net>');
$w->cmd('DATA');
$w->send_raw("Subject: bare\r\n\r\nbare\nline\r\n.\r\n");
is(($w->read_reply(30))[0], 554, 'content with a bare LF: 554');
$w->cmd('QUIT');
ok($dlp->wait_log(qr/dlptest\/smtpd-proxy\[\d+\]: warning: 1008 message rejected/),
    'the workers log at warn level, under syslog_name');
unlike($dlp->log, qr/dlptest\/smtpd-proxy\[\d+\]: 100[137] /,
    'but nothing below it (no 1001, 1003, 1007)');
unlike($dlp->log, qr/dlptest\/master\[\d+\]: debug:/, 'master is not at debug level');
unlike($dlp->log, qr/^\S+ dlpgate\//m, 'every line carries syslog_name');

# swap them with dlpconf -M and a reload
my ($rc, $out) = dlpconf($etc, '-M', 'smtpd.options.log_level=info', 'detector.options.log_level=warn');
is($rc, 0, 'dlpconf -M changes the per-role log levels') or diag $out;
my $mark = $dlp->log_size;
my @old = $dlp->pids_of('detector');
is((dlpgate($etc, 'reload'))[0], 0, 'dlpgate reload');
ok($dlp->wait_log(qr/5003 master reloaded/, 20, $mark), 'reloaded');
# the old generation's detectors (still at debug) may log on their way out
ok(wait_until(sub { !grep { kill 0, $_ } @old }, 20), 'the old detectors are gone');
$mark = $dlp->log_size;
is(send_one('verbose workers'), 250, 'a message after the reload');
my $line = $dlp->wait_log(qr/dlptest\/smtpd-proxy\[\d+\]: 1007 message complete/, 20, $mark);
ok($line, 'the workers log at info level now');
unlike(substr($dlp->log, $mark), qr/detector\[\d+\]: debug:/, 'the detector no longer logs debug');

# the summary line of a message
like($line // '', qr/1007 message complete \(cid=[0-9A-F]{12} client=127\.0\.0\.1 from=<sender\@example\.com> rcpts=2 size=\d+ tls_in=none tls_out=none verdict=pass policies=- hop=127\.0\.0\.1:$sink->{port} reply="250 [^"]*" rtime=\d+\.\d{3} dtime=\d+\.\d{3} stime=\d+\.\d{3}\)/,
    'message complete: cid, client, from, rcpts, size, verdict, policies, hop, reply, times');
my ($cid) = ($line // '') =~ /cid=([0-9A-F]{12})/;
my @same = $dlp->log =~ /\(cid=\Q$cid\E /g;
ok(@same >= 3, "the session's lines share its connection id ($cid)");

# pairs - the key=value pairs of a line's details, as a parser splits them;
# undef if something is left that is no pair
sub pairs {
    my ($details) = @_;
    my @p;
    while ($details =~ /\G([\w-]+)=("(?:[^"\\]|\\.)*"|[^\s"()=\\]+) ?/gc) {
        push @p, [$1, $2];
    }
    return (pos($details) // 0) == length($details) ? @p : undef;
}

# a value from a peer cannot forge a field: the sender's quoted local part
# says "verdict=block policies=cards", the line still has one of each
$mark = $dlp->log_size;
my $c = smtp_connect($port);
$c->cmd('EHLO log.test');
my ($code) = $c->send_message(from => '"x verdict=block policies=cards"@example.com',
    data => "Subject: forged\r\n\r\nbody\r\n");
is($code, 250, 'a sender with key=value in its quoted local part is relayed');
$c->cmd('QUIT');
$line = $dlp->wait_log(qr/1007 message complete/, 20, $mark) // '';
my ($details) = $line =~ /1007 message complete \((.*)\)$/;
my @p = pairs($details // '');
ok(@p && defined $p[0], 'the line splits into key=value pairs') or diag $line;
my %n;
$n{$_->[0]}++ for grep { defined } @p;
is($n{verdict}, 1, 'one verdict');
is($n{policies}, 1, 'one policies');
is((map { $_->[1] } grep { defined && $_->[0] eq 'verdict' } @p)[0], 'pass', 'the real verdict');
like($line, qr/ from="<\\"x verdict=block policies=cards\\"\@example\.com>" /,
    'the sender quoted, its quotes escaped');

ok($dlp->stop, 'dlpgate stops');
done_testing;
