"""The server (``streamwise serve``): the tracking endpoints and the REST API over the core."""
