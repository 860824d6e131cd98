"""``python -m churn_research``: the project's command line (:func:`churn_research.runner.main`)."""

import sys

from churn_research.runner.pipeline import main

sys.exit(main())
