"""The bids domain's rules: sealed bids, evaluation rounds, award."""
