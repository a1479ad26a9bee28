//! The decision rules on hand-made sequences, streaming == batch, and the optimisers.

use proptest::prelude::*;
use vane_core::{ClassProbs, Signal, Timestamp};
use vane_costs::CostModel;
use vane_policy::optimize::{Constraints, min_conf, thresholds};
use vane_policy::{Consensus, Input, Policy, PolicyConfig, Rule};

fn probs(buy: f64, sell: f64, hold: f64) -> Input {
    Input::Classes(ClassProbs { buy, sell, hold })
}

fn ts(n: usize, step: i64) -> Vec<Timestamp> {
    (0..n).map(|i| Timestamp(i as i64 * step)).collect()
}

#[test]
fn min_conf_rule() {
    let cfg = |m| PolicyConfig { rule: Rule::MinConf { min_conf: m }, hysteresis: 0.0, cooldown_ms: 0 };
    let inputs = [probs(0.5, 0.3, 0.2), probs(0.2, 0.45, 0.35), probs(0.3, 0.3, 0.4), probs(0.4, 0.4, 0.2)];
    let got = Policy::decide_all(cfg(0.45), &ts(4, 1), &inputs).unwrap();
    // HOLD wins its own argmax; a BUY/SELL tie goes to BUY, then needs min_conf.
    assert_eq!(got, vec![Signal::Buy, Signal::Sell, Signal::Hold, Signal::Hold]);
    let got = Policy::decide_all(cfg(0.35), &ts(4, 1), &inputs).unwrap();
    assert_eq!(got, vec![Signal::Buy, Signal::Sell, Signal::Hold, Signal::Buy]);
}

#[test]
fn thresholds_with_hysteresis() {
    let cfg = PolicyConfig { rule: Rule::Thresholds { long: 0.6, short: 0.4 }, hysteresis: 0.01, cooldown_ms: 0 };
    let p = [0.605, 0.615, 0.595, 0.585, 0.395, 0.385, 0.405, 0.415];
    let got = Policy::decide_all(cfg, &ts(8, 1), &p.map(Input::Up)).unwrap();
    // Enter long above 0.61, stay above 0.59; enter short below 0.39, stay below 0.41.
    use Signal::*;
    assert_eq!(got, vec![Hold, Buy, Buy, Hold, Hold, Sell, Sell, Hold]);
}

#[test]
fn cooldown_blocks_changes() {
    let cfg = PolicyConfig { rule: Rule::Thresholds { long: 0.6, short: 0.4 }, hysteresis: 0.0, cooldown_ms: 10_000 };
    // One prediction per second: BUY at 0 s, SELL signals at 3 s and 9 s are held back; 10 s is
    // the first allowed change.
    let p = [0.7, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3];
    let got = Policy::decide_all(cfg, &ts(11, 1000), &p.map(Input::Up)).unwrap();
    assert_eq!(&got[..10], &[Signal::Buy; 10]);
    assert_eq!(got[10], Signal::Sell);
    let mut pol = Policy::new(cfg).unwrap();
    pol.decide(Timestamp(5000), &Input::Up(0.7)).unwrap();
    assert!(pol.decide(Timestamp(4000), &Input::Up(0.7)).unwrap_err().to_string().contains("earlier"));
}

#[test]
fn bad_configs_and_inputs() {
    let bad = |rule, h, c| Policy::new(PolicyConfig { rule, hysteresis: h, cooldown_ms: c }).unwrap_err().to_string();
    assert!(bad(Rule::MinConf { min_conf: 1.5 }, 0.0, 0).contains("min_conf = 1.5"));
    assert!(bad(Rule::Thresholds { long: 0.4, short: 0.6 }, 0.0, 0).contains("short ≤ long"));
    assert!(bad(Rule::MinConf { min_conf: 0.5 }, -0.1, 0).contains("hysteresis"));
    assert!(bad(Rule::MinConf { min_conf: 0.5 }, 0.0, -5).contains("cooldown"));
    let mut p =
        Policy::new(PolicyConfig { rule: Rule::MinConf { min_conf: 0.5 }, hysteresis: 0.0, cooldown_ms: 0 }).unwrap();
    assert!(p.decide(Timestamp(0), &Input::Up(0.7)).is_err());
    assert!(p.decide(Timestamp(0), &probs(f64::NAN, 0.1, 0.1)).is_err());
    assert_eq!(p.current(), Signal::Hold, "a rejected input changes nothing");
}

#[test]
fn consensus_two_of_three() {
    use Signal::*;
    let c = Consensus::new(2, 3).unwrap();
    assert_eq!(c.combine(&[Buy, Buy, Sell]).unwrap(), Buy);
    assert_eq!(c.combine(&[Buy, Hold, Sell]).unwrap(), Hold);
    assert_eq!(c.combine(&[Sell, Hold, Sell]).unwrap(), Sell);
    assert_eq!(Consensus::new(1, 2).unwrap().combine(&[Buy, Sell]).unwrap(), Hold);
    assert!(c.combine(&[Buy]).is_err());
    assert!(Consensus::new(4, 3).is_err());
}

