#!/usr/bin/perl
# How a message reaches the detector: one of up to 192 KB inside the
# request record (no memfd at all), a larger one in a sealed memfd, made at
# the end of DATA or, past the worker's staging buffer, while it arrives. Every
# size is scanned whole, delivered byte for byte, and modified where the
# verdict says; the detector refuses a request whose inline message is not
# the size it announces.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::UNIX;
use Socket qw(SOCK_SEQPACKET);
use DlpTest;
use DlpDetect;

my $policies = <<'EOF';
policies = (
  { name = "falcon"; rules = ( { type = "keyword"; keywords = ["project falcon"]; } );
    action = "block"; reply = "550 5.7.1 Falcon stays here"; },
  { name = "secret"; rules = ( { type = "keyword"; keywords = ["confidential"]; } );
    action = "modify"; subject_prepend = "[SECURE] "; }
);
EOF

my $sink = start_sink();
my $dlp = start_detect(policies => $policies, sink => $sink);

# body - a message of about $kb KB, the given words in its last line
sub body {
    my ($subject, $kb, $last) = @_;
    my $line = ("the quarterly figures are attached " x 2) . "\n";
    return "From: a\@example.com\nTo: b\@example.net\nSubject: $subject\n\n"
        . ($line x int($kb * 1024 / length $line)) . "$last\n";
}

# 1 and 100 KB: inside the record; 200 KB: a memfd at the end; 400 KB: a
# memfd made while the content still arrives (past the 256 KB staging buffer)
for my $kb (1, 100, 200, 400) {
    $sink->clear;
    my $clean = body("clean $kb", $kb, "see you");
    my ($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'], data => $clean);
    is($code, 250, "$kb KB, clean: passed");
    my @m = $sink->wait_messages(1, 30);
    ok(@m && $m[0]{body} eq "X-Filter-Loop: Reflected\n$clean", "$kb KB: arrives byte for byte");

    ($code, my $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
        data => body("falcon $kb", $kb, "about project falcon"));
    is($code, 550, "$kb KB, a keyword in its last line: blocked");
    like($text, qr/Falcon stays here/, "$kb KB: with the policy's reply");

    $sink->clear;
    ($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
        data => body("report $kb", $kb, "confidential"));
    is($code, 250, "$kb KB, modify: passed");
    @m = $sink->wait_messages(1, 30);
    like($m[0]{body} // '', qr/^Subject: \[SECURE\] report $kb$/m, "$kb KB: its Subject rewritten");
    like($m[0]{body} // '', qr/^confidential\n\z/m, "$kb KB: its content whole");
}

# the detector's side of the contract, spoken directly (root may ask)
my $env = "cid\tT3STREQUEST1\nclient_addr\t127.0.0.1\nclient_port\t1\nclient_name\tunknown\n"
    . "helo\tt\ntls_in\tnone\nmail_from\t<a\@example.com>\nmail_params\t\n"
    . "rcpt\t<b\@example.net>\t\n";

# record - an IPC record: header, then tag/length/value attributes
sub record {
    my ($type, @attr) = @_;
    my $payload = '';
    while (my ($tag, $val) = splice(@attr, 0, 2)) {
        $payload .= pack('vV', $tag, length $val) . $val;
    }
    return pack('VvvV', 0x444c5047, 1, $type, length $payload) . $payload;
}

# ask - one request on a fresh connection: the type of the answer, and its text
sub ask {
    my (%a) = @_;
    my $msg = $a{message};
    my $s = IO::Socket::UNIX->new(Type => SOCK_SEQPACKET, Peer => "$dlp->{run}/private/detector")
        or return (-1, "connect: $!");
    my $rec = record(1, 1 => $a{cid} // 'T3STREQUEST1',
        2 => pack('Q<', $a{size} // length $msg), 3 => pack('Q<', length $env),
        4 => pack('V', 10), 5 => $env, 6 => $msg);
    defined send($s, $rec, 0) or return (-1, "send: $!");
    my $rin = '';
    vec($rin, fileno($s), 1) = 1;
    select($rin, undef, undef, 20) or return (-1, 'no answer');
    defined recv($s, my $ans, 65536, 0) or return (-1, "recv: $!");
    return (-1, 'closed') unless length $ans >= 12;
    return (unpack('x6v', $ans), substr($ans, 12));
}

my $from = $dlp->log_size;
my ($type, $ans) = ask(message => "Subject: hi\r\n\r\nabout project falcon\r\n");
is($type, 2, 'an inline message gets a verdict');
like($ans, qr/Falcon stays here/, 'the block of the policy it matched');
($type) = ask(message => "Subject: hi\r\n\r\nnothing to see\r\n");
is($type, 2, 'a clean inline message gets a verdict');
($type, $ans) = ask(message => "Subject: hi\r\n\r\nshort\r\n", size => 5000);
is($type, 3, 'an inline message shorter than announced: refused');
like($dlp->wait_log(qr/3003 detector request refused/, 10, $from) // '',
    qr/inline message of \d+ bytes, announced 5000/, 'and the log says why');

done_testing;
