//! `optimizers paths`: every update rule walking down the same 2-D surface from the same start,
//! drawn over the surface's contour lines (notes §8: gradient descent "oscillates" toward the
//! minimum; momentum "smooths out the steps").
//!
//! Two surfaces:
//! - [`Surface::Quadratic`] f(x, y) = x²/20 + y², the ill-conditioned bowl of Saito's *Deep
//!   Learning from Scratch* §6.1 (curvatures 0.1 and 2: condition number 20), start (−7, 2).
//!   Gradient descent with α = 0.95 multiplies y by 1 − 2α = −0.9 each step: it zig-zags
//!   across the valley while x shrinks by only 1 − 0.1α per step. Momentum with the same α
//!   averages the alternating y-gradients away and curves smoothly.
//! - [`Surface::Rosenbrock`] f(x, y) = (1 − x)² + 100(y − x²)², start (−1.2, 1), minimum (1, 1):
//!   a narrow curved valley, steep across (curvature ≈ 200–1300) and nearly flat along it.
//!
//! Each rule gets the learning rate in [`Surface::lr`], chosen by hand to show its typical
//! path within the step budget (the legend prints it); they are not tuned to a common target.
//! Classic momentum (Δ ← μΔ + g, W ← W − α_c Δ) with α_c = α(1 − β) takes exactly the notes'
//! momentum path (v = (1 − β)Δ): it is drawn as dots on that line to show it.

use crate::train::{Hyper, Method, adam_eps};
use nalgebra::DMatrix;
use plotters::prelude::*;
use plotters::style::FontStyle;
use shared::optim::Optimizer;
use shared::run::RunArgs;
use shared::session::{Chapter, Session};
use shared::{Error, Result, say};
use std::path::Path;

/// A 2-D loss surface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    /// f(x, y) = x²/20 + y².
    Quadratic,
    /// f(x, y) = (1 − x)² + 100(y − x²)².
    Rosenbrock,
}

impl Surface {
    /// Both surfaces, in the order they are drawn.
    pub const ALL: [Surface; 2] = [Surface::Quadratic, Surface::Rosenbrock];

    /// f(x, y).
    pub fn f(self, x: f64, y: f64) -> f64 {
        match self {
            Surface::Quadratic => x * x / 20.0 + y * y,
            Surface::Rosenbrock => (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2),
        }
    }

    /// (∂f/∂x, ∂f/∂y).
    pub fn grad(self, x: f64, y: f64) -> (f64, f64) {
        match self {
            Surface::Quadratic => (x / 10.0, 2.0 * y),
            Surface::Rosenbrock => (
                -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
                200.0 * (y - x * x),
            ),
        }
    }

    /// Where every rule starts.
    pub fn start(self) -> (f64, f64) {
        match self {
            Surface::Quadratic => (-7.0, 2.0),
            Surface::Rosenbrock => (-1.2, 1.0),
        }
    }

    /// The minimum (f = 0).
    pub fn minimum(self) -> (f64, f64) {
        match self {
            Surface::Quadratic => (0.0, 0.0),
            Surface::Rosenbrock => (1.0, 1.0),
        }
    }

    /// Update steps per rule.
    pub fn steps(self) -> usize {
        match self {
            Surface::Quadratic => 50,
            Surface::Rosenbrock => 1000,
        }
    }

    /// The plotted window: (x range, y range).
    pub fn window(self) -> ((f64, f64), (f64, f64)) {
        match self {
            Surface::Quadratic => ((-8.0, 8.0), (-3.0, 3.0)),
            Surface::Rosenbrock => ((-1.6, 1.6), (-0.4, 1.6)),
        }
    }

    /// Contour levels: evenly spaced ellipses for the bowl, a geometric series for Rosenbrock.
    pub fn levels(self) -> Vec<f64> {
        match self {
            Surface::Quadratic => (1..=12).map(|k| (k as f64 * 0.5).powi(2) / 2.0).collect(),
            Surface::Rosenbrock => (0..9).map(|k| 0.1 * 3f64.powi(k)).collect(),
        }
    }

    /// The f below which a walk counts as arrived (for the printed table).
    pub fn tol(self) -> f64 {
        match self {
            Surface::Quadratic => 1e-3,
            Surface::Rosenbrock => 3e-2,
        }
    }