proptest! {
    #[test]
    fn streaming_equals_batch(ps in proptest::collection::vec(0.0f64..1.0, 1..200), h in 0.0f64..0.05, cd in 0i64..5) {
        let cfg = PolicyConfig { rule: Rule::Thresholds { long: 0.55, short: 0.45 }, hysteresis: h, cooldown_ms: cd * 1000 };
        let inputs: Vec<Input> = ps.iter().map(|&p| Input::Up(p)).collect();
        let times = ts(ps.len(), 1000);
        let batch = Policy::decide_all(cfg, &times, &inputs).unwrap();
        let mut s = Policy::new(cfg).unwrap();
        for (i, inp) in inputs.iter().enumerate() {
            prop_assert_eq!(s.decide(times[i], inp).unwrap(), batch[i]);
        }
    }
}

#[test]
fn threshold_optimiser_finds_the_informative_tail() {
    // 1000 bars: P(up) = (i + 0.5)/1000; bars with p > 0.8 rise 1 %, p < 0.2 fall 1 %, the rest
    // are noise ±0.1 % (alternating). Grids: 0.515, 0.525, … and 0.485, 0.475, …; with 2 bp round
    // trips the best thresholds are 0.795 (5 noise bars + 200 winners) and 0.205 (likewise):
    // one step further out would lose 5 winners (−4.9 %) to save 5 noise bars (−0.2 %).
    let p: Vec<f64> = (0..1000).map(|i| (i as f64 + 0.5) / 1000.0).collect();
    let r: Vec<f64> = p
        .iter()
        .enumerate()
        .map(|(i, &q)| {
            if q > 0.8 {
                0.01
            } else if q < 0.2 {
                -0.01
            } else if i % 2 == 0 {
                0.001
            } else {
                -0.001
            }
        })
        .collect();
    let costs = CostModel::new(1.0, 0.0).unwrap();
    let c = Constraints { step: 0.01, ..Constraints::default() };
    let best = thresholds(&p, &r, &costs, &c).unwrap().unwrap();
    assert!((best.long - 0.795).abs() < 1e-9, "{best:?}");
    assert!((best.short - 0.205).abs() < 1e-9, "{best:?}");
    assert_eq!((best.n_long, best.n_short), (205, 205));
    // 400 winners at 1 %; long noise bars 795..799 sum to −0.1 %, short noise 200..204 earn
    // −(+0.1 %); 410 round trips at 2 bp.
    let want = 400.0 * 0.01 - 0.001 - 0.001 - 410.0 * 0.0002;
    assert!((best.total_net_edge - want).abs() < 1e-9, "{} vs {want}", best.total_net_edge);
    assert!((best.active_share - 0.41).abs() < 1e-12);
    // An activity floor above what pays pushes the thresholds in.
    let busy = thresholds(&p, &r, &costs, &Constraints { min_active: 0.6, ..c }).unwrap().unwrap();
    assert!(busy.active_share >= 0.6);
    // Impossible constraints: nothing is feasible.
    assert!(thresholds(&p, &r, &costs, &Constraints { min_active: 0.95, min_abstain: 0.1, ..c }).unwrap().is_none());
    assert!(thresholds(&p, &r, &costs, &Constraints { edge_min_bps: 500.0, ..c }).unwrap().is_none());
    assert!(thresholds(&p[..3], &r, &costs, &c).is_err());
}

#[test]
fn min_conf_optimiser() {
    // Confident predictions are right, unconfident ones wrong.
    let probs: Vec<ClassProbs> = (0..300)
        .map(|i| {
            let conf = 0.35 + (i % 60) as f64 / 100.0; // 0.35 .. 0.94
            if i % 2 == 0 {
                ClassProbs { buy: conf, sell: (1.0 - conf) / 2.0, hold: (1.0 - conf) / 2.0 }
            } else {
                ClassProbs { sell: conf, buy: (1.0 - conf) / 2.0, hold: (1.0 - conf) / 2.0 }
            }
        })
        .collect();
    let r: Vec<f64> = probs
        .iter()
        .map(|p| {
            let right = p.buy.max(p.sell) >= 0.6;
            let dir = if p.buy > p.sell { 1.0 } else { -1.0 };
            if right { 0.01 * dir } else { -0.01 * dir }
        })
        .collect();
    let best =
        min_conf(&probs, &r, &CostModel::new(1.0, 1.0).unwrap(), &Constraints { step: 0.01, ..Constraints::default() })
            .unwrap()
            .unwrap();
    assert!((best.long - 0.6).abs() < 0.011, "{best:?}");
    assert!(best.mean_edge_bps > 90.0);
}
