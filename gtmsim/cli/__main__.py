"""``python -m gtmsim.cli`` is the gtmsim command."""

import sys

from gtmsim.cli import main

sys.exit(main())
