#!/usr/bin/env python3
"""--help on every command of the `prism` CLI, and the help against the parser and the docs.

usage: cli_help.py PRISM SOURCE_ROOT

- `prism --help` lists every command on one line each and exits 0;
- `prism CMD --help` (and `prism GROUP --help`) exits 0 and prints a usage line, every option
  with its default (or "required"), and an example;
- every option the help lists is accepted by the parser, an unlisted one is refused;
- every option spelled in the CLI's sources is listed by some command's help, and every option
  of a command is documented in its section of docs/cli.md;
- `--threads` above the library's limit is refused with a message naming the limit;
- `prism version` reports the Unicode version of the tokenizer's character tables.
"""
import os
import re
import subprocess
import sys
import tempfile

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL " + what)


def run(prism, *args):
    return subprocess.run([prism, *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def listed_commands(text):
    """The command names of `prism --help` (the lines under "commands:")."""
    names, on = [], False
    for line in text.splitlines():
        if line.strip() == "commands:":
            on = True
        elif on and line.startswith("  ") and line.strip():
            names.append(re.split(r"\s{2,}", line.strip())[0])
        elif on and not line.strip() and names:
            break
    return names


def options_of(help_text):
    """{option: (placeholder or None, its whole entry)} from the "options:" section."""
    entries, on = [], False
    for line in help_text.splitlines():
        if line.strip() == "options:":
            on = True
        elif on and re.match(r"^  --", line):
            entries.append(line.strip())
        elif on and re.match(r"^ {4,}\S", line) and entries:
            entries[-1] += " " + line.strip()  # a wrapped description
        elif on and not line.strip():
            break
    opts = {}
    for e in entries:
        m = re.match(r"(--[a-z0-9-]+)(?: ([^ ]+))?\s{2,}", e)
        if m:
            opts[m.group(1)] = (m.group(2), e)
    return opts


def docs_section(docs, command):
    """The text of docs/cli.md under the heading that names `prism COMMAND`."""
    parts = re.split(r"^## ", docs, flags=re.M)
    for part in parts:
        heading = part.splitlines()[0] if part else ""
        if re.search(r"`prism " + re.escape(command) + r"`", heading):
            return part
    return ""


def check_command(prism, command, docs, tmp):
    words = command.split()
    r = run(prism, *words, "--help")
    check(r.returncode == 0, f"prism {command} --help exits 0 (got {r.returncode}: {r.stderr})")
    out = r.stdout
    check(out.startswith(f"usage: prism {command}"), f"prism {command} --help starts with usage")
    check("\nexample:\n  " in out and re.search(r"\bprism " + re.escape(command), out.split(
        "\nexample:\n", 1)[-1]) is not None, f"prism {command} --help gives an example")
    opts = options_of(out)
    check("--help" in opts, f"prism {command} --help lists --help")
    section = docs_section(docs, command)
    check(section != "", f"docs/cli.md has a section for prism {command}")
    for name, (arg, entry) in opts.items():
        if name == "--help":
            continue
        check("(required)" in entry or "(default: " in entry,
              f"prism {command} {name}: the help gives its default ({entry!r})")
        args = [name] + (["1"] if arg else [])
        r = run(prism, *words, *args, "--help")
        check(r.returncode == 0 and r.stdout == out,
              f"prism {command}: the parser accepts the listed {name} ({r.stderr.strip()})")
        check(name in section, f"docs/cli.md documents prism {command} {name}")
    r = run(prism, *words, "--no-such-option", "--help")
    check(r.returncode == 1 and "unknown option --no-such-option" in r.stderr,
          f"prism {command} refuses an unlisted option ({r.returncode}: {r.stderr.strip()})")
    if "--threads" in opts:
        # Required options get values of the right kind so that --threads is what fails.
        args = []
        for name, (arg, entry) in opts.items():
            if "(required)" in entry:
                args += [name, tmp if arg == "DIR" else "x"]
        r = run(prism, *words, *args, "--threads", "1000")
        check(r.returncode == 1 and "--threads" in r.stderr and "256" in r.stderr,
              f"prism {command} --threads 1000 is refused naming the limit ({r.stderr.strip()})")
        r = run(prism, *words, *args, "--threads", "lots")
        check(r.returncode == 1 and "--threads" in r.stderr,
              f"prism {command} --threads lots is refused")
    return set(opts)


def main():
    prism, root = sys.argv[1], sys.argv[2]
    with open(os.path.join(root, "docs", "cli.md"), encoding="utf-8") as f:
        docs = f.read()
    r = run(prism, "--help")
    check(r.returncode == 0 and r.stdout.startswith("usage: prism"), "prism --help exits 0 with usage")
    commands = listed_commands(r.stdout)
    check(len(commands) >= 9, f"prism --help lists the commands ({commands})")
    for line in r.stdout.splitlines():
        if line.startswith("  ") and re.split(r"\s{2,}", line.strip())[0] in commands:
            check(len(re.split(r"\s{2,}", line.strip())) == 2, f"one line per command: {line!r}")
    r = run(prism)
    check(r.returncode == 2 and "usage: prism" in r.stderr, "prism alone prints usage, exits 2")
    r = run(prism, "version")
    check(r.returncode == 0 and re.search(r"^unicode: \d+\.\d+\.\d+ ", r.stdout, re.M) is not None,
          f"prism version reports the tokenizer's Unicode version ({r.stdout!r})")

    groups = sorted({c.split()[0] for c in commands if " " in c})
    for group in groups:
        r = run(prism, group, "--help")
        subs = [c for c in commands if c.startswith(group + " ")]
        check(r.returncode == 0 and all(s in r.stdout for s in subs),
              f"prism {group} --help lists {subs}")
        r = run(prism, group)
        check(r.returncode == 2 and "subcommand" in r.stderr, f"prism {group} alone exits 2")

    seen = set()
    with tempfile.TemporaryDirectory() as tmp:
        for command in commands:
            seen |= check_command(prism, command, docs, tmp)

    # An option the code spells that no help lists would be one the table does not drive.
    src = os.path.join(root, "examples", "prism")
    spelled = set()
    for name in os.listdir(src):
        if name.endswith(".c"):
            with open(os.path.join(src, name), encoding="utf-8") as f:
                spelled |= set(re.findall(r'"(--[a-z][a-z0-9-]*)', f.read()))
    missing = spelled - seen - {"--help", "--version"}
    check(not missing, f"options in the sources but in no command's help: {sorted(missing)}")

    print(f"{len(commands)} commands checked; {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
