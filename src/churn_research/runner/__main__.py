import sys

from churn_research.runner.pipeline import main

sys.exit(main())
