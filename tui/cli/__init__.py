"""The `papershelf` command line: one module per command (or pair, like `backup` and `restore`),
named after it. `entry` runs a command, `parser` builds the argparse parser from the command
modules, and `output` holds the exit codes and the terminal-safe printing they all share.
"""

from tui.cli.entry import main

__all__ = ["main"]
