"""The claim layer: sentences of different reports that state the same thing are one claim.

- features.py: what a sentence is, for matching (terms, character grams, names, quantities, polarity);
- match.py: whether two sentences are one claim (a small fitted model, with vetoes that come first)."""
