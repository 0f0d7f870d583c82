"""Tables of the sla domain."""
