"""The rollback kill switch (DESIGN §8): state file, audit log, decision, CLI.

``effective_kill_switch(config)`` answers "is it engaged, and who said so?" from the
environment, the state file and the configuration, reading afresh on every call.
"""

from __future__ import annotations

from harness.killswitch.audit import AuditEntry, AuditLog, read_audit, replay
from harness.killswitch.decision import (
    ENV_KILL_SWITCH,
    KillSwitchDecision,
    KillSwitchWarning,
    decide,
    effective_kill_switch,
)
from harness.killswitch.state import (
    KILLSWITCH_CODES,
    KillSwitchError,
    KillSwitchState,
    Transition,
    engage,
    read_state,
    release,
)

__all__ = [
    "ENV_KILL_SWITCH",
    "KILLSWITCH_CODES",
    "AuditEntry",
    "AuditLog",
    "KillSwitchDecision",
    "KillSwitchError",
    "KillSwitchState",
    "KillSwitchWarning",
    "Transition",
    "decide",
    "effective_kill_switch",
    "engage",
    "read_audit",
    "read_state",
    "release",
    "replay",
]
