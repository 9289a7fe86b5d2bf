import sys

from klimainnkjop.cli import main

sys.exit(main())
