"""A sync's listing pages read straight from their XML into (key, size, etag, modified) tuples.

The listing is a sync's critical path: each page is asked for only once the one before it is
parsed. ElementTree builds seven elements a key and PrefixLister an ObjectEntry with a datetime,
about 5.5 ms of a 1,000-key page; one regular expression learned from the page's first entry (its
children in the server's order: SeaweedFS and AWS differ) finds the four fields a sync needs in
about half that. A page the expression does not fit entry for entry (an optional child, attributes,
self-closing tags) is parsed by ElementTree instead, as PrefixLister would.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import unquote_plus, urlsplit

WANTED = ("Key", "ETag", "Size", "LastModified")
_CONTENTS, _CONTENTS_END = b"<Contents>", b"</Contents>"
_ANY_CONTENTS = re.compile(rb"<Contents[\s/>]")  # every entry, however written: none may go unread
_KEY_COUNT = re.compile(rb"<KeyCount>\s*(\d+)\s*</KeyCount>")
_TOKEN = re.compile(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>")
_TRUNCATED = re.compile(rb"<IsTruncated>\s*true\s*</IsTruncated>", re.I)
_URL_ENCODED = re.compile(rb"<EncodingType>\s*url\s*</EncodingType>")
_ROOT = re.compile(rb"^(?:<\?xml[^>]*\?>)?\s*<ListBucketResult[\s>]")

Row = tuple[str, int, str, float]  # key, size, etag (no quotes), LastModified in seconds (0.0 if none)


def _xml_unescape(value: str) -> str:
    if "&" not in value:
        return value
    import html

    return html.unescape(value)


def entry_pattern(data: bytes) -> tuple[re.Pattern, tuple[int, ...]] | None:
    """The expression matching one <Contents> of this page laid out as its first one, and where
    Key, ETag, Size and LastModified fall among its groups; None if the page has no usable entry."""
    start = data.find(_CONTENTS)
    end = data.find(_CONTENTS_END, start)
    if start < 0 or end < 0:
        return None
    try:
        first = ET.fromstring(data[start:end + len(_CONTENTS_END)])
    except ET.ParseError:
        return None
    parts, order = [], []
    for child in first:
        tag = re.escape(child.tag.encode())
        if child.tag in WANTED and child.tag not in order and not child.attrib:
            parts.append(b"<" + tag + b">([^<]*)</" + tag + b">")
            order.append(child.tag)
        else:
            parts.append(b"<" + tag + b"(?:\\s[^>]*)?(?:/>|>.*?</" + tag + b">)")
    if "Key" not in order or "Size" not in order:
        return None
    pattern = re.compile(re.escape(_CONTENTS) + b"\\s*" + b"\\s*".join(parts) + b"\\s*" + re.escape(_CONTENTS_END),
                         re.S)
    return pattern, tuple(order.index(t) if t in order else -1 for t in WANTED)


def parse_page(data: bytes) -> tuple[list[Row], str | None]:
    """The rows of one ListObjectsV2 answer (a 200's body) and its continuation token (None on
    the last page). Keys are decoded as EncodingType=url asks; the ETag loses its quotes."""
    if not _ROOT.match(data.lstrip()):
        raise ValueError("not a ListBucketResult")
    encoded = _URL_ENCODED.search(data) is not None
    token = None
    if _TRUNCATED.search(data):
        m = _TOKEN.search(data)
        token = _xml_unescape(m.group(1).decode()) if m and m.group(1) else None
    expected = len(_ANY_CONTENTS.findall(data))
    if not expected:
        return [], token
    found = entry_pattern(data)
    matches = found[0].findall(data) if found else []
    count = _KEY_COUNT.search(data)
    if not found or len(matches) != expected or (count and int(count.group(1)) != expected):
        return _parse_tree(data, encoded), token
    ik, ie, isz, im = found[1]
    rows: list[Row] = []
    seconds: dict[bytes, float] = {}  # many keys share a LastModified
    fromiso = datetime.fromisoformat
    for groups in matches:
        key = _xml_unescape(groups[ik].decode())
        if encoded and ("%" in key or "+" in key):
            key = unquote_plus(key)
        etag = groups[ie] if ie >= 0 else b""
        if b"&" in etag:  # its quotes as entities (SeaweedFS: &#34;, AWS: &quot;), dropped without html's help
            etag = etag.replace(b"&#34;", b"").replace(b"&quot;", b"")
        etag = _xml_unescape(etag.decode()).strip('"')
        modified = groups[im] if im >= 0 else b""
        t = seconds.get(modified)
        if t is None:
            t = seconds[modified] = fromiso(modified.decode().strip().replace("Z", "+00:00")).timestamp() \
                if modified.strip() else 0.0
        rows.append((key, int(groups[isz]), etag, t))
    return rows, token


def _parse_tree(data: bytes, encoded: bool) -> list[Row]:
    return rows_of_tree(ET.fromstring(data), encoded)


def rows_of_tree(root: ET.Element, encoded: bool | None = None) -> list[Row]:
    """The rows of a parsed ListBucketResult (`encoded`: None reads its EncodingType)."""
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    if encoded is None:
        encoded = (root.findtext(f"{ns}EncodingType") or "").strip() == "url"
    rows = []
    for c in root.iter(f"{ns}Contents"):
        f = {child.tag[len(ns):]: child.text or "" for child in c}
        key = f.get("Key", "")
        if encoded:
            key = unquote_plus(key)
        modified = f.get("LastModified", "").strip()
        rows.append((key, int(f.get("Size") or 0), f.get("ETag", "").strip('"'),
                     datetime.fromisoformat(modified.replace("Z", "+00:00")).timestamp() if modified else 0.0))
    return rows


def token_of_tree(root: ET.Element) -> str | None:
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    if (root.findtext(f"{ns}IsTruncated") or "").strip().lower() != "true":
        return None
    return root.findtext(f"{ns}NextContinuationToken") or None


def list_rows(lister, bucket: str, prefix: str, verify=True) -> Iterator[list[Row]]:
    """Every object under `prefix`, a page of rows at a time, over presigned GETs (`lister`: anything
    with generate_presigned_url, as PrefixLister's raw path takes). A page that is not a plain 200
    ListBucketResult is asked for again through listing.presigned_xml, which raises what it means."""
    from ..lake.fetch import shared
    from ..listing import presigned_xml

    token: str | None = None
    while True:
        kwargs = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": 1000}
        if token:
            kwargs["ContinuationToken"] = token
        url = lister.generate_presigned_url("list_objects_v2", Params=dict(kwargs, EncodingType="url"),
                                            ExpiresIn=900)
        parts = urlsplit(url)
        resp, data = shared(verify).get(parts.scheme, parts.netloc, f"{parts.path}?{parts.query}", {}, url=url,
                                        attempts=3, backoff=0.2)
        try:
            if resp.status != 200:
                raise ValueError(resp.status)
            rows, token = parse_page(data)
        except (ValueError, ET.ParseError):
            # The errors as every listing reports them (ClientError, NotS3Error); a 200 that was
            # unreadable once and reads the second time is parsed from that answer.
            root, _ = presigned_xml(lister, "list_objects_v2", kwargs, verify, "ListBucketResult")
            rows, token = rows_of_tree(root), token_of_tree(root)
        yield rows
        if token is None:
            return
