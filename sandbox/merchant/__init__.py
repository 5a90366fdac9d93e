"""The reference merchant client: one client per gateway, usable on its own against the sandbox or production."""