    /// A caption for the chart.
    pub fn title(self) -> &'static str {
        match self {
            Surface::Quadratic => "f = x²/20 + y² (condition number 20)",
            Surface::Rosenbrock => "Rosenbrock f = (1 − x)² + 100(y − x²)²",
        }
    }

    /// The learning rate of `method` on this surface.
    pub fn lr(self, method: Method) -> f64 {
        match (self, method) {
            // 1 − 2α = −0.9: the zig-zag of the notes; x shrinks by 0.905 per step.
            (Surface::Quadratic, Method::Gd) => 0.95,
            // Same α as gd: the EWMA averages the alternating y-gradients away.
            (Surface::Quadratic, Method::Momentum) => 0.95,
            // CS231n's velocity form: α(1 − β) is the EWMA momentum's step.
            (Surface::Quadratic, Method::Nesterov) => 0.095,
            (Surface::Quadratic, Method::ClassicMomentum) => 0.095,
            (Surface::Quadratic, Method::Adagrad) => 1.5,
            (Surface::Quadratic, Method::Rmsprop) => 0.3,
            (Surface::Quadratic, Method::Adam) => 0.3,
            // Where gd starts to bounce across the valley (its curvature there is ≈ 200–1000,
            // so 2/λ ≈ 2e-3 … 1e-2); momentum at the same α stays smooth and gets further.
            (Surface::Rosenbrock, Method::Gd) => 3e-3,
            (Surface::Rosenbrock, Method::Momentum) => 3e-3,
            (Surface::Rosenbrock, Method::Nesterov) => 3e-4,
            (Surface::Rosenbrock, Method::ClassicMomentum) => 3e-4,
            (Surface::Rosenbrock, Method::Adagrad) => 0.3,
            // Steps of ≈ α in every coordinate, whatever the gradient: it bounces in the valley.
            (Surface::Rosenbrock, Method::Rmsprop) => 3e-3,
            (Surface::Rosenbrock, Method::Adam) => 0.05,
        }
    }
}

/// One rule's walk: the points visited, start included.
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory {
    /// The rule.
    pub method: Method,
    /// Its name in tables, CSV and legend: the rule's, or e.g. `momentum β=0.99` in a sweep.
    pub name: String,
    /// Its learning rate.
    pub lr: f64,
    /// (x, y) after 0, 1, … steps; ends early if the walk left every bound (diverged).
    pub points: Vec<(f64, f64)>,
    /// The step that took the walk out of every bound (|x| or |y| ≥ 1e6), if one did: the
    /// walk diverged and `points` ends just before it.
    pub diverged: Option<usize>,
}

impl Trajectory {
    /// f at the last point.
    pub fn final_f(&self, s: Surface) -> f64 {
        let &(x, y) = self.points.last().expect("a trajectory has a start");
        s.f(x, y)
    }

    /// The first step after which f < `tol`, if any.
    pub fn steps_to(&self, s: Surface, tol: f64) -> Option<usize> {
        self.points.iter().position(|&(x, y)| s.f(x, y) < tol)
    }

    /// The tables' last column: the first step with f below [`Surface::tol`], `never`, or
    /// `diverged at k` for a walk that left every bound at step k.
    pub fn reached(&self, s: Surface) -> String {
        match (self.diverged, self.steps_to(s, s.tol())) {
            (Some(k), _) => format!("diverged at {k}"),
            (None, Some(k)) => k.to_string(),
            (None, None) => "never".to_string(),
        }
    }
}

/// `steps` updates of `method` (learning rate `lr`) from the surface's start: the parameter is
/// the 2 × 1 matrix (x, y) and the gradient the surface's exact one, so these are the very rules
/// of [`shared::optim`] that train the network.
pub fn trajectory(s: Surface, method: Method, h: &Hyper, lr: f64, steps: usize) -> Trajectory {
    let mut opt = Optimizer::new(method.rule(h), lr);
    let (x0, y0) = s.start();
    let mut w = DMatrix::from_column_slice(2, 1, &[x0, y0]); // 2 × 1: (x, y)
    let mut g = DMatrix::zeros(2, 1); // 2 × 1: ∇f
    let mut points = Vec::with_capacity(steps + 1);
    points.push((x0, y0));
    let mut diverged = None;
    for k in 1..=steps {
        let (gx, gy) = s.grad(w[0], w[1]);
        g[0] = gx;
        g[1] = gy;
        opt.step(&mut [&mut w], &[&g]);
        if !(w[0].abs() < 1e6 && w[1].abs() < 1e6) {
            diverged = Some(k); // stop the walk (the last point within the bounds is kept)
            break;
        }
        points.push((w[0], w[1]));
    }
    let name = method.name().to_string();
    Trajectory {
        method,
        name,
        lr,
        points,
        diverged,
    }
}

/// Every rule of `methods` on `s` with its learning rate and step budget.
pub fn trajectories(s: Surface, methods: &[Method], h: &Hyper) -> Vec<Trajectory> {
    methods
        .iter()
        .map(|&m| trajectory(s, m, h, s.lr(m), s.steps()))
        .collect()
}

