"""Gateway packages: each translates one provider's wire protocol to neutral calls on the core."""
