#!/usr/bin/perl
# demo.pl - `make demo`: dlpgate with the shipped policies, in front of a sink
#
# Starts smtp-sink on 127.0.0.1:10026 (the reinjection port of reflecting
# mode) and dlpgate on 127.0.0.1:10025 (or free ports when those are
# taken), with etc/policies.conf and internal_domains = example.com, then
# sends three messages from alice@example.com to bob@partner.example:
#   1. a clean one                          -> passes, with X-Filter-Loop
#   2. a card number in a .docx attachment  -> 550, the payment-cards policy
#   3. a "confidential" keyword             -> passes modified: subject and
#                                              X-CFilter: Encrypt
# and prints what the sending MTA and the sink saw, the log lines and the
# incident lines. Everything stops at the end.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use File::Copy qw(copy);
use File::Path qw(make_path);
use MIME::Base64;
use DlpTest;
use DlpDetect;

$| = 1;
my $top = top_dir();
my $sport = port_free(10026) ? 10026 : free_port();
my $dport = port_free(10025) ? 10025 : free_port();
my $sink = start_sink(port => $sport);
my $dir = test_dir('demo');
make_path("$dir/etc");
copy("$top/etc/policies.conf", "$dir/etc/policies.conf") or die "copy: $!";
my $dlp = start_dlpgate(dir => $dir, port => $dport, conf => {
    resubmit_port => $sport, internal_domains => ['example.com'],
    incident_log => "$dir/log/incidents.log", notify_queue_directory => "$dir/spool" });
$dlp->wait_log(qr/3004 detector ready/, 30) or die "no detector:\n" . $dlp->log;
print "dlpgate on 127.0.0.1:$dport, smtp-sink on 127.0.0.1:$sport, policies: etc/policies.conf\n\n";

my @mail = (
    ['a clean message', mime_message(from => 'alice@example.com', to => 'bob@partner.example',
        subject => 'Lunch on Friday?', body => "Hi Bob,\n\nlunch on Friday at noon?\n\nAlice\n")],
    ['a card number in a .docx attachment', mime_message(from => 'alice@example.com',
        to => 'bob@partner.example', subject => 'Order form', parts => [
            { type => 'text/plain; charset=utf-8', body => "Hi Bob,\n\nthe order form is attached.\n", disposition => 'inline' },
            { type => 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
              filename => 'order.docx', encoding => 'base64',
              body => docx_bytes('Order 1187. Payment by credit card number 4111 1111 1111 1111, expiry 12/29.') }])],
    ['a confidential keyword', mime_message(from => 'alice@example.com', to => 'bob@partner.example',
        subject => 'Q3 numbers', body => "Bob,\n\nthe Q3 forecast below is strictly confidential.\n\nAlice\n")],
);
my $n = 0;
for my $m (@mail) {
    $n++;
    $sink->clear;
    my $from = $dlp->log_size;
    my ($code, $text) = send_mail($dlp, from => 'alice@example.com', rcpt => ['bob@partner.example'],
        data => $m->[1]);
    print "== $n. $m->[0]\n";
    print "   the sending MTA got: $text\n";
    if ($code == 250) {
        my @got = $sink->wait_messages(1);
        my ($hdr) = split /\n\n/, $got[0]{body}, 2;
        print "   the sink got it for @{$got[0]{rcpt}}; X- headers and Subject as delivered:\n";
        print "     $_\n" for grep { /^(X-|Subject:)/ } split /\n/, $hdr;
    } else {
        print "   the sink got nothing: the MTA bounces it with that text\n";
    }
    $dlp->wait_log(qr/3001 detector verdict/, 10, $from);
    for my $l (split /\n/, substr($dlp->log, $from)) {
        print "   log: $1\n" if $l =~ /: ((?:3001|7001) .*)/;
    }
    print "\n";
}
print "== incident log ($dlp->{dir}/log/incidents.log), masked:\n";
print "   $_\n" for split /\n/, (slurp("$dir/log/incidents.log") // '');
$dlp->stop;
$sink->stop;
print "\ndlpgate stopped.\n";
