"""A stateful stand-in for the HubSpot APIs this project calls, for tests and local trials.

``create_emulator_app(state)`` builds the Flask app; ``EmulatorState`` holds what it received
and the fault switches; ``LiveEmulator`` serves it on a loopback port in a thread."""
from .app import create_emulator_app
from .live import LiveEmulator
from .state import EmulatorState, Fault

__all__ = ["EmulatorState", "Fault", "LiveEmulator", "create_emulator_app"]