/// Sign changes of x and of y along a walk (x, y): across the valley (the zig-zag of gradient
/// descent) and past the minimum along it (momentum's overshoot).
pub fn sign_changes(t: &Trajectory) -> (usize, usize) {
    let flips = |c: fn(&(f64, f64)) -> f64| {
        t.points
            .windows(2)
            .filter(|w| c(&w[0]) * c(&w[1]) < 0.0)
            .count()
    };
    (flips(|p| p.0), flips(|p| p.1))
}

/// f after every step of each walk, as curves (for `loss.png`, log scale).
pub fn f_curves(s: Surface, ts: &[Trajectory]) -> Vec<shared::plot::Series> {
    ts.iter()
        .map(|t| {
            let mut c = shared::plot::Series::new(t.name.clone());
            for (k, &(x, y)) in t.points.iter().enumerate() {
                c.push(k as f64, s.f(x, y));
            }
            c
        })
        .collect()
}

/// The table `optimizers paths` prints for one surface: each rule's α, last point, f there and
/// the first step with f below [`Surface::tol`] (`steps`: the budget each walk had).
pub fn report(s: Surface, ts: &[Trajectory], steps: usize) -> String {
    let mut out = format!(
        "{} from {:?}, {} steps each\n\
         rule               α         last (x, y)             f(last)     steps to f < {:e}\n",
        s.title(),
        s.start(),
        steps,
        s.tol()
    );
    for t in ts {
        let (x, y) = *t.points.last().expect("a trajectory has a start");
        out += &format!(
            "{:<17} {:<9} ({x:>9.5}, {y:>9.5})   {:>10.3e}   {}\n",
            t.name,
            t.lr,
            t.final_f(s),
            t.reached(s)
        );
    }
    out
}

/// The `paths` entry of `summary.json`: per surface and rule, α, steps, f at the last point
/// and the first step with f below [`Surface::tol`].
pub fn summary(panels: &[(Surface, Vec<Trajectory>)]) -> Vec<serde_json::Value> {
    let mut rows = Vec::new();
    for (s, ts) in panels {
        for t in ts {
            rows.push(serde_json::json!({"surface": format!("{s:?}"),
                "optimizer": t.name, "lr": t.lr, "steps": t.points.len() - 1,
                "final_f": t.final_f(*s), "tol": s.tol(), "steps_to_tol": t.steps_to(*s, s.tol())}));
        }
    }
    rows
}

/// Every point of every trajectory as CSV rows `surface,optimizer,step,x,y` (atomically).
pub fn save_csv(path: impl AsRef<Path>, panels: &[(Surface, Vec<Trajectory>)]) -> Result<()> {
    shared::files::write_atomic(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(["surface", "optimizer", "step", "x", "y"])?;
        for (s, ts) in panels {
            let name = format!("{s:?}").to_lowercase();
            for t in ts {
                for (k, (x, y)) in t.points.iter().enumerate() {
                    let row = [k.to_string(), x.to_string(), y.to_string()];
                    out.write_record([name.as_str(), &t.name, &row[0], &row[1], &row[2]])?;
                }
            }
        }
        out.flush()
    })
}

/// Runs `optimizers paths`: every rule on both surfaces; prints the tables, writes `paths.png`,
/// `paths.csv` and `summary.json` (default folder `runs/optimizers-paths`).
pub fn command(chapter: Chapter, args: &RunArgs) -> Result<()> {
    let session = Session::outputs(chapter, args, Some("paths"), args)?;
    let mut panels = Vec::new();
    for s in Surface::ALL {
        let ts = trajectories(s, &Method::ALL, &Hyper::default());
        say!("{}", report(s, &ts, s.steps()))?;
        panels.push((s, ts));
    }
    let (eps_at, update) = adam_eps(Hyper::default().adam_eps);
    say!("(Adam: {update}, ε {eps_at} the square root, as the notes)")?;
    let title = "Notes §8: the same start, one path per update rule";
    save_png(session.output("paths.png"), title, &panels)?;
    save_csv(session.output("paths.csv"), &panels)?;
    let rows = summary(&panels);
    let steps = rows.iter().filter_map(|r| r["steps"].as_u64()).sum();
    session.save_summary(steps, serde_json::json!({ "paths": rows }))?;
    session.finish()
}

