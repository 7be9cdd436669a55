//! TEMPORARY stand-in for the `shared: f32 plumbing` commit (removed when it lands).
#![allow(missing_docs, clippy::all)]
use nalgebra::{DMatrix, RealField};
use shared::Result;
use shared::kernels::gemm::Real;
use shared::optim::{Optimizer, Rule};

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    #[default]
    F64,
    F32,
}
impl Dtype {
    pub fn as_str(self) -> &'static str {
        match self {
            Dtype::F64 => "f64",
            Dtype::F32 => "f32",
        }
    }
}

pub trait Optimize<T: nalgebra::Scalar>: Clone + std::fmt::Debug + Send + Sized {
    fn create(rule: Rule, lr: f64) -> Result<Self>;
    fn begin_step(&mut self);
    fn update(&mut self, i: usize, w: &mut DMatrix<T>, g: &DMatrix<T>);
    fn steps(&self) -> u64;
    fn lr(&self) -> f64;
    fn set_lr(&mut self, lr: f64);
    fn moments(&self) -> (Vec<DMatrix<f64>>, Vec<DMatrix<f64>>);
    fn restore(
        rule: Rule,
        lr: f64,
        t: u64,
        v: Vec<DMatrix<f64>>,
        s: Vec<DMatrix<f64>>,
    ) -> Result<Self>;
}

impl Optimize<f64> for Optimizer {
    fn create(rule: Rule, lr: f64) -> Result<Self> {
        Ok(Optimizer::new(rule, lr))
    }
    fn begin_step(&mut self) {
        Optimizer::begin_step(self)
    }
    fn update(&mut self, i: usize, w: &mut DMatrix<f64>, g: &DMatrix<f64>) {
        Optimizer::update(self, i, w, g)
    }
    fn steps(&self) -> u64 {
        self.state().t
    }
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr
    }
    fn moments(&self) -> (Vec<DMatrix<f64>>, Vec<DMatrix<f64>>) {
        (self.state().v.clone(), self.state().s.clone())
    }
    fn restore(
        rule: Rule,
        lr: f64,
        t: u64,
        v: Vec<DMatrix<f64>>,
        s: Vec<DMatrix<f64>>,
    ) -> Result<Self> {
        let mut o = Optimizer::new(rule, lr);
        o.set_state(shared::optim::State { t, v, s });
        Ok(o)
    }
}

#[derive(Clone, Debug)]
pub struct Optimizer32 {
    rule: Rule,
    lr: f64,
    t: u64,
    v: Vec<DMatrix<f32>>,
}
impl Optimize<f32> for Optimizer32 {
    fn create(rule: Rule, lr: f64) -> Result<Self> {
        Ok(Optimizer32 {
            rule,
            lr,
            t: 0,
            v: vec![],
        })
    }
    fn begin_step(&mut self) {
        self.t += 1
    }
    fn update(&mut self, i: usize, w: &mut DMatrix<f32>, g: &DMatrix<f32>) {
        let Rule::ClassicMomentum { mu } = self.rule else {
            panic!()
        };
        let (mu, lr) = (mu as f32, self.lr as f32);
        while self.v.len() <= i {
            self.v.push(DMatrix::zeros(0, 0));
        }
        if self.v[i].shape() != w.shape() {
            self.v[i] = DMatrix::zeros(w.nrows(), w.ncols());
        }
        for ((w, g), v) in w.iter_mut().zip(g.iter()).zip(self.v[i].iter_mut()) {
            *v = mu * *v + g;
            *w -= lr * *v;
        }
    }
    fn steps(&self) -> u64 {
        self.t
    }
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr
    }
    fn moments(&self) -> (Vec<DMatrix<f64>>, Vec<DMatrix<f64>>) {
        let v: Vec<_> = self.v.iter().map(|m| m.map(f64::from)).collect();
        let s = v
            .iter()
            .map(|m| DMatrix::zeros(m.nrows(), m.ncols()))
            .collect();
        (v, s)
    }
    fn restore(
        rule: Rule,
        lr: f64,
        t: u64,
        v: Vec<DMatrix<f64>>,
        _s: Vec<DMatrix<f64>>,
    ) -> Result<Self> {
        Ok(Optimizer32 {
            rule,
            lr,
            t,
            v: v.iter().map(|m| m.map(|x| x as f32)).collect(),
        })
    }
}

pub trait Float: Real + RealField + Copy + Default + Send + Sync + 'static {
    const DTYPE: Dtype;
    type Optimizer: Optimize<Self>;
    fn round_from(x: f64) -> Self;
    fn as_f64(self) -> f64;
}
impl Float for f64 {
    const DTYPE: Dtype = Dtype::F64;
    type Optimizer = Optimizer;
    fn round_from(x: f64) -> f64 {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
}
impl Float for f32 {
    const DTYPE: Dtype = Dtype::F32;
    type Optimizer = Optimizer32;
    fn round_from(x: f64) -> f32 {
        x as f32
    }
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
}
pub fn narrow<T: Float>(m: &DMatrix<f64>) -> DMatrix<T> {
    m.map(T::round_from)
}
pub fn widen<T: Float>(m: &DMatrix<T>) -> DMatrix<f64> {
    m.map(T::as_f64)
}

pub trait CkExt {
    fn take_as<T: Float>(&mut self, name: &str, r: usize, c: usize) -> Result<DMatrix<T>>;
    fn expect_dtype<T: Float>(&self) -> Result<()>;
}
impl CkExt for shared::checkpoint::Checkpoint {
    fn take_as<T: Float>(&mut self, name: &str, r: usize, c: usize) -> Result<DMatrix<T>> {
        Ok(narrow(&self.take(name, r, c)?))
    }
    fn expect_dtype<T: Float>(&self) -> Result<()> {
        let d = self.meta_str("dtype").unwrap_or("f64");
        if d != T::DTYPE.as_str() {
            return Err(shared::Error::msg(format!("trained in {d}")));
        }
        Ok(())
    }
}
pub trait TensorsExt {
    fn matrix_t<T: Float>(&mut self, name: impl Into<String>, m: &DMatrix<T>);
}
impl TensorsExt for shared::session::Tensors {
    fn matrix_t<T: Float>(&mut self, name: impl Into<String>, m: &DMatrix<T>) {
        self.matrix(name, &widen(m))
    }
}
