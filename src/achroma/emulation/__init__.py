"""Emulation of Chroma's Rust side: what chromadb's Rust bindings and Chroma's server accept
and how they word their refusals (the `regex` crate's dialect, serde_json's messages, Rust's
`{:?}` formatting). Nothing here knows about records or storage."""
