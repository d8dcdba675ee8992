//! A partner at scale: generated customers with realistic, skewed numbers of
//! users, company names and domains, all deterministic from a seed; and the
//! partner-wide request budget (a token bucket).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::tenant::{Rng, ascii_fold, mix};

/// The size tiers of generated customers: (share of the customers, fewest
/// users, most users). The rest are small, [`SMALL`]. Sizes are log-uniform
/// within a tier. The mix is the fake's choice (the notes publish no
/// distribution): it gives about 200 users per customer on average, so 500
/// customers have about 100,000 users and 5,000 about a million.
pub(crate) const TIERS: [(f64, u32, u32); 3] = [
    // A few with tens of thousands.
    (0.004, 10_000, 40_000),
    // Some with hundreds to a few thousand.
    (0.04, 600, 3_000),
    (0.20, 60, 600),
];
/// The small customers: a few to a few dozen users.
pub(crate) const SMALL: (u32, u32) = (2, 60);

const STEMS: &[&str] = &[
    "Northwind",
    "Fabrikam",
    "Tailspin",
    "Adatum",
    "Litware",
    "Proseware",
    "Woodgrove",
    "Wingtip",
    "Alpine Ski",
    "Blue Yonder",
    "Coho",
    "Fourth Coffee",
    "Humongous",
    "Lucerne",
    "Margie's",
    "Relecloud",
    "Trey",
    "Wide World",
    "Lamna",
    "Munson's",
    "Consolidated",
    "VanArsdel",
    "Bellows",
    "Southridge",
    "Graphic Design",
    "Müller",
    "Bäckerei Schäfer",
    "Zoë's",
    "Łódź",
    "Søndergaard",
    "Café Lumière",
    "Núñez",
    "Åkesson",
    "Dvořák",
    "Nguyễn",
    "Yamada",
    "O'Connor",
    "Château Bellevue",
    "Ibérica",
    "Nordlys",
];

const SECTORS: &[&str] = &[
    "Traders",
    "Insurance",
    "Airlines",
    "Toys",
    "Publishing",
    "Research",
    "Bank",
    "Hotels",
    "Winery",
    "Logistics",
    "Pharma",
    "Foods",
    "Energy",
    "Software",
    "Consulting",
    "Healthcare",
    "Architects",
    "Motors",
    "Textiles",
    "Legal",
];

const FORMS: &[&str] = &[
    "Ltd.",
    "Inc.",
    "GmbH",
    "S.A.",
    "B.V.",
    "AB",
    "LLC",
    "plc",
    "K.K.",
    "Sp. z o.o.",
    "A/S",
    "S.r.l.",
];

/// A generated customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Generated {
    pub(crate) id: String,
    pub(crate) company_name: String,
    pub(crate) domain: String,
    /// Active users (deleted ones come on top: about 5% more).
    pub(crate) users: u32,
}

/// The number of active users of each of `count` customers of the partner
/// `seed`: shares of [`TIERS`] (rounded), each tier's sizes stratified over
/// its range (so the total varies little from seed to seed), shuffled.
pub(crate) fn customer_sizes(count: usize, seed: u64) -> Vec<u32> {
    let mut rng = Rng::new(mix(seed ^ 0x0051_23e5));
    let mut sizes = Vec::with_capacity(count);
    let tier = |n: usize, low: u32, high: u32, sizes: &mut Vec<u32>, rng: &mut Rng| {
        let (low, high) = (f64::from(low).ln(), f64::from(high).ln());
        for k in 0..n {
            let q = (k as f64 + rng.unit()) / n as f64;
            sizes.push((low + q * (high - low)).exp().round() as u32);
        }
    };
    for (share, low, high) in TIERS {
        let n = ((count as f64 * share).round() as usize).min(count - sizes.len());
        tier(n, low, high, &mut sizes, &mut rng);
    }
    let rest = count - sizes.len();
    tier(rest, SMALL.0, SMALL.1, &mut sizes, &mut rng);
    rng.shuffle(&mut sizes);
    sizes
}

/// `count` customers of the partner `seed`: ids, company names (some with
/// non-ASCII letters), distinct `*.onmicrosoft.com` domains and sizes.
pub(crate) fn generate_customers(count: usize, seed: u64) -> Vec<Generated> {
    let sizes = customer_sizes(count, seed);
    let mut rng = Rng::new(mix(seed ^ 0xc0_5701_3e45));
    let mut domains = HashSet::with_capacity(count);
    sizes
        .into_iter()
        .map(|users| {
            let id = rng.guid();
            let stem = rng.pick(STEMS);
            let sector = rng.pick(SECTORS);
            let form = rng.pick(FORMS);
            let company_name = format!("{stem} {sector} {form}");
            let mut label: String = ascii_fold(&format!("{stem}{sector}"));
            label.truncate(24);
            let mut domain = format!("{label}.onmicrosoft.com");
            let mut n = 2;
            while !domains.insert(domain.clone()) {
                domain = format!("{label}{n}.onmicrosoft.com");
                n += 1;
            }
            Generated {
                id,
                company_name,
                domain,
                users,
            }
        })
        .collect()
}

