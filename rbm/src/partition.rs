//! The `rbm partition` command: notes §7's table printed row by row (rows HᵀW → 1 + e^{·} →
//! row-wise product → sum), Z by brute force beside it, log Z in log space, then p(v) and F(v)
//! for every visible vector. The computations are the notes layer's ([`crate::model`]).

#![allow(non_snake_case)]

use crate::model::{BRUTE_FORCE_MAX_UNITS, Rbm, configurations, log_z, notes_table, z_brute_force};
use nalgebra::DMatrix;

/// Largest layer the `partition` report takes: it lists the notes' table (2^{n_h} rows of
/// n_v entries), every one of the 2^{n_v} visible vectors, and sums Z by brute force.
pub const REPORT_MAX_UNITS: usize = 16;

/// The RBM of the `partition` command from its flags: n_v and n_h in 1..=[`REPORT_MAX_UNITS`],
/// W row by row (n_h × n_v finite values; default the reference sheet's
/// [[1, −2, 0.5], [0.3, 0.7, −1]] for 3 × 2, else N(0, 1) draws from `seed`), visible and
/// hidden biases (default 0). Errors name the flag.
pub fn rbm_from_flags(
    n_v: usize,
    n_h: usize,
    weights: Option<Vec<f64>>,
    a: Option<Vec<f64>>,
    b: Option<Vec<f64>>,
    seed: u64,
) -> shared::Result<Rbm> {
    for (flag, n, layer) in [("--visible", n_v, "visible"), ("--hidden", n_h, "hidden")] {
        if !(1..=REPORT_MAX_UNITS).contains(&n) {
            return Err(shared::Error::flag(
                flag,
                format!(
                    "{n} {layer} units: need 1 to {REPORT_MAX_UNITS} (the report enumerates all \
                     2^{n} {layer} configurations; training sums exactly over up to 20)"
                ),
            ));
        }
    }
    let list = |flag: &str, v: Option<Vec<f64>>, default: DMatrix<f64>| match v {
        None => Ok(default),
        Some(v) if v.len() != default.len() => Err(shared::Error::flag(
            flag,
            format!(
                "{} values given, {} needed ({} × {})",
                v.len(),
                default.len(),
                default.nrows(),
                default.ncols()
            ),
        )),
        Some(v) => match v.iter().position(|x| !x.is_finite()) {
            Some(k) => Err(shared::Error::flag(
                flag,
                format!("value {} is {}: every value must be finite", k + 1, v[k]),
            )),
            None => Ok(DMatrix::from_row_slice(
                default.nrows(),
                default.ncols(),
                &v,
            )),
        },
    };
    let W0 = if (n_v, n_h) == (3, 2) {
        DMatrix::from_row_slice(2, 3, &[1.0, -2.0, 0.5, 0.3, 0.7, -1.0])
    } else {
        shared::init::normal(n_h, n_v, 0.0, 1.0, &mut shared::rng::seeded(seed))
    };
    Ok(Rbm::new(
        list("--weights", weights, W0)?,
        list("--visible-bias", a, DMatrix::zeros(n_v, 1))?,
        list("--hidden-bias", b, DMatrix::zeros(n_h, 1))?,
    ))
}

/// A number with 10 decimals, or in scientific notation when that would hide it.
fn num(x: f64) -> String {
    if x != 0.0 && x.is_finite() && !(1e-4..1e9).contains(&x.abs()) {
        format!("{x:.10e}")
    } else {
        format!("{x:.10}")
    }
}

/// Units printed as a 0/1 string: "010".
fn bits(x: impl IntoIterator<Item = f64>) -> String {
    x.into_iter()
        .map(|b| if b > 0.5 { '1' } else { '0' })
        .collect()
}

/// H as the notes write it: "(0,1)" without the parentheses.
fn hidden(x: impl IntoIterator<Item = f64>) -> String {
    let b: Vec<String> = x.into_iter().map(|v| format!("{v}")).collect();
    b.join(",")
}

/// A value as typed back: 4 decimals (trailing zeros dropped), or scientific notation where
/// rounding to 4 decimals would overflow or print hundreds of digits.
fn short(x: f64) -> String {
    if x.abs() < 1e9 {
        format!("{}", (x * 1e4).round() / 1e4)
    } else {
        format!("{x:e}")
    }
}

