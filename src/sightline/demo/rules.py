"""The demo's alert rules file: four rules of its own beside the default ones, every alert
sent to the demo's webhook.

>>> from sightline.alerts.rules import parse_rules
>>> from sightline.demo.timeline import FAST
>>> ruleset = parse_rules(rules_yaml("http://127.0.0.1:9/hook", FAST))
>>> [r.name for r in ruleset.rules][-4:]
['column_drift', 'estimated_accuracy_drop', 'realized_accuracy_drop', 'instance_lost']
"""

from __future__ import annotations

from typing import Any

import yaml

from sightline.demo.receiver import SECRET
from sightline.demo.timeline import Timeline

INSTANCES = 3  # serving processes of credit-scoring
Rule = dict[str, Any]


def _rule(name: str, match: dict[str, str], when: str, severity: str, summary: str) -> Rule:
    return {
        "name": name,
        "match": match,
        "when": when,
        "severity": severity,
        "annotations": {"summary": summary},
    }


def rules_yaml(webhook: str, timeline: Timeline) -> str:
    """The rules file's text, its receiver at ``webhook``."""
    spec = {
        "allow": ["127.0.0.1"],
        "include_defaults": True,
        "receivers": [{"name": "demo", "type": "webhook", "url": webhook, "secret": SECRET}],
        "route": {
            "receiver": "demo",
            "group_wait": timeline.group_wait,
            "group_interval": timeline.group_interval,
            "repeat_interval": "1h",
        },
        "rules": [
            _rule(
                "column_drift",
                {"column": "*", "metric": "jensen_shannon"},
                "alert",
                "ticket",
                "{{ model }}: {{ column }} drifted ({{ value }})",
            ),
            _rule(
                "estimated_accuracy_drop",
                {"metric": "estimated_accuracy"},
                "alert",
                "ticket",
                "{{ model }}: estimated accuracy {{ value }}",
            ),
            _rule(
                "realized_accuracy_drop",
                {"metric": "accuracy"},
                "outside bounds",
                "page",
                "{{ model }}: accuracy {{ value }} left its band",
            ),
            _rule(
                "instance_lost",
                {"metric": "instances", "model": "credit-scoring"},
                f"value < {INSTANCES}",
                "ticket",
                f"{{{{ model }}}}: {{{{ value }}}} of {INSTANCES} instances served",
            ),
        ],
    }
    return "# Written by `sightline demo`.\n" + str(yaml.safe_dump(spec, sort_keys=False))


__all__ = ["INSTANCES", "rules_yaml"]
