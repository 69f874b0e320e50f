"""Benchmarks that print figures (`make bench`). Tests never assert timings; these measure them."""
