#!/usr/bin/perl
# Reading the message as a person would, through the whole pipeline: the
# same word hidden by every encoding and container must be found, and in
# the right place (subject, body, attachment, attachment name, header).
# Each place has its own blocking policy, so the 5xx text says where the
# detector found it.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64;
use MIME::QuotedPrint;
use Encode qw(encode);
use DlpTest;
use DlpDetect;

my $policies = <<'EOF';
policies = (
  { name = "p-subject"; rules = ( { type = "keyword"; keywords = ["falcon"]; look_in = ["subject"]; } );
    action = "block"; reply = "550 5.7.1 found in subject"; },
  { name = "p-body"; rules = ( { type = "keyword"; keywords = ["falcon"]; look_in = ["body"]; } );
    action = "block"; reply = "550 5.7.1 found in body"; },
  { name = "p-attach"; rules = ( { type = "keyword"; keywords = ["falcon"]; look_in = ["attachment"]; } );
    action = "block"; reply = "550 5.7.1 found in attachment"; },
  { name = "p-name"; rules = ( { type = "keyword"; keywords = ["falcon"]; whole_word = false;
      look_in = ["attachment_name"]; } );
    action = "block"; reply = "550 5.7.1 found in attachment name"; },
  { name = "p-header"; rules = ( { type = "keyword"; keywords = ["falcon"]; headers = ["X-Project"]; look_in = []; } );
    action = "block"; reply = "550 5.7.1 found in header"; },
  { name = "p-umlaut"; rules = ( { type = "keyword"; keywords = ["größe"]; } );
    action = "block"; reply = "550 5.7.1 found umlaut word"; },
  { name = "p-card"; rules = ( { type = "identifier"; identifier = "credit_card"; } );
    action = "block"; reply = "550 5.7.1 found card"; },
  { name = "p-exe"; rules = ( { type = "attachment"; types = ["executable"]; } );
    action = "block"; reply = "550 5.7.1 found executable"; },
  { name = "p-office"; rules = ( { type = "attachment"; types = ["xlsx"]; } );
    action = "block"; reply = "550 5.7.1 found spreadsheet"; }
);
EOF

my $sink = start_sink();
my $dlp = start_detect(policies => $policies, sink => $sink);

my $H = "From: a\@example.com\nTo: b\@example.net\n";

