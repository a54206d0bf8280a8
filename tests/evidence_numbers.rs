//! How evidence prints numbers (session 39): Monte Carlo's estimates with significant
//! digits where four decimals lose them (probe38/p a11: "left 0.0002, right 0.0002 …
//! left − right = 0.0000"; probe38/h k19: 70-digit estimates), and a witness's long exact
//! whole numbers with their leading digits and power of ten.

use tq::num::sig::{fixed, sig};
use tq::sym::abbreviated;

#[test]
fn significant_digits() {
    assert_eq!(sig(0.0, 4), "0");
    assert_eq!(sig(0.00024873, 4), "0.0002487");
    assert_eq!(sig(4.248354e-18, 4), "4.248e-18");
    assert_eq!(sig(-1.5, 4), "-1.5");
    assert_eq!(sig(9.99996, 4), "10");
    assert_eq!(sig(123456.0, 4), "123456");
    assert_eq!(sig(1234567.0, 4), "1.235e6");
    assert_eq!(sig(31415.9, 4), "31416");
    assert_eq!(sig(1e-5, 3), "1e-5");
    assert_eq!(sig(f64::INFINITY, 4), "inf");
}

#[test]
fn fixed_keeps_small_and_large_readable() {
    assert_eq!(fixed(0.5735, 4), "0.5735");
    assert_eq!(fixed(1.0, 4), "1.0000");
    assert_eq!(fixed(0.0, 4), "0.0000");
    assert_eq!(fixed(0.00024873, 4), "0.0002487");
    assert_eq!(fixed(-0.0000137, 4), "-1.37e-5");
    assert_eq!(fixed(1.2566450427793559e70, 4), "1.257e70");
    // Two estimates 6% apart near 1e-4 stay apart in print (a11).
    assert_ne!(fixed(2.487e-4, 4), fixed(2.353e-4, 4));
}

#[test]
fn long_whole_numbers_get_an_exponent() {
    let big = format!("4{}", "0".repeat(400));
    assert_eq!(abbreviated(&big), "4e400 (401 digits)");
    assert_eq!(abbreviated(&format!("-{big}")), "-4e400 (401 digits)");
    let r = format!("12345678{}/3", "9".repeat(40));
    assert_eq!(abbreviated(&r), "1.234567e47 (48 digits)/3");
    assert_eq!(abbreviated("2/9"), "2/9");
    assert_eq!(abbreviated("≈ 0.25"), "≈ 0.25");
    assert_eq!(abbreviated(&"7".repeat(40)), "7".repeat(40));
}
