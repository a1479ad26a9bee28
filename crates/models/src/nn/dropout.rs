//! Inverted dropout with an explicit random stream.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Tensor, TensorData};

use crate::nn::check;

/// A SplitMix64 stream of dropout masks, passed explicitly to every forward pass that may drop.
/// [`DropoutRng::off`] never drops (inference); [`DropoutRng::seeded`] drops on autodiff
/// (training) devices. The trainer seeds one per epoch, so a run is reproducible from its seed
/// and concurrent runs in one process do not disturb each other's masks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DropoutRng {
    state: u64,
    on: bool,
}

impl DropoutRng {
    const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

    /// A stream seeded with `seed`: dropout is applied (on autodiff devices).
    pub fn seeded(seed: u64) -> Self {
        Self { state: seed ^ Self::GOLDEN, on: true }
    }

    /// No dropout at all (inference).
    pub fn off() -> Self {
        Self { state: Self::GOLDEN, on: false }
    }

    /// Whether masks are drawn.
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let z = self.state.wrapping_add(Self::GOLDEN);
        self.state = z;
        let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Configuration of a [`Dropout`] layer.
#[derive(Config, Debug)]
pub struct DropoutConfig {
    /// Probability of zeroing an element, in `[0, 1)`.
    pub prob: f64,
}

impl DropoutConfig {
    /// Checks the probability; the error names the field.
    pub fn validate(&self) -> crate::Result<()> {
        check::probability("DropoutConfig", "prob", self.prob)
    }

    /// The layer, or an error when `prob` is out of range.
    pub fn init(&self) -> crate::Result<Dropout> {
        self.validate()?;
        Ok(Dropout { prob: self.prob })
    }
}

/// Inverted dropout, active only with a [`DropoutRng::seeded`] stream on an autodiff (training)
/// device. burn's own `Dropout` samples its Bernoulli mask element by element through ChaCha,
/// which took 16 % of a CNN-LSTM training step on CPU, and its generator is shared by the whole
/// process. Here: two 32-bit draws per 64-bit word of the caller's stream; the same masks on
/// every backend.
#[derive(Module, Debug)]
pub struct Dropout {
    /// Probability of zeroing an element.
    pub prob: f64,
}

impl Dropout {
    /// Applies a mask from `rng` when training.
    pub fn forward<const D: usize>(&self, x: Tensor<D>, rng: &mut DropoutRng) -> Tensor<D> {
        let shape = x.shape();
        match self.mask(shape.num_elements(), &x.device(), rng) {
            Some(mask) => {
                let mask = Tensor::<D>::from_data(TensorData::new(mask, shape), &x.device());
                x * mask
            }
            None => x,
        }
    }

    /// The mask [`Dropout::forward`] would multiply `n` elements on `device` by (`0` or
    /// `1/(1 − prob)`, drawn from `rng` exactly as there), or `None` when it would not drop
    /// (`prob` 0, an [`DropoutRng::off`] stream or a device without autodiff). For fused ops that
    /// apply the mask themselves.
    pub fn mask(&self, n: usize, device: &burn::tensor::Device, rng: &mut DropoutRng) -> Option<Vec<f32>> {
        if self.prob == 0.0 || !rng.is_on() || !device.is_autodiff() {
            return None;
        }
        let keep = 1.0 - self.prob;
        let threshold = (keep * 4_294_967_296.0) as u64;
        let scale = (1.0 / keep) as f32;
        let mut mask = vec![0.0f32; n.next_multiple_of(2)];
        for pair in mask.chunks_exact_mut(2) {
            let r = rng.next_u64();
            pair[0] = if (r & 0xFFFF_FFFF) < threshold { scale } else { 0.0 };
            pair[1] = if (r >> 32) < threshold { scale } else { 0.0 };
        }
        mask.truncate(n);
        Some(mask)
    }

    /// [`Dropout::mask`] as the fused ops take it: a `[n]` tensor on `device`, or the one-value
    /// tensor `[1.0]` for no mask (multiplying by it changes nothing; the ops skip it).
    pub fn mask_tensor(&self, n: usize, device: &burn::tensor::Device, rng: &mut DropoutRng) -> Tensor<1> {
        let mask = self.mask(n, device, rng).unwrap_or_else(|| vec![1.0]);
        let len = mask.len();
        Tensor::<1>::from_data(TensorData::new(mask, [len]), device)
    }
}
