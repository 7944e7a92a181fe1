"""``python -m harmony_agent.cli``."""

import sys

from harmony_agent.cli._main import main

sys.exit(main())
