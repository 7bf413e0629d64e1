"""Load generation for bench/exchange.py: the request pool, the processes, the open loop."""
