//! Generated people and their captures for the fault test: the seeded randomness, the written
//! forms a person's names and keys take, and the CSV files the terminals import.

use std::path::Path;
use std::time::Duration;

/// SplitMix64: small, seeded, good enough to pick faults and data.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    pub(crate) fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.below(hi - lo + 1))
    }
}

// --- The people and their written forms ------------------------------------------------------------

pub(crate) const FIRST: [&str; 12] =
    ["José", "María", "Ángel", "Andrés", "Lucía", "Inés", "Ramón", "Sofía", "Jesús", "Begoña", "Nicolás", "Verónica"];
pub(crate) const SURNAME: [&str; 12] = [
    "Pérez",
    "Rodríguez",
    "González",
    "Hernández",
    "Gómez",
    "Díaz",
    "Martínez",
    "Sánchez",
    "Ramírez",
    "Núñez",
    "Peña",
    "Briceño",
];
pub(crate) const CITIES: [&str; 6] = ["Caracas", "Maracaibo", "Valencia", "Barquisimeto", "Mérida", "Puerto La Cruz"];
pub(crate) const PREFIXES: [&str; 5] = ["412", "414", "416", "424", "426"];

pub(crate) fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'Á' => 'a',
            'é' | 'É' => 'e',
            'í' | 'Í' => 'i',
            'ó' | 'Ó' => 'o',
            'ú' | 'Ú' => 'u',
            'ñ' | 'Ñ' => 'n',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// One real person, known by every key.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub(crate) first: &'static str,
    pub(crate) surname: &'static str,
    pub(crate) prefix: &'static str,
    pub(crate) line: u32,
    pub(crate) cedula: u32,
    pub(crate) email: String,
    pub(crate) passport: Option<String>,
}

pub(crate) fn person(k: u32) -> Person {
    let first = FIRST[k as usize % FIRST.len()];
    let surname = SURNAME[(k as usize / FIRST.len()) % SURNAME.len()];
    Person {
        first,
        surname,
        prefix: PREFIXES[k as usize % PREFIXES.len()],
        line: 1_000_000 + k,
        cedula: 10_000_000 + k,
        email: format!("{}.{}{k}@correo.com", fold(first), fold(surname)),
        passport: k.is_multiple_of(3).then(|| format!("AB{:06}", k % 1_000_000)),
    }
}

