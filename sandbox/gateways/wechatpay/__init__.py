"""WeChat Pay: API v3 (JSON, RSA, AES-GCM) and API v2 (XML, MD5/HMAC), sharing merchants and orders."""
