#!/usr/bin/perl
# PDF attachments are read as a reader sees them: documents made by real
# producers (LibreOffice, MuPDF, ghostscript, qpdf: compressed and object
# streams, composite fonts, encryption with an empty user password,
# embedded files), forms, annotations, JavaScript a viewer runs; every one carries a card number
# that must block it. A PDF that cannot be read (a real password, damage,
# a loop, a decompression bomb, a page tree of a billion pages) is marked
# unscannable, with its name in the reason, within the reader's limits,
# and no detector dies. The fixtures and the script that made them are in
# t/fixtures/pdf.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use DlpTest;
use DlpDetect;

my $FIX = "$FindBin::Bin/fixtures/pdf";
my $policies = <<'EOF';
policies = (
  { name = "cards"; rules = ( { type = "identifier"; identifier = "credit_card"; look_in = ["attachment"]; } );
    action = "block"; reply = "550 5.7.1 card found"; },
  { name = "inner-name"; mode = "monitor";
    rules = ( { type = "keyword"; keywords = ["inner.pdf"]; look_in = ["attachment_name"]; } ); }
);
EOF

my $sink = start_sink();
my $dlp = start_detect(sink => $sink, policies => $policies, conf => {
    unscannable_action => 'block', detector_reader_memory_limit => '128m',
    detector_reader_time_limit => '10s' });

sub pdf_message {
    my ($name, $bytes) = @_;
    return mime_message(from => 'a@example.com', to => 'b@example.net', subject => 'the report',
        parts => [{ body => "See the attachment.\n", disposition => 'inline' },
                  { type => 'application/pdf', filename => $name, body => $bytes, encoding => 'base64' }]);
}

sub verdict {
    my ($data) = @_;
    my ($code, $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
        data => $data, timeout => 120);
    return defined $code ? ($code == 550 ? $text : $code) : 'no answer';
}

my $CARD = '550 5.7.1 card found';
my $UNSCANNABLE = '550 5.7.1 Message could not be scanned completely';
my @before = sort $dlp->pids_of('detector');

