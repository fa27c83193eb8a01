#!/usr/bin/env python3
"""Independent reader for rapko-test's checks: splits .apk / APKINDEX.tar.gz files into
their gzip members with zlib, parses each tar with the standard `tarfile` module and walks
the raw header blocks, then prints one JSON document. Written for these tests only.

usage: apkcheck.py describe FILE OUTDIR
  Writes OUTDIR/member<N>.gz (compressed bytes) and, for a member holding a signature
  entry, OUTDIR/member<N>.sig (the signature) so openssl can verify them.
"""
import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import zlib


def split_members(data):
    """Returns [(compressed, uncompressed)] for each concatenated gzip member."""
    members, pos = [], 0
    while pos < len(data):
        d = zlib.decompressobj(31)
        out = d.decompress(data[pos:])
        if not d.eof:
            raise ValueError(f"gzip member at offset {pos} is truncated")
        used = len(data) - pos - len(d.unused_data)
        members.append((data[pos:pos + used], out))
        pos += used
    return members


def raw_headers(tar):
    """Walks the 512-byte header blocks: name, typeflag, magic, uname for each."""
    out, off = [], 0
    while off + 512 <= len(tar):
        h = tar[off:off + 512]
        if h == b"\0" * 512:
            off += 512
            continue
        size = int(h[124:136].strip(b"\0 ") or b"0", 8)
        out.append({
            "name": h[0:100].rstrip(b"\0").decode("utf-8", "replace"),
            "type": chr(h[156]),
            "magic": h[257:265].hex(),
            "uname": h[265:297].rstrip(b"\0").decode(),
            "linkname_hex": h[157:257].rstrip(b"\0").hex(),
        })
        off += 512 + (size + 511) // 512 * 512
    return out


def entries(tar):
    out = []
    tf = tarfile.open(fileobj=io.BytesIO(tar), mode="r:")
    for m in tf.getmembers():
        e = {
            "name": m.name,
            "type": m.type.decode(),
            "mode": m.mode,
            "uid": m.uid,
            "gid": m.gid,
            "uname": m.uname,
            "gname": m.gname,
            "mtime": m.mtime,
            "size": m.size,
            "linkname": m.linkname if (m.issym() or m.islnk()) else "",
            "pax": {k: v for k, v in m.pax_headers.items()},
        }
        if m.isfile():
            content = tf.extractfile(m).read()
            e["sha1"] = hashlib.sha1(content).hexdigest()
            e["content_b64"] = base64.b64encode(content).decode()
        if m.issym():
            e["sha1"] = hashlib.sha1(m.linkname.encode()).hexdigest()
        out.append(e)
    return out


def describe(path, outdir):
    data = open(path, "rb").read()
    result = {"size": len(data), "members": []}
    try:
        members = split_members(data)
    except (ValueError, zlib.error) as err:
        result["error"] = str(err)
        members = []
    for i, (comp, tar) in enumerate(members):
        open(os.path.join(outdir, f"member{i}.gz"), "wb").write(comp)
        ents = entries(tar)
        for e in ents:
            if e["name"].startswith(".SIGN."):
                sig = base64.b64decode(e["content_b64"])
                open(os.path.join(outdir, f"member{i}.sig"), "wb").write(sig)
        result["members"].append({
            "compressed_len": len(comp),
            "gzip_header": comp[:10].hex(),
            "sha1_b64": base64.b64encode(hashlib.sha1(comp).digest()).decode(),
            "sha256": hashlib.sha256(comp).hexdigest(),
            "tar_len": len(tar),
            "ends_with_eoa": tar.endswith(b"\0" * 1024),
            "record_padded": len(tar) % 10240 == 0,
            "headers": raw_headers(tar),
            "entries": ents,
        })
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "describe":
        sys.exit(__doc__)
    describe(sys.argv[2], sys.argv[3])
