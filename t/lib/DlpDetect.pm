package DlpDetect;

# DlpDetect - helpers for the detector's tests (t/3x)
#
#   my $sink = start_sink();
#   my $dlp  = start_detect(policies => $text, conf => { ... }, sink => $sink);
#                                   # (dir => D: in a directory made before)
#   my ($code, $text) = send_mail($dlp, from => ..., rcpt => [...], data => $msg);
#   my @inc = incidents($dlp);                   # decoded JSON lines
#   my $msg = mime_message(headers => [...], parts => [...]);
#   my $docx = docx_bytes("text of the document");
#   my ($rc, $out) = dlpscan($etc, @args);
#   my ($e2e, $scan) = outcome($dlp, $msg);    # what dlpgate and dlpscan did
#
# start_detect() writes policies.conf (and any extra files) into the
# instance's etc directory before master starts, and points incident_log
# and notify_queue_directory into the test's own directory.

use strict;
use warnings;
use Exporter 'import';
use File::Path qw(make_path);
use IO::Compress::Zip qw(zip $ZipError);
use JSON::PP;
use Test::More ();
use MIME::Base64 qw(encode_base64);
use MIME::QuotedPrint qw(encode_qp);
use DlpTest;

our @EXPORT = qw(start_detect send_mail incidents mime_message docx_bytes
    zip_bytes dlpscan crlf write_policies wait_incidents outcome check_outcome);

# crlf - text with CRLF line ends
sub crlf {
    my ($t) = @_;
    $t =~ s/\r?\n/\r\n/g;
    return $t;
}

