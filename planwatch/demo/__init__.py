"""`planwatch demo`: the whole pipeline on sample feeds written for this project, served on loopback."""
