"""Sync and compare: a local folder and an S3 prefix, decided by one listing and by content.

compare.py classes every relative path (same, differ, only-local, only-remote); records.py keeps
what our own transfers left on disk (size, mtime, ctime, inode, ETag) so unchanged files are not
hashed again; plan.py turns a comparison into queued jobs and the deletes that follow them;
recheck.py asks the lake again before a plan runs, leaving alone what changed since it was compared.
"""
