"""Datasets: generated sets that need no download, and readers for the real
corpora on disk. Importing a builder module registers its TFDS builder, so
`tfds.load("<name>")` and the TFDS CLI find it."""
