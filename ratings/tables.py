"""Tables of the ratings domain."""
