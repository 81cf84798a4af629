/** The inference thread (see inference-thread.ts): ONNX sessions, loaded and run on request. */
import { parentPort, workerData } from "node:worker_threads";
import { collectGarbageSoon, errorFields } from "@reco/contracts";
// The scorer alone, not the package's index: the index brings training, evaluation, DuckDB and the
// database client into this thread's isolate too (measured: +86 MB RSS for the index, +25 MB for
// the scorer, importing each into a fresh process).
import { createScorer, type ArtifactScorer, type ScorerOptions } from "@reco/ml/scorer";
import type { InferenceCall, InferenceReply, LoadedInfo } from "./inference-thread.ts";

const options = workerData as Pick<ScorerOptions, "sessionOptions">;
const models = new Map<number, ArtifactScorer>();
let nextModelId = 0;

async function handle(call: InferenceCall): Promise<unknown> {
  switch (call.type) {
    case "load": {
      const scorer = await createScorer(call.ref.artifactPath, options);
      const modelId = nextModelId++;
      models.set(modelId, scorer);
      // The artifact's bytes are garbage now: returned at once instead of at the next busy spell.
      collectGarbageSoon();
      const info: LoadedInfo = {
        modelId,
        kind: scorer.kind,
        nItems: scorer.nItems,
        itemIds: scorer.itemIds,
        userIds: scorer.userIds,
        ...(scorer.createdAt === undefined ? {} : { createdAt: scorer.createdAt }),
      };
      return info;
    }
    case "recommend": {
      const scorer = models.get(call.modelId);
      if (!scorer) throw new Error(`model ${call.modelId} is not loaded on the inference thread`);
      return scorer.recommend(call.batch, call.k);
    }
    case "release": {
      const scorer = models.get(call.modelId);
      models.delete(call.modelId);
      await scorer?.release();
      collectGarbageSoon();
      return null;
    }
    case "stop": {
      const scorers = [...models.values()];
      models.clear();
      for (const scorer of scorers) await scorer.release().catch(() => undefined);
      process.exit(0); // ends this thread only, outside any ONNX call
    }
  }
}

parentPort!.on("message", (message: InferenceCall & { id: number }) => {
  handle(message).then(
    (result) =>
      parentPort!.postMessage({ id: message.id, ok: true, result } satisfies InferenceReply),
    (error: unknown) =>
      // Structured clone would drop the error's own fields: send its reason (and code) explicitly.
      parentPort!.postMessage({
        id: message.id,
        ok: false,
        error: errorFields(error),
      } satisfies InferenceReply),
  );
});
