"""Speed report (the same table `edgevision speed` prints): python bench/report.py [--json] [--strict]."""

import sys

from edgevision.speed import main

if __name__ == "__main__":
    sys.exit(main())
