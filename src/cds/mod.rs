//! CDS Hooks 2.0.1 protocol types: the hook request and its order context ([`request`]) and
//! the response cards ([`card`]).

pub mod card;
pub mod discovery;
pub mod feedback;
pub mod request;

pub use card::{
    Action, ActionType, Card, CdsResponse, Coding, Indicator, Link, Source, Suggestion,
};
pub use discovery::{ServiceCatalog, ServiceDefinition};
pub use request::{DraftOrder, Hook, HookRequest, OrderContext, RequestError};
