#!/usr/bin/perl
# What policies.conf(5) and dlpgate.conf(5) promise and no other test
# shows: a regex rule that matches; attachment rules by type (from the file
# name alone) and by name; subject_append; exceptions.recipients; the names
# of the monitor-mode headers (violation_count_header,
# violation_severity_header); unscannable_action = tempfail, and block with
# unscannable_reply; notifications given up after notify_max_age.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpDetect;

my $sink = start_sink();
my $closed = free_port();    # nobody listens: every notification attempt fails at once
my $policies = <<'EOF';
policies = (
  { name = "invoice-re"; rules = ( { type = "regex"; patterns = ["INV-[0-9]{4}-[A-Z]{2}"]; } );
    action = "block"; reply = "550 5.7.1 invoice numbers stay inside"; },
  { name = "no-exe"; rules = ( { type = "attachment"; types = ["exe"]; } );
    action = "block"; reply = "550 5.7.1 no programs"; },
  { name = "no-keys"; rules = ( { type = "attachment"; names = ["*.kdbx"]; } );
    action = "block"; reply = "550 5.7.1 no password safes"; },
  { name = "tag"; rules = ( { type = "keyword"; keywords = ["quarterly"]; } );
    action = "modify"; subject_append = " [checked]"; },
  { name = "board"; rules = ( { type = "keyword"; keywords = ["merger"]; } );
    exceptions = { recipients = ["ceo@example.com", "*@board.example.com"]; };
    action = "block"; reply = "550 5.7.1 board only"; },
  { name = "watch"; mode = "monitor"; severity = "medium";
    rules = ( { type = "keyword"; keywords = ["draft"]; } ); action = "block"; },
  { name = "ring"; rules = ( { type = "keyword"; keywords = ["alarm"]; } );
    notify = ["soc@example.com"]; }
);
EOF
my %common = (violation_count_header => 'X-Leak-Count', violation_severity_header => 'X-Leak-Level',
    detector_part_limit => 3, notify_relay => "127.0.0.1:$closed", notify_max_age => '60s',
    notify_timeout => '5s');
my $dlp = start_detect(sink => $sink, policies => $policies,
    conf => { %common, unscannable_action => 'tempfail' });

