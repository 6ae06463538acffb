"""The state dir of one environment: shareable state.json, secrets/ (0600), a lock against two runs."""
from inception.state.lock import StateLocked
from inception.state.store import Resource, State, StateDir, StateError, resources_changed

__all__ = ["Resource", "State", "StateDir", "StateError", "StateLocked", "resources_changed"]
