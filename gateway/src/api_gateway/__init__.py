"""The gateway: the only process clients talk to."""
