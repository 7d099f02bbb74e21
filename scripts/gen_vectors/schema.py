"""Kafka's JSON message schemas: loading, version ranges and fields.

MessageSpec reads one schema file (MetadataResponse.json, ...) and keeps its
SHA-256, so that rewrite.json can say which file each vector came from.
"""

import hashlib
import json
import os

class SchemaError(Exception):
    pass


def strip_json_comments(text):
    """Remove // and /* */ comments (Kafka schemas use //) outside strings."""
    out = []
    i, n = 0, len(text)
    in_str = False
    while i < n:
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_str = False
            i += 1
        elif c == '"':
            in_str = True
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise SchemaError("unterminated /* comment")
            i = j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


class VersionRange:
    """A Kafka schema version range: "none", "N", "N+", "A-B"."""

    def __init__(self, text):
        text = (text or "none").strip()
        self.text = text
        if text == "none":
            self.lo, self.hi = 1, 0
        elif text.endswith("+"):
            self.lo, self.hi = int(text[:-1]), None
        elif "-" in text:
            a, b = text.split("-")
            self.lo, self.hi = int(a), int(b)
        else:
            self.lo = self.hi = int(text)

    def __contains__(self, v):
        return v >= self.lo and (self.hi is None or v <= self.hi)

    def __str__(self):
        return self.text


PRIMITIVES = {"bool", "int8", "int16", "uint16", "int32", "uint32", "int64",
              "float64", "string", "bytes", "records", "uuid"}


class FieldSpec:
    def __init__(self, d, common):
        self.name = d["name"]
        self.type = d["type"]
        if "versions" not in d:
            raise SchemaError(f"field {self.name} has no versions")
        self.versions = VersionRange(d["versions"])
        self.nullable = VersionRange(d.get("nullableVersions"))
        self.tagged = VersionRange(d.get("taggedVersions"))
        self.tag = d.get("tag")
        if ("tag" in d) != ("taggedVersions" in d):
            raise SchemaError(f"field {self.name}: tag and taggedVersions must come together")
        self.is_array = self.type.startswith("[]")
        self.elem = self.type[2:] if self.is_array else self.type
        if self.elem in PRIMITIVES:
            if "fields" in d:
                raise SchemaError(f"primitive field {self.name} has sub-fields")
            self.fields = None
        elif "fields" in d:
            self.fields = [FieldSpec(x, common) for x in d["fields"]]
        elif self.elem in common:
            # commonStructs are shared definitions referenced by name.
            self.fields = [FieldSpec(x, common) for x in common[self.elem]["fields"]]
        else:
            raise SchemaError(f"field {self.name}: unknown type {self.type}")

    def is_tagged(self, version):
        return version in self.tagged

    def child(self, name):
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


class MessageSpec:
    def __init__(self, path, origin):
        with open(path, "rb") as fh:
            raw = fh.read()
        self.path = path
        self.origin = origin
        self.sha256 = hashlib.sha256(raw).hexdigest()
        d = json.loads(strip_json_comments(raw.decode("utf-8")))
        self.name = d["name"]
        self.api_key = d.get("apiKey")
        self.valid = VersionRange(d["validVersions"])
        self.flexible = VersionRange(d["flexibleVersions"])
        common = {c["name"]: c for c in d.get("commonStructs", [])}
        self.fields = [FieldSpec(f, common) for f in d["fields"]]

    def field(self, name):
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def find_new_schema_dir(path):
    # Accept both the flat layout of fetch-kafka-schemas.sh and a raw jar
    # extraction (DIR/common/message/*.json).
    nested = os.path.join(path, "common", "message")
    return nested if os.path.isdir(nested) else path
