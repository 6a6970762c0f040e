"""The rules engine: triage (tier, department, SLA deadline, tags, score) with explanations."""

from smcc.rules.engine import (
    AlertBoard,
    Explanation,
    RuleEngine,
    RuleMatch,
    deadline_times,
    sla_times,
)
from smcc.rules.sla import SlaClock, SlaState, SlaTimes

__all__ = [
    "AlertBoard",
    "Explanation",
    "RuleEngine",
    "RuleMatch",
    "SlaClock",
    "SlaState",
    "SlaTimes",
    "deadline_times",
    "sla_times",
]
