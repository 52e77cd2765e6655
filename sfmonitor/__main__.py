"""``python -m sfmonitor``."""

import sys

from sfmonitor.app import main

sys.exit(main())
