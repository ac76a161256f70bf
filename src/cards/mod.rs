//! Facts and decisions rendered as CDS Hooks cards, suggestions and links.
