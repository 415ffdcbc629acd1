"""What the toolkit does, built from the layers below: answer oEmbed, import a catalog,
sync media objects, set up the app, push modules, provision installed portals."""
