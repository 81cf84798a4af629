-- AlterEnum
BEGIN;
CREATE TYPE "RolloutStatus_new" AS ENUM ('pending', 'progressing', 'paused', 'promoted', 'rolled_back', 'aborted');
ALTER TABLE "public"."rollouts" ALTER COLUMN "status" DROP DEFAULT;
ALTER TABLE "rollouts" ALTER COLUMN "status" TYPE "RolloutStatus_new" USING ((CASE WHEN "status"::text = 'canary' THEN 'progressing' ELSE "status"::text END)::"RolloutStatus_new");
ALTER TYPE "RolloutStatus" RENAME TO "RolloutStatus_old";
ALTER TYPE "RolloutStatus_new" RENAME TO "RolloutStatus";
DROP TYPE "public"."RolloutStatus_old";
ALTER TABLE "rollouts" ALTER COLUMN "status" SET DEFAULT 'pending';
COMMIT;

-- AlterTable
ALTER TABLE "rollout_events" ADD COLUMN     "action" TEXT NOT NULL DEFAULT '';

-- AlterTable
ALTER TABLE "rollout_stages" DROP COLUMN "min_requests",
ADD COLUMN     "min_users_per_arm" INTEGER NOT NULL DEFAULT 1000;

-- AlterTable
ALTER TABLE "rollouts" ADD COLUMN     "evaluation_interval_ms" INTEGER NOT NULL DEFAULT 60000,
ADD COLUMN     "inconclusive_count" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "last_evaluated_at" TIMESTAMP(3),
ADD COLUMN     "model_name" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "step_elapsed_ms" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "version" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "webhook_secret" TEXT,
ADD COLUMN     "webhook_url" TEXT;

-- CreateTable
CREATE TABLE "rollout_evaluations" (
    "id" SERIAL NOT NULL,
    "rollout_id" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "verdict" TEXT NOT NULL,
    "gates" JSONB NOT NULL DEFAULT '[]',
    "elapsed_ms" INTEGER NOT NULL,
    "token" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rollout_evaluations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "leases" (
    "name" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "token" INTEGER NOT NULL DEFAULT 0,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "leases_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "rollout_evaluations_rollout_id_created_at_idx" ON "rollout_evaluations"("rollout_id", "created_at");

-- CreateIndex
CREATE INDEX "rollouts_model_name_status_idx" ON "rollouts"("model_name", "status");

-- AddForeignKey
ALTER TABLE "rollout_evaluations" ADD CONSTRAINT "rollout_evaluations_rollout_id_fkey" FOREIGN KEY ("rollout_id") REFERENCES "rollouts"("id") ON DELETE CASCADE ON UPDATE CASCADE;
