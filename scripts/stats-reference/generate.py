"""Reference values for @reco/experiments statistics.

Run:  pip install -r scripts/stats-reference/requirements.txt
      python3 scripts/stats-reference/generate.py
Writes packages/experiments/test/fixtures/*.json (committed; the TypeScript tests never need Python).

Each expected value comes from an implementation independent of the TypeScript one: scipy's
t-test on the raw per-user arrays, statsmodels' multipletests / NormalIndPower, scipy's chisquare,
statsmodels' NonlinearDeltaCov (complex-step derivatives of the uplift function, not the closed
form) for the relative uplift, statsmodels' OLS for CUPED's pooled theta, numerical integration for
Bayesian risk, and the sequential interval from the mixture martingale solved numerically
(quadrature + root finding, not the closed form the TypeScript uses).
The `results` fixture runs whole experiments (a primary and guardrail metrics, fixed and
sequential mode) through those references and the documented decision rule, so the decisions near
the boundary are checked against values the code under test never produced. The `composition`
fixture holds what computeResults reports at settings other than the defaults (α = 0.1, the
sequential tuning size, lower-is-better models) and the calculators at their smallest inputs.
Bayesian chance to win / risk and CUPED are also checked by simulations with a known truth in
packages/experiments/test/known-truth.test.ts.
"""

import json
import math
import subprocess
from pathlib import Path

import numpy as np
from scipy import integrate, optimize, special, stats
import statsmodels.api as sm
from statsmodels.stats._delta_method import NonlinearDeltaCov
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower

OUT = Path(__file__).resolve().parents[2] / "packages" / "experiments" / "test" / "fixtures"
rng = np.random.default_rng(20261123)


def suff(x):
    x = np.asarray(x, dtype=float)
    return {"n": int(x.size), "sum": float(x.sum()), "sumSquares": float((x * x).sum())}


def sample(kind, n, param):
    if kind == "proportion":
        return (rng.random(n) < param).astype(float)
    if kind == "lognormal":  # skewed, like watch time
        return rng.lognormal(mean=param, sigma=1.0, size=n)
    return rng.normal(loc=param, scale=2.0, size=n)  # e.g. ratings


def write(name, cases):
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps({"generator": "scripts/stats-reference/generate.py", "cases": cases}, indent=1) + "\n")
    print(f"{name}: {len(cases)} cases")



def normal_posterior(c, t, higher, alpha):
    """The normal model's chance to win, risk and credible interval, by quadrature over the posterior
    of the difference (as in bayesian_cases)."""
    sign = 1 if higher else -1
    delta = t.mean() - c.mean()
    sigma = math.sqrt(np.var(c, ddof=1) / c.size + np.var(t, ddof=1) / t.size)
    post = stats.norm(loc=delta, scale=sigma)
    lo, hi = delta - 12 * sigma, delta + 12 * sigma
    chance = integrate.quad(lambda d: post.pdf(d) * (sign * d > 0), lo, hi, points=[0.0], epsabs=1e-13, epsrel=1e-12, limit=200)[0]
    risk = integrate.quad(lambda d: max(-sign * d, 0.0) * post.pdf(d), lo, hi, points=[0.0], epsabs=1e-14, epsrel=1e-12, limit=200)[0]
    return {"chanceToWin": chance, "risk": risk, "credibleInterval": [float(post.ppf(alpha / 2)), float(post.ppf(1 - alpha / 2))]}


def beta_binomial_posterior(nc, cc, nt, ct, higher):
    """The exact Beta-Binomial chance to win and risk, by quadrature (as in beta_binomial_cases)."""
    def post(n, c):
        a, b = 1 + c, 1 + n - c
        return (b, a) if not higher else (a, b)
    (aa, ab), (ba, bb) = post(nc, cc), post(nt, ct)
    A, B, Aplus = stats.beta(aa, ab), stats.beta(ba, bb), stats.beta(aa + 1, ab)
    lo = max(0.0, min(A.ppf(1e-15), B.ppf(1e-15)))
    hi = min(1.0, max(A.isf(1e-15), B.isf(1e-15)))
    q = lambda f: integrate.quad(f, lo, hi, points=[A.mean(), B.mean()], epsabs=1e-14, epsrel=1e-12, limit=500)[0]
    return {"chanceToWin": q(lambda y: B.pdf(y) * A.cdf(y)), "risk": q(lambda y: B.pdf(y) * (A.mean() * Aplus.sf(y) - y * A.sf(y)))}


