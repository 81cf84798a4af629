/**
 * Why does the tuner miss on the demo data? Validation scores (the tuner's own split) of the same
 * nine iALS candidates at the cheap rung and at full budget, of rp3beta's defaults, and of a few
 * fixed iALS settings; nothing here reads the test side.
 *
 *   npx tsx bench/tuning/diagnose-demo.ts
 */
import { DEMO_RATINGS, loadDelimited, randomHoldout, tune } from "@reco/ml";

const seed = 42;
const { log } = await loadDelimited(DEMO_RATINGS);
const { train } = randomHoldout(log, { testFraction: 0.2, seed });
const show = (label: string, r: Awaited<ReturnType<typeof tune>>) => {
  for (const t of r.trials)
    console.log(
      `${label} ${t.kind} #${t.candidate} rung ${t.rung} users ${t.users} epochs ${t.fitted.epochs ?? "-"} score ${t.score.toFixed(4)} ${t.seconds.toFixed(1)}s f=${t.params.factors} l=${t.params.regularization} a=${t.params.alpha}`,
    );
};
const mode = process.argv[2] ?? "all";
if (mode === "all" || mode === "halving")
  show("halving", await tune(train, { kinds: "ials,rp3beta", trials: 9, seed }));
if (mode === "all" || mode === "full")
  show("full", await tune(train, { kinds: "ials", trials: 9, seed, eta: 10 }));
if (mode === "all" || mode === "fixed")
  for (const [factors, regularization, alpha] of [
    [31, 0.7, 2],
    [25, 23.5, 6.63],
  ] as const)
    show(
      "fixed",
      await tune(train, {
        kinds: "ials",
        trials: 1,
        seed,
        fixed: { factors, regularization, alpha },
      }),
    );

// Validation noise: the same two settings on five other seeded validation splits.
if (mode === "noise")
  for (const other of [1, 2, 3, 4, 5]) {
    const rp3 = await tune(train, { kinds: "rp3beta", trials: 1, seed: other });
    const ials = await tune(train, {
      kinds: "ials",
      trials: 1,
      seed: other,
      fixed: { factors: 40, regularization: 0.015, alpha: 0.63 },
    });
    console.log(
      `noise seed ${other}: rp3beta defaults ${rp3.best.score.toFixed(4)}, ials 40/0.015/0.63 ${ials.best.score.toFixed(4)}, difference ${(ials.best.score - rp3.best.score).toFixed(4)}`,
    );
  }
