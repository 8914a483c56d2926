#!/usr/bin/perl
# Identifiers as people and programs write them, end to end through the
# gateway and smtp-sink: card numbers and SSNs in CSV and TSV exports next
# to dates and amounts (a comma is a column, not a decimal comma), in a
# spreadsheet's cells, with every separator people type (no-break, thin
# and other Unicode spaces, dashes, dots, slashes, invisible characters,
# HTML &nbsp;), in attachment file names and in the subject; weak
# identifiers counted through their column header. And the look-alikes of
# an order export or a quantity table pass, while a card under an order_id
# header is still a card.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64;
use DlpTest;
use DlpDetect;
use DlpIdent;

srand(71);
my $policies = <<'EOF';
policies = (
  { name = "card"; rules = ( { type = "identifier"; identifier = "credit_card"; } );
    action = "block"; reply = "550 5.7.1 found card"; },
  { name = "ssn"; rules = ( { type = "identifier"; identifier = "us_ssn"; } );
    action = "block"; reply = "550 5.7.1 found ssn"; },
  { name = "bsn"; rules = ( { type = "identifier"; identifier = "nl_bsn"; } );
    action = "block"; reply = "550 5.7.1 found bsn"; }
);
EOF

my $sink = start_sink();
my $dlp = start_detect(policies => $policies, sink => $sink);
my $H = "From: a\@example.com\nTo: b\@example.net\n";

