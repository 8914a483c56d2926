#!/usr/bin/perl
# Ways to write a card number, a Social Security number or a keyword that
# a person still reads but a byte-matching filter does not: digits of
# other scripts, look-alike letters, invisible characters, reversed text,
# decorated digits, other compressors, other text formats. Each message
# goes end to end through smtp-sink with blocking policies and
# unscannable_action = block, and through dlpscan with the default
# unscannable_action = pass: both must find what the reader sees. The same
# tricks in text that does not hold the data must still pass.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64;
use Encode qw(encode);
use DlpTest;
use DlpDetect;

my $policies = <<'EOF';
policies = (
  { name = "falcon"; rules = ( { type = "keyword"; keywords = ["falcon"]; } );
    action = "block"; reply = "550 5.7.1 falcon found"; },
  { name = "card"; rules = ( { type = "identifier"; identifier = "credit_card"; } );
    action = "block"; reply = "550 5.7.1 card found"; },
  { name = "ssn"; rules = ( { type = "identifier"; identifier = "us_ssn";
      near = ["ssn", "social security"]; distance = 60; } );
    action = "block"; reply = "550 5.7.1 ssn found"; }
);
EOF

my $sink = start_sink();
my $dlp = start_detect(policies => $policies, sink => $sink, conf => {
    unscannable_action => 'block', unscannable_reply => '550 5.7.1 unscannable' });
my $dir = test_dir();
my $H = "From: a\@example.com\nTo: b\@example.net\nSubject: x\nMIME-Version: 1.0\n";

# verdict - what dlpgate answers: the policy's words, 'unscannable' or the code
sub verdict {
    my ($data) = @_;
    my ($code, $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'], data => $data);
    return 'no answer' unless defined $code;
    return $code == 550 ? ($text =~ /^550 5\.7\.1 (.*)$/)[0] : "code $code";
}

# scan_pass - what dlpscan says with the default unscannable_action = pass
my $n = 0;
sub scan_pass {
    my ($data) = @_;
    my $f = "$dir/m" . $n++ . ".eml";
    spit($f, crlf($data));
    my ($rc, $out) = dlpscan('-c', "$dlp->{dir}/etc", '-o', 'unscannable_action=pass', $f);
    return $out =~ /verdict=block reply="550 5\.7\.1 ([^"]*)"/ ? $1 : 'pass';
}

# text - a UTF-8 plain text body
sub text { return "${H}Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
    . encode('UTF-8', $_[0]) . "\n" }

# digits - the ASCII digits of a string in another script (its zero)
sub digits { my ($s, $zero) = @_; $s =~ s/([0-9])/chr($zero + $1)/ge; return $s }

# file - an attachment of raw bytes
sub file {
    my ($name, $bytes, $type) = @_;
    return mime_message(from => 'a@example.com', to => 'b@example.net', subject => 'x',
        parts => [{ type => $type // 'application/octet-stream', filename => $name,
                    body => $bytes, encoding => 'base64' }]);
}

