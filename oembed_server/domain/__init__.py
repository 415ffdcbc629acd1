"""Pure rules: media items, oEmbed sizing, URL schemes, WebVTT, player reports and how they
map to HubSpot's events and objects. No Flask, no SQLAlchemy, no I/O: every function
here is a plain computation, tested without a server or a database."""
