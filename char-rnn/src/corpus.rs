//! The default training text.

/// TEMPORARY stand-in until `shared::data`'s grammar corpus lands on main: four inline
/// sentences repeated to `sentences` lines (the seed is unused).
pub fn generated(_seed: u64, sentences: usize) -> String {
    const TEXT: [&str; 4] = [
        "where did you leave the boat , brother ?",
        "by the mill , under the willow , where the river turns .",
        "then we must walk before the rain comes .",
        "he could not say that .",
    ];
    (0..sentences)
        .map(|i| format!("{}\n", TEXT[i % 4]))
        .collect()
}