/// Line segments where a sampled field crosses `level` (marching squares): `values[j·nx + i]`
/// is the field at `(xs[i], ys[j])`. Saddle cells are split by the value at their centre.
pub fn contour(xs: &[f64], ys: &[f64], values: &[f64], level: f64) -> Vec<[(f64, f64); 2]> {
    let nx = xs.len();
    assert_eq!(values.len(), nx * ys.len(), "one value per grid point");
    let mut segments = Vec::new();
    for j in 0..ys.len().saturating_sub(1) {
        for i in 0..nx.saturating_sub(1) {
            // corners counter-clockwise from the lower left: v0 (i, j), v1 (i+1, j),
            // v2 (i+1, j+1), v3 (i, j+1); edge e_k joins v_k and v_{k+1}.
            let p = [
                (xs[i], ys[j]),
                (xs[i + 1], ys[j]),
                (xs[i + 1], ys[j + 1]),
                (xs[i], ys[j + 1]),
            ];
            let v = [
                values[j * nx + i],
                values[j * nx + i + 1],
                values[(j + 1) * nx + i + 1],
                values[(j + 1) * nx + i],
            ];
            let above = v.map(|v| v >= level);
            let cross = |k: usize| -> Option<(f64, f64)> {
                let l = (k + 1) % 4;
                if above[k] == above[l] {
                    return None;
                }
                let t = (level - v[k]) / (v[l] - v[k]);
                Some((
                    p[k].0 + t * (p[l].0 - p[k].0),
                    p[k].1 + t * (p[l].1 - p[k].1),
                ))
            };
            let e: Vec<(usize, (f64, f64))> =
                (0..4).filter_map(|k| cross(k).map(|q| (k, q))).collect();
            match e.len() {
                2 => segments.push([e[0].1, e[1].1]),
                4 => {
                    let centre_above = v.iter().sum::<f64>() / 4.0 >= level;
                    if centre_above == above[0] {
                        // v0, v2 joined through the centre: cut off v1 and v3.
                        segments.push([e[0].1, e[1].1]);
                        segments.push([e[2].1, e[3].1]);
                    } else {
                        // cut off v0 and v2.
                        segments.push([e[3].1, e[0].1]);
                        segments.push([e[1].1, e[2].1]);
                    }
                }
                _ => {}
            }
        }
    }
    segments
}

/// `n` evenly spaced values from `lo` to `hi`, both included.
pub fn linspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| lo + (hi - lo) * i as f64 / (n - 1).max(1) as f64)
        .collect()
}

/// Draws each surface's contour lines with its trajectories, side by side under `title`, to a
/// PNG at `path` (atomically).
pub fn save_png(
    path: impl AsRef<Path>,
    title: &str,
    panels: &[(Surface, Vec<Trajectory>)],
) -> Result<()> {
    let path = path.as_ref();
    shared::plot::fonts()?;
    let tmp = shared::files::temp_path(path);
    let drawn = draw(&tmp, title, panels);
    if let Err(msg) = drawn {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::msg(format!(
            "{}: drawing the paths failed: {msg}",
            path.display()
        )));
    }
    shared::files::commit_temp(&tmp, path)
}

