//! Generated customers that look like a Venezuelan shop's: Spanish names with accents, mobile
//! numbers on every current prefix, V- and E- cédulas, some emails and passports, spread over
//! the country's cities and three years. The same seed always gives the same customers, and
//! every identifier is unique by construction (a permutation of the index), so a million rows
//! hold no accidental duplicates.

use chrono::{DateTime, Duration, TimeZone, Utc};
use pos_core::customer::MERGED_FIELDS;
use pos_core::hlc::node_of;
use pos_core::text::fold;
use pos_core::{Customer, Hlc, Source};
use uuid::Uuid;

pub const FIRST_NAMES: &[&str] = &[
    "José",
    "María",
    "Luis",
    "Carmen",
    "Carlos",
    "Ana",
    "Juan",
    "Rosa",
    "Jesús",
    "Luisa",
    "Pedro",
    "Yolanda",
    "Miguel",
    "Gabriela",
    "Andrés",
    "Daniela",
    "Ángel",
    "Mariana",
    "Rafael",
    "Andreína",
    "Fernando",
    "Valentina",
    "Alejandro",
    "Isabel",
    "Manuel",
    "Beatriz",
    "Jorge",
    "Verónica",
    "Ricardo",
    "Natalia",
    "Francisco",
    "Lucía",
    "Eduardo",
    "Sofía",
    "Óscar",
    "Paola",
    "Héctor",
    "Alejandra",
    "Ramón",
    "Milagros",
    "Víctor",
    "Josefina",
    "Simón",
    "Génesis",
    "Néstor",
    "Yusmary",
    "Wilmer",
    "Yelitza",
    "Darwin",
    "Oriana",
];

pub const SURNAMES: &[&str] = &[
    "González",
    "Rodríguez",
    "Pérez",
    "Hernández",
    "García",
    "Martínez",
    "López",
    "Díaz",
    "Sánchez",
    "Romero",
    "Ramírez",
    "Torres",
    "Flores",
    "Rojas",
    "Morales",
    "Castillo",
    "Álvarez",
    "Gutiérrez",
    "Medina",
    "Suárez",
    "Jiménez",
    "Chacón",
    "Briceño",
    "Méndez",
    "Contreras",
    "Guzmán",
    "Marcano",
    "Salazar",
    "Bolívar",
    "Peña",
    "Núñez",
    "Rivas",
    "Zambrano",
    "Carrasquel",
    "Mújica",
    "Urdaneta",
    "Villalobos",
    "Ochoa",
    "Arráiz",
    "Quintero",
    "Montilla",
    "Linares",
    "Colmenares",
    "Aponte",
    "Bracho",
    "Parra",
    "Acosta",
    "Escalona",
    "Figueroa",
    "Viloria",
];

pub const CITIES: &[&str] = &[
    "Caracas",
    "Maracaibo",
    "Valencia",
    "Barquisimeto",
    "Maracay",
    "Ciudad Guayana",
    "Barcelona",
    "Maturín",
    "Puerto La Cruz",
    "Mérida",
    "San Cristóbal",
    "Cumaná",
    "Barinas",
    "Cabimas",
    "Coro",
    "Los Teques",
    "Guarenas",
    "Punto Fijo",
    "Acarigua",
    "Porlamar",
];

const MOBILE_PREFIXES: [&str; 6] = ["412", "414", "416", "422", "424", "426"];
const DOMAINS: [&str; 5] = ["gmail.com", "hotmail.com", "yahoo.es", "outlook.com", "cantv.net"];

/// SplitMix64: tiny, fast and good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A bijection on `0..modulus` (multiplier coprime with the modulus), so distinct indexes give
/// distinct identifiers that still look random.
fn permute(i: u64, modulus: u64, multiplier: u64) -> u64 {
    (i.wrapping_mul(multiplier) + 12_345) % modulus
}

/// The organisation demo and benchmark customers belong to before a terminal registers.
pub fn demo_organization() -> Uuid {
    Uuid::nil()
}

