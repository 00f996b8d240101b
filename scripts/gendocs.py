#!/usr/bin/env python3
"""Generate benchctl's man pages and shell completion from their one source.

  gendocs.py man1 BENCHCTL OUT            benchctl(1): from `BENCHCTL help` and
                                          `BENCHCTL COMMAND --help` (the CLI's
                                          option table), plus docs/man/benchctl.1.md
  gendocs.py md2man SRC.md NAME SECTION OUT [INTRO.md]
                                          a man page from a Markdown file
                                          (benchctl.yaml(5) from docs/config.md,
                                          benchctl-plugins(7) from docs/plugins.md)
  gendocs.py completion SHELL BENCHCTL OUT    bash, zsh or fish completion, from
                                          the same help output as benchctl(1)

Only the Python standard library; the Markdown handled is the subset the
docs use (headings, paragraphs, lists, fenced code, pipe tables, inline
code, bold, links).  Called by cmake/Docs.cmake at build time.
"""
import os
import re
import subprocess
import sys

# The version for the page footer (cmake/Docs.cmake sets it); no date, so
# the same sources always give the same pages.
VERSION = os.environ.get("BENCHCTL_DOCS_VERSION", "")


# ---- the CLI, read from its help -------------------------------------------------

def run_help(bench, *args):
    """stdout of `bench args...`; the help commands exit 0."""
    r = subprocess.run([bench, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, check=False)
    if r.returncode != 0:
        sys.exit("gendocs: %s %s exited %d: %s" % (bench, " ".join(args), r.returncode,
                                                   r.stderr.strip()))
    return r.stdout


OPT_RE = re.compile(r"^  (?:-(\w), |    )--([A-Za-z0-9][\w-]*)(?:[ =](\S+))?(?:\s{2,}(.*))?$")


def read_cli(bench):
    """{'usage': text, 'commands': [{name, summary, usage, text, options, notes}]}"""
    top = run_help(bench, "help")
    commands = []
    in_cmds = False
    for line in top.splitlines():
        if line.startswith("Commands:"):
            in_cmds = True
            continue
        if in_cmds:
            m = re.match(r"^  (\S+)\s+(.*)$", line)
            if not m:
                if commands:
                    in_cmds = False
                continue
            commands.append({"name": m.group(1), "summary": m.group(2)})
    if not commands:
        sys.exit("gendocs: no commands found in `benchctl help`")
    for c in commands:
        text = run_help(bench, c["name"], "--help")
        c["text"] = text
        lines = text.splitlines()
        c["usage"] = lines[0][len("usage: "):] if lines and lines[0].startswith("usage: ") \
            else "benchctl " + c["name"]
        opts, notes, section = [], [], None
        for line in lines[1:]:
            if line.startswith("Options:"):
                section = "options"
                continue
            if section != "options":
                continue
            m = OPT_RE.match(line)
            if m:
                opts.append({"letter": m.group(1), "name": m.group(2), "value": m.group(3),
                             "help": (m.group(4) or "").strip()})
            elif line.startswith(" " * 26) and opts and not notes:
                opts[-1]["help"] += " " + line.strip()
            elif line.strip():
                notes.append(line.strip())
        c["options"], c["notes"] = opts, notes
    return {"usage": top, "commands": commands}


# ---- roff ------------------------------------------------------------------------

def esc(s):
    """Text for roff: backslashes, hyphens, and a leading control character."""
    s = s.replace("\\", "\\e").replace("-", "\\-")
    if s[:1] in (".", "'"):
        s = "\\&" + s
    return s


def inline(s):
    """Markdown inline markup to roff fonts."""
    out, i = [], 0
    pat = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)]+)\)|(?<![\w*])\*(\w[^*]*)\*(?![\w*])")
    for m in pat.finditer(s):
        out.append(esc(s[i:m.start()]))
        if m.group(1) is not None:
            out.append("\\fB" + esc(m.group(1)) + "\\fR")
        elif m.group(2) is not None:
            out.append("\\fB" + esc(m.group(2)) + "\\fR")
        elif m.group(5) is not None:
            out.append("\\fI" + esc(m.group(5)) + "\\fR")
        else:
            out.append(esc(m.group(3)))
        i = m.end()
    out.append(esc(s[i:]))
    text = "".join(out)
    return "\\&" + text if text[:1] in (".", "'") else text