fn draw(
    path: &Path,
    title: &str,
    panels: &[(Surface, Vec<Trajectory>)],
) -> std::result::Result<(), String> {
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let size = (900 * panels.len().max(1) as u32, 640);
    let root = shared::plot::png_backend(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let root = root
        .titled(title, ("sans-serif", 26, FontStyle::Bold))
        .map_err(|x| e(&x))?;
    let cells = root.split_evenly((1, panels.len().max(1)));
    for ((s, paths), cell) in panels.iter().zip(cells.iter()) {
        let ((x0, x1), (y0, y1)) = s.window();
        let mut chart = ChartBuilder::on(cell)
            .caption(s.title(), ("sans-serif", 20, FontStyle::Bold))
            .margin(12)
            .x_label_area_size(46)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|x| e(&x))?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("x")
            .y_desc("y")
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .draw()
            .map_err(|x| e(&x))?;
        // Contour lines of f on a 241 × 241 grid.
        let xs = linspace(x0, x1, 241);
        let ys = linspace(y0, y1, 241);
        let values: Vec<f64> = ys
            .iter()
            .flat_map(|&y| xs.iter().map(move |&x| s.f(x, y)))
            .collect();
        let grey = RGBColor(185, 185, 185);
        for level in s.levels() {
            let segs = contour(&xs, &ys, &values, level);
            chart
                .draw_series(
                    segs.into_iter()
                        .map(|[a, b]| PathElement::new(vec![a, b], grey.stroke_width(1))),
                )
                .map_err(|x| e(&x))?;
        }
        for (k, t) in paths.iter().enumerate() {
            let c = shared::plot::color(k);
            let label = format!("{} α = {}", t.name, t.lr);
            if t.method == Method::ClassicMomentum {
                // Drawn as dots: it retraces momentum's line (α_c = α(1 − β)).
                chart
                    .draw_series(
                        t.points
                            .iter()
                            .step_by((t.points.len() / 60).max(1))
                            .map(|&p| Circle::new(p, 4, c.stroke_width(2))),
                    )
                    .map_err(|x| e(&x))?
                    .label(label)
                    .legend(move |(x, y)| Circle::new((x + 11, y), 4, c.stroke_width(2)));
                continue;
            }
            chart
                .draw_series(LineSeries::new(t.points.iter().copied(), c.stroke_width(2)))
                .map_err(|x| e(&x))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(3))
                });
            if t.points.len() <= 101 {
                chart
                    .draw_series(t.points.iter().map(|&p| Circle::new(p, 2, c.filled())))
                    .map_err(|x| e(&x))?;
            }
        }
        let (sx, sy) = s.start();
        chart
            .draw_series([Circle::new((sx, sy), 6, BLACK.filled())])
            .map_err(|x| e(&x))?;
        let (mx, my) = s.minimum();
        chart
            .draw_series([Cross::new((mx, my), 8, BLACK.stroke_width(3))])
            .map_err(|x| e(&x))?;
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 14))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|x| e(&x))?;
    }
    root.present().map_err(|x| e(&x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradients_match_finite_differences() {
        for s in Surface::ALL {
            for &(x, y) in &[(-1.2, 1.0), (0.3, -0.7), (2.0, 1.5)] {
                let (gx, gy) = s.grad(x, y);
                let h = 1e-6;
                let nx = (s.f(x + h, y) - s.f(x - h, y)) / (2.0 * h);
                let ny = (s.f(x, y + h) - s.f(x, y - h)) / (2.0 * h);
                assert!(
                    (gx - nx).abs() < 1e-5 * nx.abs().max(1.0),
                    "{s:?} {gx} {nx}"
                );
                assert!(
                    (gy - ny).abs() < 1e-5 * ny.abs().max(1.0),
                    "{s:?} {gy} {ny}"
                );
            }
            let (mx, my) = s.minimum();
            assert_eq!(s.f(mx, my), 0.0);
            assert_eq!(s.grad(mx, my), (0.0, 0.0));
        }
    }

    #[test]
    fn gd_zigzags_and_momentum_does_not_on_the_bowl() {
        // Gradient descent with α = 0.95: y_{t+1} = (1 − 2α) y_t = −0.9 y_t, by hand.
        let h = Hyper::default();
        let s = Surface::Quadratic;
        let gd = trajectory(s, Method::Gd, &h, 0.95, 10);
        for w in gd.points.windows(2) {
            assert!((w[1].1 + 0.9 * w[0].1).abs() < 1e-12);
            assert!((w[1].0 - 0.905 * w[0].0).abs() < 1e-12);
        }
        // Sign changes of y along the path: every step for gd, rarely for momentum.
        let flips = |t: &Trajectory| sign_changes(t).1;
        let gd = trajectory(s, Method::Gd, &h, 0.95, 40);
        let mom = trajectory(s, Method::Momentum, &h, 0.95, 40);
        assert_eq!(flips(&gd), 40);
        assert!(flips(&mom) <= 6, "{}", flips(&mom));
        // Classic momentum at α(1 − β) retraces the notes' momentum.
        let classic = trajectory(s, Method::ClassicMomentum, &h, 0.095, 40);
        for (a, b) in classic.points.iter().zip(&mom.points) {
            assert!((a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9);
        }
    }

    #[test]
    fn contour_of_a_circle() {
        // f = x² + y², level 1: every segment end lies near the unit circle, all around it.
        let xs = linspace(-2.0, 2.0, 81);
        let ys = linspace(-2.0, 2.0, 81);
        let v: Vec<f64> = ys
            .iter()
            .flat_map(|&y| xs.iter().map(move |&x| x * x + y * y))
            .collect();
        let segs = contour(&xs, &ys, &v, 1.0);
        assert!(segs.len() > 60, "{}", segs.len());
        let mut length = 0.0;
        for [a, b] in &segs {
            for p in [a, b] {
                let r = (p.0 * p.0 + p.1 * p.1).sqrt();
                assert!((r - 1.0).abs() < 3e-3, "{r}");
            }
            length += ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
        }
        assert!(
            (length - 2.0 * std::f64::consts::PI).abs() < 0.01,
            "{length}"
        );
        assert!(contour(&xs, &ys, &v, 100.0).is_empty());
    }
}
