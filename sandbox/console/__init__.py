"""The console: the dashboard a QA engineer uses in a browser, at /_sandbox/ (server-rendered, htmx, no build step)."""