def header(name, section, title):
    return ['.TH %s %s "" "benchctl %s" "%s"' % (name.upper(), section, VERSION, title)]


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def md2roff(md, first_heading_is_title=True):
    """Markdown (the subset the docs use) to roff body lines."""
    out = []
    lines = md.splitlines()
    i, para = 0, []

    def flush():
        if para:
            out.append(".PP")
            out.append(inline(" ".join(para)))
            para.clear()

    skipped_title = not first_heading_is_title
    while i < len(lines):
        line = lines[i]
        if line.startswith("<!--"):  # a comment for the docs' editors
            while i < len(lines) and "-->" not in lines[i]:
                i += 1
            i += 1
            continue
        if line.startswith("```"):
            flush()
            out.append(".PP")
            out.append(".nf")
            out.append(".RS 4")
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(esc(lines[i]) if lines[i] else "")
                i += 1
            out.append(".RE")
            out.append(".fi")
            i += 1
            continue
        m = re.match(r"^(#+)\s+(.*)$", line)
        if m:
            flush()
            level, text = len(m.group(1)), m.group(2)
            if not skipped_title and level == 1:
                skipped_title = True
            elif level <= 2:
                out.append(".SH " + inline(text.upper() if level == 1 else text))
            else:
                out.append(".SS " + inline(text))
            i += 1
            continue
        if line.startswith("|") and i + 1 < len(lines) and re.match(r"^\|[-|: ]+\|?$", lines[i + 1]):
            flush()
            head = cells(line)
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                row = cells(lines[i])
                out.append(".TP")
                out.append(inline(row[0]) if "`" in row[0] else "\\fB" + inline(row[0]) + "\\fR")
                parts = []
                for h, c in zip(head[1:], row[1:]):
                    if len(head) == 2 or h.lower() in ("meaning", "content", "description", ""):
                        parts.append(c)
                    else:
                        parts.append("%s: %s" % (h, c))
                out.append(inline("; ".join(p for p in parts if p)))
                i += 1
            continue
        m = re.match(r"^(\s*)(?:[-*]|\d+\.)\s+(.*)$", line)
        if m and not para:
            flush()
            item = [m.group(2)]
            i += 1
            while i < len(lines) and lines[i].startswith("  ") and lines[i].strip() and \
                    not re.match(r"^\s*(?:[-*]|\d+\.)\s+", lines[i]):
                item.append(lines[i].strip())
                i += 1
            out.append(".IP \\(bu 2")
            out.append(inline(" ".join(item)))
            continue
        if not line.strip():
            flush()
        else:
            para.append(line.strip())
        i += 1
    flush()
    return out


# ---- benchctl(1) -----------------------------------------------------------------

COMMON = ("help", "verbose")


def option_roff(o):
    names = ("\\fB\\-%s\\fR, " % o["letter"] if o["letter"] else "") + "\\fB\\-\\-%s\\fR" % esc(o["name"])
    if o["value"]:
        names += " \\fI%s\\fR" % esc(o["value"])
    return [".TP", names, inline(o["help"]) if o["help"] else ""]


def man1(bench, extra_md, out):
    cli = read_cli(bench)
    desc = cli["usage"].split("\n\n")[1].strip() if "\n\n" in cli["usage"] else ""
    desc = desc.split(":")[0].rstrip(".") or "A benchmark orchestrator"
    r = header("benchctl", 1, "benchctl manual")
    r += [".SH NAME", "benchctl \\- " + esc(desc[:1].lower() + desc[1:])]
    r += [".SH SYNOPSIS", "\\fBbenchctl\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR]",
          ".br", "\\fBbenchctl\\fR \\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR"]
    extra = open(extra_md, encoding="utf-8").read() if extra_md else ""
    parts = re.split(r"^(?=## )", extra, flags=re.M)
    pre = [p for p in parts if p.startswith("## DESCRIPTION")]
    post = [p for p in parts if p.startswith("## ") and not p.startswith("## DESCRIPTION")]
    for p in pre:
        r += md2roff(p, first_heading_is_title=False)
    # The options every command takes (the help lists them under each).
    common = [o for o in cli["commands"][0]["options"] if o["name"] in COMMON]
    if common:
        r += [".SH OPTIONS", ".PP", "Every command takes:"]
        for o in common:
            r += option_roff(o)
        r += [".TP", "\\fB\\-\\-help\\fR, \\fB\\-\\-version\\fR (before any command)",
              "show the list of commands; show the version and the plugin ABI"]
    r += [".SH COMMANDS"]
    for c in cli["commands"]:
        r += [".SS " + esc(c["name"]), ".PP", "\\fB" + esc(c["usage"]) + "\\fR",
              ".PP", inline(c["summary"][:1].upper() + c["summary"][1:] + ".")]
        for o in c["options"]:
            if o["name"] not in COMMON:
                r += option_roff(o)
        if c["notes"]:
            r += [".PP", ".nf"] + [esc(n) for n in c["notes"]] + [".fi"]
    for p in post:
        r += md2roff(p, first_heading_is_title=False)
    write(out, r)


