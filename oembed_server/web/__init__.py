"""The HTTP face: Flask blueprints, their templates and static files, security headers."""
