"""Command line: write rewrite.json, --check it, or --verify a file."""

import argparse
import json
import os
import sys

from . import __doc__ as package_doc
from .checks import check_vector
from .kgate import MAPPING
from .protocol import Protocol
from .schema import find_new_schema_dir
from .vectors import generate, render, summary

DEFAULT_SEED = 12345

# The repository root: scripts/gen_vectors/cli.py -> scripts/gen_vectors -> scripts -> root.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def differences(old_text, new_text, limit=10):
    """What --check found: how the file differs from the generator's output."""
    try:
        old = json.loads(old_text)
        new = json.loads(new_text)
        out = [f"{key} differs" for key in sorted(set(old) | set(new))
               if key != "vectors" and old.get(key) != new.get(key)]
        old_v = {v["name"]: v for v in old["vectors"]}
        new_v = {v["name"]: v for v in new["vectors"]}
        if len(old_v) != len(old["vectors"]):
            out.append("the file repeats a vector name")
        out += [f"vector {n}: not in the file" for n in new_v if n not in old_v]
        out += [f"vector {n}: no longer generated" for n in old_v if n not in new_v]
        for n, v in new_v.items():
            if n in old_v and old_v[n] != v:
                keys = [k for k in sorted(set(old_v[n]) | set(v)) if old_v[n].get(k) != v.get(k)]
                out.append(f"vector {n} differs in {', '.join(keys)}")
        if not out and list(old_v) != list(new_v):
            out.append("the vectors are in a different order")
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        return [f"the file is not a vector file ({type(e).__name__}: {e})"]
    if not out:
        out.append("same content, different formatting")
    return out[:limit] + ([f"... and {len(out) - limit} more"] if len(out) > limit else [])


def main():
    if not __debug__:
        sys.exit("error: do not run with python -O; the self-checks are assert statements")
    ap = argparse.ArgumentParser(description=package_doc.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "kafka-protocol"),
                    help="Kafka trunk schema directory (default: ../shared/kafka-protocol)")
    ap.add_argument("--kafka44", default=os.path.join(ROOT, "build", "kafka-schemas-4.4.0"),
                    help="kafka-clients 4.4.0 schemas (scripts/fetch-kafka-schemas.sh output)")
    ap.add_argument("--out", default=os.path.join(ROOT, "test", "vectors", "rewrite.json"))
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--check", action="store_true", help="do not write; fail if --out differs")
    ap.add_argument("--verify", metavar="FILE", help="only re-run the self-checks on FILE")
    args = ap.parse_args()

    new_dir = find_new_schema_dir(args.kafka44)
    for d in (args.shared, new_dir):
        if not os.path.isfile(os.path.join(d, "FetchResponse.json")):
            sys.exit(f"error: no Kafka schemas in {d} (see scripts/fetch-kafka-schemas.sh)")
    proto = Protocol(args.shared, new_dir)

    if args.verify:
        with open(args.verify) as fh:
            doc = json.load(fh)
        assert doc["mapping"] == [{"node_id": k, "host": h, "port": p} for k, (h, p) in sorted(MAPPING.items())], \
            f"{args.verify}: its mapping is not the one in gen_vectors/kgate.py"
        for vec in doc["vectors"]:
            check_vector(proto, vec)
        print(f"verified {len(doc['vectors'])} vectors in {args.verify}")
        return

    vectors = generate(proto, args.seed)
    text = render(proto, args.seed, vectors)
    if args.check:
        with open(args.out) as fh:
            old = fh.read()
        if old != text:
            for line in differences(old, text):
                print(f"  {line}", file=sys.stderr)
            sys.exit(f"error: {args.out} is out of date; rerun scripts/gen_vectors.py")
        print(f"{args.out} is up to date")
        return
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        fh.write(text)
    print(summary(vectors, len(text)))
