"""Tables of the chat domain."""
