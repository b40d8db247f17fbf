"""This app's part of the demo organization (see tickets/management/commands/seed_demo.py)."""
