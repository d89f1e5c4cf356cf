#!/usr/bin/env python3
"""Finds lit RUN lines whose FileCheck run would pass on empty output.

A FileCheck run whose check prefixes have only CHECK-NOT directives in its
check file passes when the checked command prints nothing at all (it
crashed before printing, printed to the other stream, or was never run).
Every such run needs at least one positive directive that pins the output
being there.

  check-filecheck-runs.py TEST_ROOT [FILE...]

Checks every .mlir, .nl and .test file under TEST_ROOT (or only the FILEs
given), prints one line per negative-only run (file:line: prefixes) and
exits 1 if there is any. Runs through `not FileCheck` and runs that read a
check file other than the test itself are checked the same way.
"""

import os
import re
import shlex
import sys

SUFFIXES = (".mlir", ".nl", ".test")
EXCLUDED_DIRS = {"Inputs", "reference", "models"}
DIRECTIVE = r"(?:-NEXT|-SAME|-DAG|-NOT|-LABEL|-EMPTY|-COUNT-\d+)?"


def run_lines(path):
    """(line number, command) for each RUN line of `path`, continuations
    (a trailing backslash) joined."""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    runs, pending, start = [], "", 0
    for number, line in enumerate(lines, 1):
        m = re.search(r"\bRUN:(.*)$", line)
        if not m:
            continue
        text = m.group(1).strip()
        if not pending:
            start = number
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        runs.append((start, pending + text))
        pending = ""
    return runs


def filecheck_invocations(command):
    """The argument lists of every FileCheck in a RUN command."""
    try:
        words = shlex.split(command, posix=True)
    except ValueError:
        words = command.split()
    invocations, current = [], None
    for word in words:
        if word in ("|", "&&", "||", ";"):
            if current is not None:
                invocations.append(current)
            current = None
            continue
        if current is not None:
            current.append(word)
        elif os.path.basename(word) == "FileCheck":
            current = []
    if current is not None:
        invocations.append(current)
    return invocations


def prefixes_and_check_file(args):
    prefixes, check_file = [], None
    i = 0
    while i < len(args):
        a = args[i]
        value = None
        for flag in ("--check-prefix", "-check-prefix", "--check-prefixes",
                     "-check-prefixes"):
            if a == flag and i + 1 < len(args):
                value = args[i + 1]
                i += 1
            elif a.startswith(flag + "="):
                value = a[len(flag) + 1:]
        if value is not None:
            prefixes.extend(p for p in value.split(",") if p)
        elif a in ("--input-file", "-input-file", "--implicit-check-not",
                   "-implicit-check-not", "--dump-input", "-dump-input"):
            i += 1  # skip the option's value
        elif not a.startswith("-") and check_file is None:
            check_file = a
        i += 1
    return prefixes or ["CHECK"], check_file


def resolve(check_file, test_path):
    d = os.path.dirname(test_path)
    path = (check_file.replace("%s", test_path).replace("%S", d)
            .replace("%p", d))
    return path if os.path.isfile(path) else None


def directives(path, prefixes):
    """The directive kinds used in `path` for `prefixes`."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    alternatives = "|".join(re.escape(p) for p in prefixes)
    pattern = re.compile(r"(?<![\w-])(" + alternatives + r")(" + DIRECTIVE +
                         r"):")
    return [m.group(2) for m in pattern.finditer(text)]


def check(path):
    problems = []
    for number, command in run_lines(path):
        for args in filecheck_invocations(command):
            prefixes, check_file = prefixes_and_check_file(args)
            target = resolve(check_file, path) if check_file else None
            if target is None:
                continue
            kinds = directives(target, prefixes)
            if kinds and all(k == "-NOT" for k in kinds):
                problems.append("%s:%d: FileCheck --check-prefixes=%s has "
                                "only -NOT directives" %
                                (path, number, ",".join(prefixes)))
    return problems


def test_files(root):
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(s for s in subdirs if s not in EXCLUDED_DIRS)
        for name in sorted(files):
            if name.endswith(SUFFIXES):
                yield os.path.join(directory, name)


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    files = argv[2:] or list(test_files(argv[1]))
    problems = [p for f in files for p in check(f)]
    for p in problems:
        print(p)
    print("check-filecheck-runs: %d files, %d negative-only runs" %
          (len(files), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
