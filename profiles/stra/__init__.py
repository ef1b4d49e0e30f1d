"""The national strategic threat and risk assessment (STRA), compiled from every force's ``summary.json``."""
