"""Publishing a risk model takes two people: a governing admin asks, with what the
publication would change, and a second one approves (maker-checker)."""
