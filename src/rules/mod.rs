//! Clinical decisions, one module per section of knowledge.md 4.x: pure functions from facts to a decision.
