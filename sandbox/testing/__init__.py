"""Testing helpers: an in-thread sandbox server and a notification receiver (the pytest plugin builds on them)."""
