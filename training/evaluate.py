"""Evaluate a model: ``python training/evaluate.py --corpus cdcp --split dev``.

The same as ``argmine evaluate``; see ``argmine evaluate --help`` for the options.
"""

import sys

from argmine.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