/// A table cell 9 wide: 4 decimals, or scientific notation for large values.
fn cell(x: f64) -> String {
    if x.abs() < 1e5 {
        format!("{x:9.4}")
    } else {
        format!("{x:9.2e}")
    }
}

/// A matrix as [[row], [row]] with 4 decimals (trailing zeros dropped).
fn rows_of(m: &DMatrix<f64>) -> String {
    let rows: Vec<String> = m
        .row_iter()
        .map(|r| {
            let v: Vec<String> = r.iter().map(|&x| short(x)).collect();
            format!("[{}]", v.join(", "))
        })
        .collect();
    format!("[{}]", rows.join(", "))
}

/// log Z of `rbm` (in log space, [`log_z`]), or an error that says why it or a free energy
/// F(v) is not finite: an energy beyond f64's range, so that neither Z nor p(v) nor F(v) can
/// be computed. (Z in plain space may overflow: the report says so; log Z and F(v) may not.)
pub fn finite_log_z(rbm: &Rbm) -> shared::Result<f64> {
    let lz = log_z(rbm);
    let Vs = configurations(rbm.n_v()).transpose();
    let F = rbm.free_energy(&Vs);
    let what = if !lz.is_finite() {
        format!("log Z is {lz}")
    } else if let Some(k) = F.iter().position(|f| !f.is_finite()) {
        format!(
            "the free energy F(v) of v = {} is {}",
            bits(Vs.column(k).iter().copied()),
            F[k]
        )
    } else {
        return Ok(lz);
    };
    let abs_sum = |m: &DMatrix<f64>| m.iter().map(|x| x.abs()).sum::<f64>();
    let bound = abs_sum(&rbm.W) + abs_sum(&rbm.a) + abs_sum(&rbm.b);
    Err(shared::Error::msg(format!(
        "{what}, not a number f64 can hold: the energies −E(v, h) = aᵀv + bᵀh + hᵀWv of these \
         weights and biases reach sizes up to Σ|W| + Σ|a| + Σ|b| = {bound:e}, beyond f64's \
         largest number {:e}, so Z, p(v) and F(v) cannot be computed; give smaller --weights, \
         --visible-bias or --hidden-bias",
        f64::MAX
    )))
}

/// The numbers of the `partition` report for `partition.json`: the sizes, W, a, b, Z by the
/// notes' closed form (null where it overflows f64) and by brute force (where it was summed),
/// log Z, and p(v) for every v in the order of [`configurations`]. Errors as
/// [`finite_log_z`].
pub fn numbers(rbm: &Rbm) -> shared::Result<serde_json::Value> {
    let lz = finite_log_z(rbm)?;
    let rows = |m: &DMatrix<f64>| -> Vec<Vec<f64>> {
        m.row_iter().map(|r| r.iter().copied().collect()).collect()
    };
    let (n_v, n_h) = (rbm.n_v(), rbm.n_h());
    let Vs = configurations(n_v).transpose();
    let p: Vec<f64> = rbm
        .free_energy(&Vs)
        .iter()
        .map(|f| (-f - lz).exp())
        .collect();
    let brute = (n_v + n_h <= BRUTE_FORCE_MAX_UNITS).then(|| z_brute_force(rbm));
    Ok(serde_json::json!({
        "n_v": n_v, "n_h": n_h, "W": rows(&rbm.W), "a": rbm.a.as_slice(), "b": rbm.b.as_slice(),
        "z": notes_table(rbm).Z, "z_brute_force": brute, "log_z": lz, "p_v": p,
    }))
}

