"""Ways of reaching the app over TLS: the sandbox CA, an HTTPS port and a CONNECT proxy (SDKs with hard-coded hosts)."""
