"""The registry: agencies, their systems and keys, services and grants (the control plane)."""
