/** Where a registry version lives and which files it holds. */
import { stat } from "node:fs/promises";
import path from "node:path";
import { BadInput } from "@reco/contracts";

export const MODEL_FILE = "model.onnx";
export const ID_MAPS_FILE = "id-maps.json";
export const HISTORY_FILE = "train-history.bin";
/** unfinished publishes; never listed or loaded */
export const TMP_PREFIX = ".tmp-";
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function versionDir(registryDir: string, name: string, version: string): string {
  for (const [what, value] of [
    ["model name", name],
    ["version", version],
  ] as const) {
    if (!SAFE_NAME.test(value)) {
      throw new BadInput(
        `${what} ${JSON.stringify(value)} must match ${SAFE_NAME} (letters, digits, . _ -)`,
      );
    }
  }
  return path.join(registryDir, name, version);
}

export async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
