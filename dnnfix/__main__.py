import sys

from dnnfix.cli import main

sys.exit(main())