# outcome - (code, reply text, the message at the sink or undef)
sub result {
    my ($d, %m) = @_;
    $sink->clear;
    my ($code, $text) = send_mail($d, from => 'a@example.com', rcpt => ['b@example.net'], %m);
    my ($msg) = $code && $code == 250 ? $sink->wait_messages(1) : ();
    return ($code, $text // '', $msg);
}

my ($code, $text, $msg) = result($dlp, data => "Subject: x\n\nsee INV-2024-QX attached\n");
is($code, 550, 'regex rule: a match blocks');
like($text, qr/^550 5\.7\.1 invoice numbers stay inside/, 'with the policy\'s reply');
($code) = result($dlp, data => "Subject: x\n\nsee INV-24-QX and inv-2024-qx\n");
is($code, 250, 'regex rule: near misses pass (the regex is case-sensitive by default)');

my $exe_as_text = mime_message(subject => 'tools', parts => [
    { body => "see the attachment\n" },
    { type => 'application/octet-stream', filename => 'setup.exe', encoding => 'base64',
      body => "just some text, no program header at all\n" } ]);
($code, $text) = result($dlp, data => $exe_as_text);
like("$code $text", qr/^550 550 5\.7\.1 no programs/, 'attachment type "exe" by the file name alone');
my $renamed = mime_message(subject => 'tools', parts => [
    { body => "see the attachment\n" },
    { type => 'application/octet-stream', filename => 'notes.txt', encoding => 'base64',
      body => "plain notes\n" } ]);
($code) = result($dlp, data => $renamed);
is($code, 250, 'the same part named notes.txt passes');
my $safe = mime_message(subject => 'passwords', parts => [
    { body => "here\n" },
    { type => 'application/octet-stream', filename => 'Team.KDBX', encoding => 'base64',
      body => "\x03\xd9\xa2\x9a" . "x" x 64 } ]);
($code, $text) = result($dlp, data => $safe);
like("$code $text", qr/^550 550 5\.7\.1 no password safes/, 'attachment names = ["*.kdbx"] (case-insensitive glob)');

($code, undef, $msg) = result($dlp, data => "Subject: Results\n\nthe quarterly numbers\n");
is($code, 250, 'modify: the message goes on');
like($msg->{body} // '', qr/^Subject: Results \[checked\]$/m, 'subject_append appends to the subject');

($code, $text) = result($dlp, data => "Subject: x\n\nthe merger\n", rcpt => ['b@example.net']);
like("$code $text", qr/^550 550 5\.7\.1 board only/, 'exceptions.recipients: another recipient, blocked');
($code) = result($dlp, data => "Subject: x\n\nthe merger\n",
    rcpt => ['ceo@example.com', 'jo@board.example.com']);
is($code, 250, 'every recipient excepted (an address, a pattern): the policy is silent');
($code) = result($dlp, data => "Subject: x\n\nthe merger\n", rcpt => ['ceo@example.com', 'b@example.net']);
is($code, 550, 'one recipient not excepted: it fires');

($code, undef, $msg) = result($dlp, data => "Subject: x\n\na draft\n");
is($code, 250, 'a monitor-mode policy (action block) passes the message');
like($msg->{body} // '', qr/^X-Leak-Count: 1$/m, 'violation_count_header names the count header');
like($msg->{body} // '', qr/^X-Leak-Level: medium$/m, 'violation_severity_header names the severity header');
unlike($msg->{body} // '', qr/^X-DLP-/m, 'the default names are not used');

my $many = mime_message(subject => 'parts', parts => [map { { body => "part $_\n" } } 1 .. 6]);
($code, $text) = result($dlp, data => $many);
is($code, 451, 'unscannable_action = tempfail: 451');
like($text, qr/^451 4\.\d\.\d /, 'with an enhanced status code');
like($dlp->wait_log(qr/3009 message not scanned completely/) // '',
    qr/unscannable_action=tempfail/, 'and the 3009 line says so');

# notify_max_age: a notification queued long ago is given up at its next
# failed attempt; one queued now is deferred
my $q = $dlp->{queue};
ok(wait_until(sub { -d $q }, 10), 'the queue directory exists');
my ($uid, $gid) = (getpwnam('dlpgate-detect'))[2, 3];
my $now = time;
for my $n (['old.1', $now - 3600], ['young.1', $now]) {
    spit("$q/$n->[0]", "queued\t$n->[1]\nattempts\t1\nfrom\tdlp\@gw.test\nrcpt\tsoc\@example.com\n\n"
        . "Subject: n\r\n\r\nbody\r\n");
    chown $uid, $gid, "$q/$n->[0]" if $> == 0 && defined $uid;
}
my $mark = $dlp->log_size;
result($dlp, data => "Subject: x\n\nalarm\n");    # a new notification starts the runner
like($dlp->wait_log(qr/7006 notification given up \(id=old\.1 /, 30, $mark) // '',
    qr/attempts=2/, 'older than notify_max_age (60s): given up at its next failed attempt');
ok($dlp->wait_log(qr/7005 notification deferred \(id=young\.1 /, 30, $mark),
    'a young one is deferred');
ok(!-e "$q/old.1" && -e "$q/young.1", 'the old one is gone, the young one waits');
ok(!$dlp->wait_log(qr/7006 notification given up \(id=young\.1 /, 1, $mark), 'and is not given up');
ok($dlp->stop, 'dlpgate stops');

# unscannable_action = block with its own reply
my $blk = start_detect(sink => $sink, policies => $policies,
    conf => { %common, unscannable_action => 'block',
              unscannable_reply => '550 5.7.0 Cannot read all of it, not sent' });
($code, $text) = result($blk, data => $many);
is($code, 550, 'unscannable_action = block: 550');
like($text, qr/^550 5\.7\.0 Cannot read all of it, not sent/, 'with unscannable_reply');
ok($blk->stop, 'dlpgate stops');
done_testing;
