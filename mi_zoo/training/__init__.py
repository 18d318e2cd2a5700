"""Training engine: devices and strategies (the loop arrives with issue 5)."""
