"""chromadb's ``chromadb.execution``: only its ``expression`` package (the Search API)."""