my $CARD = "card 4111 1111 1111 1111";
my $SSN = "SSN 536-22-8741";
my @cases;
# digits of other scripts: a reader reads the number
for my $s (['Arabic-Indic', 0x660], ['Extended Arabic-Indic (Persian)', 0x6f0], ['Devanagari', 0x966],
           ['Bengali', 0x9e6], ['Thai', 0xe50], ['Myanmar', 0x1040], ['mathematical bold', 0x1d7ce],
           ['mathematical double-struck', 0x1d7d8], ['mathematical sans-serif', 0x1d7e2],
           ['mathematical monospace', 0x1d7f6], ['segmented', 0x1fbf0]) {
    push @cases, ["a card in $s->[0] digits", text(digits($CARD, $s->[1])), 'card found'];
    push @cases, ["an SSN in $s->[0] digits", text(digits($SSN, $s->[1])), 'ssn found'];
}
push @cases,
    ['a card with a combining underline on each digit', text("card " . join('', map { /\d/ ? "$_\x{332}" : $_ }
        split //, "4111 1111 1111 1111")), 'card found'],
    ['a card of keycap digits (variation selector, enclosing keycap)', text("card " . join('',
        map { /\d/ ? "$_\x{fe0f}\x{20e3}" : $_ } split //, "4111 1111 1111 1111")), 'card found'],
    ['a card with a variation selector after each digit', text("card " . join("\x{fe0f}", split //, "4111111111111111")),
        'card found'],
    ['a card with a Mongolian vowel separator between digits', text("card " . join("\x{180e}", split //, "4111111111111111")),
        'card found'],
    ['a card reversed under a right-to-left override', text("card \x{202e}1111 1111 1111 1114\x{202c}"), 'card found'],
    ['a keyword reversed under a right-to-left override', text("the \x{202e}noclaf\x{202c} flies"), 'falcon found'],
    ['a keyword with a zero-width space', text("the fal\x{200b}con"), 'falcon found'],
    ['a keyword with a zero-width joiner', text("the fal\x{200d}con"), 'falcon found'],
    ['a keyword with a soft hyphen', text("the fal\x{ad}con"), 'falcon found'],
    ['a keyword with a combining grapheme joiner', text("the fal\x{34f}con"), 'falcon found'],
    ['a keyword with a left-to-right override', text("the fal\x{202d}con\x{202c}"), 'falcon found'],
    ['a keyword with a Cyrillic a', text("the f\x{430}lcon"), 'falcon found'],
    ['a keyword with a Cyrillic o', text("the falc\x{43e}n"), 'falcon found'],
    ['a keyword with a Greek omicron', text("the falc\x{3bf}n"), 'falcon found'],
    ['a keyword in fullwidth letters', text("the \x{ff46}\x{ff41}\x{ff4c}\x{ff43}\x{ff4f}\x{ff4e}"), 'falcon found'],
    ['a keyword in mathematical bold letters', text("the " . join('', map { chr(0x1d41a + ord($_) - 97) } split //, 'falcon')),
        'falcon found'],
    ['a keyword in the subject with a Cyrillic a', "From: a\@example.com\nTo: b\@example.net\nSubject: =?UTF-8?B?"
        . encode_base64(encode('UTF-8', "f\x{430}lcon plans"), '') . "?=\n\nhello\n", 'falcon found'],
    ['a card in the subject in Arabic-Indic digits', "From: a\@example.com\nTo: b\@example.net\nSubject: =?UTF-8?B?"
        . encode_base64(encode('UTF-8', digits($CARD, 0x660)), '') . "?=\n\nhello\n", 'card found'];

# the same marks where no data is: words of one script, accents, numbers that are none
my @clean = (
    ['Russian text (look-alike letters in words of one script)', text("\x{441}\x{43e}\x{43a}\x{43e}\x{43b} \x{430}\x{440}\x{43e}\x{43c}\x{430}\x{442} report")],
    ['Arabic-Indic digits that are no card', text(digits("phone 4111 1111 1111 1112", 0x660))],
    ['a word with accents in decomposed form', text("the cafe\x{301} and the falco\x{301}ner's book")],
);

# other compressors: the member of a zstd, lz4 or lzma stream
my $secret = "$dir/secret.txt";
spit($secret, "the $CARD\n");
for my $c (['zstd', 'zstd -q -c', 'secret.txt.zst'], ['lz4', 'lz4 -q -c', 'secret.txt.lz4'],
           ['lzma (LZMA alone)', 'xz --format=lzma -c', 'secret.txt.lzma'],
           ['lzip', 'lzip -c', 'secret.txt.lz']) {
    my ($tool) = $c->[1] =~ /^(\S+)/;
    next unless system("command -v $tool >/dev/null 2>&1") == 0;
    my $bytes = `$c->[1] $secret`;
    push @cases, ["a text file compressed with $c->[0]", file($c->[2], $bytes), 'card found']
        if length $bytes;
    my $tar = `tar -C $dir -cf - secret.txt | $c->[1]`;
    push @cases, ["a tar compressed with $c->[0]", file("$c->[2].tar", $tar), 'card found']
        if length $tar;
}

for my $c (@cases) {
    my ($name, $msg, $want) = @$c;
    is(verdict($msg), $want, "$name: dlpgate blocks it");
    is(scan_pass($msg), $want, "$name: dlpscan (unscannable_action = pass) finds it");
}
for my $c (@clean) {
    is(verdict($c->[1]), 'code 250', "$c->[0]: passes");
}
ok($dlp->stop, 'dlpgate stops');
done_testing;
