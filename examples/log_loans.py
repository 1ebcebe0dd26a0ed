"""A serving process of the loan-default model: it scores a day of applications (the
bundled example's drifted month) and logs every prediction to the collector.

Run it after ``sightline serve`` and ``sightline models register loans 1 --reference
examples/loans-reference.csv`` (the README's first section). The predictions are stamped
two hours ago, in a window that has already closed, so the collector's scheduler analyses
it at once instead of at the end of the current hour.
"""

from __future__ import annotations

import os
import time

import sightline
from sightline.examples import loan_data

FEATURES = ("age", "income", "loan_amount", "credit_score", "term", "purpose", "region")

_, day = loan_data(2_000)
start = (time.time() // 3600 - 2) * 3600
url = os.environ.get("SIGHTLINE_URL", "http://127.0.0.1:8000")
with sightline.Monitor("loans", "1", url=url) as monitor:
    for i, row in enumerate(day.to_pylist()):
        monitor.log(
            {name: row[name] for name in FEATURES},
            prediction=row["prediction"],
            probability=row["probability"],
            timestamp=start + i,
        )
print(f"logged {day.num_rows} predictions of model loans version 1 to {url}")
