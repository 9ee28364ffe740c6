"""Compare with local folder: the comparison view (issue 21.5)."""
