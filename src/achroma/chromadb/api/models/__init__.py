"""chromadb's ``chromadb.api.models``: one module per collection class."""
