"""Engagement events: from the player's reports to records the worker sends to HubSpot."""
