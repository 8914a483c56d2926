#!/usr/bin/perl
# Hostile and broken messages: MIME bombs, deep nesting, zip bombs,
# encrypted and corrupt archives, huge headers, malformed structure. The
# detector never crashes or hangs; a message over a limit is scanned as
# far as allowed and then handled per unscannable_action; a detector that
# does not answer in time is handled per detector_failure.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64;
use IO::Compress::Zip qw(zip);
use DlpTest;
use DlpDetect;

my $policies = <<'EOF';
policies = (
  { name = "falcon"; rules = ( { type = "keyword"; keywords = ["falcon"]; look_in = ["all"]; } );
    action = "block"; reply = "550 5.7.1 falcon found"; }
);
EOF

my $sink = start_sink();
my $dlp = start_detect(sink => $sink, policies => $policies, conf => {
    unscannable_action => 'block', detector_depth_limit => 10, detector_part_limit => 200,
    detector_decoded_size_limit => '8m' });

sub verdict {
    my ($data) = @_;
    my ($code, $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
        data => $data, timeout => 120);
    return defined $code ? "$code" . ($code == 550 ? " $text" : '') : 'no answer';
}
my $UNSCANNABLE = '550 550 5.7.1 Message could not be scanned completely';

# nested multiparts, 100 deep, with the word at the bottom
my $deep = "Subject: deep\nMIME-Version: 1.0\n";
$deep .= "Content-Type: multipart/mixed; boundary=\"b$_\"\n\n--b$_\n" for 1 .. 100;
$deep .= "Content-Type: text/plain\n\nhello\n";
$deep .= "--b$_--\n" for reverse 1 .. 100;
is(verdict($deep), $UNSCANNABLE, 'nesting past detector_depth_limit: unscannable');

# thousands of parts
my $many = mime_message(subject => 'many', parts => [map { { body => "part $_\n", disposition => 'inline' } } 1 .. 1000]);
is(verdict($many), $UNSCANNABLE, 'parts past detector_part_limit: unscannable');

# a zip bomb: 64 MB of zeros in a few kilobytes
my $zeros = "\0" x (64 << 20);
my $bomb;
zip(\$zeros => \$bomb, Name => 'zeros.bin', Level => 9) or die;
undef $zeros;
ok(length($bomb) < 200_000, 'the bomb is small (' . length($bomb) . ' bytes)');
is(verdict(mime_message(subject => 'zip', parts => [{ type => 'application/zip', filename => 'z.zip',
    body => $bomb, encoding => 'base64' }])), $UNSCANNABLE, 'zip bomb stops at detector_decoded_size_limit');

# nested zips past the depth limit
my $nest = zip_bytes('x.txt' => 'falcon');
$nest = zip_bytes("l$_.zip" => $nest) for 1 .. 15;
is(verdict(mime_message(subject => 'zz', parts => [{ type => 'application/zip', filename => 'n.zip',
    body => $nest, encoding => 'base64' }])), $UNSCANNABLE, 'zip in zip 15 deep: unscannable');

# an encrypted zip cannot be read
SKIP: {
    skip 'zip(1) not installed', 1 unless -x '/usr/bin/zip';
    my $tmp = test_dir();
    spit("$tmp/secret.txt", "falcon\n");
    system("cd $tmp && zip -q -P pw enc.zip secret.txt") == 0 or die "zip failed";
    is(verdict(mime_message(subject => 'enc', parts => [{ type => 'application/zip', filename => 'enc.zip',
        body => slurp("$tmp/enc.zip"), encoding => 'base64' }])), $UNSCANNABLE, 'encrypted zip: unscannable');
}

# a corrupt zip
is(verdict(mime_message(subject => 'bad', parts => [{ type => 'application/zip', filename => 'bad.zip',
    body => "PK\x03\x04" . ("\xff" x 300), encoding => 'base64' }])), $UNSCANNABLE, 'corrupt zip: unscannable');

