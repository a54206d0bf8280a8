//! Seeds of the random streams: one splitter for every numeric run that needs many
//! independent streams from one `--seed` (Monte Carlo trials, plot and bench trials,
//! perturbations).
//!
//! [`split`] is a keyed hash of the pair (seed, stream): SplitMix64's finalizer, a
//! bijection of 64-bit words with full avalanche, applied to the seed and then to the
//! stream number mixed into it. For a fixed seed distinct streams never get the same
//! generator seed, nor do distinct seeds for a fixed stream, and unrelated pairs
//! coincide with probability 2⁻⁶⁴; neighbouring seeds (`--seed 0`, `--seed 1`) give
//! unrelated streams (the old `seed + 1000003 + trial` made them share all but one
//! trial). The result seeds `ChaCha8Rng::seed_from_u64`, so every run stays
//! reproducible from `--seed`.

/// The domain of the streams a run draws, so that two kinds of run with the same seed
/// never share a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// Monte Carlo trials of moment claims (`claims::montecarlo`).
    MonteCarlo,
    /// Sampled trials of `tq plot`.
    Plot,
    /// Trials of `tq bench` (the warm-up trial is stream 0).
    Bench,
    /// The perturbation that checks whether a tensor depends on another.
    Perturbation,
}

impl Domain {
    fn key(self) -> u64 {
        match self {
            Domain::MonteCarlo => 1,
            Domain::Plot => 2,
            Domain::Bench => 3,
            Domain::Perturbation => 4,
        }
    }
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's finalizer: a bijection on 64-bit words.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator seed of stream `stream` under `seed`: a keyed hash of both words.
pub fn split(seed: u64, stream: u64) -> u64 {
    mix(mix(seed.wrapping_add(GOLDEN)) ^ stream.wrapping_mul(GOLDEN))
}

/// The generator seed of trial `trial` of a run of kind `domain` seeded with `seed`
/// (for `ChaCha8Rng::seed_from_u64`).
pub fn trial_seed(seed: u64, domain: Domain, trial: u64) -> u64 {
    split(split(seed, domain.key()), trial)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::HashSet;

    #[test]
    fn neighbouring_seeds_share_no_trial() {
        // The case: `--seed 0` and `--seed 1` shared 39,999 of 40,000 trials.
        let a: HashSet<u64> = (0..40_000)
            .map(|k| trial_seed(0, Domain::MonteCarlo, k))
            .collect();
        assert_eq!(a.len(), 40_000, "two trials of one seed share a stream");
        for s in 1..4 {
            let shared = (0..40_000)
                .filter(|&k| a.contains(&trial_seed(s, Domain::MonteCarlo, k)))
                .count();
            assert_eq!(shared, 0, "seed {s} shares {shared} trials with seed 0");
        }
    }

    #[test]
    fn domains_do_not_share_streams() {
        let mc: HashSet<u64> = (0..10_000)
            .map(|k| trial_seed(7, Domain::MonteCarlo, k))
            .collect();
        for d in [Domain::Plot, Domain::Bench, Domain::Perturbation] {
            assert!((0..10_000).all(|k| !mc.contains(&trial_seed(7, d, k))));
        }
    }

    #[test]
    fn streams_of_neighbouring_seeds_and_trials_are_uncorrelated() {
        // The first uniform of trial k under seeds s and s + 1, and of trials k and
        // k + 1 under one seed: the sample correlation of 20,000 pairs has standard
        // deviation 1/√20000 ≈ 0.007, so a bound of 0.04 fails only for related streams.
        let first = |s: u64, k: u64| {
            ChaCha8Rng::seed_from_u64(trial_seed(s, Domain::MonteCarlo, k)).random::<f64>()
        };
        let corr = |pairs: &[(f64, f64)]| {
            let n = pairs.len() as f64;
            let (mx, my) = pairs
                .iter()
                .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
            let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
            for (x, y) in pairs {
                sxy += (x - mx) * (y - my);
                sxx += (x - mx) * (x - mx);
                syy += (y - my) * (y - my);
            }
            sxy / (sxx * syy).sqrt()
        };
        let across_seeds: Vec<(f64, f64)> =
            (0..20_000).map(|k| (first(0, k), first(1, k))).collect();
        let across_trials: Vec<(f64, f64)> = (0..20_000)
            .map(|k| (first(3, k), first(3, k + 1)))
            .collect();
        let diagonal: Vec<(f64, f64)> = (0..20_000)
            .map(|k| (first(0, k + 1), first(1, k)))
            .collect();
        for (what, pairs) in [
            ("seeds s, s+1", across_seeds),
            ("trials k, k+1", across_trials),
            ("(s, k+1) and (s+1, k)", diagonal),
        ] {
            let r = corr(&pairs);
            assert!(r.abs() < 0.04, "{what}: correlation {r}");
            // And never the same number (the old scheme gave equal draws on the diagonal).
            assert!(pairs.iter().all(|(x, y)| x != y), "{what}: equal draws");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_streams() {
        assert_eq!(
            trial_seed(42, Domain::Plot, 5),
            trial_seed(42, Domain::Plot, 5)
        );
        assert_ne!(
            trial_seed(42, Domain::Plot, 5),
            trial_seed(42, Domain::Plot, 6)
        );
    }
}
