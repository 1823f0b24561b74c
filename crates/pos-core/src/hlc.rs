//! Hybrid logical clock: (wall milliseconds, counter, node) timestamps that order every write
//! of every device totally, stay monotonic when a wall clock steps back, and bound how far a
//! device with a clock set in the future can run ahead.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// A remote clock more than this far ahead of our wall clock is not believed.
pub const MAX_DRIFT_MS: u64 = 5 * 60 * 1000;

/// One timestamp. Ordered by wall time, then counter, then node (the device), so two distinct
/// devices never produce equal timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hlc {
    pub wall_ms: u64,
    pub counter: u32,
    pub node: u64,
}

impl Hlc {
    pub const ZERO: Hlc = Hlc { wall_ms: 0, counter: 0, node: 0 };
}

/// The node part of a device's timestamps: the low 64 bits of its id.
pub fn node_of(device: Uuid) -> u64 {
    device.as_u64_pair().1
}

/// Length of the text form: 16 decimal digits, 8 and 16 hex digits, two dashes.
const TEXT_LEN: usize = 42;

impl Hlc {
    /// The text form written into `buf` by hand: a customer carries fifteen clocks and the
    /// server writes every one of them on each push and pull, where `fmt`'s padding machinery
    /// showed in profiles. `None` past 16 decimal digits of milliseconds (year 318,857).
    fn write_text(self, buf: &mut [u8; TEXT_LEN]) -> Option<&str> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        if self.wall_ms > 9_999_999_999_999_999 {
            return None;
        }
        let mut wall = self.wall_ms;
        for digit in buf[..16].iter_mut().rev() {
            *digit = b'0' + (wall % 10) as u8;
            wall /= 10;
        }
        buf[16] = b'-';
        for (i, digit) in buf[17..25].iter_mut().enumerate() {
            *digit = HEX[(self.counter >> (28 - 4 * i) & 0xf) as usize];
        }
        buf[25] = b'-';
        for (i, digit) in buf[26..].iter_mut().enumerate() {
            *digit = HEX[(self.node >> (60 - 4 * i) & 0xf) as usize];
        }
        std::str::from_utf8(buf).ok()
    }
}

impl fmt::Display for Hlc {
    /// Fixed-width so the text form sorts like the value: `0001732000000000-00000000-00ab…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.write_text(&mut [0; TEXT_LEN]) {
            Some(text) => f.write_str(text),
            None => write!(f, "{:016}-{:08x}-{:016x}", self.wall_ms, self.counter, self.node),
        }
    }
}

/// Error parsing the text form of an [`Hlc`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed HLC timestamp: {0:?}")]
pub struct ParseHlcError(String);

impl FromStr for Hlc {
    type Err = ParseHlcError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseHlcError(s.to_owned());
        let mut parts = s.split('-');
        let (Some(w), Some(c), Some(n), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(err());
        };
        Ok(Hlc {
            wall_ms: w.parse().map_err(|_| err())?,
            counter: u32::from_str_radix(c, 16).map_err(|_| err())?,
            node: u64::from_str_radix(n, 16).map_err(|_| err())?,
        })
    }
}

impl Serialize for Hlc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.write_text(&mut [0; TEXT_LEN]) {
            Some(text) => s.serialize_str(text),
            None => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// The clock of one device (or of the server).
#[derive(Debug, Clone)]
pub struct HlcClock {
    last: Hlc,
    node: u64,
}

impl HlcClock {
    /// A clock for `node` that continues after `last` (persisted by the caller across restarts).
    pub fn new(node: u64, last: Hlc) -> Self {
        Self { last, node }
    }

    pub fn last(&self) -> Hlc {
        self.last
    }

    /// A timestamp for a local event at wall time `now_ms`, greater than every earlier one.
    pub fn tick(&mut self, now_ms: u64) -> Hlc {
        let next = if now_ms > self.last.wall_ms {
            Hlc { wall_ms: now_ms, counter: 0, node: self.node }
        } else if self.last.counter == u32::MAX {
            // Four billion events in one millisecond: borrow the next millisecond.
            Hlc { wall_ms: self.last.wall_ms + 1, counter: 0, node: self.node }
        } else {
            Hlc { wall_ms: self.last.wall_ms, counter: self.last.counter + 1, node: self.node }
        };
        self.last = next;
        next
    }

    /// Folds in a timestamp received from elsewhere, so our next tick orders after it.
    /// A remote timestamp more than [`MAX_DRIFT_MS`] ahead of `now_ms` is refused, and the
    /// caller restamps the change with its own clock instead.
    pub fn observe(&mut self, remote: Hlc, now_ms: u64) -> Result<(), ClockDrift> {
        if remote.wall_ms > now_ms.saturating_add(MAX_DRIFT_MS) {
            return Err(ClockDrift { ahead_ms: remote.wall_ms - now_ms });
        }
        if remote > self.last {
            self.last = Hlc { wall_ms: remote.wall_ms, counter: remote.counter, node: self.node };
        }
        Ok(())
    }
}

/// A remote clock too far ahead of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("remote clock is {ahead_ms} ms ahead")]
pub struct ClockDrift {
    pub ahead_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_monotonic_even_when_the_wall_clock_steps_back() {
        let mut c = HlcClock::new(7, Hlc::ZERO);
        let a = c.tick(1_000);
        let b = c.tick(900);
        let d = c.tick(1_000);
        assert!(a < b && b < d);
        assert_eq!(b.wall_ms, 1_000);
    }

    #[test]
    fn counter_overflow_moves_to_the_next_millisecond() {
        let mut c = HlcClock::new(1, Hlc { wall_ms: 10, counter: u32::MAX, node: 1 });
        let next = c.tick(5);
        assert_eq!((next.wall_ms, next.counter), (11, 0));
    }

    #[test]
    fn observe_orders_after_remote_and_refuses_far_future() {
        let mut c = HlcClock::new(1, Hlc::ZERO);
        let remote = Hlc { wall_ms: 5_000, counter: 3, node: 9 };
        c.observe(remote, 4_000).unwrap();
        assert!(c.tick(4_000) > remote);
        let future = Hlc { wall_ms: 4_000 + MAX_DRIFT_MS + 1, counter: 0, node: 9 };
        assert!(c.observe(future, 4_000).is_err());
    }

    #[test]
    fn text_form_round_trips_and_sorts_like_the_value() {
        let a = Hlc { wall_ms: 1_732_000_000_000, counter: 2, node: 0xabc };
        let b = Hlc { wall_ms: 1_732_000_000_000, counter: 10, node: 1 };
        assert_eq!(a.to_string().parse::<Hlc>().unwrap(), a);
        assert_eq!(a < b, a.to_string() < b.to_string());
        assert!("12-x-1".parse::<Hlc>().is_err());
    }

    #[test]
    fn hand_written_text_form_matches_the_format_string() {
        let clocks = [
            Hlc::ZERO,
            Hlc { wall_ms: 1_732_000_000_000, counter: 0xdead_beef, node: u64::MAX },
            Hlc { wall_ms: 9_999_999_999_999_999, counter: u32::MAX, node: 0x0123_4567_89ab_cdef },
            Hlc { wall_ms: u64::MAX, counter: 1, node: 2 },
        ];
        for hlc in clocks {
            let expected = format!("{:016}-{:08x}-{:016x}", hlc.wall_ms, hlc.counter, hlc.node);
            assert_eq!(hlc.to_string(), expected);
            assert_eq!(serde_json::to_string(&hlc).unwrap(), format!("\"{expected}\""));
            assert_eq!(expected.parse::<Hlc>().unwrap(), hlc);
        }
    }
}