/// Customer number `i` of the generated population with `seed`.
pub fn customer(seed: u64, i: u64) -> Customer {
    let mut rng = Rng::new(seed ^ i.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let first_name = (*rng.pick(FIRST_NAMES)).to_owned();
    let surname = if rng.chance(70) {
        format!("{} {}", rng.pick(SURNAMES), rng.pick(SURNAMES))
    } else {
        (*rng.pick(SURNAMES)).to_owned()
    };
    let phone = format!("+58{}{:07}", MOBILE_PREFIXES[(i % 6) as usize], permute(i / 6, 10_000_000, 7_919_993));
    let foreign = rng.chance(8);
    let cedula_number = if foreign {
        80_000_000 + permute(i, 20_000_000, 3_000_017)
    } else {
        3_000_000 + permute(i, 30_000_000, 7_000_003)
    };
    let identification = format!("{}-{}", if foreign { 'E' } else { 'V' }, cedula_number);
    let email = rng.chance(70).then(|| {
        let local = fold(&format!("{}.{}", first_name, surname.split(' ').next().unwrap_or_default()));
        format!("{}{}@{}", local.replace(' ', ""), i, rng.pick(&DOMAINS))
    });
    let passport_number =
        rng.chance(15).then(|| format!("{}{:08}", if foreign { "X" } else { "V" }, permute(i, 100_000_000, 9_999_991)));
    let start = Utc.with_ymd_and_hms(2023, 11, 1, 0, 0, 0).single().expect("valid date");
    let created_at: DateTime<Utc> = start + Duration::seconds(rng.below(3 * 365 * 86_400) as i64);
    let device = Uuid::from_u128(0xdead_beef);
    let hlc = Hlc { wall_ms: created_at.timestamp_millis() as u64, counter: 0, node: node_of(device) };
    Customer {
        id: Uuid::from_u64_pair(seed, i),
        organization_id: demo_organization(),
        branch_id: None,
        first_name,
        surname,
        phone: Some(phone),
        email,
        identification: Some(identification),
        passport_number,
        date_of_birth: rng.chance(40).then(|| {
            chrono::NaiveDate::from_ymd_opt(
                1940 + rng.below(65) as i32,
                1 + rng.below(12) as u32,
                1 + rng.below(28) as u32,
            )
            .expect("valid date")
        }),
        address: None,
        city: Some((*rng.pick(CITIES)).to_owned()),
        notes: None,
        source: *rng.pick(&[Source::Pos, Source::Pos, Source::Pos, Source::Manual, Source::Lead, Source::Booking]),
        service_type: None,
        is_active: rng.chance(95),
        last_activity: None,
        created_at,
        updated_at: created_at,
        merged_into: None,
        clocks: MERGED_FIELDS.iter().map(|f| (f.to_string(), hlc)).collect(),
    }
}

/// A generated customer as the change a terminal would push to create it.
pub fn as_change(customer: &Customer, device: Uuid) -> pos_core::wire::Change {
    pos_core::wire::Change {
        change_id: Uuid::now_v7(),
        device_id: device,
        body: pos_core::wire::ChangeBody::Customer { id: customer.id, fields: customer.to_fields() },
    }
}

/// The national written form a cashier would type for an E.164 Venezuelan number:
/// `+584141234567` → `0414-123.45.67`.
pub fn national_phone(e164: &str) -> String {
    let d = e164.trim_start_matches("+58");
    if d.len() == 10 {
        format!("0{}-{}.{}.{}", &d[..3], &d[3..6], &d[6..8], &d[8..])
    } else {
        e164.to_owned()
    }
}

/// A cédula as people write it: `V-12345678` → `v12.345.678`.
pub fn dotted_cedula(canonical: &str) -> String {
    let (letter, digits) = canonical.split_once('-').unwrap_or(("V", canonical));
    let mut groups = Vec::new();
    let mut rest = digits;
    while rest.len() > 3 {
        let (head, tail) = rest.split_at(rest.len() - 3);
        groups.push(tail);
        rest = head;
    }
    groups.push(rest);
    groups.reverse();
    format!("{}{}", letter.to_lowercase(), groups.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pos_core::{validate_customer, CustomerInput};
    use std::collections::HashSet;

    #[test]
    fn generated_customers_are_valid_deterministic_and_unique() {
        let mut phones = HashSet::new();
        let mut cedulas = HashSet::new();
        for i in 0..5_000 {
            let c = customer(42, i);
            assert_eq!(c, customer(42, i));
            let input = CustomerInput {
                first_name: Some(c.first_name.clone()),
                surname: Some(c.surname.clone()),
                phone: c.phone.as_deref().map(national_phone),
                email: c.email.clone(),
                identification: c.identification.as_deref().map(dotted_cedula),
                passport_number: c.passport_number.clone(),
                ..Default::default()
            };
            let valid = validate_customer(&input, chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap())
                .unwrap_or_else(|e| panic!("{i}: {e}"));
            assert_eq!(valid.phone, c.phone, "written forms normalise back");
            assert_eq!(valid.identification, c.identification);
            assert!(phones.insert(c.phone.unwrap()));
            assert!(cedulas.insert(c.identification.unwrap()));
        }
    }
}
