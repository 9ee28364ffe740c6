"""PyInstaller entry point for the `lakegui` window."""

import sys

from lakegui.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