def composition_cases():
    """What computeResults reports beside its decisions, at settings other than the defaults: Welch,
    the uplift, the credible and always-valid intervals at α = 0.1 (the always-valid one at α over the
    two comparisons, tuned at twice the minimum sample), the sequential tuning size, and the chance to
    win of the normal and the exact Beta-Binomial models, lower-is-better included; the calculators at
    the smallest inputs they accept."""
    c, t = binary(8000, 800), binary(8000, 880)
    alpha = 0.1
    welch = stats.ttest_ind(t, c, equal_var=False)
    welch_ci = welch.confidence_interval(confidence_level=1 - alpha)
    up = delta_uplift(c, t, alpha)
    up05 = delta_uplift(c, t, 0.05)

    def sequential(ref, n, tuning_n, a):
        half = sequential_half_width(ref["standardError"] ** 2, n, tuning_n, a)
        return [ref["uplift"] - half, ref["uplift"] + half]

    return [
        {"name": "alpha 0.1, minimum sample 3000: clicks 800 vs 880 of 8000, errors 40 vs 52",
         "alpha": alpha, "minSampleSize": 3000,
         "variants": [{"name": "control", "users": 8000, "conversions": {"click_through": 800, "error_rate": 40}},
                      {"name": "ranker-v2", "users": 8000, "conversions": {"click_through": 880, "error_rate": 52}}],
         "expected": {"welch": {"t": float(welch.statistic), "df": float(welch.df), "pValue": float(welch.pvalue), "ci": [float(welch_ci.low), float(welch_ci.high)]},
                      "absoluteDifference": float(t.mean() - c.mean()), "ci": up["ci"],
                      "credibleInterval": normal_posterior(c, t, True, alpha)["credibleInterval"],
                      "sequentialCi": sequential(up, 16000, 6000, alpha / 2),
                      "errorsChanceToWin": beta_binomial_posterior(8000, 40, 8000, 52, False)["chanceToWin"]}},
        {"name": "sequential tuning: clicks 800 vs 880 of 8000, one comparison, alpha 0.05",
         "expected": {"sequentialCiByTuningN": {str(n): sequential(up05, 16000, n, 0.05) for n in (10000, 8000, 50000)}}},
        {"name": "normal model, lower is better: errors 600 vs 500 of 120000",
         "expected": normal_posterior(binary(120000, 600), binary(120000, 500), False, 0.05)},
        {"name": "beta-binomial: clicks 1000 vs 1200 of 10000",
         "expected": beta_binomial_posterior(10000, 1000, 10000, 1200, True)},
        # The smallest inputs the calculators accept: one user against a tuning size of one, and a
        # proportion moved from 0.5 to 0.995 (statsmodels' power function, its root by brentq).
        {"name": "sequential: variance 1, n 1, tuningN 1, alpha 0.05",
         "expected": {"halfWidth": sequential_half_width(1.0, 1, 1, 0.05)}},
        {"name": "sample size: proportion 0.5 to 0.995, alpha 0.05, power 0.8",
         "expected": {"nPerVariantExact": optimize.brentq(
             lambda m: NormalIndPower().power(0.495 / math.sqrt((0.25 + 0.995 * 0.005) / 2), m, 0.05, ratio=1.0, alternative="two-sided") - 0.8,
             1.0, 1e9, xtol=1e-12, rtol=1e-15)}},
    ]


# Raw-data scenarios shared by the Welch, uplift and Bayesian fixtures.
SCENARIOS = [
    ("proportion small lift", "proportion", (2000, 0.10), (2100, 0.115)),
    ("proportion no effect", "proportion", (5000, 0.05), (5000, 0.05)),
    ("proportion negative", "proportion", (800, 0.30), (750, 0.26)),
    ("proportion tiny samples", "proportion", (40, 0.4), (35, 0.6)),
    ("normal means", "normal", (300, 3.5), (320, 3.7)),
    ("normal unequal n", "normal", (1000, 3.5), (90, 3.2)),
    ("lognormal watch time", "lognormal", (1500, 1.0), (1400, 1.08)),
    ("lognormal small", "lognormal", (25, 0.5), (30, 0.5)),
]
raw = []
for name, kind, (nc, pc), (nt, pt) in SCENARIOS:
    raw.append((name, kind, sample(kind, nc, pc), sample(kind, nt, pt)))


