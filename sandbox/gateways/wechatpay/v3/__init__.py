"""WeChat Pay API v3: JSON over /v3/..., SHA256withRSA request and response signatures, AES-GCM resources."""
