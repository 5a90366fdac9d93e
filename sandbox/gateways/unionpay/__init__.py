"""UnionPay online gateway (ACP 5.1.0): key=value forms, SHA-256 + RSA over a hex digest, X.509 certificates."""
