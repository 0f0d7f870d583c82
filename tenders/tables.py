"""Tables of the tenders domain."""
