"""lakegui: a desktop transfer manager for S3 data lakes."""

__version__ = "0.1.0"
