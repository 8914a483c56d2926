#!/usr/bin/perl
# Every identifier end to end: a gateway with one blocking policy per
# identifier, as an administrator writes them (context as shipped),
# reflecting to smtp-sink. For each identifier a message holding one
# value is refused with that policy's reply, and its look-alikes (a wrong
# check digit, a value labelled as another kind of number that it can be,
# a value without the context a weak value needs) reach the sink. Some
# values travel in the body, some in CSV attachments, some in the subject.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpDetect;
use DlpIdent;

srand(72);
my $bsn = bsn();
my $sin = ca_sin();
my $aad = aadhaar();
my $gh = github_token('ghp');
(my $ghbad = $gh) =~ s/^(ghp_)(.)/$1 . ($2 eq 'Q' ? 'R' : 'Q')/e;
my $jwt = jwt('{"alg":"RS256","typ":"JWT"}', '{"sub":"42","email":"a@example.com"}');
my $pem = pem_key('EC PRIVATE KEY');

# [identifier, the value in context, look-alikes that must pass]
my @ids = (
    ['credit_card', 'Card: 4111 1111 1111 1111 exp 12/27',
        ['Card: 4111 1111 1111 1112 exp 12/27', 'IMEI ' . card(15, '5018') . ' registered']],
    ['us_ssn', 'Employee SSN 234-56-7890', ['Employee SSN 666-56-7890', 'call 234-567-8901 today']],
    ['iban', 'Pay to DE89 3704 0044 0532 0130 00', ['Pay to DE89 3704 0044 0532 0130 01']],
    ['uk_nino', 'NI number JG103759A', ['NI number QQ123456A', 'part no. AB123456']],
    ['ca_sin', "SIN: $sin", ['SIN: ' . off_by_one($sin), "Ticket $sin"]],
    ['fr_nir', 'NIR 1 85 05 78 006 084 91', ['NIR 1 85 05 78 006 084 90']],
    ['es_dni', 'DNI 12345678Z', ['DNI 12345678A', 'ref X12345678Z']],
    ['es_nie', 'NIE X1234567L', ['NIE X1234567A']],
    ['it_codice_fiscale', 'Codice fiscale: RSSMRA85T10A562S', ['Codice fiscale: RSSMRA85T10A562Z']],
    ['nl_bsn', "BSN: $bsn", ['BSN: ' . off_by_one($bsn), "Factuur $bsn"]],
    ['de_steuer_id', 'Steuer-ID: 86 095 742 719', ['Steuer-ID: 86 095 742 718', 'Kundennr. 86095742719']],
    ['se_personnummer', 'personnummer 811218-9876', ['personnummer 811218-9877', 'backup-811218-9876.tar']],
    ['dk_cpr', 'CPR-nr. 070761-4285', ['CPR-nr. 320761-4285', 'lot 070761-4285']],
    ['pl_pesel', 'PESEL: 44051401359', ['PESEL: 44051401358', 'tel 44051401359']],
    ['in_aadhaar', 'Aadhaar ' . join(' ', unpack('A4A4A4', $aad)),
        ['Aadhaar ' . off_by_one($aad), "order $aad"]],
    ['cn_resident_id', "\xe8\xba\xab\xe4\xbb\xbd\xe8\xaf\x81\xe5\x8f\xb7: 11010519491231002X",
        ["\xe8\xba\xab\xe4\xbb\xbd\xe8\xaf\x81\xe5\x8f\xb7: 110105194912310021"]],
    ['br_cpf', 'CPF 111.444.777-35', ['CPF 111.444.777-36', 'pedido 11144477735']],
    ['br_cnpj', 'CNPJ 11.222.333/0001-81', ['CNPJ 11.222.333/0001-80']],
    ['au_tfn', 'TFN 123 456 782', ['TFN 123 456 783', 'invoice 123456782']],
    ['us_itin', 'ITIN 912-70-1234', ['ITIN 912-69-1234']],
    ['uk_nhs', 'NHS number 943 476 5919', ['NHS number 943 476 5918', 'phone 943 476 5919']],
    ['aba_routing', 'ABA routing 021000021', ['ABA routing 021000022', 'tracking 021000021']],
    ['swift_bic', 'SWIFT/BIC: COBADEFFXXX', ['SWIFT/BIC: COBAXXFFXXX', 'COBADEFFXXX']],
    ['uk_sort_code_account', 'Sort code 40-47-84, account 70872490', ['Sort code 40-47-84 only']],
    ['us_passport', 'US passport no. 340012345', ['flight 340012345']],
    ['us_dea', 'DEA number BJ6125341', ['DEA number BJ6125342']],
    ['pem_private_key', "key:\n$pem", ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"]],
    ['aws_access_key', 'aws_access_key_id=AKIAQ3EGRTZ5LWXYB7KD', ['AKIAIOSFODNN7EXAMPLE']],
    ['aws_secret_key', "aws_secret_access_key=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\n",
        ["aws_secret_access_key=da39a3ee5e6b4b0d3255bfef95601890afd80709\n"]],
    ['github_token', "GITHUB_TOKEN=$gh", ["GITHUB_TOKEN=$ghbad"]],
    ['gitlab_token', 'token glpat-9xK2mQ7vR4tY1wZ8pL3n', ['token glpat-xxxxxxxxxxxxxxxxxxxx']],
    ['slack_token', 'SLACK_BOT_TOKEN=xoxb-263594206564-2343594206574-FGqddMF8t08v8N7Oq4i57vs1',
        ['SLACK_BOT_TOKEN=xoxb-your-token-here']],
    ['jwt', "Authorization: Bearer $jwt", ['eyJub3QiOiJhIHRva2VuIn0.e30.c2lnbmF0dXJlc2lnbmF0dXJl']],
    ['db_url_password', 'DATABASE_URL=postgresql://billing:Wq8#vLp2@db1.internal:5432/billing',
        ['DATABASE_URL=postgresql://billing:${PGPASSWORD}@db1.internal/billing']],
);

my $pol = "policies = (\n" . join(",\n", map {
    "  { name = \"$_->[0]\"; rules = ( { type = \"identifier\"; identifier = \"$_->[0]\"; } );\n"
  . "    action = \"block\"; reply = \"550 5.7.1 found $_->[0]\"; }" } @ids) . "\n);\n";
my $sink = start_sink();
my $dlp = start_detect(policies => $pol, sink => $sink);

# verdict - the gateway's answer: the policy's 550 text, or the code
sub verdict {
    my ($data) = @_;
    my ($code, $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'], data => $data);
    return 'no reply' unless defined $code;
    return $code == 550 ? ($text =~ /^550 5\.7\.1 (.*)$/)[0] : "code $code";
}

# message - a value in the body, in a CSV attachment, or in the subject
sub message {
    my ($i, $text) = @_;
    my $how = $i % 3;
    return "From: a\@example.com\nTo: b\@example.net\nSubject: note\nMIME-Version: 1.0\n"
        . "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n$text\n"
        if $how == 0 || $text =~ /\n./;
    if ($how == 1) {
        (my $cell = $text) =~ s/"/""/g;
        return mime_message(from => 'a@example.com', to => 'b@example.net', subject => 'export',
            parts => [{ type => 'text/plain', body => "attached\n", disposition => 'inline' },
                      { type => 'text/csv; charset=utf-8', filename => 'export.csv', encoding => 'base64',
                        body => "id,note,amount\r\n17,\"$cell\",100.00\r\n" }]);
    }
    return "From: a\@example.com\nTo: b\@example.net\nSubject: =?UTF-8?B?"
        . MIME::Base64::encode_base64($text, '') . "?=\n\nsee subject\n";
}

my ($i, $passes) = (0, 0);
for my $id (@ids) {
    is(verdict(message($i++, $id->[1])), "found $id->[0]", "$id->[0]: found");
    for my $neg (@{$id->[2]}) {
        is(verdict(message($i++, $neg)), 'code 250', "$id->[0]: look-alike passes: $neg");
        $passes++;
    }
}
is(scalar($sink->wait_messages($passes)), $passes, 'every look-alike reached the sink');
ok($dlp->stop, 'dlpgate stops');
done_testing;
