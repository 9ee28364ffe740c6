"""python -m lakegui.cli"""

import sys

from . import main

sys.exit(main())
