"""The Kafka wire codec: primitives, and structs driven by schema fields.

Values are plain Python: ints, bools, str, bytes (bytes/records/uuid), None,
lists, and dicts for structs. A struct dict may also carry its tagged-field
section in one of two forms:
  "_tf":      [[tag, raw_or_None], ...] exact wire order; raw None means a
              known tagged field whose value is under its field name. The
              decoder always produces this form, so re-encoding a decoded
              value reproduces the original order (even non-ascending).
  "_unknown": [(tag, raw), ...] unknown fields to add; the encoder then
              writes known + unknown fields in ascending tag order (what
              Kafka's own serializer does).
"""

import struct

from .schema import SchemaError


class CodecError(Exception):
    pass


INT_FORMATS = {"int8": ">b", "int16": ">h", "uint16": ">H", "int32": ">i",
               "uint32": ">I", "int64": ">q", "float64": ">d"}


def uvarint(n):
    if n < 0 or n > 0xFFFFFFFF:
        raise CodecError(f"uvarint out of range: {n}")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


class Reader:
    def __init__(self, data, pos=0):
        self.data = data
        self.pos = pos

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise CodecError(f"need {n} bytes at offset {self.pos}, have {len(self.data) - self.pos}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return bytes(b)

    def uvarint(self):
        result, shift = 0, 0
        for i in range(5):
            b = self.take(1)[0]
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                if i > 0 and b == 0:
                    raise CodecError("non-minimal uvarint")
                return result
            shift += 7
        raise CodecError("uvarint longer than 5 bytes")

    def fmt(self, f):
        size = struct.calcsize(f)
        return struct.unpack(f, self.take(size))[0]

    def remaining(self):
        return len(self.data) - self.pos


def enc_prim(t, v, nullable, flex, out):
    if t == "bool":
        if not isinstance(v, bool):
            raise CodecError(f"bool expected, got {v!r}")
        out += b"\x01" if v else b"\x00"
    elif t in INT_FORMATS:
        out += struct.pack(INT_FORMATS[t], v)
    elif t == "uuid":
        if not isinstance(v, bytes) or len(v) != 16:
            raise CodecError("uuid must be 16 bytes")
        out += v
    elif t in ("string", "bytes", "records"):
        if v is None:
            if not nullable:
                raise CodecError(f"null {t} in non-nullable field")
            out += uvarint(0) if flex else struct.pack(">h" if t == "string" else ">i", -1)
            return
        b = v.encode("utf-8") if t == "string" else v
        if t == "string" and not isinstance(v, str):
            raise CodecError("str expected")
        if flex:
            out += uvarint(len(b) + 1)
        elif t == "string":
            if len(b) > 0x7FFF:
                raise CodecError("string too long")
            out += struct.pack(">h", len(b))
        else:
            out += struct.pack(">i", len(b))
        out += b
    else:
        raise CodecError(f"unknown primitive {t}")


def dec_prim(t, r, nullable, flex):
    if t == "bool":
        b = r.take(1)[0]
        if b > 1:
            raise CodecError(f"bad bool {b}")
        return b == 1
    if t in INT_FORMATS:
        return r.fmt(INT_FORMATS[t])
    if t == "uuid":
        return r.take(16)
    if t in ("string", "bytes", "records"):
        if flex:
            n = r.uvarint() - 1
        else:
            n = r.fmt(">h" if t == "string" else ">i")
        if n < 0:
            if n != -1 or not nullable:
                raise CodecError(f"null/negative length {n} for {t} (nullable={nullable})")
            return None
        b = r.take(n)
        return b.decode("utf-8") if t == "string" else b
    raise CodecError(f"unknown primitive {t}")


def enc_field(f, v, version, flex, out):
    nullable = version in f.nullable
    if f.is_array:
        if v is None:
            if not nullable:
                raise CodecError(f"null array {f.name}")
            out += uvarint(0) if flex else struct.pack(">i", -1)
            return
        out += uvarint(len(v) + 1) if flex else struct.pack(">i", len(v))
        for e in v:
            if f.fields is not None:
                enc_struct(f.fields, e, version, flex, out)
            else:
                enc_prim(f.elem, e, False, flex, out)
    elif f.fields is not None:
        if nullable:
            raise CodecError(f"nullable struct field {f.name} is not supported")
        enc_struct(f.fields, v, version, flex, out)
    else:
        enc_prim(f.elem, v, nullable, flex, out)


def dec_field(f, r, version, flex):
    nullable = version in f.nullable
    if f.is_array:
        if flex:
            n = r.uvarint() - 1
        else:
            n = r.fmt(">i")
        if n < 0:
            if n != -1 or not nullable:
                raise CodecError(f"null/negative array {f.name} ({n})")
            return None
        if n > r.remaining():
            raise CodecError(f"array {f.name} count {n} exceeds remaining bytes")
        if f.fields is not None:
            return [dec_struct(f.fields, r, version, flex) for _ in range(n)]
        return [dec_prim(f.elem, r, False, flex) for _ in range(n)]
    if f.fields is not None:
        if nullable:
            raise CodecError(f"nullable struct field {f.name} is not supported")
        return dec_struct(f.fields, r, version, flex)
    return dec_prim(f.elem, r, nullable, flex)


def known_tagged(fields, version):
    return {f.tag: f for f in fields if version in f.versions and version in f.tagged}


def enc_struct(fields, val, version, flex, out, mark=None):
    if not isinstance(val, dict):
        raise CodecError(f"struct expected, got {type(val).__name__}")
    allowed = {"_tf", "_unknown"}
    for f in fields:
        if version not in f.versions:
            continue
        allowed.add(f.name)
        if f.is_tagged(version):
            if not flex:
                raise SchemaError(f"tagged field {f.name} in non-flexible version {version}")
            continue
        if f.name not in val:
            raise CodecError(f"missing field {f.name} (v{version})")
        enc_field(f, val[f.name], version, flex, out)
    extra = set(val) - allowed
    if extra:
        raise CodecError(f"fields not valid at v{version}: {sorted(extra)}")
    if not flex:
        if "_tf" in val or "_unknown" in val:
            raise CodecError("tagged fields in a non-flexible version")
        return
    if mark is not None:
        mark["tail_offset"] = len(out)
    known = known_tagged(fields, version)
    if "_tf" in val:
        if "_unknown" in val:
            raise CodecError("both _tf and _unknown")
        entries = [(t, raw) for t, raw in val["_tf"]]
    else:
        entries = [(f.tag, None) for f in known.values() if f.name in val]
        entries += [(t, raw) for t, raw in val.get("_unknown", [])]
        entries.sort(key=lambda e: e[0])  # stable: keeps generator order on ties
    seen = set()
    for tag, raw in entries:
        if raw is None:
            if tag not in known or tag in seen:
                raise CodecError(f"bad known tag entry {tag}")
            seen.add(tag)
        elif tag in known:
            raise CodecError(f"raw bytes given for known tag {tag}")
    present = {f.tag for f in known.values() if f.name in val}
    if present != seen:
        raise CodecError(f"tagged fields present {sorted(present)} but listed {sorted(seen)}")
    out += uvarint(len(entries))
    for tag, raw in entries:
        if raw is None:
            data = bytearray()
            enc_field(known[tag], val[known[tag].name], version, flex, data)
        else:
            data = raw
        out += uvarint(tag) + uvarint(len(data)) + bytes(data)


def dec_struct(fields, r, version, flex, mark=None):
    val = {}
    for f in fields:
        if version not in f.versions or (flex and f.is_tagged(version)):
            continue
        val[f.name] = dec_field(f, r, version, flex)
    if not flex:
        return val
    if mark is not None:
        mark["tail_offset"] = r.pos
    known = known_tagged(fields, version)
    n = r.uvarint()
    tf = []
    for _ in range(n):
        tag = r.uvarint()
        size = r.uvarint()
        data = r.take(size)
        if tag in known:
            f = known[tag]
            if f.name in val:
                raise CodecError(f"duplicate known tag {tag}")
            sub = Reader(data)
            val[f.name] = dec_field(f, sub, version, flex)
            if sub.remaining():
                raise CodecError(f"tagged field {f.name} has {sub.remaining()} trailing bytes")
            tf.append([tag, None])
        else:
            tf.append([tag, data])
    val["_tf"] = tf
    return val


def parse_tagged_section(data, off):
    """Raw [(tag, bytes)] of a tagged section that must run to the end of data."""
    r = Reader(data, off)
    n = r.uvarint()
    items = []
    for _ in range(n):
        tag = r.uvarint()
        size = r.uvarint()
        items.append((tag, r.take(size)))
    if r.remaining():
        raise CodecError(f"{r.remaining()} bytes after the top-level tagged section")
    return items


def build_tagged_section(items):
    out = bytearray(uvarint(len(items)))
    for tag, raw in items:
        out += uvarint(tag) + uvarint(len(raw)) + raw
    return bytes(out)