# write_policies - (re)write etc/policies.conf and extra files
sub write_policies {
    my ($etc, $text, $files) = @_;
    for my $f (keys %{$files // {}}) {
        DlpTest::spit("$etc/$f", $files->{$f});
    }
    my $tmp = "$etc/policies.conf.tmp$$";
    DlpTest::spit($tmp, $text);
    rename $tmp, "$etc/policies.conf" or die "rename: $!";
}

# start_detect - dlpgate with policies, reflecting to the sink
sub start_detect {
    my (%opt) = @_;
    my $dir = $opt{dir} // DlpTest::test_dir();
    make_path("$dir/etc");
    write_policies("$dir/etc", $opt{policies}, $opt{files}) if defined $opt{policies};
    my %conf = (
        resubmit_port => $opt{sink}{port},
        incident_log => "$dir/log/incidents.log",
        notify_queue_directory => "$dir/spool/notify",
        %{$opt{conf} // {}},
    );
    my $dlp = DlpTest::start_dlpgate(dir => $dir, conf => \%conf, %{$opt{start} // {}});
    $dlp->{incident_log} = $conf{incident_log};
    $dlp->{queue} = $conf{notify_queue_directory};
    # a detector is ready when it said so
    $dlp->wait_log(qr/3004 detector ready/, 30)
        or die "no detector started:\n" . $dlp->log;
    return $dlp;
}

# send_mail - one message in a fresh session: (code, text)
sub send_mail {
    my ($dlp, %m) = @_;
    my $c = DlpTest::smtp_connect($dlp->{port}) or return (undef, 'no connection');
    $c->cmd('EHLO client.test');
    my ($code, $text) = $c->send_message(%m, data => crlf($m{data}), timeout => $m{timeout} // 60);
    $c->cmd('QUIT');
    $c->close;
    return ($code, $text);
}

# incidents - every incident line so far, decoded
sub incidents {
    my ($dlp) = @_;
    my $raw = DlpTest::slurp($dlp->{incident_log}) // '';
    return map { decode_json($_) } grep { length } split /\n/, $raw;
}

# wait_incidents - until there are n incident lines
sub wait_incidents {
    my ($dlp, $n, $timeout) = @_;
    DlpTest::wait_until(sub { scalar(my @i = incidents($dlp)) >= $n }, $timeout // 20);
    return incidents($dlp);
}

# mime_message - headers and a body, or parts of a multipart/mixed
#   parts => [ { type => 'text/plain', body => ..., encoding => 'base64'|'qp',
#               filename => 'a.txt', disposition => 'attachment',
#               headers => [...] } ]
sub mime_message {
    my (%m) = @_;
    my @h = @{$m{headers} // []};
    push @h, "From: $m{from}" if $m{from};
    push @h, "To: $m{to}" if $m{to};
    push @h, "Subject: $m{subject}" if defined $m{subject};
    push @h, "Message-ID: <" . int(rand(1e9)) . "\@test>";
    push @h, "MIME-Version: 1.0";
    return join("\n", @h, "", $m{body}) . "\n" unless $m{parts};
    my $b = $m{boundary} // "=_b" . int(rand(1e9));
    my $out = join("\n", @h, "Content-Type: " . ($m{multipart} // 'multipart/mixed')
        . "; boundary=\"$b\"", "", "This is a MIME message.", "");
    for my $p (@{$m{parts}}) {
        $out .= "--$b\n" . mime_part(%$p);
    }
    return $out . "--$b--\n";
}

# mime_part - one part, encoded
sub mime_part {
    my (%p) = @_;
    my $type = $p{type} // 'text/plain; charset=utf-8';
    my @h = ("Content-Type: $type" . ($p{filename} && $type !~ /name=/ ? "; name=\"$p{filename}\"" : ''));
    my $body = $p{body} // '';
    if (($p{encoding} // '') eq 'base64') {
        push @h, "Content-Transfer-Encoding: base64";
        $body = encode_base64($body);
    } elsif (($p{encoding} // '') eq 'qp') {
        push @h, "Content-Transfer-Encoding: quoted-printable";
        $body = encode_qp($body);
    }
    push @h, "Content-Disposition: " . ($p{disposition} // 'attachment')
        . ($p{filename} ? "; filename=\"$p{filename}\"" : '')
        if $p{filename} || $p{disposition};
    push @h, @{$p{headers} // []};
    $body .= "\n" unless $body =~ /\n\z/;
    return join("\n", @h, "", $body);
}

# zip_bytes - a zip archive of name => content pairs, in memory
sub zip_bytes {
    my (@members) = @_;
    my $out;
    my $z = IO::Compress::Zip->new(\$out, Name => $members[0], Minimal => 1)
        or die "zip: $ZipError";
    for (my $i = 0; $i < @members; $i += 2) {
        $z->newStream(Name => $members[$i], Minimal => 1) if $i;
        $z->print($members[$i + 1]);
    }
    $z->close;
    return $out;
}

# docx_bytes - a minimal Word document holding the text: runs of 7
# characters, as Word splits text, or one paragraph per line (paragraphs => 1)
sub docx_bytes {
    my ($text, %opt) = @_;
    my @runs = $opt{paragraphs}
        ? map { "<w:p><w:r><w:t xml:space=\"preserve\">$_</w:t></w:r></w:p>" } split /\n/, $text
        : map { "<w:r><w:t xml:space=\"preserve\">$_</w:t></w:r>" } ($text =~ /(.{1,7})/gs);
    return zip_bytes(
        '[Content_Types].xml' => '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        '_rels/.rels' => '<?xml version="1.0"?><Relationships/>',
        'word/document.xml' => '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p>'
            . join('', @runs) . '</w:p></w:body></w:document>',
    );
}

# dlpscan - run the dry-run tool: (exit status, output)
sub dlpscan {
    my (@args) = @_;
    return DlpTest::run_cmd(DlpTest::top_dir() . "/detector/dlpscan", @args);
}

# outcome - what dlpgate did with a message, end to end: the policies that
# fired ("card,falcon"), "unscannable: REASON" (unscannable_action = block:
# its incident names the policy "(unscannable)") or "pass", or both
# ("card; unscannable: REASON") when a policy fired in a message not
# scanned completely; and the same for dlpscan
my $outcome_n = 0;
sub outcome {
    my ($dlp, $msg) = @_;
    my $before = $dlp->log_size;
    my $ninc = () = incidents($dlp);
    my ($code, $text) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
        data => $msg, timeout => 120);
    my $e2e;
    if (!defined $code) {
        $e2e = 'no answer';
    } elsif ((my @inc = incidents($dlp)) > $ninc) {
        $e2e = join(',', sort grep { $_ ne '(unscannable)' } map { $_->{name} } @{$inc[-1]{policies}});
        $e2e = join('; ', grep { length } $e2e, "unscannable: $inc[-1]{not_scanned}")
            unless $inc[-1]{complete};
    } elsif ($code == 550 && $text =~ /could not be scanned/) {
        my $re = qr/3009 message not scanned completely \(cid=\S+ reason="([^"]*)"/;
        DlpTest::wait_until(sub { substr($dlp->log, $before) =~ $re }, 10);
        my ($why) = substr($dlp->log, $before) =~ $re;
        $e2e = "unscannable: " . ($why // '?');
    } else {
        $e2e = $code == 250 ? 'pass' : "code $code";
    }
    my $file = "$dlp->{dir}/outcome" . ++$outcome_n . ".eml";
    DlpTest::spit($file, $msg);
    my ($rc, $out) = dlpscan('-c', "$dlp->{dir}/etc", $file);
    my @fired = $out =~ /^\s+policy (\S+):/mg;
    my ($why) = $out =~ /not scanned completely: (.*?) \(unscannable_action/;
    my $scan = join('; ', grep { length } join(',', sort @fired),
        defined $why ? "unscannable: $why" : '') || 'pass';
    return ($e2e, $scan);
}

# check_outcome - one case, end to end and with dlpscan: both must give
# want (a string, or a pattern)
sub check_outcome {
    my ($dlp, $name, $msg, $want) = @_;
    my ($e2e, $scan) = outcome($dlp, $msg);
    if (ref $want) {
        Test::More::like($e2e, $want, $name);
        Test::More::like($scan, $want, "$name (dlpscan)");
    } else {
        Test::More::is($e2e, $want, $name);
        Test::More::is($scan, $want, "$name (dlpscan)");
    }
}

1;
