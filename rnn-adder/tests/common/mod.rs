//! What the binary's tests share.

/// A short, cheap training run: few examples, few evaluations (a fraction of a second).
pub const SHORT: [&str; 8] = [
    "--iterations",
    "300",
    "--eval-every",
    "100",
    "--eval-bits",
    "10",
    "--eval-pairs",
    "50",
];
