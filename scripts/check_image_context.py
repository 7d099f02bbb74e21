#!/usr/bin/python3
"""check_image_context.py — what `make install` reads must be in the image's
build context (`make lint`).

.dockerignore is an allowlist, so a file added to the install target but not
to the list builds everywhere except in the image, and the image tier is the
last thing `make test` runs.  This copies the tracked files the allowlist lets
in to a scratch tree, puts the already built binary beside them, and runs
`make install` there: a missing file fails here, in seconds, naming itself.

    scripts/check_image_context.py KGATE_BIN
"""
import fnmatch
import os
import shutil
import subprocess
import sys
import tempfile


def context_rules(path):
    """The .dockerignore patterns in order: (pattern, excluded?)."""
    rules = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("!"):
                rules.append((line[1:], False))
            else:
                rules.append((line, True))
    return rules


def in_context(name, rules):
    # As the builders read it: the last pattern that matches decides.  A
    # pattern's '*' stays within one path segment, as in Go's filepath.Match.
    excluded = False
    parts = name.split("/")
    for pattern, excl in rules:
        pparts = pattern.split("/")
        if len(pparts) == 1 and pattern == "*":
            excluded = excl
        elif len(pparts) == len(parts) and all(
                fnmatch.fnmatchcase(p, q) for p, q in zip(parts, pparts)):
            excluded = excl
    return not excluded


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_image_context.py KGATE_BIN")
    kgate = os.path.abspath(sys.argv[1])
    rules = context_rules(".dockerignore")
    files = subprocess.run(["git", "ls-files", "-z"], check=True,
                           capture_output=True).stdout.decode().split("\0")
    kept = [f for f in files if f and in_context(f, rules)]
    with tempfile.TemporaryDirectory() as tmp:
        tree = os.path.join(tmp, "context")
        for f in kept:
            os.makedirs(os.path.join(tree, os.path.dirname(f)), exist_ok=True)
            shutil.copy2(f, os.path.join(tree, f))
        os.makedirs(os.path.join(tree, "build"))
        shutil.copy2(kgate, os.path.join(tree, "build", "kgate"))
        # -o: the binary is taken as built; only the install recipe runs.
        r = subprocess.run(["make", "-s", "-C", tree, "-o", "build/kgate",
                            "install", "DESTDIR=" + os.path.join(tmp, "out"),
                            "PREFIX=/usr/local"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stdout + r.stderr)
            sys.exit("check_image_context: `make install` fails in the image's "
                     "build context (%d files let in by .dockerignore); "
                     "allow what it reads there" % len(kept))
    print("check_image_context: make install works on the %d files the "
          "image's build context holds" % len(kept))


if __name__ == "__main__":
    main()
