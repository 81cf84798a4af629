// A worker thread for thread-bundles.test.ts: reports where its code runs from, the URL its module
// sees as its own, and a value from a workspace package (bundled in, not loaded through tsx).
import { parentPort } from "node:worker_threads";
import { errorFields } from "@reco/contracts";

const ownUrl: string = import.meta.url;
parentPort!.postMessage({
  stack: new Error("where").stack ?? "",
  ownUrl,
  fields: errorFields(new TypeError("bundled")),
});
