"""Alerting: rules over metric rows, states, SLO burn rates, evidence and notifications.

``rules`` parses the rules file, ``evaluate`` is the pure state machine, ``slo`` the burn
rates, ``evidence`` what an alert says, ``notify`` the receivers and the outbound-address
guard, ``engine`` runs them over a store after each scheduler pass.
"""

from sightline.alerts.engine import Alerting, evaluate_project
from sightline.alerts.evaluate import Evaluation, Snapshot, evaluate
from sightline.alerts.rules import RuleSet, default_rules, load_rules, parse_rules

__all__ = [
    "Alerting",
    "Evaluation",
    "RuleSet",
    "Snapshot",
    "default_rules",
    "evaluate",
    "evaluate_project",
    "load_rules",
    "parse_rules",
]
