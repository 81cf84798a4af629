-- AlterTable
ALTER TABLE "experiment_user_hour_stats" DROP CONSTRAINT "experiment_user_hour_stats_pkey",
ADD COLUMN     "source" TEXT NOT NULL DEFAULT 'stream',
ADD CONSTRAINT "experiment_user_hour_stats_pkey" PRIMARY KEY ("experiment_key", "variant", "user_id", "hour", "source");
