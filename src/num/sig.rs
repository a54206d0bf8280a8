//! Numbers of a run as evidence prints them: a fixed number of significant digits, so
//! that a small value keeps its digits (`0.0002487`, not `0.0002`) and a tiny one its
//! size (`4.248e-18`, not `0.000000000000`).

/// `x` with `digits` significant digits (at least 1): in fixed point where its size is
/// from 1e-4 to below 1e6 (`0.0002487`, `1.25`, `31416`), else with an exponent
/// (`4.248e-18`, `6.02e23`); trailing zeros dropped; 0 as `0`, and a value that is not
/// finite as Rust prints it (`inf`, `NaN`).
pub fn sig(x: f64, digits: usize) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return format!("{x}");
    }
    let digits = digits.max(1);
    // The exponent after rounding to `digits` (9.9996 to 4 digits is 10.00).
    let e = format!("{x:.prec$e}", prec = digits - 1);
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if (-4..6).contains(&exp) {
        let places = (digits as i32 - 1 - exp).max(0) as usize;
        trim(&format!("{x:.places$}"))
    } else {
        format!("{}e{exp}", trim(mantissa))
    }
}

/// `x` with `places` decimals where that shows its digits (0, and sizes from 0.01 to
/// below 1e6: `0.5735`, `1.0000`), else [`sig`] with `places` significant digits
/// (`0.0002487` rather than `0.0002`, `1.257e70` rather than its 70 digits): the Monte
/// Carlo evidence's estimates (probe38/p a11, probe38/h k19; session 39).
pub fn fixed(x: f64, places: usize) -> String {
    if x == 0.0 || (1e-2..1e6).contains(&x.abs()) {
        format!("{x:.places$}")
    } else {
        sig(x, places)
    }
}
