#!/usr/bin/perl
# Exact Data Matching end to end (client -> dlpgate -> smtp-sink): an index
# of a generated 100,000-row customer export; two columns of one row in a
# mail are blocked, one column alone or columns of different rows pass;
# the incident names index, row and columns with masked values; dlpscan
# shows the match; a reload takes a new index, a broken one is refused
# and the last good one kept; dlpgate check says so; and neither index
# nor incident holds a cell in clear.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Path qw(make_path);
use Time::HiRes qw(time);
use DlpTest;
use DlpDetect;
use DlpOps;
use DlpFingerprint;

my $rows = 100_000;
my $dir = test_dir();
my $etc = "$dir/etc";
my $fpdir = "$dir/fp";
make_path($etc);
my @o = ('-o', "fingerprint_directory=$fpdir");

# the export: a header, quoted fields, CRLF, UTF-8; one row with a
# comma, a quote and an umlaut in its name
my @cust = customers($rows);
$cust[777]{last_name} = "Mü\"ller, Jr";
write_csv("$dir/customers.csv", \@cust);
my $t0 = time;
my ($rc, $out) = dlpindex($etc, 'edm', @o, '-n', 'customers', "$dir/customers.csv");
my $took = time - $t0;
is($rc, 0, 'dlpindex edm: 100,000 rows indexed') or diag $out;
like($out, qr/index customers: 100000 rows, 6 columns/, '... the summary counts rows and columns');
like($out, qr/column ssn\s+digits/, '... the SSN column is taken for digits');
like($out, qr/column email\s+email/, '... the e-mail column for addresses');
like($out, qr/column dob\s+date/, '... the birth dates for dates');
like($out, qr/left out: \d+ empty, \d+ short, ([1-9]\d*) common/, '... common first names are left out and counted');
like($out, qr/size: [\d.]+ MB, [\d.]+ bytes a row/, '... and the index size is reported');
diag sprintf('indexed %d rows in %.1f s', $rows, $took);
ok(-f "$fpdir/customers.edm", 'the index is in fingerprint_directory');
my @st = stat("$etc/fingerprint.key");
is($st[2] & 0777, 0400, 'the secret is made with the first index, mode 0400');
if ($> == 0) {
    is(scalar getpwuid($st[4]), 'dlpgate-detect', '... owned by the detector user');
}

# the rule: last name, SSN or card of one row, within 200 characters
my $policies = <<'EOF';
policies = (
  { name = "customer-records"; severity = "high";
    rules = ( { type = "edm"; index = "customers"; columns = ["last_name", "ssn", "card"];
                min_columns = 2; distance = 200; } );
    action = "block"; reply = "550 5.7.1 Customer records may not leave (policy customer-records)"; }
);
EOF
my $sink = start_sink();
my $dlp = start_detect(dir => $dir, policies => $policies, sink => $sink,
    conf => { fingerprint_directory => $fpdir });
like($dlp->wait_log(qr/3101 fingerprint index loaded/, 20) // '', qr/index=customers/,
    'the detector loads the index (3101)');

