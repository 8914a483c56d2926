#!/usr/bin/perl
# MIME as mail readers read it: for every way a message can hide text from
# a parser that reads it differently from the mail client, build the
# message, show that Python's email package reads the hidden word
# (t/lib/mime-oracle.py), and prove that dlpgate, end to end through
# smtp-sink with a blocking policy, finds it or refuses the message as
# unscannable. Then the same through dlpscan, and the reason in the 3009
# log line and the incident.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64;
use MIME::QuotedPrint;
use Encode qw(encode);
use DlpTest;
use DlpDetect;

my $policies = <<'EOF';
policies = (
  { name = "falcon"; rules = ( { type = "keyword"; keywords = ["falcon"]; look_in = ["body", "attachment"]; } );
    action = "block"; reply = "550 5.7.1 falcon found"; },
  { name = "card"; rules = ( { type = "identifier"; identifier = "credit_card"; look_in = ["body", "attachment"]; } );
    action = "block"; reply = "550 5.7.1 card found"; }
);
EOF

my $sink = start_sink();
my $dlp = start_detect(policies => $policies, sink => $sink, conf => {
    unscannable_action => 'block', unscannable_reply => '550 5.7.1 unscannable',
    detector_decoded_size_limit => '1m' });
my $dir = test_dir();

my $H = "From: a\@example.com\nTo: b\@example.net\nSubject: x\nMIME-Version: 1.0\n";
my $B64 = encode_base64("the falcon is here\n");
my $PART = "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n$B64";

