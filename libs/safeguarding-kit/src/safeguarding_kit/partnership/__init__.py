"""The partnership's information sharing agreement and the access policy built on it."""
