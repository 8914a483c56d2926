#!/usr/bin/perl
# Spreadsheets as their users see them. A customer export made by
# LibreOffice as xlsx, xls and ods (t/fixtures/office/make-fixtures.sh):
# its rows are lines of tab-separated cells with the shared strings in
# their cells, so that the BSN column, whose values stand more than a line
# below its header, counts by its header alone, and Exact Data Matching
# finds a row's name and BSN together. dlpscan -x shows the rows as the
# user sees them, never a shared-string index. End to end through dlpgate
# and with dlpscan, which must agree.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Path qw(make_path);
use Test::More;
use DlpTest;
use DlpDetect;
use DlpFingerprint;

my $fix = top_dir() . "/t/fixtures/office";
my $dir = test_dir();
my $etc = "$dir/etc";
my $fpdir = "$dir/fp";
make_path($etc);

# the rows of the fixture, as the export they came from
my @rows = (
    { name => 'Anna de Vries', address => 'Keizersgracht 123', city => 'Amsterdam', bsn => 'pending', balance => 1250 },
    { name => 'Bram Jansen', address => 'Oudegracht 45', city => 'Utrecht', bsn => 'pending', balance => 310 },
    { name => 'Cees Bakker', address => '', city => 'Rotterdam', bsn => '111222333', balance => 87 },
    { name => 'Dirk Visser', address => 'Grote Markt 7', city => 'Groningen', bsn => '123456782', balance => '' },
);
write_csv("$dir/customers.csv", \@rows, qw(name address city bsn balance));
my ($rc, $out) = dlpindex($etc, 'edm', '-o', "fingerprint_directory=$fpdir", '-n', 'customers',
    "$dir/customers.csv");
is($rc, 0, 'dlpindex edm: the export is indexed') or diag $out;

my $policies = <<'EOF';
policies = (
  { name = "bsn"; rules = ( { type = "identifier"; identifier = "nl_bsn"; look_in = ["attachment"]; } );
    action = "block"; },
  { name = "customer-rows"; rules = ( { type = "edm"; index = "customers"; columns = ["name", "bsn"];
    min_columns = 2; distance = 100; } ); action = "block"; }
);
EOF
my $sink = start_sink();
my $dlp = start_detect(dir => $dir, policies => $policies, sink => $sink,
    conf => { fingerprint_directory => $fpdir, unscannable_action => 'block' });

# message - one attachment, base64
sub message {
    my ($name, $body) = @_;
    return mime_message(from => 'a@example.com', to => 'b@example.net', subject => "att $name",
        parts => [{ body => "see attached\n", disposition => 'inline' },
                  { type => 'application/octet-stream', filename => $name, body => $body,
                    encoding => 'base64' }]);
}

my @want_rows = ("Name\tAddress\tCity\tBSN\tBalance",
    "Anna de Vries\tKeizersgracht 123\tAmsterdam\tpending\t1250",
    "Cees Bakker\t\tRotterdam\t111222333\t87",
    "Dirk Visser\tGrote Markt 7\tGroningen\t123456782\t");
for my $f (qw(customers.xlsx customers.xls customers.ods)) {
    my $msg = message($f, slurp("$fix/$f"));
    my ($e2e, $scan) = outcome($dlp, $msg);
    is($e2e, 'bsn,customer-rows', "$f from LibreOffice: the BSN column by its header, the rows by EDM");
    is($scan, $e2e, "$f (dlpscan)");
    my $file = "$dir/$f.eml";
    spit($file, $msg);
    my ($xrc, $text) = dlpscan('-c', $etc, '-x', $file);
    is($xrc, 0, "dlpscan -x $f");
    for my $row (@want_rows) {
        like($text, qr/^\Q$row\E$/m, "$f: the row as shown: " . ($row =~ s/\t/ | /gr));
    }
    unlike($text, qr/^\d+(\t\d*)+$/m, "$f: no line of bare numbers (shared-string indices)");
    like($text, qr/verdict=block/, "$f: dlpscan -x still gives the verdict");
}

# the same values without their header: no context, no BSN
my $headless = join("\n", map { join("\t", @$_{qw(name address city bsn balance)}) } @rows[2, 3]) . "\n";
my ($e2e) = outcome($dlp, message('rows.txt', "filler line\n" x 3 . $headless));
is($e2e, 'customer-rows', 'the rows without a header: EDM finds them, the BSNs lack context');

unlike($dlp->log, qr/5004 child exited abnormally.*detector/, 'no detector died');
ok($dlp->stop, 'dlpgate stops');
done_testing;
