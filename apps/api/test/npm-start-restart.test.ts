/**
 * A second `npm start` (`node scripts/start.mjs`) on a prepared data directory, in embedded mode:
 * every step is printed with its time, the preparation is skipped (found done for this database),
 * and the api serves the same model versions the first start trained — the same answers, without
 * the items a user rated. A marker that does not match (changed by hand) makes the next start
 * check the preparation again; a new database in the same directory is imported and trained again.
 * Not a timing test (bench/startup times it): only the steps and what is served are checked.
 */
import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { uniqueName } from "@reco/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { consecutiveFreePorts, Launcher, repoRoot } from "./npm-start-launcher.ts";

const STEP = (label: string) =>
  new RegExp(`\\[start\\] ${label.replace(/[()]/g, "\\$&")}: \\d+\\.\\d s`);

describe(
  "npm start, started a second time on a prepared data directory",
  { timeout: 600_000 },
  () => {
    let dataDir: string;
    const launchers: Launcher[] = [];

    afterAll(async () => {
      for (const launcher of launchers)
        if (launcher.running()) {
          launcher.interrupt();
          await launcher.exited;
        }
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    async function startAndStop(
      env: Record<string, string>,
      check: (l: Launcher) => Promise<void>,
    ) {
      const launcher = new Launcher(env);
      launchers.push(launcher);
      await launcher.ready(480_000);
      await check(launcher);
      launcher.interrupt();
      expect((await launcher.exited).code).toBe(0);
      return launcher;
    }

    it("prints each step with its time, skips the preparation, serves the same models; a stale marker or a new database is prepared again", async () => {
      dataDir = path.join(tmpdir(), uniqueName("reco-npm-second-start"));
      // A small demo set (the catalog, the first 3,000 ratings) keeps the first start short.
      const demo = path.join(dataDir, "demo");
      await mkdir(demo, { recursive: true });
      const source = path.join(repoRoot, "data", "ml-latest-small");
      await writeFile(
        path.join(demo, "movies.csv"),
        await readFile(path.join(source, "movies.csv")),
      );
      const ratings = (await readFile(path.join(source, "ratings.csv"), "utf8")).split("\n");
      const kept = ratings.slice(0, 3_001);
      await writeFile(path.join(demo, "ratings.csv"), kept.join("\n") + "\n");
      // user 1's rated movies, read from the CSV itself (userId,movieId,rating,timestamp)
      const ratedByUser1 = new Set(
        kept
          .slice(1)
          .map((line) => line.split(","))
          .filter((cells) => cells[0] === "1")
          .map((cells) => cells[1]!),
      );
      expect(ratedByUser1.size).toBeGreaterThan(10);
      const apiPort = await consecutiveFreePorts(1);
      const env = {
        DATA_DIR: path.join(dataDir, "data"),
        DEMO_DATA_DIR: demo,
        DATABASE_URL: "",
        REDIS_URL: "",
        KAFKA_BROKERS: "",
        API_INSTANCES: "",
        SIMULATE: "0",
        PORT: String(apiPort),
        WEB_PORT: String(await consecutiveFreePorts(1)),
      };
      const api = `http://127.0.0.1:${apiPort}`;

      const key = () => readFile(path.join(env.DATA_DIR, "dev-api-key"), "utf8");
      /** Each sampled user's answer: the version that served it and the items, in order. */
      const served = async () => {
        const authorization = `Bearer ${(await key()).trim()}`;
        const answers: Record<string, { modelVersion: string; items: string[] }> = {};
        for (const user of ["1", "2", "3", "4", "5", "6", "7", "8"]) {
          const answer = await fetch(`${api}/recommend/${user}?k=50`, {
            headers: { authorization },
          });
          expect(answer.status).toBe(200);
          const body = (await answer.json()) as {
            modelVersion: string;
            fallback: boolean;
            items: { itemId: string }[];
          };
          expect(body.fallback).toBe(false);
          answers[user] = {
            modelVersion: body.modelVersion,
            items: body.items.map((i) => i.itemId),
          };
        }
        return answers;
      };
      const registry = () => readdir(path.join(env.DATA_DIR, "registry"), { recursive: true });

      let firstAnswers: Awaited<ReturnType<typeof served>> = {};
      const first = await startAndStop(env, async () => {
        firstAnswers = await served();
      });
      expect(first.output).toMatch(STEP("preparing the database and demo data"));
      expect(first.output).toContain("[prepare] empty database: importing the demo data");
      expect(first.output).toMatch(STEP("api answering"));
      expect(first.output).toMatch(STEP("dashboard answering (from its start)"));
      expect(first.bannerLine("Start steps")).toMatch(
        /preparing the database and demo data \d+\.\d s, .*api answering \d+\.\d s, dashboard answering/,
      );
      expect(Object.values(firstAnswers).every((a) => a.items.length > 0)).toBe(true);
      const marker = (await readFile(path.join(env.DATA_DIR, "prepared"), "utf8")).trim();
      expect(marker).toMatch(/^[0-9a-f]{64}$/);
      const registryAfterFirst = (await registry()).sort();

      const second = await startAndStop(env, async () => {
        expect((await fetch(`${api}/readyz`)).status).toBe(200);
        const answers = await served();
        // the same versions and the same answers: the models the first start trained, untouched
        expect(answers).toEqual(firstAnswers);
        expect(answers["1"]!.items.filter((item) => ratedByUser1.has(item))).toEqual([]);
      });
      expect(second.output).toContain(
        "[start] preparation already done for this database (demo data imported, models trained): skipped",
      );
      expect(second.output).not.toContain("[prepare]");
      expect(second.output).not.toMatch(STEP("preparing the database and demo data"));
      expect(second.output).toMatch(STEP("dashboard build is up to date (checked)"));
      expect(second.output).toMatch(STEP("api answering"));
      expect(second.output).toMatch(STEP("dashboard answering (from its start)"));
      expect(second.output).toMatch(
        /\[api\] api started in \d+\.\d\d s: modules \d+\.\d\d s, database and modules \d+\.\d\d s, .*server \d+\.\d\d s/,
      );
      expect(second.bannerLine("Start steps")).not.toContain("preparing");
      expect((await registry()).sort()).toEqual(registryAfterFirst);

      // A marker that matches nothing (edited, or left by another database): prepared again — the
      // preparation finds the data and the models there and keeps them — and the marker rewritten.
      await writeFile(path.join(env.DATA_DIR, "prepared"), "0".repeat(64) + "\n");
      const third = await startAndStop(env, async () => {
        expect(await served()).toEqual(firstAnswers);
      });
      expect(third.output).not.toContain("preparation already done");
      expect(third.output).toMatch(STEP("preparing the database and demo data"));
      expect(third.output).toMatch(
        /\[prepare\] database ready \(\d+ items\), demo data already imported/,
      );
      expect(third.output).not.toContain("[prepare] training");
      expect((await readFile(path.join(env.DATA_DIR, "prepared"), "utf8")).trim()).toBe(marker);

      // A new database in the same directory (the old one deleted): the marker no longer matches it.
      await rm(path.join(env.DATA_DIR, "pg"), { recursive: true, force: true });
      const fourth = await startAndStop(env, async () => undefined);
      expect(fourth.output).not.toContain("preparation already done");
      expect(fourth.output).toContain("[prepare] empty database: importing the demo data");
      expect(fourth.output).toMatch(STEP("preparing the database and demo data"));
      expect(fourth.output).toContain("[prepare] training the demo ials model");
      const newMarker = (await readFile(path.join(env.DATA_DIR, "prepared"), "utf8")).trim();
      expect(newMarker).toMatch(/^[0-9a-f]{64}$/);
      expect(newMarker).not.toBe(marker);
    });
  },
);