/// The `partition` report: the notes' table (at most `max_rows` rows shown), Z by the notes'
/// closed form and by brute force and their agreement, log Z in log space, then p(v) and F(v)
/// for every v (at most `max_rows` shown). An energy beyond f64's range is an error
/// ([`finite_log_z`]), not a table of NaN.
pub fn report(rbm: &Rbm, max_rows: usize) -> shared::Result<String> {
    use std::fmt::Write;
    let lz = finite_log_z(rbm)?;
    let (n_v, n_h) = (rbm.n_v(), rbm.n_h());
    let biased = rbm.a.iter().chain(rbm.b.iter()).any(|&x| x != 0.0);
    let mut s = String::new();
    let w = &mut s;
    let energy = if biased {
        "E(v,h) = −aᵀv − bᵀh − hᵀWv"
    } else {
        "E(V,H) = −HᵀWV"
    };
    let _ = writeln!(
        w,
        "notes §7, partition function: n_v = {n_v} visible, n_h = {n_h} hidden, {energy}"
    );
    let _ = writeln!(w, "W (n_h × n_v) = {}", rows_of(&rbm.W));
    if biased {
        let _ = writeln!(
            w,
            "a = {}, b = {}",
            rows_of(&rbm.a.transpose()),
            rows_of(&rbm.b.transpose())
        );
    }
    let t = notes_table(rbm);
    let hw = 9 * n_v;
    let head = if biased {
        ("a + HᵀW", "1 + e^{a + HᵀW}", "e^{bᵀH}·Π")
    } else {
        ("HᵀW", "1 + e^{HᵀW}", "row product")
    };
    let _ = writeln!(
        w,
        "{:>h$} | {:>hw$} | {:>hw$} | {:>15}",
        "H",
        head.0,
        head.1,
        head.2,
        h = 2 * n_h + 1
    );
    let shown = t.rows.len().min(max_rows);
    for k in 0..shown {
        let x: String = (0..n_v).map(|i| cell(rbm.a[i] + t.HtW[(k, i)])).collect();
        let f: String = (0..n_v).map(|i| cell(t.factors[(k, i)])).collect();
        let _ = writeln!(
            w,
            "({}) | {x} | {f} | {:>15}",
            hidden(t.Ht.row(k).iter().copied()),
            num(t.rows[k])
        );
    }
    if shown < t.rows.len() {
        let _ = writeln!(w, "… {} more rows", t.rows.len() - shown);
    }
    if !biased {
        let _ = writeln!(
            w,
            "H = ({}) row: 1 + e⁰ = 2 in each of the {n_v} columns, product 2^{n_v} = {}",
            hidden(vec![0.0; n_h]),
            t.rows[0]
        );
    }
    let _ = writeln!(
        w,
        "{:<40} = {}",
        "Z (notes: row-wise product, then sum)",
        num(t.Z)
    );
    if !t.Z.is_finite() {
        let _ = writeln!(
            w,
            "(the plain-space product overflows f64; the log-space sum below does not)"
        );
    }
    if n_v + n_h <= BRUTE_FORCE_MAX_UNITS {
        let zb = z_brute_force(rbm);
        let _ = writeln!(
            w,
            "{:<40} = {}",
            format!(
                "Z (brute force, all 2^{} = {} (v, h))",
                n_v + n_h,
                1u64 << (n_v + n_h)
            ),
            num(zb)
        );
        let agreement = if t.Z.is_finite() && zb.is_finite() {
            let d = (t.Z - zb).abs();
            format!(
                "|closed form − brute force| = {d:.2e} (relative {:.2e})",
                d / zb
            )
        } else {
            "both overflow f64".to_string()
        };
        let _ = writeln!(w, "agreement: {agreement}");
    } else {
        let _ = writeln!(w, "Z by brute force: skipped (2^{} states)", n_v + n_h);
    }
    let layer = if n_h <= n_v { "hidden" } else { "visible" };
    let _ = writeln!(
        w,
        "{:<40} = {lz:.10}",
        format!("log Z (logsumexp over the {layer} layer)")
    );
    let Vs = configurations(n_v).transpose();
    let F = rbm.free_energy(&Vs);
    let _ = writeln!(w, "{:>v$} | {:>16} | {:>14}", "v", "p(v)", "F(v)", v = n_v);
    for (k, Fk) in F.iter().enumerate().take(max_rows) {
        let _ = writeln!(
            w,
            "{} | {:>16} | {:>14}",
            bits(Vs.column(k).iter().copied()),
            num((-Fk - lz).exp()),
            num(*Fk)
        );
    }
    if F.len() > max_rows {
        let _ = writeln!(w, "… {} more visible vectors", F.len() - max_rows);
    }
    let total: f64 = F.iter().map(|f| (-f - lz).exp()).sum();
    let _ = writeln!(
        w,
        "Σ_v p(v) = {total:.12}  (p(v) = e^{{−F(v)}} / Z, F(v) = −aᵀv − Σ_j softplus(b_j + (Wv)_j))"
    );
    Ok(s)
}
