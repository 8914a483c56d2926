#!/usr/bin/perl
# Macintosh files in mail, read as mail readers show them: BinHex 4.0 in
# untyped text (Thunderbird shows it as an attachment) and in
# application/mac-binhex40 parts, written by macutils' binhex with its
# run-length encoding; AppleSingle (application/applefile holding the whole
# file: its data fork is the document) and AppleDouble (multipart/appledouble:
# the data fork is a part of its own). Broken ones end as unscannable. End
# to end with blocking policies and unscannable_action = block, and with
# dlpscan, which must agree.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpDetect;

my $policies = <<'EOF2';
policies = (
  { name = "falcon"; rules = ( { type = "keyword"; keywords = ["falcon"]; look_in = ["all"]; } ); action = "block"; },
  { name = "card"; rules = ( { type = "identifier"; identifier = "credit_card"; look_in = ["all"]; } ); action = "block"; },
  { name = "xlsx"; rules = ( { type = "attachment"; names = ["*.xlsx"]; } ); action = "block"; }
);
EOF2
my $sink = start_sink();
my $dlp = start_detect(policies => $policies, sink => $sink, conf => { unscannable_action => 'block' });
my $dir = $dlp->{dir};
my $office = top_dir() . "/t/fixtures/office";
my $CARD = '4111 1111 1111 1111';

# check - one case, end to end and with dlpscan
sub check { check_outcome($dlp, @_) }

# hqx - a file as macutils' binhex writes it (run-length encoded)
my $n = 0;
sub hqx {
    my ($name, $bytes) = @_;
    my $d = "$dir/hqx" . ++$n;
    mkdir $d;
    spit("$d/$name", $bytes);
    my ($rc, $out) = run_cmd('sh', '-c', "cd '$d' && binhex -d '$name'");
    die "binhex: $out" if $rc;
    return $out;
}
my $H = "From: a\@example.com\nTo: b\@example.net\nSubject: files\n";

# ---- BinHex -------------------------------------------------------------------
my $docx = hqx('report.docx', slurp("$office/text.docx"));
like($docx, qr/^\(This file must be converted/, 'binhex writes its header line');
check('BinHex in an untyped text body: the Word document in it', "$H\nThe report:\n\n$docx", 'card,falcon');
(my $std = $docx) =~ s/^\(This file must be converted[^\n]*/(This file must be converted with BinHex 4.0)/;
check('BinHex with the standard header line', "$H\nThe report:\n\n$std", 'card,falcon');
my $runs = hqx('notes.txt', ('x' x 100_000) . "\ncard $CARD\n");
ok(length($runs) < 2000, 'run-length encoded: 100 KB in ' . length($runs) . ' bytes');
check('BinHex with long runs, as an application/mac-binhex40 part',
    mime_message(from => 'a@example.com', to => 'b@example.net', subject => 'x',
        parts => [{ body => "hi\n", disposition => 'inline' },
                  { type => 'application/mac-binhex40', filename => 'notes.hqx', body => $runs }]), 'card');
(my $cut = $runs) =~ s/:\s*\z//;
$cut = substr($cut, 0, length($cut) - 10);
check('BinHex that breaks off before its closing colon', "$H\n$cut\n", qr/^unscannable: broken BinHex file/);

# ---- AppleSingle and AppleDouble ------------------------------------------------
# apple - an AppleSingle (magic 0x00051600) or AppleDouble (0x00051607) file
sub apple {
    my ($magic, @entries) = @_;            # [id, bytes], ...
    my $off = 26 + 12 * @entries;
    my ($head, $body) = (pack('N N', $magic, 0x00020000) . ("\0" x 16) . pack('n', scalar @entries), '');
    for my $e (@entries) {
        $head .= pack('N N N', $e->[0], $off + length $body, length $e->[1]);
        $body .= $e->[1];
    }
    return $head . $body;
}
my $finder = pack('a4 a4 n', 'XLSX', 'XCEL', 0) . ("\0" x 22);
check('AppleSingle: the Excel sheet in its data fork, named by its real name',
    mime_message(from => 'a@example.com', to => 'b@example.net', subject => 'x',
        parts => [{ body => "hi\n", disposition => 'inline' },
                  { type => 'application/applefile', filename => 'figures', encoding => 'base64',
                    body => apple(0x00051600, [3, 'figures.xlsx'], [9, $finder],
                                  [1, slurp("$office/sheet.xlsx")]) }]), 'card,falcon,xlsx');
check('AppleSingle: a PDF in its data fork goes to the PDF reader',
    mime_message(from => 'a@example.com', to => 'b@example.net', subject => 'x',
        parts => [{ type => 'application/applefile', filename => 'report', encoding => 'base64',
                    body => apple(0x00051600, [3, 'report.pdf'], [1, slurp(top_dir() . "/t/fixtures/pdf/lo-odt.pdf")]) }]),
    qr/^card/);
check('AppleDouble (multipart/appledouble): the data fork part is read',
    mime_message(from => 'a@example.com', to => 'b@example.net', subject => 'x', multipart => 'multipart/appledouble',
        parts => [{ type => 'application/applefile', filename => 'report.doc', encoding => 'base64',
                    body => apple(0x00051607, [3, 'report.doc'], [2, "rsrc"], [9, $finder]) },
                  { type => 'application/msword', filename => 'report.doc', encoding => 'base64',
                    body => slurp("$office/text.doc") }]), 'card,falcon');
{
    my $bad = apple(0x00051600, [3, 'x.txt'], [1, "card $CARD\n"]);
    substr($bad, 26 + 12 + 8, 4) = pack('N', 0x7fffffff);      # the data fork's length
    check('AppleSingle whose data fork runs past the end: read as far as it goes, and named',
        mime_message(from => 'a@example.com', to => 'b@example.net', subject => 'x',
            parts => [{ type => 'application/applefile', filename => 'x', encoding => 'base64', body => $bad }]),
        qr/^card; unscannable: broken AppleSingle\/AppleDouble file x \(entry 1 past the end\)$/);
}

unlike($dlp->log, qr/5004 child exited abnormally.*detector/, 'no detector died');
ok($dlp->stop, 'dlpgate stops');
done_testing;
