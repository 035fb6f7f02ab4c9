"""Break-glass: a case worker opens a child their agency is not linked to, in an emergency."""
