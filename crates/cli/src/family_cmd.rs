//! `dicelens family`: each loss's minimizer along the logit-shift family, as JSON.

use dicelens_core::sweep::sweep;
use dicelens_core::{Family, FamilyLoss, FamilyParams};
use serde_json::{json, Map};

/// Parses `--u --kappa --sigma --lambda --temp` and prints `{"params":…,"optima":{key:{s_hat,ratio,value}}}`.
pub fn family(values: &dyn Fn(&str, f64) -> Result<f64, String>) -> Result<String, String> {
    let d = FamilyParams::default();
    let p = FamilyParams {
        u: values("u", d.u)?,
        kappa: values("kappa", d.kappa)?,
        sigma: values("sigma", d.sigma)?,
        lambda: values("lambda", d.lambda)?,
        temp: values("temp", d.temp)?,
        ..d
    };
    let f = Family::new(p).map_err(|e| e.to_string())?;
    let sw = sweep(
        &f,
        (p.u / 10.0).max(1e-4),
        (12.0 * p.u).clamp(0.05, 0.999),
        160,
    );
    let mut optima = Map::new();
    for loss in FamilyLoss::ALL {
        if let Some(m) = sw.minimizer(loss) {
            optima.insert(
                loss.key().to_string(),
                json!({"s_hat": m.s_hat, "ratio": m.ratio, "value": m.value, "b": m.b}),
            );
        }
    }
    Ok(json!({
        "params": {"u": p.u, "kappa": p.kappa, "sigma": p.sigma, "lambda": p.lambda, "temp": p.temp, "quad": p.quad},
        "optima": optima,
    })
    .to_string())
}
