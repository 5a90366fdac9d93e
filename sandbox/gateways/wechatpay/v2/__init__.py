"""WeChat Pay API v2: XML over /pay/..., /secapi/pay/... and /sandboxnew/..., MD5 or HMAC-SHA256 signatures."""
