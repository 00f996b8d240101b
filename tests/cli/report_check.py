#!/usr/bin/python3
"""Checks of a benchctl HTML report (used by test_report.sh).

  report_check.py FILE [--sections a,b,c] [--no-tag TAG]... [--text STRING]...

Exits 1 naming the problem when FILE is not well-formed (every non-void
element closed in order), lacks a <section id=...> of the list, holds an
element TAG, holds a resource outside the file (src=/href= to http(s), //,
or any http(s):// anywhere), or lacks one of the texts (as a reader sees
it: entities decoded).  Prints the tags counted on success.
"""
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr", "circle", "rect", "line", "polyline", "path"}


class Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.sections, self.tags = [], [], set(), {}
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        a = dict(attrs)
        if tag == "section" and "id" in a:
            self.sections.add(a["id"])
        for k in ("src", "href", "xlink:href", "action", "srcset", "poster", "data"):
            v = (a.get(k) or "").strip().lower()
            if v.startswith(("http:", "https:", "//", "ftp:", "ws:", "wss:")):
                self.errors.append(f"external resource {k}={v[:80]} on <{tag}>")
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.handle_starttag_void(tag, attrs)

    def handle_starttag_void(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href"):
            v = (a.get(k) or "").strip().lower()
            if v.startswith(("http:", "https:", "//")):
                self.errors.append(f"external resource {k}={v[:80]} on <{tag}>")

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack:
            self.errors.append(f"</{tag}> at {self.getpos()} closes nothing")
            return
        top, pos = self.stack.pop()
        if top != tag:
            self.errors.append(f"</{tag}> at {self.getpos()} closes <{top}> opened at {pos}")

    def handle_data(self, data):
        self.text.append(data)


def main(argv):
    path, sections, no_tags, texts = argv[1], [], [], []
    i = 2
    while i < len(argv):
        if argv[i] == "--sections":
            sections = [s for s in argv[i + 1].split(",") if s]
        elif argv[i] == "--no-tag":
            no_tags.append(argv[i + 1])
        elif argv[i] == "--text":
            texts.append(argv[i + 1])
        i += 2
    raw = open(path, encoding="utf-8").read()
    c = Checker()
    c.feed(raw)
    c.close()
    errs = list(c.errors)
    if c.stack:
        errs.append(f"unclosed: {c.stack[-5:]}")
    if not raw.lstrip().lower().startswith("<!doctype html>"):
        errs.append("no <!DOCTYPE html>")
    for s in sections:
        if s not in c.sections:
            errs.append(f"no section id={s} (has {sorted(c.sections)})")
    for t in no_tags:
        if c.tags.get(t):
            errs.append(f"{c.tags[t]} <{t}> element(s): markup from the run was not escaped")
    for scheme in ("http://", "https://"):
        if scheme in raw:
            at = raw.index(scheme)
            errs.append(f"{scheme} in the file: ...{raw[max(0, at - 60):at + 40]!r}")
    text = "".join(c.text)
    for t in texts:
        if t not in text:
            errs.append(f"text not shown: {t!r}")
    if errs:
        print("\n".join(errs), file=sys.stderr)
        return 1
    print(" ".join(f"{k}={v}" for k, v in sorted(c.tags.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
