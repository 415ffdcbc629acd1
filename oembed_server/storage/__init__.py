"""Everything the project keeps in its database, through SQLAlchemy Core: the one schema
(``schema``) and its migrations, the engine, the catalog, the job queue, play sessions,
installed portals, stored tokens and the shared rate budget. Never calls HubSpot."""