/// `12345678` → `12.345.678`.
pub(crate) fn dotted(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

impl Person {
    pub(crate) fn phone(&self, rng: &mut Rng) -> String {
        let (p, l) = (self.prefix, self.line.to_string());
        match rng.below(5) {
            0 => format!("0{p}-{}.{}.{}", &l[..3], &l[3..5], &l[5..]),
            1 => format!("+58 {p} {l}"),
            2 => format!("0{p}{l}"),
            3 => format!("(0{p}) {} {} {}", &l[..3], &l[3..5], &l[5..]),
            _ => format!("58 {p}-{}-{}", &l[..3], &l[3..]),
        }
    }
    pub(crate) fn identification(&self, rng: &mut Rng) -> String {
        match rng.below(4) {
            0 => format!("V-{}", dotted(self.cedula)),
            1 => format!("v{}", self.cedula),
            2 => format!("V {}", self.cedula),
            _ => dotted(self.cedula),
        }
    }
    pub(crate) fn email(&self, rng: &mut Rng) -> String {
        match rng.below(3) {
            0 => self.email.clone(),
            1 => {
                let (local, domain) = self.email.split_once('@').expect("email");
                let mut c = local.chars();
                let head: String = c.next().into_iter().flat_map(char::to_uppercase).collect();
                format!("{head}{}@{}", c.as_str(), domain.replace("correo", "Correo").replace(".com", ".COM"))
            }
            _ => self.email.to_uppercase(),
        }
    }
    pub(crate) fn passport(&self, rng: &mut Rng) -> Option<String> {
        let p = self.passport.as_ref()?;
        Some(match rng.below(3) {
            0 => format!("{} {}", p[..2].to_lowercase(), &p[2..]),
            1 => format!("{}-{}", &p[..2], &p[2..]),
            _ => p.clone(),
        })
    }
    pub(crate) fn names(&self, rng: &mut Rng) -> (String, String) {
        match rng.below(3) {
            0 => (self.first.to_owned(), self.surname.to_owned()),
            1 => (fold(self.first), fold(self.surname)),
            _ => (self.first.to_uppercase(), self.surname.to_uppercase()),
        }
    }

    /// One capture of this person: a random subset of keys (a phone or an email always: the
    /// terminal requires one), each in a random written form, and some other fields.
    pub(crate) fn capture(&self, rng: &mut Rng, who: &str) -> Capture {
        let (first, surname) = self.names(rng);
        let mut phone = rng.chance(0.7).then(|| self.phone(rng));
        let email = rng.chance(0.5).then(|| self.email(rng));
        if phone.is_none() && email.is_none() {
            phone = Some(self.phone(rng));
        }
        Capture {
            first,
            surname,
            phone,
            email,
            identification: rng.chance(0.5).then(|| self.identification(rng)),
            passport: if rng.chance(0.4) { self.passport(rng) } else { None },
            city: rng.chance(0.5).then(|| rng.pick(&CITIES).to_string()),
            address: rng.chance(0.2).then(|| format!("Av. {}, casa {}", rng.pick(&SURNAME), rng.below(90) + 1)),
            notes: rng.chance(0.3).then(|| format!("capturado en {who}")),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Capture {
    pub(crate) first: String,
    pub(crate) surname: String,
    pub(crate) phone: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) identification: Option<String>,
    pub(crate) passport: Option<String>,
    pub(crate) city: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) notes: Option<String>,
}

pub(crate) const CSV_HEADER: &str =
    "first_name,surname,phone,email,identification,passport_number,city,address,notes\n";

pub(crate) fn csv_field(s: Option<&str>) -> String {
    s.map(|s| format!("\"{}\"", s.replace('"', "\"\""))).unwrap_or_default()
}

impl Capture {
    pub(crate) fn csv_row(&self) -> String {
        let fields = [
            Some(self.first.as_str()),
            Some(self.surname.as_str()),
            self.phone.as_deref(),
            self.email.as_deref(),
            self.identification.as_deref(),
            self.passport.as_deref(),
            self.city.as_deref(),
            self.address.as_deref(),
            self.notes.as_deref(),
        ];
        let mut row = fields.map(csv_field).join(",");
        row.push('\n');
        row
    }

    /// The same capture as command-line flags (`add`, `sale`).
    pub(crate) fn flags(&self) -> Vec<String> {
        let mut flags = vec!["--name".into(), self.first.clone(), "--surname".into(), self.surname.clone()];
        let optional = [
            ("--phone", &self.phone),
            ("--email", &self.email),
            ("--identification", &self.identification),
            ("--passport", &self.passport),
            ("--city", &self.city),
            ("--address", &self.address),
            ("--notes", &self.notes),
        ];
        for (flag, value) in optional {
            if let Some(v) = value {
                flags.push(flag.into());
                flags.push(v.clone());
            }
        }
        flags
    }
}

pub(crate) fn write_csv(path: &Path, rows: &[Capture]) {
    let mut text = String::from(CSV_HEADER);
    for row in rows {
        text.push_str(&row.csv_row());
    }
    std::fs::write(path, text).expect("write CSV");
}

/// The captures of the terminal offline for a week: `count` in all over seven days, most of
/// people only that terminal sees, some of `people` (everyone's).
pub(crate) fn week_captures(rng: &mut Rng, people: &[Person], count: usize) -> Vec<Vec<Capture>> {
    let per_day = count.div_ceil(7);
    let mut left = count;
    (0..7)
        .map(|day| {
            let today = per_day.min(left);
            left -= today;
            (0..today)
                .map(|j| {
                    // Most are people only this terminal sees; some are everyone's.
                    let someone = if rng.chance(0.15) {
                        rng.pick(people).clone()
                    } else {
                        person(2_000_000 + (day * per_day + j) as u32)
                    };
                    someone.capture(rng, "Caja semana")
                })
                .collect()
        })
        .collect()
}