def md2man(src, name, section, out, intro=None):
    md = open(src, encoding="utf-8").read()
    title = re.search(r"^#\s+(.*)$", md, re.M)
    title = title.group(1) if title else name
    if intro:
        title = "benchctl's plugins: the search path, the shipped plugins, writing one"
    r = header(name, section, "benchctl manual")
    r += [".SH NAME", esc(name) + " \\- " + esc(title[:1].lower() + title[1:])]
    if intro:
        r += md2roff(open(intro, encoding="utf-8").read(), first_heading_is_title=False)
    body = md2roff(md)
    if body and not body[0].startswith(".SH"):
        r += [".SH " + ("WRITING A PLUGIN" if intro else "DESCRIPTION")]
    r += body
    r += [".SH SEE ALSO", "\\fBbenchctl\\fR(1), \\fBbenchctl.yaml\\fR(5), \\fBbenchctl\\-plugins\\fR(7)"]
    write(out, r)


def write(out, lines):
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(l for l in lines if l is not None) + "\n")
    os.replace(tmp, out)


# ---- completion ------------------------------------------------------------------

HELP_OPT = {"letter": "h", "name": "help", "value": None, "help": "show this help"}


def all_opts(c):
    """The command's options, with -h/--help even if its help omits it."""
    return c["options"] + ([] if any(o["name"] == "help" for o in c["options"]) else [HELP_OPT])


def opt_words(c):
    w = []
    for o in all_opts(c):
        if o["letter"]:
            w.append("-" + o["letter"])
        w.append("--" + o["name"])
    return w


def takes_file(o):
    return o["value"] in ("FILE",)


def takes_dir(o):
    return o["value"] in ("DIR",)


def completion_bash(cli):
    cmds = [c["name"] for c in cli["commands"]]
    r = ["# bash completion for benchctl (generated by scripts/gendocs.py from `benchctl help`)",
         "_benchctl()", "{",
         "    local cur prev cmd i",
         "    cur=${COMP_WORDS[COMP_CWORD]}",
         "    prev=${COMP_WORDS[COMP_CWORD-1]}",
         "    cmd=",
         "    for ((i = 1; i < COMP_CWORD; i++)); do",
         "        case ${COMP_WORDS[i]} in",
         "            -c|--config|-o|--output-dir|--log-level|--plugin-path) ((i++)) ;;",
         "            -*) ;;",
         "            *) cmd=${COMP_WORDS[i]}; break ;;",
         "        esac",
         "    done",
         "    if [[ -z $cmd ]]; then",
         "        if [[ $cur == -* ]]; then",
         "            COMPREPLY=($(compgen -W '--help --version -c --config' -- \"$cur\"))",
         "        else",
         "            COMPREPLY=($(compgen -W '%s' -- \"$cur\"))" % " ".join(cmds),
         "        fi",
         "        return",
         "    fi",
         "    case $prev in"]
    files, dirs, values = set(), set(), {}
    for c in cli["commands"]:
        for o in c["options"]:
            names = (["-" + o["letter"]] if o["letter"] else []) + ["--" + o["name"]]
            if takes_file(o):
                files.update(names)
            elif takes_dir(o):
                dirs.update(names)
            elif o["name"] == "log-level":
                values["|".join(names)] = "debug info warn error"
    if files:
        r.append("        %s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;" % "|".join(sorted(files)))
    if dirs:
        r.append("        %s) COMPREPLY=($(compgen -d -- \"$cur\")); return ;;" % "|".join(sorted(dirs)))
    for k, v in values.items():
        r.append("        %s) COMPREPLY=($(compgen -W '%s' -- \"$cur\")); return ;;" % (k, v))
    r += ["    esac", "    case $cmd in"]
    for c in cli["commands"]:
        if c["name"] == "help":
            words = " ".join(cmds)
        else:
            words = " ".join(opt_words(c))
        r.append("        %s) COMPREPLY=($(compgen -W '%s' -- \"$cur\")) ;;" % (c["name"], words))
    r += ["    esac",
          "    if [[ $cmd == validate && $cur != -* ]]; then",
          "        COMPREPLY+=($(compgen -f -- \"$cur\"))",
          "    fi",
          "}",
          "complete -F _benchctl benchctl", ""]
    return "\n".join(r)


