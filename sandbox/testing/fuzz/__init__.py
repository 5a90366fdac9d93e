"""Seeded fuzzing of every gateway: valid signed requests, mutated (and mostly re-signed), each answer judged."""