# verdict - what dlpgate answers: the policy's words, 'unscannable' or the code
sub verdict {
    my ($data) = @_;
    my ($code, $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'], data => $data);
    return 'no answer' unless defined $code;
    return $code == 550 ? ($text =~ /^550 5\.7\.1 (.*)$/)[0] : "code $code";
}

# oracle - does Python's email package read the needle in the message?
my $n = 0;
sub oracle {
    my ($data, $needle) = @_;
    my $f = "$dir/m" . $n++ . ".eml";
    spit($f, crlf($data));
    my ($rc, $out) = run_cmd('python3', "$FindBin::Bin/lib/mime-oracle.py", $f);
    return $rc == 0 && index($out, $needle) >= 0;
}

my $fields = join('', map { "X-F$_: y\n" } 1 .. 10001);
my $fold = join('', map { " x$_=\"" . ('a' x 900) . "\";\n" } 1 .. 80);
my $big = ("the quick brown fox jumps over the lazy dog\n" x 26000) . "the falcon at the end\n";
my $u16 = encode('UTF-16LE', "the falcon in UTF-16\n");

my @mime = (
    ['text in the preamble', "${H}Content-Type: multipart/mixed; boundary=\"X\"\n\nthe falcon preamble\n--X\n"
        . "Content-Type: text/plain\n\nhello\n--X--\n", 'falcon found'],
    ['text in the epilogue', "${H}Content-Type: multipart/mixed; boundary=\"X\"\n\n--X\n"
        . "Content-Type: text/plain\n\nhello\n--X--\nthe falcon epilogue\n", 'falcon found'],
    ['a multipart whose boundary never appears', "${H}Content-Type: multipart/mixed; boundary=\"X\"\n\n"
        . "the falcon, and no delimiter\n", 'falcon found'],
    ['Content-Type after 10,000 header fields', "${H}${fields}Content-Type: multipart/mixed; boundary=\"X\"\n\n"
        . "--X\n$PART--X--\n", 'falcon found'],
    ['Content-Transfer-Encoding after 10,000 header fields', "${H}${fields}Content-Transfer-Encoding: base64\n\n$B64",
        'falcon found'],
    ['a boundary past 64 KB of a folded Content-Type', "${H}Content-Type: multipart/mixed;\n$fold boundary=\"X\"\n\n"
        . "--X\n$PART--X--\n", 'unscannable'],
    ['two Content-Type fields: the first is a multipart', "${H}Content-Type: multipart/mixed; boundary=\"X\"\n"
        . "Content-Type: text/plain\n\n--X\n$PART--X--\n", 'falcon found'],
    ['two Content-Transfer-Encoding fields: base64 first', "${H}Content-Type: text/plain\n"
        . "Content-Transfer-Encoding: base64\nContent-Transfer-Encoding: 7bit\n\n$B64", 'falcon found'],
    ['a boundary parameter with trailing white space', "${H}Content-Type: multipart/mixed; boundary=\"X \"\n\n"
        . "--X\n$PART--X--\n", 'falcon found'],
    ['a boundary in RFC 2231 continuations', "${H}Content-Type: multipart/mixed; boundary*0=\"X\"; boundary*1=\"Y\"\n\n"
        . "--XY\n$PART--XY--\n", 'falcon found'],
    ['a Unix From line before the header', "From a\@example.com\n${H}Content-Type: multipart/mixed; boundary=\"X\"\n\n"
        . "--X\n$PART--X--\n", 'falcon found'],
    ['multipart/digest: parts are messages', "${H}Content-Type: multipart/digest; boundary=\"X\"\n\n--X\n\n"
        . "Subject: inner\nMIME-Version: 1.0\n$PART--X--\n", 'falcon found'],
    ['base64 cut at detector_decoded_size_limit', mime_message(subject => 'x', parts => [
        { type => 'text/plain', filename => 'big.txt', body => $big, encoding => 'base64' }]), 'unscannable'],
    ['quoted-printable cut at detector_decoded_size_limit', mime_message(subject => 'x', parts => [
        { type => 'text/plain', filename => 'big.txt', body => $big, encoding => 'qp' }]), 'unscannable'],
);

my $html = sub { "${H}Content-Type: text/html; charset=utf-8\n\n<html><body>$_[0]</body></html>\n" };
my @html = (
    ['HTML title attribute', $html->('<p title="the falcon">hello</p>'), 'falcon found'],
    ['HTML alt attribute', $html->('<img src="logo.png" alt="4111 1111 1111 1111">'), 'card found'],
    ['HTML value attribute', $html->('<form><input type="hidden" name="n" value="falcon"></form>'), 'falcon found'],
    ['HTML href attribute', $html->('<a href="https://example.org/?q=falcon">link</a>'), 'falcon found'],
    ['HTML comment', $html->('<p>hello</p><!-- the falcon -->'), 'falcon found'],
    ['HTML: a word split by an element a browser shows inline', $html->('<p>fal<label>con</label></p>'),
        'falcon found'],
    ['HTML: a card split by an unknown (inline) element', $html->('<p>4111 1111 <x-n>1111</x-n> 1111</p>'),
        'card found'],
    ['HTML: a soft hyphen reference inside the word', $html->('<p>fal&#173;con</p>'), 'falcon found'],
    ['HTML: a zero-width space by its HTML5 name', $html->('<p>fal&ZeroWidthSpace;con</p>'), 'falcon found'],
    ['HTML: a "<" that opens no tag', $html->('<p>3 < 4, the falcon flies, 5 > 4</p>'), 'falcon found'],
);

my @enc = (
    ['UTF-16 with a byte-order mark and no charset', mime_message(subject => 'x', parts => [
        { type => 'text/plain', body => "\xff\xfe$u16", encoding => 'base64', disposition => 'inline' }]),
        'falcon found'],
    ['UTF-16 without a byte-order mark or charset', mime_message(subject => 'x', parts => [
        { type => 'text/plain', body => $u16, encoding => 'base64', disposition => 'inline' }]), 'falcon found'],
    ['application/octet-stream that is UTF-16 text', mime_message(subject => 'x', parts => [
        { type => 'application/octet-stream', filename => 'notes', body => $u16, encoding => 'base64' }]),
        'falcon found'],
    ['UTF-16BE with a byte-order mark in an unknown charset', mime_message(subject => 'x', parts => [
        { type => 'text/plain; charset=x-unheard-of', body => "\xfe\xff" . encode('UTF-16BE', "a falcon\n"),
          encoding => 'base64', disposition => 'inline' }]), 'falcon found'],
    # two bytes of a byte-order mark do not make 8-bit text UTF-16: a
    # reader shows the card after two odd characters (an even number of
    # bytes follows them, all of which would convert)
    ['a UTF-16 byte-order mark before 8-bit text, no charset', mime_message(subject => 'x', parts => [
        { type => 'text/plain', body => "\xff\xfe4111111111111111 ok\n", encoding => 'base64',
          disposition => 'inline' }]), 'card found'],
    ['a UTF-16 byte-order mark before text that says it is UTF-8', mime_message(subject => 'x', parts => [
        { type => 'text/plain; charset=utf-8', body => "\xfe\xff4111 1111 1111 1111\n", encoding => 'base64',
          disposition => 'inline' }]), 'card found'],
    ['a UTF-16 byte-order mark before the bytes of a file', mime_message(subject => 'x', parts => [
        { type => 'application/octet-stream', filename => 'data.bin', body => "\xff\xfe4111111111111111.\n",
          encoding => 'base64' }]), 'card found'],
    # bytes that are no UTF-8 are letters in Windows-1252 (0xFF is a y
    # with diaeresis): no letter but ASCII hides a number glued to it
    ['0xFF bytes before a card in 8-bit text without a charset', mime_message(subject => 'x', parts => [
        { type => 'text/plain', body => "ref \xff\xff4111111111111111\xff\n", encoding => 'base64',
          disposition => 'inline' }]), 'card found'],
    # uuencoded files in untyped text, as mail readers show them: a line that
    # starts with begin; the word elsewhere does not use up the count
    ['a uuencoded file in untyped text', "${H}\nsee the file\n\nbegin 644 data.txt\n"
        . pack('u', "card 4111 1111 1111 1111\n") . "`\nend\n", 'card found'],
    ['a uuencoded file after a line that says begin 150 times', "${H}\n"
        . ('begin ' x 150) . "\nbegin 644 data.txt\n" . pack('u', "card 4111 1111 1111 1111\n") . "`\nend\n",
        'card found'],
    # format=flowed (RFC 3676): Thunderbird and Apple Mail join a line
    # that ends in a space to the next, without that space when delsp=yes
    ['format=flowed, delsp=yes: a card cut at a soft line break',
        "${H}Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\n\ncard 4111 11 \n11 1111 1111\n",
        'card found'],
    ['format=flowed, delsp=yes: a word cut in a quoted paragraph',
        "${H}Content-Type: text/plain; format=\"Flowed\"; DelSp=\"yes\"\n\n> the fal \n> con flies\n> \n", 'falcon found'],
    ['format=flowed, delsp=yes, quoted-printable: a card cut at a soft line break',
        "${H}Content-Type: text/plain; format=flowed; delsp=yes\nContent-Transfer-Encoding: quoted-printable\n\n"
        . "card 4111 1111 11=20\n11 1111\n", 'card found'],
    ['an accented letter glued to a card', mime_message(subject => 'x', parts => [
        { type => 'text/plain; charset=utf-8', body => "caf\xc3\xa94111111111111111\n", encoding => 'base64',
          disposition => 'inline' }]), 'card found'],
);

for my $c (@mime, @html) {
    ok(oracle($c->[1], $c->[2] eq 'card found' ? '4111 1111' : 'falcon'),
        "$c->[0]: Python's email package reads it");
    is(verdict($c->[1]), $c->[2], "$c->[0]: dlpgate " . ($c->[2] eq 'unscannable' ? 'refuses it' : 'finds it'));
}
for my $c (@enc) {
    is(verdict($c->[1]), $c->[2], "$c->[0]: dlpgate finds it");
}
is(verdict("${H}Content-Type: text/plain; format=flowed\n\ncard 4111 11 \n11 1111 1111\n"), 'code 250',
    'format=flowed without delsp: the space stays, a reader sees no card, none is found');
is(verdict("${H}Content-Type: text/plain; format=flowed; delsp=yes\n\ncard 4111 11\n11 1111 1111\n"), 'code 250',
    'format=flowed, delsp=yes: a line without a trailing space is a hard break');

# content no reader here can open: refused, not passed as read
my @closed = (
    ['an S/MIME enveloped part', mime_message(subject => 'x', parts => [
        { type => 'application/pkcs7-mime; smime-type=enveloped-data', filename => 'smime.p7m',
          body => "\x30\x80\x06\x09\x2a\x86\x48" x 20, encoding => 'base64' }])],
    ['an OpenPGP message', "${H}Content-Type: text/plain\n\n-----BEGIN PGP MESSAGE-----\n\nhQEMA8x\n"
        . "-----END PGP MESSAGE-----\n"],
    ['a TNEF winmail.dat that breaks off after its signature', mime_message(subject => 'x', parts => [
        { type => 'application/octet-stream', filename => 'winmail.dat',
          body => "\x78\x9f\x3e\x22\x01\x00" . ("\x00" x 40), encoding => 'base64' }])],
    ['a message/partial fragment', "${H}Content-Type: message/partial; id=\"a\@b\"; number=1; total=2\n\n"
        . "Subject: part one\n\nthe first half\n"],
    ['an unknown transfer encoding', "${H}Content-Type: text/plain\nContent-Transfer-Encoding: x-gzip64\n\n"
        . "H4sIAAAAAAAAA0vLz0nVTcrPz0lVyEgtSgUAGPA0vBAAAAA=\n"],
);
for my $c (@closed) {
    is(verdict($c->[1]), 'unscannable', "$c->[0]: dlpgate refuses it as unscannable");
}
like($dlp->log, qr/reason="message\/partial fragment content in the message"/,
    'and says which: a message/partial fragment');
like($dlp->log, qr/reason="broken TNEF winmail\.dat \(attribute level 0 at byte 6\)"/,
    'and says which: a broken TNEF attachment (whole ones are read)');

# the reasons name what could not be read, in the log and the incident
like($dlp->log, qr/3009 message not scanned completely \(cid=\w+ reason="Content-Type field over 65536 bytes in the message"/,
    '3009 names the field that was cut');
like($dlp->log, qr/reason="detector_decoded_size_limit \(1048576 bytes\) reached in attachment big\.txt"/,
    '3009 names the setting and the attachment');
is(verdict(mime_message(subject => 'x', parts => [
    { type => 'text/plain', body => "the falcon\n", disposition => 'inline' },
    { type => 'text/plain', filename => 'big.txt', body => $big, encoding => 'base64' }])), 'falcon found',
    'a match beats the limit');
my @inc = incidents($dlp);
is($inc[-1]{not_scanned}, 'detector_decoded_size_limit (1048576 bytes) reached in attachment big.txt',
    'the incident says what was not read');

# dlpscan: the same verdicts and reasons, with unscannable_action = block
my $etc = "$dlp->{dir}/etc";
for my $c (['a multipart whose boundary never appears', $mime[2][1], qr/verdict=block reply="550 5\.7\.1 falcon found"/],
           ['HTML comment', $html[4][1], qr/verdict=block reply="550 5\.7\.1 falcon found"/],
           ['a boundary past 64 KB', $mime[5][1],
            qr/not scanned completely: Content-Type field over 65536 bytes in the message \(unscannable_action = block\)/]) {
    my $f = "$dir/scan" . $n++ . ".eml";
    spit($f, crlf($c->[1]));
    my ($rc, $out) = dlpscan('-c', $etc, '-o', 'unscannable_action=block', '-o', 'detector_decoded_size_limit=1m', $f);
    like($out, $c->[2], "dlpscan: $c->[0]");
}
# bare CRs never reach the detector through smtpd-proxy (554), but a saved
# message may hold them: Python's email package ends lines there
my $cr = "${H}Content-Type: multipart/mixed; boundary=\"X\"\n\nhello\r--X\rContent-Type: text/plain\r"
    . "Content-Transfer-Encoding: base64\r\r" . ($B64 =~ s/\n/\r/gr) . "--X--\n";
ok(oracle($cr, 'falcon'), "lines that end in a bare CR: Python's email package reads it");
my $f = "$dir/scan-cr.eml";
spit($f, crlf($cr));
like((dlpscan('-c', $etc, $f))[1], qr/verdict=block reply="550 5\.7\.1 falcon found"/,
    'lines that end in a bare CR: dlpscan finds it');
$f = "$dir/scan-size.eml";
spit($f, crlf($mime[12][1]));
my ($rc, $out) = dlpscan('-c', $etc, '-o', 'unscannable_action=block', '-o', 'detector_decoded_size_limit=1m', $f);
like($out, qr/verdict=block reply="550 5\.7\.1 unscannable".*not scanned completely: detector_decoded_size_limit \(1048576 bytes\) reached in attachment big\.txt/s,
    'dlpscan: the cut base64 attachment is named');
ok($dlp->stop, 'dlpgate stops');
done_testing;
