//! Who may do what: the user roles and the one table of which role each action needs, used by
//! the server to refuse a request and by the desktop app to decide which screens it offers.

use serde::{Deserialize, Serialize};

/// Roles, each allowed what the one before it is and more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Cashier,
    Manager,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "cashier" => Some(Role::Cashier),
            "manager" => Some(Role::Manager),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Cashier => "cashier",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may do `action`.
    pub fn can(self, action: Action) -> bool {
        self >= action.needs()
    }

    /// Every action this role may do, in declaration order (what the window shows).
    pub fn actions(self) -> Vec<Action> {
        Action::ALL.into_iter().filter(|a| self.can(*a)).collect()
    }
}

/// What a user can ask for, at the counter or in the back office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Look up customers, see a customer's card and history.
    LookUp,
    /// Capture a new customer, find-or-create at checkout, record a sale.
    Capture,
    /// Edit or deactivate an existing customer.
    EditCustomer,
    /// Change a customer's communication preferences.
    EditPreferences,
    /// Activate or deactivate many customers at once.
    BulkActions,
    /// See customer statistics.
    SeeStats,
    /// Review suspected duplicates: merge or dismiss.
    ReviewDuplicates,
    /// Change the terminal's server and registration.
    ConfigureTerminal,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::LookUp,
        Action::Capture,
        Action::EditCustomer,
        Action::EditPreferences,
        Action::BulkActions,
        Action::SeeStats,
        Action::ReviewDuplicates,
        Action::ConfigureTerminal,
    ];

    /// The least role that may do this.
    pub fn needs(self) -> Role {
        match self {
            Action::LookUp | Action::Capture => Role::Cashier,
            Action::EditCustomer
            | Action::EditPreferences
            | Action::BulkActions
            | Action::SeeStats
            | Action::ReviewDuplicates
            | Action::ConfigureTerminal => Role::Manager,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_print_back() {
        for role in [Role::Cashier, Role::Manager, Role::Admin] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("owner"), None);
    }

    #[test]
    fn cashiers_work_the_counter_and_managers_the_back_office() {
        assert_eq!(Role::Cashier.actions(), [Action::LookUp, Action::Capture]);
        assert!(!Role::Cashier.can(Action::ReviewDuplicates));
        assert!(Role::Manager.can(Action::ReviewDuplicates) && Role::Manager.can(Action::BulkActions));
        assert_eq!(Role::Admin.actions(), Action::ALL);
    }
}
