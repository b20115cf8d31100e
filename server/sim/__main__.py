"""``python -m server.sim``: run the CLOB V2 simulator in the foreground."""

import sys

from server.sim.runner import main

sys.exit(main())
