#!/usr/bin/perl
# The library of data identifiers, one validator at a time: for every
# identifier, values its issuer would print (published examples and values
# whose check digits t/lib/DlpIdent.pm computes on its own) are found, in
# each layout and with each separator people use, and look-alikes are not:
# a wrong check digit, a number of another kind (IMEI, ISBN, order,
# tracking and phone numbers, timestamps), a value glued to other text.
# Weak validators need context words (built in, or near = [...]), which
# count near the value or in its column's header; a label of another kind
# of number keeps a value from counting when the value can be of that kind
# (an IMEI, a phone number), and a free-form one (an order number) only a
# weak value: a card number is a card whatever its label says.
#
# Everything runs through dlpscan: one run over many message files.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpDetect;
use DlpIdent;

srand(70);
my @ids = qw(credit_card us_ssn iban uk_nino ca_sin fr_nir es_dni es_nie it_codice_fiscale
    nl_bsn de_steuer_id se_personnummer dk_cpr pl_pesel in_aadhaar cn_resident_id br_cpf
    br_cnpj au_tfn us_itin uk_nhs aba_routing swift_bic uk_sort_code_account us_passport
    us_dea pem_private_key aws_access_key aws_secret_key github_token gitlab_token
    slack_token jwt db_url_password);
cmp_ok(scalar @ids, '>=', 30, 'at least 30 identifiers');

# v_ID: the validator alone (context = false); a_ID: as shipped (context auto)
my $pol = "policies = (\n" . join(",\n", map {
    "  { name = \"v_$_\"; rules = ( { type = \"identifier\"; identifier = \"$_\"; context = false; } ); },\n"
  . "  { name = \"a_$_\"; rules = ( { type = \"identifier\"; identifier = \"$_\"; } ); }" } @ids)
  . ",\n  { name = \"near_bsn\"; rules = ( { type = \"identifier\"; identifier = \"nl_bsn\";"
  . " near = [\"klant\"]; distance = 30; } ); },\n"
  . "  { name = \"nolabels_card\"; rules = ( { type = \"identifier\"; identifier = \"credit_card\";"
  . " lookalike_labels = false; } ); }\n);\n";

my $dir = test_dir();
mkdir "$dir/etc";
spit("$dir/etc/dlpgate.conf", "incident_log = \"\";\n");
write_policies("$dir/etc", $pol);
my ($rc, $out) = dlpscan('-c', "$dir/etc", '-t');
is($rc, 0, 'a policy for every identifier loads') or diag $out;

my @cases;    # [name, body, [must fire], [must not fire]]

# yes / no - a value the named policies find, or do not find
sub yes { my ($name, $body, @p) = @_; push @cases, [$name, $body, [@p], []]; }
sub no_ { my ($name, $body, @p) = @_; push @cases, [$name, $body, [], [@p]]; }

