"""The /_sandbox control API: JSON for QA scripts, CI, the pytest plugin and the CLI."""