def welch_cases():
    cases = []
    for name, kind, c, t in raw:
        for alpha in (0.05, 0.01):
            r = stats.ttest_ind(t, c, equal_var=False)
            ci = r.confidence_interval(confidence_level=1 - alpha)
            se = math.sqrt(np.var(c, ddof=1) / c.size + np.var(t, ddof=1) / t.size)
            cases.append({
                "name": f"{name} (alpha {alpha})", "kind": kind, "alpha": alpha,
                "control": suff(c), "treatment": suff(t),
                "expected": {"difference": float(t.mean() - c.mean()), "standardError": se, "t": float(r.statistic),
                             "df": float(r.df), "pValue": float(r.pvalue), "ci": [float(ci.low), float(ci.high)]},
            })
    return cases


def delta_uplift(c, t, alpha=0.05):
    """Relative uplift mean(t)/mean(c) − 1 by statsmodels' generic delta method: the two sample means
    with their (independent) sampling variances, the gradient by complex-step differentiation."""
    params = np.array([c.mean(), t.mean()])
    cov = np.diag([np.var(c, ddof=1) / c.size, np.var(t, ddof=1) / t.size])
    nl = NonlinearDeltaCov(lambda p: np.atleast_1d(p[1] / p[0] - 1), params, cov)
    up = float(nl.predicted()[0])
    se = float(nl.se_vectorized()[0])
    lo, hi = nl.conf_int(alpha=alpha)[0]
    return {"uplift": up, "standardError": se, "pValue": float(2 * stats.norm.sf(abs(up / se))) if se > 0 else 1.0,
            "ci": [float(lo), float(hi)]}


def uplift_cases():
    return [{"name": name, "kind": kind, "alpha": 0.05, "control": suff(c), "treatment": suff(t), "expected": delta_uplift(c, t)}
            for name, kind, c, t in raw]


def bayesian_cases():
    cases = []
    for i, (name, kind, c, t) in enumerate(raw):
        higher = i % 3 != 2  # exercise "lower is better" too
        sign = 1 if higher else -1
        delta = t.mean() - c.mean()
        sigma = math.sqrt(np.var(c, ddof=1) / c.size + np.var(t, ddof=1) / t.size)
        post = stats.norm(loc=delta, scale=sigma)
        lo, hi = delta - 12 * sigma, delta + 12 * sigma
        chance = integrate.quad(lambda d: post.pdf(d) * (sign * d > 0), lo, hi, points=[0.0], epsabs=1e-13, epsrel=1e-12, limit=200)[0]
        risk = integrate.quad(lambda d: max(-sign * d, 0.0) * post.pdf(d), lo, hi, points=[0.0], epsabs=1e-14, epsrel=1e-12, limit=200)[0]
        risk_c = integrate.quad(lambda d: max(sign * d, 0.0) * post.pdf(d), lo, hi, points=[0.0], epsabs=1e-14, epsrel=1e-12, limit=200)[0]
        cases.append({
            "name": name, "kind": kind, "higherIsBetter": higher, "alpha": 0.05, "control": suff(c), "treatment": suff(t),
            "expected": {"chanceToWin": chance, "risk": risk, "riskOfControl": risk_c,
                         "credibleInterval": [float(post.ppf(0.025)), float(post.ppf(0.975))]},
        })
    return cases


def beta_binomial_cases():
    """P(B > A) = ∫ f_B(y) F_A(y) dy and risk = ∫ f_B(y) [E p_A · S_{A+}(y) − y · S_A(y)] dy by quadrature."""
    cases = []
    for name, (nc, cc), (nt, ct), higher in [
        ("small counts", (40, 12), (35, 16), True), ("typical ctr", (2000, 200), (2100, 246), True), ("close call", (5000, 250), (5000, 262), True),
        ("treatment worse", (800, 240), (750, 195), True), ("error rate, lower is better", (10000, 50), (10000, 80), False),
        ("zero conversions", (300, 0), (300, 3), True), ("large", (50000, 5000), (50000, 5150), True),
    ]:
        def post(n, c):
            a, b = 1 + c, 1 + n - c
            return (b, a) if not higher else (a, b)
        (aa, ab), (ba, bb) = post(nc, cc), post(nt, ct)
        A, B, Aplus, Bplus = stats.beta(aa, ab), stats.beta(ba, bb), stats.beta(aa + 1, ab), stats.beta(ba + 1, bb)
        lo = max(0.0, min(A.ppf(1e-15), B.ppf(1e-15)))
        hi = min(1.0, max(A.isf(1e-15), B.isf(1e-15)))
        q = lambda f: integrate.quad(f, lo, hi, points=[A.mean(), B.mean()], epsabs=1e-14, epsrel=1e-12, limit=500)[0]
        chance = q(lambda y: B.pdf(y) * A.cdf(y))
        risk = q(lambda y: B.pdf(y) * (A.mean() * Aplus.sf(y) - y * A.sf(y)))
        risk_c = q(lambda y: A.pdf(y) * (B.mean() * Bplus.sf(y) - y * B.sf(y)))
        cases.append({"name": name, "higherIsBetter": higher, "control": {"users": nc, "conversions": cc}, "treatment": {"users": nt, "conversions": ct},
                      "expected": {"chanceToWin": chance, "risk": risk, "riskOfControl": risk_c}})
    return cases


