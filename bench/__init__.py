"""Benchmarks and recovery drills of Track; ``python -m bench.run`` runs them all."""
