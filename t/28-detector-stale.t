#!/usr/bin/perl
# A request whose worker stopped waiting (detector_timeout, the client got
# 451 and will retry) is not scanned when the detector gets to it: a scan
# would only duplicate the incident and notifications of the retry.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;

my $sink = start_sink();
my $port = free_port();
my $mc = DlpTest::default_master_conf($port, {});
$mc =~ s/process_limit = 4; process_min_avail = 2;/process_limit = 1; process_min_avail = 1;/
    or die "no detector line in the default master.conf";
my $dlp = start_dlpgate(port => $port, master_conf => $mc,
    conf => { resubmit_port => $sink->{port}, detector_timeout => '2s' });
my $det;
ok(wait_until(sub { ($det) = $dlp->pids_of('detector'); $det }, 20), 'one detector');

ok(kill('STOP', $det), 'the detector is frozen');
my $c = smtp_connect($port);
$c->cmd('EHLO client.test');
my ($code, $text) = $c->send_message(data => "Subject: stale\r\n\r\nstale\r\n");
is($code, 451, 'the worker gives up after detector_timeout: 451');
my $mark = $dlp->log_size;
ok(kill('CONT', $det), 'the detector wakes up');
ok($dlp->wait_log(qr/3013 request skipped, its worker stopped waiting/, 20, $mark),
    'it skips the request nobody waits for');
($code) = $c->send_message(data => "Subject: fresh\r\n\r\nfresh\r\n");
is($code, 250, 'the next message is scanned and passes');
my @m = $sink->wait_messages(1);
is(scalar @m, 1, 'one message at the next hop');
like($m[0]{body}, qr/Subject: fresh/, 'the fresh one');
$c->cmd('QUIT');
done_testing;
