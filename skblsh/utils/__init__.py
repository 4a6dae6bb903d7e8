"""Private helpers shared by skblsh's modules."""
