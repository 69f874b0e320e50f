"""`python -m clawgate.cli`: the same command as `clawgate`."""

import sys

from clawgate.cli import main

sys.exit(main())
