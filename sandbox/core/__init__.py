"""The framework-free core: orders, refunds, notifications, time, ids, keys and storage."""
