//! `rbm`: notes §7, "Redistricted (read: Restricted) Boltzmann Machine": the partition function
//! summed the way the notes sum it, exact likelihoods from it, and contrastive-divergence
//! training (Hinton, "A Practical Guide to Training Restricted Boltzmann Machines", 2010;
//! Hinton's NNML programming assignment 4, whose `log_partition.m` is the notes' recipe).
//!
//! # The notes' computation
//! Binary visible V (n_v units) and hidden H (n_h units), weights W (n_h × n_v), energy
//! E(V, H) = −Hᵀ W V. For one hidden configuration H the sum over all 2^{n_v} visible vectors
//! factorises: Σ_V e^{Hᵀ W V} = Π_i (1 + e^{(Hᵀ W)_i}). Stack the 2^{n_h} rows Hᵀ W, map each
//! entry to 1 + e^{·}, take the row-wise product, then the sum: that is Z
//! ([`model::notes_table`]). The H = (0, 0) row is 1 + e⁰ = 2 in every column: 2³ = 8.
//!
//! # Generalised
//! With biases, E(v, h) = −aᵀv − bᵀh − hᵀWv, and in log space (softplus, logsumexp):
//! log Z = logsumexp_h [bᵀh + Σ_i softplus(a_i + (Wᵀh)_i)], or the same sum over v with the
//! roles swapped; [`model::log_z`] sums over whichever layer is smaller, so a layer of up to
//! ~20 units makes Z exact and stable. Then log p(v) = −F(v) − log Z with the free energy
//! F(v) = −aᵀv − Σ_j softplus(b_j + (Wv)_j) ([`model::Rbm::free_energy`]). The same enumeration
//! gives the model's expectations, hence the exact gradient ([`model::exact_gradient`]), which
//! CD-k and PCD estimate by Gibbs sampling ([`model::Rbm::cd`], [`model::Rbm::pcd`]).
//!
//! # Sizes
//! n_v visible units, n_h hidden units, B examples in a mini-batch (one per column), N examples
//! in a data set. W is n_h × n_v (the notes' and PA4's orientation), a is n_v × 1, b is n_h × 1,
//! data V is n_v × N with entries 0 or 1.
//!
//! # Two layers
//! [`model`] is the notes layer: every equation below, one per line, on nalgebra. [`fast`] is
//! the engine path training and the reports run (buffers, one fused product for the CD
//! statistics, the blocked exact sums of [`shared::kernels::softplus`]); `tests/fast.rs` checks
//! it against [`model`] to about 1e-12. The sampler and the CD update are generic over the
//! float type ([`fast::EngineFloat`]): `train --dtype f32` runs them in f32 ([`fast::Rbm32`]),
//! `tests/f32.rs` checks them against [`model`] to f32 precision; the exact sums stay f64. Around them: [`data`] (bars and stripes, digits, MNIST,
//! binarised), [`train`] (the guide's recipe, the [`train::Trainer`], the per-epoch monitors),
//! [`checkpoint`] (what `model.safetensors` keeps: the RBM, and the training state a `--resume`
//! continues from), [`report`] (what a run prints and writes), [`partition`] (the `rbm partition`
//! printout), [`cli`] (the flags) and [`commands`] (`train`, `sample`, `partition` on the run
//! session of `shared::session`: one folder per run, Ctrl-C, resume, the `wrote …` line).
//!
//! # The notes' equations, and beyond, in code
//! | equation | notes layer | engine path |
//! |---|---|---|
//! | Hᵀ = `[[0,0],[0,1],[1,0],[1,1]]` | [`model::configurations`] | |
//! | Hᵀ W V, → 1 + e^{·}, row-wise product, sum (Z; the H = (0,0) row is 8) | [`model::notes_table`] | |
//! | Z = Σ_{V,H} e^{−E(V,H)}, E = −aᵀv − bᵀh − hᵀWv | [`model::z_brute_force`], [`model::Rbm::energy`] | |
//! | log Z = logsumexp_h [bᵀh + Σ_i softplus(a_i + (Wᵀh)_i)] | [`model::log_z`] | [`fast::log_z`] (row products: [`shared::kernels::softplus::log_row_products`]) |
//! | F(v), log p(v) = −F(v) − log Z | [`model::Rbm::free_energy`], [`model::log_probs`] | [`fast::free_energy`], [`fast::log_probs`] |
//! | p(h = 1 \| v) = σ(Wv + b), p(v = 1 \| h) = σ(Wᵀh + a) | [`model::Rbm::hidden_probs`], [`model::Rbm::visible_probs`] | [`fast::hidden_probs`], [`fast::visible_probs`] |
//! | ⟨v⟩, ⟨h⟩, ⟨hvᵀ⟩ under p(v, h) = e^{−E} / Z | [`model::model_expectations`] | [`fast::model_expectations`] |
//! | ∂ log p / ∂W = ⟨hvᵀ⟩_data − ⟨hvᵀ⟩_model (exact) | [`model::exact_gradient`] | [`fast::Cd::exact`] |
//! | CD-k: ⟨hvᵀ⟩_model ≈ Hk Vkᵀ / B after k Gibbs steps from the data | [`model::Rbm::cd`] | [`fast::Cd::cd`] |
//! | PCD-k: the same from persistent chains | [`model::Rbm::pcd`] | [`fast::Cd::pcd`] |
//! | Δ ← μΔ + (∇ − λW), θ ← θ + εΔ | [`model::Rbm::update`] | [`train::Trainer::step`] |
//!
//! # Expected results
//! The reference sheet's test vectors to 1e-9 (n_v = 2, n_h = 1, W = `[[1], [−0.5]]`:
//! Z = 9.9735337589). Bars and stripes 4 × 4, 16 hidden units, CD-20, ε = 0.004 annealed to 0
//! (the default run): −11.09 (independent pixels) → −3.52 after 300 epochs (seeds 1–3: −3.514 …
//! −3.531), 0.12 nats short of the optimum −ln 30 = −3.401; the exact gradient with the same 16
//! hidden units (`--method exact`) gets to −3.427 (0.026 short; −3.410 without weight cost):
//! the rest of CD's gap is its bias. The binarised 8 × 8 digits, 12 hidden units, CD-1: from
//! the independent-pixel baseline (≈ −25.1) to −19.2 … −21.3 nats per image at epoch 50 over
//! five seeds (the numpy run of the same recipe: −19.51); the exact gradient: −18.00.

#![allow(non_snake_case)]

pub mod checkpoint;
pub mod cli;
pub mod commands;
pub mod data;
pub mod fast;
pub mod model;
pub mod partition;
pub mod report;
pub mod train;
