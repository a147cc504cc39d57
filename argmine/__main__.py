import sys

from argmine.cli import main

sys.exit(main())
