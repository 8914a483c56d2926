#!/usr/bin/perl
# Bad input from a client gets a clear SMTP reply with an enhanced status
# code and never a crash, a hang, or a message that should not exist.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;

my $sink = start_sink();
my $dlp = start_dlpgate(conf => { resubmit_port => $sink->{port},
    message_size_limit => 20000, smtpd_recipient_limit => 5,
    allow_hosts => ['127.0.0.1/32'], smtpd_timeout => 3 });

my $c = smtp_connect($dlp->{port});
is($c->{banner_code}, 220, 'banner');

# before HELO/EHLO
my ($code, $text) = $c->cmd('MAIL FROM:<a@example.com>');
is($code, 503, 'MAIL before EHLO: 503');
like($text, qr/^503 5\.5\.1 /, '... 5.5.1');
$c->cmd('EHLO client.test');

# command syntax and unknown commands
($code, $text) = $c->cmd('FOO bar');
is($code, 500, 'unknown command: 500');
like($text, qr/^500 5\.5\.2 Error: command not recognized/, '... 5.5.2, command not recognized');
($code, $text) = $c->cmd('MAIL FROM:' . ('x' x 3000));
is($code, 500, 'overlong command line: 500');
like($text, qr/^500 5\.5\.0 Error: line too long/, '... line too long');
is(($c->cmd('NOOP'))[0], 250, 'the session survives an overlong line');
($code, $text) = $c->cmd("NOOP\x00x");
is($code, 500, 'NUL in a command: 500');
($code, $text) = $c->cmd('MAIL FROM:a@example.com');
is($code, 501, 'MAIL without angle brackets: 501');
like($text, qr/^501 5\.1\.7 /, '... 5.1.7');
for my $cmd ('XCLIENT ADDR=1.2.3.4', 'AUTH PLAIN AAAA', 'ETRN example.com') {
    my ($w) = split / /, $cmd;
    ($code, $text) = $c->cmd($cmd);
    is($code, 502, "$w refused: 502");
}

# transaction order
($code, $text) = $c->cmd('RCPT TO:<b@example.net>');
is($code, 503, 'RCPT before MAIL: 503');
($code, $text) = $c->cmd('DATA');
is($code, 503, 'DATA before MAIL: 503');
like($text, qr/^503 5\.5\.1 /, '... 5.5.1');
is(($c->cmd('MAIL FROM:<a@example.com>'))[0], 250, 'MAIL');
($code, $text) = $c->cmd('MAIL FROM:<a@example.com>');
is($code, 503, 'nested MAIL: 503');
($code, $text) = $c->cmd('DATA');
is($code, 554, 'DATA before any accepted RCPT: 554');
like($text, qr/^554 5\.5\.1 Error: no valid recipients/, '... no valid recipients');
($code, $text) = $c->cmd('RCPT TO:<>');
is($code, 501, 'null recipient: 501');
($code, $text) = $c->cmd('RCPT TO:<b@example.net> FOO=bar');
is($code, 555, 'unknown RCPT parameter: 555');
like($text, qr/^555 5\.5\.4 Unsupported option: FOO/, '... names the option');
is(($c->cmd("RCPT TO:<r$_\@example.net>"))[0], 250, "recipient $_") for 1 .. 5;
($code, $text) = $c->cmd('RCPT TO:<r6@example.net>');
is($code, 452, 'recipient over smtpd_recipient_limit: 452');
like($text, qr/^452 4\.5\.3 /, '... 4.5.3');
$c->cmd('RSET');

# SIZE declared over the limit
($code, $text) = $c->cmd('MAIL FROM:<a@example.com> SIZE=30000');
is($code, 552, 'SIZE over message_size_limit: 552');
like($text, qr/^552 5\.3\.4 /, '... 5.3.4');

# content problems: each refused as a whole, nothing reaches the next hop
my %bad = (
    'bare LF' => "Subject: x\r\n\r\nline\nmore\r\n",
    'bare CR' => "Subject: x\r\n\r\nline\rmore\r\n",
    'oversize message' => "Subject: x\r\n\r\n" . (('y' x 78) . "\r\n") x 300,
    'overlong line' => "Subject: x\r\n\r\n" . ('z' x 1500) . "\r\n",
);
my %want = ('bare LF' => qr/^554 5\.6\.0 .*bare CR or LF/,
    'bare CR' => qr/^554 5\.6\.0 .*bare CR or LF/,
    'oversize message' => qr/^552 5\.3\.4 /,
    'overlong line' => qr/^554 5\.6\.0 .*line too long/);
