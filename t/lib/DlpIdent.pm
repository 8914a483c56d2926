package DlpIdent;

# DlpIdent - valid identifiers and their look-alikes, for the detector's tests
#
# The check digits are computed here a second time, independently of
# detector_valid.c, from the issuers' published rules: a test that builds
# a value with these and sees the detector agree checks both.
#
#   my $card = luhn_complete('411111111111111');   # 4111111111111111
#   my $bad  = off_by_one($card);                   # the last digit + 1
#   my @rows = map { card(16, '4') } 1 .. 100;      # random valid Visa numbers
#   my $tok  = github_token('ghp');                 # with its CRC32
#   my $jwt  = jwt('{"alg":"HS256","typ":"JWT"}', '{"sub":"42"}');

use strict;
use warnings;
use Exporter 'import';
use Compress::Zlib qw(crc32);
use List::Util qw(shuffle);
use MIME::Base64 qw(encode_base64);

our @EXPORT = qw(luhn_complete luhn_ok off_by_one digits card ca_sin bsn nir dni_letter nie
    steuer_id personnummer pesel aadhaar cn_ric cpf cnpj tfn itin nhs aba dea github_token
    jwt pem_key b64url);

# digits - n random digits
sub digits {
    my ($n) = @_;
    return join '', map { int rand 10 } 1 .. $n;
}

# luhn_sum - the Luhn sum of a digit string
sub luhn_sum {
    my ($d) = @_;
    my ($sum, $dbl) = (0, 0);
    for my $c (reverse split //, $d) {
        my $v = $c * ($dbl ? 2 : 1);
        $v -= 9 if $v > 9;
        $sum += $v;
        $dbl = !$dbl;
    }
    return $sum;
}

sub luhn_ok { luhn_sum($_[0]) % 10 == 0 }

# luhn_complete - the digits and their Luhn check digit
sub luhn_complete {
    my ($d) = @_;
    for my $c (0 .. 9) {
        return "$d$c" if luhn_ok("$d$c");
    }
}

# off_by_one - the same value with its last digit changed
sub off_by_one {
    my ($v) = @_;
    $v =~ s/(\d)(\D*)$/(($1 + 1) % 10) . $2/e;
    return $v;
}

# card - a random valid card number of a length with a prefix
sub card {
    my ($len, $prefix) = @_;
    while (1) {
        my $c = luhn_complete($prefix . digits($len - length($prefix) - 1));
        return $c unless $c =~ /^(\d)\1+$/;
    }
}

# ca_sin - a Canadian SIN (first digit 1-7)
sub ca_sin {
    return luhn_complete((1 + int rand 7) . digits(7));
}

# bsn - a Dutch BSN: the 11-test
sub bsn {
    while (1) {
        my @d = split //, (1 + int rand 9) . digits(7);
        my $s = 0;
        $s += (9 - $_) * $d[$_] for 0 .. 7;
        my $c = $s % 11;
        return join('', @d) . $c if $c < 10;
    }
}

# nir - a French NIR: 13 digits and 97 - (n mod 97)
sub nir {
    my $body = (1 + int rand 2) . sprintf('%02d', int rand 100) . sprintf('%02d', 1 + int rand 12)
        . sprintf('%02d', 1 + int rand 95) . digits(6);
    my $r = 0;
    $r = ($r * 10 + $_) % 97 for split //, $body;
    return $body . sprintf('%02d', 97 - $r);
}

# dni_letter - the letter of a Spanish DNI number
sub dni_letter { substr('TRWAGMYFPDXBNJZSQVHLCKE', $_[0] % 23, 1) }

# nie - a Spanish NIE: X/Y/Z, 7 digits, letter
sub nie {
    my $p = (qw(X Y Z))[rand 3];
    my $n = digits(7);
    my %v = (X => 0, Y => 1, Z => 2);
    return $p . $n . dni_letter(($v{$p} . $n) + 0);
}

# steuer_id - a German Steuer-ID: ten digits, one of them twice, MOD 11,10
sub steuer_id {
    while (1) {
        my @pool = (0 .. 9);
        my @d;
        push @d, splice(@pool, rand @pool, 1) for 1 .. 9;
        push @d, $d[rand 9];                            # one digit twice
        @d = shuffle(@d);
        next if $d[0] == 0;
        my $p = 10;
        for my $x (@d) {
            my $s = ($x + $p) % 10;
            $s = 10 if $s == 0;
            $p = ($s * 2) % 11;
        }
        my $c = 11 - $p;
        $c = 0 if $c == 10;
        return join('', @d) . $c;
    }
}

# personnummer - a Swedish personnummer YYMMDD-NNNC (Luhn over ten digits)
sub personnummer {
    my $date = sprintf('%02d%02d%02d', int rand 100, 1 + int rand 12, 1 + int rand 28);
    my $n = luhn_complete($date . sprintf('%03d', 1 + int rand 998));
    return substr($n, 0, 6) . '-' . substr($n, 6);
}

# pesel - a Polish PESEL: YYMMDD (+20 on the month after 2000), weights 1-3-7-9
sub pesel {
    my $d = sprintf('%02d%02d%02d', int rand 100, 1 + int rand 12, 1 + int rand 28) . digits(4);
    my @w = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3);
    my $s = 0;
    $s += $w[$_] * substr($d, $_, 1) for 0 .. 9;
    return $d . ((10 - $s % 10) % 10);
}

