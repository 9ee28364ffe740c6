"""PyInstaller entry point for `lakegui-cli`."""

import sys

from lakegui.cli import main

if __name__ == "__main__":
    sys.exit(main())
