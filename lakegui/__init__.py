"""lakegui: a desktop transfer manager for S3 data lakes."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazily: `lakegui-cli --version` imports this package and must not pay for pyarrow and boto3.
    if name == "Lake":
        from .lake import Lake

        return Lake
    raise AttributeError(f"module 'lakegui' has no attribute {name!r}")