def sequential_half_width(variance, n, tuning_n, alpha):
    """Half-width found by solving the normal-mixture martingale = 1/alpha numerically."""
    l = -2 * math.log(alpha)
    rho2 = (l + math.log(l + 1)) / tuning_n
    s = math.sqrt(variance * n)

    a = n + 1 / rho2  # λS − λ²n/2 − λ²/(2ρ²) peaks at λ* = S/a with value S²/(2a)

    def log_mixture(S):  # ln ∫ exp(λS − λ²n/2) dN(0, ρ²)(λ) for a unit-variance sum S after n observations
        peak, centre, width = S * S / (2 * a), S / a, 1 / math.sqrt(a)
        f = lambda lam: math.exp(lam * S - lam * lam * n / 2 - lam * lam / (2 * rho2) - peak)
        integral = integrate.quad(f, centre - 40 * width, centre + 40 * width, points=[centre], epsabs=0, epsrel=1e-13, limit=500)[0]
        return peak + math.log(integral) - 0.5 * math.log(2 * math.pi * rho2)

    hi = math.sqrt(2 * a * (math.log(1 / alpha) + math.log(a * rho2) + 50))
    S = optimize.brentq(lambda S: log_mixture(S) - math.log(1 / alpha), 0.0, hi, xtol=1e-13, rtol=1e-15)
    return s * S / n


def sequential_cases():
    cases = []
    for n, tuning_n, variance, alpha, estimate in [
        (1000, 5000, 4e-4, 0.05, 0.02), (5000, 5000, 8e-5, 0.05, -0.01), (20000, 5000, 2e-5, 0.05, 0.003),
        (200, 10000, 0.01, 0.05, 0.1), (10000, 10000, 1e-4, 0.01, 0.05), (3000, 800, 3e-3, 0.1, 0.0),
    ]:
        half = sequential_half_width(variance, n, tuning_n, alpha)
        cases.append({"name": f"n={n} tuningN={tuning_n} alpha={alpha}", "input": {"estimate": estimate, "variance": variance, "n": n, "tuningN": tuning_n, "alpha": alpha},
                      "expected": {"halfWidth": half, "interval": [estimate - half, estimate + half]}})
    return cases


def srm_cases():
    cases = []
    for observed, weights in [
        ([5000, 5000], [50, 50]), ([5200, 4800], [50, 50]), ([5090, 4910], [50, 50]), ([10400, 9600], [50, 50]),
        ([3300, 3350, 3350], [1, 1, 1]), ([2100, 7900], [20, 80]), ([1000, 1000, 1200], [30, 30, 40]), ([12, 30], [50, 50]),
    ]:
        exp = np.array(weights, dtype=float) / sum(weights) * sum(observed)
        r = stats.chisquare(observed, exp)
        cases.append({"name": f"{observed} vs {weights}", "observed": observed, "weights": weights,
                      "expected": {"chiSquare": float(r.statistic), "pValue": float(r.pvalue), "mismatch": bool(r.pvalue < 0.001)}})
    return cases


def multiple_comparison_cases():
    inputs = [
        [0.01, 0.04, 0.03, 0.005], [0.2, 0.001, 0.049, 0.6, 0.0201], [0.5], [0.04, 0.04, 0.04],
        list(rng.uniform(0, 0.1, 10)), [1e-8, 0.9, 0.012, 0.3, 0.05, 0.011],
    ]
    cases = []
    for p in inputs:
        p = [float(v) for v in p]
        cases.append({"name": f"{len(p)} p-values", "pValues": p,
                      "expected": {"holm": [float(v) for v in multipletests(p, method="holm")[1]],
                                   "benjaminiHochberg": [float(v) for v in multipletests(p, method="fdr_bh")[1]]}})
    return cases