# broken structure that is still readable: no crash, the word is found or not
my %broken = (
    'multipart never closed' => ["Subject: a\nContent-Type: multipart/mixed; boundary=X\n\n--X\n\nhello\n--X\n\nthe falcon\n", '550 550 5.7.1 falcon found'],
    'multipart without boundary' => ["Subject: a\nContent-Type: multipart/mixed\n\nthe falcon\n", '550 550 5.7.1 falcon found'],
    'garbage base64' => ["Subject: a\nContent-Transfer-Encoding: base64\n\n!!!\$\$\$***==\n=\n", '250'],
    'stray = in quoted-printable' => ["Subject: a\nContent-Transfer-Encoding: quoted-printable\n\na = b =\n=Z\n=\n", '250'],
    'unbalanced HTML' => ["Subject: a\nContent-Type: text/html\n\n<p <<< &#xZZZ; &#99999999999; <!-- never closed\n", '250'],
    # header rules read every field: one cut at 64 KB was not read to its end
    'huge folded header' => ["Subject: a\nX-Big: " . join("\n ", ('y' x 900) x 500) . "\n\nok\n", $UNSCANNABLE],
    'header line without a colon' => ["Subject: a\nthis is no header\n\nok\n", '250'],
    'very long boundary' => ["Subject: a\nContent-Type: multipart/mixed; boundary=\"" . ('B' x 300) . "\"\n\n--" . ('B' x 300) . "\n\nok\n", '250'],
    'RFC 2231 filename with 100 continuations' => ["Subject: a\nContent-Type: multipart/mixed; boundary=Q\n\n--Q\nContent-Disposition: attachment"
        . join('', map { ";\n filename*$_*=%41" } 0 .. 99) . "\n\nx\n--Q--\n", '250'],
    'encoded word without end' => ["Subject: =?UTF-8?B?ZmFsY29u\n\nok\n", '250'],
    'unknown charset' => ["Subject: a\nContent-Type: text/plain; charset=x-no-such-charset\n\nthe falcon\n", '550 550 5.7.1 falcon found'],
);
for my $name (sort keys %broken) {
    is(verdict($broken{$name}[0]), $broken{$name}[1], $name);
}

# the detector is still the same healthy process pool
unlike($dlp->log, qr/5004 child exited abnormally.*detector/, 'no detector died');
is(verdict("Subject: fine\n\nall good\n"), '250', 'a normal message still passes');
like($dlp->log, qr/3009 message not scanned completely \(cid=\w+ reason="detector_depth_limit \(10\) reached in part \d+ \(multipart\/mixed\)[;"]/,
    'limit logged with the setting that was reached');
# a policy match in a message that was not read to the end: the incident says so
is(verdict(mime_message(subject => 'zip', parts => [{ body => "the falcon\n", disposition => 'inline' },
    { type => 'application/zip', filename => 'z.zip', body => $bomb, encoding => 'base64' }])),
    '550 550 5.7.1 falcon found', 'a match beats the limit');
my @inc = incidents($dlp);
is($inc[-1]{complete}, JSON::PP::false, 'the incident says the scan was incomplete');
is($inc[-1]{not_scanned}, 'detector_decoded_size_limit (8388608 bytes) reached in attachment z.zip',
    'and why: the setting, and the attachment it stopped in');
ok($dlp->stop, 'dlpgate stops');

# ---- pass when unscannable, with a header; detector failure ---------
$sink->clear;
$dlp = start_detect(sink => $sink, policies => $policies, conf => {
    detector_depth_limit => 10, unscannable_header => 'X-DLP-Scan: incomplete',
    detector_failure => 'pass', detector_failure_header => 'X-DLP-Scan: not scanned',
    detector_timeout => '2s' });
is(verdict($deep), '250', 'unscannable_action = pass: the message goes on');
my @m = $sink->wait_messages(1);
like($m[0]{body}, qr/^X-DLP-Scan: incomplete$/m, 'with unscannable_header');

# a detector that does not answer: detector_failure = pass, with its header
$sink->clear;
my @det = $dlp->pids_of('detector');
ok(@det > 0, 'detectors running');
kill 'STOP', @det;
is(verdict("Subject: x\n\nthe falcon\n"), '250', 'detector silent past detector_timeout: pass');
kill 'CONT', @det;
@m = $sink->wait_messages(1);
like($m[0]{body}, qr/^X-DLP-Scan: not scanned$/m, 'with detector_failure_header');
like($dlp->wait_log(qr/3002 detector failure/), qr/action=pass/, 'detector failure logged');
ok($dlp->stop, 'dlpgate stops');
done_testing;
