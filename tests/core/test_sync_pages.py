"""core/sync/pages: the sync's own reading of ListObjectsV2 pages, in each server's order of an
entry's children, and ElementTree's reading where the page's entries are not laid out alike."""

from __future__ import annotations

from datetime import datetime

import pytest

from lakegui.core.sync import pages

pages_rows_of_tree = pages.rows_of_tree
NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def ts(s: str) -> float:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def aws_page(entries: str, *, truncated: bool = False, token: str = "", encoded: bool = True) -> bytes:
    head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult {NS}><Name>b</Name><Prefix>p/</Prefix>'
            f"<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>"
            + ("<EncodingType>url</EncodingType>" if encoded else "")
            + f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>")
    tail = f"<NextContinuationToken>{token}</NextContinuationToken>" if token else ""
    return (head + entries + tail + "</ListBucketResult>").encode()


def aws_entry(key: str, size: int, etag: str = "&quot;abc&quot;", modified: str = "2026-12-01T10:00:00.000Z") -> str:
    # AWS's order, with a nested Owner and a checksum: neither is a field the sync reads
    return (f"<Contents><Key>{key}</Key><LastModified>{modified}</LastModified><ETag>{etag}</ETag>"
            f"<ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><Size>{size}</Size>"
            f"<Owner><ID>x</ID><DisplayName>y</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>")


@pytest.fixture
def tree_reads(monkeypatch):
    used = []
    monkeypatch.setattr(pages, "rows_of_tree", lambda *a: used.append(1) or pages_rows_of_tree(*a))
    return used


def test_aws_layout_entities_and_url_encoded_keys(tree_reads):
    data = aws_page(aws_entry("p/a%2Bb+c.csv", 10) + aws_entry("p/%C3%BC.csv", 0, "&#34;d-2&#34;", "2026-12-01T10:00:01Z"),
                    truncated=True, token="tok&amp;en==")
    rows, token = pages.parse_page(data)
    assert rows == [("p/a+b c.csv", 10, "abc", ts("2026-12-01T10:00:00Z")),
                    ("p/ü.csv", 0, "d-2", ts("2026-12-01T10:00:01Z"))]
    assert token == "tok&en==" and tree_reads == []  # read by the expression, not ElementTree


def test_seaweedfs_layout_pretty_printed_and_the_last_page(tree_reads):
    entry = ("<Contents>\n  <Key>p/x &amp; y</Key>\n  <ETag>\"e1\"</ETag>\n  <Size>5</Size>\n"
             "  <StorageClass>STANDARD</StorageClass>\n  <LastModified>2026-12-01T15:31:57Z</LastModified>\n</Contents>\n")
    rows, token = pages.parse_page(aws_page(entry * 2, encoded=False, token="ignored: not truncated"))
    assert rows == [("p/x & y", 5, "e1", ts("2026-12-01T15:31:57Z"))] * 2 and token is None
    assert tree_reads == []


def test_entries_laid_out_differently_are_read_by_elementtree(tree_reads):
    odd = "<Contents><Key>p/b</Key><Size>2</Size><ETag>&quot;f&quot;</ETag></Contents>"  # no LastModified, other order
    rows, _ = pages.parse_page(aws_page(aws_entry("p/a", 1) + odd))
    assert tree_reads == [1]
    assert rows == [("p/a", 1, "abc", ts("2026-12-01T10:00:00Z")), ("p/b", 2, "f", 0.0)]


def test_an_empty_page_and_what_is_no_listing():
    assert pages.parse_page(aws_page("")) == ([], None)
    with pytest.raises(ValueError):
        pages.parse_page(b"<Error><Code>AccessDenied</Code></Error>")


def test_entries_the_expression_cannot_see_are_never_lost(tree_reads):
    # A <Contents > the fixed expression does not match must not read as an empty page (a sync
    # would take the prefix for empty): ElementTree reads the page.
    data = aws_page("<Contents ><Key>p/a</Key><Size>1</Size></Contents>" + aws_entry("p/b", 2))
    rows, _ = pages.parse_page(data)
    assert [r[:2] for r in rows] == [("p/a", 1), ("p/b", 2)] and tree_reads == [1]
    only = aws_page("<Contents\n><Key>p/a</Key><Size>1</Size></Contents>")
    assert [r[:2] for r in pages.parse_page(only)[0]] == [("p/a", 1)]


def test_a_page_whose_key_count_disagrees_is_read_by_elementtree(tree_reads):
    data = aws_page(aws_entry("p/a", 1) + aws_entry("p/b", 2)).replace(b"<KeyCount>2</KeyCount>", b"<KeyCount>3</KeyCount>")
    rows, _ = pages.parse_page(data)
    assert len(rows) == 2 and tree_reads == [1]
