"""The work behind every command: plain async functions over the store, whatever edge calls them."""