def cuped_cases():
    cases = []
    for name, n, rho, lift in [("strong covariate", 3000, 0.7, 0.05), ("weak covariate", 2000, 0.2, 0.1), ("no effect", 4000, 0.5, 0.0), ("three variants", 1500, 0.6, 0.08)]:
        k = 3 if name == "three variants" else 2
        xs, ys = [], []
        for v in range(k):
            x = rng.normal(10, 3, n + 37 * v)
            y = 10 + rho * (x - 10) + math.sqrt(1 - rho**2) * rng.normal(0, 3, x.size) + (lift * 10 if v > 0 else 0)
            xs.append(x); ys.append(y)
        X, Y = np.concatenate(xs), np.concatenate(ys)
        # θ is the slope of the pooled least-squares fit of Y on X (statsmodels OLS with an intercept)
        theta = float(sm.OLS(Y, sm.add_constant(X)).fit().params[1])
        adj = [y - theta * (x - X.mean()) for x, y in zip(xs, ys)]
        variants = [{**suff(y), "preSum": float(x.sum()), "preSumSquares": float((x * x).sum()), "crossSum": float((x * y).sum())} for x, y in zip(xs, ys)]
        r = stats.ttest_ind(adj[1], adj[0], equal_var=False)
        cases.append({"name": name, "variants": variants,
                      "expected": {"theta": theta, "means": [float(a.mean()) for a in adj], "variances": [float(np.var(a, ddof=1)) for a in adj],
                                   "unadjustedVariances": [float(np.var(y, ddof=1)) for y in ys], "pValueFirstVsControl": float(r.pvalue)}})
    return cases


def power_cases():
    cases = []
    analysis = NormalIndPower()
    for kind, base, var, mde, alpha, power in [
        ("proportion", 0.10, None, 0.20, 0.05, 0.8), ("proportion", 0.05, None, 0.10, 0.05, 0.8), ("proportion", 0.30, None, -0.05, 0.05, 0.9),
        ("mean", 3.5, 1.44, 0.02, 0.05, 0.8), ("mean", 12.0, 90.0, 0.05, 0.01, 0.8), ("proportion", 0.5, None, 0.5, 0.05, 0.8),
    ]:
        pc = base
        if kind == "proportion":
            pt = base * (1 + mde)
            vc, vt = pc * (1 - pc), pt * (1 - pt)
        else:
            vc = vt = var
        delta = abs(base * mde)
        d = delta / math.sqrt((vc + vt) / 2)
        n = analysis.solve_power(effect_size=d, nobs1=None, alpha=alpha, power=power, ratio=1.0, alternative="two-sided")
        n_exact = optimize.brentq(lambda m: analysis.power(d, m, alpha, ratio=1.0, alternative="two-sided") - power, 1.0, 1e9, xtol=1e-12, rtol=1e-15)
        n_check = 1000
        if kind == "proportion":
            mde_at = optimize.brentq(lambda m: analysis.power((base * m) / math.sqrt((pc * (1 - pc) + base * (1 + m) * (1 - base * (1 + m))) / 2), n_check, alpha, ratio=1.0) - power, 1e-9, 1 / base - 1 - 1e-9, xtol=1e-15)
        else:
            # statsmodels' solve_power for the effect size stops early (its answer has power 0.799995,
            # off by ~6e-7 relative), so the reference root is found with brentq on its power function.
            d_at = optimize.brentq(lambda d: analysis.power(d, n_check, alpha, ratio=1.0) - power, 1e-9, 10.0, xtol=1e-15, rtol=1e-15)
            mde_at = d_at * math.sqrt(var) / base
        cases.append({"name": f"{kind} base={base} mde={mde} alpha={alpha} power={power}",
                      "input": {"kind": kind, "baselineMean": base, "baselineVariance": var, "relativeMde": mde, "alpha": alpha, "power": power},
                      "expected": {"nPerVariantStatsmodels": float(n), "nPerVariantExact": n_exact, "powerAt1000": float(analysis.power(d, 1000, alpha, ratio=1.0)),
                                   "mdeAt1000": float(mde_at)}})
    return cases


