#!/usr/bin/env python3
"""Generate kgate's rewrite test vectors: the entry point of scripts/gen_vectors/.

Usage (from the repository root):
    scripts/fetch-kafka-schemas.sh build/kafka-schemas-4.4.0
    scripts/gen_vectors.py                       # writes test/vectors/rewrite.json
    scripts/gen_vectors.py --check               # regenerate in memory, compare with the file
    scripts/gen_vectors.py --verify FILE         # re-run the self-checks on an existing file

The code lives in the package scripts/gen_vectors/ (see its __init__.py).
Python imports the package, not this file, for "gen_vectors": a package
directory takes precedence over a module of the same name.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from gen_vectors.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
