//! Sync wire types: the changes a terminal queues in its outbox and pushes, and the server's
//! answer for each.

use crate::customer::Customer;
use crate::error::ValidationErrors;
use crate::hlc::Hlc;
use crate::merge::FieldMap;
use crate::preferences::Preferences;
use crate::sale::Sale;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Changes one push carries, at most: the server refuses a larger push and the terminal never
/// sends one. A push is one transaction on the server, and each commit syncs every index page it
/// touched, so large pushes merge several times faster than small ones.
pub const MAX_PUSH_CHANGES: usize = 5_000;

/// Rows one pull page holds, at most: the server answers no more, whatever `limit` asks.
pub const MAX_PULL_PAGE: i64 = 5_000;

/// What a change is about and its content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entity", rename_all = "snake_case")]
pub enum ChangeBody {
    /// A new customer (all fields) or an edit (the changed fields), each field with its clock.
    Customer { id: Uuid, fields: FieldMap },
    /// Changed preference fields of a customer.
    Preferences { customer_id: Uuid, fields: FieldMap },
    /// A recorded sale; sales never change after they are recorded.
    Sale { sale: Sale },
}

impl ChangeBody {
    pub fn entity(&self) -> &'static str {
        match self {
            Self::Customer { .. } => "customer",
            Self::Preferences { .. } => "preferences",
            Self::Sale { .. } => "sale",
        }
    }

    pub fn entity_id(&self) -> Uuid {
        match self {
            Self::Customer { id, .. } => *id,
            Self::Preferences { customer_id, .. } => *customer_id,
            Self::Sale { sale } => sale.id,
        }
    }
}

/// One outbox entry on the wire. `change_id` makes it idempotent: the server applies each once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub change_id: Uuid,
    pub device_id: Uuid,
    #[serde(flatten)]
    pub body: ChangeBody,
}

/// The server's answer for one pushed change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ChangeOutcome {
    Applied,
    /// The change's customer turned out to be `target`: the terminal rewrites its references.
    MergedInto {
        target: Uuid,
    },
    Rejected {
        errors: ValidationErrors,
    },
}

/// `POST /api/v1/sync/push`: a batch of outbox entries, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeResult {
    pub change_id: Uuid,
    #[serde(flatten)]
    pub outcome: ChangeOutcome,
}

/// One result per pushed change, in the order sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<ChangeResult>,
}

/// One entity in a pull page: the whole current row, so applying it twice is harmless. A
/// customer with `merged_into` set is a remap: references to it move to the survivor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entity", rename_all = "snake_case")]
pub enum PulledItem {
    Customer { customer: Box<Customer> },
    Preferences { customer_id: Uuid, preferences: Preferences, clocks: BTreeMap<String, Hlc> },
    Sale { sale: Sale },
}

/// `GET /api/v1/sync/pull?cursor=…`: changes after `cursor` in the organisation's sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub items: Vec<PulledItem>,
    /// Pass back as `cursor` for the next page.
    pub cursor: i64,
    pub has_more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::Hlc;
    use crate::merge::Stamped;
    use serde_json::json;

    #[test]
    fn change_round_trips_with_entity_tag() {
        let change = Change {
            change_id: Uuid::from_u128(1),
            device_id: Uuid::from_u128(2),
            body: ChangeBody::Customer {
                id: Uuid::from_u128(3),
                fields: [(
                    "city".to_owned(),
                    Stamped { value: json!("Maracay"), clock: Hlc { wall_ms: 5, counter: 0, node: 2 } },
                )]
                .into(),
            },
        };
        let text = serde_json::to_value(&change).unwrap();
        assert_eq!(text["entity"], "customer");
        let back: Change = serde_json::from_value(text).unwrap();
        assert_eq!(back, change);
    }
}
