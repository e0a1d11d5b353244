"""Job stores: where jobs live between runs."""