def binary(n, k):
    """A 0/1 per-user array with k ones: what proportionStats(n, k) summarises."""
    x = np.zeros(n)
    x[:k] = 1.0
    return x


def results_cases():
    """Whole experiments through computeResults: uplift by statsmodels' delta method, Holm and BH by
    multipletests over every (treatment, metric) pair, the always-valid interval by the numerical
    mixture boundary at α / (pairs in the family), and the decision by the rule the results page
    documents (fixed: Holm-adjusted p < α once the planned sample is reached; sequential: the
    always-valid interval excludes 0; guardrails before the primary metric)."""
    higher = {"click_through": True, "error_rate": False, "watch_rate": True}
    scenarios = [
        # name, mode, variants {name: (users, {metric: conversions})}, guardrails
        ("fixed: raw p < 0.05 but Holm-adjusted p > 0.05 is inconclusive", "fixed",
         {"control": (10000, {"click_through": 1000, "error_rate": 50}), "ranker-v2": (10000, {"click_through": 1090, "error_rate": 50})}, ["error_rate"]),
        ("fixed: Holm-adjusted p just below 0.05 is a winner", "fixed",
         {"control": (10000, {"click_through": 1000, "error_rate": 50}), "ranker-v2": (10000, {"click_through": 1110, "error_rate": 50})}, ["error_rate"]),
        ("sequential: interval at alpha excludes 0 but at alpha / 2 does not, inconclusive", "sequential",
         {"control": (10000, {"click_through": 1000, "error_rate": 50}), "ranker-v2": (10000, {"click_through": 1150, "error_rate": 50})}, ["error_rate"]),
        ("sequential: interval at alpha / 2 just excludes 0, a winner", "sequential",
         {"control": (10000, {"click_through": 1000, "error_rate": 50}), "ranker-v2": (10000, {"click_through": 1175, "error_rate": 50})}, ["error_rate"]),
        ("sequential: a guardrail worse with confidence blocks a primary winner", "sequential",
         {"control": (10000, {"click_through": 1000, "error_rate": 50}), "ranker-v2": (10000, {"click_through": 1250, "error_rate": 130})}, ["error_rate"]),
        ("fixed: a guardrail rise that is not significant does not block a winner", "fixed",
         {"control": (10000, {"click_through": 1000, "error_rate": 50}), "ranker-v2": (10000, {"click_through": 1200, "error_rate": 68})}, ["error_rate"]),
        ("fixed: three variants, two guardrails: six comparisons in the family", "fixed",
         {"control": (8000, {"click_through": 800, "error_rate": 40, "watch_rate": 2400}),
          "ranker-v2": (8000, {"click_through": 880, "error_rate": 44, "watch_rate": 2470}),
          "ranker-v3": (8000, {"click_through": 930, "error_rate": 37, "watch_rate": 2390})}, ["error_rate", "watch_rate"]),
        ("sequential: three variants, two guardrails: the interval at alpha / 6", "sequential",
         {"control": (8000, {"click_through": 800, "error_rate": 40, "watch_rate": 2400}),
          "ranker-v2": (8000, {"click_through": 880, "error_rate": 44, "watch_rate": 2470}),
          "ranker-v3": (8000, {"click_through": 960, "error_rate": 37, "watch_rate": 2390})}, ["error_rate", "watch_rate"]),
        ("fixed: both metrics moved, both adjusted over the family", "fixed",
         {"control": (10000, {"click_through": 1000, "error_rate": 50}), "ranker-v2": (10000, {"click_through": 1060, "error_rate": 65})}, ["error_rate"]),
        ("fixed: every treatment worse on the primary is a loser", "fixed",
         {"control": (10000, {"click_through": 1200, "error_rate": 50}), "ranker-v2": (10000, {"click_through": 1000, "error_rate": 50})}, ["error_rate"]),
    ]
    alpha, min_sample = 0.05, 5000
    tuning_n = 2 * min_sample
    cases = []
    for name, mode, variants, guardrails in scenarios:
        names = list(variants)
        metrics = ["click_through", *guardrails]
        rows = []
        for metric in metrics:
            c_users, c_conv = variants["control"][0], variants["control"][1][metric]
            for v in names[1:]:
                users, conv = variants[v][0], variants[v][1][metric]
                ref = delta_uplift(binary(c_users, c_conv), binary(users, conv), alpha)
                rows.append({"metric": metric, "variant": v, "n": c_users + users, **ref})
        p = [r["pValue"] for r in rows]
        holm = multipletests(p, alpha=alpha, method="holm")[1]
        bh = multipletests(p, alpha=alpha, method="fdr_bh")[1]
        family_alpha = alpha / len(rows)
        comparisons = []
        for r, h, b in zip(rows, holm, bh):
            half = sequential_half_width(r["standardError"] ** 2, r["n"], tuning_n, family_alpha)
            seq = [r["uplift"] - half, r["uplift"] + half]
            # the same interval without the split of α over the family: where the boundary is
            half_alpha = sequential_half_width(r["standardError"] ** 2, r["n"], tuning_n, alpha)
            significant = bool(seq[0] > 0 or seq[1] < 0) if mode == "sequential" else bool(h < alpha)
            improved = (r["uplift"] > 0) == higher[r["metric"]]
            outcome = "no_difference" if not significant else ("better" if improved else "worse")
            comparisons.append({"metric": r["metric"], "variant": r["variant"], "uplift": r["uplift"], "ci": r["ci"], "pValue": r["pValue"],
                                "holm": float(h), "benjaminiHochberg": float(b), "sequentialCi": seq, "significant": significant, "outcome": outcome,
                                "rawPBelowAlpha": bool(r["pValue"] < alpha),
                                "sequentialCiAtAlphaExcludesZero": bool(abs(r["uplift"]) > half_alpha)})
        users = [variants[v][0] for v in names]
        srm = stats.chisquare(users, np.full(len(users), sum(users) / len(users))).pvalue < 0.001
        primary = [c for c in comparisons if c["metric"] == "click_through"]
        if srm:
            outcome, winner = "srm", None
        elif mode == "fixed" and min(users) < min_sample:
            outcome, winner = "waiting_for_sample", None
        elif any(c["outcome"] == "worse" for c in comparisons if c["metric"] != "click_through"):
            outcome, winner = "guardrail_violated", None
        elif any(c["outcome"] == "better" for c in primary):
            outcome = "winner"
            winner = max((c for c in primary if c["outcome"] == "better"), key=lambda c: abs(c["uplift"]))["variant"]
        elif all(c["outcome"] == "worse" for c in primary):
            outcome, winner = "loser", None
        else:
            outcome, winner = "inconclusive", None
        cases.append({"name": name, "mode": mode, "alpha": alpha, "minSampleSize": min_sample, "guardrailMetrics": guardrails,
                      "variants": [{"name": v, "users": variants[v][0], "conversions": variants[v][1]} for v in names],
                      "expected": {"comparisons": comparisons, "outcome": outcome, "winner": winner}})
    return cases


