//! Fixed-horizon three-class labels (seed 001): `r = close[t+H]/close[t] − 1`; BUY if `r > θ`,
//! SELL if `r < −θ`, else HOLD; and the search for θ.

use serde::{Deserialize, Serialize};
use vane_core::Signal;

use crate::error::{Result, param};
use crate::{Labels, forward_returns};

/// One fixed-horizon label.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FixedLabel {
    /// BUY / SELL / HOLD.
    pub signal: Signal,
    /// The forward return `close[t+H]/close[t] − 1`.
    pub ret: f64,
}

/// Fixed-horizon labeller.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FixedHorizon {
    /// Bars ahead, H ≥ 1.
    pub horizon: usize,
    /// The dead band θ ≥ 0 (a return of exactly ±θ is HOLD).
    pub theta: f64,
}

impl FixedHorizon {
    /// A labeller with horizon `H` and threshold `θ`.
    pub fn new(horizon: usize, theta: f64) -> Result<Self> {
        param("fixed", horizon >= 1, || format!("horizon = {horizon}, must be ≥ 1"))?;
        param("fixed", theta.is_finite() && theta >= 0.0, || format!("theta = {theta}, must be finite and ≥ 0"))?;
        Ok(Self { horizon, theta })
    }

    /// Labels every bar whose horizon lies inside the series; span `[t, t+H]`.
    pub fn label(&self, close: &[f64]) -> Labels<FixedLabel> {
        label_returns(&forward_returns(close, self.horizon), self.horizon, self.theta, -self.theta)
    }
}

/// The class of a forward return `r` under the band `(sell, buy)`: BUY if `r > buy`, SELL if
/// `r < sell`, else HOLD. The fixed-horizon rule is `classify(r, θ, −θ)`.
pub fn classify(r: f64, buy: f64, sell: f64) -> Signal {
    if r > buy {
        Signal::Buy
    } else if r < sell {
        Signal::Sell
    } else {
        Signal::Hold
    }
}

/// BUY above `buy`, SELL below `sell`, HOLD between, for precomputed forward returns.
pub(crate) fn label_returns(rets: &[Option<f64>], horizon: usize, buy: f64, sell: f64) -> Labels<FixedLabel> {
    let mut out = Labels::with_len(rets.len());
    for (t, r) in rets.iter().enumerate() {
        if let Some(r) = *r
            && r.is_finite()
        {
            out.set(t, FixedLabel { signal: classify(r, buy, sell), ret: r }, t + horizon);
        }
    }
    out
}

/// Share of HOLD among the labelled bars (NaN when none is labelled).
pub fn hold_share(labels: &Labels<FixedLabel>) -> f64 {
    let n = labels.labeled();
    let holds = labels.iter().filter(|(_, l, _)| l.signal == Signal::Hold).count();
    holds as f64 / n as f64
}

/// The θ grid and the HOLD-share bounds of a search.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ThetaSearch {
    /// Smallest candidate.
    pub theta_min: f64,
    /// Largest candidate.
    pub theta_max: f64,
    /// Number of candidates, evenly spaced from `theta_min` to `theta_max` (≥ 1).
    pub steps: usize,
    /// Lowest acceptable HOLD share.
    pub hold_min: f64,
    /// Highest acceptable HOLD share.
    pub hold_max: f64,
}

/// One evaluated θ.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThetaCandidate {
    /// The threshold.
    pub theta: f64,
    /// Its HOLD share.
    pub hold_share: f64,
    /// The caller's score, for candidates within the HOLD bounds.
    pub score: Option<f64>,
}

/// The outcome of a θ search.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThetaResult {
    /// The best candidate (highest score; the smaller θ on ties), if any was within bounds.
    pub best: Option<ThetaCandidate>,
    /// Every candidate, in grid order.
    pub candidates: Vec<ThetaCandidate>,
}

impl ThetaSearch {
    /// The candidate thresholds.
    pub fn grid(&self) -> Vec<f64> {
        if self.steps <= 1 {
            return vec![self.theta_min];
        }
        let step = (self.theta_max - self.theta_min) / (self.steps - 1) as f64;
        (0..self.steps).map(|i| self.theta_min + step * i as f64).collect()
    }

    /// Labels with every θ of the grid, keeps those whose HOLD share lies in
    /// `[hold_min, hold_max]`, and scores them with `score` (the pipeline passes the mean macro-F1
    /// over walk-forward windows). Non-finite scores are ignored.
    pub fn run(
        &self,
        close: &[f64],
        horizon: usize,
        mut score: impl FnMut(f64, &Labels<FixedLabel>) -> f64,
    ) -> Result<ThetaResult> {
        self.check()?;
        let rets = forward_returns(close, horizon);
        let mut candidates = Vec::new();
        let mut best: Option<ThetaCandidate> = None;
        for theta in self.grid() {
            let labels = label_returns(&rets, horizon, theta, -theta);
            let hs = hold_share(&labels);
            let score =
                (hs >= self.hold_min && hs <= self.hold_max).then(|| score(theta, &labels)).filter(|s| s.is_finite());
            Self::keep(&mut best, &mut candidates, ThetaCandidate { theta, hold_share: hs, score });
        }
        Ok(ThetaResult { best, candidates })
    }

