/**
 * The content and hybrid models trained on a small structured data set with a catalogue,
 * published to a registry and served through ONNX: scores equal the TypeScript reference scorer
 * (models/score.ts) to 1e-5 with the same top-k, for training users and for histories alone.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Interactions,
  LogBuilder,
  buildInteractions,
  itemContentFor,
  seededRandom,
} from "../data/index.ts";
import { fitModel, recommend, scoreUser, userHistory } from "../models/index.ts";
import { publishVersion } from "../registry/store.ts";
import { createScorer } from "./scorer.ts";

const N_USERS = 60;
const N_ITEMS = 50;
const GENRES = ["Comedy", "Drama", "Horror", "Sci-Fi"];
let train: Interactions;
let registryDir: string;

beforeAll(async () => {
  const rnd = seededRandom(11);
  const log = new LogBuilder();
  // items 40..49 get no interaction: new items only content can reach
  for (let u = 0; u < N_USERS; u++) {
    const group = u % 4;
    for (let n = 0; n < 4 + rnd.int(8); n++) {
      const item = rnd.next() < 0.8 ? group * 10 + rnd.int(10) : rnd.int(40);
      log.add(`u${u}`, `i${item}`, NaN, NaN);
    }
  }
  for (let j = 40; j < N_ITEMS; j++) log.add("nobody", `i${j}`, 1, NaN);
  train = buildInteractions(log.finish(), { threshold: 2 });
  const descriptions = new Map(
    Array.from({ length: N_ITEMS }, (_, j) => [
      `i${j}`,
      {
        title: `Film ${j % 7 === 0 ? "Night" : "Day"} ${j}`,
        categories: [GENRES[(j < 40 ? Math.floor(j / 10) : j) % 4]!],
        tags: j % 3 === 0 ? ["classic"] : [],
      },
    ]),
  );
  train.itemContent = itemContentFor(train.ids.items, descriptions);
  registryDir = await mkdtemp(path.join(tmpdir(), "reco-content-models-"));
});
afterAll(async () => {
  await rm(registryDir, { recursive: true, force: true });
});

function expectClose(
  got: { itemIndices: number[]; scores: number[] },
  want: { items: ArrayLike<number> },
  ref: Float32Array,
) {
  expect(got.itemIndices.length).toBe(want.items.length);
  got.itemIndices.forEach((item, c) => {
    expect(Math.abs(got.scores[c]! - ref[item]!)).toBeLessThan(1e-5);
    const wanted = want.items[c]!;
    if (item !== wanted) expect(Math.abs(ref[item]! - ref[wanted]!)).toBeLessThan(1e-5);
  });
}

describe("content and hybrid served through ONNX equal the reference scorer", () => {
  for (const [kind, hyper] of [
    ["content", { neighbours: 8 }],
    ["hybrid", {}],
    ["hybrid", { contentWeight: 0.7, newItemWeight: 20, contentNeighbours: 5, neighbours: 10 }],
  ] as const) {
    const name = `${kind}-${Object.keys(hyper).length}`;
    const variant = Object.entries(hyper)
      .map(([name, value]) => `${name}=${value}`)
      .join(" ");
    it(`${kind} ${variant}: training users and histories alone, scores to 1e-5`, async () => {
      const { model: params } = await fitModel(kind, train, hyper);
      const { dir } = await publishVersion({
        registryDir,
        name,
        algorithm: kind,
        params,
        idMaps: train.ids,
        trainHistory: train.userItems,
        data: {
          source: "synthetic",
          from: null,
          to: null,
          nUsers: train.nUsers,
          nItems: train.nItems,
          nInteractions: 0,
        },
      });
      const scorer = await createScorer(dir);
      try {
        const users = Array.from({ length: N_USERS }, (_, u) => train.ids.users.indexOf(`u${u}`));
        const got = await scorer.recommend(
          users.map((u) => ({ userIndex: u })),
          10,
        );
        users.forEach((u, n) => {
          const query = { userIndex: u, history: userHistory(train, u) };
          expectClose(got[n]!, recommend(params, query, 10), scoreUser(params, query));
        });
        const histories = [[0], [3, 17, 41], [20, 21, 25, 30, 33, 45, 49]].map((items) =>
          items.map((j) => train.ids.items.indexOf(`i${j}`)),
        );
        const fresh = await scorer.recommend(
          histories.map((items) => ({ historyIndices: items })),
          20,
        );
        histories.forEach((items, n) => {
          const query = { history: { items: Int32Array.from(items) } };
          expectClose(fresh[n]!, recommend(params, query, 20), scoreUser(params, query));
        });
        // new items (no interaction) are reachable: some training user is served one
        const newItems = new Set(
          Array.from({ length: 10 }, (_, n) => train.ids.items.indexOf(`i${40 + n}`)),
        );
        expect(got.some((r) => r.itemIndices.some((j) => newItems.has(j)))).toBe(true);
      } finally {
        await scorer.release();
      }
    });
  }
});