# ---- documents from real producers: the card is found --------------------
my @found = (
    ['lo-odt.pdf', 'LibreOffice from odt: compressed streams, TrueType subsets with ToUnicode'],
    ['lo-docx.pdf', 'LibreOffice from docx'],
    ['lo-cff.pdf', 'LibreOffice with OpenType CFF fonts (Type1C), Cyrillic'],
    ['mupdf-cid.pdf', 'MuPDF: Identity-H CID font and a UniJIS-UTF16-H font'],
    ['ps2pdf.pdf', 'ghostscript ps2pdf: words placed one by one'],
    ['objstm.pdf', 'qpdf object streams and a cross-reference stream'],
    ['aes256.pdf', 'AES-256 (R6) with an empty user password'],
    ['aes256-r5.pdf', 'AES-256 (R5, Adobe extension level 3) with an empty user password'],
    ['aes128.pdf', 'AES-128 (R4) with an empty user password'],
    ['rc4-128.pdf', 'RC4 128-bit (R3) with an empty user password'],
    ['rc4-40.pdf', 'RC4 40-bit (R2) with an empty user password'],
    ['attach-txt.pdf', 'a text file embedded with qpdf --add-attachment'],
    ['attach-pdf.pdf', 'a PDF embedded in a PDF'],
    ['form.pdf', 'a filled form field, in an object stream'],
    ['annot.pdf', 'a note annotation (UTF-16 text string)'],
    ['kerning.pdf', '/Differences glyph names, TJ kerning and Td moves as spaces'],
    ['filters.pdf', 'LZW, ASCII85 over Flate with a PNG predictor, ASCIIHex over RunLength'],
    ['truncated-xref.pdf', 'a file cut before its cross-reference table, rebuilt'],
    ['form-many.pdf', 'a form of 300 fields, the card in the first'],
    ['js-names.pdf', 'a named document-level JavaScript (ghostscript pdfmark)'],
    ['js-open.pdf', 'an open action\'s JavaScript stream, its strings escaped and joined'],
    ['js-annot.pdf', 'a link\'s action chain building the number with String.fromCharCode'],
    ['js-page.pdf', 'a page\'s open trigger (/AA) running JavaScript'],
);
for my $f (@found) {
    is(verdict(pdf_message($f->[0], slurp("$FIX/$f->[0]"))), $CARD, "$f->[1] ($f->[0])");
}
my @inc = wait_incidents($dlp, scalar @found);
ok((grep { grep { $_->{name} eq 'inner-name' } @{$_->{policies} // []} } @inc),
    'an embedded file\'s name counts as an attachment name');

is(verdict(pdf_message('clean.pdf', slurp("$FIX/clean.pdf"))), 250, 'a clean document passes');
is(verdict(mime_message(from => 'a@example.com', to => 'b@example.net', subject => 'zip',
    parts => [{ type => 'application/zip', filename => 'docs.zip', encoding => 'base64',
                body => zip_bytes('docs/report.pdf' => slurp("$FIX/lo-odt.pdf")) }])),
    $CARD, 'a PDF inside a zip');

# ---- documents that cannot be read: unscannable, with their names ---------
my @unreadable = (
    ['password.pdf', 'encrypted with a password', 'a real user password'],
    ['truncated-half.pdf', 'cannot be read', 'a file cut in half'],
    ['loop-pages.pdf', 'Loop detected in /Pages', 'a loop in the page tree'],
    ['huge-tree.pdf', 'page tree', 'a page tree of a billion pages'],
    ['bomb.pdf', 'content', 'a content stream that inflates to 4 GB'],
);
for my $u (@unreadable) {
    my $t0 = time;
    my $off = length $dlp->log;
    is(verdict(pdf_message($u->[0], slurp("$FIX/$u->[0]"))), $UNSCANNABLE, "$u->[2]: unscannable");
    ok(time - $t0 < 15, "$u->[2]: within the reader's limits (" . sprintf('%.1f', time - $t0) . ' s)');
    like($dlp->wait_log(qr/3009 message not scanned completely/, 10, $off),
        qr/reason="[^"]*pdf \Q$u->[0]\E[^"]*\Q$u->[1]\E/, "$u->[2]: the reason names the document");
}
# a form XObject that draws itself: the text is found and the loop reported
my $off = length $dlp->log;
is(verdict(pdf_message('loop-form.pdf', slurp("$FIX/loop-form.pdf"))), $CARD, 'a form XObject drawing itself: text found');
like($dlp->wait_log(qr/3009 message not scanned completely/, 10, $off), qr/loop in form XObjects/,
    'and the loop is reported');

# garbage that says it is a PDF: unscannable, and its bytes still scanned raw
is(verdict(pdf_message('junk.pdf', "%PDF-1.4\n" . ("\xff" x 500) . "\n4111 1111 1111 1111\n")), $CARD,
    'an unreadable PDF is still scanned as raw bytes');

# ---- the detector took all of it: same processes, no crash ---------------
is_deeply([sort $dlp->pids_of('detector')], \@before, 'the same detectors still serve');
unlike($dlp->log, qr/5004 child exited abnormally/, 'no detector died');
is(verdict(pdf_message('lo-odt.pdf', slurp("$FIX/lo-odt.pdf"))), $CARD, 'and they still read PDFs');
ok($dlp->stop, 'dlpgate stops');

# ---- dlpscan says the same ---------------------------------------------
my $dir = test_dir();
mkdir "$dir/etc";
write_policies("$dir/etc", $policies);
spit("$dir/etc/dlpgate.conf", "unscannable_action = \"block\";\n");
for my $case (['aes256.pdf', qr/verdict=block reply="550 5\.7\.1 card found"/],
              ['password.pdf', qr/not scanned completely: pdf password\.pdf encrypted with a password/]) {
    spit("$dir/m.eml", crlf(pdf_message($case->[0], slurp("$FIX/$case->[0]"))));
    my ($rc, $out) = dlpscan('-c', "$dir/etc", "$dir/m.eml");
    like($out, $case->[1], "dlpscan: $case->[0]");
}
done_testing;
