"""absl binaries: `python -m mi_zoo.experiments.<name> --helpfull`."""
