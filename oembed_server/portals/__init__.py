"""Portals the app serves and the credentials for each: which HubSpot client may act for
which portal. Today one configured portal; installs by OAuth (many portals) grow here."""
