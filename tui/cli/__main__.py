"""`python -m tui.cli`: the same as the `papershelf` command."""

import sys

from tui.cli.entry import main

sys.exit(main())
