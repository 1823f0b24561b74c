//! Communication preferences: channels, notification types, a contact window in the customer's
//! time zone, and language; `can_notify` decides whether a message may go out now.

use crate::error::{ErrorCode, Lang, ValidationErrors};
use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The language a customer is written to in.
pub type Language = Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
    Whatsapp,
    PhoneCall,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationType {
    PurchaseConfirmation,
    PaymentReminder,
    EventReminder,
    Promotional,
    SystemUpdate,
}

/// Local times between which a customer may be contacted. `end` before `start` spans midnight
/// (22:00–06:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactWindow {
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub time_zone: Tz,
}

impl ContactWindow {
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.time_zone).time();
        if self.start <= self.end {
            self.start <= local && local < self.end
        } else {
            local >= self.start || local < self.end
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    pub channels: BTreeSet<Channel>,
    pub notification_types: BTreeSet<NotificationType>,
    pub contact_window: Option<ContactWindow>,
    pub language: Language,
}

impl Default for Preferences {
    /// Transactional messages on email, SMS and WhatsApp; promotions are opt-in.
    fn default() -> Self {
        use NotificationType::*;
        Self {
            channels: [Channel::Email, Channel::Sms, Channel::Whatsapp].into(),
            notification_types: [PurchaseConfirmation, PaymentReminder, EventReminder, SystemUpdate].into(),
            contact_window: None,
            language: Lang::Es,
        }
    }
}

/// The fields of [`Preferences`] that sync merges one by one.
pub const PREFERENCE_FIELDS: [&str; 4] = ["channels", "notification_types", "contact_window", "language"];

/// Whether a message of `kind` may be sent over `channel` at `at`: the channel and the type are
/// opted in and `at` falls inside the contact window, if one is set.
pub fn can_notify(prefs: &Preferences, kind: NotificationType, channel: Channel, at: DateTime<Utc>) -> bool {
    prefs.channels.contains(&channel)
        && prefs.notification_types.contains(&kind)
        && prefs.contact_window.is_none_or(|w| w.contains(at))
}

/// Raw contact window as typed in a form (`"08:00"`, `"18:30"`, `"America/Caracas"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactWindowInput {
    pub start: String,
    pub end: String,
    pub time_zone: String,
}

/// Validates a typed contact window, naming the field that is wrong.
pub fn parse_contact_window(input: &ContactWindowInput) -> Result<ContactWindow, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let time = |errors: &mut ValidationErrors, field: &str, s: &str| {
        NaiveTime::parse_from_str(s.trim(), "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(s.trim(), "%H:%M:%S"))
            .map_err(|_| errors.push(field, ErrorCode::DateInvalid))
            .ok()
    };
    let start = time(&mut errors, "contact_window.start", &input.start);
    let end = time(&mut errors, "contact_window.end", &input.end);
    let tz = input
        .time_zone
        .trim()
        .parse::<Tz>()
        .map_err(|_| errors.push("contact_window.time_zone", ErrorCode::TimeZoneInvalid))
        .ok();
    match (start, end, tz) {
        (Some(start), Some(end), Some(time_zone)) if errors.is_empty() => Ok(ContactWindow { start, end, time_zone }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn window(start: &str, end: &str) -> ContactWindow {
        parse_contact_window(&ContactWindowInput {
            start: start.into(),
            end: end.into(),
            time_zone: "America/Caracas".into(),
        })
        .unwrap()
    }

    fn caracas(h: u32, m: u32) -> DateTime<Utc> {
        // Caracas is UTC−4 all year.
        Utc.with_ymd_and_hms(2026, 11, 21, (h + 4) % 24, m, 0).unwrap()
    }

    #[test]
    fn honours_channel_type_and_window() {
        let mut p = Preferences { contact_window: Some(window("08:00", "18:00")), ..Default::default() };
        assert!(can_notify(&p, NotificationType::PurchaseConfirmation, Channel::Whatsapp, caracas(9, 0)));
        assert!(
            !can_notify(&p, NotificationType::PurchaseConfirmation, Channel::Whatsapp, caracas(19, 0)),
            "outside window"
        );
        assert!(!can_notify(&p, NotificationType::Promotional, Channel::Email, caracas(9, 0)), "promotions are opt-in");
        assert!(
            !can_notify(&p, NotificationType::PurchaseConfirmation, Channel::PhoneCall, caracas(9, 0)),
            "channel off"
        );
        p.contact_window = None;
        assert!(can_notify(&p, NotificationType::PaymentReminder, Channel::Sms, caracas(3, 0)));
    }

    #[test]
    fn window_across_midnight() {
        let w = window("22:00", "06:00");
        assert!(w.contains(caracas(23, 30)));
        assert!(w.contains(caracas(5, 59)));
        assert!(!w.contains(caracas(12, 0)));
    }

    #[test]
    fn bad_window_names_each_field() {
        let errs = parse_contact_window(&ContactWindowInput {
            start: "25:00".into(),
            end: "18:00".into(),
            time_zone: "Mars/Base".into(),
        })
        .unwrap_err();
        assert!(errs.code_for("contact_window.start").is_some());
        assert_eq!(errs.code_for("contact_window.time_zone"), Some(ErrorCode::TimeZoneInvalid));
        assert!(errs.code_for("contact_window.end").is_none());
    }
}
