import sys

from drillkit.cli import main

sys.exit(main())