def distribution_cases():
    return [
        *({"fn": "normalCdf", "args": [z], "expected": float(stats.norm.cdf(z))} for z in (-9.0, -4.2, -1.96, -0.5, 0.0, 0.7, 2.33, 6.0)),
        *({"fn": "normalQuantile", "args": [p], "expected": float(stats.norm.ppf(p))} for p in (1e-10, 0.001, 0.025, 0.2, 0.5, 0.9, 0.995, 1 - 1e-9)),
        *({"fn": "studentTCdf", "args": [t, df], "expected": float(stats.t.cdf(t, df))} for t, df in ((2.1, 3.5), (-1.3, 10), (0.5, 1), (4.0, 1e6), (2.0, 2000.7), (-6.0, 12.25))),
        *({"fn": "studentTQuantile", "args": [p, df], "expected": float(stats.t.ppf(p, df))} for p, df in ((0.975, 3.5), (0.975, 100.2), (0.995, 7), (0.025, 40), (0.9995, 2.2))),
        *({"fn": "chiSquareSurvival", "args": [x, k], "expected": float(stats.chi2.sf(x, k))} for x, k in ((3.2, 1), (10.83, 1), (10, 3), (100, 80), (30, 2), (0.01, 5))),
        # A denser grid over every branch (series / continued fraction, reflection, both tails),
        # held to 1e-10 in reference.test.ts: the implementation claims ~1e-14. Arguments outside
        # the domain (x < 0 or > 1 for I_x, x < 0 for Q) are clamped, as the code documents.
        *({"fn": "erfc", "args": [x], "expected": float(special.erfc(x))} for x in (-3.0, -0.7, 0.0, 0.3, 1.2, 2.49, 2.51, 4.0, 9.0, 20.0)),
        *({"fn": "normalCdf", "args": [z], "expected": float(stats.norm.cdf(z))} for z in (-30.0, -12.5, -3.5, -1.0, -0.01, 0.01, 1.0, 3.4, 8.0)),
        *({"fn": "normalSurvival", "args": [z], "expected": float(stats.norm.sf(z))} for z in (-4.0, -0.3, 0.0, 1.5, 5.0, 12.0, 30.0)),
        *({"fn": "normalPdf", "args": [z], "expected": float(stats.norm.pdf(z))} for z in (-5.0, -1.0, 0.0, 0.5, 2.0, 9.0)),
        *({"fn": "normalQuantile", "args": [p], "expected": float(stats.norm.ppf(p))} for p in (1e-300, 1e-20, 0.0242, 0.02426, 0.3, 0.5000001, 0.75, 0.97574, 0.9758, 1 - 1e-15)),
        *({"fn": "logGamma", "args": [x], "expected": float(special.gammaln(x))} for x in (0.001, 0.1, 0.4999, 0.5, 0.75, 1.0, 1.5, 2.0, 7.3, 50.0, 1234.5, 1e6)),
        *({"fn": "logBeta", "args": [a, b], "expected": float(special.betaln(a, b))} for a, b in ((0.5, 0.5), (1, 1), (2.5, 7), (100, 3), (1e4, 2e4))),
        *({"fn": "regularizedIncompleteBeta", "args": [x, a, b], "expected": float(special.betainc(a, b, min(max(x, 0.0), 1.0)))} for x, a, b in (
            (-0.1, 2, 3), (0.0, 2, 3), (1.0, 2, 3), (1.2, 2, 3), (0.1, 2, 3), (0.9, 2, 3), (0.5, 0.5, 0.5), (0.3, 10, 40), (0.3, 40, 10),
            (0.999, 0.5, 200), (0.001, 200, 0.5), (0.42, 1, 1), (0.2, 3.5, 0.5))),
        *({"fn": "studentTCdf", "args": [t, df], "expected": float(stats.t.cdf(t, df))} for t in (-40.0, -2.5, -0.2, 0.0, 0.7, 3.0, 25.0) for df in (0.7, 1.0, 4.5, 30.0, 5000.0)),
        *({"fn": "studentTTwoSidedP", "args": [t, df], "expected": float(2 * stats.t.sf(abs(t), df))} for t, df in ((0.0, 3.0), (-1.0, 3.0), (2.2, 15.5), (-8.0, 40.0), (50.0, 2.0))),
        *({"fn": "studentTPdf", "args": [t, df], "expected": float(stats.t.pdf(t, df))} for t, df in ((0.0, 1.0), (-1.5, 3.2), (2.0, 30.0), (10.0, 2.5), (0.3, 1e5))),
        *({"fn": "studentTQuantile", "args": [p, df], "expected": float(stats.t.ppf(p, df))} for p, df in (
            (0.5, 5.0), (0.6, 1.0), (0.9, 2.5), (0.999, 1.0), (0.99999, 3.0), (1e-6, 4.0), (0.01, 12.0), (0.3, 0.8), (0.975, 1e5), (0.95, 6.5))),
        *({"fn": "regularizedGammaQ", "args": [a, x], "expected": float(special.gammaincc(a, max(x, 0.0)))} for a, x in (
            (0.5, 0.0), (0.5, -1.0), (0.5, 0.2), (0.5, 3.0), (3.0, 1.0), (3.0, 3.99), (3.0, 4.01), (3.0, 20.0), (40.0, 30.0), (40.0, 55.0), (200.0, 150.0))),
        *({"fn": "chiSquareSurvival", "args": [x, k], "expected": float(stats.chi2.sf(x, k))} for x, k in ((0.0, 3), (0.5, 1), (2.0, 2), (7.9, 4), (50, 30), (400, 300), (1000, 2))),
    ]


write("distributions", distribution_cases())
write("welch", welch_cases())
write("uplift", uplift_cases())
write("bayesian", bayesian_cases())
write("beta-binomial", beta_binomial_cases())
write("sequential", sequential_cases())
write("srm", srm_cases())
write("multiple-comparisons", multiple_comparison_cases())
write("cuped", cuped_cases())
write("power", power_cases())
write("results", results_cases())
write("composition", composition_cases())

# Same formatting as the rest of the repo, so regenerating unchanged values leaves no diff.
subprocess.run(["npx", "prettier", "--log-level", "warn", "--write", str(OUT)], check=True, cwd=OUT.parents[3])
