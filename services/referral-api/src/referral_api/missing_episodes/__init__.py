"""Missing episodes: reported missing, found, and the return-home interview due 72
hours after the child is found."""
