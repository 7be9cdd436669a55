//! The bias gradient: db = Σ_t dz_t, the sum of a matrix's columns (columns are time steps or
//! examples).

use nalgebra::constraint::{SameNumberOfRows, ShapeConstraint};
use nalgebra::{Dim, Matrix, RawStorage, StorageMut, U1};

/// `out ← Σ_j column j of m` (m: n × k, out: n × 1), e.g. db_h = Σ_t dz_t. The columns are added
/// one after another from zero, the same order as nalgebra's `column_sum()` (same bits), each
/// as one vector `+=` (nalgebra runs it on plain slices when both sides are contiguous, which
/// the compiler vectorises; an element iterator over the column views is several times slower).
pub fn sum_columns<R, C, S, R2, S2>(m: &Matrix<f64, R, C, S>, out: &mut Matrix<f64, R2, U1, S2>)
where
    R: Dim,
    C: Dim,
    S: RawStorage<f64, R, C>,
    R2: Dim,
    S2: StorageMut<f64, R2, U1>,
    ShapeConstraint: SameNumberOfRows<R2, R>,
{
    assert_eq!(
        out.nrows(),
        m.nrows(),
        "sum_columns: out has the wrong length"
    );
    out.fill(0.0);
    for j in 0..m.ncols() {
        *out += m.column(j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{DMatrix, DVector};

    #[test]
    fn equals_column_sum_bit_for_bit() {
        let m = DMatrix::from_fn(7, 13, |i, j| ((i * 13 + j) as f64 * 0.37).sin() * 1e3);
        let mut out = DVector::from_element(7, 9.0);
        sum_columns(&m, &mut out);
        assert_eq!(out, m.column_sum());
        let mut col = DMatrix::zeros(7, 1);
        sum_columns(&m.columns(2, 5), &mut col.column_mut(0));
        assert_eq!(col.column(0), m.columns(2, 5).column_sum());
    }
}
