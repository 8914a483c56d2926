#!/usr/bin/perl
# Indexed Document Matching end to end (client -> dlpgate -> smtp-sink): a
# contract made from a template is indexed from its docx (the template's
# own clauses left out); the same contract attached as a PDF, the docx
# itself, 40% of it quoted in a reply or one of its paragraphs pasted into
# a mail are blocked; another contract from the same template and
# unrelated text pass. The incident names the document and the overlap;
# dlpscan shows it; the index holds no run of the text; a broken index is
# refused at reload and the last good one kept.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Copy qw(copy);
use File::Path qw(make_path);
use MIME::Base64;
use DlpTest;
use DlpDetect;
use DlpFingerprint;

my $fix = "$FindBin::Bin/fixtures/fingerprints";
my $dir = test_dir();
my $etc = "$dir/etc";
my $fpdir = "$dir/fp";
make_path($etc, "$dir/docs");
my @o = ('-o', "fingerprint_directory=$fpdir");
copy("$fix/contract-a.docx", "$dir/docs/contract-a.docx") or die "copy: $!";
my $blob = join('', map { chr(int(rand(256))) } 1 .. 5000);
$blob = "\x89PNG\r\n\x1a\n" . $blob;
spit("$dir/docs/drawing.png", $blob);
spit("$dir/docs/memo.txt", "Lunch menu for the week: soup, bread, salad and fruit. "
    . "The canteen opens at noon and closes at two, every working day of the week.\n");

# the index: the contract's docx, with the template's clauses left out
my ($rc, $out) = dlpindex($etc, 'idm', @o, '-n', 'contracts', '-x', "$fix/template.docx", "$dir/docs");
is($rc, 0, 'dlpindex idm: the contracts are indexed') or diag $out;
like($out, qr/contract-a\.docx: \d+ words, \d+ fingerprints/, '... the docx read with the detector\'s extractors');
like($out, qr/index contracts: 3 documents \(1 without readable text\)/, '... every document');
like($out, qr/drawing\.png: 0 words, 0 fingerprints \(no text read: the same file only\)/,
    '... a picture by its SHA-256 alone');
like($out, qr/every shared run of 10 words is found/, '... with the winnowing guarantee');
like($out, qr/([1-9]\d*) template fingerprints left out/, '... and the template\'s own clauses left out');
ok(-f "$fpdir/contracts.idm", 'the index is in fingerprint_directory');

# the PDF Writer saved of the same contract, in an index of its own
($rc, $out) = dlpindex($etc, 'idm', @o, '-n', 'pdfs', '-x', "$fix/template.docx", "$fix/contract-a.pdf");
is($rc, 0, 'dlpindex idm: a PDF indexed') or diag $out;
like($out, qr/contract-a\.pdf: 19\d\d words, \d+ fingerprints/, '... its text read by the detector\'s PDF reader');

# the same documents without the template's exclusion, for a comparison
($rc, $out) = dlpindex($etc, 'idm', @o, '-n', 'contracts-all', "$dir/docs");
is($rc, 0, 'the same documents indexed with their template clauses');

my $policies = <<'EOF';
policies = (
  { name = "contracts"; severity = "high";
    rules = ( { type = "document"; index = "contracts"; min_overlap = 30; min_shared_words = 50; } );
    action = "block"; reply = "550 5.7.1 Contract text may not leave (policy contracts)"; },
  { name = "pdf-contracts"; severity = "high";
    rules = ( { type = "document"; index = "pdfs"; min_overlap = 30; } );
    action = "block"; }
);
EOF
my $sink = start_sink();
my $dlp = start_detect(dir => $dir, policies => $policies, sink => $sink,
    conf => { fingerprint_directory => $fpdir });

sub mail {
    my ($msg) = @_;
    my ($code, $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@partner.example'],
        data => $msg);
    return ($code, $text);
}
sub with_attachment {
    my ($name, $type, $bytes) = @_;
    return mime_message(from => 'a@example.com', to => 'b@partner.example', subject => 'the file',
        parts => [ { type => 'text/plain', body => "Please find the file attached.\n" },
                   { type => $type, filename => $name, encoding => 'base64', body => $bytes } ]);
}
sub body_mail {
    my ($body) = @_;
    return "From: a\@example.com\nTo: b\@partner.example\nSubject: Re: contract\n\n$body";
}

# the contract's text as paragraphs, to quote from
my @para = grep { /\S/ } split /\n\s*\n/, slurp("$fix/contract-a.txt");
my @words = split /\s+/, join(' ', @para);

