"""Train a model: ``python training/train.py --config training/configs/default.json``.

The same as ``argmine train``; see ``argmine train --help`` for the options.
"""

import sys

from argmine.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
