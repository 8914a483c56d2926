package DlpFingerprint;

# DlpFingerprint - helpers for the tests of EDM and IDM (t/80, t/81)
#
#   my @rows = customers(100_000);          # generated customer records
#   write_csv("$dir/customers.csv", \@rows);
#   my ($rc, $out) = dlpindex($etc, 'edm', -n => 'customers', "$dir/customers.csv");
#
# Every record is made from its row number alone: tests can name the
# values of any row without keeping the table.

use strict;
use warnings;
use Exporter 'import';
use DlpTest;

our @EXPORT = qw(customer customers write_csv dlpindex csv_field);

my @first = qw(James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth
    William Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Lukas Sofia
    Mateo Amelia Hugo Emma Noah Olivia Liam Chloe);
my @syl = qw(ber ton ham ley son ford wick stein mann ridge bury dale worth field
    hall more well brook croft shaw);
my @pre = qw(Ash Black Brad Carl Dun Ell Fair Gold Hart Kings Lang Mar Nor Pem Ros
    Stan Thorn Wal Whit Yar Ald Bram Cress Dray Fen Gil Hol Kel Mor Pen);

# luhn - the check digit that makes a number Luhn-valid
sub luhn {
    my ($digits) = @_;
    my ($sum, $dbl) = (0, 1);
    for my $d (reverse split //, $digits) {
        my $v = $d * ($dbl ? 2 : 1);
        $sum += $v > 9 ? $v - 9 : $v;
        $dbl = !$dbl;
    }
    return (10 - $sum % 10) % 10;
}

# customer - the record of row n (0-based): a hash of its fields
sub customer {
    my ($n) = @_;
    my $last = $pre[$n % @pre] . $syl[int($n / @pre) % @syl]
        . ($n % 7 == 0 ? '' : $syl[int($n / (@pre * @syl)) % @syl]);
    my $first = $first[int($n / 3) % @first];
    my $s = 100_000_000 + $n * 7919 % 800_000_000;
    my $ssn = sprintf('%03d-%02d-%04d', int($s / 1e6) % 665 + 1 == 666 ? 667 : int($s / 1e6) % 665 + 1,
        int($s / 1e4) % 99 + 1, $s % 9999 + 1);
    my $base = sprintf('4%014d', 12_345_678_901 + $n * 104_729);
    my $card = $base . luhn($base);
    $card =~ s/(\d{4})(?=\d)/$1 /g;
    my $dob = sprintf('%04d-%02d-%02d', 1940 + $n % 60, 1 + $n % 12, 1 + $n % 28);
    return { first_name => $first, last_name => $last, ssn => $ssn, card => $card,
        email => lc("$first.$last.$n\@mail.example"), dob => $dob };
}

# customers - the records of rows 0 .. n-1
sub customers {
    my ($n) = @_;
    return map { customer($_) } 0 .. $n - 1;
}

# csv_field - a field quoted as RFC 4180 wants
sub csv_field {
    my ($v) = @_;
    return $v unless $v =~ /[",\r\n]/;
    (my $q = $v) =~ s/"/""/g;
    return "\"$q\"";
}

# write_csv - rows as a CSV file with a header
sub write_csv {
    my ($path, $rows, @cols) = @_;
    @cols = qw(first_name last_name ssn card email dob) unless @cols;
    open(my $fh, '>:raw', $path) or die "$path: $!";
    print $fh join(',', @cols), "\r\n";
    for my $r (@$rows) {
        print $fh join(',', map { csv_field($r->{$_}) } @cols), "\r\n";
    }
    close $fh or die "$path: $!";
}

# dlpindex - run the indexer: (exit status, output)
sub dlpindex {
    my ($etc, @args) = @_;
    my $cmd = shift @args;
    return DlpTest::run_cmd(DlpTest::top_dir() . "/detector/dlpindex", $cmd, '-c', $etc, @args);
}

1;
