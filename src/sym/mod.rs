//! Exact symbolic algebra (filled in by the sym work).
