"""Public client and collection classes (async first; sync twins live in `achroma.clients`)."""