sub mail {
    my ($body, %opt) = @_;
    my $msg = $opt{msg} // "From: a\@example.com\nTo: b\@partner.example\nSubject: "
        . ($opt{subject} // 'records') . "\n\n$body\n";
    my ($code, $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@partner.example'],
        data => $msg);
    return ($code, $text);
}

my $r = $cust[4711];
my ($code, $text) = mail("Hello, as discussed: $r->{last_name}, SSN $r->{ssn}. Regards");
is($code, 550, 'last name and SSN of one row: blocked');
is($text, '550 5.7.1 Customer records may not leave (policy customer-records)', '... with the policy reply');
my @inc = wait_incidents($dlp, 1);
my $rule = $inc[0]{policies}[0]{rules}[0];
is($rule->{rule}, 'edm customers', 'the incident names the rule and index');
is($rule->{index}, 'customers', '... the index');
is($rule->{matches}[0]{row}, 4712, '... the row (1-based, as in the export)');
is_deeply($rule->{matches}[0]{columns}, ['last_name', 'ssn'], '... the columns that matched');
(my $ssn4 = $r->{ssn}) =~ s/.*(\d{4})$/$1/;
like($rule->{matches}[0]{values}, qr/ssn=\*\*\*-\*\*-\Q$ssn4\E/, '... and the values, masked');
(my $ssn_digits = $r->{ssn}) =~ s/\D//g;
for my $where (['incident log', slurp($dlp->{incident_log})], ['master log', $dlp->log]) {
    unlike($where->[1], qr/\Q$r->{ssn}\E|$ssn_digits|\Q$r->{last_name}\E/i,
        "no clear SSN or name in the $where->[0]");
}

# the same with the card, written another way, in an attachment
my $card = $r->{card} =~ s/ /-/gr;
($code) = mail('', msg => mime_message(from => 'a@example.com', to => 'b@partner.example',
    subject => 'file', parts => [
        { type => 'text/plain', body => 'see the attachment' },
        { type => 'text/plain', filename => 'notes.txt', encoding => 'base64',
          body => "customer \U$r->{last_name}\E\npays with card $card\n" } ]));
is($code, 550, 'last name and card (other separators, other case) in an attachment: blocked');

# inside a docx: read by a confined child, reported all the same
($code) = mail('', msg => mime_message(from => 'a@example.com', to => 'b@partner.example',
    subject => 'file', parts => [
        { type => 'text/plain', body => 'see the attachment' },
        { type => 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
          filename => 'list.docx', encoding => 'base64',
          body => docx_bytes("Customer list\n$r->{last_name}; SSN $r->{ssn}\n", paragraphs => 1) } ]));
is($code, 550, 'last name and SSN in a docx (read by a confined child): blocked');
@inc = incidents($dlp);
is($inc[-1]{policies}[0]{rules}[0]{matches}[0]{row}, 4712, '... the incident names the row');

# one column alone, or two columns of different rows, pass
my $other = $cust[90210];
($code) = mail("Please check SSN $r->{ssn} for me.");
is($code, 250, 'an SSN alone passes');
($code) = mail("Dear $r->{last_name}, nice to meet you.");
is($code, 250, 'a last name alone passes');
($code) = mail("$r->{last_name} and SSN $other->{ssn}");
is($code, 250, 'a last name and the SSN of another row pass');
($code) = mail("card $r->{card}, SSN $other->{ssn}");
is($code, 250, 'a card and the SSN of another row pass');
($code) = mail("Write to $r->{email}, born $r->{dob}");
is($code, 250, 'two cells of one row in columns the rule does not name pass');
($code) = mail("$r->{last_name}, " . ('lorem ipsum dolor sit amet ' x 12) . " SSN $r->{ssn}");
is($code, 250, 'one row\'s name and SSN further apart than distance pass');
my $mu = $cust[777];
($code) = mail("Herr MUELLER? no: Mü\"ller, Jr; card $mu->{card}");
is($code, 550, 'a name with a quote, comma and umlaut from a quoted CSV field matches');

# dlpscan shows the match in its dry run
spit("$dir/m.eml", "From: a\@example.com\nTo: b\@partner.example\nSubject: x\n\n"
    . "$r->{last_name} $r->{card}\n");
($rc, $out) = dlpscan('-c', $etc, @o, "$dir/m.eml");
like($out, qr/verdict=block/, 'dlpscan: the verdict');
like($out, qr/edm customers \(line 3\): 1 match, e\.g\. row 4712: last_name, card/, 'dlpscan: the rule, row and columns');
like($out, qr/index customers row 4712: last_name=\S+, card=\*\*\*\* \*\*\*\* \*\*\*\* \d{4}/,
    'dlpscan: the masked values');

# only the columns a rule names count
spit("$dir/cards.conf", $policies =~ s/"last_name", "ssn", "card"/"last_name", "card"/r);
spit("$dir/m.eml", "From: a\@example.com\nTo: b\@partner.example\nSubject: x\n\n"
    . "$r->{last_name} $r->{ssn}\n");
($rc, $out) = dlpscan('-c', $etc, @o, '-o', "policy_file=$dir/cards.conf", "$dir/m.eml");
like($out, qr/no policy fired/, 'a rule on last name and card ignores the SSN column of the same row');
spit("$dir/m.eml", "From: a\@example.com\nTo: b\@partner.example\nSubject: x\n\n"
    . "$r->{last_name} $r->{card}\n");
($rc, $out) = dlpscan('-c', $etc, @o, '-o', "policy_file=$dir/cards.conf", "$dir/m.eml");
like($out, qr/row 4712: last_name, card/, '... and matches its card');

# the index holds no cell in clear, in any form
sub clear_cells {
    my ($file) = @_;
    my $bytes = slurp($file) // return 'unreadable';
    for my $n (0, 1, 777, 4711, 50_000, 99_999) {
        my $c = $cust[$n];
        for my $v ($c->{last_name}, lc $c->{last_name}, $c->{ssn}, $c->{ssn} =~ s/\D//gr,
            $c->{card}, $c->{card} =~ s/\D//gr, $c->{email}, $c->{dob}, $c->{dob} =~ s/\D//gr) {
            return $v if index($bytes, $v) >= 0;
        }
    }
    return '';
}
is(clear_cells("$fpdir/customers.edm"), '', 'the index holds no cell in clear (names, SSNs, cards, addresses, dates)');
is(clear_cells("$dlp->{run}/detector/fingerprints/customers.edm"), '', '... nor its last good copy');

# reload: a new export replaces the index
my $new_ssn = '555-12-3456';
my $old_ssn = $r->{ssn};
$cust[4711]{ssn} = $new_ssn;
write_csv("$dir/customers.csv", \@cust);
($rc, $out) = dlpindex($etc, 'edm', @o, '-n', 'customers', "$dir/customers.csv");
is($rc, 0, 'a new export indexed') or diag $out;
my $mark = $dlp->log_size;
$dlp->reload;
ok($dlp->wait_log(qr/3101 fingerprint index loaded/, 30, $mark), 'reload: the new index is loaded');
DlpTest::wait_until(sub { my ($c) = mail("$r->{last_name} $new_ssn"); $c == 550 }, 30);
($code) = mail("$r->{last_name} $new_ssn");
is($code, 550, 'after reload the new SSN of the row is blocked');
($code) = mail("$r->{last_name} $old_ssn");
is($code, 250, '... and the old one no longer');

# a broken index is refused; the last good one keeps running
my $idx = slurp("$fpdir/customers.edm");
substr($idx, length($idx) / 2, 16) = 'x' x 16;
spit("$fpdir/customers.edm", $idx);
($rc, $out) = dlpgate($etc, @o, 'check');
isnt($rc, 0, 'dlpgate check refuses the damaged index');
like($out, qr/customers\.edm: checksum mismatch \(damaged file\?\)/, '... and says what is wrong with it');
($rc, $out) = dlpscan('-c', $etc, @o, '-t');
like($out, qr/policies\.conf:\d+: edm index "customers": .*checksum mismatch/, 'dlpscan -t names the policy line and the index');
$mark = $dlp->log_size;
$dlp->reload;
like($dlp->wait_log(qr/3102 fingerprint index refused/, 30, $mark) // '', qr/index=customers reason=".*checksum mismatch/,
    'reload: the damaged index is refused (3102)');
ok($dlp->wait_log(qr/3103 keeping the last good fingerprint index/, 30, $mark), '... the last good copy is kept (3103)');
ok($dlp->wait_log(qr/3004 detector ready/, 30, $mark), '... and the detectors run');
($code) = mail("$r->{last_name} $new_ssn");
is($code, 550, 'with the damaged index, the last good one still blocks');
unlink "$fpdir/customers.edm";
$mark = $dlp->log_size;
$dlp->reload;
like($dlp->wait_log(qr/3102 fingerprint index refused/, 30, $mark) // '', qr/No such file/,
    'a missing index is refused too');
ok($dlp->wait_log(qr/3004 detector ready/, 30, $mark), '... and the detectors run');
($code) = mail("$r->{last_name} $new_ssn");
is($code, 550, '... on the last good copy');

($rc, $out) = dlpindex($etc, 'edm', @o, '-n', 'customers', "$dir/customers.csv");
spit("$etc/policies.conf", $policies =~ s/"ssn", "card"/"ssn", "cvv"/r);
($rc, $out) = dlpscan('-c', $etc, @o, '-t');
like($out, qr/policies\.conf:\d+: edm index "customers" has no column "cvv" \(it has first_name, last_name, ssn, card, email, dob\)/,
    'a rule naming a column the index does not have');
spit("$etc/policies.conf", $policies);
($rc, $out) = dlpscan('-c', $etc, @o, '-t');
is($rc, 0, 'dlpscan -t: the policies and a good index') or diag $out;
like($out, qr/1 policies, 1 rules, 0 patterns; indexes customers \(edm\)/, '... named in its summary');

# an index made under another secret is refused with the reason
my $etc2 = "$dir/etc2";
make_path($etc2);
write_csv("$dir/small.csv", [@cust[0 .. 99]]);
($rc, $out) = dlpindex($etc2, 'edm', '-o', "fingerprint_directory=$fpdir", '-n', 'customers', "$dir/small.csv");
is($rc, 0, 'an index made with another configuration directory (another secret)');
($rc, $out) = dlpscan('-c', $etc, @o, '-t');
like($out, qr/made under another fingerprint key \(index it again\)/, 'is refused: made under another key');

# a secret others can read is refused, with the fix
chmod 0440, "$etc/fingerprint.key";
($rc, $out) = dlpscan('-c', $etc, @o, '-t');
like($out, qr/fingerprint key \S+fingerprint\.key: mode 0440 lets others read it; fix: chmod 400/,
    'a fingerprint key its group can read is refused, with the fix');
chmod 0400, "$etc/fingerprint.key";

# bad input gets a clear error, not a crash
spit("$dir/bad.csv", "a,b\n\"x,y\n");
($rc, $out) = dlpindex($etc, 'edm', @o, '-n', 'bad', "$dir/bad.csv");
is($rc, 1, 'an unclosed quote: exit 1');
like($out, qr/bad\.csv:2: a quoted field is not closed/, '... with its line');
spit("$dir/bad.csv", "a,b\n1,2,3\n");
($rc, $out) = dlpindex($etc, 'edm', @o, '-n', 'bad', "$dir/bad.csv");
like($out, qr/bad\.csv:2: 3 fields, the header names 2/, 'a row with too many fields');
spit("$dir/bad.csv", "name\n\xff\xfe\n");
($rc, $out) = dlpindex($etc, 'edm', @o, '-n', 'bad', "$dir/bad.csv");
like($out, qr/bad\.csv:2: not UTF-8 text/, 'text that is not UTF-8');

done_testing();
