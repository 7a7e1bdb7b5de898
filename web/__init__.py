"""The Starlette app factory and lifespan, HTML pages, Statuspage-compatible JSON, feeds."""
