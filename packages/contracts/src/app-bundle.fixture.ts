// An app entry for thread-bundles.test.ts, started through scripts/run.mjs: prints where its code
// runs from, the URL its module sees as its own, its arguments, and a value from a workspace package.
import { errorFields } from "@reco/contracts";

const ownUrl: string = import.meta.url;
process.stdout.write(
  JSON.stringify({
    stack: new Error("where").stack ?? "",
    ownUrl,
    args: process.argv.slice(2),
    fields: errorFields(new TypeError("launched")),
  }),
);
