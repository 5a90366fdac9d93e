"""One integration per gateway, each built on its client in sandbox.merchant and nothing else."""