for my $k (sort keys %bad) {
    ($code, $text) = $c->send_message(data => $bad{$k});
    like($text, $want{$k}, "$k: refused with the right code");
    is(($c->cmd('NOOP'))[0], 250, "$k: the session goes on");
}
like($dlp->log, qr/1008 message rejected .*reply="552 5\.3\.4/, 'rejections are logged');

# an overlong line whose CR and LF arrive apart: its CR went with the bytes
# dropped, and the "." line after it was not taken for the end, so the
# client waited for a reply that never came (smtpd-proxy/fuzz/fuzz-data
# splits every way; here a pause makes the proxy read the CR first)
is(($c->cmd('MAIL FROM:<a@example.com>'))[0], 250, 'split CR LF: MAIL');
is(($c->cmd('RCPT TO:<b@example.net>'))[0], 250, 'split CR LF: RCPT');
is(($c->cmd('DATA'))[0], 354, 'split CR LF: DATA');
$c->send_raw("Subject: x\r\n\r\n" . ('z' x 1500) . "\r");
select(undef, undef, undef, 0.3);
$c->send_raw("\n.\r\n");
like(($c->read_reply(10))[1] // '', qr/^554 5\.6\.0 .*line too long/,
    'split CR LF after an overlong line: the end of data is seen, 554');
is(($c->cmd('NOOP'))[0], 250, 'split CR LF: the session goes on');

# and a good message still goes through on the same session
($code) = $c->send_message(data => "Subject: good\r\n\r\nfine\r\n");
is($code, 250, 'a good message after all that is accepted');
my @m = $sink->wait_messages(1);
is(scalar @m, 1, 'only the good message reached the next hop');
like($m[0]{body}, qr/Subject: good/, '... and it is the good one');

# too many errors: 421 and the connection is closed
my $e = smtp_connect($dlp->{port});
$e->cmd('EHLO client.test');
my $last;
for (1 .. 25) { ($last) = $e->cmd('FOO'); last if !defined $last || $last == 421; }
is($last, 421, 'hard error limit: 421');
ok($e->closed, '... and the connection is closed');
like($dlp->log, qr/1009 client limit reached/, 'logged');

# the client falls silent: 421 4.4.2 after smtpd_timeout
my $t = smtp_connect($dlp->{port});
($code, $text) = $t->read_reply(15);
is($code, 421, 'client timeout: 421');
like($text, qr/^421 4\.4\.2 .*timeout/, '... 4.4.2 timeout');
like($dlp->wait_log(qr/1004 client timeout/), qr/client=127\.0\.0\.1/, 'logged with the client');

# a client outside allow_hosts
my $x = smtp_connect($dlp->{port}, from => '127.0.0.2');
ok($x, 'connection from 127.0.0.2');
is($x->{banner_code}, 554, 'outside allow_hosts: 554 banner');
like($x->{banner}, qr/^554 5\.7\.1 .*access denied for 127\.0\.0\.2/, '... 5.7.1, names the address');
is(($x->cmd('MAIL FROM:<a@example.com>'))[0], 503, 'commands refused');
is(($x->cmd('QUIT'))[0], 221, 'QUIT accepted');
like($dlp->wait_log(qr/1002 connection denied/), qr/client=127\.0\.0\.2/, 'logged with the address');

$c->cmd('QUIT');
ok($dlp->stop, 'dlpgate stops cleanly');

# configuration errors: file, line, setting, and exit status 1
my $dir = test_dir('badconf');
mkdir "$dir/etc";
spit("$dir/etc/dlpgate.conf", "# comment\noperating_mode = \"reflect\";\nresubmit_prot = 10026;\n");
my ($rc, $out) = run_cmd('timeout', 20, top_dir() . '/master/master', '-f', '-c', "$dir/etc");
is($rc, 1, 'a typo in dlpgate.conf stops the start with status 1');
like($out, qr{dlpgate\.conf:3: resubmit_prot: unknown setting \(did you mean resubmit_port\?\)},
    '... naming file, line, setting and the closest name');
spit("$dir/etc/dlpgate.conf", "resubmit_port = 70000;\n");
($rc, $out) = run_cmd('timeout', 20, top_dir() . '/master/master', '-f', '-c', "$dir/etc");
like($out, qr{dlpgate\.conf:1: resubmit_port: value 70000 out of range 1\.\.65535}, 'out of range value');
spit("$dir/etc/dlpgate.conf", "allow_hosts = [\"10.1.2.3/8\"];\n");
($rc, $out) = run_cmd('timeout', 20, top_dir() . '/master/master', '-f', '-c', "$dir/etc");
like($out, qr{allow_hosts: bad network "10\.1\.2\.3/8"}, 'bad network');
spit("$dir/etc/dlpgate.conf", "resubmit_port = ;\n");
($rc, $out) = run_cmd('timeout', 20, top_dir() . '/master/master', '-f', '-c', "$dir/etc");
like($out, qr{dlpgate\.conf:\d+: syntax error}, 'syntax error with a line number');
spit("$dir/etc/dlpgate.conf", "");
spit("$dir/etc/master.conf", "services = ( { name = \"smtpd\"; type = \"tcp\"; listen = [\"127.0.0.1:1\"]; command = \"smtpd-proxy\"; } );\n");
($rc, $out) = run_cmd('timeout', 20, top_dir() . '/master/master', '-f', '-c', "$dir/etc");
is($rc, 1, 'a bad master.conf stops the start');
like($out, qr{master\.conf:1: service smtpd: type "tcp" is not inet or unix}, '... with file, line and service');
($rc, $out) = run_cmd('timeout', 20, top_dir() . '/master/master', '-f', '-c', "$dir/etc", '-o', 'message_size_limt=5');
like($out, qr{-o message_size_limt: unknown setting \(did you mean message_size_limit\?\)}, 'bad -o override');

done_testing;
