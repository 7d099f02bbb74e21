#!/usr/bin/env python3
"""check_layers.py — the source tree's shape, checked in `make test`.

- No include cycle between modules: a module is a .c file and its .h
  (gateway/pair.c + gateway/pair.h; a private X_internal.h belongs to X),
  and module A depends on B when a file of A includes B's header.  A cycle means two modules cannot be understood,
  tested or replaced apart — what kgate's data path was before it was split.
- Layers: protocol/ includes nothing of config/ or gateway/ (it is pure
  bytes in, bytes out); config/ includes nothing of gateway/.
- Small files: no file in gateway/ over MAX_LINES lines.

Prints every violation and exits 1 if there is any.
"""
import os
import re
import sys

MAX_LINES = 600
DIRS = ("protocol", "config", "gateway")
# Which directories each may include from.
ALLOWED = {"protocol": {"protocol"}, "config": {"protocol", "config"},
           "gateway": {"protocol", "config", "gateway"}}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module_of(path):
    """The module a file belongs to: its stem, X_internal.h counting as X."""
    stem = path[:-2]
    return stem[:-len("_internal")] if stem.endswith("_internal") else stem


def modules(root):
    """{module: set of modules it depends on}, and a list of layer errors."""
    deps, errors = {}, []
    for d in DIRS:
        for name in sorted(os.listdir(os.path.join(root, d))):
            if not name.endswith((".c", ".h")):
                continue
            mod = module_of(f"{d}/{name}")
            deps.setdefault(mod, set())
            with open(os.path.join(root, d, name), encoding="utf-8") as f:
                text = f.read()
            for inc in INCLUDE.findall(text):
                target = os.path.normpath(os.path.join(d, inc))
                tdir = target.split(os.sep)[0]
                if tdir not in ALLOWED[d]:
                    errors.append(f"{d}/{name}: includes {inc} (from {tdir}/, "
                                  f"which {d}/ must not depend on)")
                tmod = module_of(target)
                if tmod != mod:
                    deps[mod].add(tmod)
    return deps, errors


def cycles(deps):
    """Every dependency cycle, each as a list of modules."""
    found, state, stack = [], {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(deps.get(m, ())):
            if state.get(n) == 1:
                found.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(deps):
        if m not in state:
            visit(m)
    return found


def main():
    root = os.environ.get("KGATE_SRC") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    deps, errors = modules(root)
    for c in cycles(deps):
        errors.append("include cycle: " + " -> ".join(c))
    gw = os.path.join(root, "gateway")
    for name in sorted(os.listdir(gw)):
        if name.endswith((".c", ".h")):
            with open(os.path.join(gw, name), encoding="utf-8") as f:
                n = sum(1 for _ in f)
            if n > MAX_LINES:
                errors.append(f"gateway/{name}: {n} lines (split it: at most {MAX_LINES})")
    for e in errors:
        print(f"check_layers: {e}", file=sys.stderr)
    if errors:
        return 1
    print(f"check_layers: {len(deps)} modules, no cycles, layers kept, "
          f"gateway/ files within {MAX_LINES} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
