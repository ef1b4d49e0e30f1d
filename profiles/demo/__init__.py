"""Demo tooling, not part of the analysis: seeded synthetic RMS, StreetSafe and A&E generators (:mod:`.synth`).

The generators plant known signals (a cluster at a known place, an NTE peak)
so tests and the demo can check that the profile finds them. Their output is
marked synthetic at the file, the row and every table and chart built from it.
"""
