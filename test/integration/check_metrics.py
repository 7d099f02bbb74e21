#!/usr/bin/python3
"""check_metrics.py — validates a Prometheus text exposition with an
independent parser (the prometheus_client package, Debian's
python3-prometheus-client), then checks expectations about its samples.

    check_metrics.py FILE [EXPECTATION ...]

An expectation is `name{label="value",...} OP number`, OP one of > >= ==
<; the labels given must match a sample's (others may be present).
Exits 1, saying why, on a parse error, a family without samples where one
was expected, or an expectation not met.
"""
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

EXPECT = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s*(>=|==|>|<)\s*([-0-9.e+]+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"')


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    samples = []
    families = 0
    try:
        for family in text_string_to_metric_families(text):
            families += 1
            if family.type not in ("counter", "gauge", "histogram", "summary", "untyped"):
                sys.exit(f"check_metrics: {family.name}: type {family.type}")
            samples.extend(family.samples)
    except ValueError as e:
        sys.exit(f"check_metrics: not valid Prometheus text: {e}")
    for exp in sys.argv[2:]:
        m = EXPECT.match(exp)
        if not m:
            sys.exit(f"check_metrics: bad expectation {exp!r}")
        name, labels, op, want = m.group(1), dict(LABEL.findall(m.group(2) or "")), m.group(3), float(m.group(4))
        got = [s.value for s in samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
        if not got:
            sys.exit(f"check_metrics: no sample {name}{labels}")
        value = sum(got)
        ok = {">": value > want, ">=": value >= want, "==": value == want, "<": value < want}[op]
        if not ok:
            sys.exit(f"check_metrics: {name}{labels} is {value}, expected {op} {want}")
    print(f"check_metrics: {families} families, {len(samples)} samples, "
          f"{len(sys.argv) - 2} expectations met")


if __name__ == "__main__":
    main()