sub verdict {
    my ($data) = @_;
    my ($code, $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'], data => $data);
    return $code == 550 ? ($text =~ /^550 5\.7\.1 (.*)$/)[0] : "code $code";
}

sub att { return mime_message(from => 'a@example.com', to => 'b@example.net', subject => 'x', @_) }

my @cases = (
    ['plain body', "${H}Subject: x\n\nthe falcon flies\n", 'found in body'],
    ['no match at all', "${H}Subject: x\n\nthe hawk flies\n", 'code 250'],
    ['base64 body', att(parts => [{ type => 'text/plain; charset=utf-8', body => "a Falcon here\n",
        encoding => 'base64', disposition => 'inline' }]), 'found in body'],
    ['quoted-printable soft break inside the word',
        "${H}Subject: x\nMIME-Version: 1.0\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nthe fal=\ncon flies\n",
        'found in body'],
    ['ISO-8859-1 text, caseless umlaut',
        "${H}Subject: x\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nDie GR=D6=DFE ist geheim\n",
        'found umlaut word'],
    ['UTF-16 text', att(parts => [{ type => 'text/plain; charset=utf-16le',
        body => encode('UTF-16LE', "le faucon: falcon\n"), encoding => 'base64', disposition => 'inline' }]),
        'found in body'],
    ['HTML with a tag inside the word', att(parts => [{ type => 'text/html; charset=utf-8',
        body => "<html><body><p>fal<b>con</b></p></body></html>\n", disposition => 'inline' }]), 'found in body'],
    ['HTML entity', att(parts => [{ type => 'text/html', body => "<p>f&#97;lc&#x6F;n</p>\n",
        encoding => 'qp', disposition => 'inline' }]), 'found in body'],
    ['HTML script is not shown, but read', att(parts => [{ type => 'text/html', body => "<script>falcon()</script><p>hi</p>\n",
        disposition => 'inline' }]), 'found in body'],
    ['multipart/alternative', mime_message(from => 'a@example.com', subject => 'x', multipart => 'multipart/alternative',
        parts => [{ type => 'text/plain', body => "falcon\n" }, { type => 'text/html', body => "<p>falcon</p>\n" }]),
        'found in body'],
    ['RFC 2047 subject', "${H}Subject: =?ISO-8859-1?Q?Project_Falcon?=\n\nhello\n", 'found in subject'],
    ['RFC 2047 subject split over two words', "${H}Subject: =?UTF-8?B?" . encode_base64('Project Fal', '')
        . "?=\n =?UTF-8?Q?con?=\n\nhello\n", 'found in subject'],
    ['text attachment, base64', att(parts => [{ body => "hello\n", disposition => 'inline' },
        { type => 'text/plain', filename => 'notes.txt', body => "falcon notes\n", encoding => 'base64' }]),
        'found in attachment'],
    ['attachment name, RFC 2231', att(parts => [{ body => "hello\n", disposition => 'inline' },
        { type => 'application/octet-stream', body => "\x00\x01\x02",
          headers => ["Content-Disposition: attachment; filename*=UTF-8''Falcon%20plan.bin"],
          disposition => undef, encoding => 'base64' }]), 'found in attachment name'],
    ['attachment name, RFC 2047', att(parts => [{ type => 'application/octet-stream',
        filename => '=?UTF-8?B?' . encode_base64('falcon.bin', '') . '?=', body => "\x00\x01", encoding => 'base64' }]),
        'found in attachment name'],
    ['docx with the card split over runs', att(parts => [{ type => 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        filename => 'order.docx', body => docx_bytes('Pay with 4111 1111 1111 1111 today'), encoding => 'base64' }]),
        'found card'],
    ['docx keyword', att(parts => [{ type => 'application/octet-stream', filename => 'a.docx',
        body => docx_bytes('The FALCON plan'), encoding => 'base64' }]), 'found in attachment'],
    ['xlsx by content', att(parts => [{ type => 'application/octet-stream', filename => 'data.bin',
        body => zip_bytes('[Content_Types].xml' => '<Types/>', 'xl/sharedStrings.xml' => '<sst><si><t>hello</t></si></sst>'),
        encoding => 'base64' }]), 'found spreadsheet'],
    ['zip member', att(parts => [{ type => 'application/zip', filename => 'a.zip',
        body => zip_bytes('dir/readme.txt' => "the falcon\n"), encoding => 'base64' }]), 'found in attachment'],
    ['zip inside a zip', att(parts => [{ type => 'application/zip', filename => 'outer.zip',
        body => zip_bytes('inner.zip' => zip_bytes('deep.txt' => "falcon\n")), encoding => 'base64' }]),
        'found in attachment'],
    ['zip member name', att(parts => [{ type => 'application/zip', filename => 'a.zip',
        body => zip_bytes('falcon-plan.txt' => "nothing\n"), encoding => 'base64' }]), 'found in attachment name'],
    ['attached message', att(parts => [{ body => "see below\n", disposition => 'inline' },
        { type => 'message/rfc822', body => "From: c\@example.org\nSubject: fwd\n\nthe falcon\n",
          disposition => 'attachment' }]), 'found in attachment'],
    ['header', "${H}Subject: x\nX-Project: Falcon\n\nhello\n", 'found in header'],
    ['other headers are not looked at', "${H}Subject: x\nX-Other: Falcon\n\nhello\n", 'code 250'],
    ['executable disguised as text', att(parts => [{ type => 'text/plain', filename => 'report.txt',
        body => "MZ\x90\x00\x03\x00\x00\x00\x04\x00binary", encoding => 'base64' }]), 'found executable'],
);

for my $c (@cases) {
    is(verdict($c->[1]), $c->[2], $c->[0]);
}

# the words of a reader, not of the markup: nothing fired on a clean message
my @inc = incidents($dlp);
is(scalar @inc, scalar(grep { $_->[2] ne 'code 250' } @cases), 'one incident per message that matched');
is(scalar(grep { $_->{complete} } @inc), scalar @inc, 'every message was scanned completely');
ok($dlp->stop, 'dlpgate stops');
done_testing;
