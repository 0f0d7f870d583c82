"""Tables of the bids domain."""
