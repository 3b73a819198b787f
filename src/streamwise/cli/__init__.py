"""The ``streamwise`` command line (Typer + Rich): thin adapters over the core."""
