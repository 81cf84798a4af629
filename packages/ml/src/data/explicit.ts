import { type DelimitedOptions, type LoadReport, loadDelimited } from "./delimited.ts";
import { type AlignmentReport, type InteractionLog, alignToIds } from "./log.ts";
import type { Split } from "./split.ts";

export interface ExplicitSplitReport {
  train: LoadReport;
  test: LoadReport;
  /** test users/items absent from train: counted, their events left out of evaluation */
  alignment: AlignmentReport;
}

/**
 * A user-supplied train file and test file, the test expressed in the train set's indices;
 * `unseenTestItems` holds the test events of known users whose item is absent from train.
 */
export async function loadExplicitSplit(
  trainPath: string,
  testPath: string,
  options: DelimitedOptions = {},
): Promise<Split & { unseenTestItems: InteractionLog; report: ExplicitSplitReport }> {
  const train = await loadDelimited(trainPath, options);
  const test = await loadDelimited(testPath, options);
  const aligned = alignToIds(test.log, train.log.ids);
  return {
    train: train.log,
    test: aligned.log,
    unseenTestItems: aligned.unseenItems,
    report: { train: train.report, test: test.report, alignment: aligned.report },
  };
}
