"""The schema of every (api, version) in the plan, and the frame codec.

A frame is a response without its 4-byte size: response header, then body.
"""

import os

from .kgate import SCHEMA_BASENAMES
from .schema import MessageSpec, SchemaError
from .wire import CodecError, Reader, dec_struct, enc_struct, known_tagged


class Protocol:
    """The schemas for every (api, version) we generate, and frame codec."""

    def __init__(self, shared_dir, new_dir):
        self.header = MessageSpec(os.path.join(shared_dir, "ResponseHeader.json"), "shared")
        self.specs = {}
        for api, base in SCHEMA_BASENAMES.items():
            shared = MessageSpec(os.path.join(shared_dir, base + ".json"), "shared")
            new = MessageSpec(os.path.join(new_dir, base + ".json"), "kafka-clients-4.4.0")
            if shared.api_key != api or new.api_key != api:
                raise SchemaError(f"{base}: unexpected apiKey")
            self.specs[api] = (shared, new)

    def spec(self, api, version):
        # The shared trunk snapshot is authoritative for every version it
        # lists; the 4.4.0 jar is only used for versions beyond it.
        shared, new = self.specs[api]
        if version in shared.valid:
            return shared
        if version in new.valid:
            return new
        raise SchemaError(f"api {api} v{version} is in neither schema")

    def flexible(self, api, version):
        return version in self.spec(api, version).flexible

    def header_version(self, api, version):
        # ApiVersions responses always use header v0 so that a client can parse
        # the error even when it sent a version the broker does not know.
        if api == 18:
            return 0
        return 1 if self.flexible(api, version) else 0

    def encode_frame(self, api, version, header, body):
        hv = self.header_version(api, version)
        out = bytearray()
        enc_struct(self.header.fields, header, hv, hv in self.header.flexible, out)
        mark = {}
        enc_struct(self.spec(api, version).fields, body, version, self.flexible(api, version), out, mark)
        return bytes(out), mark.get("tail_offset")

    def decode_frame(self, api, version, data):
        hv = self.header_version(api, version)
        r = Reader(data)
        header = dec_struct(self.header.fields, r, hv, hv in self.header.flexible)
        mark = {}
        body = dec_struct(self.spec(api, version).fields, r, version, self.flexible(api, version), mark)
        if r.remaining():
            raise CodecError(f"{r.remaining()} trailing bytes after body")
        return header, body, mark.get("tail_offset")


def node_endpoints_field(proto, version):
    """The FieldSpec of Fetch's top-level tagged field 0 (NodeEndpoints) at version."""
    f = known_tagged(proto.spec(1, version).fields, version).get(0)
    assert f is not None and f.name == "NodeEndpoints"
    return f
