"""JSON routers of the server, one module per resource."""
