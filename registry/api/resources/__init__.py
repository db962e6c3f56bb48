"""Read-only resources of the API beyond partnerships: one module per app, plus the shared history action."""
