//! The people a history's cashiers capture: each with one phone, email, passport and cédula,
//! no two sharing any, typed in every written form a counter sees, with any subset of keys.

use super::rng::Rng;
use pos_core::CustomerInput;

const FIRST: [&str; 8] = ["José", "María", "Ana", "Luis", "Andrés", "Carmen", "Jesús", "Inés"];
const SURNAME: [&str; 8] = ["Pérez", "Rodríguez", "González", "Hernández", "Martínez", "Gómez", "Díaz", "Peña"];
const PREFIXES: [&str; 5] = ["412", "414", "416", "424", "426"];
pub const CITIES: [&str; 5] = ["Caracas", "Valencia", "Maracay", "Mérida", "Barquisimeto"];

#[derive(Debug, Clone)]
pub struct Person {
    first: &'static str,
    surname: &'static str,
    /// Seven digits after the mobile prefix.
    phone: u32,
    prefix: &'static str,
    cedula: u32,
    passport: u32,
    email: String,
}

/// `n` people with distinct keys (names may repeat: two people can share a name).
pub fn people(rng: &mut Rng, n: usize) -> Vec<Person> {
    (0..n)
        .map(|i| {
            let first = *rng.pick(&FIRST);
            let surname = *rng.pick(&SURNAME);
            Person {
                first,
                surname,
                phone: 1_000_000 + (i as u32) * 7_919 + rng.below(7_000) as u32,
                prefix: PREFIXES[rng.below(PREFIXES.len())],
                cedula: 4_000_000 + (i as u32) * 104_729 + rng.below(100_000) as u32,
                passport: 100_000 + (i as u32) * 811 + rng.below(800) as u32,
                email: format!("{}.{}{i}@correo.com", ascii(first), ascii(surname)),
            }
        })
        .collect()
}

fn ascii(s: &str) -> String {
    pos_core::text::fold(s).replace(' ', "")
}

/// One way a name is typed: as written, lower-cased, upper-cased, without accents.
fn written_name(rng: &mut Rng, name: &str) -> String {
    match rng.below(4) {
        0 => name.to_owned(),
        1 => name.to_lowercase(),
        2 => name.to_uppercase(),
        _ => {
            pos_core::text::fold(name).split(' ').map(|w| w[..1].to_uppercase() + &w[1..]).collect::<Vec<_>>().join(" ")
        }
    }
}

/// The keys a capture carries.
#[derive(Debug, Clone, Copy)]
pub struct Keys {
    pub phone: bool,
    pub email: bool,
    pub passport: bool,
    pub cedula: bool,
}

impl Keys {
    /// Any subset with a phone or an email (a customer needs one of them).
    pub fn any(rng: &mut Rng) -> Keys {
        loop {
            let k = Keys {
                phone: rng.percent(60),
                email: rng.percent(45),
                passport: rng.percent(20),
                cedula: rng.percent(50),
            };
            if k.phone || k.email {
                return k;
            }
        }
    }

    /// A subset that always holds key `anchor` (0 phone, 1 email, 2 passport, 3 cédula).
    pub fn with(rng: &mut Rng, anchor: usize) -> Keys {
        let mut k = Keys::any(rng);
        match anchor {
            0 => k.phone = true,
            1 => k.email = true,
            2 => k.passport = true,
            _ => k.cedula = true,
        }
        k
    }
}

impl Person {
    /// This person as a cashier types them, with `keys`.
    pub fn capture(&self, rng: &mut Rng, keys: Keys) -> CustomerInput {
        let phone = match rng.below(4) {
            0 => format!(
                "0{}-{}.{:02}.{:02}",
                self.prefix,
                self.phone / 10_000,
                self.phone / 100 % 100,
                self.phone % 100
            ),
            1 => format!("+58 {} {}", self.prefix, self.phone),
            2 => format!("0{}{}", self.prefix, self.phone),
            _ => format!("(0{}) {} {:04}", self.prefix, self.phone / 10_000, self.phone % 10_000),
        };
        let cedula = match rng.below(3) {
            0 => format!("V-{}.{:03}.{:03}", self.cedula / 1_000_000, self.cedula / 1_000 % 1_000, self.cedula % 1_000),
            1 => format!("v{}", self.cedula),
            _ => format!("V {}", self.cedula),
        };
        let email = if rng.percent(50) { self.email.clone() } else { format!(" {} ", self.email.to_uppercase()) };
        let passport = match rng.below(3) {
            0 => format!("P{}", self.passport),
            1 => format!("p {}", self.passport),
            _ => format!("P-{}", self.passport),
        };
        CustomerInput {
            first_name: Some(written_name(rng, self.first)),
            surname: Some(written_name(rng, self.surname)),
            phone: keys.phone.then_some(phone),
            email: keys.email.then_some(email),
            passport_number: keys.passport.then_some(passport),
            identification: keys.cedula.then_some(cedula),
            city: rng.percent(50).then(|| rng.pick(&CITIES).to_string()),
            notes: rng.percent(20).then(|| format!("nota {}", rng.below(100))),
            ..Default::default()
        }
    }
}
