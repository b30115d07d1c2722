"""Planwatch's email edge: building, rendering, queueing and delivering digests and confirmations."""