    /// The same search over precomputed forward returns (e.g. the rows of a multi-symbol panel):
    /// `score` gets θ and the classes of `rets` under it, and may fail (its error is returned).
    pub fn run_on_returns<E: From<crate::LabelError>>(
        &self,
        rets: &[f64],
        mut score: impl FnMut(f64, &[Signal]) -> std::result::Result<f64, E>,
    ) -> std::result::Result<ThetaResult, E> {
        self.check()?;
        let mut candidates = Vec::new();
        let mut best: Option<ThetaCandidate> = None;
        for theta in self.grid() {
            let classes: Vec<Signal> = rets.iter().map(|&r| classify(r, theta, -theta)).collect();
            let hs = classes.iter().filter(|&&c| c == Signal::Hold).count() as f64 / classes.len() as f64;
            let score = if hs >= self.hold_min && hs <= self.hold_max {
                Some(score(theta, &classes)?).filter(|s| s.is_finite())
            } else {
                None
            };
            Self::keep(&mut best, &mut candidates, ThetaCandidate { theta, hold_share: hs, score });
        }
        Ok(ThetaResult { best, candidates })
    }

    fn keep(best: &mut Option<ThetaCandidate>, candidates: &mut Vec<ThetaCandidate>, c: ThetaCandidate) {
        if let Some(s) = c.score
            && best.is_none_or(|b| s > b.score.unwrap_or(f64::NEG_INFINITY))
        {
            *best = Some(c);
        }
        candidates.push(c);
    }

    fn check(&self) -> Result<()> {
        param(
            "theta search",
            self.theta_min >= 0.0 && self.theta_max >= self.theta_min && self.theta_max.is_finite(),
            || format!("need 0 ≤ theta_min ≤ theta_max, got {} and {}", self.theta_min, self.theta_max),
        )?;
        param(
            "theta search",
            (0.0..=1.0).contains(&self.hold_min) && self.hold_min <= self.hold_max && self.hold_max <= 1.0,
            || format!("need 0 ≤ hold_min ≤ hold_max ≤ 1, got {} and {}", self.hold_min, self.hold_max),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_by_hand() {
        // close: 100, 102, 99.2, 99.5, 103; H = 2, θ = 1 %.
        let close = [100.0, 102.0, 99.2, 99.5, 103.0];
        let l = FixedHorizon::new(2, 0.01).unwrap().label(&close);
        let got: Vec<Option<Signal>> = l.values.iter().map(|v| v.map(|x| x.signal)).collect();
        // r0 = −0.8 % HOLD, r1 = 99.5/102−1 = −2.45 % SELL, r2 = 103/99.2−1 = +3.83 % BUY.
        assert_eq!(got, vec![Some(Signal::Hold), Some(Signal::Sell), Some(Signal::Buy), None, None]);
        assert_eq!(l.spans[1], Some(vane_core::Span::new(1, 3)));
        assert!((l.values[2].unwrap().ret - (103.0 / 99.2 - 1.0)).abs() < 1e-15);
        // A return of exactly ±θ is HOLD (exactly representable: ±25 %).
        let edge = FixedHorizon::new(1, 0.25).unwrap().label(&[100.0, 125.0, 93.75]);
        assert_eq!(edge.values[0].unwrap().signal, Signal::Hold);
        assert_eq!(edge.values[1].unwrap().signal, Signal::Hold);
        assert_eq!(l.labeled(), 3);
        assert!((hold_share(&l) - 1.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn theta_search_respects_hold_bounds() {
        let close: Vec<f64> = (0..200).map(|i| 100.0 * (1.0 + 0.02 * ((i as f64) * 0.7).sin())).collect();
        let search = ThetaSearch { theta_min: 0.0, theta_max: 0.05, steps: 11, hold_min: 0.2, hold_max: 0.6 };
        // Score favours larger θ: the best must be the largest θ still within the bounds.
        let r = search.run(&close, 3, |theta, _| theta).unwrap();
        assert_eq!(r.candidates.len(), 11);
        let kept: Vec<f64> = r.candidates.iter().filter(|c| c.score.is_some()).map(|c| c.theta).collect();
        assert!(!kept.is_empty());
        for c in &r.candidates {
            assert_eq!(c.score.is_some(), (0.2..=0.6).contains(&c.hold_share), "{c:?}");
        }
        assert_eq!(r.best.unwrap().theta, *kept.last().unwrap());
        let bad = ThetaSearch { hold_min: 0.7, hold_max: 0.6, ..search };
        assert!(bad.run(&close, 3, |_, _| 0.0).unwrap_err().to_string().contains("hold_min"));
    }

    #[test]
    fn search_on_returns_matches_search_on_closes() {
        let close: Vec<f64> = (0..300).map(|i| 100.0 * (1.0 + 0.03 * ((i as f64) * 0.37).sin())).collect();
        let search = ThetaSearch { theta_min: 0.0, theta_max: 0.04, steps: 9, hold_min: 0.1, hold_max: 0.8 };
        let buy_share = |c: &[Signal]| c.iter().filter(|&&s| s == Signal::Buy).count() as f64 / c.len() as f64;
        let a = search
            .run(&close, 4, |_, l| {
                let c: Vec<Signal> = l.iter().map(|(_, v, _)| v.signal).collect();
                buy_share(&c)
            })
            .unwrap();
        let rets: Vec<f64> = forward_returns(&close, 4).into_iter().flatten().collect();
        let b = search.run_on_returns::<crate::LabelError>(&rets, |_, c| Ok(buy_share(c))).unwrap();
        assert_eq!(a, b);
        assert_eq!(classify(0.02, 0.01, -0.01), Signal::Buy);
        assert_eq!(classify(-0.01, 0.01, -0.01), Signal::Hold);
        let failing =
            search.run_on_returns::<crate::LabelError>(&rets, |_, _| Err(crate::LabelError::InvalidInput("x".into())));
        assert!(failing.is_err());
    }

    #[test]
    fn bad_parameters() {
        assert!(FixedHorizon::new(0, 0.01).is_err());
        assert!(FixedHorizon::new(1, -0.1).unwrap_err().to_string().contains("theta = -0.1"));
    }
}
