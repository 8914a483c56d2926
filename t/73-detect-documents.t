#!/usr/bin/perl
# Documents read as their readers read them: Word, Excel and PowerPoint
# 97-2003 (compound files), RTF, OpenDocument and Office Open XML made by
# LibreOffice, an Outlook message with every kind of body and attachment,
# messages saved as files, and embedded objects. Hostile compound files
# and RTF end as unscannable or scanned, never as a crash or a hang. End
# to end with blocking policies and unscannable_action = block, and with
# dlpscan, which must agree.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpDetect;

# one policy per marker word: the incident says where each was found
my @birds = qw(falcon osprey harrier merlin kestrel buzzard);
my $policies = "policies = (\n" . join(",\n", (map {
    sprintf('  { name = "%s"; rules = ( { type = "keyword"; keywords = ["%s"]; look_in = ["all"]; } ); action = "block"; }', $_, $_)
} @birds), '  { name = "card"; rules = ( { type = "identifier"; identifier = "credit_card"; look_in = ["all"]; } ); action = "block"; }',
    # the same birds in Russian and Greek, for 8-bit text in its code page
    '  { name = "sokol"; rules = ( { type = "keyword"; keywords = ["\xd1\x81\xd0\xbe\xd0\xba\xd0\xbe\xd0\xbb"]; look_in = ["all"]; } ); action = "block"; }',
    '  { name = "geraki"; rules = ( { type = "keyword"; keywords = ["\xce\xb3\xce\xb5\xcf\x81\xce\xac\xce\xba\xce\xb9"]; look_in = ["all"]; } ); action = "block"; }')
    . "\n);\n";

my $sink = start_sink();
my $dlp = start_detect(policies => $policies, sink => $sink, conf => {
    unscannable_action => 'block', detector_decoded_size_limit => '8m' });
my $fix = top_dir() . "/t/fixtures/office";
my $CARD = "4111 1111 1111 1111";

# message - one attachment, base64
sub message {
    my ($name, $body, $type) = @_;
    return mime_message(from => 'a@example.com', to => 'b@example.net', subject => "att $name",
        parts => [{ body => "see attached\n", disposition => 'inline' },
                  { type => $type // 'application/octet-stream', filename => $name, body => $body,
                    encoding => 'base64' }]);
}

# check - one case, end to end and with dlpscan
sub check { check_outcome($dlp, @_) }

# ---- made by LibreOffice (t/fixtures/office/make-fixtures.sh) --------------
for my $f (qw(text.doc sheet.xls slides.ppt text.rtf text.odt sheet.ods slides.odp
              text.docx sheet.xlsx slides.pptx)) {
    check("$f from LibreOffice: its words and its card", message($f, slurp("$fix/$f")), 'card,falcon');
}

# ---- written by make-msg.pl -------------------------------------------------
check('Outlook message: subject, body, HTML, compressed RTF, attachment, attached message',
    message('mail.msg', slurp("$fix/mail.msg"), 'application/vnd.ms-outlook'),
    'buzzard,card,falcon,harrier,kestrel,merlin,osprey');
check('Outlook message with 8-bit strings: each message read in its own code page '
    . '(PR_MESSAGE_CODEPAGE 1251; an attached one with PR_INTERNET_CPID 1253)',
    message('mail-codepage.msg', slurp("$fix/mail-codepage.msg"), 'application/vnd.ms-outlook'),
    'geraki,sokol');
check('RTF with an embedded Excel sheet and a packaged file', message('object.rtf', slurp("$fix/object.rtf")),
    'card,falcon');
check('password-protected docx: named in the reason', message('secret.docx', slurp("$fix/encrypted.docx")),
    'unscannable: encrypted Office document secret.docx');

check('xls whose formulas join constants, no results stored: computed as Excel does',
    message('formula.xls', slurp("$fix/formula.xls")), 'card,falcon');
check('xls whose only card is a formula that joins cells, one after it, no result stored',
    message('formula-refs.xls', slurp("$fix/formula-refs.xls")), 'card');
