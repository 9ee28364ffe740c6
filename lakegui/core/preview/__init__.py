"""Reading one object for a preview: ranged reads, Parquet, other formats, cell values, OHLCV series."""
