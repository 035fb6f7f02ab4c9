"""The whole platform on one machine, for development and end-to-end tests."""
