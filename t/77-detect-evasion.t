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
use DlpPostfix;

my $policies = <<'EOF';
policies = (
  { name = "falcon"; rules = ( { type = "keyword"; keywords = ["falcon", "confidential"]; } );
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

# pdf_page - a one-page PDF drawing a content stream in Helvetica
sub pdf_page {
    my ($content) = @_;
    my @obj = ('<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
        '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
        "<< /Length " . length($content) . " >>\nstream\n$content\nendstream");
    my ($out, @off) = ("%PDF-1.4\n");
    for my $i (0 .. $#obj) { push @off, length $out; $out .= ($i + 1) . " 0 obj\n$obj[$i]\nendobj\n" }
    my $x = length $out;
    $out .= "xref\n0 " . (@obj + 1) . "\n0000000000 65535 f \n" . join('', map { sprintf("%010d 00000 n \n", $_) } @off);
    return $out . "trailer\n<< /Size " . (@obj + 1) . " /Root 1 0 R >>\nstartxref\n$x\n%%EOF\n";
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
    ['a card in superscript digits', text("card \x{2074}\x{b9}\x{b9}\x{b9} \x{b9}\x{b9}\x{b9}\x{b9} "
        . "\x{b9}\x{b9}\x{b9}\x{b9} \x{b9}\x{b9}\x{b9}\x{b9}"), 'card found'],
    ['a card with a combining underline on each digit', text("card " . join('', map { /\d/ ? "$_\x{332}" : $_ }
        split //, "4111 1111 1111 1111")), 'card found'],
    ['a card of keycap digits (variation selector, enclosing keycap)', text("card " . join('',
        map { /\d/ ? "$_\x{fe0f}\x{20e3}" : $_ } split //, "4111 1111 1111 1111")), 'card found'],
    ['a card with a variation selector after each digit', text("card " . join("\x{fe0f}", split //, "4111111111111111")),
        'card found'],
    (map { ["a card with a $_->[0] between the groups", text("card " . join($_->[1], ('4111', '1111', '1111', '1111'))),
        'card found'] } ['bullet', "\x{2022}"], ['small full stop', "\x{fe52}"], ['hyphenation point', "\x{2027}"],
        ['bullet operator', "\x{2219}"], ['dot operator', "\x{22c5}"], ['katakana middle dot', "\x{30fb}"],
        ['halfwidth katakana middle dot', "\x{ff65}"]),
    ['a card with a Mongolian vowel separator between digits', text("card " . join("\x{180e}", split //, "4111111111111111")),
        'card found'],
    ['a card reversed under a right-to-left override', text("card \x{202e}1111 1111 1111 1114\x{202c}"), 'card found'],
    ['a keyword reversed under a right-to-left override', text("the \x{202e}noclaf\x{202c} flies"), 'falcon found'],
    ['a keyword with a zero-width space', text("the fal\x{200b}con"), 'falcon found'],
    ['a keyword with a zero-width joiner', text("the fal\x{200d}con"), 'falcon found'],
    ['a keyword with a soft hyphen', text("the fal\x{ad}con"), 'falcon found'],
    ['a keyword with a combining grapheme joiner', text("the fal\x{34f}con"), 'falcon found'],
    ['a keyword with a left-to-right override', text("the fal\x{202d}con\x{202c}"), 'falcon found'],
    ['a keyword with a typeset ligature (fi)', text("strictly con\x{fb01}dential"), 'falcon found'],
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

# other text formats, as their readers show them
my $ics = "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:20240101T090000Z-4111\nDTSTART:20240101T090000Z\n"
    . "SUMMARY:Budget\nDESCRIPTION:the fal\n con and the card 4111 1111\n  1111 1111\nEND:VEVENT\nEND:VCALENDAR\n";
my $vcf = "BEGIN:VCARD\nVERSION:2.1\nN:Doe;Jane\nNOTE;ENCODING=QUOTED-PRINTABLE:=66=61=6C=63=6F=6E card =34=31=31=31 =31=31=\n=31=31 1111 1111\nEND:VCARD\n";
my $vcf3 = "BEGIN:VCARD\nVERSION:3.0\nFN:Jane Doe\nNOTE;ENCODING=b:" . encode_base64("$SSN\n", '') . "\nEND:VCARD\n";
my $svg = '<svg xmlns="http://www.w3.org/2000/svg"><text x="0" y="15">card <tspan>4111</tspan><tspan dx="4">1111</tspan>'
    . '<tspan dx="4">1111</tspan><tspan dx="4">1111</tspan></text></svg>';
push @cases,
    ['an invitation (text/calendar) with folded lines', "${H}Content-Type: text/calendar; method=REQUEST\n"
        . "Content-Transfer-Encoding: base64\n\n" . encode_base64($ics), 'falcon found'],
    ['an .ics attachment with folded lines', file('invite.ics', $ics), 'falcon found'],
    ['a vCard 2.1 note in quoted-printable', file('jane.vcf', $vcf, 'text/x-vcard'), 'falcon found'],
    ['a vCard 3.0 note in base64', file('jane.vcf', $vcf3, 'text/vcard'), 'ssn found'],
    ['an SVG picture with the digits in tspans', file('chart.svg', $svg, 'image/svg+xml'), 'card found'],
    ['a keyword split by an SVG tspan', file('chart.svg', '<svg><text>fal<tspan>con</tspan></text></svg>',
        'image/svg+xml'), 'falcon found'],
    ['an XML file with the digits as character references', file('data.xml',
        '<?xml version="1.0"?><a>card &#52;&#49;&#49;&#49; 1111 1111 1111</a>', 'application/xml'), 'card found'],
    ['a flat OpenDocument text (.fodt)', file('a.fodt', '<?xml version="1.0"?><office:document><office:body>'
        . '<text:p>fal<text:span>con</text:span></text:p></office:body></office:document>'), 'falcon found'],
    ['a Word 2003 XML document', file('a.xml', '<?xml version="1.0"?><?mso-application progid="Word.Document"?>'
        . '<w:wordDocument><w:body><w:p><w:r><w:t>card 4111 11</w:t></w:r><w:r><w:t>11 1111 1111</w:t></w:r></w:p>'
        . '</w:body></w:wordDocument>'), 'card found'],
    ['a JSON export with the digits and letters as \u escapes', file('export.json',
        '{"note": "\u0063ard \u0034111 1111 1111 1111"}', 'application/json'), 'card found'],
    ['a JSON array with an escaped letter in a keyword', file('x.json', '["fal\u0063on"]'), 'falcon found'],
    ['an SVG image in an HTML data: URI', "${H}Content-Type: text/html\n\n<p><img src=\"data:image/svg+xml;base64,"
        . encode_base64("<svg><text>the falcon</text></svg>", '') . "\"></p>\n", 'falcon found'],
    ['a text link in an HTML data: URI', "${H}Content-Type: text/html\n\n<a href=\"data:text/plain;base64,"
        . encode_base64("$CARD\n", '') . "\">notes</a>\n", 'card found'],
    ['HTML in UTF-7 named by its <meta> only', "${H}Content-Type: text/html\n\n<html><head><meta charset=\"utf-7\"></head>"
        . "<body>+AGYAYQBsAGMAbwBu-</body></html>\n", 'falcon found'],
    ['an attached message in base64 (read, not a depth limit)', "${H}Content-Type: message/rfc822\n"
        . "Content-Transfer-Encoding: base64\n\n" . encode_base64("From: x\@example.com\nSubject: in\n\nthe falcon\n"),
        'falcon found'];

# HTML salted with elements a browser does not show
my $html = sub { "${H}Content-Type: text/html; charset=utf-8\n\n<html><body>$_[0]</body></html>\n" };
push @cases,
    ['a card salted with a display:none digit', $html->('<p>card 4111 1<span style="display:none">9</span>111 1111 1111</p>'),
        'card found'],
    ['a keyword salted with a display:none letter', $html->('<p>fal<span style="display: none">x</span>con</p>'), 'falcon found'],
    ['a keyword salted with a font-size:0 letter', $html->('<p>fal<font style="font-size:0px">x</font>con</p>'), 'falcon found'],
    ['a keyword salted with a hidden element', $html->('<p>fal<span hidden>x</span>con</p>'), 'falcon found'],
    ['a card salted through a class its <style> hides', "${H}Content-Type: text/html\n\n<html><head><style>"
        . '.pre { color: red } .h{display:none}</style></head><body><p>card 4111 1<b class="x h">7</b>111 1111 1111</p>'
        . "</body></html>\n", 'card found'],
    ['a keyword reversed by <bdo dir="rtl">', $html->('<p>the <bdo dir="rtl">noc<b>laf</b></bdo></p>'), 'falcon found'],
    ['a keyword reversed by unicode-bidi: bidi-override', $html->('<p>the <span dir="rtl" '
        . 'style="unicode-bidi: bidi-override">noclaf</span> flies</p>'), 'falcon found'];

# the names a reader sees at the top of the message
push @cases,
    ['a card as the display name of From', "From: \"card 4111 1111 1111 1111\" <a\@example.com>\nTo: b\@example.net\n"
        . "Subject: x\n\nhello\n", 'card found'],
    ['a keyword as an encoded display name in To', "From: a\@example.com\nTo: =?utf-8?q?the_falcon?= <b\@example.net>\n"
        . "Subject: x\n\nhello\n", 'falcon found'],
    ['an SSN as a display name in Cc', "From: a\@example.com\nTo: b\@example.net\nCc: \"SSN 536-22-8741\" <c\@example.net>\n"
        . "Subject: x\n\nhello\n", 'ssn found'];

# the same marks where no data is: words of one script, accents, numbers that are none
my @clean = (
    ['Russian text (look-alike letters in words of one script)', text("\x{441}\x{43e}\x{43a}\x{43e}\x{43b} \x{430}\x{440}\x{43e}\x{43c}\x{430}\x{442} report")],
    ['Arabic-Indic digits that are no card', text(digits("phone 4111 1111 1111 1112", 0x660))],
    ['footnote marks and units beside numbers', text("area 4111 m\x{b2}, note\x{b9} 1111 1111 1112, H\x{2082}O 4111")],
    ['a right-to-left paragraph with no override (its Latin letters show as written)',
        $html->('<p dir="rtl">the noclaf flies</p>')],
    ['a word with accents in decomposed form', text("the cafe\x{301} and the falco\x{301}ner's book")],
    ['an invitation with dates, a UID and a phone number', "${H}Content-Type: text/calendar\n\nBEGIN:VCALENDAR\n"
        . "BEGIN:VEVENT\nUID:4111111111111112\@example.com\nDTSTART:20240101T090000Z\nDTEND:20240101T100000Z\n"
        . "LOCATION:Room 4\\, dial 4111 1111\nDESCRIPTION:call 555 0100 or\n  555 0199\nEND:VEVENT\nEND:VCALENDAR\n"],
    ['a newsletter with a hidden preheader beside order numbers', $html->('<div style="display:none">order 4111 1111 ships</div>'
        . '<p>1111 1112 thanks</p><p class="h">4111</p><p>1111 1111 1112</p>')],
    ['the keyword as the local part of the addresses (recipient rules judge those)', "From: a\@example.com\n"
        . "To: falcon\@example.net, \"Team\" <falcon\@example.org>\nCc: 4111111111111111\@example.com\nSubject: x\n\nhello\n"],
    ['an XML export of order numbers in adjacent elements', "${H}Content-Type: application/xml\n\n<?xml version=\"1.0\"?>"
        . "<orders><o><id>4111</id><qty>1111</qty><ref>1111</ref><zip>1111</zip></o></orders>\n"],
);

# documents as their readers lay them out: an xlsx number in scientific
# notation; PDF glyphs drawn in another order than a viewer shows them
my $ct = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>';
my $S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"';
my $sheet = sub { zip_bytes('[Content_Types].xml' => $ct, 'xl/worksheets/sheet1.xml' =>
    "<worksheet $S><sheetData><row r=\"1\">$_[0]</row></sheetData></worksheet>") };
my $W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
my @at = map { [substr($CARD, $_, 1), 72 + 7 * $_] } 0 .. length($CARD) - 1;
my @shuffled = @at[map { ($_ * 7) % @at } 0 .. $#at];
push @cases,
    ['an xlsx number cell written as 4.111111111111111E+15', file('a.xlsx', $sheet->(
        '<c r="A1" t="inlineStr"><is><t>card</t></is></c><c r="B1"><v>4.111111111111111E+15</v></c>')), 'card found'],
    ['a PDF that draws the digits right to left', file('a.pdf', pdf_page(join(' ', 'BT /F1 12 Tf',
        (map { sprintf('1 0 0 1 %d 700 Tm (%s) Tj', $_->[1], $_->[0]) } reverse @at), 'ET')), 'application/pdf'),
        'card found'],
    ['a PDF that places each glyph by its own matrix, shuffled', file('a.pdf', pdf_page(join(' ', 'BT /F1 12 Tf',
        (map { sprintf('1 0 0 1 %d 700 Tm (%s) Tj', $_->[1], $_->[0]) } @shuffled), 'ET')), 'application/pdf'),
        'card found'],
    ['a PDF that draws the second half of the line first', file('a.pdf', pdf_page(
        'BT /F1 12 Tf 200 700 Td (1111 1111) Tj -128 0 Td (card 4111 1111) Tj ET'), 'application/pdf'), 'card found'],
    ['a PDF line turned a quarter, drawn from its end', file('a.pdf', pdf_page(join(' ', 'BT /F1 12 Tf',
        (map { sprintf('0 1 -1 0 300 %d Tm (%s) Tj', $_->[1], $_->[0]) } reverse @at), 'ET')), 'application/pdf'),
        'card found'],
    ['a PDF keyword drawn last letter first', file('a.pdf', pdf_page(join(' ', 'BT /F1 12 Tf',
        (map { sprintf('1 0 0 1 %.1f 500 Tm (%s) Tj', 100 + 6.2 * $_, substr('falcon', $_, 1)) } reverse 0 .. 5), 'ET')),
        'application/pdf'), 'falcon found'];

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
    (my $tname = $c->[2]) =~ s/^secret\.txt/backup.tar/;
    push @cases, ["a tar compressed with $c->[0]", file($tname, $tar), 'card found']
        if length $tar;
}

push @cases,
    ['a docx whose document part is UTF-16 XML', file('a.docx', zip_bytes('[Content_Types].xml' => $ct,
        'word/document.xml' => encode('UTF-16', "<?xml version=\"1.0\" encoding=\"UTF-16\"?><w:document $W><w:body>"
            . "<w:p><w:r><w:t>card $CARD</w:t></w:r></w:p></w:body></w:document>"))), 'card found'];

# formulas that join constants (and, in xlsx, cells): Excel and LibreOffice compute them
# when they open the file, whatever value the file says they had
my $ods = sub { zip_bytes('mimetype' => 'application/vnd.oasis.opendocument.spreadsheet',
    'content.xml' => '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    . 'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
    . "<office:body><office:spreadsheet><table:table><table:table-row>$_[0]</table:table-row></table:table>"
    . '</office:spreadsheet></office:body></office:document-content>') };
push @cases,
    ['an xlsx formula that joins the digits, no cached value', file('a.xlsx', $sheet->(
        '<c r="A1" t="str"><f>"card "&amp;"4111"&amp;" 1111"&amp;" 1111"&amp;" 1111"</f></c>')), 'card found'],
    ['an xlsx formula that joins the digits, a harmless cached value', file('a.xlsx', $sheet->(
        '<c r="A1" t="str"><f>"card "&amp;"4111"&amp;" 1111"&amp;" 1111"&amp;" 1111"</f><v>hello</v></c>')), 'card found'],
    ['an xlsx CONCATENATE of numbers and strings', file('a.xlsx', $sheet->(
        '<c r="A1" t="str"><f>CONCATENATE("card ", 4111, " ", 1111, " ", "1111 ", 1111)</f></c>')), 'card found'],
    ['an xlsx CONCAT with a quote in a constant', file('a.xlsx', $sheet->(
        '<c r="A1" t="str"><f>_xlfn.CONCAT("card ""x"" ","4111 1111"," 1111 1111")</f></c>')), 'card found'],
    ['an xlsx formula that joins a cell and constants, a harmless cached value', file('a.xlsx', $sheet->(
        '<c r="A1"><v>4111</v></c><c r="B1" t="str"><f>A1&amp;" 1111 1111 1111"</f><v>x</v></c>')), 'card found'],
    ['an xlsx formula that joins cells read before and after it, shared and inline strings', file('a.xlsx',
        zip_bytes('[Content_Types].xml' => $ct,
            'xl/sharedStrings.xml' => "<sst $S><si><t>card 4111</t></si></sst>",
            'xl/worksheets/sheet1.xml' => "<worksheet $S><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c>"
            . '<c r="B1" t="str"><f>CONCATENATE($A$1," ",C2," ",D2)</f><v>x</v></c></row>'
            . '<row r="2"><c r="C2" t="inlineStr"><is><t>1111 1111</t></is></c><c r="D2"><v>1111</v></c></row>'
            . '</sheetData></worksheet>')), 'card found'],
    ['an OpenDocument formula that joins the digits, no value', file('a.ods', $ods->(
        '<table:table-cell table:formula="of:=&quot;card &quot;&amp;&quot;4111 1111&quot;&amp;&quot; 1111 1111&quot;"/>')),
        'card found'];
# a card whose groups stand in cells of their own: the reader of the sheet
# sees it; a table of four-digit figures is no card without a card word
push @cases,
    ['a card in four xlsx cells of one row', file('a.xlsx', $sheet->(
        '<c r="A1" t="inlineStr"><is><t>card</t></is></c><c r="B1"><v>4111</v></c><c r="C1"><v>1111</v></c>'
        . '<c r="D1"><v>1111</v></c><c r="E1"><v>1111</v></c>')), 'card found'],
    ['an American Express number in three cells of a TSV under a "Cards" header',
        "${H}Content-Type: text/tab-separated-values\n\nname\tCards\t\t\nAlice\t3782\t822463\t10005\n", 'card found'];
push @clean,
    ['four columns of four-digit figures that happen to pass the Luhn check',
        "${H}Content-Type: text/tab-separated-values\n\nregion\tQ1\tQ2\tQ3\tQ4\nnorth\t4111\t1111\t1111\t1111\n"],
    ['an xlsx formula that picks one of two constants', file('a.xlsx', $sheet->(
        '<c r="A1" t="str"><f>IF(B1&gt;0,"4111 1111","1111 1111")</f><v>4111 1111</v></c>'))],
    ['an xlsx formula that adds numbers', file('a.xlsx', $sheet->(
        '<c r="A1"><f>4111+1111&amp;1111</f></c>'))];

for my $c (@cases) {
    my ($name, $msg, $want) = @$c;
    is(verdict($msg), $want, "$name: dlpgate blocks it");
    is(scan_pass($msg), $want, "$name: dlpscan (unscannable_action = pass) finds it");
}
for my $c (@clean) {
    is(verdict($c->[1]), 'code 250', "$c->[0]: passes");
}
# the way mail really comes: swaks to a real Postfix, which hands each
# message to dlpgate as its before-queue proxy filter and relays the verdict
my $pf = DlpPostfix->start(relay => $sink->{port}, smtpd_opts => ["smtpd_proxy_filter=127.0.0.1:$dlp->{port}"]);
my %via = map { $_->[0] => $_ } @cases;
for my $name ('a card in Arabic-Indic digits', 'a keyword with a Cyrillic a', 'a keyword with a zero-width space',
              'an invitation (text/calendar) with folded lines', 'a text file compressed with zstd') {
    next unless $via{$name};
    my $f = "$dir/pf" . $n++ . ".eml";
    spit($f, crlf($via{$name}[1]));
    my ($rc, $out) = run_cmd('swaks', '--server', "127.0.0.1:$pf->{smtp_port}", '--from', 'a@example.com',
        '--to', 'b@example.net', '--data', "\@$f");
    like($out, qr/<\*\* +550 5\.7\.1 \Q$via{$name}[2]\E/, "$name: through Postfix, swaks is refused");
}
my $f = "$dir/pf-clean.eml";
spit($f, crlf($clean[0][1]));
my ($rc, $out) = run_cmd('swaks', '--server', "127.0.0.1:$pf->{smtp_port}", '--from', 'a@example.com',
    '--to', 'b@example.net', '--data', "\@$f");
like($out, qr/DATA.*<- +250 2\.0\.0 /s, 'through Postfix, Russian text passes') or diag $out;
$pf->stop;

unlike($dlp->log, qr/detector_depth_limit/, 'no message here is deep enough to reach detector_depth_limit');
ok($dlp->stop, 'dlpgate stops');
done_testing;