# the docx itself: byte for byte
my ($code, $text) = mail(with_attachment('contract-a.docx',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document', slurp("$fix/contract-a.docx")));
is($code, 550, 'the indexed docx attached: blocked');
is($text, '550 5.7.1 Contract text may not leave (policy contracts)', '... with the policy reply');
my @inc = wait_incidents($dlp, 1);
my $rule = $inc[0]{policies}[0]{rules}[0];
is($rule->{rule}, 'document contracts', 'the incident names the rule and index');
is($rule->{documents}[0]{name}, 'contract-a.docx', '... the document');
is($rule->{documents}[0]{overlap}, 100, '... the overlap');
ok($rule->{documents}[0]{identical}, '... and that it is the same file');

# a file no text can be read from: found as the same bytes
($code) = mail(with_attachment('p.png', 'image/png', $blob));
is($code, 550, 'the indexed picture attached: blocked');
@inc = wait_incidents($dlp, 2);
is($inc[1]{policies}[0]{rules}[0]{documents}[0]{name}, 'drawing.png', '... named');
($code) = mail(with_attachment('p.png', 'image/png', substr($blob, 0, -1) . 'x'));
is($code, 250, 'the same picture with one byte changed passes');

# a reply quoting 40% of it, re-wrapped, each line behind "> "
my ($from, $n) = (int(@words * 0.3), int(@words * 0.4));
my $quote = '';
my $line = '>';
for my $w (@words[$from .. $from + $n - 1]) {
    if (length($line) + length($w) > 72) { $quote .= "$line\n"; $line = '>'; }
    $line .= " $w";
}
$quote .= "$line\n";
($code) = mail(body_mail("See my remarks below, I do not agree with all of it.\n\nOn Monday you wrote:\n$quote"));
is($code, 550, 'a reply quoting 40% of the contract: blocked');
@inc = wait_incidents($dlp, 3);
my $d = $inc[2]{policies}[0]{rules}[0]{documents}[0];
is($d->{name}, 'contract-a.docx', '... the incident names the document');
cmp_ok($d->{overlap}, '>=', 40, "... with its overlap ($d->{overlap}%)");
ok(!$d->{identical}, '... not as the same file');
is($inc[2]{policies}[1]{name}, 'pdf-contracts', 'the same quote matches the indexed PDF');
$d = $inc[2]{policies}[1]{rules}[0]{documents}[0];
is($d->{name}, 'contract-a.pdf', '... named in the incident');
cmp_ok($d->{overlap}, '>=', 35, "... with its overlap ($d->{overlap}%: page breaks cut a few k-grams)");

# one paragraph pasted: under 30%, over min_shared_words
my ($long) = sort { length($b) <=> length($a) } grep { !/^Clause|^\d+\./ } @para[4 .. $#para];
($code) = mail(body_mail("Hi, can you check this paragraph?\n\n$long\n\nThanks\n"));
is($code, 550, 'one paragraph of it pasted into a mail: blocked (min_shared_words)');
@inc = wait_incidents($dlp, 4);
$d = $inc[3]{policies}[0]{rules}[0]{documents}[0];
cmp_ok($d->{overlap}, '<', 30, "... although its overlap is small ($d->{overlap}%)");
cmp_ok($d->{shared_words}, '>=', 50, "... by the words it shares ($d->{shared_words})");

# another contract from the same template, and unrelated text, pass
($code) = mail(with_attachment('contract-b.docx',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document', slurp("$fix/contract-b.docx")));
is($code, 250, 'another contract made from the same template passes');
($code) = mail(body_mail(slurp("$fix/contract-b.txt")));
is($code, 250, '... pasted as text too');
($code) = mail(body_mail(slurp("$fix/template.txt")));
is($code, 250, 'the template\'s clauses alone pass');
($code) = mail(body_mail(join(' ', @words[0 .. 7]) . "\n" . join(' ', @words[500 .. 507]) . "\n"));
is($code, 250, 'two runs of 8 words (under the 10 words winnowing guarantees) pass');
($code) = mail(body_mail("The quarterly report is attached; the budget review meeting moved to Friday.\n" x 20));
is($code, 250, 'an unrelated mail passes');

# a quote inside a document: read by a confined child, judged all the same
my $q20a = join(' ', @words[$from .. $from + int($n / 2) - 1]);
my $q20b = join(' ', @words[$from + int($n / 2) .. $from + $n - 1]);
($code) = mail(with_attachment('notes.docx',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document', docx_bytes("$q20a $q20b")));
is($code, 550, '40% of the contract inside a docx of its own (read by a confined child): blocked');
@inc = incidents($dlp);
$d = $inc[-1]{policies}[0]{rules}[0]{documents}[0];
is($d->{name}, 'contract-a.docx', '... the incident names the document');
cmp_ok($d->{overlap}, '>=', 40, "... and the overlap ($d->{overlap}%)");

# half of it in a docx, half in the body: the message as a whole
spit("$dir/whole.conf", $policies =~ s/min_shared_words = 50;//r);
spit("$dir/half.eml", mime_message(from => 'a@example.com', to => 'b@partner.example', subject => 'x',
    parts => [ { type => 'text/plain', body => "$q20a\n" },
               { type => 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
                 filename => 'rest.docx', encoding => 'base64', body => docx_bytes($q20b) } ]));
($rc, $out) = dlpscan('-c', $etc, '-o', "policy_file=$dir/whole.conf", "$dir/half.eml");
like($out, qr/contract-a\.docx, (4\d|3\d)% of its fingerprints, \d+ words \(in the message\)/,
    'half in the body and half in a docx: 30% or more of the message as a whole');
spit("$dir/halfonly.eml", mime_message(from => 'a@example.com', to => 'b@partner.example', subject => 'x',
    parts => [ { type => 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
                 filename => 'rest.docx', encoding => 'base64', body => docx_bytes($q20b) } ]));
($rc, $out) = dlpscan('-c', $etc, '-o', "policy_file=$dir/whole.conf", "$dir/halfonly.eml");
like($out, qr/no policy fired/, '... the docx alone (20%) does not');

# without the template left out, the other contract stays under 30% anyway
spit("$dir/b.eml", body_mail(slurp("$fix/contract-b.txt")));
spit("$dir/all.conf", $policies =~ s/index = "contracts"; min_overlap = 30; min_shared_words = 50;/index = "contracts-all"; min_overlap = 30;/r);
($rc, $out) = dlpscan('-c', $etc, '-o', "policy_file=$dir/all.conf", "$dir/b.eml");
like($out, qr/no policy fired/, 'indexed with its template clauses, the other contract still stays under 30%');

# dlpscan shows the match
spit("$dir/q.eml", body_mail($quote));
($rc, $out) = dlpscan('-c', $etc, "$dir/q.eml");
like($out, qr/verdict=block/, 'dlpscan: the verdict');
like($out, qr/document contracts \(line 3\): 1 match, e\.g\. contract-a\.docx \d+%/, 'dlpscan: the rule and document');
like($out, qr/index contracts: contract-a\.docx, \d+% of its fingerprints, \d+ words/, 'dlpscan: overlap and words');

# the PDF of the docx, as Writer saved it
($code) = mail(with_attachment('contract-a.pdf', 'application/pdf', slurp("$fix/contract-a.pdf")));
is($code, 550, 'the PDF of the indexed docx attached: blocked');
@inc = incidents($dlp);
$d = $inc[-1]{policies}[0]{rules}[0]{documents}[0];
is($d->{name}, 'contract-a.docx', '... as the docx that was indexed');
cmp_ok($d->{overlap}, '>=', 80, "... most of its fingerprints found in the PDF's text ($d->{overlap}%)");

# the index holds no run of the text
sub clear_text {
    my ($file) = @_;
    my $bytes = slurp($file) // return 'unreadable';
    for (my $i = 0; $i + 3 < @words; $i += 37) {
        my $run = join(' ', @words[$i .. $i + 2]);
        return $run if index($bytes, $run) >= 0 || index(lc $bytes, lc $run) >= 0;
    }
    for my $w (grep { length > 8 } @words) {
        return $w if index(lc $bytes, lc $w) >= 0;
    }
    return '';
}
is(clear_text("$fpdir/contracts.idm"), '', 'the index holds no run of the text, not even a long word');
is(clear_text("$dlp->{run}/detector/fingerprints/contracts.idm"), '', '... nor its last good copy');

# a broken index is refused at reload, the last good one kept
my $idx = slurp("$fpdir/contracts.idm");
spit("$fpdir/contracts.idm", substr($idx, 0, length($idx) - 100));
my $mark = $dlp->log_size;
$dlp->reload;
like($dlp->wait_log(qr/3102 fingerprint index refused/, 30, $mark) // '', qr/index=contracts reason=".*truncated/,
    'reload: a truncated index is refused (3102)');
ok($dlp->wait_log(qr/3103 keeping the last good fingerprint index/, 30, $mark), '... the last good copy kept (3103)');
ok($dlp->wait_log(qr/3004 detector ready/, 30, $mark), '... and the detectors run');
($code) = mail(body_mail($quote));
is($code, 550, 'the quote is still blocked on the last good index');

done_testing();