def zq(s):
    return s.replace("'", "'\\''").replace("[", "\\[").replace("]", "\\]").replace(":", "\\:")


def completion_zsh(cli):
    r = ["#compdef benchctl",
         "# zsh completion for benchctl (generated by scripts/gendocs.py from `benchctl help`)",
         "",
         "_benchctl() {",
         "  local -a commands",
         "  commands=("]
    for c in cli["commands"]:
        r.append("    '%s:%s'" % (c["name"], zq(c["summary"])))
    r += ["  )",
          "  if (( CURRENT == 2 )); then",
          "    _describe -t commands 'benchctl command' commands",
          "    return",
          "  fi",
          "  local cmd=${words[2]}",
          "  shift words; (( CURRENT-- ))",
          "  case $cmd in"]
    for c in cli["commands"]:
        specs = []
        for o in all_opts(c):
            h = zq(o.get("help", "").split(" (")[0][:70])
            act = ""
            if o["value"]:
                kind = "_files" if takes_file(o) else "_files -/" if takes_dir(o) else \
                    "(debug info warn error)" if o["name"] == "log-level" else " "
                act = ":%s:%s" % (o["value"].lower(), kind)
            if o["letter"]:
                specs.append("'(-%s --%s)'{-%s,--%s}'[%s]%s'" % (o["letter"], o["name"], o["letter"],
                                                                o["name"], h, act))
            else:
                specs.append("'--%s[%s]%s'" % (o["name"], h, act))
        if c["name"] == "help":
            specs.append("'1:command:(%s)'" % " ".join(x["name"] for x in cli["commands"]))
        elif c["name"] == "validate":
            specs.append("'1:config file:_files'")
        r.append("    %s) _arguments -s %s ;;" % (c["name"], " ".join(specs)))
    r += ["  esac", "}", "", "_benchctl \"$@\"", ""]
    return "\n".join(r)


def fq(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def completion_fish(cli):
    cmds = [c["name"] for c in cli["commands"]]
    r = ["# fish completion for benchctl (generated by scripts/gendocs.py from `benchctl help`)",
         "complete -c benchctl -f",
         "set -l __bc_cmds %s" % " ".join(cmds)]
    for c in cli["commands"]:
        r.append("complete -c benchctl -n \"not __fish_seen_subcommand_from $__bc_cmds\" -a %s -d %s"
                 % (c["name"], fq(c["summary"])))
    for c in cli["commands"]:
        cond = "-n '__fish_seen_subcommand_from %s'" % c["name"]
        for o in all_opts(c):
            line = "complete -c benchctl %s -l %s" % (cond, o["name"])
            if o["letter"]:
                line += " -s " + o["letter"]
            if o["value"]:
                line += " -r"
                if takes_file(o):
                    line += " -F"
                elif takes_dir(o):
                    line += " -a '(__fish_complete_directories)'"
                elif o["name"] == "log-level":
                    line += " -a 'debug info warn error'"
            line += " -d " + fq(o.get("help", "").split("\n")[0][:70])
            r.append(line)
        if c["name"] == "help":
            r.append("complete -c benchctl %s -a '%s'" % (cond, " ".join(cmds)))
        elif c["name"] == "validate":
            r.append("complete -c benchctl %s -F" % cond)
    return "\n".join(r) + "\n"


def main(argv):
    if len(argv) >= 4 and argv[1] == "man1":
        man1(argv[2], argv[4] if len(argv) > 4 else None, argv[3])
    elif len(argv) in (6, 7) and argv[1] == "md2man":
        md2man(argv[2], argv[3], argv[4], argv[5], argv[6] if len(argv) == 7 else None)
    elif len(argv) == 5 and argv[1] == "completion":
        cli = read_cli(argv[3])
        gen = {"bash": completion_bash, "zsh": completion_zsh, "fish": completion_fish}.get(argv[2])
        if not gen:
            sys.exit("gendocs: unknown shell %s (bash, zsh, fish)" % argv[2])
        write(argv[4], [gen(cli)])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