check('docm whose word is only in its VBA module, compressed as VBA stores it',
    message('macro.docm', slurp("$fix/macro.docm")), 'falcon');
check('xlsx with inline strings and a number',
    message('inline.xlsx', zip_bytes('[Content_Types].xml' => '<Types/>',
        'xl/worksheets/sheet1.xml' => '<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>fal</t>'
            . '</is></c></row><row r="2"><c r="A2" t="inlineStr"><is><r><t>fal</t></r><r><t>con</t></r></is></c>'
            . '<c r="B2"><v>378282246310005</v></c></row></sheetData></worksheet>')), 'card,falcon');

# ---- messages saved as files ---------------------------------------------
my $inner = mime_message(from => 'c@example.org', to => 'd@example.org', subject => 'old',
    parts => [{ body => "hello\n", disposition => 'inline' },
              { type => 'text/plain', filename => 'n.txt', body => "card $CARD\n", encoding => 'base64' }]);
check('an .eml in a zip: its base64 attachment is decoded',
    message('mails.zip', zip_bytes('saved/old.eml' => $inner)), 'card');
check('an .eml sent as application/octet-stream', message('old.eml', $inner), 'card');

# ---- hostile compound files ------------------------------------------------
my $doc = slurp("$fix/text.doc");
# patch - a copy of the .doc with FAT entry n set to v
sub patch_fat {
    my ($n, $v) = @_;
    my $d = $doc;
    my $fat = (unpack('V', substr($d, 0x4c, 4)) + 1) * 512;
    substr($d, $fat + 4 * $n, 4) = pack('V', $v);
    return $d;
}
my $dirsect = unpack('V', substr($doc, 0x30, 4));
check('OLE2 whose directory chain points at itself: unscannable, no hang',
    message('loop.doc', patch_fat($dirsect, $dirsect)), qr/unscannable: broken OLE2 file loop\.doc \(directory chain broken\)$/);
check('OLE2 whose FAT points past the file: unscannable',
    message('past.doc', patch_fat($dirsect, 0x7ffffff0)), qr/unscannable: broken OLE2 file past\.doc/);
{
    # the root's child points back at the root: a directory tree with a cycle
    my $d = $doc;
    my $dir = ($dirsect + 1) * 512;
    substr($d, $dir + 128 + 0x44, 4) = pack('V', 1);     # entry 1's left sibling: itself
    substr($d, $dir + 128 + 0x4c, 4) = pack('V', 0);     # entry 1's child: the root
    my ($e2e, $scan) = outcome($dlp, message('cycle.doc', $d));
    like($e2e, qr/^(card,falcon|.*unscannable: .*cycle\.doc.*)$/, 'OLE2 directory with a cycle: read or unscannable, no hang');
    is($scan, $e2e, 'OLE2 directory with a cycle (dlpscan)');
}
check('truncated .doc: unscannable', message('cut.doc', substr($doc, 0, 3000)), qr/unscannable: .*cut\.doc/);

# ---- hostile RTF ------------------------------------------------------------
check('RTF nested 100,000 groups deep: the text at the bottom is read',
    message('deep.rtf', "{\\rtf1 " . ("{" x 100_000) . "falcon" . ("}" x 100_000) . "}"), 'falcon');
check('RTF with a \\bin larger than the file', message('bin.rtf', "{\\rtf1 card $CARD \\bin999999999 abc}"), 'card');
check('RTF \\u characters and \\\'hh bytes', message('u.rtf',
    "{\\rtf1\\ansi\\ansicpg1252\\uc1 f\\u97?lc\\'6fn}"), 'falcon');
check('RTF with an unterminated hex object', message('obj.rtf', "{\\rtf1 hello {\\*\\objdata 0105000002000000"),
    'pass');

unlike($dlp->log, qr/5004 child exited abnormally.*detector/, 'no detector died');
ok($dlp->stop, 'dlpgate stops');
done_testing;
