-- CreateTable
CREATE TABLE "experiment_user_hour_stats" (
    "experiment_key" TEXT NOT NULL,
    "variant" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "hour" TIMESTAMP(3) NOT NULL,
    "exposures" INTEGER NOT NULL DEFAULT 0,
    "clicks" INTEGER NOT NULL DEFAULT 0,
    "watches" INTEGER NOT NULL DEFAULT 0,
    "rating_sum" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "rating_count" INTEGER NOT NULL DEFAULT 0,
    "first_exposure" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "experiment_user_hour_stats_pkey" PRIMARY KEY ("experiment_key","variant","user_id","hour")
);

-- CreateIndex
CREATE INDEX "experiment_user_hour_stats_user_id_hour_idx" ON "experiment_user_hour_stats"("user_id", "hour");
