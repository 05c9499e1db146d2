"""`python -m reconciler` and the console script. The registry read starts here, before click and
the verb's modules are imported (reconciler/commandline.py): it overlaps their import (issue 19)."""

from __future__ import annotations

import sys


def main() -> None:
    from reconciler import commandline, interrupt

    with interrupt.handled():  # a signal while the CLI is imported ends it as one during the command does
        try:
            commandline.start_early(sys.argv[1:])
            from reconciler.cli import main as cli_main
        except interrupt.Interrupted as e:
            from reconciler.error_handler import interrupted

            raise interrupted(e.signum) from None
        cli_main()


if __name__ == "__main__":
    main()
