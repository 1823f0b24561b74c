//! A history's seeded choices: pos-demo's generator (SplitMix64), with the helpers a history
//! uses.

#[derive(Debug, Clone)]
pub struct Rng(pos_demo::Rng);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(pos_demo::Rng::new(seed))
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True `percent` times in a hundred.
    pub fn percent(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        self.0.pick(items)
    }

    /// A generator of its own, for a part of the history whose draws must not shift the rest.
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.0.next_u64())
    }
}
