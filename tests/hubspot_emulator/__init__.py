"""A stateful stand-in for the HubSpot APIs this project calls, for tests and local trials.

``create_emulator_app(state)`` builds the Flask app; ``EmulatorState`` holds what it received
and the fault switches; ``LiveEmulator`` serves it on a loopback port in a thread."""
from tests.hubspot_emulator.app import create_emulator_app
from tests.hubspot_emulator.live import LiveEmulator
from tests.hubspot_emulator.state import EmulatorState, Fault

__all__ = ["EmulatorState", "Fault", "LiveEmulator", "create_emulator_app"]
