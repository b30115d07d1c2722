"""Planwatch's Discord edge: slash commands, alerts. The work is done by planwatch.services."""
