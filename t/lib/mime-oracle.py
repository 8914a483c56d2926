#!/usr/bin/python3
# mime-oracle.py - what Python's email package reads in a message
#
#   python3 t/lib/mime-oracle.py message.eml
#
# Prints every piece of text Python's email package (the compat32 parser,
# what most Python mail tools use) finds: each multipart's preamble and
# epilogue, each leaf decoded from its transfer encoding and charset; HTML
# twice: as a browser shows it (tags out, character references decoded,
# block elements on lines of their own, any other element inline) and its
# attribute values and comments. The detector's tests compare: whatever
# this prints, dlpgate must find (or say it could not read).
import email
import email.policy
import html.parser
import sys

BLOCK = set("""address article aside blockquote body br button caption center dd
details dialog dir div dl dt fieldset figcaption figure footer form frame
frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html iframe input legend li
listing main menu nav ol optgroup option p pre section select summary table
tbody td textarea tfoot th thead title tr ul xmp""".split())


class Browser(html.parser.HTMLParser):
    """the text a browser shows, and what the markup holds unseen"""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.shown, self.hidden = [], []

    def handle_starttag(self, tag, attrs):
        if tag in BLOCK:
            self.shown.append("\n")
        self.hidden.extend(v for _, v in attrs if v)

    def handle_endtag(self, tag):
        if tag in BLOCK:
            self.shown.append("\n")

    def handle_data(self, data):
        # soft hyphens and zero-width characters are not seen
        for c in "\u00ad\u200b\u200c\u200d\u2060\ufeff":
            data = data.replace(c, "")
        self.shown.append(data)

    def handle_comment(self, data):
        self.hidden.append(data)


def text_of(part):
    raw = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def main():
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.compat32)
    for part in msg.walk():
        for extra in (part.preamble, part.epilogue):
            if extra:
                print(extra)
        if part.is_multipart():
            continue
        text = text_of(part)
        print(text)
        if part.get_content_type() == "text/html":
            b = Browser()
            b.feed(text)
            b.close()
            print("".join(b.shown))
            print("\n".join(b.hidden))


main()
