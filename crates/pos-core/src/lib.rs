//! Domain core of the POS customer system: the rules every terminal and the sync server share.
//!
//! This crate does no I/O. Validation, normalisation to match keys, the dedupe decision, the
//! field-level merge, the hybrid logical clock and the sync wire types live here once, so a
//! customer captured offline at a terminal is judged exactly as the server will judge it.

pub mod customer;
pub mod error;
pub mod field_clocks;
pub mod hlc;
pub mod identification;
pub mod keys;
pub mod lookup;
pub mod merge;
pub mod password;
pub mod phone;
pub mod preferences;
pub mod roles;
pub mod sale;
pub mod text;
pub mod validate;
pub mod wire;

pub use customer::{split_full_name, Customer, CustomerInput, SalesCustomerData, Source};
pub use error::{ErrorCode, FieldError, Lang, ValidationErrors};
pub use hlc::{Hlc, HlcClock};
pub use keys::{KeyKind, MatchKeys};
pub use merge::{decide, KeyHits, MatchDecision, ReviewConflict};
pub use preferences::{can_notify, Channel, ContactWindow, Language, NotificationType, Preferences};
pub use roles::{Action, Role};
pub use sale::{PaymentMethod, Sale, SaleInput, SaleLine};
pub use validate::{validate_customer, ValidCustomer};
