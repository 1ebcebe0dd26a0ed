"""The model most collector tests register: churn, version 1, two features and a score."""

from __future__ import annotations

SCHEMA = {
    "columns": [
        {"name": "age", "role": "feature", "kind": "numeric"},
        {"name": "city", "role": "feature", "kind": "categorical"},
        {"name": "score", "role": "prediction", "kind": "numeric"},
    ]
}
BASE = "/api/v1/models/churn/versions/1"
