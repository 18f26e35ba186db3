"""Prints a marker so tests can tell whether the program ran."""
print("PROGRAM RAN")