# Verhoeff tables (dihedral group D5)
my @VM = ([0..9], [1,2,3,4,0,6,7,8,9,5], [2,3,4,0,1,7,8,9,5,6], [3,4,0,1,2,8,9,5,6,7],
    [4,0,1,2,3,9,5,6,7,8], [5,9,8,7,6,0,4,3,2,1], [6,5,9,8,7,1,0,4,3,2],
    [7,6,5,9,8,2,1,0,4,3], [8,7,6,5,9,3,2,1,0,4], [9,8,7,6,5,4,3,2,1,0]);
my @VP = ([0..9], [1,5,7,6,2,8,3,0,9,4], [5,8,0,3,7,9,6,1,4,2], [8,9,1,6,0,4,3,5,2,7],
    [9,4,5,3,1,2,6,8,7,0], [4,2,8,6,5,7,3,9,0,1], [2,7,9,3,8,0,6,4,1,5],
    [7,0,4,6,9,1,3,2,5,8]);

# aadhaar - an Aadhaar number: first digit 2-9, Verhoeff check
sub aadhaar {
    my $d = (2 + int rand 8) . digits(10);
    for my $c (0 .. 9) {
        my $x = 0;
        my @r = reverse split //, "$d$c";
        $x = $VM[$x][$VP[$_ % 8][$r[$_]]] for 0 .. $#r;
        return "$d$c" if $x == 0;
    }
}

# cn_ric - a Chinese resident id (Beijing, a birth date, MOD 11-2)
sub cn_ric {
    my $d = '110105' . sprintf('%04d%02d%02d', 1950 + int rand 60, 1 + int rand 12, 1 + int rand 28)
        . digits(3);
    my @w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2);
    my $s = 0;
    $s += $w[$_] * substr($d, $_, 1) for 0 .. 16;
    return $d . substr('10X98765432', $s % 11, 1);
}

# mod11_br - a Brazilian check digit
sub mod11_br {
    my ($d, @w) = @_;
    my $s = 0;
    $s += $w[$_] * substr($d, $_, 1) for 0 .. $#w;
    my $r = $s % 11;
    return $r < 2 ? 0 : 11 - $r;
}

# cpf, cnpj - Brazilian numbers with their two check digits
sub cpf {
    my $d = digits(9);
    $d .= mod11_br($d, reverse 2 .. 10);
    return $d . mod11_br($d, reverse 2 .. 11);
}

sub cnpj {
    my $d = digits(8) . '0001';
    $d .= mod11_br($d, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2);
    return $d . mod11_br($d, 6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2);
}

# tfn - an Australian TFN (9 digits, weighted mod 11)
sub tfn {
    my @w = (1, 4, 3, 7, 5, 8, 6, 9, 10);
    while (1) {
        my $d = digits(9);
        my $s = 0;
        $s += $w[$_] * substr($d, $_, 1) for 0 .. 8;
        return $d if $s % 11 == 0 && $d !~ /^(\d)\1+$/;
    }
}

# itin - a US ITIN: 9XX-7X-XXXX
sub itin {
    return '9' . digits(2) . '-' . (70 + int rand 19) . '-' . sprintf('%04d', 1 + int rand 9998);
}

# nhs - a UK NHS number (weights 10-2, mod 11)
sub nhs {
    while (1) {
        my $d = digits(9);
        my $s = 0;
        $s += (10 - $_) * substr($d, $_, 1) for 0 .. 8;
        my $c = 11 - $s % 11;
        $c = 0 if $c == 11;
        return "$d$c" if $c != 10;
    }
}

# aba - an ABA routing number (prefix 01-12, 3-7-1 weights)
sub aba {
    my $d = sprintf('%02d', 1 + int rand 12) . digits(6);
    my @w = (3, 7, 1, 3, 7, 1, 3, 7);
    my $s = 0;
    $s += $w[$_] * substr($d, $_, 1) for 0 .. 7;
    return $d . ((10 - $s % 10) % 10);
}

# dea - a DEA number: two letters, six digits, check digit
sub dea {
    my $d = digits(6);
    my @x = split //, $d;
    my $c = ($x[0] + $x[2] + $x[4] + 2 * ($x[1] + $x[3] + $x[5])) % 10;
    return 'B' . ('A' .. 'Z')[rand 26] . $d . $c;
}

# github_token - a classic token: prefix_, 30 base62, base62 CRC32 of those 30
sub github_token {
    my ($prefix) = @_;
    my @a = ('0' .. '9', 'A' .. 'Z', 'a' .. 'z');
    my $r = join '', map { $a[rand 62] } 1 .. 30;
    my $c = crc32($r);
    my $s = '';
    for (1 .. 6) {
        $s = $a[$c % 62] . $s;
        $c = int($c / 62);
    }
    return "${prefix}_$r$s";
}

# b64url - base64url without padding
sub b64url {
    (my $b = encode_base64($_[0], '')) =~ tr{+/}{-_};
    $b =~ s/=+$//;
    return $b;
}

# jwt - header.payload.signature
sub jwt {
    my ($header, $payload) = @_;
    return b64url($header) . '.' . b64url($payload) . '.' . b64url(join '', map { chr rand 256 } 1 .. 32);
}

# pem_key - a PEM block of a type with a random body (not a real key)
sub pem_key {
    my ($type) = @_;
    my $body = encode_base64(join('', map { chr rand 256 } 1 .. 300));
    return "-----BEGIN $type-----\n$body-----END $type-----\n";
}

1;
