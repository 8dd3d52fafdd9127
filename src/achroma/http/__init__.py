"""Chroma's v2 REST API: the wire format (`wire`) and the HTTP backend (`client`)."""