/// Which of `count` generated customers have no relationship and which are
/// deleted: `without` and `deleted` distinct ones, picked from the seed.
pub(crate) fn marked_customers(
    count: usize,
    seed: u64,
    without: usize,
    deleted: usize,
) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..count).collect();
    Rng::new(mix(seed ^ 0xdead_0403)).shuffle(&mut order);
    let without = without.min(count);
    let deleted = deleted.min(count - without);
    let mut no_relationship = order[..without].to_vec();
    let mut gone = order[without..without + deleted].to_vec();
    no_relationship.sort_unstable();
    gone.sort_unstable();
    (no_relationship, gone)
}

/// The partner-wide request budget: a token bucket of `burst` requests,
/// refilled at `rate` per second, full at the start. A request takes one
/// token or, when there is none, is refused with the whole seconds until
/// one will be there (at least 1). Refused requests take nothing.
#[derive(Debug)]
pub(crate) struct Budget {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Budget {
    pub(crate) fn new(rate: f64, burst: f64, now: Instant) -> Self {
        Budget {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Admits a request arriving at `now`, or says after how many whole
    /// seconds one would be admitted.
    pub(crate) fn take(&mut self, now: Instant) -> Result<(), u64> {
        let elapsed = now.saturating_duration_since(self.last);
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.burst);
        self.last = self.last.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let wait = Duration::from_secs_f64(((1.0 - self.tokens) / self.rate).min(86_400.0));
        Err(wait.as_secs_f64().ceil().max(1.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_skewed_deterministic_and_total_about_200_each() {
        assert_eq!(customer_sizes(500, 1), customer_sizes(500, 1));
        assert_ne!(customer_sizes(500, 1), customer_sizes(500, 2));
        for seed in 0..20 {
            let sizes = customer_sizes(500, seed);
            let total: u64 = sizes.iter().map(|&s| u64::from(s)).sum();
            assert!((85_000..=125_000).contains(&total), "seed {seed}: {total}");
            let small = sizes.iter().filter(|&&s| s <= 60).count();
            assert!(small >= 350, "{small}");
            assert_eq!(sizes.iter().filter(|&&s| s >= 10_000).count(), 2);
            assert!(sizes.iter().all(|&s| s >= 2));
        }
        let million: u64 = customer_sizes(5_000, 9).iter().map(|&s| u64::from(s)).sum();
        assert!((900_000..=1_200_000).contains(&million), "{million}");
        assert_eq!(customer_sizes(1, 3).len(), 1);
        assert!(customer_sizes(0, 3).is_empty());
    }

    #[test]
    fn customers_have_distinct_ids_and_domains() {
        let customers = generate_customers(2_000, 4);
        assert_eq!(customers, generate_customers(2_000, 4));
        let ids: HashSet<&str> = customers.iter().map(|c| c.id.as_str()).collect();
        let domains: HashSet<&str> = customers.iter().map(|c| c.domain.as_str()).collect();
        assert_eq!(ids.len(), 2_000);
        assert_eq!(domains.len(), 2_000);
        assert!(customers.iter().all(|c| c.domain.is_ascii()));
        assert!(customers.iter().any(|c| !c.company_name.is_ascii()));
        let (without, deleted) = marked_customers(100, 4, 3, 2);
        assert_eq!((without.len(), deleted.len()), (3, 2));
        assert!(without.iter().all(|i| !deleted.contains(i)));
        assert_eq!((without, deleted), marked_customers(100, 4, 3, 2));
    }

    #[test]
    fn the_budget_admits_the_burst_then_the_rate() {
        let start = Instant::now();
        let mut budget = Budget::new(10.0, 5.0, start);
        for _ in 0..5 {
            assert_eq!(budget.take(start), Ok(()));
        }
        assert_eq!(budget.take(start), Err(1));
        // 0.1 s later, one more token.
        let later = start + Duration::from_millis(100);
        assert_eq!(budget.take(later), Ok(()));
        assert_eq!(budget.take(later), Err(1));
        // A slow budget says how long to wait.
        let mut slow = Budget::new(0.25, 1.0, start);
        assert_eq!(slow.take(start), Ok(()));
        assert_eq!(slow.take(start), Err(4));
    }
}