# ---- payment cards -------------------------------------------------------
my $visa = '4111111111111111';
yes('Visa compact', "n $visa", 'v_credit_card', 'a_credit_card');
yes('Visa, spaces', 'n 4111 1111 1111 1111', 'v_credit_card');
yes('Visa, hyphens', 'n 4111-1111-1111-1111', 'v_credit_card');
yes('Visa, dots', 'n 4111.1111.1111.1111', 'v_credit_card');
yes('Visa, slashes', 'n 4111/1111/1111/1111', 'v_credit_card');
yes('Visa, underscores (a file name)', 'scan_4111_1111_1111_1111.pdf', 'v_credit_card');
my %unisep = (
    'no-break space' => "\xc2\xa0", 'thin space' => "\xe2\x80\x89",
    'narrow no-break space' => "\xe2\x80\xaf", 'figure space' => "\xe2\x80\x87",
    'ideographic space' => "\xe3\x80\x80", 'en dash' => "\xe2\x80\x93",
    'em dash' => "\xe2\x80\x94", 'non-breaking hyphen' => "\xe2\x80\x91",
    'minus sign' => "\xe2\x88\x92", 'fullwidth hyphen-minus' => "\xef\xbc\x8d",
    'middle dot' => "\xc2\xb7", 'fraction slash' => "\xe2\x81\x84",
);
for my $s (sort keys %unisep) {
    yes("Visa, $s", "n " . join($unisep{$s}, qw(4111 1111 1111 1111)), 'v_credit_card');
}
for my $inv (["zero-width space", "\xe2\x80\x8b"], ['soft hyphen', "\xc2\xad"],
    ['word joiner', "\xe2\x81\xa0"]) {
    yes("Visa, $inv->[0] between groups", "n " . join($inv->[1], qw(4111 1111 1111 1111)), 'v_credit_card');
    yes("Visa, $inv->[0] inside a group", "n 41$inv->[1]11 1111 1111 1111", 'v_credit_card');
}
my $fwcard = join("\x{3000}", map { join '', map { chr(0xff10 + $_) } split // } qw(4111 1111 1111 1111));
utf8::encode($fwcard);
yes('Visa in fullwidth digits, ideographic spaces', "\xe3\x82\xab\xe3\x83\xbc\xe3\x83\x89: $fwcard",
    'v_credit_card');
my $fwssn = join("\x{ff0d}", map { join '', map { chr(0xff10 + $_) } split // } qw(234 56 7890));
utf8::encode($fwssn);
yes('SSN in fullwidth digits and hyphens', "SSN $fwssn", 'v_us_ssn', 'a_us_ssn');
no_('fullwidth Luhn-invalid', 'n ' . join('', map { "\xef\xbc" . chr(0x90 + $_) } split //, '4111111111111112'),
    'v_credit_card');
yes('Mastercard', 'n 5555 5555 5555 4444', 'v_credit_card');
yes('Amex 4-6-5', 'n 3782 822463 10005', 'v_credit_card');
yes('Discover', 'n ' . card(16, '6011'), 'v_credit_card');
yes('JCB', 'n ' . card(16, '3530'), 'v_credit_card');
yes('Diners 14', 'n ' . card(14, '305'), 'v_credit_card');
yes('UnionPay 19', 'n ' . card(19, '62'), 'v_credit_card');
yes('card, then a comma and more columns', "$visa,12/27,100.00", 'v_credit_card');
yes('card after columns', "John,Doe,100.00,$visa", 'v_credit_card');
yes('card, semicolon columns', "John;$visa;12/27;100,00", 'v_credit_card');
yes('card, tab columns', "John\t$visa\t12/27\t100.00", 'v_credit_card');
yes('card then a date with a space', '4111 1111 1111 1111 12/27', 'v_credit_card');
yes('card list, single spaces', "$visa 5555555555554444 378282246310005", 'v_credit_card');
no_('Luhn-invalid', 'n ' . off_by_one($visa), 'v_credit_card');
no_('13-digit Visa (EAN-13 look-alike)', 'n 4006381333931', 'v_credit_card');
no_('IMEI (15 digits, Luhn-valid)', 'n 490154203237518', 'v_credit_card');
no_('ISBN-13', 'ISBN 978-3-16-148410-0 and 9783161484100', 'v_credit_card');
no_('a decimal', 'pi 3.4111111111111111', 'v_credit_card');
no_('card followed by decimals', 'total 4111111111111111.50', 'v_credit_card');
no_('part of a longer number', 'n 4111 1111 1111 1111 2222', 'v_credit_card');
yes('a card and its security code', 'card 4111 1111 1111 1111 123', 'v_credit_card', 'a_credit_card');
yes('a card with one digit added to hide it', 'n 4111 1111 1111 1111 7', 'v_credit_card');
no_('glued to a letter', "ref X$visa", 'v_credit_card');
no_('mixed separators', 'n 4111-1111 1111.1111', 'v_credit_card');
yes('after a plus sign (no phone number has 16 digits)', "+$visa", 'v_credit_card', 'a_credit_card');
yes('IBAN in small letters', 'iban de89 3704 0044 0532 0130 00', 'v_iban', 'a_iban');
yes('NIR born in Corsica (2A)', 'NIR 1 85 05 2A 006 084 35', 'v_fr_nir', 'a_fr_nir');
yes('codice fiscale, every digit by its omocodia letter', 'CF RSSMRAURTMLARSNL', 'v_it_codice_fiscale',
    'a_it_codice_fiscale');
yes('card in ASCII and fullwidth digits', "n 4111 \xef\xbc\x91\xef\xbc\x91\xef\xbc\x91\xef\xbc\x91 1111 1111",
    'v_credit_card');

# ---- US SSN, ITIN ---------------------------------------------------------
yes('SSN hyphens', 'ssn 234-56-7890', 'v_us_ssn', 'a_us_ssn');
yes('SSN spaces', 'ssn 234 56 7890', 'v_us_ssn', 'a_us_ssn');
yes('SSN dots', 'ssn 234.56.7890', 'v_us_ssn');
yes('SSN en dashes', "ssn 234\xe2\x80\x9356\xe2\x80\x937890", 'v_us_ssn');
yes('SSN in CSV', "John,234-56-7890,1985", 'v_us_ssn', 'a_us_ssn');
yes('SSN compact, with context', 'SSN: 234567890', 'v_us_ssn', 'a_us_ssn');
push @cases, ['SSN compact, no context: weak', 'n 234567890', ['v_us_ssn'], ['a_us_ssn']];
no_('SSN area 666', 'ssn 666-12-3456', 'v_us_ssn');
no_('SSN area 9xx', 'ssn 912-34-5678', 'v_us_ssn');
no_('SSN advertising number', 'ssn 078-05-1120', 'v_us_ssn');
no_('a date', 'on 2024-01-15', 'v_us_ssn');
no_('phone number 555-867-5309', 'call 555-867-5309', 'v_us_ssn', 'a_us_ssn');
yes('ITIN', 'itin 912-70-1234', 'v_us_itin', 'a_us_itin');
yes('ITIN generated', 'n ' . itin(), 'v_us_itin');
no_('ITIN group 69', 'n 912-69-1234', 'v_us_itin');
no_('ITIN is no SSN', 'n 912-70-1234', 'v_us_ssn');

# ---- IBAN -------------------------------------------------------------------
yes('IBAN spaces', 'DE89 3704 0044 0532 0130 00', 'v_iban', 'a_iban');
yes('IBAN compact with letters', 'GB82WEST12345698765432', 'v_iban');
yes('IBAN France', 'FR76 3000 6000 0112 3456 7890 189', 'v_iban');
yes('IBAN no-break spaces', join("\xc2\xa0", qw(DE89 3704 0044 0532 0130 00)), 'v_iban');
yes('IBAN in CSV', 'Jane,DE89370400440532013000,EUR', 'v_iban');
no_('IBAN bad checksum', 'DE89 3704 0044 0532 0130 01', 'v_iban');
no_('IBAN wrong length', 'DE89 3704 0044 0532 0130', 'v_iban');

# ---- national identity and tax numbers -------------------------------------
yes('NINO', 'NI AB123456C', 'v_uk_nino', 'a_uk_nino');
yes('NINO spaced', 'NI AB 12 34 56 C', 'v_uk_nino', 'a_uk_nino');
yes('NINO 123456 block', 'AB 123456 C', 'v_uk_nino');
yes('NINO without suffix, with context', 'National Insurance: AB123456', 'a_uk_nino');
push @cases, ['NINO without suffix, no context: weak', 'ref AB123456', ['v_uk_nino'], ['a_uk_nino']];
no_('NINO prefix with Q', 'QQ123456C', 'v_uk_nino');
no_('NINO prefix GB', 'GB123456A', 'v_uk_nino');
no_('NINO suffix E', 'AB123456E', 'v_uk_nino');
my $sin = ca_sin();
yes('SIN with context', "SIN: $sin", 'v_ca_sin', 'a_ca_sin');
yes('SIN 3-3-3', 'SIN ' . join(' ', unpack('A3A3A3', $sin)), 'a_ca_sin');
push @cases, ['SIN without context: weak', "n $sin", ['v_ca_sin'], ['a_ca_sin']];
no_('SIN off by one', 'SIN: ' . off_by_one($sin), 'v_ca_sin');
no_('SIN starting with 0 (fictitious)', 'SIN 046 454 286', 'v_ca_sin');
my $nir = nir();
yes('NIR compact', "n $nir", 'v_fr_nir', 'a_fr_nir');
yes('NIR spaced', 'NIR 1 85 05 78 006 084 91', 'v_fr_nir', 'a_fr_nir');
yes('NIR with the key apart', 'n 1850578006084 91', 'v_fr_nir');
no_('NIR wrong key', 'NIR 1 85 05 78 006 084 92', 'v_fr_nir');
yes('DNI', 'DNI 12345678Z', 'v_es_dni', 'a_es_dni');
yes('DNI with hyphen', 'n 12345678-Z', 'v_es_dni');
yes('DNI with dots', 'n 12.345.678-Z', 'v_es_dni');
no_('DNI wrong letter', 'DNI 12345678A', 'v_es_dni');
my $nie = nie();
yes('NIE', "NIE $nie", 'v_es_nie', 'a_es_nie');
yes('NIE hyphenated', 'n ' . substr($nie, 0, 1) . '-' . substr($nie, 1, 7) . '-' . substr($nie, 8), 'v_es_nie');
no_('NIE wrong letter', 'NIE ' . substr($nie, 0, 8) . (substr($nie, 8) eq 'A' ? 'B' : 'A'), 'v_es_nie');
yes('codice fiscale', 'CF RSSMRA85T10A562S', 'v_it_codice_fiscale', 'a_it_codice_fiscale');
yes('codice fiscale in lower case', 'cf rssmra85t10a562s', 'v_it_codice_fiscale');
no_('codice fiscale wrong check letter', 'CF RSSMRA85T10A562T', 'v_it_codice_fiscale');
no_('codice fiscale glued', 'XRSSMRA85T10A562S', 'v_it_codice_fiscale');
my $bsn = bsn();
yes('BSN with context', "BSN: $bsn", 'v_nl_bsn', 'a_nl_bsn');
yes('BSN published example', 'burgerservicenummer 123456782', 'a_nl_bsn');
push @cases, ['BSN without context: weak', "n $bsn", ['v_nl_bsn'], ['a_nl_bsn', 'near_bsn']];
yes('BSN with own near words', "klant $bsn", 'near_bsn');
no_('BSN 11-test fails', 'BSN 123456789', 'v_nl_bsn');
my $st = steuer_id();
yes('Steuer-ID', "Steuer-ID $st", 'v_de_steuer_id', 'a_de_steuer_id');
yes('Steuer-ID grouped', 'IdNr ' . join(' ', unpack('A2A3A3A3', $st)), 'a_de_steuer_id');
no_('Steuer-ID off by one', 'Steuer-ID ' . off_by_one($st), 'v_de_steuer_id');
no_('Steuer-ID no repeated digit', 'Steuer-ID 12345678903', 'v_de_steuer_id');
my $pnr = personnummer();
yes('personnummer', "personnummer $pnr", 'v_se_personnummer', 'a_se_personnummer');
yes('personnummer, 12 digits', 'personnummer 19811218-9876', 'a_se_personnummer');
no_('personnummer off by one', 'personnummer ' . off_by_one($pnr), 'v_se_personnummer');
no_('personnummer month 13', 'personnummer 811318-9876', 'v_se_personnummer');
yes('CPR', 'CPR-nr. 070761-4285', 'v_dk_cpr', 'a_dk_cpr');
no_('CPR day 32', 'CPR 320761-4285', 'v_dk_cpr');
my $pesel = pesel();
yes('PESEL', "PESEL $pesel", 'v_pl_pesel', 'a_pl_pesel');
yes('PESEL published example', 'PESEL 44051401359', 'a_pl_pesel');
no_('PESEL off by one', 'PESEL ' . off_by_one($pesel), 'v_pl_pesel');
my $aad = aadhaar();
yes('Aadhaar 4-4-4', 'Aadhaar ' . join(' ', unpack('A4A4A4', $aad)), 'v_in_aadhaar', 'a_in_aadhaar');
yes('Aadhaar compact', "Aadhaar: $aad", 'a_in_aadhaar');
no_('Aadhaar Verhoeff fails', 'Aadhaar ' . off_by_one($aad), 'v_in_aadhaar');
no_('Aadhaar starting with 1', 'Aadhaar 1234 5678 9012', 'v_in_aadhaar');
yes('Chinese resident id with X', "\xe8\xba\xab\xe4\xbb\xbd\xe8\xaf\x81 11010519491231002X", 'v_cn_resident_id',
    'a_cn_resident_id');
yes('Chinese resident id after Chinese text', "\xe8\xba\xab\xe4\xbb\xbd\xe8\xaf\x81\xe5\x8f\xb7\xe7\xa0\x81" . cn_ric(),
    'v_cn_resident_id');
no_('Chinese resident id, month 13', 'id 110105194913310021', 'v_cn_resident_id');
no_('Chinese resident id off by one', 'id ' . off_by_one('110105194912310021'), 'v_cn_resident_id');
yes('CPF formatted', 'CPF 111.444.777-35', 'v_br_cpf', 'a_br_cpf');
push @cases, ['CPF compact without context: weak', 'n 11144477735', ['v_br_cpf'], ['a_br_cpf']];
no_('CPF wrong digits', 'CPF 111.444.777-36', 'v_br_cpf');
yes('CNPJ formatted', 'CNPJ 11.222.333/0001-81', 'v_br_cnpj', 'a_br_cnpj');
yes('CNPJ generated', 'CNPJ ' . cnpj(), 'a_br_cnpj');
no_('CNPJ wrong digits', 'CNPJ 11.222.333/0001-82', 'v_br_cnpj');
yes('TFN', 'TFN 123 456 782', 'v_au_tfn', 'a_au_tfn');
yes('TFN generated', 'tax file number ' . tfn(), 'a_au_tfn');
no_('TFN off by one', 'TFN 123 456 783', 'v_au_tfn');
my $nhs = nhs();
yes('NHS number', 'NHS no 943 476 5919', 'v_uk_nhs', 'a_uk_nhs');
yes('NHS generated', "NHS $nhs", 'a_uk_nhs');
no_('NHS off by one', 'NHS 943 476 5918', 'v_uk_nhs');

# ---- bank data -----------------------------------------------------------------
yes('ABA routing', 'routing 021000021', 'v_aba_routing', 'a_aba_routing');
yes('ABA generated', 'ABA ' . aba(), 'a_aba_routing');
push @cases, ['ABA without context: weak', 'n 021000021', ['v_aba_routing'], ['a_aba_routing']];
no_('ABA checksum fails', 'routing 021000022', 'v_aba_routing');
no_('ABA prefix 13', 'routing 131000021', 'v_aba_routing');
yes('SWIFT after the word', 'SWIFT: DEUTDEFF', 'v_swift_bic', 'a_swift_bic');
yes('BIC with branch', 'BIC DEUTDEFF500', 'v_swift_bic');
yes('SWIFT code line', "Swift code: NWBKGB2L\n", 'v_swift_bic');
no_('BIC without the word', 'DEUTDEFF', 'v_swift_bic');
no_('BIC with no country', 'SWIFT: DEUTXXFF', 'v_swift_bic');
no_('SWIFT and a word', 'a swift reply, TOMORROW', 'v_swift_bic');
yes('sort code and account', 'sort code 12-34-56, account 31926819', 'v_uk_sort_code_account',
    'a_uk_sort_code_account');
yes('account before the sort code', 'account 31926819 sort code 12 34 56', 'a_uk_sort_code_account');
no_('sort code alone', 'sort code 12-34-56', 'v_uk_sort_code_account');

# ---- US passport and DEA --------------------------------------------------------
yes('passport, letter and 8 digits', 'passport A12345678', 'v_us_passport', 'a_us_passport');
yes('passport, 9 digits', 'passport no. 340012345', 'a_us_passport');
push @cases, ['9 digits without context: no passport', 'n 340012345', ['v_us_passport'], ['a_us_passport']];
no_('passport of zeros', 'passport 000000000', 'v_us_passport');
my $dea = dea();
yes('DEA', "DEA $dea", 'v_us_dea', 'a_us_dea');
yes('DEA published example', 'DEA AB1234563', 'v_us_dea');
no_('DEA check digit', 'DEA AB1234564', 'v_us_dea');
no_('DEA registrant type Z', 'DEA ZB1234563', 'v_us_dea');

# ---- secrets -------------------------------------------------------------------
yes('RSA private key', pem_key('RSA PRIVATE KEY'), 'v_pem_private_key', 'a_pem_private_key');
yes('PKCS#8 private key', pem_key('PRIVATE KEY'), 'v_pem_private_key');
yes('OpenSSH private key', pem_key('OPENSSH PRIVATE KEY'), 'v_pem_private_key');
yes('PGP private key block', pem_key('PGP PRIVATE KEY BLOCK'), 'v_pem_private_key');
no_('public key', pem_key('PUBLIC KEY'), 'v_pem_private_key');
no_('a BEGIN line alone', "-----BEGIN PRIVATE KEY-----\n(removed)\n", 'v_pem_private_key');
yes('AWS access key id', 'key AKIA2E4Z5QWERTY7ABCD', 'v_aws_access_key', 'a_aws_access_key');
no_('AWS documentation example', 'key AKIAIOSFODNN7EXAMPLE', 'v_aws_access_key');
no_('AKIA too short', 'AKIA2E4Z5Q', 'v_aws_access_key');
yes('AWS key pair, credentials file', "[default]\naws_access_key_id = AKIA2E4Z5QWERTY7ABCD\n"
    . "aws_secret_access_key = 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\n", 'v_aws_secret_key',
    'a_aws_secret_key', 'v_aws_access_key');
yes('AWS key pair, console CSV', "Access key ID,Secret access key\n"
    . "AKIA2E4Z5QWERTY7ABCD,Zx9fLm2QpR7tYv4KwB8nHc3JdS6gTe1UaXoPiQ0r\n", 'v_aws_secret_key');
no_('a SHA-1 after the setting name', "aws_secret_access_key = da39a3ee5e6b4b0d3255bfef95601890afd80709\n",
    'v_aws_secret_key');
no_('AWS documentation secret', "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    'v_aws_secret_key');
my $gh = github_token('ghp');
yes('GitHub token with its checksum', "token $gh", 'v_github_token', 'a_github_token');
yes('GitHub OAuth token', 'token ' . github_token('gho'), 'v_github_token');
(my $ghbad = $gh) =~ s/^(ghp_.)(.)/$1 . ($2 eq 'a' ? 'b' : 'a')/e;
no_('GitHub token, checksum fails', "token $ghbad", 'v_github_token');
yes('GitHub fine-grained token', 'github_pat_' . ('A1b2C3d4E5' x 2) . 'Zz_' . ('q9W8e7R6t5' x 5) . 'y4U3t2R1a',
    'v_github_token');
yes('GitLab token', 'glpat-Ab3dEfGhIjKlMnOpQrSt', 'v_gitlab_token', 'a_gitlab_token');
no_('GitLab prefix with prose', 'glpat-documentation-example', 'v_gitlab_token');
yes('Slack bot token', 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx', 'v_slack_token',
    'a_slack_token');
yes('Slack webhook', 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
    'v_slack_token');
no_('Slack prefix alone', 'xoxb-test', 'v_slack_token');
my $jwt = jwt('{"alg":"HS256","typ":"JWT"}', '{"sub":"1234567890","name":"J Doe"}');
yes('JWT', "Authorization: Bearer $jwt", 'v_jwt', 'a_jwt');
no_('JWT header without alg', 'x ' . jwt('{"typ":"JWT"}', '{"sub":"1"}'), 'v_jwt');
no_('base64url of JSON alone', 'x eyJhbGciOiJIUzI1NiJ9', 'v_jwt');
yes('PostgreSQL URL with a password', 'DATABASE_URL=postgres://app:s3cr3tPassw0rd@db.internal:5432/prod',
    'v_db_url_password', 'a_db_url_password');
yes('MongoDB SRV URL', 'mongodb+srv://admin:Tr0ub4dor@cluster0.ab12c.mongodb.net/test', 'v_db_url_password');
yes('Redis URL with an empty user', 'redis://:hunter2hunter2@cache:6379/0', 'v_db_url_password');
yes('JDBC URL with password=', 'jdbc:sqlserver://db:1433;databaseName=x;user=sa;password=Hunter22!',
    'v_db_url_password');
no_('database URL without a password', 'postgres://app@db.internal/prod', 'v_db_url_password');
no_('database URL with a placeholder', 'postgres://app:${DB_PASSWORD}@db/prod and mysql://root:****@h/d',
    'v_db_url_password');
no_('web URL with a password', 'https://user:pass1234@example.com/', 'v_db_url_password');

# ---- look-alikes: a label excuses only a number that can be what it says ----------
my $jcb = card(16, '3569');
yes('a JCB-shaped number alone', "n $jcb", 'v_credit_card');
yes('labelled IMEISV, 16 Luhn-valid digits with an issuer prefix are a card', "IMEISV: $jcb",
    'v_credit_card', 'a_credit_card');
yes('labelled IMEI, 16 digits are no IMEI', 'IMEI: 4111 1111 1111 1111', 'v_credit_card', 'a_credit_card');
yes('labelled IMEI, no reporting body starts 37', 'IMEI 378282246310005', 'v_credit_card');
yes('labelled ISBN, a card is no ISBN', 'ISBN 4111111111111111', 'v_credit_card');
yes('labelled phone, 16 digits are no phone number', 'phone 4111 1111 1111 1111', 'v_credit_card');
yes('labelled phone, a card of 15 digits is no phone number', 'Tel. 378282246310005', 'v_credit_card');
yes('order number: any digits, but a card is a card', "Order no. $visa", 'v_credit_card', 'a_credit_card');
yes('tracking number', "Tracking #: $visa", 'v_credit_card');
yes('invoice number', "Invoice number: $visa", 'v_credit_card');
yes('Bestellnummer', "Bestellnummer $visa", 'v_credit_card');
my $maestro = card(15, '5018');
yes('a 15-digit Maestro number', "n $maestro", 'v_credit_card');
no_('... that is also a valid IMEI, labelled IMEI', "IMEI: $maestro", 'v_credit_card', 'a_credit_card');
yes('labels can be turned off', "IMEI: $maestro", 'nolabels_card');
yes('a value that counts alone, labelled as an order number', 'Order no. 234-56-7890', 'v_us_ssn', 'a_us_ssn');
yes('labelled phone, a number written as an SSN is none', 'Tel. 234-56-7890', 'v_us_ssn', 'a_us_ssn');
no_('a weak value near its context word, labelled as an order number', 'SSN on file; order no. 234567890',
    'a_us_ssn');
yes('... the same without the label', 'SSN on file; number 234567890', 'a_us_ssn');
no_('a weak value near its context word, labelled phone, of a phone number\'s length',
    'NHS phone 943 476 5919', 'a_uk_nhs');
yes('... the same without the label', 'NHS number 943 476 5919', 'a_uk_nhs');
yes('a label further back does not count', "Order 12, paid by card $visa", 'v_credit_card');
yes('the previous column is no label', "kind,card\nOrder,$visa\n", 'v_credit_card');
yes('labels are for numbers: an IBAN after Rechnung', 'Rechnung DE89 3704 0044 0532 0130 00', 'v_iban');
my $orders = "order_id,sku,qty,price\n" . join('', map { card(16, '4') . ",SKU-$_,3,19.99\n" } 1 .. 5);
yes('card numbers in a CSV column headed order_id are cards', $orders, 'v_credit_card', 'a_credit_card');
my $ssnorders = "order_id,note\n" . join('', map { (200 + $_) . "123456,SSN check pending\n" } 1 .. 4);
no_('weak values in a column headed order_id, the word SSN beside them', $ssnorders, 'a_us_ssn');
(my $ssnnumbers = $ssnorders) =~ s/^order_id/number/;
yes('... the same column headed number', $ssnnumbers, 'a_us_ssn');
my $cards = "name,card_number,exp\n" . join('', map { "n$_," . card(16, '4') . ",12/27\n" } 1 .. 5);
yes('a CSV column headed card_number', $cards, 'v_credit_card');
my @bsns = map { bsn() } 1 .. 5;
my $bsncsv = "naam;geboortedatum;BSN;plaats\n" . join('', map { "P$_;01-02-1980;$bsns[$_];Utrecht\n" } 0 .. 4);
yes('weak values under a context word in their column header', $bsncsv, 'a_nl_bsn');
my $bsnfar = "naam;geboortedatum;nummer;plaats\n" . join('', map { "P$_;01-02-1980;$bsns[$_];Utrecht\n" } 0 .. 4);
no_('the same column without the word', $bsnfar, 'a_nl_bsn');
# context words as people type them: an acronym in small letters, a no-break
# space after it or inside a phrase, a phrase as a column name
yes('a context acronym in small letters', 'ssn 234567890', 'a_us_ssn');
yes('a context acronym before a no-break space', "SSN\xc2\xa0234567890", 'a_us_ssn');
yes('a context acronym before a byte that is no UTF-8', "SSN\xff 234567890", 'a_us_ssn');
yes('a context phrase with a no-break space', "social\xc2\xa0security: 234567890", 'a_us_ssn');
yes('a context phrase written as a field name', 'social_security_number=234567890', 'a_us_ssn');
no_('a context acronym inside a word', 'xssn 234567890, ssnx 234567890', 'a_us_ssn');
$sin = ca_sin();
yes('an acronym that is a word in small letters counts in capitals', "SIN $sin", 'a_ca_sin');
no_('... and only in capitals', "sin $sin", 'a_ca_sin');
my $tsv = "Name\tSSN\tDept\n" . join('', map { "E$_\t" . (200 + $_) . "123456\tSales\n" } 1 .. 4);
yes('TSV: compact SSNs under an SSN header', $tsv, 'a_us_ssn');

# ---- look-alikes under the shipped-style policies (context auto) ------------------
my @a_all = map { "a_$_" } @ids;
no_('phone numbers', "call +1 555 867 5309, +44 20 7946 0958, (555) 867-5309,\n"
    . "Tel. 030 1234567, +49 171 1234567, 0049 30 12345678, 06-12345678", @a_all);
no_('timestamps', "2024-01-15 10:30:45, 1700000000, 1700000000123, 20240115103045,\n"
    . "20240115-1030, 2024-01-15T10:30:45Z, 15.01.2024 10:30", @a_all);
no_('ISBNs and IMEIs', "ISBN 978-3-16-148410-0, ISBN 0-306-40615-2, ISBN-10: 0306406152,\n"
    . "IMEI 49-015420-323751-8, IMEI: 490154203237518", @a_all);
no_('order and tracking numbers', "Order 100234567, order #4820011937, tracking 1Z999AA10123456784,\n"
    . "FedEx 123456789012, DHL 1234567890, shipment 00340434161094042557", @a_all);
no_('a quantity table', "Item     Jan   Feb   Mar   Apr\nBolts   4111  1111  1111  1111\n"
    . "Nuts    1200   980  1130   870\nTotal  5311  2091  2241  1981\n", @a_all);
no_('amounts with decimal commas', "Summe 1.234.567,89 EUR; 4.111.111,11; 12.345.678,90", @a_all);

# run every case in one dlpscan
my @files;
for my $i (0 .. $#cases) {
    my $f = sprintf('%s/c%03d.eml', $dir, $i);
    spit($f, "From: a\@example.com\nTo: b\@example.net\nSubject: case $i\n"
        . "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n$cases[$i][1]\n");
    push @files, $f;
}
($rc, $out) = dlpscan('-c', "$dir/etc", @files);
is($rc, 0, 'dlpscan scans every case') or diag $out;
my %fired;
my $cur;
for (split /\n/, $out) {
    $cur = $1 if m{/c(\d+)\.eml: verdict=};
    $fired{$cur}{$1} = 1 if defined $cur && /^  policy (\S+):/;
}
for my $i (0 .. $#cases) {
    my ($name, undef, $must, $mustnot) = @{$cases[$i]};
    my @missing = grep { !$fired{sprintf('%03d', $i)}{$_} } @$must;
    my @extra = grep { $fired{sprintf('%03d', $i)}{$_} } @$mustnot;
    ok(!@missing && !@extra, $name)
        or diag("missing: @missing; fired but should not: @extra");
}
done_testing;
