"""Pure rules with no I/O: the console, the relay, the API and the engine all call these."""
