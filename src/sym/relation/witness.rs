//! The witness of a refutation: the point, both values, and how the failure was re-checked.

use super::{show, simplest_near};
use num_rational::BigRational;
use std::collections::BTreeMap;

/// A point at which the relation fails, re-checked by a path other than the one that
/// found it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Witness {
    /// The value of every symbol of the claim (empty for constants); for a refutation
    /// by a sampled run or Monte Carlo, every size and symbol of the run.
    pub point: BTreeMap<String, BigRational>,
    /// The left side there (exact, or `≈` a floating-point value, or its range; a
    /// Monte Carlo estimate).
    pub left: String,
    /// The right side there.
    pub right: String,
    /// How the failure was re-checked: `exact evaluation`, `interval enclosure`,
    /// `range`, the gather form of the backward program, the halves of the trials.
    pub checked_by: String,
    /// Sampled runs and Monte Carlo: the element (`b = 0, t = 1, c = 0`), the
    /// statement of an `includes` block, or the layer or step the moments are taken at.
    pub element: Option<String>,
    /// Sampled runs and Monte Carlo: the seed of the run or of the trials.
    pub seed: Option<u64>,
    /// Monte Carlo: the estimate of left − right, its interval (estimate ± z standard
    /// errors) and the number of trials.
    pub estimate: Option<String>,
}

impl Witness {
    /// `at a = 2, b = 1: left 2/9, right 1/9` (`left …, right …` for constants).
    pub fn describe(&self) -> String {
        let values = format!(
            "left {}, right {}",
            abbreviated(&self.left),
            abbreviated(&self.right)
        );
        if self.point.is_empty() {
            values
        } else {
            format!("at {}: {values}", show(&self.point))
        }
    }

    /// A witness of a sampled run or of Monte Carlo: the run's sizes and symbols (as
    /// exact rationals where the sample value is one), the element, the seed.
    pub fn of_run(
        values: &BTreeMap<String, f64>,
        element: String,
        seed: u64,
        left: String,
        right: String,
        checked_by: String,
    ) -> Witness {
        let point = values
            .iter()
            .filter_map(|(k, v)| {
                let r = BigRational::from_float(*v)?;
                // Sample values are written as short decimals or fractions: the
                // simplest rational within rounding of the float stands for it.
                Some((k.clone(), simplest_near(*v).unwrap_or(r)))
            })
            .collect();
        Witness {
            point,
            left,
            right,
            checked_by,
            element: Some(element),
            seed: Some(seed),
            estimate: None,
        }
    }

    /// The JSON form: `{"point":{"x":"1/2"},"left","right","checked_by"}`.
    pub fn to_json(&self) -> serde_json::Value {
        let point: serde_json::Map<String, serde_json::Value> = self
            .point
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.to_string())))
            .collect();
        let mut out = serde_json::json!({
            "point": point,
            "left": self.left,
            "right": self.right,
            "checked_by": self.checked_by,
        });
        // The fields of sampled-run and Monte Carlo witnesses, only where they apply.
        if let Some(o) = out.as_object_mut() {
            if let Some(e) = &self.element {
                o.insert("element".into(), serde_json::Value::String(e.clone()));
            }
            if let Some(s) = self.seed {
                o.insert("seed".into(), serde_json::json!(s));
            }
            if let Some(e) = &self.estimate {
                o.insert("estimate".into(), serde_json::Value::String(e.clone()));
            }
        }
        out
    }
}

/// The most digits a whole number of a witness is printed with in the evidence text.
const SHOWN_DIGITS: usize = 40;

/// A value of a witness as the evidence text shows it: an exact rational whose numerator
/// or denominator has more than [`SHOWN_DIGITS`] digits with its leading digits and its
/// power of ten (`4e400 (401 digits)` for 4·10⁴⁰⁰), so a line stays readable (probe38/h
/// k19: a 401-digit integer was printed whole); the witness itself (JSON) keeps the exact
/// value. Anything else (an expression, a float) as it is.
pub fn abbreviated(v: &str) -> String {
    fn whole(t: &str) -> Option<String> {
        let (sign, digits) = match t.strip_prefix('-') {
            Some(d) => ("-", d),
            None => ("", t),
        };
        if digits.len() <= SHOWN_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let lead = digits[1..7].trim_end_matches('0');
        let mantissa = if lead.is_empty() {
            digits[..1].to_string()
        } else {
            format!("{}.{lead}", &digits[..1])
        };
        Some(format!(
            "{sign}{mantissa}e{} ({} digits)",
            digits.len() - 1,
            digits.len()
        ))
    }
    let t = v.trim();
    match t.split_once('/') {
        Some((n, d)) if whole(n).is_some() || whole(d).is_some() => format!(
            "{}/{}",
            whole(n).unwrap_or_else(|| n.to_string()),
            whole(d).unwrap_or_else(|| d.to_string())
        ),
        Some(_) => v.to_string(),
        None => whole(t).unwrap_or_else(|| v.to_string()),
    }
}
