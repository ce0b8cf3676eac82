"""`python -m mailconsole` is the same as the `mailconsole` command."""

import sys

from mailconsole.cli import main

sys.exit(main())
