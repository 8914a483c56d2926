#!/usr/bin/perl
# A notification that cannot be sent never delays the message it is about;
# it waits in notify_queue_directory, is logged as deferred, and goes out
# once notify_relay answers.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time);
use DlpTest;
use DlpDetect;

my $nport = free_port();
# a relay that takes the connection and never says a word
my $silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $nport, Listen => 16,
    ReuseAddr => 1) or die "listen: $!";

my $sink = start_sink();
my $dlp = start_detect(sink => $sink, conf => { notify_relay => "127.0.0.1:$nport",
    notify_timeout => '5s', notify_retry_time => '10s' }, policies => <<'EOF');
policies = (
  { name = "cards"; rules = ( { type = "identifier"; identifier = "credit_card"; } );
    action = "block"; notify = ["soc@example.com"]; }
);
EOF

my ($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
    data => "Subject: x\n\n4111 1111 1111 1111\n");
is($code, 550, 'the message is blocked');
unlike($dlp->log, qr/7005 notification deferred/,
    'before the silent relay timed out (notify_timeout 5s): the block did not wait for it');
like($dlp->wait_log(qr/7003 notification queued/), qr/policy=cards .*rcpts=1/, 'notification queued');
like($dlp->wait_log(qr/7005 notification deferred/, 30), qr/attempts=1 retry=10s reason="/,
    'relay silent: deferred with the retry time');
my @queued = map { s{.*/}{}r } glob("$dlp->{queue}/*");    # not .NAME.XXXXXX
is(scalar @queued, 1, 'the notification waits in the queue directory');

# meanwhile the gateway goes on
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'], data => "Subject: y\n\nhello\n");
is($code, 250, 'other mail flows while the relay is down');

# the relay comes back: the notification goes out on its own
close $silent;
my $nsink = start_sink(port => $nport);
my @n = $nsink->wait_messages(1, 60);
is(scalar @n, 1, 'notification delivered after the relay came back');
is_deeply($n[0]{rcpt}, ['<soc@example.com>'], 'to the policy\'s recipient');
like($n[0]{body}, qr/\*\*\*\* \*\*\*\* \*\*\*\* 1111/, 'with the masked match');
ok($dlp->wait_log(qr/7004 notification sent \(id=\Q$queued[0]\E .*attempts=2/, 30), 'sent on the second attempt, logged');
ok(wait_until(sub { !glob("$dlp->{queue}/*") }, 10), 'queue directory empty again');
ok($dlp->stop, 'dlpgate stops');
done_testing;