# verdict - what the gateway answers: the policy's 550 text, or the code
sub verdict {
    my ($data) = @_;
    my ($code, $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'], data => $data);
    return 'no reply' unless defined $code;
    return $code == 550 ? ($text =~ /^550 5\.7\.1 (.*)$/)[0] : "code $code";
}

# attached - a message with one attachment
sub attached {
    my ($name, $type, $body, %o) = @_;
    return mime_message(from => 'a@example.com', to => 'b@example.net', subject => 'export',
        parts => [{ type => 'text/plain', body => "see attached\n", disposition => 'inline' },
                  { type => $type, filename => $name, body => $body, encoding => $o{encoding} // 'base64' }]);
}

# xlsx - a spreadsheet of rows of cells (inline strings and numbers)
sub xlsx {
    my (@rows) = @_;
    my $r = 0;
    my $sheet = join '', map {
        $r++;
        "<row r=\"$r\">" . join('', map { /^-?[\d.]+$/ && !/^0\d/ && length($_) < 15
            ? "<c><v>$_</v></c>" : "<c t=\"inlineStr\"><is><t>$_</t></is></c>" } @$_) . "</row>"
    } @rows;
    return zip_bytes(
        '[Content_Types].xml' => '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        '_rels/.rels' => '<?xml version="1.0"?><Relationships/>',
        'xl/workbook.xml' => '<?xml version="1.0"?><workbook/>',
        'xl/worksheets/sheet1.xml' => '<?xml version="1.0"?><worksheet><sheetData>' . $sheet
            . '</sheetData></worksheet>',
    );
}

my $visa = '4111111111111111';
my $xlsx_type = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
my @cases = (
    # CSV and TSV exports: the card or SSN next to other numeric columns
    ['CSV: card before a date and an amount', attached('cards.csv', 'text/csv',
        "name,card,exp,amount\r\nJane Roe,$visa,12/27,100.00\r\n"), 'found card'],
    ['CSV: card after an amount', attached('cards.csv', 'text/csv',
        "name,amount,card\r\nJane Roe,100.00,$visa\r\n"), 'found card'],
    ['CSV: quoted card between numbers', attached('cards.csv', 'text/csv',
        "id,card,cvv\r\n17,\"4111 1111 1111 1111\",123\r\n"), 'found card'],
    ['CSV in the body', "${H}Subject: x\n\n1001,$visa,0427,19.99\n", 'found card'],
    ['CSV: SSN between columns', attached('staff.csv', 'text/csv',
        "name,ssn,born\r\nJohn Doe,234-56-7890,1985\r\n"), 'found ssn'],
    ['CSV: SSN after a number', "${H}Subject: x\n\n42,234-56-7890,USD\n", 'found ssn'],
    ['semicolon CSV with decimal commas', attached('karten.csv', 'text/csv',
        "Name;Karte;Betrag\r\nErika;$visa;1.234,56\r\n"), 'found card'],
    ['TSV', attached('cards.tsv', 'text/tab-separated-values',
        "name\tcard\tamount\nJane\t$visa\t100.00\n"), 'found card'],
    ['xlsx: card next to an amount cell', attached('cards.xlsx', $xlsx_type,
        xlsx(['name', 'card', 'amount'], ['Jane', $visa, '100.5'])), 'found card'],
    ['xlsx: SSN next to a year cell', attached('staff.xlsx', $xlsx_type,
        xlsx(['name', 'ssn', 'born'], ['John', '234-56-7890', '1985'])), 'found ssn'],
    # separators
    (map { ["card with $_->[0]", "${H}Subject: x\nMIME-Version: 1.0\n"
        . "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\ncard "
        . join($_->[1], qw(4111 1111 1111 1111)) . "\n", 'found card'] }
        ['no-break spaces', "\xc2\xa0"], ['thin spaces', "\xe2\x80\x89"],
        ['narrow no-break spaces', "\xe2\x80\xaf"], ['ideographic spaces', "\xe3\x80\x80"],
        ['en dashes', "\xe2\x80\x93"], ['minus signs', "\xe2\x88\x92"],
        ['fullwidth hyphens', "\xef\xbc\x8d"], ['dots', '.'], ['slashes', '/'],
        ['zero-width spaces', "\xe2\x80\x8b"], ['soft hyphens', "\xc2\xad"]),
    ['card in fullwidth digits', "${H}Subject: x\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        . "\xe3\x82\xab\xe3\x83\xbc\xe3\x83\x89\xef\xbc\x9a" . join("\xe3\x80\x80", map { join '', map { "\xef\xbc" . chr(0x90 + $_) } split // }
        qw(4111 1111 1111 1111)) . "\n", 'found card'],
    ['SSN with en dashes', "${H}Subject: x\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        . "ssn 234\xe2\x80\x9356\xe2\x80\x937890\n", 'found ssn'],
    ['HTML &nbsp; between the groups', mime_message(from => 'a@example.com', subject => 'x',
        parts => [{ type => 'text/html; charset=utf-8', disposition => 'inline',
            body => "<p>4111&nbsp;1111&nbsp;1111&nbsp;1111</p>\n" }]), 'found card'],
    ['ISO-8859-1 text with a no-break space', "${H}Subject: x\nMIME-Version: 1.0\n"
        . "Content-Type: text/plain; charset=iso-8859-1\n\ncard 4111\xa01111\xa01111\xa01111\n", 'found card'],
    # names and subjects
    ['attachment file name', attached("statement_$visa.txt", 'text/plain', "nothing here\n"),
        'found card'],
    ['attachment file name, grouped', attached('Visa 4111-1111-1111-1111.pdf', 'application/pdf',
        "%PDF-1.4\n%%EOF\n"), 'found card'],
    ['subject with no-break spaces', "${H}Subject: =?UTF-8?Q?Visa_4111=C2=A01111=C2=A01111=C2=A01111?=\n\nhi\n",
        'found card'],
    ['subject folded with a tab inside the number', "${H}Subject: Visa 4111 1111\n\t1111 1111\n\nhi\n",
        'found card'],
    ['subject, SSN with a thin space', "${H}Subject: =?UTF-8?Q?SSN_234=E2=80=8956=E2=80=897890?=\n\nhi\n",
        'found ssn'],
    # context through the column header: a weak identifier
    ['CSV: BSNs under a BSN header', attached('klanten.csv', 'text/csv',
        "naam;BSN;plaats\r\n" . join('', map { "Klant $_;" . bsn() . ";Utrecht\r\n" } 1 .. 3)), 'found bsn'],
    # precision: look-alikes pass
    ['an export with card numbers under order_id: a label does not make a card an order', attached('orders.csv',
        'text/csv', "order_id,sku,qty,price\r\n" . join('', map { card(16, '4') . ",SKU-$_,2,19.99\r\n" } 1 .. 6)),
        'found card'],
    ['order export: SSN-valid order ids under order_id, SSN in a note', attached('orders.csv', 'text/csv',
        "order_id,note\r\n" . join('', map { (200 + $_) . "123456,SSN check pending\r\n" } 1 .. 4)),
        'code 250'],
    ['BSN-valid numbers without the word', attached('klanten.csv', 'text/csv',
        "naam;nummer;plaats\r\n" . join('', map { "Klant $_;" . bsn() . ";Utrecht\r\n" } 1 .. 3)),
        'code 250'],
    ['quantity table', "${H}Subject: stock\n\nItem     Q1    Q2    Q3    Q4\n"
        . "Bolts  4111  1111  1111  1111\nNuts   1200   980  1130   870\n", 'code 250'],
    ['phone numbers and timestamps', "${H}Subject: call\n\nCall +1 555 867 5309 or 030 12345678\n"
        . "at 2024-01-15 10:30:45 (1700000000123), ref 20240115103045\n", 'code 250'],
);

for my $c (@cases) {
    is(verdict($c->[1]), $c->[2], $c->[0]);
}
my $n = grep { $_->[2] eq 'code 250' } @cases;
is(scalar($sink->wait_messages($n)), $n, 'the look-alikes reached the sink');
ok($dlp->stop, 'dlpgate stops');
done_testing;
