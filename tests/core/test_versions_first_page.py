"""The version listing's first page is small (issue 22: the first rows within 300 ms): servers take
time in proportion to a page's size, so the first asks for 100 entries and the rest for a full page."""

from __future__ import annotations

from lakegui.core.versions import VersionLister


def test_the_first_page_is_small_and_the_rest_are_full(s3):
    s3.create_bucket(Bucket="vers")
    s3.put_bucket_versioning(Bucket="vers", VersioningConfiguration={"Status": "Enabled"})
    for i in range(130):
        s3.put_object(Bucket="vers", Key=f"k{i:03d}", Body=b"x")
    asked = []
    s3.meta.events.register("provide-client-params.s3.ListObjectVersions",
                            lambda params, **_: asked.append(params["MaxKeys"]))
    pages = list(VersionLister(s3, "vers", "", recursive=True, page_size=120))
    assert asked == [100, 120]
    assert [len(p.versions) for p in pages] == [100, 30] and pages[-1].is_last
    assert [v.key for p in pages for v in p.versions] == [f"k{i:03d}" for i in range(130)]
    asked.clear()
    assert sum(len(p.versions) for p in VersionLister(s3, "vers", "", recursive=True, page_size=50)) == 130
    assert asked == [50, 50, 50]  # never a first page larger than the rest
